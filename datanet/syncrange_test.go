package datanet_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/bignet"
	"github.com/openledger/openledger/storage"
)

// TestSyncBucketRange: the buckets of any range are those of SyncBuckets
// in it, and DatanetIDs lists the Datanets held.
func TestSyncBucketRange(t *testing.T) {
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := bignet.Build(t, r, 60, bignet.Options{Seed: 1})
	bignet.Build(t, r, 5, bignet.Options{Seed: 2}) // another Datanet, whose keys must not show in a's ranges
	all := map[int]datanet.SyncBucket{}
	if err := r.SyncBuckets(ctx, a.ID, func(bk uint16, sb datanet.SyncBucket) error {
		all[int(bk)] = sb
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, rg := range [][2]int{{0, 1 << 16}, {0, 0}, {100, 30000}, {30000, 1 << 16}, {-5, 1 << 20}, {65535, 65536}} {
		got := map[int]datanet.SyncBucket{}
		err := r.SyncBucketRange(ctx, a.ID, datanet.SyncFine, rg[0], rg[1], func(bk int, sb datanet.SyncBucket) error {
			if _, dup := got[bk]; dup {
				t.Errorf("range %v: bucket %d twice", rg, bk)
			}
			got[bk] = sb
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for bk, sb := range all {
			in := bk >= rg[0] && bk < rg[1]
			if g, ok := got[bk]; ok != in || (in && g != sb) {
				t.Errorf("range %v, bucket %d: got %v %v, want in=%v %v", rg, bk, g, ok, in, sb)
			}
		}
		if len(got) > len(all) {
			t.Errorf("range %v: %d buckets, the set has %d", rg, len(got), len(all))
		}
	}
	// The first level: each bucket sums the second-level buckets under it.
	coarse := map[int]datanet.SyncBucket{}
	for bk, sb := range all {
		c := coarse[bk>>8]
		c.Sum, c.Count = datanet.AddSum(c.Sum, sb.Sum), c.Count+sb.Count
		coarse[bk>>8] = c
	}
	for _, rg := range [][2]int{{0, 256}, {0, 0}, {3, 200}, {200, 1 << 16}, {-5, 1 << 20}, {255, 256}} {
		got := map[int]datanet.SyncBucket{}
		err := r.SyncBucketRange(ctx, a.ID, datanet.SyncCoarse, rg[0], rg[1], func(bk int, sb datanet.SyncBucket) error {
			if _, dup := got[bk]; dup || bk > 255 {
				t.Errorf("range %v: first-level bucket %d twice or out of range", rg, bk)
			}
			got[bk] = sb
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for bk, sb := range coarse {
			in := bk >= rg[0] && bk < rg[1]
			if g, ok := got[bk]; ok != in || (in && g != sb) {
				t.Errorf("range %v, first-level bucket %d: got %v %v, want in=%v %v", rg, bk, g, ok, in, sb)
			}
		}
	}
	if err := r.SyncBucketRange(ctx, a.ID, 3, 0, 1, nil); err == nil {
		t.Error("level 3 read without an error")
	}
}
