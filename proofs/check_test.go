package proofs_test

import (
	"errors"
	"testing"

	"github.com/openledger/openledger/proofs"
)

// TestAnchorProofCheck checks Check passes an untouched proof on the
// simulated chain and fails, with ErrAnchorMismatch, every proof with one
// thing changed.
func TestAnchorProofCheck(t *testing.T) {
	c := newAnchorChain(t)
	a := openAnchorer(t, c, c.Client, t.TempDir(), nil)
	enqueue(t, a, 0, 3)
	flush(t, a)
	id, leaf := testItem(1)
	good, err := a.Proof(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Check(t.Context(), c.Client, leaf); err != nil {
		t.Fatalf("Check(untouched proof) = %v", err)
	}
	_, otherLeaf := testItem(2)
	tests := []struct {
		name   string
		change func(p *proofs.AnchorProof) proofs.Hash // returns the item's leaf
	}{
		{"another item's leaf", func(p *proofs.AnchorProof) proofs.Hash { return otherLeaf }},
		{"leaf and item changed together", func(p *proofs.AnchorProof) proofs.Hash { p.Leaf = otherLeaf; return otherLeaf }},
		{"path", func(p *proofs.AnchorProof) proofs.Hash { p.Path[0][0] ^= 1; return leaf }},
		{"root", func(p *proofs.AnchorProof) proofs.Hash { p.Root[0] ^= 1; return leaf }},
		{"block", func(p *proofs.AnchorProof) proofs.Hash { p.BlockNumber++; return leaf }},
		{"item count", func(p *proofs.AnchorProof) proofs.Hash { p.ItemCount++; return leaf }},
		{"chain", func(p *proofs.AnchorProof) proofs.Hash { p.ChainID++; return leaf }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := *good
			p.Path = append([]proofs.Hash(nil), good.Path...)
			want := tt.change(&p)
			if err := p.Check(t.Context(), c.Client, want); !errors.Is(err, proofs.ErrAnchorMismatch) {
				t.Fatalf("Check = %v, want ErrAnchorMismatch", err)
			}
		})
	}
}
