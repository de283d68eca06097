package contracts_test

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
)

// simChainID is the chain ID of every simulated backend.
var simChainID = big.NewInt(1337)

// chainRules is a set of forks a test chain runs.
type chainRules struct {
	name   string
	config *params.ChainConfig
}

var (
	// osakaRules are Ethereum's rules up to Osaka, whose gas prices for
	// storage and logs are those of the OP Stack L2 we deploy on.
	osakaRules = chainRules{"osaka", withoutForksAfterOsaka(params.AllDevChainProtocolChanges)}
	// devRules are the simulated backend's default: every fork go-ethereum
	// knows, including Amsterdam's higher price of new state (EIP-8037).
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

// account is a funded key on the test chain.
type account struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

// testChain is a simulated chain with funded accounts.
type testChain struct {
	backend *simulated.Backend
	client  simulated.Client
	acct    map[string]account
}

// newTestChain starts a simulated chain where each of names holds 100 ether.
// Keys are derived from the names, so addresses, and the gas they cost in
// calldata, are the same on every run.
func newTestChain(t *testing.T, rules chainRules, names ...string) *testChain {
	t.Helper()
	c := &testChain{acct: make(map[string]account)}
	alloc := types.GenesisAlloc{}
	for _, name := range names {
		key, err := crypto.ToECDSA(crypto.Keccak256([]byte("openledger test key " + name)))
		if err != nil {
			t.Fatalf("key %s: %v", name, err)
		}
		a := account{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
		c.acct[name] = a
		alloc[a.addr] = types.Account{Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}
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

// addr returns the address of the named account.
func (c *testChain) addr(name string) common.Address {
	return c.acct[name].addr
}

// opts returns transaction options signing as the named account.
func (c *testChain) opts(t *testing.T, name string) *bind.TransactOpts {
	t.Helper()
	a, ok := c.acct[name]
	if !ok {
		t.Fatalf("no account %q", name)
	}
	o, err := bind.NewKeyedTransactorWithChainID(a.key, simChainID)
	if err != nil {
		t.Fatalf("transactor %s: %v", name, err)
	}
	o.Context = t.Context()
	return o
}

// mine commits a block holding tx, and returns its receipt after checking
// that it succeeded.
func (c *testChain) mine(t *testing.T, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	c.backend.Commit()
	r, err := c.client.TransactionReceipt(context.WithoutCancel(t.Context()), tx.Hash())
	if err != nil {
		t.Fatalf("receipt of %s: %v", tx.Hash(), err)
	}
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

// mustABI parses a binding's ABI.
func mustABI(t *testing.T, meta *bind.MetaData) *abi.ABI {
	t.Helper()
	a, err := meta.GetAbi()
	if err != nil {
		t.Fatalf("parse ABI: %v", err)
	}
	return a
}
