package datanet

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// SnapshotReport is what a verification of a snapshot read and checked.
type SnapshotReport struct {
	Entries    uint64 // entries read
	Votes      uint64 // evidence votes read
	Leaves     int    // leaf chunks read
	Checked    int    // leaf chunks whose entries were checked
	Signatures int    // vote signatures checked
	FromIndex  int    // entries proven by the index's own decision (not full)
}

// VerifySnapshot rechecks the snapshot s as a third party would: its
// signature, its links, every chunk of its entry tree, every entry against
// its contribution and its evidence under the policy version it names
// (Rules.VerifyEntry), every evidence vote's signature, and its root and
// counts. It fails with a *MissingError when objects it needs are not
// held (fetch them and verify again), with ErrBadSnapshot or
// ErrBadSnapshotLink naming what does not prove it, or with ErrBadSignature.
func (r *Registry) VerifySnapshot(ctx context.Context, s *Snapshot) (SnapshotReport, error) {
	if err := s.Validate(); err != nil {
		return SnapshotReport{}, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if err := s.Verify(); err != nil {
		return SnapshotReport{}, err
	}
	policy, prev, err := r.snapshotLinks(ctx, s)
	if err != nil {
		return SnapshotReport{}, err
	}
	return r.verifySnapshot(ctx, s, policy, prev, true)
}

// verifySnapshot reads s's entry tree and checks it. Unless full, the
// entries of leaves the previous snapshot prev also has (under the same
// policy) are not checked again, and neither are the signatures of
// evidence votes held here: both were checked when stored. The leaves'
// entries are checked on every core.
func (r *Registry) verifySnapshot(ctx context.Context, s *Snapshot, policy *Datanet, prev *Snapshot, full bool) (SnapshotReport, error) {
	var rep SnapshotReport
	// Unless full, an entry the index already decided the same way is
	// taken from it: under the policy s names, the index holds the
	// contribution accepted from exactly the entry's votes (checked when
	// they were stored).
	var indexPolicy []Curator
	if !full {
		if under, err := r.talliedUnder(ctx, s.Datanet); err == nil && under.Equals(s.Policy) {
			indexPolicy = policy.Curators
		}
	}
	known := map[cid.Cid]bool{}
	if !full && prev != nil && prev.Policy.Equals(s.Policy) {
		leaves, err := r.snapshotLeaves(ctx, prev)
		if err == nil {
			for _, ref := range leaves {
				known[ref.Chunk] = true
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *SnapshotChunk, runtime.GOMAXPROCS(0))
	var mu sync.Mutex // guards missing and rep.Signatures
	missing := &MissingError{What: "contribution"}
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for c := range work {
				var fromIndex []indexed
				if indexPolicy != nil {
					cs := make([]cid.Cid, len(c.Entries))
					for i, e := range c.Entries {
						cs[i] = e.Contribution
					}
					var err error
					if fromIndex, _, err = r.indexedEntries(gctx, indexPolicy, cs); err != nil {
						return err
					}
				}
				for i := range c.Entries {
					if fromIndex != nil && fromIndex[i].proves(s.Datanet, &c.Entries[i]) {
						mu.Lock()
						rep.FromIndex++
						mu.Unlock()
						continue
					}
					sigs, err := r.verifyEntry(gctx, policy, s, &c.Entries[i], full, missing, &mu)
					if err != nil {
						return err
					}
					mu.Lock()
					rep.Signatures += sigs
					mu.Unlock()
				}
			}
			return nil
		})
	}
	seen := make(map[[32]byte]struct{}, s.Count)
	leaves := make([]proofs.Hash, 0, s.Count)
	walkErr := r.WalkSnapshot(gctx, s, func(leaf cid.Cid, c *SnapshotChunk) error {
		rep.Leaves++
		for _, e := range c.Entries {
			digest, err := objectDigest(e.Contribution)
			if err != nil {
				return fmt.Errorf("%w: chunk %s: %w", ErrBadSnapshot, leaf, err)
			}
			if _, dup := seen[digest]; dup {
				return fmt.Errorf("%w: chunk %s: contribution %s is listed twice", ErrBadSnapshot, leaf, e.Contribution)
			}
			seen[digest] = struct{}{}
			leaves = append(leaves, proofs.ContributionLeaf(digest, [32]byte(e.Root)))
			rep.Entries++
			rep.Votes += uint64(len(e.Votes))
		}
		if known[leaf] {
			return nil
		}
		rep.Checked++
		select {
		case work <- c:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	})
	close(work)
	if err := g.Wait(); err != nil {
		return rep, err
	}
	if walkErr != nil {
		return rep, walkErr
	}
	if len(missing.CIDs) > 0 {
		return rep, missing
	}
	switch {
	case rep.Entries != s.Count || rep.Votes != s.Votes:
		return rep, fmt.Errorf("%w: the tree holds %d entries and %d votes, the snapshot says %d and %d",
			ErrBadSnapshot, rep.Entries, rep.Votes, s.Count, s.Votes)
	case len(leaves) == 0:
		return rep, fmt.Errorf("%w: %w", ErrBadSnapshot, ErrEmptySnapshot)
	}
	tree, err := proofs.NewTree(leaves)
	if err != nil {
		return rep, err
	}
	if tree.Root() != s.Root {
		return rep, fmt.Errorf("%w: root %x is not the Merkle root %x of its entries", ErrBadSnapshot, s.Root, tree.Root())
	}
	return rep, nil
}

// verifyEntry checks one entry: its contribution (added to missing when
// not held), its votes' signatures (those not held here, or all when full),
// and the curation rules. It returns the signatures it checked.
func (r *Registry) verifyEntry(ctx context.Context, policy *Datanet, s *Snapshot, e *SnapshotEntry, full bool, missing *MissingError, mu *sync.Mutex) (int, error) {
	k, err := r.Contribution(ctx, e.Contribution)
	if errors.Is(err, storage.ErrNotFound) {
		mu.Lock()
		if len(missing.CIDs) < maxMissingNamed {
			missing.CIDs = append(missing.CIDs, e.Contribution)
		}
		mu.Unlock()
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	sigs := 0
	for _, v := range e.Votes {
		if !full {
			vc, err := v.CID()
			if err != nil {
				return sigs, err
			}
			if held, err := r.store.HasObject(ctx, vc); err != nil {
				return sigs, err
			} else if held {
				continue // checked when it was stored
			}
		}
		sigs++
		if err := v.Verify(); err != nil {
			return sigs, fmt.Errorf("%w: contribution %s: evidence vote by %s: %w", ErrBadSnapshot, e.Contribution, v.Curator, err)
		}
	}
	return sigs, r.rules.VerifyEntry(policy, s, k, e)
}
