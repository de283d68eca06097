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
