package curation

import (
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/datanet"
)

// ErrBadSnapshot means a snapshot's evidence does not prove its contents
// (datanet.ErrBadSnapshot, which the registry's checks wrap too).
var ErrBadSnapshot = datanet.ErrBadSnapshot

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

// VerifyEntry checks one entry e of the snapshot s against its contribution
// k and the Datanet version policy s names: k is of s's Datanet with e's
// root and is admitted by policy's rules, every evidence vote is of s's
// Datanet and chain, and the votes, tallied at s's cut, accept k with every
// one of them counting. It checks no signature: the registry does. It
// fails with ErrBadSnapshot naming the contribution.
func VerifyEntry(policy *datanet.Datanet, s *datanet.Snapshot, k *datanet.Contribution, e *datanet.SnapshotEntry) error {
	switch {
	case !k.Datanet.Equals(s.Datanet):
		return fmt.Errorf("%w: contribution %s belongs to datanet %s", ErrBadSnapshot, e.Contribution, k.Datanet)
	case [32]byte(e.Root) != k.Root:
		return fmt.Errorf("%w: contribution %s has root %x, the snapshot lists %x", ErrBadSnapshot, e.Contribution, k.Root, e.Root)
	}
	if err := policy.Admits(k); err != nil {
		return fmt.Errorf("%w: contribution %s: %w", ErrBadSnapshot, e.Contribution, err)
	}
	for _, v := range e.Votes {
		switch {
		case !v.Datanet.Equals(s.Datanet):
			return fmt.Errorf("%w: contribution %s: evidence vote in datanet %s", ErrBadSnapshot, e.Contribution, v.Datanet)
		case v.ChainID != s.ChainID:
			return fmt.Errorf("%w: contribution %s: evidence vote signed under chain ID %d, the snapshot under %d", ErrBadSnapshot, e.Contribution, v.ChainID, s.ChainID)
		}
	}
	p := PolicyOf(policy)
	r, err := Tally(p, e.Contribution, time.Unix(k.Created, 0), e.Votes, time.Unix(s.Created, 0))
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
	return nil
}
