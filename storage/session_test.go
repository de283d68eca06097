package storage

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

func TestQuota(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		const quota = 10 * MinChunkSize
		cfg.QuotaBytes = quota
		s := openStore(t, cfg)

		// A reservation over the quota is refused before anything is written.
		_, err := s.NewSession(ctx, quota+1)
		wantErr(t, err, ErrQuota)
		if n := countPrefix(t, s, prefixSession); n != 0 {
			t.Fatalf("%d session records after a refused NewSession", n)
		}

		// Reservations count against the quota until used or released.
		ss := mustNewSession(t, s, 6*MinChunkSize)
		_, err = s.NewSession(ctx, 5*MinChunkSize)
		wantErr(t, err, ErrQuota)
		_, err = s.PutShard(ctx, randBytes(1, 5*MinChunkSize))
		wantErr(t, err, ErrQuota)
		if st, _ := s.Stat(ctx); st.Shards != 0 {
			t.Fatalf("%d shards stored after refused writes", st.Shards)
		}

		// The session writes within its reservation, and past it while the
		// quota has room.
		data := randBytes(2, 8*MinChunkSize)
		refs, err := ss.Chunk(ctx, bytes.NewReader(data), MinChunkSize, nil)
		if err != nil {
			t.Fatalf("Chunk within quota: %v", err)
		}
		if used, reserved := s.Usage(); used != 8*MinChunkSize || reserved != 0 {
			t.Fatalf("usage %d, reserved %d; want %d, 0", used, reserved, 8*MinChunkSize)
		}
		// Dedup'ed shards cost nothing.
		if _, err := ss.Chunk(ctx, bytes.NewReader(data), MinChunkSize, nil); err != nil {
			t.Fatalf("Chunk of stored data: %v", err)
		}
		// Past the quota: refused. Shards stored before the refusal stay
		// held by the session.
		_, err = ss.Chunk(ctx, bytes.NewReader(randBytes(3, 3*MinChunkSize)), MinChunkSize, nil)
		wantErr(t, err, ErrQuota)
		if used, _ := s.Usage(); used < 8*MinChunkSize || used > quota {
			t.Fatalf("usage %d after filling the quota, want %d to %d", used, 8*MinChunkSize, quota)
		}
		checkUsage(t, s)

		// Abort gives everything back.
		if err := ss.Abort(); err != nil {
			t.Fatal(err)
		}
		if used, reserved := s.Usage(); used != 0 || reserved != 0 {
			t.Fatalf("after Abort: usage %d, reserved %d", used, reserved)
		}
		mustHaveShard(t, s, refs[0].CID, false)
		checkUsage(t, s)
		ss2 := mustNewSession(t, s, quota)
		if err := ss2.Abort(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSessionCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		ss := mustNewSession(t, s, 1<<20)
		data := randBytes(1, 5*MinChunkSize+1)
		refs, err := ss.Chunk(ctx, bytes.NewReader(data), MinChunkSize, nil)
		if err != nil {
			t.Fatal(err)
		}
		extra, err := ss.PutShard(ctx, []byte("extra"))
		if err != nil {
			t.Fatal(err)
		}
		objData, obj := testObject("contribution")
		links := append(cidsOf(refs), extra)

		// A bad commit changes nothing and leaves the session open.
		wantErr(t, ss.Commit(ctx, obj, []byte("other bytes"), links, true), ErrBadCID)
		if ok, _ := s.HasObject(ctx, obj); ok {
			t.Fatal("object stored by a failed commit")
		}

		if err := ss.Commit(ctx, obj, objData, links, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.Links(ctx, obj)
		if err != nil || len(got) != len(links) {
			t.Fatalf("Links = %v, %v", got, err)
		}
		if ok, _ := s.IsPinned(ctx, obj); !ok {
			t.Fatal("committed object not pinned")
		}
		for _, p := range []byte{prefixSession, prefixSessionShard, prefixShardSession} {
			if n := countPrefix(t, s, p); n != 0 {
				t.Fatalf("%d %q keys left after Commit", n, p)
			}
		}
		if n := countPrefix(t, s, prefixShardRef); n != len(links) {
			t.Fatalf("%d shard references, want %d", n, len(links))
		}
		if _, reserved := s.Usage(); reserved != 0 {
			t.Fatalf("reservation %d left after Commit", reserved)
		}
		// Committed content survives GC.
		if res, err := s.GC(ctx); err != nil || res != (GCResult{}) {
			t.Fatalf("GC after commit = %+v, %v", res, err)
		}
		for _, c := range links {
			mustHaveShard(t, s, c, true)
		}

		// Done sessions refuse work; Abort after Commit is a no-op.
		if err := ss.Abort(); err != nil {
			t.Fatalf("Abort after Commit: %v", err)
		}
		_, err = ss.PutShard(ctx, []byte("late"))
		wantErr(t, err, ErrClosed)
		wantErr(t, ss.Commit(ctx, obj, objData, nil, false), ErrClosed)
		for _, c := range links {
			mustHaveShard(t, s, c, true)
		}
	})
}

