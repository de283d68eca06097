package contracts_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"

	"github.com/openledger/openledger/internal/simchain"
	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/proofs/contracts"
)

// TestAnchorGasPerItem anchors the root of a batch of 1 to 10,000 items,
// one transaction per batch, at the L2's (Osaka) prices, and reports the
// gas per item and the size of an item's proof. Run with -v for the table
// in docs/benchmarks.md.
func TestAnchorGasPerItem(t *testing.T) {
	c := simchain.New(t, simchain.Osaka, "deployer", "anchorer")
	_, tx, registry, err := contracts.DeployAnchorRegistry(c.Opts(t, "deployer"), c.Client)
	c.Mine(t, tx, err)
	uri := "openledger:batch/bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
	t.Logf("%8s %10s %12s %14s", "items", "gas", "gas/item", "proof bytes")
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		leaves := make([]proofs.Hash, n)
		for i := range leaves {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			leaves[i] = proofs.ShardLeaf(uint64(i), sha256.Sum256(b[:]), 1<<20)
		}
		tree, err := proofs.NewTree(leaves)
		if err != nil {
			t.Fatal(err)
		}
		root := tree.Root()
		tx, err := registry.Anchor(c.Opts(t, "anchorer"), root, uint64(n), uri)
		r := c.Mine(t, tx, err)
		proof, err := tree.Proof(n / 2)
		if err != nil {
			t.Fatal(err)
		}
		if !proofs.Verify(root, leaves[n/2], proof) {
			t.Fatal("proof does not verify")
		}
		ok, err := registry.IsAnchored(&bind.CallOpts{Context: t.Context()}, root)
		if err != nil || !ok {
			t.Fatalf("root of %d items not anchored: %v", n, err)
		}
		perItem := float64(r.GasUsed) / float64(n)
		t.Logf("%8d %10d %12s %14d", n, r.GasUsed, fmt.Sprintf("%.1f", perItem), 32*len(proof))
		if n == 1000 && perItem >= 100 {
			t.Errorf("%.1f gas per item at 1,000 items, goal under 100", perItem)
		}
	}
}
