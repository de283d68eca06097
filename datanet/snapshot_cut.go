package datanet

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// CutSnapshot cuts a snapshot of the contributions of the Datanet dn
// accepted at now, with their counted votes as evidence, signs it with
// signer, and stores it with its entry tree (checked as any snapshot is).
// The accepted set and the counted votes come from the index, decided by
// the curation rules (Rules.Tally); nothing loads the whole Datanet.
//
// A cut is incremental: the leaves of the newest snapshot held whose
// entries are all still accepted with the same evidence are reused as they
// are (same chunks, nothing stored or checked again); a leaf with a change
// is rewritten; contributions accepted since are appended in new leaves.
// Every node with the same objects and the same previous snapshot cuts the
// same snapshot, up to the cutter and the signature. It fails with
// ErrEmptySnapshot when nothing is accepted.
func (r *Registry) CutSnapshot(ctx context.Context, dn cid.Cid, signer Signer, now time.Time) (*Snapshot, cid.Cid, CutStats, error) {
	if err := r.current(ctx, dn); err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	head, err := r.Head(ctx, dn)
	if err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	prev, prevCID, err := r.latestSnapshot(ctx, dn)
	if err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	s := &Snapshot{Datanet: dn, Policy: head.CID, Version: 1, ChainID: head.Datanet.ChainID, Created: now.Unix()}
	if prev != nil {
		s.Version, s.Prev = prev.Version+1, prevCID
	}
	cut := &cutter{r: r, ctx: ctx, placed: map[[32]byte]struct{}{}}
	if prev != nil {
		if err := cut.carryAll(prev); err != nil {
			return nil, cid.Undef, CutStats{}, fmt.Errorf("previous snapshot %s: %w", prevCID, err)
		}
	}
	if err := cut.appendNew(dn); err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	if len(cut.merkle) == 0 {
		return nil, cid.Undef, CutStats{}, ErrEmptySnapshot
	}
	nodes, root, err := buildNodes(cut.refs, 0)
	if err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	for _, n := range nodes {
		if err := r.putChunk(ctx, n); err != nil {
			return nil, cid.Undef, CutStats{}, err
		}
	}
	tree, err := proofs.NewTree(cut.merkle)
	if err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	s.Root, s.Count, s.Votes, s.Entries = tree.Root(), root.Count, root.Votes, root.Chunk
	if err := SignSnapshot(s, head.Datanet.ChainID, signer); err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	// Submit checks the snapshot as one from the network, but the leaves
	// this cut wrote from the index are not checked against the index
	// again: only that they hold what the snapshot says (root, counts).
	made := make(map[cid.Cid]bool, len(cut.refs))
	for _, ref := range cut.refs {
		made[ref.Chunk] = true
	}
	ch, err := r.Submit(context.WithValue(ctx, cutLeavesKey{}, made), s)
	if err != nil {
		return nil, cid.Undef, CutStats{}, err
	}
	cut.stats.Leaves = len(cut.refs)
	return s, ch.CID, cut.stats, nil
}

// cutLeavesKey marks the context of the check of a snapshot cut here: its
// value is the set of leaf chunks the cut wrote, which verifySnapshot
// takes as checked (as it takes a previous snapshot's leaves).
type cutLeavesKey struct{}

// CutStats describes a cut.
type CutStats struct {
	Size    uint64 // bytes of the contributions
	Leaves  int    // leaf chunks of the snapshot
	Reused  int    // leaf chunks taken from the previous snapshot as they were
	Written int    // leaf chunks written anew
}

// latestSnapshot returns the newest snapshot of dn held (of two of one
// version, the lower CID), nil if none.
func (r *Registry) latestSnapshot(ctx context.Context, dn cid.Cid) (*Snapshot, cid.Cid, error) {
	page, err := r.SnapshotsPage(ctx, dn, cid.Undef, 16, true)
	if err != nil || len(page) == 0 {
		return nil, cid.Undef, err
	}
	latest := page[0]
	for _, ref := range page[1:] {
		if ref.Snapshot.Version == latest.Snapshot.Version {
			latest = ref // reverse order: a lower CID of the same version
		}
	}
	return latest.Snapshot, latest.CID, nil
}

