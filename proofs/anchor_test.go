package proofs_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	"github.com/openledger/openledger/internal/simchain"
	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/proofs/contracts"
)

// anchorChain is a simulated chain (Osaka rules) with a deployed
// AnchorRegistry, mining a block every few milliseconds.
type anchorChain struct {
	*simchain.Chain
	registry common.Address
	contract *contracts.AnchorRegistry
	anchorer *bind.TransactOpts
	other    *bind.TransactOpts
	from     common.Address
}

func newAnchorChain(t *testing.T) *anchorChain {
	t.Helper()
	c := &anchorChain{Chain: simchain.New(t, simchain.Osaka, "anchorer", "other", "deployer")}
	c.anchorer, c.other = c.Opts(t, "anchorer"), c.Opts(t, "other")
	c.from = c.anchorer.From
	addr, tx, reg, err := contracts.DeployAnchorRegistry(c.Opts(t, "deployer"), c.Client)
	c.Mine(t, tx, err)
	c.registry, c.contract = addr, reg
	c.MineEvery(t, 10*time.Millisecond)
	return c
}

// anchoredEvents counts the Anchored events of root.
func (c *anchorChain) anchoredEvents(t *testing.T, root proofs.Hash) int {
	t.Helper()
	it, err := c.contract.FilterAnchored(&bind.FilterOpts{Context: t.Context()}, [][32]byte{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return n
}

// sentBy returns the number of transactions account has sent.
func (c *anchorChain) sentBy(t *testing.T, account common.Address) uint64 {
	t.Helper()
	n, err := c.Client.NonceAt(t.Context(), account, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// flakyBackend fails every chain call while down is set; while lieOnSend is
// set, it sends transactions and then reports an error, as a connection lost
// after the request went out would.
type flakyBackend struct {
	simulated.Client
	down      atomic.Bool
	lieOnSend atomic.Bool
}

var errChainDown = errors.New("test: chain down")

func (f *flakyBackend) err() error {
	if f.down.Load() {
		return errChainDown
	}
	return nil
}

func (f *flakyBackend) CallContract(ctx context.Context, m ethereum.CallMsg, n *big.Int) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Client.CallContract(ctx, m, n)
}

func (f *flakyBackend) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if err := f.err(); err != nil {
		return err
	}
	if f.lieOnSend.Load() {
		if err := f.Client.SendTransaction(ctx, tx); err != nil {
			return err
		}
		f.down.Store(true)
		return errors.New("test: connection lost after send")
	}
	return f.Client.SendTransaction(ctx, tx)
}

func (f *flakyBackend) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Client.TransactionReceipt(ctx, h)
}

func (f *flakyBackend) EstimateGas(ctx context.Context, m ethereum.CallMsg) (uint64, error) {
	if err := f.err(); err != nil {
		return 0, err
	}
	return f.Client.EstimateGas(ctx, m)
}

func (f *flakyBackend) PendingNonceAt(ctx context.Context, a common.Address) (uint64, error) {
	if err := f.err(); err != nil {
		return 0, err
	}
	return f.Client.PendingNonceAt(ctx, a)
}

func (f *flakyBackend) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Client.FilterLogs(ctx, q)
}

func (f *flakyBackend) ChainID(ctx context.Context) (*big.Int, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Client.ChainID(ctx)
}

// openAnchorer opens an anchorer on dir and starts it; it is closed at the
// end of the test.
func openAnchorer(t *testing.T, c *anchorChain, backend proofs.AnchorBackend, dir string, tune func(*proofs.AnchorConfig)) *proofs.Anchorer {
	t.Helper()
	cfg := proofs.AnchorConfig{
		Dir:          dir,
		Backend:      backend,
		Registry:     c.registry,
		Signer:       c.anchorer,
		Interval:     time.Hour,
		MaxItems:     1024,
		PollInterval: 5 * time.Millisecond,
		MinBackoff:   5 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
		URI:          func(root proofs.Hash) string { return "openledger:batch/" + root.String() },
	}
	if tune != nil {
		tune(&cfg)
	}
	a, err := proofs.OpenAnchorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close anchorer: %v", err)
		}
	})
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return a
}

// testItem returns the ID and leaf of the i-th test object.
func testItem(i int) ([]byte, proofs.Hash) {
	id := binary.BigEndian.AppendUint64([]byte("cid-"), uint64(i))
	return id, proofs.ObjectLeaf(sha256.Sum256(id))
}

func enqueue(t *testing.T, a *proofs.Anchorer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		id, leaf := testItem(i)
		if err := a.Enqueue(t.Context(), id, leaf); err != nil {
			t.Fatal(err)
		}
	}
}

func flush(t *testing.T, a *proofs.Anchorer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatalf("flush: %v (status %+v)", err, a.Status())
	}
}

