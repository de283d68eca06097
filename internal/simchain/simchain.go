// Package simchain runs go-ethereum's simulated backend in-process for tests
// of the chain code: funded named accounts, transaction options signing as
// them, and blocks mined on demand or on a timer. internal/gethtest runs a
// real geth process instead, for end-to-end tests.
package simchain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

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
)

// ChainID is the chain ID of every simulated chain.
var ChainID = big.NewInt(1337)

// Rules is a set of forks a test chain runs.
type Rules struct {
	Name   string
	Config *params.ChainConfig
}

var (
	// Osaka are Ethereum's rules up to Osaka, whose gas prices for storage
	// and logs are those of the OP Stack L2 we deploy on.
	Osaka = Rules{"osaka", withoutForksAfterOsaka(params.AllDevChainProtocolChanges)}
	// Dev are the simulated backend's default: every fork go-ethereum
	// knows, including Amsterdam's higher price of new state (EIP-8037).
	Dev = Rules{"dev-all-forks", params.AllDevChainProtocolChanges}
	// AllRules are the rules a contract test runs under.
	AllRules = []Rules{Osaka, Dev}
)

func withoutForksAfterOsaka(c *params.ChainConfig) *params.ChainConfig {
	cp := *c
	cp.AmsterdamTime = nil
	cp.BogotaTime = nil
	cp.UBTTime = nil
	return &cp
}

// Key returns the test key of name. Keys are derived from names, so
// addresses, and the gas they cost in calldata, are the same on every run.
func Key(t testing.TB, name string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("openledger test key " + name)))
	if err != nil {
		t.Fatalf("key %s: %v", name, err)
	}
	return k
}

// Chain is a simulated chain with funded named accounts.
type Chain struct {
	Backend *simulated.Backend
	Client  simulated.Client
	keys    map[string]*ecdsa.PrivateKey
}

// New starts a simulated chain under rules where each of names holds 100
// ether, and closes it when the test ends.
func New(t testing.TB, rules Rules, names ...string) *Chain {
	t.Helper()
	c := &Chain{keys: make(map[string]*ecdsa.PrivateKey)}
	alloc := types.GenesisAlloc{}
	for _, name := range names {
		key := Key(t, name)
		c.keys[name] = key
		alloc[crypto.PubkeyToAddress(key.PublicKey)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}
	}
	c.Backend = simulated.NewBackend(alloc, func(_ *node.Config, eth *ethconfig.Config) {
		eth.Genesis.Config = rules.Config
	})
	t.Cleanup(func() {
		if err := c.Backend.Close(); err != nil {
			t.Errorf("close simulated backend: %v", err)
		}
	})
	c.Client = c.Backend.Client()
	return c
}

// Addr returns the address of the named account, or the zero address if
// New was not given name.
func (c *Chain) Addr(name string) common.Address {
	key, ok := c.keys[name]
	if !ok {
		return common.Address{}
	}
	return crypto.PubkeyToAddress(key.PublicKey)
}

// Opts returns transaction options signing as the named account, bound to
// the test's context.
func (c *Chain) Opts(t testing.TB, name string) *bind.TransactOpts {
	t.Helper()
	key, ok := c.keys[name]
	if !ok {
		t.Fatalf("no account %q", name)
	}
	o, err := bind.NewKeyedTransactorWithChainID(key, ChainID)
	if err != nil {
		t.Fatalf("transactor %s: %v", name, err)
	}
	o.Context = t.Context()
	return o
}

// Commit mines a block holding tx, sent with error err, and returns its
// receipt whether or not it succeeded.
func (c *Chain) Commit(t testing.TB, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	c.Backend.Commit()
	r, err := c.Client.TransactionReceipt(context.WithoutCancel(t.Context()), tx.Hash())
	if err != nil {
		t.Fatalf("receipt of %s: %v", tx.Hash(), err)
	}
	return r
}

// Mine commits tx as Commit does and checks that it succeeded.
func (c *Chain) Mine(t testing.TB, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	r := c.Commit(t, tx, err)
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("tx %s failed (gas used %d)", tx.Hash(), r.GasUsed)
	}
	return r
}

// MineEvery mines a block every interval until the test ends, for code
// under test that waits for its transactions to be mined.
func (c *Chain) MineEvery(t testing.TB, interval time.Duration) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				c.Backend.Commit()
			}
		}
	})
	// Registered after New's cleanup, so it runs before the backend closes.
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// ABI parses a binding's ABI.
func ABI(t testing.TB, meta *bind.MetaData) *abi.ABI {
	t.Helper()
	a, err := meta.GetAbi()
	if err != nil {
		t.Fatalf("parse ABI: %v", err)
	}
	return a
}

// WantRevert checks that err is a revert with the custom error name of
// contract (as gas estimation reports it, before anything is sent).
func WantRevert(t testing.TB, err error, contract *abi.ABI, name string) {
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
