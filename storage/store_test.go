package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

func TestOpenConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"no dir", Config{}, false},
		{"negative quota", Config{InMemory: true, QuotaBytes: -1}, false},
		{"memory", Config{InMemory: true}, true},
		{"memory ignores dir", Config{InMemory: true, Dir: "/nonexistent/x"}, true},
		{"disk", DefaultConfig(t.TempDir()), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("Open = %v, want ok=%v", err, tt.ok)
			}
			if err == nil {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestOpenRefusesOtherSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		version []byte
	}{
		{"0", binary.AppendUvarint(nil, 0)},
		{"next", binary.AppendUvarint(nil, schemaVersion+1)},
		{"99", binary.AppendUvarint(nil, 99)},
		{"empty", []byte{}},
		{"malformed", []byte{0xff}},
		{"trailing bytes", append(binary.AppendUvarint(nil, schemaVersion), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(DefaultConfig(dir))
			if err != nil {
				t.Fatal(err)
			}
			rawPut(t, s, versionKey(), tt.version)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err := Open(DefaultConfig(dir)); err == nil {
				_ = s.Close()
				t.Fatalf("Open accepted schema version %x", tt.version)
			} else if !strings.Contains(err.Error(), "schema version") {
				t.Fatalf("Open = %v, want a schema version error", err)
			}
		})
	}
}

func TestOpenTwiceIsRefused(t *testing.T) {
	dir := t.TempDir()
	openStore(t, DefaultConfig(dir))
	if s, err := Open(DefaultConfig(dir)); err == nil {
		_ = s.Close()
		t.Fatal("a second Open of the same directory succeeded")
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	c := mustPutShard(t, s, []byte("x"))
	ss := mustNewSession(t, s, 0)
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	_, data := testObject("o")
	calls := []struct {
		name string
		err  error
	}{
		{"GetShard", func() error { _, err := s.GetShard(ctx, c); return err }()},
		{"PutShard", func() error { _, err := s.PutShard(ctx, []byte("y")); return err }()},
		{"HasShard", func() error { _, err := s.HasShard(ctx, c); return err }()},
		{"Pin", s.Pin(ctx, c)},
		{"Pins", func() error { _, err := s.Pins(ctx); return err }()},
		{"GC", func() error { _, err := s.GC(ctx); return err }()},
		{"Verify", func() error { _, err := s.Verify(ctx, nil); return err }()},
		{"Stat", func() error { _, err := s.Stat(ctx); return err }()},
		{"NewSession", func() error { _, err := s.NewSession(ctx, 0); return err }()},
		{"Session.PutShard", func() error { _, err := ss.PutShard(ctx, []byte("y")); return err }()},
		{"Session.Chunk", func() error { _, err := ss.Chunk(ctx, strings.NewReader("y"), MinChunkSize, nil); return err }()},
		{"Session.Commit", ss.Commit(ctx, data, []byte("object:o"), nil, false)},
		{"Session.Abort", ss.Abort()},
		{"NewFileReader", func() error { _, err := s.NewFileReader(ctx, []cid.Cid{c}, MinChunkSize, 1); return err }()},
		{"Backlinks", func() error { _, err := s.Backlinks(ctx, c); return err }()},
	}
	for _, call := range calls {
		if !errors.Is(call.err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", call.name, call.err)
		}
	}
}

func TestShards(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		for _, data := range [][]byte{{}, []byte("hello world"), randBytes(2, DefaultChunkSize), randBytes(3, MaxChunkSize)} {
			c := mustPutShard(t, s, data)
			if !c.Equals(ShardCID(data)) {
				t.Fatalf("PutShard = %s, want %s", c, ShardCID(data))
			}
			used, _ := s.Usage()
			if again := mustPutShard(t, s, data); !again.Equals(c) {
				t.Fatalf("second PutShard = %s, want %s", again, c)
			}
			if used2, _ := s.Usage(); used2 != used {
				t.Fatalf("storing a stored shard moved usage from %d to %d", used, used2)
			}
			got, err := s.GetShard(ctx, c)
			if err != nil {
				t.Fatalf("GetShard: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("GetShard returned %d different bytes", len(got))
			}
			mustHaveShard(t, s, c, true)
			// Any CID with the same multihash names the same shard.
			if got, err := s.GetShard(ctx, cid.NewCidV1(cid.DagCBOR, c.Hash())); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GetShard by another codec: %v", err)
			}
		}
		checkUsage(t, s)

		missing := ShardCID([]byte("missing"))
		mustHaveShard(t, s, missing, false)
		_, err := s.GetShard(ctx, missing)
		wantErr(t, err, ErrNotFound)
		_, err = s.GetShard(ctx, cid.Undef)
		wantErr(t, err, ErrNotFound)

		_, err = s.PutShard(ctx, make([]byte, MaxChunkSize+1))
		wantErr(t, err, ErrChunkSize)
	})
}

