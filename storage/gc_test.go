package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestGC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		const chunk = MinChunkSize
		shared := randBytes(1, chunk)

		// add commits a contribution of shared + its own data, pinned or not.
		add := func(name string, own []byte, pin bool) (cid.Cid, []cid.Cid) {
			t.Helper()
			ss := mustNewSession(t, s, 0)
			refs, err := ss.Chunk(ctx, bytes.NewReader(append(bytes.Clone(shared), own...)), chunk, nil)
			if err != nil {
				t.Fatal(err)
			}
			data, obj := testObject(name)
			if err := ss.Commit(ctx, obj, data, cidsOf(refs), pin); err != nil {
				t.Fatal(err)
			}
			return obj, cidsOf(refs)
		}
		pinnedObj, pinnedShards := add("pinned", randBytes(2, 2*chunk), true)
		unpinnedObj, unpinnedShards := add("unpinned", randBytes(3, 3*chunk), false)

		// A pinned parent object reaching a child object and its shard.
		leaf := mustPutShard(t, s, []byte("leaf"))
		childData, child := testObject("child")
		if err := s.PutObject(ctx, child, childData, []cid.Cid{leaf}); err != nil {
			t.Fatal(err)
		}
		parentData, parent := testObject("parent")
		if err := s.PutObject(ctx, parent, parentData, []cid.Cid{child, ShardCID([]byte("not held here"))}); err != nil {
			t.Fatal(err)
		}
		if err := s.Pin(ctx, parent); err != nil {
			t.Fatal(err)
		}
		loose := mustPutShard(t, s, []byte("loose"))
		pinnedShard := mustPutShard(t, s, []byte("pinned shard"))
		if err := s.Pin(ctx, pinnedShard); err != nil {
			t.Fatal(err)
		}
		// Shards held by an open session survive GC.
		open := mustNewSession(t, s, 0)
		held, err := open.PutShard(ctx, []byte("held by an open session"))
		if err != nil {
			t.Fatal(err)
		}

		res, err := s.GC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Removed: the unpinned contribution's own 3 shards (not the shared
		// one), its object, and the loose shard.
		want := GCResult{ShardsRemoved: 4, ObjectsRemoved: 1, BytesFreed: 3*chunk + int64(len("loose")+len("object:unpinned"))}
		if res != want {
			t.Fatalf("GC = %+v, want %+v", res, want)
		}
		for _, c := range append(pinnedShards, leaf, pinnedShard, held) {
			mustHaveShard(t, s, c, true)
		}
		mustHaveShard(t, s, unpinnedShards[0], true) // shared with the pinned one
		for _, c := range append(unpinnedShards[1:], loose) {
			mustHaveShard(t, s, c, false)
		}
		for c, want := range map[cid.Cid]bool{pinnedObj: true, unpinnedObj: false, parent: true, child: true} {
			if ok, _ := s.HasObject(ctx, c); ok != want {
				t.Fatalf("HasObject(%s) = %v after GC, want %v", c, ok, want)
			}
		}
		checkUsage(t, s)
		if n := countPrefix(t, s, prefixShardRef); n != len(pinnedShards)+2 {
			t.Fatalf("%d shard references after GC, want %d", n, len(pinnedShards)+2)
		}

		// Unpinning lets the next GC take the rest, but not the shared shard
		// of a still pinned object.
		if err := open.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := s.Unpin(ctx, pinnedObj); err != nil {
			t.Fatal(err)
		}
		if err := s.Unpin(ctx, pinnedShard); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GC(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range append(pinnedShards, pinnedShard, held) {
			mustHaveShard(t, s, c, false)
		}
		mustHaveShard(t, s, leaf, true)
		st, err := s.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Shards != 1 || st.Objects != 2 || st.Pins != 1 {
			t.Fatalf("Stat after GC = %+v, want the parent, child and leaf", st)
		}
		checkUsage(t, s)
		if res, err := s.GC(ctx); err != nil || res != (GCResult{}) {
			t.Fatalf("GC with nothing to do = %+v, %v", res, err)
		}
		if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) != 0 {
			t.Fatalf("Verify after GC = %+v, %v", res, err)
		}
	})
}

func TestGCCanceled(t *testing.T) {
	s := openStore(t, Config{InMemory: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.GC(ctx)
	wantErr(t, err, context.Canceled)
	_, err = s.Verify(ctx, nil)
	wantErr(t, err, context.Canceled)
}

// TestGCReclaimsDisk checks that GC gives disk space back in a running
// store, and that GC can still do so after a restart.
func TestGCReclaimsDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 600 MiB")
	}
	const live = 8 << 20
	for _, reopen := range []bool{false, true} {
		t.Run(fmt.Sprintf("reopen=%v", reopen), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s, err := Open(DefaultConfig(dir))
			if err != nil {
				t.Fatal(err)
			}
			keep := storedFile(t, s, randBytes(1, live), DefaultChunkSize)
			ss := mustNewSession(t, s, 0)
			if _, err := ss.Chunk(ctx, bytes.NewReader(randBytes(3, 300<<20)), DefaultChunkSize, nil); err != nil {
				t.Fatal(err)
			}
			if err := ss.Abort(); err != nil {
				t.Fatal(err)
			}
			if reopen {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s = openStore(t, DefaultConfig(dir))
			} else {
				t.Cleanup(func() { _ = s.Close() })
			}
			before := dirSize(t, dir)
			if _, err := s.GC(ctx); err != nil {
				t.Fatal(err)
			}
			after := dirSize(t, dir)
			t.Logf("store directory: %d MiB before GC, %d MiB after", before>>20, after>>20)
			if after > before/3 {
				t.Fatalf("GC left %d MiB on disk for %d MiB of live data", after>>20, live>>20)
			}
			r, err := s.NewFileReader(ctx, keep, DefaultChunkSize, live)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, r); err != nil || n != live {
				t.Fatalf("live data after GC: %d bytes, %v", n, err)
			}
		})
	}
}

