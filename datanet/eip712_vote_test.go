package datanet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// apitypesHash is SigningHash the general way, through apitypes.
func apitypesHash(t testing.TB, obj Object) [32]byte {
	t.Helper()
	td, err := TypedData(obj)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h)
}

// TestVoteSigningHash checks the direct vote hash is apitypes' for the
// golden vote and for random votes (reasons of any length and script,
// seqs and times up to the top of their ranges, several chains).
func TestVoteSigningHash(t *testing.T) {
	v := signedVote(t)
	if got, want := mustVoteHash(t, v), apitypesHash(t, v); got != want {
		t.Fatalf("golden vote: %x, apitypes %x", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	reasons := []string{"", "ok", "日本語の理由", string(make([]byte, 2000)), "line\nbreak"}
	for i := range 300 {
		w := *v
		w.Reason = reasons[rng.IntN(len(reasons))] + fmt.Sprint(i)
		w.Seq = rng.Uint64()
		w.Created = rng.Int64N(1 << 62)
		w.ChainID = []uint64{1, 1337, 1612, 161201, rng.Uint64()}[rng.IntN(5)]
		w.Decision = []Decision{Approve, Reject}[rng.IntN(2)]
		w.Curator[rng.IntN(20)] ^= byte(rng.Uint32())
		if got, want := mustVoteHash(t, &w), apitypesHash(t, &w); got != want {
			t.Fatalf("vote %+v: %x, apitypes %x", w, got, want)
		}
	}
}

func mustVoteHash(t testing.TB, v *Vote) [32]byte {
	t.Helper()
	h, err := voteSigningHash(v)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func BenchmarkVoteSigningHash(b *testing.B) {
	v := signedVote(b)
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			voteSigningHash(v)
		}
	})
	b.Run("apitypes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			apitypesHash(b, v)
		}
	})
}

// TestContributionSigningHash checks the direct contribution hash is
// apitypes' for the golden contribution and for random ones (files,
// metadata, licenses, sizes, times and chains).
func TestContributionSigningHash(t *testing.T) {
	k := signedContribution(t)
	if got, want := mustContributionHash(t, k), apitypesHash(t, k); got != want {
		t.Fatalf("golden contribution: %x, apitypes %x", got, want)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	licenses := []string{"", "MIT", "CC-BY-4.0 OR Apache-2.0", "日本語", string(make([]byte, 300))}
	for i := range 300 {
		w := *k
		w.Files = k.Files[:rng.IntN(len(k.Files)+1)]
		w.Metadata = map[string]string{}
		for j := range rng.IntN(4) {
			w.Metadata[fmt.Sprint("key", j)] = fmt.Sprint("value ", i, j)
		}
		if rng.IntN(3) == 0 {
			w.Metadata = nil
		}
		w.License = licenses[rng.IntN(len(licenses))]
		w.Size, w.ChunkSize = rng.Uint64(), rng.Uint64()
		w.Created = rng.Int64N(1 << 62)
		w.ChainID = []uint64{1, 1337, 1612, 161201, rng.Uint64()}[rng.IntN(5)]
		w.Root[rng.IntN(32)] ^= byte(rng.Uint32())
		w.Contributor[rng.IntN(20)] ^= byte(rng.Uint32())
		if got, want := mustContributionHash(t, &w), apitypesHash(t, &w); got != want {
			t.Fatalf("contribution %d: %x, apitypes %x", i, got, want)
		}
	}
}

func mustContributionHash(t testing.TB, k *Contribution) [32]byte {
	t.Helper()
	h, err := contributionSigningHash(k)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func BenchmarkContributionSigningHash(b *testing.B) {
	k := signedContribution(b)
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			contributionSigningHash(k)
		}
	})
	b.Run("apitypes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			apitypesHash(b, k)
		}
	})
}