// TestSessionCommitAtomic makes the commit transaction fail after it has
// staged the object, its references and the pin (it declares more links than
// fit in one Badger transaction) and checks that none of it landed.
func TestSessionCommitAtomic(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, DefaultConfig(t.TempDir()))
	ss := mustNewSession(t, s, 0)
	shard, err := ss.PutShard(ctx, []byte("shard"))
	if err != nil {
		t.Fatal(err)
	}
	links := []cid.Cid{shard}
	for i := range 200_000 {
		links = append(links, ShardCID([]byte{byte(i), byte(i >> 8), byte(i >> 16)}))
	}
	objData, obj := testObject("huge")
	err = ss.Commit(ctx, obj, objData, links, true)
	if !errors.Is(err, badger.ErrTxnTooBig) {
		t.Fatalf("Commit of 200,000 links = %v; the test needs ErrTxnTooBig", err)
	}
	if ok, _ := s.HasObject(ctx, obj); ok {
		t.Fatal("object stored by a failed commit")
	}
	if ok, _ := s.IsPinned(ctx, obj); ok {
		t.Fatal("pin stored by a failed commit")
	}
	for _, p := range []byte{prefixObjectRecord, prefixShardRef, prefixPin} {
		if n := countPrefix(t, s, p); n != 0 {
			t.Fatalf("%d %q keys stored by a failed commit", n, p)
		}
	}
	if n := countPrefix(t, s, prefixSession); n != 1 {
		t.Fatalf("%d session records after a failed commit, want 1 (still open)", n)
	}
	// The session is still usable: a smaller commit lands.
	if err := ss.Commit(ctx, obj, objData, links[:1], true); err != nil {
		t.Fatal(err)
	}
	mustHaveShard(t, s, shard, true)
}