// TestGCKeptBy checks ObjectPut.KeptBy: an object is kept while the one it
// is kept by is, through chains and a restart, whatever a later put of it
// says; an unkept keeper takes its dependents with it; KeptBy must be an
// object among the links.
func TestGCKeptBy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, DefaultConfig(dir))
	put := func(name string, pin bool, keptBy cid.Cid, links ...cid.Cid) cid.Cid {
		t.Helper()
		data, c := testObject(name)
		if err := s.PutObjectIndexed(ctx, ObjectPut{CID: c, Data: data, Links: links, Pin: pin, KeptBy: keptBy}, nil); err != nil {
			t.Fatal(err)
		}
		return c
	}
	keeper := put("keeper", true, cid.Undef)
	leaf := mustPutShard(t, s, []byte("leaf of a kept object"))
	kept := put("kept by the keeper", false, keeper, keeper, leaf)
	chained := put("kept by a kept object", false, kept, kept)
	loose := put("not pinned", false, cid.Undef)
	dropped := put("kept by an object nothing keeps", false, loose, loose)
	// Stored first without KeptBy, then with it: the record takes it.
	late := put("kept from its second put", false, cid.Undef, keeper)
	put("kept from its second put", false, keeper, keeper)
	// Stored again without it: the record keeps it.
	put("kept by the keeper", false, cid.Undef, keeper, leaf)

	for _, p := range []ObjectPut{
		{KeptBy: loose},                        // not a link
		{KeptBy: leaf, Links: []cid.Cid{leaf}}, // a shard
	} {
		p.Data, p.CID = testObject("bad keeper")
		if err := s.PutObjectIndexed(ctx, p, nil); !errors.Is(err, ErrBadCID) {
			t.Fatalf("put kept by %s: %v, want ErrBadCID", p.KeptBy, err)
		}
	}
	if pinned, err := s.IsPinned(ctx, kept); err != nil || pinned {
		t.Fatalf("IsPinned of a kept object = %v, %v", pinned, err)
	}
	gcKeeps := func(want map[cid.Cid]bool) {
		t.Helper()
		if _, err := s.GC(ctx); err != nil {
			t.Fatal(err)
		}
		for c, want := range want {
			if c.Type() == cid.Raw {
				mustHaveShard(t, s, c, want)
			} else if ok, err := s.HasObject(ctx, c); err != nil || ok != want {
				t.Fatalf("HasObject(%s) after GC = %v, %v; want %v", c, ok, err, want)
			}
		}
	}
	gcKeeps(map[cid.Cid]bool{keeper: true, kept: true, leaf: true, chained: true, late: true, loose: false, dropped: false})

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, DefaultConfig(dir))
	gcKeeps(map[cid.Cid]bool{keeper: true, kept: true, leaf: true, chained: true, late: true})
	if err := s.Unpin(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	gcKeeps(map[cid.Cid]bool{keeper: false, kept: false, leaf: false, chained: false, late: false})
}

// BenchmarkGC runs GC over a store of size "contributions" (pinned objects
// linking to a "Datanet"), two "votes" each and size/10 unpinned objects
// (collected by the first run): votes kept by their contribution (the
// registry's, keptBy=true: a second pass over the records) or pinned
// (before). ns/op is one GC with nothing left to collect after the first;
// objects/s counts the objects held.
func BenchmarkGC(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		for _, keptBy := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/keptBy=%v", n, keptBy), func(b *testing.B) {
				ctx := context.Background()
				s := openStore(b, DefaultConfig(b.TempDir()))
				dnData, dn := testObject("gc bench datanet")
				var puts []ObjectPut
				flush := func() {
					if err := s.PutObjectsIndexed(ctx, puts, nil); err != nil {
						b.Fatal(err)
					}
					puts = puts[:0]
				}
				puts = append(puts, ObjectPut{CID: dn, Data: dnData, Pin: true})
				for i := range n {
					kData, k := testObject(fmt.Sprintf("contribution %d", i))
					puts = append(puts, ObjectPut{CID: k, Data: kData, Links: []cid.Cid{dn}, Pin: true})
					for j := range 2 {
						vData, v := testObject(fmt.Sprintf("vote %d on %d", j, i))
						p := ObjectPut{CID: v, Data: vData, Links: []cid.Cid{dn, k}, Pin: !keptBy}
						if keptBy {
							p.KeptBy = k
						}
						puts = append(puts, p)
					}
					if i%10 == 0 {
						gData, g := testObject(fmt.Sprintf("garbage %d", i))
						puts = append(puts, ObjectPut{CID: g, Data: gData, Links: []cid.Cid{dn}})
					}
					if len(puts) >= 256 {
						flush()
					}
				}
				flush()
				for b.Loop() {
					if _, err := s.GC(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(1+3*n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
			})
		}
	}
}
