package bignet_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/bignet"
	"github.com/openledger/openledger/storage"
)

func newRegistry(t testing.TB) *datanet.Registry {
	t.Helper()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg, err := datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestBuild: the objects are accepted by a registry with the curation
// rules, every contribution ends accepted, and the same seed makes the
// same objects.
func TestBuild(t *testing.T) {
	const n = 200
	reg := newRegistry(t)
	start := time.Now()
	net := bignet.Build(t, reg, n, bignet.Options{Seed: 7})
	t.Logf("built %d objects (%d bytes, %.0f B/object) in %v", net.Objects, net.Bytes, float64(net.Bytes)/float64(net.Objects), time.Since(start))
	ctx := context.Background()
	counts, err := reg.Counts(ctx, net.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Accepted != n || counts.Votes != 2*n {
		t.Errorf("counts %+v, want %d accepted and %d votes", counts, n, 2*n)
	}
	var keys int
	err = reg.SyncKeys(ctx, net.ID, [32]byte{}, 0, func([32]byte, cid.Cid) (bool, error) { keys++; return true, nil })
	if err != nil {
		t.Fatal(err)
	}
	if keys != net.Objects {
		t.Errorf("sync set of %d objects, want %d", keys, net.Objects)
	}

	again, objs := bignet.Objects(t, n, bignet.Options{Seed: 7})
	if !again.ID.Equals(net.ID) || len(objs) != net.Objects || again.Bytes != net.Bytes {
		t.Errorf("second build: %s, %d objects, %d bytes; first %s, %d, %d", again.ID, len(objs), again.Bytes, net.ID, net.Objects, net.Bytes)
	}
	for _, it := range objs {
		c, err := datanet.ObjectCID(it.Data)
		if err != nil {
			t.Fatal(err)
		}
		if has, err := reg.Has(ctx, c); err != nil || !has {
			t.Fatalf("object %s of the second build not in the first: %v", c, err)
		}
	}
}

// TestBuildPolicies: other policies, mixed votes and an update that
// appoints a curator are all accepted by a registry, and Objects counts
// them.
func TestBuildPolicies(t *testing.T) {
	for _, opts := range []bignet.Options{
		{Seed: 1, Curators: 1, Quorum: 1, Votes: 1},
		{Seed: 2, Curators: 5, Quorum: 3, Votes: 4, Mixed: true, Window: 3600},
		{Seed: 3, Update: true, Mixed: true},
		{Seed: 4, Votes: -1},
	} {
		reg := newRegistry(t)
		net := bignet.Build(t, reg, 30, opts)
		ctx := context.Background()
		var keys int
		if err := reg.SyncKeys(ctx, net.ID, [32]byte{}, 0, func([32]byte, cid.Cid) (bool, error) { keys++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		if keys != net.Objects {
			t.Errorf("%+v: sync set of %d objects, Objects says %d", opts, keys, net.Objects)
		}
		if opts.Update && !net.Update.Defined() {
			t.Error("no update made")
		}
	}
}
