package datanet

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// Page sizes of the lists: a list call returns at most MaxPage items, and
// DefaultPage when the caller gives no limit.
const (
	DefaultPage = 100
	MaxPage     = 1000
)

// PageLimit returns the page size for a requested limit: DefaultPage for 0
// or less, at most MaxPage.
func PageLimit(limit int) int {
	if limit <= 0 {
		return DefaultPage
	}
	return min(limit, MaxPage)
}

// Counts is what the index counts of a Datanet.
type Counts struct {
	Pending     uint64 `json:"pending"`
	Accepted    uint64 `json:"accepted"`
	Rejected    uint64 `json:"rejected"`
	Expired     uint64 `json:"expired"`
	NotAdmitted uint64 `json:"not_admitted,omitempty"`
	Votes       uint64 `json:"votes"`
	Bytes       uint64 `json:"bytes"`
	Snapshots   uint64 `json:"snapshots"`
}

// Contributions is the number of contributions held.
func (c Counts) Contributions() uint64 {
	return c.Pending + c.Accepted + c.Rejected + c.Expired + c.NotAdmitted
}

// ByStatus returns the count of status st.
func (c Counts) ByStatus(st Status) uint64 {
	switch st {
	case Pending:
		return c.Pending
	case Accepted:
		return c.Accepted
	case Rejected:
		return c.Rejected
	case Expired:
		return c.Expired
	}
	return 0
}

// current brings dn's index up to date before a read: statuses decided
// under the current version, and the windows closed by now applied.
func (r *Registry) current(ctx context.Context, dn cid.Cid) error {
	if err := r.rebuildIfStale(ctx, dn); err != nil {
		return err
	}
	r.indexMu.RLock()
	defer r.indexMu.RUnlock()
	return r.sweep(ctx, dn)
}

// Counts returns the counts of the Datanet dn, in time independent of its
// size.
func (r *Registry) Counts(ctx context.Context, dn cid.Cid) (Counts, error) {
	if err := r.current(ctx, dn); err != nil {
		return Counts{}, err
	}
	r.indexMu.RLock()
	defer r.indexMu.RUnlock()
	var out Counts
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		for _, f := range []struct {
			counter byte
			dst     *uint64
		}{
			{byte(Pending), &out.Pending}, {byte(Accepted), &out.Accepted}, {byte(Rejected), &out.Rejected},
			{byte(Expired), &out.Expired}, {byte(notAdmitted), &out.NotAdmitted},
			{countVotes, &out.Votes}, {countBytes, &out.Bytes}, {countSnapshots, &out.Snapshots},
		} {
			n, err := getCount(tx, countKey(dn, f.counter))
			if err != nil {
				return err
			}
			*f.dst = n
		}
		return nil
	})
	return out, err
}

// ContributionRef is a contribution as the index lists it.
type ContributionRef struct {
	CID     cid.Cid
	Datanet cid.Cid
	Created int64
	Root    [32]byte
	Size    uint64
	Status  Status
	Approve uint64 // counted approving weight
	Reject  uint64 // counted rejecting weight
}

// Contribution returns the index's record of the contribution c, with an
// error wrapping storage.ErrNotFound if it is not held.
func (r *Registry) ContributionRef(ctx context.Context, c cid.Cid) (ContributionRef, error) {
	r.indexMu.RLock()
	defer r.indexMu.RUnlock()
	var ref ContributionRef
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		rec, err := contribRecordOf(tx, c)
		ref = refOf(c, rec)
		return err
	})
	return ref, err
}

func refOf(c cid.Cid, rec contribRecord) ContributionRef {
	return ContributionRef{CID: c, Datanet: rec.Datanet, Created: rec.Created, Root: rec.Root, Size: rec.Size,
		Status: rec.Status, Approve: rec.Approve, Reject: rec.Reject}
}

