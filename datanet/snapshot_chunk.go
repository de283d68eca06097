package datanet

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
)

// KindSnapshotChunk is the value of the "kind" key of an encoded
// SnapshotChunk.
const KindSnapshotChunk = "snapshot_chunk"

// Bounds of a snapshot's entry tree.
const (
	// MaxSnapshotEntries bounds the contributions of one snapshot.
	MaxSnapshotEntries = 1 << 28
	// MaxEntryVotes bounds the evidence votes of one entry: one per
	// curator, and a Datanet has at most MaxCurators.
	MaxEntryVotes = MaxCurators
	// ChunkEntries is the most entries a leaf chunk holds, and
	// MaxChunkBytes the most bytes of its encoding: a leaf is cut at
	// whichever comes first (an entry is ~0.6 KB with two votes).
	ChunkEntries  = 1024
	MaxChunkBytes = 1 << 20
	// ChunkFanout is the most children a node chunk lists.
	ChunkFanout = 4096
	// MaxChunkLevel is the highest level of a tree: 4096^3 leaves.
	MaxChunkLevel = 3
)

// ErrFetchOnly means an object travels only by request (a snapshot chunk,
// fetched by its CID when a snapshot needs it), never by gossip or sync.
var ErrFetchOnly = errors.New("datanet: object is fetched by CID only")

// SnapshotChunk is a node of a snapshot's entry tree: a leaf (Level 0)
// holds entries, a node (Level ≥ 1) the chunks of the level below. Chunks
// are not signed: the snapshot names the root by CID and every chunk its
// children by CID, so the whole tree is checked by hashes. The order of the
// leaves is the order of the entries; within a leaf entries are sorted by
// the bytes of their contribution CIDs. A later snapshot reuses the chunks
// of the previous one that did not change, so a cut stores and a fetch
// moves only what is new.
type SnapshotChunk struct {
	Level   uint64          `cbor:"level" json:"level"`
	Entries []SnapshotEntry `cbor:"entries" json:"entries"` // leaf: 1 to ChunkEntries
	Chunks  []ChunkRef      `cbor:"chunks" json:"chunks"`   // node: 1 to ChunkFanout
}

// ChunkRef is a child of a node chunk with what lies under it.
type ChunkRef struct {
	Chunk cid.Cid `cbor:"chunk" json:"chunk"`
	Count uint64  `cbor:"count" json:"count"` // entries under the chunk
	Votes uint64  `cbor:"votes" json:"votes"` // evidence votes under the chunk
}

// MarshalJSON returns {"chunk": CID string, "count": n, "votes": n}.
func (r ChunkRef) MarshalJSON() ([]byte, error) { return marshalJSON(&r) }

// UnmarshalJSON reads what MarshalJSON writes.
func (r *ChunkRef) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, r) }

var _ Object = (*SnapshotChunk)(nil)

// Kind returns KindSnapshotChunk.
func (c *SnapshotChunk) Kind() string { return KindSnapshotChunk }

// Signer returns the zero address: chunks are not signed.
func (c *SnapshotChunk) Signer() common.Address { return common.Address{} }

// Verify returns nil: a chunk is checked by its CID, which its parent (or
// the snapshot) names.
func (c *SnapshotChunk) Verify() error { return nil }

// Links returns a leaf's contributions or a node's children, so pinning a
// snapshot keeps its tree and its contributions.
func (c *SnapshotChunk) Links() []cid.Cid {
	links := make([]cid.Cid, 0, len(c.Entries)+len(c.Chunks))
	for _, e := range c.Entries {
		links = append(links, e.Contribution)
	}
	for _, r := range c.Chunks {
		links = append(links, r.Chunk)
	}
	return links
}

func (c *SnapshotChunk) chainID() uint64 { return 0 }

func (c *SnapshotChunk) typedMessage() (string, apitypes.TypedDataMessage, error) {
	return "", nil, errors.New("snapshot chunks are not signed")
}

// Encode returns the canonical encoding of c.
func (c *SnapshotChunk) Encode() ([]byte, error) { return encode(c) }

// CID returns the CID of c's canonical encoding.
func (c *SnapshotChunk) CID() (cid.Cid, error) { return objectCID(c) }

// Totals returns the entries and evidence votes under c.
func (c *SnapshotChunk) Totals() (count, votes uint64) {
	if c.Level == 0 {
		for _, e := range c.Entries {
			votes += uint64(len(e.Votes))
		}
		return uint64(len(c.Entries)), votes
	}
	for _, r := range c.Chunks {
		count += r.Count
		votes += r.Votes
	}
	return count, votes
}

// Validate checks the field rules of a chunk: a leaf holds 1 to
// ChunkEntries entries sorted and unique by contribution CID bytes, each
// with 1 to MaxEntryVotes valid, signed votes about it, sorted by curator
// and one per curator; a node lists 1 to ChunkFanout children, each with
// at least one entry and as many votes; the level is at most MaxChunkLevel.
func (c *SnapshotChunk) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: snapshot chunk: %w", ErrInvalid, err)
	}
	return nil
}

