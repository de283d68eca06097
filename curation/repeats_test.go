package curation

import (
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

func TestRepeats(t *testing.T) {
	a, b, c := objectCID("shard a"), objectCID("shard b"), objectCID("shard c")
	// Two files in 4-byte shards: 10 bytes (4+4+2) and 3 bytes.
	k := &datanet.Contribution{ChunkSize: 4, Size: 13, Files: []datanet.File{
		{Path: "x.txt", Size: 10, Shards: []cid.Cid{a, b, c}},
		{Path: "y.txt", Size: 3, Shards: []cid.Cid{a}},
	}}
	tests := []struct {
		name     string
		accepted []cid.Cid
		want     float64
	}{
		{"nothing accepted", nil, 0},
		{"a full shard, twice", []cid.Cid{a}, 7.0 / 13},
		{"a last shard", []cid.Cid{c}, 2.0 / 13},
		{"all", []cid.Cid{a, b, c}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[cid.Cid]bool{}
			for _, s := range tt.accepted {
				set[s] = true
			}
			if got := Repeats(k, func(s cid.Cid) bool { return set[s] }); got != tt.want {
				t.Fatalf("Repeats = %v, want %v", got, tt.want)
			}
		})
	}
	if got := Repeats(&datanet.Contribution{}, func(cid.Cid) bool { return true }); got != 0 {
		t.Fatalf("Repeats(empty) = %v", got)
	}
}
