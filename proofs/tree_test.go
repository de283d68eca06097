package proofs

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func randomLeaves(r *rand.Rand, n int) []Hash {
	leaves := make([]Hash, n)
	for i := range leaves {
		for k := 0; k < 32; k += 8 {
			v := r.Uint64()
			for b := range 8 {
				leaves[i][k+b] = byte(v >> (8 * b))
			}
		}
		// Some duplicates, which the library allows.
		if i > 0 && r.IntN(10) == 0 {
			leaves[i] = leaves[r.IntN(i)]
		}
	}
	return leaves
}

// refNode is the node hash written out from its definition.
func refNode(a, b Hash) Hash {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	return Hash(crypto.Keccak256Hash(a[:], b[:]))
}

func TestNewTreeSmall(t *testing.T) {
	a, b, c := Hash{1}, Hash{2}, Hash{3}
	tests := []struct {
		name   string
		leaves []Hash
		root   Hash
		proofs [][]Hash
	}{
		{"one", []Hash{a}, a, [][]Hash{{}}},
		{"two", []Hash{b, a}, refNode(a, b), [][]Hash{{a}, {b}}},
		// Sorted a < b < c sit at nodes 4, 3, 2: c pairs with nothing at
		// its level, a and b hash together first.
		{"three", []Hash{c, a, b}, refNode(c, refNode(b, a)), [][]Hash{{refNode(a, b)}, {b, c}, {a, c}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := NewTree(tt.leaves)
			if err != nil {
				t.Fatal(err)
			}
			if tree.Root() != tt.root {
				t.Errorf("Root = %s, want %s", tree.Root(), tt.root)
			}
			for i, want := range tt.proofs {
				got, err := tree.Proof(i)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("Proof(%d) = %v, %v; want %v", i, got, err, want)
				}
			}
		})
	}
}

func TestTreeErrors(t *testing.T) {
	if _, err := NewTree(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("NewTree(nil) error = %v, want ErrEmpty", err)
	}
	if _, err := NewStandardTree([]string{"uint256"}, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("NewStandardTree(no values) error = %v, want ErrEmpty", err)
	}
	tree, err := NewTree(randomLeaves(rand.New(rand.NewPCG(1, 2)), 5))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"Proof(-1)", second(tree.Proof(-1)), ErrIndex},
		{"Proof(5)", second(tree.Proof(5)), ErrIndex},
		{"Leaf(5)", second(tree.Leaf(5)), ErrIndex},
		{"MultiProof(0,5)", second(tree.MultiProof([]int{0, 5})), ErrIndex},
		{"MultiProof(1,3,1)", second(tree.MultiProof([]int{1, 3, 1})), ErrDuplicateIndex},
		{"ProcessMultiProof(counts)", second(ProcessMultiProof(MultiProof{Leaves: []Hash{{1}, {2}}, ProofFlags: []bool{true, true}})), ErrInvalidMultiProof},
		{"ProcessMultiProof(too few proof)", second(ProcessMultiProof(MultiProof{Leaves: []Hash{{1}, {2}, {3}}, ProofFlags: []bool{false, false}})), ErrInvalidMultiProof},
		{"ProcessMultiProof(nothing)", second(ProcessMultiProof(MultiProof{})), ErrInvalidMultiProof},
		// Counts fit, but the second step needs a node nobody has made.
		{"ProcessMultiProof(underflow)", second(ProcessMultiProof(MultiProof{
			Leaves: []Hash{{1}}, Proof: []Hash{{2}, {3}}, ProofFlags: []bool{true, false},
		})), ErrInvalidMultiProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("error = %v, want %v", tt.err, tt.want)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestNewTreeDoesNotKeepInput(t *testing.T) {
	leaves := randomLeaves(rand.New(rand.NewPCG(3, 4)), 9)
	tree, err := NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Root()
	proof, _ := tree.Proof(4)
	leaf := leaves[4]
	for i := range leaves {
		leaves[i] = Hash{}
	}
	if tree.Root() != root {
		t.Fatal("changing the input changed the root")
	}
	if !Verify(root, leaf, proof) {
		t.Fatal("proof no longer verifies after the input changed")
	}
}

// TestTreeProperties checks random trees: every proof verifies its own leaf
// and no other, the root does not depend on the order of the leaves, and
// random multiproofs verify.
func TestTreeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(20260, 1))
	sizes := []int{1, 2, 3, 6, 31, 32, 64, 65, 127, 200}
	for range 10 {
		sizes = append(sizes, 1+r.IntN(300))
	}
	for _, n := range sizes {
		leaves := randomLeaves(r, n)
		tree, err := NewTree(leaves)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		root := tree.Root()
		for i, leaf := range leaves {
			proof, err := tree.Proof(i)
			if err != nil {
				t.Fatalf("n=%d: Proof(%d): %v", n, i, err)
			}
			if !Verify(root, leaf, proof) {
				t.Fatalf("n=%d: proof of leaf %d does not verify", n, i)
			}
			for j := 0; j < n; j += 1 + n/20 {
				if leaves[j] != leaf && Verify(root, leaves[j], proof) {
					t.Fatalf("n=%d: proof of leaf %d verifies leaf %d", n, i, j)
				}
			}
			if Verify(root, Hash{0xff, byte(i)}, proof) {
				t.Fatalf("n=%d: proof of leaf %d verifies a leaf not in the tree", n, i)
			}
		}

		shuffled := slices.Clone(leaves)
		r.Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		other, err := NewTree(shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if other.Root() != root {
			t.Fatalf("n=%d: shuffled leaves give root %s, want %s", n, other.Root(), root)
		}

		for range 5 {
			indices := r.Perm(n)[:r.IntN(n+1)]
			mp, err := tree.MultiProof(indices)
			if err != nil {
				t.Fatalf("n=%d: MultiProof(%v): %v", n, indices, err)
			}
			if !VerifyMultiProof(root, mp) {
				t.Fatalf("n=%d: multiproof of %v does not verify", n, indices)
			}
			for k, i := range mp.Indices {
				if mp.Leaves[k] != leaves[i] {
					t.Fatalf("n=%d: multiproof leaf %d is not leaf %d", n, k, i)
				}
			}
			if len(mp.Leaves) > 0 {
				bad := mp
				bad.Leaves = slices.Clone(mp.Leaves)
				bad.Leaves[0] = Hash{0xfe}
				if VerifyMultiProof(root, bad) {
					t.Fatalf("n=%d: multiproof of %v verifies a tampered leaf", n, indices)
				}
			}
		}
	}
}

