package datastore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	dstest "github.com/ipfs/go-datastore/test"

	"github.com/openledger/openledger/storage"
)

func openStore(t testing.TB, dir string) *storage.Store {
	t.Helper()
	s, err := storage.Open(storage.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newDatastore(t testing.TB, s *storage.Store, ns string) *Datastore {
	t.Helper()
	d, err := New(s, ns)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSuite runs go-datastore's own test suite against a Datastore on a
// real Badger store.
func TestSuite(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	defer s.Close()
	dstest.SubtestAll(t, newDatastore(t, s, "/suite"))
}

// TestNamespacesAndRestart: two namespaces do not see each other's keys,
// a query reads across pages, and what was written is there after the
// store is closed and opened again.
func TestNamespacesAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	a, b := newDatastore(t, s, "/a"), newDatastore(t, s, "/ab")
	n := 3*queryPage + 7
	batch, err := a.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := batch.Put(ctx, ds.NewKey(fmt.Sprintf("/k/%05d", i)), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, ds.NewKey("/k/00001"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	a, b = newDatastore(t, s, "/a"), newDatastore(t, s, "/ab")
	count := func(d *Datastore, prefix string) int {
		res, err := d.Query(ctx, dsq.Query{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		all, err := res.Rest()
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	if got := count(a, "/k"); got != n {
		t.Errorf("a holds %d keys after a restart, want %d", got, n)
	}
	if got := count(b, "/"); got != 1 {
		t.Errorf("b holds %d keys, want 1", got)
	}
	if got := count(a, "/k/0000"); got != 0 {
		t.Errorf("prefix /k/0000: %d keys, want none (a prefix is a path: /k/0000 is not a parent of /k/00001)", got)
	}
	if v, err := b.Get(ctx, ds.NewKey("/k/00001")); err != nil || string(v) != "b" {
		t.Errorf("b's key: %q %v", v, err)
	}
	if _, err := New(s, "dht"); err == nil {
		t.Error("a namespace without a leading slash was accepted")
	}
}
