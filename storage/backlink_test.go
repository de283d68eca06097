package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

func TestBacklinks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		shard := mustPutShard(t, s, []byte("shard"))
		_, absent := testObject("absent") // linked, never stored
		datanet := mustPutObject(t, s, "datanet")
		contribution := mustPutObject(t, s, "contribution", datanet, shard)
		vote1 := mustPutObject(t, s, "vote1", datanet, contribution, absent)
		vote2 := mustPutObject(t, s, "vote2", datanet, contribution, contribution)
		vote3 := mustPutObject(t, s, "vote3", datanet)

		wantBacklinks(t, s, datanet, contribution, vote1, vote2, vote3)
		wantBacklinks(t, s, contribution, vote1, vote2)
		wantBacklinks(t, s, absent, vote1)
		wantBacklinks(t, s, vote1)
		wantBacklinks(t, s, cid.Undef)
		// A shard's backlinks come from its r keys.
		wantBacklinks(t, s, shard, contribution)

		// Putting again with more links indexes the new ones, keeps the old.
		mustPutObject(t, s, "vote3", contribution, datanet)
		wantBacklinks(t, s, contribution, vote1, vote2, vote3)
		wantBacklinks(t, s, datanet, contribution, vote1, vote2, vote3)

		// One b key per distinct link between objects; none for the shard.
		if n, want := countPrefix(t, s, prefixBacklink), 1+3+2+2; n != want {
			t.Fatalf("%d b keys, want %d", n, want)
		}

		stop := errors.New("stop")
		calls := 0
		err := s.ForEachBacklink(ctx, datanet, func(cid.Cid) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("ForEachBacklink with fn failing = %v after %d calls, want stop after 1", err, calls)
		}
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.Backlinks(canceled, datanet)
		wantErr(t, err, context.Canceled)
	})
}

// TestBacklinksUnlisted: links an ObjectPut names Unlisted get no b key,
// in a put of many, a put of one and a session's commit, and stay in the
// record (Links); the other links are listed as before.
func TestBacklinksUnlisted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		datanet := mustPutObject(t, s, "datanet")
		contribution := mustPutObject(t, s, "contribution", datanet)
		vote1, c1 := testObject("vote1")
		vote2, c2 := testObject("vote2")
		links := []cid.Cid{datanet, contribution}
		err := s.PutObjectsIndexed(ctx, []ObjectPut{
			{CID: c1, Data: vote1, Links: links, Pin: true, Unlisted: []cid.Cid{datanet}},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutObjectIndexed(ctx, ObjectPut{CID: c2, Data: vote2, Links: links, Unlisted: []cid.Cid{datanet}}, nil); err != nil {
			t.Fatal(err)
		}
		sess, err := s.NewSession(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		vote3, c3 := testObject("vote3")
		if err := sess.CommitIndexed(ctx, ObjectPut{CID: c3, Data: vote3, Links: links, Pin: true, Unlisted: []cid.Cid{datanet}}, nil); err != nil {
			t.Fatal(err)
		}
		wantBacklinks(t, s, datanet, contribution)
		wantBacklinks(t, s, contribution, c1, c2, c3)
		for _, c := range []cid.Cid{c1, c2, c3} {
			got, err := s.Links(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, links, cid.Cid.Equals) {
				t.Fatalf("Links(%s) = %v, want %v", c, got, links)
			}
		}
	})
}

func TestBacklinksGC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		datanet := mustPutObject(t, s, "datanet")
		contribution := mustPutObject(t, s, "contribution", datanet, mustPutShard(t, s, []byte("shard")))
		kept := mustPutObject(t, s, "kept vote", datanet, contribution)
		swept := mustPutObject(t, s, "swept vote", datanet, contribution)
		if err := s.Pin(ctx, kept); err != nil {
			t.Fatal(err)
		}

		res, err := s.GC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.ObjectsRemoved != 1 {
			t.Fatalf("GC = %+v, want the unpinned vote removed", res)
		}
		if ok, _ := s.HasObject(ctx, swept); ok {
			t.Fatal("unpinned vote survived GC")
		}
		wantBacklinks(t, s, contribution, kept)
		wantBacklinks(t, s, datanet, contribution, kept)
		if n := countPrefix(t, s, prefixBacklink); n != 3 {
			t.Fatalf("%d b keys after GC, want 3", n)
		}

		if err := s.Unpin(ctx, kept); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GC(ctx); err != nil {
			t.Fatal(err)
		}
		wantBacklinks(t, s, datanet)
		for _, p := range []byte{prefixBacklink, prefixShardRef, prefixObjectRecord, prefixObjectData} {
			if n := countPrefix(t, s, p); n != 0 {
				t.Fatalf("%d %q keys left after GC of everything", n, p)
			}
		}
	})
}

func TestBacklinksSessionCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		datanet := mustPutObject(t, s, "datanet")
		ss := mustNewSession(t, s, 0)
		shard, err := ss.PutShard(ctx, []byte("shard"))
		if err != nil {
			t.Fatal(err)
		}
		data, contribution := testObject("contribution")
		if err := ss.Commit(ctx, contribution, data, []cid.Cid{shard, datanet}, true); err != nil {
			t.Fatal(err)
		}
		wantBacklinks(t, s, datanet, contribution)
		wantBacklinks(t, s, shard, contribution)
		if n := countPrefix(t, s, prefixBacklink); n != 1 {
			t.Fatalf("%d b keys, want 1: shard links are not in the b index", n)
		}
	})
}

// TestPutObjectRestoresBacklinks simulates a GC sweep cut short by a crash
// after it deleted an object's bytes and references but not its record:
// storing the object again restores its references.
func TestPutObjectRestoresBacklinks(t *testing.T) {
	s := openStore(t, Config{InMemory: true})
	datanet := mustPutObject(t, s, "datanet")
	shard := mustPutShard(t, s, []byte("shard"))
	vote := mustPutObject(t, s, "vote", datanet, shard)
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{objectDataKey(vote), backlinkKey(datanet, vote), shardRefKey(shard.Hash(), vote)} {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustPutObject(t, s, "vote", datanet, shard)
	wantBacklinks(t, s, datanet, vote)
	wantBacklinks(t, s, shard, vote)
}

// TestUpgradeFromSchema1 opens a store written with schema version 1 (no b
// keys) and checks that Open indexes the links, also after an upgrade cut
// short, and that the store then has the current version.
func TestUpgradeFromSchema1(t *testing.T) {
	tests := []struct {
		name string
		// partial keeps the b keys of the first vote, as an upgrade
		// interrupted after writing them leaves the store.
		partial bool
	}{
		{"fresh", false},
		{"interrupted", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s, err := Open(DefaultConfig(dir))
			if err != nil {
				t.Fatal(err)
			}
			shard := mustPutShard(t, s, []byte("shard"))
			datanet := mustPutObject(t, s, "datanet")
			contribution := mustPutObject(t, s, "contribution", datanet, shard)
			var votes []cid.Cid
			for i := range 50 {
				votes = append(votes, mustPutObject(t, s, fmt.Sprintf("vote %d", i), datanet, contribution))
			}
			if err := s.Pin(ctx, contribution); err != nil {
				t.Fatal(err)
			}
			downgradeToSchema1(t, s)
			if tt.partial {
				rawPut(t, s, backlinkKey(datanet, votes[0]), nil)
				rawPut(t, s, backlinkKey(contribution, votes[0]), nil)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = openStore(t, DefaultConfig(dir))
			wantBacklinks(t, s, contribution, votes...)
			wantBacklinks(t, s, datanet, append(votes, contribution)...)
			wantBacklinks(t, s, shard, contribution)
			if n, want := countPrefix(t, s, prefixBacklink), 1+2*len(votes); n != want {
				t.Fatalf("%d b keys after upgrade, want %d", n, want)
			}
			if v := readSchemaVersion(t, s); v != schemaVersion {
				t.Fatalf("schema version %d after upgrade, want %d", v, schemaVersion)
			}
			// The upgraded store works as a new one: GC keeps what the pin
			// reaches and drops the b keys of what it sweeps.
			if _, err := s.GC(ctx); err != nil {
				t.Fatal(err)
			}
			wantBacklinks(t, s, contribution)
			wantBacklinks(t, s, datanet, contribution)
		})
	}
}

// TestUpgradeFromSchema2 opens a store of schema version 2 (no g keys):
// Open writes version 3 and keeps every key, so a build of version 2 (which
// would not keep what g keys keep) refuses the store from then on.
func TestUpgradeFromSchema2(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, DefaultConfig(dir))
	datanet := mustPutObject(t, s, "datanet")
	contribution := mustPutObject(t, s, "contribution", datanet)
	if err := s.Pin(ctx, contribution); err != nil {
		t.Fatal(err)
	}
	rawPut(t, s, versionKey(), binary.AppendUvarint(nil, 2))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, DefaultConfig(dir))
	if v := readSchemaVersion(t, s); v != 3 {
		t.Fatalf("schema version %d after upgrade, want 3", v)
	}
	wantBacklinks(t, s, datanet, contribution)
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []cid.Cid{datanet, contribution} {
		if ok, err := s.HasObject(ctx, c); err != nil || !ok {
			t.Fatalf("HasObject(%s) after upgrade and GC = %v, %v", c, ok, err)
		}
	}
}

