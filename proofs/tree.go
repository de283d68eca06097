package proofs

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// Tree is a keccak256 Merkle tree over leaf hashes in the layout of
// OpenZeppelin's StandardMerkleTree (see the package doc). It is immutable
// once built and safe for concurrent use.
type Tree struct {
	// nodes is the tree as an array: nodes[0] is the root, the children of
	// node i are 2i+1 and 2i+2, and the leaves are the last Len() nodes.
	nodes []Hash
	// pos[i] is the index in nodes of the i-th leaf in the order given.
	pos []int
}

// NewTree builds the tree of leaves as @openzeppelin/merkle-tree does with its
// default sortLeaves=true: the leaves are sorted (ties keep their order), laid
// out as an array and hashed pairwise up to the root. Leaf i keeps its index i
// for Proof and MultiProof. NewTree does not keep leaves.
func NewTree(leaves []Hash) (*Tree, error) {
	n := len(leaves)
	if n == 0 {
		return nil, ErrEmpty
	}
	// Sort by the first 8 bytes as a number, which almost always decides,
	// then by the whole hash, then by input position so ties stay stable.
	type keyed struct {
		key uint64
		i   int
	}
	order := make([]keyed, n)
	for i := range leaves {
		order[i] = keyed{binary.BigEndian.Uint64(leaves[i][:8]), i}
	}
	slices.SortFunc(order, func(a, b keyed) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := bytes.Compare(leaves[a.i][8:], leaves[b.i][8:]); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	t := &Tree{
		nodes: make([]Hash, 2*n-1),
		pos:   make([]int, n),
	}
	last := len(t.nodes) - 1
	for k, o := range order {
		t.nodes[last-k] = leaves[o.i]
		t.pos[o.i] = last - k
	}
	t.hashInternal()
	return t, nil
}

// hashInternal computes every internal node from the leaves up.
func (t *Tree) hashInternal() {
	h := newHasher()
	for i := len(t.nodes) - 1 - t.Len(); i >= 0; i-- {
		t.nodes[i] = h.node(&t.nodes[2*i+1], &t.nodes[2*i+2])
	}
}

// Root returns the root of the tree; the zero Tree's root is the zero Hash.
func (t *Tree) Root() Hash {
	if t.Len() == 0 {
		return Hash{}
	}
	return t.nodes[0]
}

// Len returns the number of leaves.
func (t *Tree) Len() int {
	if t == nil {
		return 0
	}
	return len(t.pos)
}

// Leaf returns the i-th leaf in the order given to NewTree.
func (t *Tree) Leaf(i int) (Hash, error) {
	if i < 0 || i >= t.Len() {
		return Hash{}, fmt.Errorf("leaf %d of %d: %w", i, t.Len(), ErrIndex)
	}
	return t.nodes[t.pos[i]], nil
}

// Proof returns the inclusion proof of the i-th leaf in the order given to
// NewTree: the siblings on its path from leaf to root, as getProof(i) of the JS
// library returns them. The proof of the only leaf of a one-leaf tree is empty.
func (t *Tree) Proof(i int) ([]Hash, error) {
	if i < 0 || i >= t.Len() {
		return nil, fmt.Errorf("proof of leaf %d of %d: %w", i, t.Len(), ErrIndex)
	}
	j := t.pos[i]
	depth := 0
	for k := j; k > 0; k = (k - 1) / 2 {
		depth++
	}
	proof := make([]Hash, 0, depth)
	for ; j > 0; j = (j - 1) / 2 {
		proof = append(proof, t.nodes[sibling(j)])
	}
	return proof, nil
}

// sibling returns the other child of j's parent; j must not be the root.
func sibling(j int) int {
	if j%2 == 1 {
		return j + 1
	}
	return j - 1
}

// ProcessProof returns the root that proof leads to from leaf, hashing each
// pair in sorted order, as processProof in Solidity's MerkleProof and in the JS
// library do.
func ProcessProof(leaf Hash, proof []Hash) Hash {
	h := newHasher()
	for i := range proof {
		leaf = h.node(&leaf, &proof[i])
	}
	return leaf
}

// Verify reports whether proof proves that leaf is in the tree of root, with
// the semantics of MerkleProof.verify in Solidity.
func Verify(root Hash, leaf Hash, proof []Hash) bool {
	return ProcessProof(leaf, proof) == root
}
