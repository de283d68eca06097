package simchain_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"go.uber.org/goleak"

	"github.com/openledger/openledger/internal/simchain"
	"github.com/openledger/openledger/proofs/contracts"
)

// TestMain fails the tests if the chain's goroutines outlive them, except
// go-ethereum's process-wide sender cache and leveldb's pool drainer, which
// exits on a timer after its database closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/ethereum/go-ethereum/core.(*txSenderCacher).cache"),
		goleak.IgnoreTopFunction("github.com/syndtr/goleveldb/leveldb.(*DB).mpoolDrain"),
	)
}

func TestChain(t *testing.T) {
	for _, rules := range simchain.AllRules {
		t.Run(rules.Name, func(t *testing.T) {
			c := simchain.New(t, rules, "alice", "bob")
			alice, bob := c.Addr("alice"), c.Addr("bob")
			if alice == bob || alice == (common.Address{}) {
				t.Fatalf("addresses %s and %s", alice, bob)
			}
			if again := simchain.New(t, rules, "alice").Addr("alice"); again != alice {
				t.Errorf("alice is %s on a second chain, want %s", again, alice)
			}
			if got := c.Addr("carol"); got != (common.Address{}) {
				t.Errorf("Addr of an unknown name = %s, want zero", got)
			}
			hundred := new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))
			if b, err := c.Client.BalanceAt(t.Context(), bob, nil); err != nil || b.Cmp(hundred) != 0 {
				t.Fatalf("bob holds %v, %v; want 100 ether", b, err)
			}
			if id, err := c.Client.ChainID(t.Context()); err != nil || id.Cmp(simchain.ChainID) != 0 {
				t.Fatalf("chain ID %v, %v; want %s", id, err, simchain.ChainID)
			}

			addr, tx, registry, err := contracts.DeployAnchorRegistry(c.Opts(t, "alice"), c.Client)
			r := c.Mine(t, tx, err)
			if r.ContractAddress != addr {
				t.Errorf("deployed at %s, receipt says %s", addr, r.ContractAddress)
			}

			// Gas estimation reports the contract's custom error.
			_, err = registry.Anchor(c.Opts(t, "bob"), common.Hash{}, 1, "")
			simchain.WantRevert(t, err, simchain.ABI(t, contracts.AnchorRegistryMetaData), "ZeroRoot")

			// Sent anyway, it is mined and fails.
			opts := c.Opts(t, "bob")
			opts.GasLimit = 100_000
			tx, err = registry.Anchor(opts, common.Hash{}, 1, "")
			if r := c.Commit(t, tx, err); r.Status != types.ReceiptStatusFailed {
				t.Errorf("anchor of the zero root: status %d, want failed", r.Status)
			}
		})
	}
}

func TestMineEvery(t *testing.T) {
	c := simchain.New(t, simchain.Osaka)
	c.MineEvery(t, time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.Client.BlockNumber(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n >= 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("block %d after 10 s of mining every millisecond", n)
		}
		time.Sleep(time.Millisecond)
	}
}
