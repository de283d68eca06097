package daemon

import (
	"context"
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
// snapshot (with what that one needs), then its contributions. It is the
// one place that knows the snapshot format: the rest of the fetch
// (providers, the batch fetch, the order of storing, progress) does not.
//
// The evidence votes are inlined in the snapshot object today, so they are
// not fetched. A format whose entries and votes live in chunk objects
// linked from the snapshot lists the chunks one tree level at a time
// (each level reading the chunks the one before stored, through r), then
// the contributions, then the votes.
func snapshotNeeds(_ context.Context, _ *datanet.Registry, s *datanet.Snapshot) []iter.Seq2[cid.Cid, error] {
	first := []cid.Cid{s.Datanet}
	if s.Policy.Defined() && !s.Policy.Equals(s.Datanet) {
		first = append(first, s.Policy)
	}
	levels := []iter.Seq2[cid.Cid, error]{cidValues(first)}
	if s.Prev.Defined() {
		levels = append(levels, cidValues([]cid.Cid{s.Prev}))
	}
	return append(levels, func(yield func(cid.Cid, error) bool) {
		for _, e := range s.Contributions {
			if !yield(e.Contribution, nil) {
				return
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
