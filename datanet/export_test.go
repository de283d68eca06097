package datanet

import (
	"context"
)

// WriteEntryTree stores an entry tree over entries (sorted by CID) and
// returns the root's ref and the Merkle root: for the external tests, which
// forge snapshots a cut would not make.
func (r *Registry) WriteEntryTree(ctx context.Context, entries []SnapshotEntry) (ChunkRef, [32]byte, error) {
	return r.writeEntryTree(ctx, entries)
}

// AddSum is add256 for the external tests: a+b mod 2^256, big-endian.
func AddSum(a, b [32]byte) [32]byte { return add256(a, b) }
