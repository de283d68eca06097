package datanet

import (
	"context"
	"testing"
)

// TestVerifiedCache: a vote checked once is not verified again (Check,
// then Put, as gossip and sync do), and a vote whose signature fails is
// refused every time it comes, never remembered as verified.
func TestVerifiedCache(t *testing.T) {
	f := newStateFixture(t)
	ctx := context.Background()
	good := encodeObject(t, signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateVoted))
	ch, err := f.r.Check(ctx, f.id, good)
	if err != nil {
		t.Fatal(err)
	}
	if !f.r.verified.Contains(ch.CID) {
		t.Fatal("a checked vote is not remembered as verified")
	}
	if _, err := f.r.Put(ctx, good); err != nil {
		t.Fatal(err)
	}
	bad := signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted)
	bad.Signature[10] ^= 1
	data := encodeObject(t, bad)
	for i := range 2 {
		if _, err := f.r.Check(ctx, f.id, data); err == nil {
			t.Fatalf("check %d of a vote with a broken signature passed", i)
		}
	}
	c, _ := ObjectCID(data)
	if f.r.verified.Contains(c) {
		t.Fatal("a vote that failed verification is remembered as verified")
	}
}

// BenchmarkCheckThenPut is what gossip and sync do with each vote: Check,
// then Put (which checks again against the state of the moment): one vote
// on each of b.N contributions, or b.N votes of one curator, each a new
// seq, on one contribution (the stale-vote check reads one index key,
// however many votes the contribution holds).
func BenchmarkCheckThenPut(b *testing.B) {
	b.Run("contributions", func(b *testing.B) {
		f := newStateFixture(b)
		var votes [][]byte
		for i := range b.N {
			k := mustSubmit(b, f.r, memContribution(b, f.id, contributorSigner(b), stateContributed, i))
			votes = append(votes, encodeObject(b, signedVoteOn(b, f.id, k, ownerSigner(b), Approve, 0, stateVoted)))
		}
		benchCheckThenPut(b, f, votes)
	})
	b.Run("seqs", func(b *testing.B) {
		f := newStateFixture(b)
		var votes [][]byte
		for i := range b.N {
			votes = append(votes, encodeObject(b, signedVoteOn(b, f.id, f.k, ownerSigner(b), Approve, uint64(i), stateVoted)))
		}
		benchCheckThenPut(b, f, votes)
	})
}

func benchCheckThenPut(b *testing.B, f *stateFixture, votes [][]byte) {
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.r.Check(ctx, f.id, votes[i]); err != nil {
			b.Fatal(err)
		}
		if _, err := f.r.Put(ctx, votes[i]); err != nil {
			b.Fatal(err)
		}
	}
}
