package curation

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// benchVotes returns votes spread over contributions: 25 curators and 5
// strangers, each vote a random decision, a curator's votes on one
// contribution numbered 0, 1, 2... (re-votes), a few outside the window.
// There are no equivocations, which cost an encoding and a hash per tie.
func benchVotes(b *testing.B, votes, contributions int) (Policy, map[cid.Cid]time.Time, []*datanet.Vote) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	p := Policy{Curators: map[common.Address]uint64{}, Quorum: 30, ThresholdBps: 6667, Window: 7 * day}
	for i := 1; i <= 25; i++ {
		p.Curators[curator(i)] = 1 + rng.Uint64N(3)
	}
	created := make(map[cid.Cid]time.Time, contributions)
	ids := make([]cid.Cid, contributions)
	for i := range ids {
		ids[i] = objectCID(fmt.Sprintf("contribution %d", i))
		created[ids[i]] = t0
	}
	type pair struct{ curator, contribution int }
	seqs := map[pair]uint64{}
	out := make([]*datanet.Vote, votes)
	for i := range out {
		k := pair{1 + rng.IntN(30), rng.IntN(contributions)}
		v := vote(k.curator, []datanet.Decision{A, R}[rng.IntN(2)], seqs[k],
			time.Duration(rng.IntN(8*24*3600))*time.Second)
		seqs[k]++
		v.Contribution = ids[k.contribution]
		out[i] = v
	}
	if err := p.Validate(); err != nil {
		b.Fatal(err)
	}
	return p, created, out
}

// BenchmarkTallyAll tallies votes over contributions from scratch, as a
// node does when it cuts a snapshot or restarts.
func BenchmarkTallyAll(b *testing.B) {
	for _, size := range []struct{ votes, contributions int }{{1000, 10}, {100_000, 1000}} {
		b.Run(fmt.Sprintf("size=%d/contributions=%d", size.votes, size.contributions), func(b *testing.B) {
			p, created, votes := benchVotes(b, size.votes, size.contributions)
			now := t0.Add(3 * day)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := TallyAll(p, created, votes, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size.votes)*float64(b.N)/b.Elapsed().Seconds(), "votes/s")
		})
	}
}

// BenchmarkTally tallies the votes on one contribution, as a node does when
// a vote arrives.
func BenchmarkTally(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			p, _, votes := benchVotes(b, n, 1)
			c := votes[0].Contribution
			now := t0.Add(3 * day)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Tally(p, c, t0, votes, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyEntry checks entries accepted by 2 or 3 of 3 curators
// (the tally only; signatures are the registry's, on every core).
func BenchmarkVerifyEntry(b *testing.B) {
	w := newWorld(b, 1000)
	s := w.snapshot()
	var entries []*datanet.SnapshotEntry
	for i, c := range w.order {
		votes := []*datanet.Vote{w.vote(1, c, A, 0), w.vote(2, c, A, 0)}
		if i%2 == 0 {
			votes = append(votes, w.vote(3, c, R, 0))
		}
		entries = append(entries, w.entry(c, votes...))
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, e := range entries {
			if err := VerifyEntry(w.dn, s, w.contribs[w.order[i]], e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(entries))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
