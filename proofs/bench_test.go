package proofs

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func benchTree(b *testing.B, n int) ([]Hash, *Tree) {
	b.Helper()
	leaves := randomLeaves(rand.New(rand.NewPCG(7, uint64(n))), n)
	tree, err := NewTree(leaves)
	if err != nil {
		b.Fatal(err)
	}
	return leaves, tree
}

func BenchmarkNewTree(b *testing.B) {
	for _, n := range []int{1024, 65536} {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			leaves, _ := benchTree(b, n)
			b.SetBytes(int64(n * len(Hash{})))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewTree(leaves); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkProof(b *testing.B) {
	const n = 65536
	_, tree := benchTree(b, n)
	proof, _ := tree.Proof(0)
	b.SetBytes(int64(len(proof) * len(Hash{})))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := tree.Proof(i % n); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

func BenchmarkVerify(b *testing.B) {
	const n = 65536
	leaves, tree := benchTree(b, n)
	root := tree.Root()
	proof, _ := tree.Proof(12345)
	b.SetBytes(int64((len(proof) + 1) * len(Hash{})))
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(root, leaves[12345], proof) {
			b.Fatal("proof does not verify")
		}
	}
}

func BenchmarkMultiProof(b *testing.B) {
	const n, k = 65536, 64
	_, tree := benchTree(b, n)
	indices := rand.New(rand.NewPCG(1, 1)).Perm(n)[:k]
	mp, _ := tree.MultiProof(indices)
	b.Run("prove", func(b *testing.B) {
		b.SetBytes(int64(len(mp.Proof) * len(Hash{})))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tree.MultiProof(indices); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.SetBytes(int64((len(mp.Proof) + len(mp.Leaves)) * len(Hash{})))
		b.ReportAllocs()
		for b.Loop() {
			if !VerifyMultiProof(tree.Root(), mp) {
				b.Fatal("multiproof does not verify")
			}
		}
	})
}

func BenchmarkShardLeaf(b *testing.B) {
	digest := [32]byte{1, 2, 3}
	b.SetBytes(96)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		ShardLeaf(i, digest, 1<<20)
		i++
	}
}

func BenchmarkLeafHash(b *testing.B) {
	digest := [32]byte{1, 2, 3}
	b.SetBytes(96)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LeafHash(shardTypes, uint64(7), digest, uint64(1<<20)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyProof checks one item's inclusion proof in a batch of n
// items: the work of `openledger proofs verify` besides the chain lookup.
func BenchmarkVerifyProof(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			leaves := make([]Hash, n)
			for i := range leaves {
				leaves[i] = ShardLeaf(uint64(i), [32]byte{byte(i), byte(i >> 8)}, 1<<20)
			}
			tree, err := NewTree(leaves)
			if err != nil {
				b.Fatal(err)
			}
			proof, err := tree.Proof(n / 2)
			if err != nil {
				b.Fatal(err)
			}
			root, leaf := tree.Root(), leaves[n/2]
			for b.Loop() {
				if !Verify(root, leaf, proof) {
					b.Fatal("proof does not verify")
				}
			}
		})
	}
}
