package contracts_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/openledger/openledger/internal/simchain"
	"github.com/openledger/openledger/proofs/contracts"
)

// maxAnchorGas is the most one anchor may cost: at 1,000 items per batch the
// goal is under 100 gas per anchored item.
const maxAnchorGas = 100 * 1000

func TestAnchorRegistry(t *testing.T) {
	for _, rules := range simchain.AllRules {
		t.Run(rules.Name, func(t *testing.T) { testAnchorRegistry(t, rules) })
	}
}

func testAnchorRegistry(t *testing.T, rules simchain.Rules) {
	c := simchain.New(t, rules, "deployer", "anchorer", "other")
	addr, tx, registry, err := contracts.DeployAnchorRegistry(c.Opts(t, "deployer"), c.Client)
	c.Mine(t, tx, err)
	registryABI := simchain.ABI(t, contracts.AnchorRegistryMetaData)
	call := &bind.CallOpts{Context: t.Context()}

	root := crypto.Keccak256Hash([]byte("batch 1"))
	const items = 1000
	uri := "openledger:batch/bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"

	t.Run("not anchored", func(t *testing.T) {
		ok, err := registry.IsAnchored(call, root)
		if err != nil || ok {
			t.Fatalf("IsAnchored = %v, %v; want false", ok, err)
		}
		a, err := registry.AnchorOf(call, root)
		if err != nil {
			t.Fatal(err)
		}
		if a.BlockNumber != 0 || a.Timestamp != 0 || a.ItemCount != 0 || a.Submitter != (common.Address{}) {
			t.Fatalf("AnchorOf = %+v, want zeros", a)
		}
	})

	tx, err = registry.Anchor(c.Opts(t, "anchorer"), root, items, uri)
	receipt := c.Mine(t, tx, err)
	t.Logf("gas of one anchor (uri of %d bytes): %d, %.1f per item at %d items", len(uri), receipt.GasUsed, float64(receipt.GasUsed)/items, items)
	// Amsterdam's price of new state is not the L2's yet; only log it there.
	if rules == simchain.Osaka && receipt.GasUsed > maxAnchorGas {
		t.Errorf("anchor used %d gas, want at most %d (100 per item at 1,000 items)", receipt.GasUsed, maxAnchorGas)
	}

	t.Run("event", func(t *testing.T) {
		if len(receipt.Logs) != 1 {
			t.Fatalf("%d logs, want 1", len(receipt.Logs))
		}
		ev, err := registry.ParseAnchored(*receipt.Logs[0])
		if err != nil {
			t.Fatal(err)
		}
		if receipt.Logs[0].Address != addr {
			t.Errorf("log from %s, want the registry %s", receipt.Logs[0].Address, addr)
		}
		if ev.Root != root || ev.Submitter != c.Addr("anchorer") || ev.ItemCount != items || ev.Uri != uri {
			t.Errorf("Anchored = root %x submitter %s items %d uri %q; want %x %s %d %q",
				ev.Root, ev.Submitter, ev.ItemCount, ev.Uri, root, c.Addr("anchorer"), items, uri)
		}
	})

	t.Run("lookup", func(t *testing.T) {
		block, err := c.Client.HeaderByNumber(t.Context(), receipt.BlockNumber)
		if err != nil {
			t.Fatal(err)
		}
		a, err := registry.AnchorOf(call, root)
		if err != nil {
			t.Fatal(err)
		}
		if a.BlockNumber != receipt.BlockNumber.Uint64() || a.Timestamp != block.Time || a.ItemCount != items || a.Submitter != c.Addr("anchorer") {
			t.Errorf("AnchorOf = %+v; want block %d time %d items %d submitter %s",
				a, receipt.BlockNumber, block.Time, items, c.Addr("anchorer"))
		}
		ok, err := registry.IsAnchored(call, root)
		if err != nil || !ok {
			t.Fatalf("IsAnchored = %v, %v; want true", ok, err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, from string
			root       common.Hash
			wantErr    string
		}{
			{"same root again", "anchorer", root, "AlreadyAnchored"},
			{"same root by another", "other", root, "AlreadyAnchored"},
			{"zero root", "anchorer", common.Hash{}, "ZeroRoot"},
			{"too many items", "other", crypto.Keccak256Hash([]byte("huge")), "ItemCountTooLarge"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n := uint64(1)
				if tc.wantErr == "ItemCountTooLarge" {
					n = 1 << 32
				}
				_, err := registry.Anchor(c.Opts(t, tc.from), tc.root, n, "")
				simchain.WantRevert(t, err, registryABI, tc.wantErr)
			})
		}
		a, err := registry.AnchorOf(call, root)
		if err != nil || a.Submitter != c.Addr("anchorer") || a.ItemCount != items {
			t.Fatalf("after refusals AnchorOf = %+v, %v; want the first anchor", a, err)
		}
	})

	t.Run("another root", func(t *testing.T) {
		root2 := crypto.Keccak256Hash([]byte("batch 2"))
		tx, err := registry.Anchor(c.Opts(t, "other"), root2, 3, "")
		r := c.Mine(t, tx, err)
		t.Logf("gas of one anchor (empty uri): %d", r.GasUsed)
		a, err := registry.AnchorOf(call, root2)
		if err != nil || a.Submitter != c.Addr("other") || a.ItemCount != 3 || a.BlockNumber != r.BlockNumber.Uint64() {
			t.Fatalf("AnchorOf(root2) = %+v, %v", a, err)
		}
	})
}