func TestObjects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		shard := ShardCID([]byte("shard"))
		childData, child := testObject("child")
		data, c := testObject("parent")

		if err := s.PutObject(ctx, child, childData, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.PutObject(ctx, c, data, []cid.Cid{shard, child, shard}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetObject(ctx, c)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GetObject = %q, %v", got, err)
		}
		links, err := s.Links(ctx, c)
		if err != nil || !slices.EqualFunc(links, []cid.Cid{shard, child}, cid.Cid.Equals) {
			t.Fatalf("Links = %v, %v; want [%s %s]", links, err, shard, child)
		}
		// Putting again adds new links and keeps the old ones.
		other := ShardCID([]byte("other"))
		if err := s.PutObject(ctx, c, data, []cid.Cid{other}); err != nil {
			t.Fatal(err)
		}
		if links, _ := s.Links(ctx, c); len(links) != 3 {
			t.Fatalf("Links after a second put = %v, want 3 links", links)
		}
		if ok, err := s.HasObject(ctx, c); !ok || err != nil {
			t.Fatalf("HasObject = %v, %v", ok, err)
		}

		_, missing := testObject("missing")
		if ok, err := s.HasObject(ctx, missing); ok || err != nil {
			t.Fatalf("HasObject(missing) = %v, %v", ok, err)
		}
		_, err = s.GetObject(ctx, missing)
		wantErr(t, err, ErrNotFound)
		_, err = s.Links(ctx, missing)
		wantErr(t, err, ErrNotFound)

		sha512, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_512, MhLength: -1}.Sum(data)
		if err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			name  string
			c     cid.Cid
			links []cid.Cid
		}{
			{"wrong data", child, nil},
			{"raw codec", ObjectCID(cid.Raw, data), nil},
			{"undefined", cid.Undef, nil},
			{"undefined link", c, []cid.Cid{cid.Undef}},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				wantErr(t, s.PutObject(ctx, b.c, data, b.links), ErrBadCID)
			})
		}
		// Another hash function is fine if it matches.
		if err := s.PutObject(ctx, sha512, data, nil); err != nil {
			t.Fatalf("PutObject with sha2-512: %v", err)
		}
		if got, err := s.GetObject(ctx, sha512); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GetObject sha2-512: %v", err)
		}

		var seen []cid.Cid
		err = s.ForEachObject(ctx, func(c cid.Cid, data []byte) error {
			if !bytes.HasPrefix(data, []byte("object:")) {
				t.Errorf("ForEachObject gave %s data %q", c, data)
			}
			seen = append(seen, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []cid.Cid{child, c, sha512}
		slices.SortFunc(want, func(a, b cid.Cid) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
		if !slices.EqualFunc(seen, want, cid.Cid.Equals) {
			t.Fatalf("ForEachObject saw %v, want %v (CID byte order)", seen, want)
		}
		stop := errors.New("stop")
		if err := s.ForEachObject(ctx, func(cid.Cid, []byte) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("ForEachObject = %v, want the callback's error", err)
		}
	})
}

func TestPins(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		shard := mustPutShard(t, s, []byte("shard"))
		data, obj := testObject("o")
		if err := s.PutObject(ctx, obj, data, []cid.Cid{shard}); err != nil {
			t.Fatal(err)
		}
		_, missing := testObject("missing")
		wantErr(t, s.Pin(ctx, missing), ErrNotFound)
		wantErr(t, s.Pin(ctx, ShardCID([]byte("missing"))), ErrNotFound)
		wantErr(t, s.Pin(ctx, cid.Undef), ErrNotFound)
		wantErr(t, s.Unpin(ctx, obj), ErrNotFound)

		for _, c := range []cid.Cid{obj, shard, obj} {
			if err := s.Pin(ctx, c); err != nil {
				t.Fatalf("Pin(%s): %v", c, err)
			}
		}
		pins, err := s.Pins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []cid.Cid{obj, shard}
		slices.SortFunc(want, func(a, b cid.Cid) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
		if !slices.EqualFunc(pins, want, cid.Cid.Equals) {
			t.Fatalf("Pins = %v, want %v", pins, want)
		}
		first, err := s.PinsPage(ctx, cid.Undef, 1)
		if err != nil || !slices.EqualFunc(first, want[:1], cid.Cid.Equals) {
			t.Fatalf("PinsPage(first, 1) = %v, %v; want %v", first, err, want[:1])
		}
		rest, err := s.PinsPage(ctx, first[0], 10)
		if err != nil || !slices.EqualFunc(rest, want[1:], cid.Cid.Equals) {
			t.Fatalf("PinsPage(after %s) = %v, %v; want %v", first[0], rest, err, want[1:])
		}
		if end, err := s.PinsPage(ctx, want[1], 10); err != nil || len(end) != 0 {
			t.Fatalf("PinsPage after the last = %v, %v", end, err)
		}
		if ok, err := s.IsPinned(ctx, obj); !ok || err != nil {
			t.Fatalf("IsPinned = %v, %v", ok, err)
		}
		if err := s.Unpin(ctx, obj); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.IsPinned(ctx, obj); ok || err != nil {
			t.Fatalf("IsPinned after Unpin = %v, %v", ok, err)
		}
		wantErr(t, s.Unpin(ctx, obj), ErrNotFound)
	})
}