// TestAbortKeepsReferencedShards checks that Abort deletes exactly the
// shards the session stored first and that nothing else references.
func TestAbortKeepsReferencedShards(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		var (
			shared      = []byte("shared with a committed object")
			pinned      = []byte("pinned directly")
			otherSess   = []byte("held by another open session")
			preexisting = []byte("stored before the session")
			own         = []byte("only this session")
			repeated    = []byte("written twice by this session")
		)
		loose := mustPutShard(t, s, preexisting)

		a := mustNewSession(t, s, 0)
		put := func(ss *Session, data []byte) cid.Cid {
			t.Helper()
			c, err := ss.PutShard(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		cShared, cPinned, cOther := put(a, shared), put(a, pinned), put(a, otherSess)
		cOwn, cRepeated := put(a, own), put(a, repeated)
		put(a, preexisting)
		put(a, repeated)

		// Another session writes the shared shard too and commits it.
		b := mustNewSession(t, s, 0)
		put(b, shared)
		objData, obj := testObject("b")
		if err := b.Commit(ctx, obj, objData, []cid.Cid{cShared}, false); err != nil {
			t.Fatal(err)
		}
		if err := s.Pin(ctx, cPinned); err != nil {
			t.Fatal(err)
		}
		c := mustNewSession(t, s, 0)
		put(c, otherSess)

		if err := a.Abort(); err != nil {
			t.Fatal(err)
		}
		for _, keep := range []cid.Cid{cShared, cPinned, cOther, loose} {
			mustHaveShard(t, s, keep, true)
		}
		for _, gone := range []cid.Cid{cOwn, cRepeated} {
			mustHaveShard(t, s, gone, false)
		}
		checkUsage(t, s)

		// c stored otherSess second, so its abort leaves it for GC.
		if err := c.Abort(); err != nil {
			t.Fatal(err)
		}
		mustHaveShard(t, s, cOther, true)
		for _, p := range []byte{prefixSession, prefixSessionShard, prefixShardSession} {
			if n := countPrefix(t, s, p); n != 0 {
				t.Fatalf("%d %q keys left after the sessions ended", n, p)
			}
		}
	})
}

// TestRecoverStaleSession closes the store with a session open (as a dying
// process would leave it) and checks that Open rolls it back.
func TestRecoverStaleSession(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	// A committed contribution whose first shard the stale session shares.
	kept := storedFile(t, s, randBytes(1, 2*MinChunkSize), MinChunkSize)

	ss := mustNewSession(t, s, 1<<20)
	sharedData, err := s.GetShard(ctx, kept[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.PutShard(ctx, sharedData); err != nil {
		t.Fatal(err)
	}
	refs, err := ss.Chunk(ctx, bytes.NewReader(randBytes(2, 3*MinChunkSize)), MinChunkSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	// No Commit, no Abort: close the database under the session.
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	s.db = nil

	s = openStore(t, DefaultConfig(dir))
	for _, r := range refs {
		mustHaveShard(t, s, r.CID, false)
	}
	for _, c := range kept {
		mustHaveShard(t, s, c, true)
	}
	for _, p := range []byte{prefixSession, prefixSessionShard, prefixShardSession} {
		if n := countPrefix(t, s, p); n != 0 {
			t.Fatalf("%d %q keys left after recovery", n, p)
		}
	}
	if used, reserved := s.Usage(); used != 2*MinChunkSize || reserved != 0 {
		t.Fatalf("usage %d, reserved %d after recovery; want %d, 0", used, reserved, 2*MinChunkSize)
	}
	// New sessions do not reuse the dead session's ID.
	if next := mustNewSession(t, s, 0); next.id <= ss.id {
		t.Fatalf("new session ID %d, dead session had %d", next.id, ss.id)
	}
}

// TestRecoverCommittedRefs simulates a crash between a commit and the
// deletion of the session's references: Open drops the references and keeps
// the shards.
func TestRecoverCommittedRefs(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	shards := storedFile(t, s, randBytes(3, 2*MinChunkSize), MinChunkSize)
	for _, c := range shards {
		rawPut(t, s, sessionShardKey(99, c.Hash()), []byte{sessionCreatedShard})
		rawPut(t, s, shardSessionKey(c.Hash(), 99), nil)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, DefaultConfig(dir))
	for _, c := range shards {
		mustHaveShard(t, s, c, true)
	}
	if n := countPrefix(t, s, prefixSessionShard) + countPrefix(t, s, prefixShardSession); n != 0 {
		t.Fatalf("%d session reference keys left after Open", n)
	}
}

func TestNewSessionErrors(t *testing.T) {
	s := openStore(t, Config{InMemory: true})
	if _, err := s.NewSession(context.Background(), -1); err == nil {
		t.Fatal("NewSession(-1) succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.NewSession(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("NewSession with a canceled context = %v", err)
	}
}