// cutter builds the leaves of a cut.
type cutter struct {
	r      *Registry
	ctx    context.Context
	refs   []ChunkRef            // the leaves, in order
	merkle []proofs.Hash         // the Merkle leaves of every entry
	placed map[[32]byte]struct{} // digests of the contributions in a leaf
	stats  CutStats
}

// indexed is a contribution as the index holds it now: accepted (and
// admitted), its root and its counted votes by curator.
type indexed struct {
	ok      bool
	datanet cid.Cid
	root    [32]byte
	voteIDs []cid.Cid
}

// proves reports whether the index's decision proves entry e of a snapshot
// of dn: the contribution is dn's, accepted with e's root, from exactly
// e's votes.
func (x indexed) proves(dn cid.Cid, e *SnapshotEntry) bool {
	return x.ok && x.datanet.Equals(dn) && x.root == [32]byte(e.Root) && sameVotes(e.Votes, x.voteIDs)
}

// indexedEntries reads the index's record of each of cs, which names its
// counted votes, and the bytes of those accepted, in one read transaction.
func (r *Registry) indexedEntries(ctx context.Context, cs []cid.Cid) ([]indexed, uint64, error) {
	out := make([]indexed, len(cs))
	var size uint64
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		for i, c := range cs {
			rec, err := contribRecordOf(tx, c)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if rec.Status != Accepted {
				continue
			}
			x := indexed{datanet: rec.Datanet, root: rec.Root, voteIDs: rec.voteIDs()}
			if x.ok = len(x.voteIDs) > 0; x.ok {
				size += rec.Size
			}
			out[i] = x
		}
		return nil
	})
	return out, size, err
}

// entry returns contribution c's entry with the counted votes voteIDs.
func (cut *cutter) entry(c cid.Cid, root [32]byte, voteIDs []cid.Cid) (SnapshotEntry, error) {
	e := SnapshotEntry{Contribution: c, Root: root}
	for _, vc := range voteIDs {
		v, err := objectOf[*Vote](cut.ctx, cut.r, vc)
		if err != nil {
			return SnapshotEntry{}, fmt.Errorf("counted vote %s of %s: %w", vc, c, err)
		}
		e.Votes = append(e.Votes, v)
	}
	SortVotesByCurator(e.Votes) // the index holds them by curator already
	return e, nil
}

// carried is a leaf of the previous snapshot as the cut takes it: as it
// was (same), or the entries that are still accepted, as they are now.
type carried struct {
	ref  ChunkRef
	leaf *SnapshotChunk
	same bool
	kept []SnapshotEntry
	size uint64
	err  error
}

// carryAll takes the leaves of the previous snapshot into the cut, in
// order: each is checked against the index on every core, a few leaves
// ahead, and placed in order (see carry).
func (cut *cutter) carryAll(prev *Snapshot) error {
	leaves, err := cut.r.snapshotLeaves(cut.ctx, prev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cut.ctx)
	defer cancel()
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var queue []chan carried
	take := func(ch chan carried) error {
		c := <-ch
		if c.err != nil {
			return c.err
		}
		cut.stats.Size += c.size
		if c.same {
			cut.refs = append(cut.refs, c.ref)
			cut.stats.Reused++
			return cut.place(c.leaf.Entries)
		}
		return cut.addLeaves(c.kept)
	}
	for _, ref := range leaves {
		ch := make(chan carried, 1)
		queue = append(queue, ch)
		go func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				ch <- carried{err: ctx.Err()}
				return
			}
			ch <- cut.carry(ctx, ref)
		}()
		if len(queue) > 2*cap(sem) {
			if err := take(queue[0]); err != nil {
				return err
			}
			queue = queue[1:]
		}
	}
	for _, ch := range queue {
		if err := take(ch); err != nil {
			return err
		}
	}
	return nil
}

