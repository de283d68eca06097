package daemon

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// objectNeeds lists what must be stored before obj can be, level by level:
// the objects of a level need nothing but objects of earlier levels (or
// stored already), so a fetch stores each level many at once, in any
// order. A level is read as the fetch goes and may read objects stored by
// earlier levels (r), so a snapshot of a million contributions is never
// listed in memory. What it leaves out is not lost: the fetch then
// follows what Put reports missing (datanet.MissingCIDs), only slower.
func objectNeeds(ctx context.Context, r *datanet.Registry, obj datanet.Object) []iter.Seq2[cid.Cid, error] {
	if s, ok := obj.(*datanet.Snapshot); ok {
		return snapshotNeeds(ctx, r, s)
	}
	var links []cid.Cid
	for _, l := range obj.Links() {
		if l.Prefix().Codec != cid.Raw && !slices.ContainsFunc(links, l.Equals) {
			links = append(links, l)
		}
	}
	return []iter.Seq2[cid.Cid, error]{cidValues(links)}
}

// snapshotNeeds is what a snapshot needs, in the order to store it: its
// Datanet and the version whose policy decided, then the previous
// snapshot (with what that one needs), then its entry tree one level at a
// time from the root (each level reading the chunks the one before stored,
// through r), then the contributions its leaves list. It is the one place
// that knows the snapshot format: the rest of the fetch (providers, the
// batch fetch, the order of storing, progress) does not. Evidence votes are
// inside the leaves, so they are not fetched.
func snapshotNeeds(ctx context.Context, r *datanet.Registry, s *datanet.Snapshot) []iter.Seq2[cid.Cid, error] {
	first := []cid.Cid{s.Datanet}
	if s.Policy.Defined() && !s.Policy.Equals(s.Datanet) {
		first = append(first, s.Policy)
	}
	levels := []iter.Seq2[cid.Cid, error]{cidValues(first)}
	if s.Prev.Defined() {
		levels = append(levels, cidValues([]cid.Cid{s.Prev}))
	}
	levels = append(levels, cidValues([]cid.Cid{s.Entries}))
	// The chunks of the level being listed; once they are leaves, the
	// contributions they hold are the last level.
	cur := []cid.Cid{s.Entries}
	var leaves []cid.Cid
	for range datanet.MaxChunkLevel {
		levels = append(levels, func(yield func(cid.Cid, error) bool) {
			var next []cid.Cid
			for _, c := range cur {
				ch, err := r.SnapshotChunk(ctx, c)
				if err != nil {
					yield(cid.Undef, fmt.Errorf("snapshot chunk %s: %w", c, err))
					return
				}
				if ch.Level == 0 {
					leaves = cur
					cur = nil
					return
				}
				for _, ref := range ch.Chunks {
					next = append(next, ref.Chunk)
					if !yield(ref.Chunk, nil) {
						return
					}
				}
			}
			cur = next
		})
	}
	return append(levels, func(yield func(cid.Cid, error) bool) {
		if leaves == nil {
			leaves = cur // a tree deeper than MaxChunkLevel: Put will say
		}
		for _, c := range leaves {
			ch, err := r.SnapshotChunk(ctx, c)
			if err != nil {
				yield(cid.Undef, fmt.Errorf("snapshot chunk %s: %w", c, err))
				return
			}
			for _, e := range ch.Entries {
				if !yield(e.Contribution, nil) {
					return
				}
			}
		}
	})
}

// datanetOf returns the Datanet an object belongs to, when the object
// names it.
func datanetOf(obj datanet.Object) cid.Cid {
	switch o := obj.(type) {
	case *datanet.Snapshot:
		return o.Datanet
	case *datanet.Contribution:
		return o.Datanet
	case *datanet.Vote:
		return o.Datanet
	}
	return cid.Undef
}
