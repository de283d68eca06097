package storage

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestCompactionReadsAhead checks the compactions of the patched Badger
// (third_party/README.md), which read the tables they merge 256 KiB at a
// time and slice their 4 KiB blocks out of those chunks, blocks straddling
// a chunk's end included: a store written with small memtables has many
// tables, Flatten merges them all, and every object reads back and
// verifies after.
func TestCompactionReadsAhead(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig(t.TempDir())
	cfg.memTableSize = 1 << 20
	s := openStore(t, cfg)
	const n = 30000
	datas := make([][]byte, n)
	cids := make([]cid.Cid, n)
	var puts []ObjectPut
	for i := range n {
		datas[i] = randBytes(uint64(i), 200+i%300)
		cids[i] = ObjectCID(cid.DagCBOR, datas[i])
		puts = append(puts, ObjectPut{CID: cids[i], Data: datas[i], Pin: true})
		if len(puts) == 512 || i == n-1 {
			if err := s.PutObjectsIndexed(ctx, puts, nil); err != nil {
				t.Fatal(err)
			}
			puts = puts[:0]
		}
	}
	tablesBefore := s.db.Tables()
	var bytesBefore uint64
	for _, ti := range tablesBefore {
		bytesBefore += uint64(ti.OnDiskSize)
	}
	// At least a few chunks' worth of tables, or no block straddles one.
	if len(tablesBefore) < 2 || bytesBefore < 4*256<<10 {
		t.Fatalf("%d tables of %d bytes: too few to test", len(tablesBefore), bytesBefore)
	}
	if err := s.db.Flatten(2); err != nil {
		t.Fatal(err)
	}
	merged := 0
	for _, ti := range tablesBefore {
		if !hasTable(s, ti.ID) {
			merged++
		}
	}
	if merged < len(tablesBefore)/2 {
		t.Fatalf("Flatten merged %d of %d tables; want most", merged, len(tablesBefore))
	}
	for i, c := range cids {
		got, err := s.GetObject(ctx, c)
		if err != nil || !bytes.Equal(got, datas[i]) {
			t.Fatalf("object %d after the compaction: %d bytes, %v", i, len(got), err)
		}
	}
	if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) != 0 {
		t.Fatalf("Verify: %+v, %v", res, err)
	}
}

// hasTable reports whether table id is in s's tree.
func hasTable(s *Store, id uint64) bool {
	for _, ti := range s.db.Tables() {
		if ti.ID == id {
			return true
		}
	}
	return false
}
