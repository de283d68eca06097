// Package gethtest runs a real `geth --dev` process for end-to-end tests of
// the chain code. .ci/run installs geth at go-ethereum's go.mod version.
package gethtest

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/openledger/openledger/proofs/contracts"
)

// RequireEnv, when set, makes a missing geth a test failure instead of a
// skip; .ci/run sets it.
const RequireEnv = "OPENLEDGER_REQUIRE_GETH"

// Binary finds geth on PATH or in GOPATH/bin, or skips the test (fails it
// under RequireEnv).
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("geth"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "geth")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatal("geth not found; .ci/run installs it with go install github.com/ethereum/go-ethereum/cmd/geth@<go.mod version>")
	}
	t.Skip("geth not found (go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10 to run this test)")
	return ""
}

// Dev is a running geth --dev process.
type Dev struct {
	// IPC is the path of its JSON-RPC socket.
	IPC     string
	Client  *ethclient.Client
	ChainID *big.Int
	dir     string
	geth    string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start runs geth --dev in a short temporary directory (a unix socket path
// is limited to about 100 bytes) and stops it when the test ends.
func Start(t testing.TB) *Dev {
	t.Helper()
	geth := Binary(t)
	dir, err := os.MkdirTemp("", "geth")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &Dev{IPC: filepath.Join(dir, "geth.ipc"), dir: dir, geth: geth}
	d.run(t)
	t.Cleanup(func() {
		d.Stop()
		if d.Client != nil {
			d.Client.Close()
		}
	})
	return d
}

// run starts the process on d's data directory and waits for its socket.
func (d *Dev) run(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(d.dir, "geth.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(d.geth, "--dev", "--datadir", d.dir, "--nodiscover", "--maxpeers", "0",
		"--port", "0", "--authrpc.port", "0", "--verbosity", "2")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	d.cmd, d.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(d.done) }()
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var c *ethclient.Client
		if c, err = ethclient.DialContext(ctx, d.IPC); err == nil {
			var id *big.Int
			if id, err = c.ChainID(ctx); err == nil {
				if d.Client != nil {
					d.Client.Close()
				}
				d.Client, d.ChainID = c, id
				return
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "geth.log"))
			t.Fatalf("geth --dev did not answer on %s: %v\n%s", d.IPC, err, log)
		}
	}
}

// Stop stops the process (interrupt, then kill after 10 s); its data stays.
func (d *Dev) Stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

// Restart starts a stopped process again on the same data, so the chain
// continues where it was.
func (d *Dev) Restart(t testing.TB) {
	t.Helper()
	d.run(t)
}

// Fund sends ether from geth's unlocked dev account to a and waits for it.
func (d *Dev) Fund(t testing.TB, a common.Address, ether int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var accounts []common.Address
	if err := d.Client.Client().CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		t.Fatalf("eth_accounts = %v, %v", accounts, err)
	}
	value := new(big.Int).Mul(big.NewInt(ether), big.NewInt(params.Ether))
	var h common.Hash
	if err := d.Client.Client().CallContext(ctx, &h, "eth_sendTransaction", map[string]any{
		"from": accounts[0], "to": a, "value": (*hexutil.Big)(value),
	}); err != nil {
		t.Fatalf("fund %s: %v", a, err)
	}
	for {
		if _, err := d.Client.TransactionReceipt(ctx, h); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("fund %s: no receipt: %v", a, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Key returns a deterministic test key for name.
func Key(t testing.TB, name string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("openledger geth test key " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// DeployAnchorRegistry deploys the anchor registry from a funded test key
// and returns its address.
func (d *Dev) DeployAnchorRegistry(t testing.TB) common.Address {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := Key(t, "deployer")
	d.Fund(t, crypto.PubkeyToAddress(key.PublicKey), 10)
	opts, err := bind.NewKeyedTransactorWithChainID(key, d.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = ctx
	addr, tx, _, err := contracts.DeployAnchorRegistry(opts, d.Client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitDeployed(ctx, d.Client, tx); err != nil {
		t.Fatalf("deploy the anchor registry: %v", err)
	}
	return addr
}

// AnchoredItems sums the item counts of every Anchored event of the
// registry: how many items were anchored on this chain, duplicates
// included.
func (d *Dev) AnchoredItems(t testing.TB, registry common.Address) uint64 {
	t.Helper()
	reg, err := contracts.NewAnchorRegistry(registry, d.Client)
	if err != nil {
		t.Fatal(err)
	}
	it, err := reg.FilterAnchored(&bind.FilterOpts{Context: context.Background()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var items uint64
	for it.Next() {
		items += it.Event.ItemCount
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return items
}
