package curation

import (
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// admit is the one home of the rules that decide whether a vote can count:
// the voter has a positive weight, and the vote was created inside the
// window [created, created+window) of its contribution (no end when window
// is 0). Times are Unix seconds, as signed in the objects. It returns 0 when
// the vote may count, else NotCurator or OutsideWindow. The tally applies it
// to every vote, and the registry's gate (Rules.AdmitVote) to every vote it
// stores, so a node never keeps a vote its tally would ignore for these
// reasons.
func admit(weight uint64, window time.Duration, created, voted int64) Reason {
	switch {
	case weight == 0:
		return NotCurator
	case voted < created:
		return OutsideWindow
	case window > 0 && voted >= windowEnd(created, window):
		return OutsideWindow
	}
	return 0
}

// windowEnd is the first second at which votes on a contribution created at
// created are no longer taken (meaningful when window > 0).
func windowEnd(created int64, window time.Duration) int64 {
	return time.Unix(created, 0).Add(window).Unix()
}

// Rules are the curation rules as datanet.Registry asks for them
// (datanet.Rules): the daemon passes Rules{} in the registry's config, so the
// gate that admits votes and snapshots and the tally share one code path.
type Rules struct{}

var _ datanet.Rules = Rules{}

// AdmitVote checks that v could count under the Datanet version d for a
// contribution created at created (Unix seconds): its signer curates d and
// it is dated inside the contribution's window. It fails with
// datanet.ErrNotCurator or datanet.ErrOutsideWindow.
func (Rules) AdmitVote(d *datanet.Datanet, created int64, v *datanet.Vote) error {
	window := time.Duration(d.Window) * time.Second
	switch admit(d.CuratorWeight(v.Curator), window, created, v.Created) {
	case NotCurator:
		return fmt.Errorf("%w: %s does not curate datanet %s (version %d)", datanet.ErrNotCurator, v.Curator, v.Datanet, d.Seq)
	case OutsideWindow:
		if v.Created < created {
			return fmt.Errorf("%w: vote created %s, before the contribution (%s)", datanet.ErrOutsideWindow, unixUTC(v.Created), unixUTC(created))
		}
		return fmt.Errorf("%w: vote created %s, the window closed %s", datanet.ErrOutsideWindow, unixUTC(v.Created), unixUTC(windowEnd(created, window)))
	}
	return nil
}

// Tally is the package function Tally under d's policy.
func (Rules) Tally(d *datanet.Datanet, contribution cid.Cid, created int64, votes []*datanet.Vote, now time.Time) (datanet.TallyState, error) {
	r, err := Tally(PolicyOf(d), contribution, time.Unix(created, 0), votes, now)
	if err != nil {
		return datanet.TallyState{}, err
	}
	return datanet.TallyState{Status: r.Status, Approve: r.Approve, Reject: r.Reject, Counted: r.Counted}, nil
}

// VerifyEntry is the package function VerifyEntry.
func (Rules) VerifyEntry(policy *datanet.Datanet, s *datanet.Snapshot, k *datanet.Contribution, e *datanet.SnapshotEntry) error {
	return VerifyEntry(policy, s, k, e)
}

func unixUTC(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }
