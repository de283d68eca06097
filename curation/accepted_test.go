package curation

import (
	"math/rand/v2"
	"testing"
	"time"

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

// TestRank checks an entry's rank is when its evidence first accepts it,
// the cut's time when it never does.
func TestRank(t *testing.T) {
	d := &datanet.Datanet{
		Curators: []datanet.Curator{{Address: curator(1), Weight: 1}, {Address: curator(2), Weight: 1}, {Address: curator(3), Weight: 1}},
		Quorum:   2, ThresholdBps: 5000, Window: uint64(day / time.Second),
	}
	s := &datanet.Snapshot{Created: t0.Add(10 * time.Hour).Unix()}
	tests := []struct {
		name  string
		votes []*datanet.Vote
		want  time.Duration
	}{
		{"the second approval accepts", []*datanet.Vote{vote(1, A, 0, time.Hour), vote(2, A, 0, 5*time.Hour)}, 5 * time.Hour},
		{"the earlier pair counts", []*datanet.Vote{vote(2, A, 0, 2*time.Hour), vote(3, A, 0, 3*time.Hour), vote(1, A, 0, 4*time.Hour)}, 3 * time.Hour},
		{"never accepted: the cut", []*datanet.Vote{vote(1, A, 0, time.Hour)}, 10 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Rank(d, s, t0.Unix(), &datanet.SnapshotEntry{Contribution: target, Votes: tt.votes})
			if err != nil || r != t0.Add(tt.want).Unix() {
				t.Fatalf("Rank = %d %v, want %d", r, err, t0.Add(tt.want).Unix())
			}
		})
	}
}