func (c *SnapshotChunk) validate() error {
	switch {
	case c.Level > MaxChunkLevel:
		return fmt.Errorf("level %d, at most %d", c.Level, MaxChunkLevel)
	case c.Level == 0 && len(c.Chunks) > 0:
		return errors.New("a leaf lists chunks")
	case c.Level > 0 && len(c.Entries) > 0:
		return errors.New("a node holds entries")
	case c.Level == 0 && (len(c.Entries) == 0 || len(c.Entries) > ChunkEntries):
		return fmt.Errorf("a leaf of %d entries, 1 to %d", len(c.Entries), ChunkEntries)
	case c.Level > 0 && (len(c.Chunks) == 0 || len(c.Chunks) > ChunkFanout):
		return fmt.Errorf("a node of %d chunks, 1 to %d", len(c.Chunks), ChunkFanout)
	}
	for i, e := range c.Entries {
		if i > 0 && strings.Compare(c.Entries[i-1].Contribution.KeyString(), e.Contribution.KeyString()) >= 0 {
			return fmt.Errorf("entries[%d] %s: entries must be sorted by CID bytes and unique", i, e.Contribution)
		}
		if err := e.validate(); err != nil {
			return fmt.Errorf("entries[%d]: %w", i, err)
		}
	}
	for i, r := range c.Chunks {
		if err := checkObjectLink(r.Chunk); err != nil {
			return fmt.Errorf("chunks[%d]: %w", i, err)
		}
		if r.Count == 0 || r.Votes < r.Count {
			return fmt.Errorf("chunks[%d]: %d entries and %d votes", i, r.Count, r.Votes)
		}
	}
	return nil
}

// validate checks an entry's own rules; how its votes tally is the
// curation rules' business (Rules.VerifyEntry).
func (e *SnapshotEntry) validate() error {
	if err := checkObjectLink(e.Contribution); err != nil {
		return fmt.Errorf("contribution: %w", err)
	}
	if len(e.Votes) == 0 || len(e.Votes) > MaxEntryVotes {
		return fmt.Errorf("%d evidence votes, 1 to %d", len(e.Votes), MaxEntryVotes)
	}
	for i, v := range e.Votes {
		if v == nil {
			return fmt.Errorf("votes[%d] is missing", i)
		}
		if err := v.Validate(); err != nil {
			return fmt.Errorf("votes[%d]: %w", i, err)
		}
		switch {
		case !v.Contribution.Equals(e.Contribution):
			return fmt.Errorf("votes[%d] is about %s", i, v.Contribution)
		case len(v.Signature) == 0:
			return fmt.Errorf("votes[%d] is not signed", i)
		case i > 0 && bytes.Compare(e.Votes[i-1].Curator[:], v.Curator[:]) >= 0:
			return fmt.Errorf("votes[%d]: votes must be sorted by curator, one per curator", i)
		}
	}
	return nil
}

// SortEntries sorts entries by the bytes of their contribution CIDs, the
// order within a leaf.
func SortEntries(entries []SnapshotEntry) {
	slices.SortFunc(entries, func(a, b SnapshotEntry) int {
		return strings.Compare(a.Contribution.KeyString(), b.Contribution.KeyString())
	})
}

// SortVotesByCurator sorts votes by curator address, the order of an
// entry's evidence.
func SortVotesByCurator(votes []*Vote) {
	slices.SortFunc(votes, func(a, b *Vote) int { return bytes.Compare(a.Curator[:], b.Curator[:]) })
}

// DecodeSnapshotChunk decodes a SnapshotChunk as Decode does; other kinds
// fail with ErrWrongKind.
func DecodeSnapshotChunk(data []byte) (*SnapshotChunk, error) {
	return decodeAs[*SnapshotChunk](data)
}

// MarshalJSON returns the JSON view of c.
func (c SnapshotChunk) MarshalJSON() ([]byte, error) { return marshalJSON(&c) }

// UnmarshalJSON reads the JSON view of a SnapshotChunk.
func (c *SnapshotChunk) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, c) }

// packLeaves cuts entries, sorted as SortEntries sorts them, into leaf
// chunks of at most ChunkEntries entries and MaxChunkBytes bytes. An entry
// alone always fits (MaxEntryVotes votes encode in well under
// MaxChunkBytes).
func packLeaves(entries []SnapshotEntry) ([]*SnapshotChunk, error) {
	var out []*SnapshotChunk
	cur := &SnapshotChunk{}
	size := 64 // the chunk's own keys
	for _, e := range entries {
		n, err := entrySize(&e)
		if err != nil {
			return nil, err
		}
		if len(cur.Entries) > 0 && (len(cur.Entries) == ChunkEntries || size+n > MaxChunkBytes) {
			out = append(out, cur)
			cur, size = &SnapshotChunk{}, 64
		}
		cur.Entries = append(cur.Entries, e)
		size += n
	}
	if len(cur.Entries) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// entrySize is the size of an entry's encoding, give or take a few bytes.
func entrySize(e *SnapshotEntry) (int, error) {
	n := 96 // keys, the link and the root
	for _, v := range e.Votes {
		data, err := v.Encode()
		if err != nil {
			return 0, err
		}
		n += len(data) + 4
	}
	return n, nil
}

// buildNodes returns the node chunks over the refs of one level, bottom
// up, and the root's ref: the single ref when there is one.
func buildNodes(refs []ChunkRef, level uint64) (nodes []*SnapshotChunk, root ChunkRef, err error) {
	for len(refs) > 1 {
		level++
		if level > MaxChunkLevel {
			return nil, ChunkRef{}, fmt.Errorf("%w: snapshot of more than %d levels", ErrTooLarge, MaxChunkLevel)
		}
		var up []ChunkRef
		for len(refs) > 0 {
			n := &SnapshotChunk{Level: level, Chunks: refs[:min(len(refs), ChunkFanout)]}
			refs = refs[len(n.Chunks):]
			ref, err := refOfChunk(n)
			if err != nil {
				return nil, ChunkRef{}, err
			}
			nodes = append(nodes, n)
			up = append(up, ref)
		}
		refs = up
	}
	return nodes, refs[0], nil
}

// refOfChunk returns the ref a parent lists for c.
func refOfChunk(c *SnapshotChunk) (ChunkRef, error) {
	id, err := c.CID()
	if err != nil {
		return ChunkRef{}, err
	}
	count, votes := c.Totals()
	return ChunkRef{Chunk: id, Count: count, Votes: votes}, nil
}