// checkProofs checks that items [from, to) have proofs that verify off and
// on chain, each root anchored once, and returns the proofs by root.
func checkProofs(t *testing.T, c *anchorChain, a *proofs.Anchorer, from, to int) map[proofs.Hash][]*proofs.AnchorProof {
	t.Helper()
	byRoot := make(map[proofs.Hash][]*proofs.AnchorProof)
	for i := from; i < to; i++ {
		id, leaf := testItem(i)
		p, err := a.Proof(id)
		if err != nil {
			t.Fatalf("proof of item %d: %v", i, err)
		}
		if p.Leaf != leaf || !p.Verify() {
			t.Fatalf("proof of item %d does not verify: %+v", i, p)
		}
		if p.ChainID != simchain.ChainID.Uint64() || p.Contract != c.registry {
			t.Fatalf("proof of item %d on chain %d contract %s", i, p.ChainID, p.Contract)
		}
		byRoot[p.Root] = append(byRoot[p.Root], p)
	}
	for root, ps := range byRoot {
		if got := c.anchoredEvents(t, root); got != 1 {
			t.Errorf("root %s anchored %d times", root, got)
		}
		if int(ps[0].ItemCount) != len(ps) {
			t.Errorf("root %s: %d items on chain, %d proofs", root, ps[0].ItemCount, len(ps))
		}
		for _, p := range ps {
			if p.TxHash != ps[0].TxHash || p.BlockNumber != ps[0].BlockNumber {
				t.Fatalf("proofs of root %s disagree on tx", root)
			}
			if err := p.VerifyOnChain(t.Context(), c.Client); err != nil {
				t.Fatalf("proof of %x on chain: %v", p.ID, err)
			}
		}
	}
	return byRoot
}

func TestObjectLeaf(t *testing.T) {
	d := sha256.Sum256([]byte("object"))
	want, err := proofs.LeafHash([]string{"bytes32"}, d)
	if err != nil {
		t.Fatal(err)
	}
	if got := proofs.ObjectLeaf(d); got != want {
		t.Fatalf("ObjectLeaf = %s, want %s", got, want)
	}
}

func TestAnchorBatchesByCount(t *testing.T) {
	c := newAnchorChain(t)
	a := openAnchorer(t, c, c.Client, t.TempDir(), nil)
	const n = 2500
	enqueue(t, a, 0, n)
	flush(t, a)
	byRoot := checkProofs(t, c, a, 0, n)
	if len(byRoot) != 3 {
		t.Fatalf("%d batches, want 3", len(byRoot))
	}
	if got := c.sentBy(t, c.from); got != 3 {
		t.Errorf("anchorer sent %d transactions, want 3", got)
	}
	if s := a.Status(); s.Anchored != n || s.Queued != 0 || s.InFlight != 0 || s.LastErr != nil {
		t.Errorf("status %+v", s)
	}
	for root, ps := range byRoot {
		r, err := c.Client.TransactionReceipt(t.Context(), ps[0].TxHash)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("batch %s: %d items, %d gas, %.1f gas/item, proof %d hashes", root, len(ps), r.GasUsed,
			float64(r.GasUsed)/float64(len(ps)), len(ps[0].Path))
	}

	// The proof round-trips through JSON.
	id, _ := testItem(0)
	p, err := a.Proof(id)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back proofs.AnchorProof
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Verify() || back.TxHash != p.TxHash || back.Contract != p.Contract || string(back.ID) != string(p.ID) {
		t.Fatalf("JSON round trip: %s", js)
	}
	t.Logf("proof JSON: %d bytes", len(js))
}

func TestAnchorByInterval(t *testing.T) {
	c := newAnchorChain(t)
	a := openAnchorer(t, c, c.Client, t.TempDir(), func(cfg *proofs.AnchorConfig) {
		cfg.Interval = 50 * time.Millisecond
	})
	enqueue(t, a, 0, 3)
	waitFor(t, func() bool { return a.Status().Anchored == 3 })
	byRoot := checkProofs(t, c, a, 0, 3)
	if len(byRoot) != 1 {
		t.Fatalf("%d batches, want 1", len(byRoot))
	}
}

func TestAnchorEnqueueIdempotent(t *testing.T) {
	c := newAnchorChain(t)
	a := openAnchorer(t, c, c.Client, t.TempDir(), nil)
	enqueue(t, a, 0, 10)
	enqueue(t, a, 0, 10)
	if s := a.Status(); s.Queued != 10 {
		t.Fatalf("queued %d, want 10", s.Queued)
	}
	id, _ := testItem(0)
	if _, err := a.Proof(id); !errors.Is(err, proofs.ErrNotAnchored) {
		t.Fatalf("proof while queued: %v, want ErrNotAnchored", err)
	}
	if _, err := a.Proof([]byte("never")); !errors.Is(err, proofs.ErrUnknownItem) {
		t.Fatalf("proof of unknown item: %v, want ErrUnknownItem", err)
	}
	if err := a.Enqueue(t.Context(), id, proofs.Hash{1}); err == nil {
		t.Fatal("enqueue with another leaf: no error")
	}
	flush(t, a)
	enqueue(t, a, 0, 10) // anchored already: no-op
	flush(t, a)
	checkProofs(t, c, a, 0, 10)
	if s := a.Status(); s.Anchored != 10 || s.Queued != 0 {
		t.Fatalf("status %+v", s)
	}
	if got := c.sentBy(t, c.from); got != 1 {
		t.Errorf("anchorer sent %d transactions, want 1", got)
	}
}

