package curation

import (
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// ErrBadSnapshot means a snapshot's evidence does not prove its contents.
var ErrBadSnapshot = errors.New("curation: snapshot not proven by its evidence")

// PolicyOf returns the policy a Datanet version sets.
func PolicyOf(d *datanet.Datanet) Policy {
	curators := make(map[common.Address]uint64, len(d.Curators))
	for _, c := range d.Curators {
		curators[c.Address] = c.Weight
	}
	return Policy{
		Curators:     curators,
		Quorum:       d.Quorum,
		ThresholdBps: d.ThresholdBps,
		Window:       time.Duration(d.Window) * time.Second,
	}
}

// CutInput is what a snapshot is cut from: a Datanet's current version, the
// contributions and verified votes a node holds, the previous snapshot, and
// the time of the cut.
type CutInput struct {
	DatanetID cid.Cid
	// Policy is the Datanet's current version and PolicyCID its CID.
	Policy    *datanet.Datanet
	PolicyCID cid.Cid
	// Contributions are the contributions to the Datanet, by CID. Only
	// those the policy admits are considered.
	Contributions map[cid.Cid]*datanet.Contribution
	Votes         []*datanet.Vote
	// Prev is the previous snapshot and PrevCID its CID; nil for the
	// first.
	Prev    *datanet.Snapshot
	PrevCID cid.Cid
	Now     time.Time
}

// Cut returns the unsigned snapshot of the contributions accepted at
// in.Now, with the counted votes of each as evidence. Every node with the
// same input cuts the same snapshot, up to the cutter and signature. It
// fails with datanet.ErrEmptySnapshot when nothing is accepted.
func Cut(in CutInput) (*datanet.Snapshot, error) {
	p := PolicyOf(in.Policy)
	created := make(map[cid.Cid]time.Time, len(in.Contributions))
	for c, k := range in.Contributions {
		if k == nil || !k.Datanet.Equals(in.DatanetID) || in.Policy.Admits(k) != nil {
			continue
		}
		created[c] = time.Unix(k.Created, 0)
	}
	results, err := TallyAll(p, created, in.Votes, in.Now)
	if err != nil {
		return nil, err
	}
	s := &datanet.Snapshot{
		Datanet: in.DatanetID,
		Policy:  in.PolicyCID,
		Version: 1,
		ChainID: in.Policy.ChainID,
		Created: in.Now.Unix(),
	}
	if in.Prev != nil {
		s.Version, s.Prev = in.Prev.Version+1, in.PrevCID
	}
	for _, r := range results {
		if r.Status != Accepted {
			continue
		}
		s.Contributions = append(s.Contributions, datanet.SnapshotEntry{
			Contribution: r.Contribution,
			Root:         in.Contributions[r.Contribution].Root,
		})
		s.Evidence = append(s.Evidence, r.Counted...)
	}
	if len(s.Contributions) == 0 {
		return nil, datanet.ErrEmptySnapshot
	}
	datanet.SortEntries(s.Contributions)
	datanet.SortEvidence(s.Evidence)
	if s.Root, err = datanet.SnapshotRoot(s.Contributions); err != nil {
		return nil, err
	}
	return s, nil
}

// VerifySnapshot rechecks a snapshot from itself, the Datanet version it
// names as its policy, and its contributions (by CID): the cutter's and
// every evidence vote's signatures, that policy is the version s.Policy
// names (for a later version than the first, the caller checks that it
// belongs to s.Datanet's chain of updates), that each contribution is of
// this Datanet with the root s lists and within the policy's limits, and
// that the evidence votes accept each one at s.Created. It fails with
// ErrBadSnapshot, naming the first contribution that is not proven.
func VerifySnapshot(s *datanet.Snapshot, policy *datanet.Datanet, contributions map[cid.Cid]*datanet.Contribution) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if err := s.Verify(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	pc, err := policy.CID()
	if err != nil {
		return fmt.Errorf("%w: policy: %w", ErrBadSnapshot, err)
	}
	switch {
	case !pc.Equals(s.Policy):
		return fmt.Errorf("%w: policy is %s, the snapshot names %s", ErrBadSnapshot, pc, s.Policy)
	case policy.Seq == 0 && !pc.Equals(s.Datanet):
		return fmt.Errorf("%w: policy %s is the first version of another datanet", ErrBadSnapshot, pc)
	case policy.ChainID != s.ChainID:
		return fmt.Errorf("%w: signed under chain ID %d, the datanet's is %d", ErrBadSnapshot, s.ChainID, policy.ChainID)
	}
	votes := make(map[cid.Cid][]*datanet.Vote, len(s.Contributions))
	for i, v := range s.Evidence {
		if err := v.Verify(); err != nil {
			return fmt.Errorf("%w: evidence[%d]: %w", ErrBadSnapshot, i, err)
		}
		votes[v.Contribution] = append(votes[v.Contribution], v)
	}
	p := PolicyOf(policy)
	now := time.Unix(s.Created, 0)
	for _, e := range s.Contributions {
		k := contributions[e.Contribution]
		switch {
		case k == nil:
			return fmt.Errorf("%w: contribution %s is missing", ErrBadSnapshot, e.Contribution)
		case !k.Datanet.Equals(s.Datanet):
			return fmt.Errorf("%w: contribution %s belongs to datanet %s", ErrBadSnapshot, e.Contribution, k.Datanet)
		case k.Root != e.Root:
			return fmt.Errorf("%w: contribution %s has root %x, the snapshot lists %x", ErrBadSnapshot, e.Contribution, k.Root, e.Root)
		}
		if err := policy.Admits(k); err != nil {
			return fmt.Errorf("%w: contribution %s: %w", ErrBadSnapshot, e.Contribution, err)
		}
		r, err := Tally(p, e.Contribution, time.Unix(k.Created, 0), votes[e.Contribution], now)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
		}
		if r.Status != Accepted {
			return fmt.Errorf("%w: contribution %s is %s by its evidence (approve %d, reject %d of quorum %d, threshold %d bps)",
				ErrBadSnapshot, e.Contribution, r.Status, r.Approve, r.Reject, p.Quorum, p.ThresholdBps)
		}
		if len(r.Ignored) > 0 {
			return fmt.Errorf("%w: contribution %s: evidence vote by %s does not count (%s)",
				ErrBadSnapshot, e.Contribution, r.Ignored[0].Vote.Curator, r.Ignored[0].Reason)
		}
	}
	return nil
}
