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
// then Put (which checks again against the state of the moment).
func BenchmarkCheckThenPut(b *testing.B) {
	f := newStateFixture(b)
	ctx := context.Background()
	var votes [][]byte
	for i := range b.N {
		k := mustSubmit(b, f.r, memContribution(b, f.id, contributorSigner(b), stateContributed, i))
		votes = append(votes, encodeObject(b, signedVoteOn(b, f.id, k, ownerSigner(b), Approve, 0, stateVoted)))
	}
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