// TestAnchorCrashAfterSend loses the connection right after the anchor
// transaction goes out, closes the anchorer and reopens it: the batch is
// recorded from the chain without a second transaction.
func TestAnchorCrashAfterSend(t *testing.T) {
	c := newAnchorChain(t)
	dir := t.TempDir()
	flaky := &flakyBackend{Client: c.Client}
	flaky.lieOnSend.Store(true)
	a := openAnchorer(t, c, flaky, dir, nil)
	enqueue(t, a, 0, 100)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := a.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with the chain down")
	}
	waitFor(t, func() bool { return c.sentBy(t, c.from) == 1 }) // mined
	waitFor(t, func() bool { return a.Status().LastErr != nil })
	if s := a.Status(); s.InFlight != 100 || s.Anchored != 0 {
		t.Fatalf("status %+v, want 100 in flight", s)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	a = openAnchorer(t, c, c.Client, dir, nil)
	flush(t, a)
	byRoot := checkProofs(t, c, a, 0, 100)
	if len(byRoot) != 1 {
		t.Fatalf("%d batches, want 1", len(byRoot))
	}
	if got := c.sentBy(t, c.from); got != 1 {
		t.Errorf("anchorer sent %d transactions, want 1", got)
	}
}

// TestAnchorRootAnchoredByOther anchors a cut batch's root from another
// account while the anchorer cannot reach the chain: the anchorer records
// that anchoring and sends nothing.
func TestAnchorRootAnchoredByOther(t *testing.T) {
	c := newAnchorChain(t)
	flaky := &flakyBackend{Client: c.Client}
	flaky.down.Store(true)
	a := openAnchorer(t, c, flaky, t.TempDir(), nil)
	enqueue(t, a, 0, 5)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := a.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with the chain down")
	}
	leaves := make([]proofs.Hash, 5)
	for i := range leaves {
		_, leaves[i] = testItem(i)
	}
	tree, err := proofs.NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.contract.Anchor(c.other, tree.Root(), 5, "by other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitMined(t.Context(), c.Client, tx); err != nil {
		t.Fatal(err)
	}
	flaky.down.Store(false)
	flush(t, a)
	byRoot := checkProofs(t, c, a, 0, 5)
	if ps := byRoot[tree.Root()]; len(ps) != 5 || ps[0].TxHash != tx.Hash() {
		t.Fatalf("proofs %v, want 5 in tx %s", byRoot, tx.Hash())
	}
	if got := c.sentBy(t, c.from); got != 0 {
		t.Errorf("anchorer sent %d transactions, want 0", got)
	}
}

func TestAnchorChainDown(t *testing.T) {
	c := newAnchorChain(t)
	flaky := &flakyBackend{Client: c.Client}
	flaky.down.Store(true)
	a := openAnchorer(t, c, flaky, t.TempDir(), func(cfg *proofs.AnchorConfig) {
		cfg.MaxItems = 100
	})
	enqueue(t, a, 0, 250)
	waitFor(t, func() bool { return a.Status().LastErr != nil })
	if s := a.Status(); s.Anchored != 0 || s.Queued+s.InFlight != 250 || !errors.Is(s.LastErr, errChainDown) {
		t.Fatalf("status %+v while down", s)
	}
	flaky.down.Store(false)
	flush(t, a)
	byRoot := checkProofs(t, c, a, 0, 250)
	if len(byRoot) != 3 {
		t.Fatalf("%d batches, want 3", len(byRoot))
	}
	if got := c.sentBy(t, c.from); got != 3 {
		t.Errorf("anchorer sent %d transactions, want 3", got)
	}
	if s := a.Status(); s.Anchored != 250 || s.LastErr != nil {
		t.Fatalf("status %+v after recovery", s)
	}
}

func TestAnchorRestartWithQueue(t *testing.T) {
	c := newAnchorChain(t)
	dir := t.TempDir()
	a := openAnchorer(t, c, c.Client, dir, nil)
	enqueue(t, a, 0, 20)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = openAnchorer(t, c, c.Client, dir, nil)
	if s := a.Status(); s.Queued != 20 {
		t.Fatalf("queued %d after reopen, want 20", s.Queued)
	}
	enqueue(t, a, 10, 30)
	flush(t, a)
	checkProofs(t, c, a, 0, 30)
	if got := c.sentBy(t, c.from); got != 1 {
		t.Errorf("anchorer sent %d transactions, want 1", got)
	}
}

func TestAnchorConfirmations(t *testing.T) {
	c := newAnchorChain(t)
	a := openAnchorer(t, c, c.Client, t.TempDir(), func(cfg *proofs.AnchorConfig) {
		cfg.Confirmations = 3
	})
	enqueue(t, a, 0, 4)
	flush(t, a)
	ps := checkProofs(t, c, a, 0, 4)
	head, err := c.Client.BlockNumber(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if head < p[0].BlockNumber+3 {
			t.Fatalf("recorded at head %d, anchored in %d", head, p[0].BlockNumber)
		}
	}
}

// waitFor waits until cond holds, failing the test after 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