func TestVerifyAndCorruption(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		good := randBytes(10, 5000)
		victim := randBytes(11, 5000)
		mustPutShard(t, s, good)
		bad := mustPutShard(t, s, victim)
		objData, obj := testObject("o")
		if err := s.PutObject(ctx, obj, objData, nil); err != nil {
			t.Fatal(err)
		}

		res, err := s.Verify(ctx, nil)
		if err != nil || len(res.Faults) != 0 || res.Shards != 2 || res.Objects != 1 || res.Bytes != 10000+int64(len(objData)) {
			t.Fatalf("Verify of a clean store = %+v, %v", res, err)
		}

		// Damage the shard and the object behind the store's back.
		damaged := slices.Clone(victim)
		damaged[100] ^= 1
		rawPut(t, s, shardDataKey(bad.Hash()), damaged)
		rawPut(t, s, objectDataKey(obj), []byte("object:tampered"))

		var progressed int64
		res, err = s.Verify(ctx, func(n int64) { progressed += n })
		if err != nil {
			t.Fatal(err)
		}
		if progressed != res.Bytes {
			t.Fatalf("progress summed to %d, result says %d bytes", progressed, res.Bytes)
		}
		if len(res.Faults) != 2 {
			t.Fatalf("Verify faults = %v, want the shard and the object", res.Faults)
		}
		for _, f := range res.Faults {
			wantErr(t, f, ErrCorrupt)
			switch f.Kind {
			case FaultShard:
				if !f.CID.Equals(bad) {
					t.Fatalf("shard fault names %s, want %s", f.CID, bad)
				}
			case FaultObject:
				if !f.CID.Equals(obj) {
					t.Fatalf("object fault names %s, want %s", f.CID, obj)
				}
			default:
				t.Fatalf("fault kind %q", f.Kind)
			}
			if !strings.Contains(f.Error(), f.CID.String()) {
				t.Fatalf("fault %q does not name its CID", f.Error())
			}
		}

		_, err = s.GetShard(ctx, bad)
		wantErr(t, err, ErrCorrupt)
		if !strings.Contains(err.Error(), bad.String()) {
			t.Fatalf("GetShard error %q does not name the shard", err)
		}
		_, err = s.GetObject(ctx, obj)
		wantErr(t, err, ErrCorrupt)
		wantErr(t, s.ForEachObject(ctx, func(cid.Cid, []byte) error { return nil }), ErrCorrupt)

		// Storing good copies again repairs both.
		mustPutShard(t, s, victim)
		if err := s.PutObject(ctx, obj, objData, nil); err != nil {
			t.Fatal(err)
		}
		if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) != 0 {
			t.Fatalf("Verify after repair = %+v, %v", res, err)
		}

		// A shard whose data is gone but whose size record remains.
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(shardDataKey(bad.Hash())) }); err != nil {
			t.Fatal(err)
		}
		res, err = s.Verify(ctx, nil)
		if err != nil || len(res.Faults) != 1 || !errors.Is(res.Faults[0], ErrNotFound) {
			t.Fatalf("Verify with missing data = %+v, %v", res, err)
		}
	})
}

func TestStat(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{InMemory: true, QuotaBytes: 1 << 20})
	mustPutShard(t, s, make([]byte, 1000))
	mustPutShard(t, s, make([]byte, 2000))
	data, obj := testObject("o")
	if err := s.PutObject(ctx, obj, data, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Pin(ctx, obj); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{Shards: 2, Objects: 1, Pins: 1, ShardBytes: 3000, ObjectBytes: int64(len(data)), QuotaBytes: 1 << 20}
	if st != want {
		t.Fatalf("Stat = %+v, want %+v", st, want)
	}
}

func TestUsageSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	mustPutShard(t, s, make([]byte, 1234))
	mustPutShard(t, s, randBytes(1, 4321))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, DefaultConfig(dir))
	if used, _ := s.Usage(); used != 1234+4321 {
		t.Fatalf("usage after reopen = %d, want %d", used, 1234+4321)
	}
}

func TestUnverifiedReadAndVerifiedPut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		data := randBytes(20, 3000)
		c := ShardCID(data)
		if err := s.PutVerifiedShard(ctx, c, data); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetShard(ctx, c); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GetShard after PutVerifiedShard: %v", err)
		}
		if err := s.PutVerifiedShard(ctx, ObjectCID(cid.DagCBOR, data), data); !errors.Is(err, ErrBadCID) {
			t.Fatalf("PutVerifiedShard with a dag-cbor CID: %v", err)
		}
		// The unverified read returns stored bytes as they are; the
		// verified one refuses them.
		damaged := slices.Clone(data)
		damaged[7] ^= 1
		rawPut(t, s, shardDataKey(c.Hash()), damaged)
		if got, err := s.ReadShardUnverified(ctx, c); err != nil || !bytes.Equal(got, damaged) {
			t.Fatalf("ReadShardUnverified: %v", err)
		}
		if _, err := s.GetShard(ctx, c); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("GetShard of damaged shard: %v", err)
		}
		if _, err := s.ReadShardUnverified(ctx, ShardCID([]byte("absent"))); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ReadShardUnverified of an absent shard: %v", err)
		}
	})
}