// carry reads a leaf of the previous snapshot and checks each entry
// against the index: the leaf is reused as it is when every entry is still
// accepted with the same evidence; else the entries still accepted are
// kept, as they are now, to be packed into new leaves.
func (cut *cutter) carry(ctx context.Context, ref ChunkRef) carried {
	c, err := cut.r.chunk(ctx, ref.Chunk)
	if err == nil && c.Level != 0 {
		err = fmt.Errorf("%w: chunk %s is at level %d among leaves", ErrBadSnapshot, ref.Chunk, c.Level)
	}
	if err == nil {
		err = checkTotals(ref, c)
	}
	if err != nil {
		return carried{err: err}
	}
	out := carried{ref: ref, leaf: c, same: true}
	cs := make([]cid.Cid, len(c.Entries))
	for i, e := range c.Entries {
		cs[i] = e.Contribution
	}
	states, size, err := cut.r.indexedEntries(ctx, cs)
	if err != nil {
		return carried{err: err}
	}
	out.size = size
	for i, e := range c.Entries {
		x := states[i]
		if !x.ok {
			out.same = false
			continue
		}
		if sameVotes(e.Votes, x.voteIDs) {
			out.kept = append(out.kept, e)
			continue
		}
		out.same = false
		now, err := cut.entry(e.Contribution, x.root, x.voteIDs)
		if err != nil {
			return carried{err: err}
		}
		out.kept = append(out.kept, now)
	}
	return out
}

