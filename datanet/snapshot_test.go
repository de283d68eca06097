package datanet

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
)

// testChunk returns the golden leaf chunk: the golden contribution with the
// golden vote as its evidence.
func testChunk(t testing.TB) *SnapshotChunk {
	t.Helper()
	c := signedContribution(t)
	return &SnapshotChunk{Entries: []SnapshotEntry{{
		Contribution: mustCID(t, c), Root: common.Hash(c.Root), Votes: []*Vote{signedVote(t)},
	}}}
}

// testSnapshot returns the unsigned golden Snapshot: one leaf, the golden
// chunk.
func testSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	ch := testChunk(t)
	root, err := SnapshotRoot(ch.Entries)
	if err != nil {
		t.Fatal(err)
	}
	dn := mustCID(t, signedDatanet(t))
	return &Snapshot{
		Datanet: dn,
		Policy:  dn,
		Version: 1,
		Root:    root,
		Count:   1,
		Votes:   1,
		Entries: mustCID(t, ch),
		Created: 1767240000, // 2026-01-01T04:00:00Z
	}
}

// signedSnapshot returns the golden Snapshot, signed by the owner.
func signedSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	s := testSnapshot(t)
	if err := SignSnapshot(s, testChainID, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := signedSnapshot(t)
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	data, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, s)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Snapshot
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&fromJSON, s) {
		t.Fatalf("JSON round trip\n%+v\nwant\n%+v", &fromJSON, s)
	}
	links := s.Links()
	if len(links) != 2 || !links[0].Equals(s.Datanet) || !links[1].Equals(s.Entries) {
		t.Fatalf("Links = %v", links)
	}
}

func TestChunkRoundTrip(t *testing.T) {
	c := testChunk(t)
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSnapshotChunk(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, c)
	}
	if err := back.Entries[0].Votes[0].Verify(); err != nil {
		t.Fatalf("evidence vote does not verify after the round trip: %v", err)
	}
	if links := c.Links(); len(links) != 1 || !links[0].Equals(c.Entries[0].Contribution) {
		t.Fatalf("Links = %v", links)
	}
	node := &SnapshotChunk{Level: 1, Chunks: []ChunkRef{{Chunk: mustCID(t, c), Count: 1, Votes: 1}}}
	if _, err := node.Encode(); err != nil {
		t.Fatal(err)
	}
	if n, v := node.Totals(); n != 1 || v != 1 {
		t.Fatalf("Totals = %d %d", n, v)
	}
}

func TestSnapshotRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Snapshot)
	}{
		{"version 0", func(s *Snapshot) { s.Version = 0 }},
		{"version 2 without prev", func(s *Snapshot) { s.Version = 2 }},
		{"version 1 with prev", func(s *Snapshot) { s.Prev = s.Datanet }},
		{"no entries", func(s *Snapshot) { s.Count, s.Votes = 0, 0 }},
		{"fewer votes than entries", func(s *Snapshot) { s.Count = 2 }},
		{"too many votes", func(s *Snapshot) { s.Votes = MaxEntryVotes + 1 }},
		{"no entry tree", func(s *Snapshot) { s.Entries = cid.Undef }},
		{"zero cutter", func(s *Snapshot) { s.Cutter = common.Address{} }},
		{"no creation time", func(s *Snapshot) { s.Created = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signedSnapshot(t)
			tt.change(s)
			if err := s.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, err := s.Encode(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Encode = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestChunkRules(t *testing.T) {
	vote := func(t *testing.T, change func(*Vote)) *Vote {
		v := *signedVote(t)
		change(&v)
		return &v
	}
	tests := []struct {
		name   string
		change func(t *testing.T, c *SnapshotChunk)
	}{
		{"empty leaf", func(t *testing.T, c *SnapshotChunk) { c.Entries = nil }},
		{"leaf with chunks", func(t *testing.T, c *SnapshotChunk) {
			c.Chunks = []ChunkRef{{Chunk: c.Entries[0].Contribution, Count: 1, Votes: 1}}
		}},
		{"node with entries", func(t *testing.T, c *SnapshotChunk) { c.Level = 1 }},
		{"too high", func(t *testing.T, c *SnapshotChunk) { c.Level = MaxChunkLevel + 1 }},
		{"duplicate entry", func(t *testing.T, c *SnapshotChunk) { c.Entries = append(c.Entries, c.Entries[0]) }},
		{"entry without votes", func(t *testing.T, c *SnapshotChunk) { c.Entries[0].Votes = nil }},
		{"vote about another contribution", func(t *testing.T, c *SnapshotChunk) {
			c.Entries[0].Votes[0] = vote(t, func(v *Vote) { v.Contribution = v.Datanet })
		}},
		{"two votes of one curator", func(t *testing.T, c *SnapshotChunk) {
			c.Entries[0].Votes = append(c.Entries[0].Votes, c.Entries[0].Votes[0])
		}},
		{"unsigned vote", func(t *testing.T, c *SnapshotChunk) {
			c.Entries[0].Votes[0] = vote(t, func(v *Vote) { v.Signature = nil })
		}},
		{"node ref without entries", func(t *testing.T, c *SnapshotChunk) {
			*c = SnapshotChunk{Level: 1, Chunks: []ChunkRef{{Chunk: c.Entries[0].Contribution}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testChunk(t)
			tt.change(t, c)
			if err := c.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestTamperedSnapshotFails(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Snapshot)
	}{
		{"version", func(s *Snapshot) { s.Version = 2; s.Prev = s.Datanet }},
		{"policy", func(s *Snapshot) { s.Policy = s.Entries }},
		{"entries", func(s *Snapshot) { s.Entries = s.Policy }},
		{"count", func(s *Snapshot) { s.Votes++ }},
		{"created", func(s *Snapshot) { s.Created++ }},
		{"cutter", func(s *Snapshot) { s.Cutter = curatorSigner(t).Address() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signedSnapshot(t)
			tt.change(s)
			if err := s.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}
