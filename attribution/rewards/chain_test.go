package rewards_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/proofs/contracts"
)

// The chain setup is that of proofs/contracts' tests.

// simChainID is the chain ID of every simulated backend.
var simChainID = big.NewInt(1337)

// chainRules is a set of forks a test chain runs.
type chainRules struct {
	name   string
	config *params.ChainConfig
}

var (
	// osakaRules are Ethereum's rules up to Osaka, whose gas prices are
	// those of the OP Stack L2 we deploy on.
	osakaRules = chainRules{"osaka", withoutForksAfterOsaka(params.AllDevChainProtocolChanges)}
	// devRules are the simulated backend's default: every fork go-ethereum
	// knows.
	devRules = chainRules{"dev-all-forks", params.AllDevChainProtocolChanges}
	allRules = []chainRules{osakaRules, devRules}
)

func withoutForksAfterOsaka(c *params.ChainConfig) *params.ChainConfig {
	cp := *c
	cp.AmsterdamTime = nil
	cp.BogotaTime = nil
	cp.UBTTime = nil
	return &cp
}

// testChain is a simulated chain with funded accounts.
type testChain struct {
	backend *simulated.Backend
	client  simulated.Client
	keys    map[string]*ecdsa.PrivateKey
}

// newTestChain starts a simulated chain where each of names holds 100 ether,
// with keys derived from the names.
func newTestChain(t *testing.T, rules chainRules, names ...string) *testChain {
	t.Helper()
	c := &testChain{keys: make(map[string]*ecdsa.PrivateKey)}
	alloc := types.GenesisAlloc{}
	for _, name := range names {
		key, err := crypto.ToECDSA(crypto.Keccak256([]byte("openledger test key " + name)))
		if err != nil {
			t.Fatalf("key %s: %v", name, err)
		}
		c.keys[name] = key
		alloc[crypto.PubkeyToAddress(key.PublicKey)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}
	}
	c.backend = simulated.NewBackend(alloc, func(_ *node.Config, eth *ethconfig.Config) {
		eth.Genesis.Config = rules.config
	})
	t.Cleanup(func() {
		if err := c.backend.Close(); err != nil {
			t.Errorf("close simulated backend: %v", err)
		}
	})
	c.client = c.backend.Client()
	return c
}

func (c *testChain) addr(name string) common.Address {
	return crypto.PubkeyToAddress(c.keys[name].PublicKey)
}

// opts returns transaction options signing as the named account.
func (c *testChain) opts(t *testing.T, name string) *bind.TransactOpts {
	t.Helper()
	key, ok := c.keys[name]
	if !ok {
		t.Fatalf("no account %q", name)
	}
	o, err := bind.NewKeyedTransactorWithChainID(key, simChainID)
	if err != nil {
		t.Fatalf("transactor %s: %v", name, err)
	}
	o.Context = t.Context()
	return o
}

// commit mines a block holding tx and returns its receipt.
func (c *testChain) commit(t *testing.T, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	c.backend.Commit()
	r, err := c.client.TransactionReceipt(context.WithoutCancel(t.Context()), tx.Hash())
	if err != nil {
		t.Fatalf("receipt of %s: %v", tx.Hash(), err)
	}
	return r
}

// mine commits tx and checks that it succeeded.
func (c *testChain) mine(t *testing.T, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	r := c.commit(t, tx, err)
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("tx %s failed (gas used %d)", tx.Hash(), r.GasUsed)
	}
	return r
}

// wantRevert checks that err is a revert with the custom error name of
// contract (as gas estimation reports it, before anything is sent).
func wantRevert(t *testing.T, err error, contract *abi.ABI, name string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want revert %s", name)
	}
	want, ok := contract.Errors[name]
	if !ok {
		t.Fatalf("ABI has no error %s", name)
	}
	var de rpc.DataError
	if !errors.As(err, &de) {
		t.Fatalf("error %v carries no revert data, want %s", err, name)
	}
	hexData, _ := de.ErrorData().(string)
	data := common.FromHex(hexData)
	if len(data) < 4 || !strings.EqualFold(common.Bytes2Hex(data[:4]), common.Bytes2Hex(want.ID[:4])) {
		t.Fatalf("revert data %s, want error %s (selector %x): %v", hexData, name, want.ID[:4], err)
	}
}

// TestDistributorPaysEpochs pays the fixture's epochs through the real
// RewardsDistributor: every claim moves exactly the amount computed here,
// and every claim the computation does not back reverts and moves nothing.
func TestDistributorPaysEpochs(t *testing.T) {
	for _, rules := range allRules {
		t.Run(rules.name, func(t *testing.T) { testDistributorPaysEpochs(t, rules) })
	}
}

