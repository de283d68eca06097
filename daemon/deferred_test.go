package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/openledger/openledger/p2p"
	"github.com/openledger/openledger/storage"
)

func newTestDeferred(t *testing.T, limit int64) (*deferredStore, *time.Time) {
	t.Helper()
	s, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := newDeferredStore(s, limit)
	now := time.Unix(1_700_000_000, 0)
	d.now = func() time.Time { return now }
	return d, &now
}

func testObjectCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	mh, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.DagCBOR, mh)
}

func waiting(t *testing.T, d *deferredStore, c cid.Cid) []cid.Cid {
	t.Helper()
	var out []cid.Cid
	if err := d.Waiting(context.Background(), c, func(w cid.Cid) (bool, error) {
		out = append(out, w)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeferredStore(t *testing.T) {
	ctx := context.Background()
	d, now := newTestDeferred(t, 8<<10)
	set, dep := testObjectCID(t, "set"), testObjectCID(t, "dependency")
	vote := p2p.DeferredObject{
		CID: testObjectCID(t, "vote"), Set: set, From: "peer", Data: []byte("vote bytes"),
		Waits: []cid.Cid{dep},
	}
	if kept, err := d.Defer(ctx, vote); err != nil || !kept {
		t.Fatalf("defer: %v %v", kept, err)
	}
	got, ok, err := d.Deferred(ctx, vote.CID)
	if err != nil || !ok {
		t.Fatalf("deferred: %v %v", ok, err)
	}
	if !got.CID.Equals(vote.CID) || !got.Set.Equals(set) || got.From != "peer" || string(got.Data) != "vote bytes" || !slices.Equal(got.Waits, vote.Waits) {
		t.Errorf("read back %+v, want %+v", got, vote)
	}
	if w := waiting(t, d, dep); len(w) != 1 || !w[0].Equals(vote.CID) {
		t.Errorf("waiting for the dependency: %v", w)
	}

	// Kept again, waiting for something else: the old wait is gone.
	other := testObjectCID(t, "other dependency")
	vote.Waits = []cid.Cid{other}
	if _, err := d.Defer(ctx, vote); err != nil {
		t.Fatal(err)
	}
	if w := waiting(t, d, dep); len(w) != 0 {
		t.Errorf("still waiting for the old dependency: %v", w)
	}
	if w := waiting(t, d, other); len(w) != 1 {
		t.Errorf("waiting for the new dependency: %v", w)
	}
	if err := d.Undefer(ctx, vote.CID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.Deferred(ctx, vote.CID); ok {
		t.Error("kept after Undefer")
	}
	if w := waiting(t, d, other); len(w) != 0 {
		t.Errorf("waits left after Undefer: %v", w)
	}
	if n, err := d.bytes(ctx); err != nil || n != 0 {
		t.Errorf("%d bytes counted with nothing kept (%v)", n, err)
	}

	// The cap: the oldest go first, and the count stays within it.
	var kept []cid.Cid
	for i := range 40 {
		*now = now.Add(time.Second)
		o := p2p.DeferredObject{CID: testObjectCID(t, fmt.Sprint("filler ", i)), Set: set, Data: make([]byte, 500), Waits: []cid.Cid{dep}}
		ok, err := d.Defer(ctx, o)
		if err != nil || !ok {
			t.Fatalf("defer %d: %v %v", i, ok, err)
		}
		kept = append(kept, o.CID)
		if n, _ := d.bytes(ctx); n > 8<<10 {
			t.Fatalf("%d bytes counted, cap %d", n, 8<<10)
		}
	}
	w := waiting(t, d, dep)
	if len(w) == 0 || len(w) >= 40 {
		t.Fatalf("%d of 40 kept under the cap", len(w))
	}
	for i, c := range kept {
		_, ok, _ := d.Deferred(ctx, c)
		if want := i >= len(kept)-len(w); ok != want {
			t.Errorf("filler %d kept %v, want %v (the newest %d stay)", i, ok, want, len(w))
		}
	}
	if ok, err := d.Defer(ctx, p2p.DeferredObject{CID: testObjectCID(t, "huge"), Data: make([]byte, 9<<10)}); err != nil || ok {
		t.Errorf("an object larger than the cap: kept %v, %v", ok, err)
	}

	// Past their time they are gone, and dropped at the next Defer.
	*now = now.Add(DeferredTTL + time.Minute)
	if _, ok, _ := d.Deferred(ctx, kept[len(kept)-1]); ok {
		t.Error("an object past its time is still returned")
	}
	if _, err := d.Defer(ctx, p2p.DeferredObject{CID: testObjectCID(t, "fresh"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if w := waiting(t, d, dep); len(w) != 0 {
		t.Errorf("%d expired objects still waiting", len(w))
	}
}

// TestDeferredStoreNames: a store opened again finds what was kept before
// (its filter of names is filled from disk), and once every object is
// undeferred or evicted the filter holds no name, so reads of objects that
// were never deferred cost nothing.
func TestDeferredStoreNames(t *testing.T) {
	ctx := context.Background()
	d, _ := newTestDeferred(t, 64<<10)
	var objs []p2p.DeferredObject
	for i := range 100 {
		objs = append(objs, p2p.DeferredObject{
			CID: testObjectCID(t, fmt.Sprint("object ", i)), Data: []byte("bytes"),
			Waits: []cid.Cid{testObjectCID(t, fmt.Sprint("dependency ", i))},
		})
		if kept, err := d.Defer(ctx, objs[i]); err != nil || !kept {
			t.Fatalf("defer %d: %v %v", i, kept, err)
		}
	}
	again := newDeferredStore(d.s, d.limit)
	again.now = d.now
	for i, o := range objs {
		if _, ok, err := again.Deferred(ctx, o.CID); err != nil || !ok {
			t.Fatalf("object %d not found by the store opened again (%v)", i, err)
		}
		if w := waiting(t, again, o.Waits[0]); len(w) != 1 {
			t.Fatalf("object %d: %d waiting in the store opened again", i, len(w))
		}
	}
	// Half undeferred, then some evicted by an object too large for what
	// is left, the others undeferred.
	for _, o := range objs[:50] {
		if err := again.Undefer(ctx, o.CID); err != nil {
			t.Fatal(err)
		}
	}
	big := p2p.DeferredObject{CID: testObjectCID(t, "big"), Data: make([]byte, 60<<10)}
	if kept, err := again.Defer(ctx, big); err != nil || !kept {
		t.Fatalf("defer the big one: %v %v", kept, err)
	}
	if err := again.Undefer(ctx, big.CID); err != nil {
		t.Fatal(err)
	}
	evicted := 0
	for _, o := range objs[50:] { // those the big one did not evict
		if _, ok, _ := again.Deferred(ctx, o.CID); !ok {
			evicted++
		}
		if err := again.Undefer(ctx, o.CID); err != nil {
			t.Fatal(err)
		}
	}
	if evicted == 0 {
		t.Fatal("the big object evicted nothing")
	}
	for i, o := range objs {
		for _, c := range (&deferredRecord{DeferredObject: o}).names() {
			if again.names.has(c) {
				t.Fatalf("object %d: %s still in the filter with nothing kept", i, c)
			}
		}
	}
	if n := again.count.Load(); n != 0 {
		t.Errorf("%d objects counted with nothing kept", n)
	}
}
