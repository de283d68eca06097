package curation

import (
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// Repeats is the share of k's bytes, 0 to 1, in shards for which accepted
// is true: a curator's hint that a pending contribution repeats data the
// Datanet already accepted (accepted tells whether a shard CID is in an
// accepted contribution). Identical shards are identical bytes, so this
// finds exact copies at shard granularity, not near duplicates. An empty
// contribution repeats nothing.
func Repeats(k *datanet.Contribution, accepted func(shard cid.Cid) bool) float64 {
	if k.Size == 0 {
		return 0
	}
	var repeated uint64
	for _, f := range k.Files {
		for j, s := range f.Shards {
			if accepted(s) {
				repeated += f.ShardSize(j, k.ChunkSize)
			}
		}
	}
	return float64(repeated) / float64(k.Size)
}
