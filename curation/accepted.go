package curation

import (
	"cmp"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// AcceptedAt returns when a contribution was first accepted: votes are taken
// in the order of their times, and the answer is the time of the vote that
// first brought the tally to Accepted. ok is false if the votes never accept
// it. Attribution credits the earliest accepted holder of a text, and the
// votes are a snapshot's evidence, so every node computes the same time from
// the snapshot alone. It fails with ErrInvalidPolicy only.
func AcceptedAt(p Policy, contribution cid.Cid, created time.Time, votes []*datanet.Vote) (at time.Time, ok bool, err error) {
	total, err := p.total()
	if err != nil {
		return time.Time{}, false, err
	}
	sorted := slices.Clone(votes)
	sorted = slices.DeleteFunc(sorted, func(v *datanet.Vote) bool { return v == nil })
	slices.SortStableFunc(sorted, func(a, b *datanet.Vote) int { return cmp.Compare(a.Created, b.Created) })
	for i := 0; i < len(sorted); {
		t := sorted[i].Created
		j := i
		for j < len(sorted) && sorted[j].Created == t {
			j++
		}
		now := time.Unix(t, 0)
		if r := tally(p, total, contribution, created, sorted[:j], now); r.Status == Accepted {
			return now.UTC(), true, nil
		}
		i = j
	}
	return time.Time{}, false, nil
}

// Rank returns the rank of an entry e of the snapshot s, about a
// contribution created at created (Unix seconds), under the Datanet version
// policy s names: the Unix time
// its evidence first accepts it (AcceptedAt), or the cut's time if it never
// does (a verified snapshot's evidence always does). Attribution credits a
// text to the holder with the lowest rank over the snapshots that list it,
// so every node ranks the same from the same snapshots. It fails with
// ErrInvalidPolicy only.
func Rank(policy *datanet.Datanet, s *datanet.Snapshot, created int64, e *datanet.SnapshotEntry) (int64, error) {
	at, ok, err := AcceptedAt(PolicyOf(policy), e.Contribution, time.Unix(created, 0), e.Votes)
	if err != nil {
		return 0, err
	}
	if !ok {
		return s.Created, nil
	}
	return at.Unix(), nil
}