func TestHashText(t *testing.T) {
	h := Hash{0xab, 31: 0x01}
	const s = "0xab00000000000000000000000000000000000000000000000000000000000001"
	if h.String() != s {
		t.Errorf("String = %s, want %s", h, s)
	}
	for _, in := range []string{s, s[2:], "0X" + s[2:]} {
		got, err := ParseHash(in)
		if err != nil || got != h {
			t.Errorf("ParseHash(%q) = %s, %v; want %s", in, got, err, h)
		}
	}
	for _, in := range []string{"", "0x", s + "00", s[:len(s)-1], "0xzz" + s[4:]} {
		if _, err := ParseHash(in); err == nil {
			t.Errorf("ParseHash(%q) succeeded", in)
		}
	}
}

// FuzzProcessMultiProof feeds arbitrary shapes of multiproof, which may come
// from other nodes, to the verifier: it must never panic, and must agree with
// ProcessProof on single-leaf proofs written as multiproofs.
func FuzzProcessMultiProof(f *testing.F) {
	f.Add(uint8(1), uint8(0), []byte{})
	f.Add(uint8(2), uint8(1), []byte{1, 0})
	f.Add(uint8(3), uint8(2), []byte{1, 1, 0, 0})
	f.Fuzz(func(t *testing.T, leaves, proof uint8, flags []byte) {
		mp := MultiProof{Leaves: make([]Hash, leaves%16), Proof: make([]Hash, proof%16)}
		for i := range mp.Leaves {
			mp.Leaves[i] = Hash{byte(i)}
		}
		for i := range mp.Proof {
			mp.Proof[i] = Hash{0x80 | byte(i)}
		}
		for _, b := range flags {
			mp.ProofFlags = append(mp.ProofFlags, b&1 == 1)
		}
		got, err := ProcessMultiProof(mp)
		if err != nil {
			if !errors.Is(err, ErrInvalidMultiProof) {
				t.Fatalf("error %v does not wrap ErrInvalidMultiProof", err)
			}
			return
		}
		if len(mp.Leaves) == 1 && !slices.Contains(mp.ProofFlags, true) {
			if want := ProcessProof(mp.Leaves[0], mp.Proof); got != want {
				t.Fatalf("ProcessMultiProof = %s, ProcessProof = %s", got, want)
			}
		}
	})
}

// TestZeroTree checks that a zero Tree or StandardTree reports errors rather
// than panicking.
func TestZeroTree(t *testing.T) {
	for name, tree := range map[string]*Tree{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			if tree.Len() != 0 || tree.Root() != (Hash{}) {
				t.Errorf("Len, Root = %d, %s", tree.Len(), tree.Root())
			}
			if _, err := tree.Proof(0); !errors.Is(err, ErrIndex) {
				t.Errorf("Proof(0) error = %v", err)
			}
			if _, err := tree.Leaf(0); !errors.Is(err, ErrIndex) {
				t.Errorf("Leaf(0) error = %v", err)
			}
			if _, err := tree.MultiProof(nil); !errors.Is(err, ErrEmpty) {
				t.Errorf("MultiProof(nil) error = %v", err)
			}
		})
	}
	var st StandardTree
	if _, err := st.Dump(); !errors.Is(err, ErrEmpty) {
		t.Errorf("Dump of zero StandardTree error = %v", err)
	}
	if _, err := st.Value(0); !errors.Is(err, ErrIndex) {
		t.Errorf("Value(0) of zero StandardTree error = %v", err)
	}
}
