package datanet

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// maxMissingNamed bounds the CIDs one MissingError names: the caller
// fetches them and checks again, and learns of the rest then.
const maxMissingNamed = 1 << 14

// chunk loads the stored chunk c.
func (r *Registry) chunk(ctx context.Context, c cid.Cid) (*SnapshotChunk, error) {
	data, err := r.store.GetObject(ctx, c)
	if err != nil {
		return nil, err
	}
	obj, err := decodeStored(data)
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %s: %w", ErrBadSnapshot, c, err)
	}
	ch, ok := obj.(*SnapshotChunk)
	if !ok {
		return nil, fmt.Errorf("%w: %w: %s is a %s, not a snapshot chunk", ErrBadSnapshot, ErrWrongKind, c, obj.Kind())
	}
	return ch, nil
}

// SnapshotChunk loads the stored snapshot chunk c.
func (r *Registry) SnapshotChunk(ctx context.Context, c cid.Cid) (*SnapshotChunk, error) {
	return r.chunk(ctx, c)
}

// snapshotLeaves returns the refs of the leaves of s's entry tree in order,
// reading and checking its nodes from the store: each node's level is its
// parent's minus one, and what a parent says lies under a child is what
// the child holds (the leaves' totals are checked as they are read). A tree
// whose nodes are not all held fails with a *MissingError naming the
// missing chunks of the first level that lacks some.
func (r *Registry) snapshotLeaves(ctx context.Context, s *Snapshot) ([]ChunkRef, error) {
	level := []ChunkRef{{Chunk: s.Entries, Count: s.Count, Votes: s.Votes}}
	parentLevel := uint64(MaxChunkLevel + 1)
	for {
		missing := &MissingError{What: "snapshot chunk"}
		for _, ref := range level {
			has, err := r.store.HasObject(ctx, ref.Chunk)
			if err != nil {
				return nil, err
			}
			if !has && len(missing.CIDs) < maxMissingNamed {
				missing.CIDs = append(missing.CIDs, ref.Chunk)
			}
		}
		if len(missing.CIDs) > 0 {
			return nil, missing
		}
		// Peek at the level of the first chunk: all of a level share it.
		first, err := r.chunk(ctx, level[0].Chunk)
		if err != nil {
			return nil, err
		}
		if parentLevel <= MaxChunkLevel && first.Level+1 != parentLevel {
			return nil, fmt.Errorf("%w: chunk %s is at level %d under a chunk of level %d", ErrBadSnapshot, level[0].Chunk, first.Level, parentLevel)
		}
		if first.Level == 0 {
			return level, nil
		}
		var next []ChunkRef
		for i, ref := range level {
			c := first
			if i > 0 {
				if c, err = r.chunk(ctx, ref.Chunk); err != nil {
					return nil, err
				}
			}
			if c.Level != first.Level {
				return nil, fmt.Errorf("%w: chunk %s is at level %d, its siblings at %d", ErrBadSnapshot, ref.Chunk, c.Level, first.Level)
			}
			if err := checkTotals(ref, c); err != nil {
				return nil, err
			}
			next = append(next, c.Chunks...)
		}
		level, parentLevel = next, first.Level
	}
}

// checkTotals checks that chunk c holds what its parent's ref says.
func checkTotals(ref ChunkRef, c *SnapshotChunk) error {
	count, votes := c.Totals()
	if count != ref.Count || votes != ref.Votes {
		return fmt.Errorf("%w: chunk %s holds %d entries and %d votes, its parent says %d and %d",
			ErrBadSnapshot, ref.Chunk, count, votes, ref.Count, ref.Votes)
	}
	return nil
}

// WalkSnapshot calls fn with each leaf chunk of s's entry tree and its
// CID, in the order of the entries, reading the tree from the store and
// checking it as it goes (levels, and each chunk's totals against its
// parent's). A tree not wholly held fails with a *MissingError naming the
// chunks to fetch.
func (r *Registry) WalkSnapshot(ctx context.Context, s *Snapshot, fn func(leaf cid.Cid, c *SnapshotChunk) error) error {
	leaves, err := r.snapshotLeaves(ctx, s)
	if err != nil {
		return err
	}
	for _, ref := range leaves {
		c, err := r.chunk(ctx, ref.Chunk)
		if errors.Is(err, storage.ErrNotFound) {
			return missingObject("snapshot chunk", ref.Chunk)
		}
		if err != nil {
			return err
		}
		if c.Level != 0 {
			return fmt.Errorf("%w: chunk %s is at level %d among leaves", ErrBadSnapshot, ref.Chunk, c.Level)
		}
		if err := checkTotals(ref, c); err != nil {
			return err
		}
		if err := fn(ref.Chunk, c); err != nil {
			return err
		}
	}
	return nil
}

