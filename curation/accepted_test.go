package curation

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/openledger/openledger/datanet"
)

// TestAcceptedAt uses a 60% threshold, so one approval against one
// rejection is not enough.
func TestAcceptedAt(t *testing.T) {
	type ballot struct {
		curator int
		approve bool
		seq     uint64
		hour    time.Duration
	}
	cases := []struct {
		name  string
		votes []ballot
		want  time.Duration // hours after t0; -1: never accepted
	}{
		{"second approval accepts", []ballot{{1, true, 0, 1}, {2, true, 0, 5}, {3, true, 0, 9}}, 5},
		{"a reject delays it", []ballot{{1, true, 0, 1}, {2, false, 0, 2}, {3, true, 0, 7}}, 7},
		{"never accepted", []ballot{{1, false, 0, 1}, {2, false, 0, 2}}, -1},
		{"a re-vote turns it", []ballot{{1, true, 0, 1}, {2, false, 0, 2}, {2, true, 1, 4}}, 4},
		{"one vote is short of the quorum", []ballot{{1, true, 0, 1}}, -1},
		{"votes outside the window are left out", []ballot{{1, true, 0, 1}, {2, true, 0, 30}}, -1},
		{"no votes", nil, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list := make([]*datanet.Vote, 0, len(tc.votes))
			for _, v := range tc.votes {
				d := R
				if v.approve {
					d = A
				}
				list = append(list, vote(v.curator, d, v.seq, v.hour*time.Hour))
			}
			for range 5 { // shuffled orders give the same answer
				rand.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
				at, ok, err := AcceptedAt(withPolicy(func(p *Policy) { p.ThresholdBps = 6000 }), target, t0, list)
				if err != nil {
					t.Fatal(err)
				}
				if tc.want < 0 {
					if ok {
						t.Fatalf("accepted at %v, want never", at)
					}
					continue
				}
				if want := t0.Add(tc.want * time.Hour).UTC(); !ok || !at.Equal(want) {
					t.Fatalf("AcceptedAt = %v, %v; want %v", at, ok, want)
				}
			}
		})
	}
}

// TestRanks checks a contribution's rank is the earliest acceptance its
// snapshots' evidence proves, the cut time when the evidence does not, and
// that a contribution not given is an error.
func TestRanks(t *testing.T) {
	d := &datanet.Datanet{
		Curators: []datanet.Curator{{Address: curator(1), Weight: 1}, {Address: curator(2), Weight: 1}, {Address: curator(3), Weight: 1}},
		Quorum:   2, ThresholdBps: 5000, Window: uint64(day / time.Second),
	}
	k := &datanet.Contribution{Created: t0.Unix()}
	kOther := &datanet.Contribution{Created: t0.Unix()}
	contributions := map[cid.Cid]*datanet.Contribution{target: k, other: kOther}
	otherVote := func(i int, at time.Duration) *datanet.Vote {
		v := vote(i, A, 0, at)
		v.Contribution = other
		return v
	}
	// s1, cut at t0+10h: target accepted at 5h (second approval);
	// other listed without evidence (ranked by the cut).
	s1 := &datanet.Snapshot{Created: t0.Add(10 * time.Hour).Unix(),
		Contributions: []datanet.SnapshotEntry{{Contribution: target}, {Contribution: other}},
		Evidence:      []*datanet.Vote{vote(1, A, 0, time.Hour), vote(2, A, 0, 5*time.Hour)}}
	// s2, cut at t0+20h: target accepted at 3h by other votes, other at 12h.
	s2 := &datanet.Snapshot{Created: t0.Add(20 * time.Hour).Unix(),
		Contributions: []datanet.SnapshotEntry{{Contribution: target}, {Contribution: other}},
		Evidence:      []*datanet.Vote{vote(2, A, 0, 2*time.Hour), vote(3, A, 0, 3*time.Hour), otherVote(1, 11*time.Hour), otherVote(3, 12*time.Hour)}}
	for _, order := range [][]*datanet.Snapshot{{s1, s2}, {s2, s1}} {
		var in []RankInput
		for _, s := range order {
			in = append(in, RankInput{Snapshot: s, Policy: d, Contributions: contributions})
		}
		rank, err := Ranks(in)
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(3 * time.Hour).Unix(); rank[target] != want {
			t.Errorf("rank of target = %d, want %d (the earlier acceptance, in s2)", rank[target], want)
		}
		if want := t0.Add(10 * time.Hour).Unix(); rank[other] != want {
			t.Errorf("rank of other = %d, want %d (s1's cut, before s2's acceptance)", rank[other], want)
		}
	}
	if _, err := Ranks([]RankInput{{Snapshot: s1, Policy: d, Contributions: map[cid.Cid]*datanet.Contribution{target: k}}}); err == nil {
		t.Fatal("Ranks with a contribution missing succeeded")
	}
}
