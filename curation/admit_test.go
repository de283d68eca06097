package curation

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/openledger/openledger/datanet"
)

// TestGateAgreesWithTally checks that the registry's gate (Rules.AdmitVote)
// admits exactly the votes the tally does not ignore as NotCurator or
// OutsideWindow, at the window's edges and for random votes: a node must
// never keep a vote its tally throws away for these reasons, nor refuse one
// it would count.
func TestGateAgreesWithTally(t *testing.T) {
	for _, window := range []uint64{0, 1, 3600, 86400} {
		d := &datanet.Datanet{
			Curators: []datanet.Curator{{Address: curator(1), Weight: 1}, {Address: curator(2), Weight: 3}},
			Quorum:   1, ThresholdBps: 5000, Window: window, ChainID: testChainID,
		}
		p := PolicyOf(d)
		offsets := []int64{-86401, -2, -1, 0, 1, int64(window) - 1, int64(window), int64(window) + 1, 86400 * 400}
		rng := rand.New(rand.NewPCG(uint64(window), 7))
		for range 200 {
			offsets = append(offsets, rng.Int64N(3*86400)-86400)
		}
		for _, who := range []int{1, 2, 9} {
			for _, off := range offsets {
				v := vote(who, A, 0, time.Duration(off)*time.Second)
				gate := Rules{}.AdmitVote(d, t0.Unix(), v)
				r, err := Tally(p, target, t0, []*datanet.Vote{v}, t0)
				if err != nil {
					t.Fatal(err)
				}
				var reason Reason
				if len(r.Ignored) == 1 {
					reason = r.Ignored[0].Reason
				}
				switch {
				case reason == 0 && gate != nil:
					t.Errorf("window %d, curator %d, offset %d s: the tally counts a vote the gate refuses (%v)", window, who, off, gate)
				case reason == NotCurator && !errors.Is(gate, datanet.ErrNotCurator):
					t.Errorf("window %d, curator %d, offset %d s: not a curator in the tally, gate says %v", window, who, off, gate)
				case reason == OutsideWindow && !errors.Is(gate, datanet.ErrOutsideWindow):
					t.Errorf("window %d, curator %d, offset %d s: outside the window in the tally, gate says %v", window, who, off, gate)
				}
			}
		}
	}
}

// TestAdmitVoteMessages checks the gate's errors name what is wrong.
func TestAdmitVoteMessages(t *testing.T) {
	d := &datanet.Datanet{Curators: []datanet.Curator{{Address: curator(1), Weight: 1}}, Window: 3600, Seq: 2}
	tests := []struct {
		name string
		v    *datanet.Vote
		want error
		text string
	}{
		{"stranger", vote(5, A, 0, time.Minute), datanet.ErrNotCurator, "does not curate datanet"},
		{"before", vote(1, A, 0, -time.Second), datanet.ErrOutsideWindow, "before the contribution (2026-01-01T00:00:00Z)"},
		{"after", vote(1, A, 0, time.Hour), datanet.ErrOutsideWindow, "the window closed 2026-01-01T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Rules{}.AdmitVote(d, t0.Unix(), tt.v)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("AdmitVote = %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
	if err := (Rules{}).AdmitVote(d, t0.Unix(), vote(1, A, 0, time.Hour-time.Second)); err != nil {
		t.Fatalf("vote in the last second of the window: %v", err)
	}
}
