package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage/storagetest"
)

// damagedStore stores each of data as a shard in a Badger store on disk,
// flips a byte of each in its files, and opens the store again.
func damagedStore(t *testing.T, data ...[]byte) (*Store, []cid.Cid) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	cids := make([]cid.Cid, len(data))
	for i, d := range data {
		if cids[i], err = s.PutShard(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Open once more, so the shards' value-log file is not the newest
	// (see storagetest.FlipByte).
	s, err = Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	markers := make([][]byte, len(data))
	for i, d := range data {
		markers[i] = storagetest.Marker(d)
	}
	storagetest.FlipByte(t, dir, markers...)
	return openStore(t, DefaultConfig(dir)), cids
}

// TestDamagedShardRepair: a shard damaged on disk is dropped by the read
// that finds it, fetched again through the Repairer when there is one, and
// replaced by an add of the same bytes even before any read found it.
func TestDamagedShardRepair(t *testing.T) {
	ctx := context.Background()
	data := make([][]byte, 5)
	for i := range data {
		data[i] = randBytes(uint64(100+i), 64<<10)
	}
	s, cids := damagedStore(t, data[:4]...)
	intact := mustPutShard(t, s, data[4])
	res, err := s.Verify(ctx, nil)
	if err != nil || len(res.Faults) != 4 {
		t.Fatalf("Verify of the damaged store: %+v, %v; want 4 faults", res, err)
	}
	used0, _ := s.Usage()

	// No Repairer (offline): the read fails, names the shard and drops it.
	_, err = s.GetShard(ctx, cids[0])
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), cids[0].String()) || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("GetShard of a damaged shard: %v, want ErrCorrupt naming it and saying it was dropped", err)
	}
	if has, _ := s.HasShard(ctx, cids[0]); has {
		t.Errorf("the damaged shard is still stored")
	}
	if used, _ := s.Usage(); used != used0-int64(len(data[0])) {
		t.Errorf("usage %d after the drop, want %d", used, used0-int64(len(data[0])))
	}
	// ... and an add of the same bytes stores it again.
	if _, err := s.PutShard(ctx, data[0]); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetShard(ctx, cids[0]); err != nil || !bytes.Equal(got, data[0]) {
		t.Errorf("GetShard after adding the shard again: %v", err)
	}

	// With a Repairer, reads get the good copy it stores.
	repairs := 0
	s.SetRepairer(func(ctx context.Context, c cid.Cid) error {
		repairs++
		for _, d := range data {
			if ShardCID(d).Equals(c) {
				return s.PutVerifiedShard(ctx, c, d)
			}
		}
		return ErrNotFound
	})
	if got, err := s.GetShard(ctx, cids[1]); err != nil || !bytes.Equal(got, data[1]) {
		t.Errorf("GetShard with a Repairer: %v", err)
	}
	r, err := s.NewFileReader(ctx, cids[2:3], len(data[2]), int64(len(data[2])))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data[2]) {
		t.Errorf("file reader with a Repairer: %v", err)
	}
	if repairs != 2 {
		t.Errorf("%d repairs, want 2", repairs)
	}
	s.SetRepairer(nil)

	// An add (a session, as content_add uses) of bytes whose stored copy
	// is damaged replaces the copy, though no read has found the damage.
	ss, err := s.NewSession(ctx, int64(len(data[3])))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := ss.Chunk(ctx, bytes.NewReader(data[3]), len(data[3]), nil)
	if err != nil || len(refs) != 1 || !refs[0].CID.Equals(cids[3]) {
		t.Fatalf("Chunk: %v, %v", refs, err)
	}
	obj, objCID := testObject("re-add")
	if err := ss.Commit(ctx, objCID, obj, []cid.Cid{cids[3]}, true); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) != 0 {
		t.Errorf("Verify after the repairs: %+v, %v", res, err)
	}
	if got, err := s.GetShard(ctx, cids[3]); err != nil || !bytes.Equal(got, data[3]) {
		t.Errorf("GetShard after the re-add: %v", err)
	}
	if used, _ := s.Usage(); used != used0 {
		t.Errorf("usage %d after every shard was repaired, want %d", used, used0)
	}

	// DropDamagedShard keeps an intact shard.
	if dropped, err := s.DropDamagedShard(ctx, intact); err != nil || dropped {
		t.Errorf("DropDamagedShard of an intact shard: %v, %v", dropped, err)
	}
}

// TestDropDamagedShard: what repo verify --repair does to each fault.
func TestDropDamagedShard(t *testing.T) {
	ctx := context.Background()
	data := [][]byte{randBytes(200, 32<<10), randBytes(201, 32<<10)}
	s, cids := damagedStore(t, data[0])
	good := mustPutShard(t, s, data[1])
	if dropped, err := s.DropDamagedShard(ctx, cids[0]); err != nil || !dropped {
		t.Fatalf("DropDamagedShard of a damaged shard: %v, %v", dropped, err)
	}
	if dropped, err := s.DropDamagedShard(ctx, cids[0]); err != nil || dropped {
		t.Errorf("DropDamagedShard of a dropped shard: %v, %v", dropped, err)
	}
	if dropped, err := s.DropDamagedShard(ctx, good); err != nil || dropped {
		t.Errorf("DropDamagedShard of an intact shard: %v, %v", dropped, err)
	}
	res, err := s.Verify(ctx, nil)
	if err != nil || len(res.Faults) != 0 || res.Shards != 1 {
		t.Errorf("Verify after the drop: %+v, %v; want one intact shard", res, err)
	}
	if _, err := s.GetShard(ctx, cids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetShard of the dropped shard: %v, want ErrNotFound", err)
	}
}
