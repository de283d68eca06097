package proofs

import (
	"cmp"
	"fmt"
	"slices"
)

// MultiProof proves several leaves of one tree at once, in the format of
// getMultiProof in @openzeppelin/merkle-tree and multiProofVerify in
// Solidity's MerkleProof.
type MultiProof struct {
	// Indices are the proven leaves' indices in the order given to NewTree,
	// in the order of Leaves. Verification does not read them.
	Indices []int `json:"indices,omitempty"`
	// Leaves are the proven leaf hashes in the order the proof consumes
	// them: by position in the tree, last first.
	Leaves []Hash `json:"leaves"`
	// Proof holds the sibling nodes the proof needs, in order of use.
	Proof []Hash `json:"proof"`
	// ProofFlags says for each hashing step whether the second operand is
	// the next leaf or computed node (true) or the next Proof node (false).
	ProofFlags []bool `json:"proofFlags"`
}

// MultiProof returns a proof of the leaves with the given indices (in the
// order given to NewTree), as getMultiProof(indices) of the JS library does.
// The order of indices does not matter; a repeated index is an error
// (ErrDuplicateIndex). Proving no leaf gives a proof holding only the root.
func (t *Tree) MultiProof(indices []int) (MultiProof, error) {
	if t.Len() == 0 {
		return MultiProof{}, ErrEmpty
	}
	type leaf struct{ node, index int }
	todo := make([]leaf, len(indices))
	for k, i := range indices {
		if i < 0 || i >= len(t.pos) {
			return MultiProof{}, fmt.Errorf("multiproof of leaf %d of %d: %w", i, len(t.pos), ErrIndex)
		}
		todo[k] = leaf{node: t.pos[i], index: i}
	}
	slices.SortFunc(todo, func(a, b leaf) int { return cmp.Compare(b.node, a.node) })
	for k := 1; k < len(todo); k++ {
		if todo[k].node == todo[k-1].node {
			return MultiProof{}, fmt.Errorf("multiproof of leaf %d: %w", todo[k].index, ErrDuplicateIndex)
		}
	}

	mp := MultiProof{
		Indices:    make([]int, len(todo)),
		Leaves:     make([]Hash, len(todo)),
		Proof:      []Hash{},
		ProofFlags: []bool{},
	}
	// queue holds the node indices still to be hashed with their sibling,
	// highest first; parents are appended as they are reached.
	queue := make([]int, len(todo), 2*len(todo))
	for k, l := range todo {
		mp.Indices[k] = l.index
		mp.Leaves[k] = t.nodes[l.node]
		queue[k] = l.node
	}
	for len(queue) > 0 && queue[0] > 0 {
		j := queue[0]
		queue = queue[1:]
		s := sibling(j)
		if len(queue) > 0 && queue[0] == s {
			mp.ProofFlags = append(mp.ProofFlags, true)
			queue = queue[1:]
		} else {
			mp.ProofFlags = append(mp.ProofFlags, false)
			mp.Proof = append(mp.Proof, t.nodes[s])
		}
		queue = append(queue, (j-1)/2)
	}
	if len(indices) == 0 {
		mp.Proof = append(mp.Proof, t.nodes[0])
	}
	return mp, nil
}

// ProcessMultiProof returns the root that mp leads to, as processMultiProof in
// the JS library and in Solidity's MerkleProof do. A proof whose counts do
// not fit together, or whose steps run out of leaves and computed nodes, is an
// error (ErrInvalidMultiProof), as it is in the JS library. mp.Indices is not
// read.
func ProcessMultiProof(mp MultiProof) (Hash, error) {
	falses := 0
	for _, f := range mp.ProofFlags {
		if !f {
			falses++
		}
	}
	if len(mp.Proof) < falses {
		return Hash{}, fmt.Errorf("%d proof nodes for %d proof steps: %w", len(mp.Proof), falses, ErrInvalidMultiProof)
	}
	if len(mp.Leaves)+len(mp.Proof) != len(mp.ProofFlags)+1 {
		return Hash{}, fmt.Errorf("%d leaves and %d proof nodes do not fit %d flags: %w",
			len(mp.Leaves), len(mp.Proof), len(mp.ProofFlags), ErrInvalidMultiProof)
	}
	if len(mp.ProofFlags) == 0 {
		if len(mp.Leaves) == 1 {
			return mp.Leaves[0], nil
		}
		return mp.Proof[0], nil
	}

	// queue is the leaves followed by each computed node; next is its head.
	queue := make([]Hash, 0, len(mp.Leaves)+len(mp.ProofFlags))
	queue = append(queue, mp.Leaves...)
	next, proofPos := 0, 0
	h := newHasher()
	for k, flag := range mp.ProofFlags {
		if next >= len(queue) {
			return Hash{}, fmt.Errorf("step %d has no node to hash: %w", k, ErrInvalidMultiProof)
		}
		a := &queue[next]
		next++
		var b *Hash
		if flag {
			if next >= len(queue) {
				return Hash{}, fmt.Errorf("step %d has no node to hash: %w", k, ErrInvalidMultiProof)
			}
			b = &queue[next]
			next++
		} else {
			b = &mp.Proof[proofPos]
			proofPos++
		}
		queue = append(queue, h.node(a, b))
	}
	// The counts checked above leave exactly the last computed node.
	return queue[len(queue)-1], nil
}

// VerifyMultiProof reports whether mp proves its leaves are in the tree of
// root, with the semantics of MerkleProof.multiProofVerify in Solidity.
func VerifyMultiProof(root Hash, mp MultiProof) bool {
	got, err := ProcessMultiProof(mp)
	return err == nil && got == root
}