// ContributionsByStatus lists up to limit (PageLimit) contributions of dn
// with status st, oldest first (then by CID bytes), starting after the
// contribution after (cid.Undef: from the first). It reads one page of the
// index, whatever the Datanet's size.
func (r *Registry) ContributionsByStatus(ctx context.Context, dn cid.Cid, st Status, after cid.Cid, limit int) ([]ContributionRef, error) {
	return r.ContributionsPage(ctx, dn, &st, after, limit)
}

// ContributionsPage is ContributionsByStatus for the status *st, or for
// every contribution whatever its status when st is nil.
func (r *Registry) ContributionsPage(ctx context.Context, dn cid.Cid, st *Status, after cid.Cid, limit int) ([]ContributionRef, error) {
	if err := r.current(ctx, dn); err != nil {
		return nil, err
	}
	limit = PageLimit(limit)
	r.indexMu.RLock()
	defer r.indexMu.RUnlock()
	prefix := ixKey(ixAll, dn.Bytes())
	place := func(created int64, c cid.Cid) []byte { return allKey(dn, created, c) }
	var start []byte
	floor, known := r.pendingFrom(dn)
	fromFloor := st != nil && *st == Pending && !after.Defined()
	if st != nil {
		prefix = ixKey(ixStatus, dn.Bytes(), []byte{byte(*st)})
		place = func(created int64, c cid.Cid) []byte { return statusKey(dn, *st, created, c) }
		if fromFloor && known {
			start = place(floor.created, cid.Undef) // past the deleted keys of decided ones
		}
	}
	var out []ContributionRef
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		if after.Defined() {
			rec, err := contribRecordOf(tx, after)
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w: cursor %s is not a contribution held here", ErrBadInput, after)
			}
			if err != nil {
				return err
			}
			// Just past the cursor's place, whatever its status now.
			start = append(place(rec.Created, after), 0)
		}
		return tx.Scan(prefix, start, false, func(key, _ []byte) (bool, error) {
			rest := key[len(prefix):]
			c, err := cid.Cast(rest[8:])
			if err != nil {
				return false, fmt.Errorf("%w: status index entry: %w", storage.ErrCorrupt, err)
			}
			rec, err := contribRecordOf(tx, c)
			if err != nil {
				return false, err
			}
			out = append(out, refOf(c, rec))
			return len(out) < limit, nil
		})
	})
	if err == nil && fromFloor {
		// The scan started below every pending contribution: its first
		// is the floor (none: no pending contribution at all).
		next := pendingFloor{created: math.MaxInt64, tight: true, gen: floor.gen}
		if len(out) > 0 {
			next.created = out[0].Created
		}
		r.setPendingFloor(dn, next)
	}
	return out, err
}

// CountedVotes returns the votes that count on contribution c, one per
// curator, as the index holds them.
func (r *Registry) CountedVotes(ctx context.Context, c cid.Cid) ([]*Vote, error) {
	r.indexMu.RLock()
	defer r.indexMu.RUnlock()
	var votes []*Vote
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		rec, err := contribRecordOf(tx, c)
		if errors.Is(err, storage.ErrNotFound) {
			return nil // not indexed: no vote counted yet
		}
		if err != nil {
			return err
		}
		votes, _, err = r.countedVotes(ctx, tx, rec.Counted)
		return err
	})
	return votes, err
}

// SnapshotsPage lists up to limit (PageLimit) snapshots of dn by version,
// then CID bytes, starting after the snapshot after (cid.Undef: from the
// first; newest first when reverse is set).
func (r *Registry) SnapshotsPage(ctx context.Context, dn, after cid.Cid, limit int, reverse bool) ([]SnapshotRef, error) {
	limit = PageLimit(limit)
	var start []byte
	if after.Defined() {
		s, err := r.Snapshot(ctx, after)
		if err != nil {
			return nil, fmt.Errorf("%w: cursor %s: %w", ErrBadInput, after, err)
		}
		start = ixKey(ixSnapshot, dn.Bytes(), be64(s.Version), after.Bytes())
		if !reverse {
			start = append(start, 0)
		}
	}
	prefix := ixKey(ixSnapshot, dn.Bytes())
	ids, err := r.scanCIDs(ctx, prefix, start, reverse, limit+1, func(rest []byte) []byte { return rest[8:] })
	if err != nil {
		return nil, err
	}
	if reverse && after.Defined() && len(ids) > 0 && ids[0].Equals(after) {
		ids = ids[1:]
	}
	ids = ids[:min(len(ids), limit)]
	out := make([]SnapshotRef, 0, len(ids))
	for _, c := range ids {
		s, err := r.Snapshot(ctx, c)
		if IsNotFound(err) {
			continue // collected
		}
		if err != nil {
			return nil, err
		}
		out = append(out, SnapshotRef{CID: c, Snapshot: s})
	}
	return out, nil
}

