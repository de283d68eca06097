package datanet

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/ipfs/go-cid"

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
	fromIndex := false
	// A node that holds no vote of the Datanet (one that fetches the
	// snapshot alone) has no decision of its index that proves an entry
	// and no evidence vote checked when stored: it reads neither (at 10^6
	// entries, 3·10^6 reads that find nothing, 4 % of a fetch's CPU).
	lookup := !full
	if lookup {
		var votes uint64
		err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			var err error
			votes, err = getCount(tx, countKey(s.Datanet, countVotes))
			return err
		})
		if err != nil {
			return rep, err
		}
		lookup = votes > 0
	}
	if lookup {
		if under, err := r.talliedUnder(ctx, s.Datanet); err == nil && under.Equals(s.Policy) {
			fromIndex = true
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
	if made, ok := ctx.Value(cutLeavesKey{}).(map[cid.Cid]bool); ok && !full {
		for c := range made {
			known[c] = true
		}
	}
	refs, err := r.snapshotLeaves(ctx, s)
	if err != nil {
		return rep, err
	}
	// Each leaf is read, decoded and its entries checked on every core, a
	// few leaves ahead; what needs them all (duplicates, the root, the
	// counts) is done in order as their results come.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // guards missing
	missing := &MissingError{What: "contribution"}
	type leafResult struct {
		cids      []cid.Cid
		digests   [][32]byte
		merkle    []proofs.Hash
		votes     uint64
		checked   bool
		sigs      int
		fromIndex int
		err       error
	}
	check := func(ref ChunkRef) leafResult {
		c, err := r.chunk(ctx, ref.Chunk)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return leafResult{err: missingObject("snapshot chunk", ref.Chunk)}
		case err != nil:
			return leafResult{err: err}
		case c.Level != 0:
			return leafResult{err: fmt.Errorf("%w: chunk %s is at level %d among leaves", ErrBadSnapshot, ref.Chunk, c.Level)}
		}
		if err := checkTotals(ref, c); err != nil {
			return leafResult{err: err}
		}
		var out leafResult
		for _, e := range c.Entries {
			digest, err := objectDigest(e.Contribution)
			if err != nil {
				return leafResult{err: fmt.Errorf("%w: chunk %s: %w", ErrBadSnapshot, ref.Chunk, err)}
			}
			out.cids = append(out.cids, e.Contribution)
			out.digests = append(out.digests, digest)
			out.merkle = append(out.merkle, proofs.ContributionLeaf(digest, [32]byte(e.Root)))
			out.votes += uint64(len(e.Votes))
		}
		if known[ref.Chunk] {
			return out
		}
		out.checked = true
		var indexedAs []indexed
		if fromIndex {
			cs := make([]cid.Cid, len(c.Entries))
			for i, e := range c.Entries {
				cs[i] = e.Contribution
			}
			if indexedAs, _, err = r.indexedEntries(ctx, cs); err != nil {
				return leafResult{err: err}
			}
		}
		proven := make([]bool, len(c.Entries)) // proves hashes the votes: once an entry
		for i := range c.Entries {
			proven[i] = indexedAs != nil && indexedAs[i].proves(s.Datanet, &c.Entries[i])
		}
		badVotes, sigs, err := r.evidenceSignatures(ctx, c.Entries, proven, !lookup)
		out.sigs = sigs
		if err != nil {
			return leafResult{err: err}
		}
		for i := range c.Entries {
			if proven[i] {
				out.fromIndex++
				continue
			}
			if err := r.verifyEntry(ctx, policy, s, &c.Entries[i], badVotes[i], missing, &mu); err != nil {
				return leafResult{err: err}
			}
		}
		return out
	}
	seen := make(map[[32]byte]struct{}, s.Count)
	leaves := make([]proofs.Hash, 0, s.Count)
	take := func(ref ChunkRef, ch chan leafResult) error {
		res := <-ch
		if res.err != nil {
			return res.err
		}
		rep.Leaves++
		if res.checked {
			rep.Checked++
		}
		rep.Signatures += res.sigs
		rep.FromIndex += res.fromIndex
		rep.Votes += res.votes
		for i, d := range res.digests {
			if _, dup := seen[d]; dup {
				return fmt.Errorf("%w: chunk %s: contribution %s is listed twice", ErrBadSnapshot, ref.Chunk, res.cids[i])
			}
			seen[d] = struct{}{}
			leaves = append(leaves, res.merkle[i])
			rep.Entries++
		}
		return nil
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	type pending struct {
		ref ChunkRef
		ch  chan leafResult
	}
	var queue []pending
	for _, ref := range refs {
		ch := make(chan leafResult, 1)
		queue = append(queue, pending{ref, ch})
		go func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				ch <- leafResult{err: ctx.Err()}
				return
			}
			ch <- check(ref)
		}()
		if len(queue) > 2*cap(sem) {
			if err := take(queue[0].ref, queue[0].ch); err != nil {
				return rep, err
			}
			queue = queue[1:]
		}
	}
	for _, p := range queue {
		if err := take(p.ref, p.ch); err != nil {
			return rep, err
		}
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

// badVote is an evidence vote whose signature does not check, and why.
type badVote struct {
	vote *Vote
	err  error
}

// evidenceSignatures checks together (Registry.verifyObjects) the
// signatures of the evidence votes of the entries not proven, all of them
// when all is set and otherwise those not held here (checked when
// stored). It returns, by entry, its first vote that fails, and how many
// signatures it checked.
func (r *Registry) evidenceSignatures(ctx context.Context, entries []SnapshotEntry, proven []bool, all bool) (map[int]badVote, int, error) {
	var objs []Object
	var sigs [][]byte
	var owner []int
	for i := range entries {
		if proven[i] {
			continue
		}
		for _, v := range entries[i].Votes {
			if !all {
				vc, err := v.CID()
				if err != nil {
					return nil, 0, err
				}
				if held, err := r.store.HasObject(ctx, vc); err != nil {
					return nil, 0, err
				} else if held {
					continue // checked when it was stored
				}
			}
			objs = append(objs, v)
			sigs = append(sigs, v.Signature)
			owner = append(owner, i)
		}
	}
	bad := map[int]badVote{}
	for k, err := range r.verifyObjects(objs, sigs) {
		if _, seen := bad[owner[k]]; err != nil && !seen {
			bad[owner[k]] = badVote{objs[k].(*Vote), err}
		}
	}
	return bad, len(objs), nil
}

// verifyEntry checks one entry: its contribution (added to missing when
// not held), its votes' signatures (bad is the first that failed, from
// evidenceSignatures), and the curation rules.
func (r *Registry) verifyEntry(ctx context.Context, policy *Datanet, s *Snapshot, e *SnapshotEntry, bad badVote, missing *MissingError, mu *sync.Mutex) error {
	k, err := r.Contribution(ctx, e.Contribution)
	if errors.Is(err, storage.ErrNotFound) {
		mu.Lock()
		if len(missing.CIDs) < maxMissingNamed {
			missing.CIDs = append(missing.CIDs, e.Contribution)
		}
		mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	if bad.err != nil {
		return fmt.Errorf("%w: contribution %s: evidence vote by %s: %w", ErrBadSnapshot, e.Contribution, bad.vote.Curator, bad.err)
	}
	return r.rules.VerifyEntry(policy, s, k, e)
}