// downgradeToSchema1 turns s into a store as schema version 1 wrote it:
// the same keys without the b keys, and version 1.
func downgradeToSchema1(t *testing.T, s *Store) {
	t.Helper()
	if err := s.db.DropPrefix([]byte{prefixBacklink}); err != nil {
		t.Fatalf("drop b keys: %v", err)
	}
	rawPut(t, s, versionKey(), binary.AppendUvarint(nil, 1))
}

func readSchemaVersion(t *testing.T, s *Store) uint64 {
	t.Helper()
	var v uint64
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(versionKey())
		if err != nil {
			return err
		}
		return item.Value(func(b []byte) error {
			var n int
			if v, n = binary.Uvarint(b); n <= 0 {
				return fmt.Errorf("malformed version %x", b)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read schema version: %v", err)
	}
	return v
}

// mustPutObject stores the object testObject(name) with links and returns
// its CID.
func mustPutObject(t testing.TB, s *Store, name string, links ...cid.Cid) cid.Cid {
	t.Helper()
	data, c := testObject(name)
	if err := s.PutObject(context.Background(), c, data, links); err != nil {
		t.Fatalf("PutObject(%s): %v", name, err)
	}
	return c
}

// wantBacklinks checks that Backlinks(target) is want in CID byte order.
func wantBacklinks(t *testing.T, s *Store, target cid.Cid, want ...cid.Cid) {
	t.Helper()
	got, err := s.Backlinks(context.Background(), target)
	if err != nil {
		t.Fatalf("Backlinks(%s): %v", target, err)
	}
	want = slices.Clone(want)
	slices.SortFunc(want, func(a, b cid.Cid) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
	if !slices.EqualFunc(got, want, cid.Cid.Equals) {
		t.Fatalf("Backlinks(%s) = %v, want %v", target, got, want)
	}
}

// BenchmarkBacklinks lists the votes linking one contribution in a store
// on disk that holds size such votes, after a reopen (so the keys are in
// Badger's tables, not its memtable).
func BenchmarkBacklinks(b *testing.B) {
	for _, size := range []int{100, 10_000} {
		b.Run(sizeName(size), func(b *testing.B) {
			s, contribution := backlinkBenchStore(b, size)
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.Backlinks(context.Background(), contribution)
				if err != nil || len(got) != size {
					b.Fatalf("Backlinks = %d CIDs, %v; want %d", len(got), err, size)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/backlink")
		})
	}
}

// BenchmarkForEachBacklink is BenchmarkBacklinks without collecting a
// slice.
func BenchmarkForEachBacklink(b *testing.B) {
	for _, size := range []int{100, 10_000} {
		b.Run(sizeName(size), func(b *testing.B) {
			s, contribution := backlinkBenchStore(b, size)
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				err := s.ForEachBacklink(context.Background(), contribution, func(cid.Cid) error {
					n++
					return nil
				})
				if err != nil || n != size {
					b.Fatalf("ForEachBacklink = %d CIDs, %v; want %d", n, err, size)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/backlink")
		})
	}
}

// backlinkBenchStore returns a store on disk holding a Datanet, a
// contribution and n votes linking both, reopened, and the contribution.
func backlinkBenchStore(b *testing.B, n int) (*Store, cid.Cid) {
	b.Helper()
	dir := b.TempDir()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	datanet := mustPutObject(b, s, "datanet")
	contribution := mustPutObject(b, s, "contribution", datanet)
	for i := range n {
		mustPutObject(b, s, fmt.Sprintf("vote %d", i), datanet, contribution)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return openStore(b, DefaultConfig(dir)), contribution
}