// DatanetsPage lists up to limit (PageLimit) Datanets held here, oldest
// first (by the first version's creation, then ID bytes), each at its
// current version, starting after the Datanet after (cid.Undef: from the
// first).
func (r *Registry) DatanetsPage(ctx context.Context, after cid.Cid, limit int) ([]DatanetEntry, error) {
	limit = PageLimit(limit)
	var start []byte
	if after.Defined() {
		d, err := r.datanetObject(ctx, after)
		if err != nil {
			return nil, fmt.Errorf("%w: cursor %s: %w", ErrBadInput, after, err)
		}
		start = append(ixKey(ixDatanets, be64(uint64(d.Created)), after.Bytes()), 0)
	}
	ids, err := r.scanCIDs(ctx, []byte{ixDatanets}, start, false, limit, func(rest []byte) []byte { return rest[8:] })
	if err != nil {
		return nil, err
	}
	out := make([]DatanetEntry, 0, len(ids))
	for _, c := range ids {
		h, err := r.Head(ctx, c)
		if missing(err) {
			continue // collected
		}
		if err != nil {
			return nil, err
		}
		out = append(out, DatanetEntry{ID: c, Datanet: h.Datanet})
	}
	return out, nil
}

// ObjectsOfKind lists up to limit (PageLimit) CIDs of stored objects of
// kind, in CID byte order, starting after after (cid.Undef: from the first).
// Votes are not listed by kind: Votes lists a contribution's, IDs a
// Datanet's.
func (r *Registry) ObjectsOfKind(ctx context.Context, kind string, after cid.Cid, limit int) ([]cid.Cid, error) {
	if kind == KindVote {
		return nil, fmt.Errorf("%w: votes are not listed by kind; list a contribution's or a Datanet's", ErrInvalid)
	}
	limit = PageLimit(limit)
	var start []byte
	if after.Defined() {
		start = append(kindKey(kind, after), 0)
	}
	prefix := ixKey(ixKind, []byte(kind), []byte{0})
	return r.scanCIDs(ctx, prefix, start, false, limit, func(rest []byte) []byte { return rest })
}

// forEachOfKind calls fn with every stored object of kind, in CID byte
// order, a page of the index at a time.
func forEachOfKind[O Object](ctx context.Context, r *Registry, kind string, fn func(cid.Cid, O) error) error {
	after := cid.Undef
	for {
		ids, err := r.ObjectsOfKind(ctx, kind, after, MaxPage)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, c := range ids {
			obj, err := objectOf[O](ctx, r, c)
			if IsNotFound(err) {
				continue // collected
			}
			if err != nil {
				return err
			}
			if err := fn(c, obj); err != nil {
				return err
			}
		}
		after = ids[len(ids)-1]
	}
}

// scanCIDs returns up to limit CIDs read from the keys under prefix from
// start, cid picking the CID's bytes out of the rest of each key.
func (r *Registry) scanCIDs(ctx context.Context, prefix, start []byte, reverse bool, limit int, cidOf func(rest []byte) []byte) ([]cid.Cid, error) {
	var out []cid.Cid
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, start, reverse, func(key, _ []byte) (bool, error) {
			rest := key[len(prefix):]
			c, err := cid.Cast(cidOf(rest))
			if err != nil {
				return false, fmt.Errorf("%w: index entry %x: %w", storage.ErrCorrupt, key, err)
			}
			out = append(out, c)
			return len(out) < limit, nil
		})
	})
	return out, err
}