// SnapshotEntries calls fn with every entry of s, in order (see
// WalkSnapshot).
func (r *Registry) SnapshotEntries(ctx context.Context, s *Snapshot, fn func(e *SnapshotEntry) error) error {
	return r.WalkSnapshot(ctx, s, func(_ cid.Cid, c *SnapshotChunk) error {
		for i := range c.Entries {
			if err := fn(&c.Entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// SnapshotTreeOf returns the Merkle tree whose root is s.Root (if s is
// intact) and the index of each contribution among its leaves, read from
// s's entry tree: what span proofs are built from.
func (r *Registry) SnapshotTreeOf(ctx context.Context, s *Snapshot) (*SnapshotProofs, error) {
	var entries []SnapshotEntry
	err := r.SnapshotEntries(ctx, s, func(e *SnapshotEntry) error {
		entries = append(entries, SnapshotEntry{Contribution: e.Contribution, Root: e.Root})
		return nil
	})
	if err != nil {
		return nil, err
	}
	tree, err := SnapshotTree(entries)
	if err != nil {
		return nil, err
	}
	p := &SnapshotProofs{tree: tree, at: make(map[cid.Cid]int, len(entries))}
	for i, e := range entries {
		p.at[e.Contribution] = i
	}
	return p, nil
}

// SnapshotProofs proves the entries of one snapshot in its root.
type SnapshotProofs struct {
	tree *proofs.Tree
	at   map[cid.Cid]int
}

// Root returns the Merkle root over the snapshot's entries.
func (p *SnapshotProofs) Root() [32]byte { return p.tree.Root() }

// Proof returns the Merkle proof of contribution c's entry in the
// snapshot's root.
func (p *SnapshotProofs) Proof(c cid.Cid) ([]common.Hash, error) {
	i, ok := p.at[c]
	if !ok {
		return nil, fmt.Errorf("contribution %s is not in the snapshot", c)
	}
	proof, err := p.tree.Proof(i)
	if err != nil {
		return nil, err
	}
	return commonHashes(proof), nil
}

// SnapshotEntriesFrom calls fn with the entries of s from the one at
// ordinal from (0 for the first), with their ordinals, in order. It reads
// only the chunks on the way to from and after it: the counts in each node
// let it skip whole subtrees, so a page deep in a snapshot of a million
// entries costs a few chunk reads. A chunk not held fails with a
// *MissingError naming it.
func (r *Registry) SnapshotEntriesFrom(ctx context.Context, s *Snapshot, from uint64, fn func(ordinal uint64, e *SnapshotEntry) error) error {
	var walk func(ref ChunkRef, base uint64, parentLevel uint64) error
	walk = func(ref ChunkRef, base uint64, parentLevel uint64) error {
		if base+ref.Count <= from {
			return nil
		}
		c, err := r.chunk(ctx, ref.Chunk)
		if errors.Is(err, storage.ErrNotFound) {
			return missingObject("snapshot chunk", ref.Chunk)
		}
		if err != nil {
			return err
		}
		if parentLevel <= MaxChunkLevel && c.Level+1 != parentLevel {
			return fmt.Errorf("%w: chunk %s is at level %d under a chunk of level %d", ErrBadSnapshot, ref.Chunk, c.Level, parentLevel)
		}
		if err := checkTotals(ref, c); err != nil {
			return err
		}
		for i := range c.Entries {
			if o := base + uint64(i); o >= from {
				if err := fn(o, &c.Entries[i]); err != nil {
					return err
				}
			}
		}
		for _, child := range c.Chunks {
			if err := walk(child, base, c.Level); err != nil {
				return err
			}
			base += child.Count
		}
		return nil
	}
	return walk(ChunkRef{Chunk: s.Entries, Count: s.Count, Votes: s.Votes}, 0, MaxChunkLevel+1)
}
