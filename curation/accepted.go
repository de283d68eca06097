package curation

import (
	"cmp"
	"fmt"
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

// RankInput is a snapshot with the Datanet version it names as its policy
// and its contributions by CID.
type RankInput struct {
	Snapshot      *datanet.Snapshot
	Policy        *datanet.Datanet
	Contributions map[cid.Cid]*datanet.Contribution
}

// Ranks returns the rank of every contribution of the snapshots: the Unix
// time its acceptance is first proven by a snapshot's evidence (AcceptedAt
// under that snapshot's policy; the snapshot's cut time if the evidence
// never accepts it, which a verified snapshot's always does), the earliest
// over the snapshots that list it. Attribution credits a text to the
// holder with the lowest rank, so every node ranks the same from the same
// snapshots. It fails with ErrInvalidPolicy, or when a contribution is
// missing from Contributions.
func Ranks(snaps []RankInput) (map[cid.Cid]int64, error) {
	rank := map[cid.Cid]int64{}
	for _, in := range snaps {
		policy := PolicyOf(in.Policy)
		votes := map[cid.Cid][]*datanet.Vote{}
		for _, v := range in.Snapshot.Evidence {
			votes[v.Contribution] = append(votes[v.Contribution], v)
		}
		for _, e := range in.Snapshot.Contributions {
			k := in.Contributions[e.Contribution]
			if k == nil {
				return nil, fmt.Errorf("rank contribution %s: not given", e.Contribution)
			}
			at, ok, err := AcceptedAt(policy, e.Contribution, time.Unix(k.Created, 0), votes[e.Contribution])
			if err != nil {
				return nil, err
			}
			if !ok {
				at = time.Unix(in.Snapshot.Created, 0)
			}
			if r, seen := rank[e.Contribution]; !seen || at.Unix() < r {
				rank[e.Contribution] = at.Unix()
			}
		}
	}
	return rank, nil
}
