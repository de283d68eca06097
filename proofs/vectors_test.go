package proofs

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The vectors are written by testdata/merkle/gen-vectors.mjs with the real
// @openzeppelin/merkle-tree; see testdata/merkle/README.md.
const vectorsPath = "testdata/merkle/vectors.json"

type vectorFile struct {
	Generator string       `json:"generator"`
	Trees     []vectorTree `json:"trees"`
}

type vectorTree struct {
	Name         string              `json:"name"`
	LeafEncoding []string            `json:"leafEncoding"`
	Values       [][]json.RawMessage `json:"values"`
	LeafHashes   []Hash              `json:"leafHashes"`
	Root         Hash                `json:"root"`
	Proofs       [][]Hash            `json:"proofs"`
	MultiProofs  []vectorMultiProof  `json:"multiProofs"`
	Dump         json.RawMessage     `json:"dump"`
}

type vectorMultiProof struct {
	Indices     []int  `json:"indices"`
	LeafIndices []int  `json:"leafIndices"`
	Leaves      []Hash `json:"leaves"`
	Proof       []Hash `json:"proof"`
	ProofFlags  []bool `json:"proofFlags"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(vectorsPath))
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatalf("decode %s: %v", vectorsPath, err)
	}
	if len(vf.Trees) == 0 {
		t.Fatalf("%s holds no trees", vectorsPath)
	}
	return vf
}

// values decodes the JSON values of leaf i as Go values for LeafHash.
func (v vectorTree) values(t *testing.T, i int) []any {
	t.Helper()
	args, err := parseTypes(v.LeafEncoding)
	if err != nil {
		t.Fatalf("leaf encoding %v: %v", v.LeafEncoding, err)
	}
	out := make([]any, len(args))
	for k, raw := range v.Values[i] {
		x, err := parseJSONValue(args[k].Type, raw)
		if err != nil {
			t.Fatalf("value %d field %d: %v", i, k, err)
		}
		out[k] = x
	}
	return out
}

func flip(h Hash, bit int) Hash {
	h[bit/8%32] ^= 1 << (bit % 8)
	return h
}

func TestVectors(t *testing.T) {
	vf := loadVectors(t)
	t.Logf("vectors from %s", vf.Generator)
	for _, v := range vf.Trees {
		t.Run(v.Name, func(t *testing.T) {
			n := len(v.Values)
			if len(v.LeafHashes) != n || len(v.Proofs) != n {
				t.Fatalf("vector has %d values, %d leaf hashes, %d proofs", n, len(v.LeafHashes), len(v.Proofs))
			}
			t.Run("LeafHash", func(t *testing.T) { testVectorLeaves(t, v) })
			t.Run("Tree", func(t *testing.T) { testVectorTree(t, v) })
			t.Run("MultiProof", func(t *testing.T) { testVectorMultiProofs(t, v) })
			t.Run("StandardTree", func(t *testing.T) { testVectorStandardTree(t, v) })
		})
	}
}

func testVectorLeaves(t *testing.T, v vectorTree) {
	for i, want := range v.LeafHashes {
		vals := v.values(t, i)
		got, err := LeafHash(v.LeafEncoding, vals...)
		if err != nil {
			t.Fatalf("LeafHash(%v, %v): %v", v.LeafEncoding, vals, err)
		}
		if got != want {
			t.Errorf("LeafHash of value %d = %s, JS = %s", i, got, want)
		}
		switch {
		case slices.Equal(v.LeafEncoding, []string{"uint256", "bytes32", "uint256"}):
			index, size := vals[0].(*big.Int), vals[2].(*big.Int)
			digest := [32]byte(vals[1].([]byte))
			if got := ShardLeaf(index.Uint64(), digest, size.Uint64()); got != want {
				t.Errorf("ShardLeaf of value %d = %s, JS = %s", i, got, want)
			}
		case slices.Equal(v.LeafEncoding, []string{"address", "uint256"}):
			got, err := ClaimLeaf([20]byte(vals[0].([]byte)), vals[1].(*big.Int))
			if err != nil {
				t.Fatalf("ClaimLeaf of value %d: %v", i, err)
			}
			if got != want {
				t.Errorf("ClaimLeaf of value %d = %s, JS = %s", i, got, want)
			}
		}
	}
}

func testVectorTree(t *testing.T, v vectorTree) {
	tree, err := NewTree(v.LeafHashes)
	if err != nil {
		t.Fatalf("NewTree: %v", err)
	}
	if got := tree.Root(); got != v.Root {
		t.Fatalf("Root = %s, JS = %s", got, v.Root)
	}
	if tree.Len() != len(v.LeafHashes) {
		t.Fatalf("Len = %d, want %d", tree.Len(), len(v.LeafHashes))
	}
	for i, want := range v.Proofs {
		leaf := v.LeafHashes[i]
		if got, err := tree.Leaf(i); err != nil || got != leaf {
			t.Errorf("Leaf(%d) = %s, %v; want %s", i, got, err, leaf)
		}
		got, err := tree.Proof(i)
		if err != nil {
			t.Fatalf("Proof(%d): %v", i, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Proof(%d) = %v, JS = %v", i, got, want)
		}
		if !Verify(v.Root, leaf, want) {
			t.Errorf("Verify rejects JS proof %d", i)
		}
		if Verify(flip(v.Root, i), leaf, want) {
			t.Errorf("Verify accepts proof %d under a tampered root", i)
		}
		if Verify(v.Root, flip(leaf, 7*i), want) {
			t.Errorf("Verify accepts proof %d of a tampered leaf", i)
		}
		for k := range want {
			bad := slices.Clone(want)
			bad[k] = flip(bad[k], 255-i)
			if Verify(v.Root, leaf, bad) {
				t.Errorf("Verify accepts proof %d with node %d tampered", i, k)
			}
		}
		if len(want) > 0 && Verify(v.Root, leaf, want[:len(want)-1]) {
			t.Errorf("Verify accepts proof %d cut short", i)
		}
		for j, other := range v.LeafHashes {
			if other != leaf && Verify(v.Root, other, want) {
				t.Errorf("proof of leaf %d verifies leaf %d", i, j)
			}
		}
	}
}

func testVectorMultiProofs(t *testing.T, v vectorTree) {
	if len(v.MultiProofs) == 0 {
		t.Skip("no multiproofs in this vector")
	}
	tree, err := NewTree(v.LeafHashes)
	if err != nil {
		t.Fatalf("NewTree: %v", err)
	}
	for _, want := range v.MultiProofs {
		got, err := tree.MultiProof(want.Indices)
		if err != nil {
			t.Fatalf("MultiProof(%v): %v", want.Indices, err)
		}
		if !slices.Equal(got.Indices, want.LeafIndices) || !slices.Equal(got.Leaves, want.Leaves) ||
			!slices.Equal(got.Proof, want.Proof) || !slices.Equal(got.ProofFlags, want.ProofFlags) {
			t.Errorf("MultiProof(%v) = %+v\nJS = %+v", want.Indices, got, want)
		}
		js := MultiProof{Leaves: want.Leaves, Proof: want.Proof, ProofFlags: want.ProofFlags}
		if !VerifyMultiProof(v.Root, js) {
			t.Errorf("VerifyMultiProof rejects JS multiproof of %v", want.Indices)
		}
		if VerifyMultiProof(flip(v.Root, 3), js) {
			t.Errorf("VerifyMultiProof accepts multiproof of %v under a tampered root", want.Indices)
		}
		for k := range js.Leaves {
			bad := js
			bad.Leaves = slices.Clone(js.Leaves)
			bad.Leaves[k] = flip(bad.Leaves[k], k)
			if VerifyMultiProof(v.Root, bad) {
				t.Errorf("VerifyMultiProof of %v accepts tampered leaf %d", want.Indices, k)
			}
		}
		for k := range js.Proof {
			bad := js
			bad.Proof = slices.Clone(js.Proof)
			bad.Proof[k] = flip(bad.Proof[k], 100+k)
			if VerifyMultiProof(v.Root, bad) {
				t.Errorf("VerifyMultiProof of %v accepts tampered proof node %d", want.Indices, k)
			}
		}
		if len(js.ProofFlags) > 0 {
			bad := js
			bad.ProofFlags = js.ProofFlags[1:]
			if VerifyMultiProof(v.Root, bad) {
				t.Errorf("VerifyMultiProof of %v accepts a proof with a flag dropped", want.Indices)
			}
		}
	}
}

func testVectorStandardTree(t *testing.T, v vectorTree) {
	values := make([][]any, len(v.Values))
	for i := range values {
		values[i] = v.values(t, i)
	}
	st, err := NewStandardTree(v.LeafEncoding, values)
	if err != nil {
		t.Fatalf("NewStandardTree: %v", err)
	}
	if st.Root() != v.Root {
		t.Fatalf("Root = %s, JS = %s", st.Root(), v.Root)
	}
	dumped, err := st.Dump()
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	back, err := LoadStandardTree(dumped)
	if err != nil {
		t.Fatalf("LoadStandardTree(Dump()): %v", err)
	}
	if back.Root() != v.Root {
		t.Fatalf("root after Dump and Load = %s, JS = %s", back.Root(), v.Root)
	}
	if v.Dump == nil {
		return
	}
	// Our dump is the JS library's, byte for byte once whitespace is
	// dropped: the vectors write values in the forms Dump writes them.
	var gotC, wantC bytes.Buffer
	if err := json.Compact(&gotC, dumped); err != nil {
		t.Fatalf("compact our dump: %v", err)
	}
	if err := json.Compact(&wantC, v.Dump); err != nil {
		t.Fatalf("compact JS dump: %v", err)
	}
	if !bytes.Equal(gotC.Bytes(), wantC.Bytes()) {
		t.Errorf("Dump differs from JS dump:\n got %s\nwant %s", gotC.Bytes(), wantC.Bytes())
	}
	loaded, err := LoadStandardTree(v.Dump)
	if err != nil {
		t.Fatalf("LoadStandardTree(JS dump): %v", err)
	}
	if loaded.Root() != v.Root {
		t.Fatalf("loaded Root = %s, JS = %s", loaded.Root(), v.Root)
	}
	for i, want := range v.Proofs {
		got, err := loaded.Proof(i)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("loaded Proof(%d) = %v, %v; JS = %v", i, got, err, want)
		}
	}
}
