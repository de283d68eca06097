package storage

import (
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestObjectRecordRoundTrip(t *testing.T) {
	_, obj := testObject("x")
	tests := []objectRecord{
		{size: 0},
		{size: 12345, links: []cid.Cid{ShardCID([]byte("a")), obj, ShardCID(nil)}},
		{size: 7, links: []cid.Cid{ShardCID([]byte("a")), obj}, keptBy: 2},
	}
	for _, rec := range tests {
		got, err := decodeObjectRecord(rec.encode())
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.size != rec.size || !slices.EqualFunc(got.links, rec.links, cid.Cid.Equals) || got.keptBy != rec.keptBy {
			t.Fatalf("round trip = %+v, want %+v", got, rec)
		}
	}
	// The link kept by must be one of the links, and the last field.
	one := slices.Clip(objectRecord{size: 1, links: []cid.Cid{obj}}.encode())
	for _, bad := range [][]byte{append(one, 1), append(one, 0, 0), append(one, 0x80)} {
		if _, err := decodeObjectRecord(bad); err == nil {
			t.Fatalf("decode %x: no error", bad)
		}
	}
}

func TestSessionShardKey(t *testing.T) {
	mh := sha256Multihash([]byte("x"))
	sid, got, err := sessionShardFromKey(sessionShardKey(42, mh))
	if err != nil || sid != 42 || string(got) != string(mh) {
		t.Fatalf("sessionShardFromKey = %d, %x, %v", sid, got, err)
	}
	if sid, err := sidFromShardSessionKey(shardSessionKey(mh, 7)); err != nil || sid != 7 {
		t.Fatalf("sidFromShardSessionKey = %d, %v", sid, err)
	}
}

func TestMergeLinks(t *testing.T) {
	a, b, c := ShardCID([]byte("a")), ShardCID([]byte("b")), ShardCID([]byte("c"))
	got, changed := mergeLinks([]cid.Cid{a, b}, []cid.Cid{b, c, c})
	if !changed || !slices.EqualFunc(got, []cid.Cid{a, b, c}, cid.Cid.Equals) {
		t.Fatalf("mergeLinks = %v, %v", got, changed)
	}
	if _, changed := mergeLinks([]cid.Cid{a}, []cid.Cid{a}); changed {
		t.Fatal("mergeLinks reported a change adding a present link")
	}
}

// FuzzDecodeObjectRecord checks that no stored bytes make the decoder
// panic, and that what decodes re-encodes to the same bytes.
func FuzzDecodeObjectRecord(f *testing.F) {
	_, obj := testObject("x")
	f.Add(objectRecord{size: 3, links: []cid.Cid{obj, ShardCID(nil)}}.encode())
	f.Add(objectRecord{size: 3, links: []cid.Cid{obj, ShardCID(nil)}, keptBy: 1}.encode())
	f.Add([]byte{})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeObjectRecord(b)
		if err != nil {
			return
		}
		if again, err := decodeObjectRecord(rec.encode()); err != nil || again.size != rec.size || len(again.links) != len(rec.links) || again.keptBy != rec.keptBy {
			t.Fatalf("re-decode = %+v, %v", again, err)
		}
	})
}