// appendNew appends the accepted contributions of dn not yet placed, in
// new leaves sorted by CID.
func (cut *cutter) appendNew(dn cid.Cid) error {
	var fresh []cid.Cid
	prefix := ixKey(ixStatus, dn.Bytes(), []byte{byte(Accepted)})
	err := cut.r.store.ViewIndex(cut.ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, nil, false, func(key, _ []byte) (bool, error) {
			c, err := cid.Cast(key[len(prefix)+8:])
			if err != nil {
				return false, fmt.Errorf("%w: status index entry: %w", storage.ErrCorrupt, err)
			}
			digest, err := storage.Digest(c)
			if err != nil {
				return false, err
			}
			if _, ok := cut.placed[digest]; !ok {
				fresh = append(fresh, c)
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	slices.SortFunc(fresh, func(a, b cid.Cid) int { return strings.Compare(a.KeyString(), b.KeyString()) })
	// The entries of a batch (the index, then each counted vote read and
	// decoded) are built on every core, a few batches ahead; the leaves
	// are packed in order, so the cut stays deterministic.
	ctx, cancel := context.WithCancel(cut.ctx)
	defer cancel()
	var batches []chan cutBatch
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for start := 0; start < len(fresh); start += ChunkEntries {
		batch := fresh[start:min(len(fresh), start+ChunkEntries)]
		ch := make(chan cutBatch, 1)
		batches = append(batches, ch)
		go func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				ch <- cutBatch{err: ctx.Err()}
				return
			}
			states, size, err := cut.r.indexedEntries(ctx, batch)
			if err != nil {
				ch <- cutBatch{err: err}
				return
			}
			var entries []SnapshotEntry
			for i, c := range batch {
				if !states[i].ok {
					continue
				}
				e, err := cut.entry(c, states[i].root, states[i].voteIDs)
				if err != nil {
					ch <- cutBatch{err: err}
					return
				}
				entries = append(entries, e)
			}
			ch <- cutBatch{entries: entries, size: size}
		}()
		if len(batches) > 2*cap(sem) { // bound what waits in memory
			if err := cut.take(batches[0]); err != nil {
				return err
			}
			batches = batches[1:]
		}
	}
	for _, ch := range batches {
		if err := cut.take(ch); err != nil {
			return err
		}
	}
	return nil
}

// cutBatch is the entries of a batch of new contributions, built ahead.
type cutBatch struct {
	entries []SnapshotEntry
	size    uint64
	err     error
}

// take waits for a batch built ahead and packs it into leaves.
func (cut *cutter) take(ch chan cutBatch) error {
	b := <-ch
	if b.err != nil {
		return b.err
	}
	cut.stats.Size += b.size
	return cut.addLeaves(b.entries)
}

// addLeaves packs entries (sorted by CID) into new leaves and stores them.
func (cut *cutter) addLeaves(entries []SnapshotEntry) error {
	leaves, err := packLeaves(entries)
	if err != nil {
		return err
	}
	for _, l := range leaves {
		if err := cut.r.putChunk(cut.ctx, l); err != nil {
			return err
		}
		ref, err := refOfChunk(l)
		if err != nil {
			return err
		}
		cut.refs = append(cut.refs, ref)
		cut.stats.Written++
		if err := cut.place(l.Entries); err != nil {
			return err
		}
	}
	return nil
}

// place records entries as placed, with their Merkle leaves.
func (cut *cutter) place(entries []SnapshotEntry) error {
	for _, e := range entries {
		digest, err := objectDigest(e.Contribution)
		if err != nil {
			return err
		}
		cut.placed[digest] = struct{}{}
		cut.merkle = append(cut.merkle, proofs.ContributionLeaf(digest, [32]byte(e.Root)))
	}
	return nil
}

// sameVotes reports whether the evidence votes are the votes ids (both by
// curator).
func sameVotes(votes []*Vote, ids []cid.Cid) bool {
	return slices.EqualFunc(votes, ids, func(v *Vote, id cid.Cid) bool {
		vc, err := v.CID()
		return err == nil && vc.Equals(id)
	})
}

// putChunk stores a chunk made here. Chunks tell no Stored event: the
// snapshot that names them does (it is anchored, gossiped and provided;
// its chunks are fetched through it). They are not pinned on their own: the
// snapshot's recursive pin keeps them.
func (r *Registry) putChunk(ctx context.Context, c *SnapshotChunk) error {
	data, err := c.Encode()
	if err != nil {
		return err
	}
	id := storage.ObjectCID(cid.DagCBOR, data)
	if err := r.store.PutObject(ctx, id, data, c.Links()); err != nil {
		return fmt.Errorf("store snapshot chunk %s: %w", id, err)
	}
	return nil
}

// PutFetched stores object bytes fetched by their CID because something
// held here needs them. A snapshot chunk is checked for its own rules and
// stored (chunks are never gossiped or synced: Check refuses them); any
// other object is put as from the network (Put).
func (r *Registry) PutFetched(ctx context.Context, c cid.Cid, data []byte) (*Checked, error) {
	if got := storage.ObjectCID(cid.DagCBOR, data); !got.Equals(c) {
		return nil, fmt.Errorf("%w: object fetched as %s is %s", storage.ErrBadCID, c, got)
	}
	if k, err := KindOf(data); err == nil && k == KindSnapshotChunk {
		ch, err := DecodeSnapshotChunk(data)
		if err != nil {
			return nil, err
		}
		if err := r.putChunk(ctx, ch); err != nil {
			return nil, err
		}
		return &Checked{CID: c, Object: ch}, nil
	}
	return r.Put(ctx, data)
}

// writeEntryTree stores a whole entry tree over entries (sorted as
// SortEntries sorts them) and returns the root's ref and the entries'
// Merkle root: a snapshot from scratch, as a cut without a previous one
// makes.
func (r *Registry) writeEntryTree(ctx context.Context, entries []SnapshotEntry) (ChunkRef, [32]byte, error) {
	cut := &cutter{r: r, ctx: ctx, placed: map[[32]byte]struct{}{}}
	if err := cut.addLeaves(entries); err != nil {
		return ChunkRef{}, [32]byte{}, err
	}
	if len(cut.refs) == 0 {
		return ChunkRef{}, [32]byte{}, ErrEmptySnapshot
	}
	nodes, root, err := buildNodes(cut.refs, 0)
	if err != nil {
		return ChunkRef{}, [32]byte{}, err
	}
	for _, n := range nodes {
		if err := r.putChunk(ctx, n); err != nil {
			return ChunkRef{}, [32]byte{}, err
		}
	}
	tree, err := proofs.NewTree(cut.merkle)
	if err != nil {
		return ChunkRef{}, [32]byte{}, err
	}
	return root, tree.Root(), nil
}
