package p2p

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/bignet"
	"github.com/openledger/openledger/storage"
)

// registryIndex is the SyncIndex of a real registry, as the daemon's.
type registryIndex struct{ r *datanet.Registry }

func (x registryIndex) SyncBuckets(ctx context.Context, dn cid.Cid, level, from, to int, fn func(int, [32]byte, uint64) error) error {
	return x.r.SyncBucketRange(ctx, dn, level, from, to, func(b int, sb datanet.SyncBucket) error {
		return fn(b, sb.Sum, sb.Count)
	})
}

func (x registryIndex) SyncKeys(ctx context.Context, dn cid.Cid, from [32]byte, within int, fn func([32]byte, cid.Cid) (bool, error)) error {
	return x.r.SyncKeys(ctx, dn, from, within, fn)
}

func (registryIndex) Datanets(context.Context) ([]cid.Cid, error) { return nil, nil }

func newBenchRegistry(tb testing.TB) *datanet.Registry {
	tb.Helper()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(tb.TempDir(), "store")))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	r, err := datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestReconcileOverRegistry: reconciliations over two real registries'
// sync indexes find exactly the objects one holds and the other lacks.
func TestReconcileOverRegistry(t *testing.T) {
	a, b := newBenchRegistry(t), newBenchRegistry(t)
	var onlyA []cid.Cid
	net := bignet.Generate(t, 400, bignet.Options{Seed: 9, Workers: 1}, func(it bignet.Item) error {
		if _, err := a.Put(context.Background(), it.Data); err != nil {
			return err
		}
		if it.Vote == 1 && it.Contribution%37 == 0 {
			c, err := datanet.ObjectCID(it.Data)
			onlyA = append(onlyA, c)
			return err
		}
		_, err := b.Put(context.Background(), it.Data)
		return err
	})
	ctx := context.Background()
	va := &indexView{ctx: ctx, idx: registryIndex{a}, set: net.ID}
	vb := &indexView{ctx: ctx, idx: registryIndex{b}, set: net.ID}
	for _, tc := range []struct {
		name       string
		ini, resp  view
		have, need []cid.Cid
	}{
		{"a initiates", va, vb, onlyA, nil},
		{"b initiates", vb, va, nil, onlyA},
	} {
		have, need, rounds, n := runReconcileOn(t, tc.ini, tc.resp, rangeBudget)
		if !slices.Equal(sortedKeys(have), sortedKeys(tc.have)) || !slices.Equal(sortedKeys(need), sortedKeys(tc.need)) {
			t.Errorf("%s: have %d need %d, want %d and %d", tc.name, len(have), len(need), len(tc.have), len(tc.need))
		}
		t.Logf("%s: %d objects, %d differ: %d rounds, %d bytes", tc.name, net.Objects, len(onlyA), rounds, n)
	}
}

// BenchmarkReconcileRegistry: one reconciliation of two registries'
// sync sets of size objects (size/3 contributions and their votes) that
// differ in 10 votes, read from their indexes. B/op is what a session
// allocates, whatever the size of the set. size=100000 needs
// OPENLEDGER_BIG=1 (building two registries of 100,000 objects takes a
// minute or two).
func BenchmarkReconcileRegistry(b *testing.B) {
	for _, size := range []int{1000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			if size > 10_000 && os.Getenv("OPENLEDGER_BIG") == "" {
				b.Skip("set OPENLEDGER_BIG=1")
			}
			ra, rb := newBenchRegistry(b), newBenchRegistry(b)
			n := size / 3
			var skipped atomic.Int32
			net := bignet.Generate(b, n, bignet.Options{Seed: 10}, func(it bignet.Item) error {
				if _, err := ra.Put(context.Background(), it.Data); err != nil {
					return err
				}
				if it.Vote == 1 && it.Contribution%(n/10) == 0 && skipped.Add(1) <= 10 {
					return nil
				}
				_, err := rb.Put(context.Background(), it.Data)
				return err
			})
			ctx := context.Background()
			va := &indexView{ctx: ctx, idx: registryIndex{ra}, set: net.ID}
			vb := &indexView{ctx: ctx, idx: registryIndex{rb}, set: net.ID}
			benchReconcile(b, va, vb)
		})
	}
}