func testDistributorPaysEpochs(t *testing.T, rules chainRules) {
	epochs := newFixture().run(t)
	e1, e2 := epochs[0], epochs[1]

	c := newTestChain(t, rules, "owner", "poster", "claimer")
	call := &bind.CallOpts{Context: t.Context()}
	tokenAddr, tx, token, err := contracts.DeployOpenToken(c.opts(t, "owner"), c.client, c.addr("owner"))
	c.mine(t, tx, err)
	distAddr, tx, dist, err := contracts.DeployRewardsDistributor(c.opts(t, "owner"), c.client, tokenAddr, c.addr("owner"))
	c.mine(t, tx, err)
	tx, err = dist.SetPoster(c.opts(t, "owner"), c.addr("poster"), true)
	c.mine(t, tx, err)
	distABI, err := contracts.RewardsDistributorMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}

	balance := func(t *testing.T, a common.Address) *big.Int {
		t.Helper()
		b, err := token.BalanceOf(call, a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// holders are every account whose tokens a claim could move.
	holders := []common.Address{distAddr}
	for _, b := range e2.Balances {
		holders = append(holders, b.Address)
	}
	snapshot := func(t *testing.T) []*big.Int {
		t.Helper()
		out := make([]*big.Int, len(holders))
		for i, a := range holders {
			out[i] = balance(t, a)
		}
		return out
	}
	fund := func(t *testing.T, amount *big.Int) {
		t.Helper()
		tx, err := token.Mint(c.opts(t, "owner"), distAddr, amount)
		c.mine(t, tx, err)
	}
	post := func(t *testing.T, e *rewards.Epoch) {
		t.Helper()
		tx, err := dist.PostRoot(c.opts(t, "poster"), e.Number, e.Root)
		c.mine(t, tx, err)
		if root, err := dist.CurrentRoot(call); err != nil || root != e.Root {
			t.Fatalf("currentRoot = %x, %v; want %x", root, err, e.Root)
		}
	}
	// claim claims account's balance in e with its proof and checks that
	// exactly want moved from the distributor to account.
	claim := func(t *testing.T, e *rewards.Epoch, account common.Address, want *big.Int) {
		t.Helper()
		cum, proof, err := e.Claim(account)
		if err != nil {
			t.Fatal(err)
		}
		before, distBefore := balance(t, account), balance(t, distAddr)
		tx, err := dist.Claim(c.opts(t, "claimer"), account, cum, proof)
		c.mine(t, tx, err)
		if got := new(big.Int).Sub(balance(t, account), before); got.Cmp(want) != 0 {
			t.Errorf("claim of %s in epoch %d paid %s, want %s", account, e.Number, got, want)
		}
		if got := new(big.Int).Sub(distBefore, balance(t, distAddr)); got.Cmp(want) != 0 {
			t.Errorf("distributor paid out %s, want %s", got, want)
		}
		if got, err := dist.Claimed(call, account); err != nil || got.Cmp(cum) != 0 {
			t.Errorf("claimed(%s) = %v, %v; want %s", account, got, err, cum)
		}
	}
	// refused checks that a claim reverts with the error name when
	// estimated, and that, sent anyway, it fails and moves no token.
	refused := func(t *testing.T, name string, account common.Address, cum *big.Int, proof [][32]byte) {
		t.Helper()
		_, err := dist.Claim(c.opts(t, "claimer"), account, cum, proof)
		wantRevert(t, err, distABI, name)
		before := snapshot(t)
		opts := c.opts(t, "claimer")
		opts.GasLimit = 500_000
		tx, err := dist.Claim(opts, account, cum, proof)
		r := c.commit(t, tx, err)
		if r.Status != types.ReceiptStatusFailed {
			t.Errorf("claim of %s for %s succeeded, want %s", account, cum, name)
		}
		for i, b := range snapshot(t) {
			if b.Cmp(before[i]) != 0 {
				t.Errorf("refused claim moved tokens of %s: %s to %s", holders[i], before[i], b)
			}
		}
	}

	fund(t, e1.Total())
	post(t, e1)

	alice, bob := addr("alice"), addr("bob")
	aliceCum, aliceProof, err := e1.Claim(alice)
	if err != nil {
		t.Fatal(err)
	}
	bobCum, bobProof, err := e1.Claim(bob)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("forged claims", func(t *testing.T) {
		refused(t, "InvalidProof", alice, new(big.Int).Add(aliceCum, big.NewInt(1)), aliceProof)
		refused(t, "InvalidProof", alice, bobCum, bobProof)
		refused(t, "InvalidProof", alice, aliceCum, bobProof)
		refused(t, "InvalidProof", addr("mallory"), aliceCum, aliceProof)
	})

	t.Run("epoch 1", func(t *testing.T) {
		for _, b := range e1.Balances {
			claim(t, e1, b.Address, b.Cumulative)
		}
		for _, b := range e1.Balances {
			cum, proof, err := e1.Claim(b.Address)
			if err != nil {
				t.Fatal(err)
			}
			refused(t, "NothingToClaim", b.Address, cum, proof)
		}
		if got := balance(t, distAddr); got.Sign() != 0 {
			t.Errorf("distributor holds %s after every claim of epoch 1, want 0", got)
		}
	})

	fund(t, new(big.Int).Sub(e2.Total(), e1.Total()))
	post(t, e2)

	t.Run("epoch 2", func(t *testing.T) {
		refused(t, "InvalidProof", alice, aliceCum, aliceProof) // epoch 1's root is gone
		unchanged := 0
		for _, b := range e2.Balances {
			want := new(big.Int).Set(b.Cumulative)
			if prev, _, err := e1.Claim(b.Address); err == nil {
				want.Sub(want, prev)
			}
			if want.Sign() == 0 {
				cum, proof, err := e2.Claim(b.Address)
				if err != nil {
					t.Fatal(err)
				}
				refused(t, "NothingToClaim", b.Address, cum, proof)
				unchanged++
				continue
			}
			claim(t, e2, b.Address, want)
		}
		if unchanged == 0 {
			t.Error("the fixture pays everyone again in epoch 2; want someone with nothing new")
		}
		if got := balance(t, distAddr); got.Sign() != 0 {
			t.Errorf("distributor holds %s after every claim of epoch 2, want 0", got)
		}
		for _, b := range e2.Balances {
			if got := balance(t, b.Address); got.Cmp(b.Cumulative) != 0 {
				t.Errorf("%s holds %s, want its cumulative %s", b.Address, got, b.Cumulative)
			}
		}
	})
}
