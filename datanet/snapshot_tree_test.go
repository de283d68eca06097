package datanet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
)

// manyEntries returns n entries of fake contributions (CIDs of n strings,
// not stored), each with the golden vote's signature shape: enough for
// tree tests, which do not check entries against contributions.
func manyEntries(t testing.TB, n int) []SnapshotEntry {
	t.Helper()
	f := newStateFixture(t)
	var out []SnapshotEntry
	for i := range n {
		k := memContribution(t, f.id, contributorSigner(t), stateContributed, i)
		v := signedVoteOn(t, f.id, mustCID(t, k), ownerSigner(t), Approve, 0, stateVoted)
		out = append(out, SnapshotEntry{Contribution: mustCID(t, k), Root: common.Hash(k.Root), Votes: []*Vote{v}})
	}
	SortEntries(out)
	return out
}

// TestEntryTreeShape writes trees of 1 to a few thousand entries and reads
// them back in order: leaves within their bounds, levels and totals right.
func TestEntryTreeShape(t *testing.T) {
	ctx := context.Background()
	all := manyEntries(t, 2*ChunkEntries+5)
	for _, n := range []int{1, ChunkEntries, ChunkEntries + 1, 2*ChunkEntries + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r, _ := newTestRegistry(t)
			ref, root, err := r.writeEntryTree(ctx, all[:n])
			if err != nil {
				t.Fatal(err)
			}
			if ref.Count != uint64(n) || ref.Votes != uint64(n) {
				t.Fatalf("root ref %+v for %d entries", ref, n)
			}
			want, err := SnapshotRoot(all[:n])
			if err != nil || want != root {
				t.Fatalf("root %x, SnapshotRoot %x (%v)", root, want, err)
			}
			s := &Snapshot{Entries: ref.Chunk, Count: ref.Count, Votes: ref.Votes}
			var got []cid.Cid
			leaves := 0
			err = r.WalkSnapshot(ctx, s, func(_ cid.Cid, c *SnapshotChunk) error {
				leaves++
				if len(c.Entries) > ChunkEntries {
					return fmt.Errorf("a leaf of %d entries", len(c.Entries))
				}
				for _, e := range c.Entries {
					got = append(got, e.Contribution)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n || leaves != (n+ChunkEntries-1)/ChunkEntries {
				t.Fatalf("%d entries in %d leaves", len(got), leaves)
			}
			for i, c := range got {
				if !c.Equals(all[i].Contribution) {
					t.Fatalf("entry %d is %s, want %s", i, c, all[i].Contribution)
				}
			}
		})
	}
}

// TestEntryTreeRefused checks a tree with a missing chunk names it, and a
// chunk that does not hold what its parent says is refused naming it.
func TestEntryTreeRefused(t *testing.T) {
	ctx := context.Background()
	entries := manyEntries(t, ChunkEntries+1) // two leaves under one node
	r, _ := newTestRegistry(t)
	ref, _, err := r.writeEntryTree(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	node, err := r.chunk(ctx, ref.Chunk)
	if err != nil || node.Level != 1 || len(node.Chunks) != 2 {
		t.Fatalf("root chunk %+v %v", node, err)
	}
	s := &Snapshot{Entries: ref.Chunk, Count: ref.Count, Votes: ref.Votes}

	// A node that says its second leaf holds one entry more.
	lie := &SnapshotChunk{Level: 1, Chunks: append([]ChunkRef(nil), node.Chunks...)}
	lie.Chunks[1].Count++
	lie.Chunks[1].Votes++
	if err := r.putChunk(ctx, lie); err != nil {
		t.Fatal(err)
	}
	bad := &Snapshot{Entries: mustCID(t, lie), Count: ref.Count + 1, Votes: ref.Votes + 1}
	err = r.WalkSnapshot(ctx, bad, func(cid.Cid, *SnapshotChunk) error { return nil })
	if !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), node.Chunks[1].Chunk.String()) {
		t.Fatalf("a chunk that does not hold what its parent says: %v, want ErrBadSnapshot naming %s", err, node.Chunks[1].Chunk)
	}

	// A node whose second leaf is not stored here.
	unstored := &SnapshotChunk{Entries: entries[:1]}
	uref, err := refOfChunk(unstored)
	if err != nil {
		t.Fatal(err)
	}
	holey := &SnapshotChunk{Level: 1, Chunks: []ChunkRef{node.Chunks[0], uref}}
	if err := r.putChunk(ctx, holey); err != nil {
		t.Fatal(err)
	}
	hs := &Snapshot{Entries: mustCID(t, holey), Count: node.Chunks[0].Count + 1, Votes: node.Chunks[0].Votes + 1}
	err = r.WalkSnapshot(ctx, hs, func(cid.Cid, *SnapshotChunk) error { return nil })
	if !CannotJudgeYet(err) || len(MissingCIDs(err)) != 1 || !MissingCIDs(err)[0].Equals(uref.Chunk) {
		t.Fatalf("a missing leaf: %v, want a MissingError naming %s", err, uref.Chunk)
	}
	if err := r.WalkSnapshot(ctx, s, func(cid.Cid, *SnapshotChunk) error { return nil }); err != nil {
		t.Fatalf("the intact tree: %v", err)
	}
}

// TestSnapshotEntriesFrom reads a tree of two leaves from every ordinal
// and checks it gets the entries from there on, in order.
func TestSnapshotEntriesFrom(t *testing.T) {
	ctx := context.Background()
	entries := manyEntries(t, ChunkEntries+7)
	r, _ := newTestRegistry(t)
	ref, _, err := r.writeEntryTree(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	s := &Snapshot{Entries: ref.Chunk, Count: ref.Count, Votes: ref.Votes}
	for _, from := range []uint64{0, 1, ChunkEntries - 1, ChunkEntries, ChunkEntries + 6, ChunkEntries + 7, 5000} {
		var got []uint64
		err := r.SnapshotEntriesFrom(ctx, s, from, func(o uint64, e *SnapshotEntry) error {
			if !e.Contribution.Equals(entries[o].Contribution) {
				return fmt.Errorf("ordinal %d is %s, want %s", o, e.Contribution, entries[o].Contribution)
			}
			got = append(got, o)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := max(int(ref.Count)-int(from), 0)
		if len(got) != want || (want > 0 && got[0] != from) {
			t.Fatalf("from %d: %d entries starting at %v, want %d", from, len(got), got[:min(1, len(got))], want)
		}
	}
}

// TestVerifyFromIndex checks a node's own check of a snapshot takes the
// entries its index decided the same way from the index (no contribution
// read, no signature), and the full check does not.
func TestVerifyFromIndex(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	var ks []cid.Cid
	for i := range 5 {
		k := mustSubmit(t, f.r, memContribution(t, f.id, contributorSigner(t), stateContributed, i))
		mustSubmit(t, f.r, signedVoteOn(t, f.id, k, ownerSigner(t), Approve, 0, stateVoted))
		ks = append(ks, k)
	}
	s, _, _, err := f.r.CutSnapshot(ctx, f.id, ownerSigner(t), stateClock)
	if err != nil || s.Count != 5 {
		t.Fatalf("cut: %+v %v", s, err)
	}
	policy, prev, err := f.r.snapshotLinks(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.r.verifySnapshot(ctx, s, policy, prev, false)
	if err != nil || rep.FromIndex != 5 || rep.Signatures != 0 {
		t.Fatalf("own check: %+v %v", rep, err)
	}
	rep, err = f.r.VerifySnapshot(ctx, s)
	if err != nil || rep.FromIndex != 0 || rep.Signatures != 5 {
		t.Fatalf("full check: %+v %v", rep, err)
	}
	// After a re-vote the index no longer holds the entry's votes: that
	// entry is checked in full (and still passes: the old vote counted
	// at the cut).
	mustSubmit(t, f.r, signedVoteOn(t, f.id, ks[0], ownerSigner(t), Approve, 1, stateVoted.Add(time.Minute)))
	rep, err = f.r.verifySnapshot(ctx, s, policy, prev, false)
	if err != nil || rep.FromIndex != 4 {
		t.Fatalf("own check after a re-vote: %+v %v", rep, err)
	}
}

// TestVerifyDuplicateAcrossLeaves checks a contribution listed in two
// leaves is refused, naming it.
func TestVerifyDuplicateAcrossLeaves(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	c, err := f.r.Contribution(ctx, f.k)
	if err != nil {
		t.Fatal(err)
	}
	e := SnapshotEntry{Contribution: f.k, Root: common.Hash(c.Root), Votes: []*Vote{signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateVoted)}}
	a := &SnapshotChunk{Entries: []SnapshotEntry{e}}
	e2 := e
	e2.Votes = []*Vote{signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted)} // another leaf CID
	b := &SnapshotChunk{Entries: []SnapshotEntry{e2}}
	var refs []ChunkRef
	for _, l := range []*SnapshotChunk{a, b} {
		if err := f.r.putChunk(ctx, l); err != nil {
			t.Fatal(err)
		}
		ref, err := refOfChunk(l)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	node := &SnapshotChunk{Level: 1, Chunks: refs}
	if err := f.r.putChunk(ctx, node); err != nil {
		t.Fatal(err)
	}
	root, err := SnapshotRoot([]SnapshotEntry{e, e2})
	if err != nil {
		t.Fatal(err)
	}
	s := &Snapshot{Datanet: f.id, Policy: f.id, Version: 1, Root: root, Count: 2, Votes: 2, Entries: mustCID(t, node), Created: stateClock.Unix()}
	if err := SignSnapshot(s, testChainID, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	f.r.rules = uncheckedSnapshots{f.r.rules}
	if _, err := f.r.VerifySnapshot(ctx, s); !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), "listed twice") || !strings.Contains(err.Error(), f.k.String()) {
		t.Fatalf("VerifySnapshot = %v, want ErrBadSnapshot naming %s listed twice", err, f.k)
	}
}

// TestVerifyBadEvidenceSignature checks that a leaf whose evidence votes
// are checked together (twelve by each of two curators) still names the
// first entry whose vote does not check, whichever way it is wrong, and
// passes when every vote is its curator's.
func TestVerifyBadEvidenceSignature(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	f.r.rules = uncheckedSnapshots{f.r.rules}
	var entries []SnapshotEntry
	for i := range 12 {
		k := mustSubmit(t, f.r, memContribution(t, f.id, contributorSigner(t), stateContributed, i+1))
		c, err := f.r.Contribution(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		votes := []*Vote{
			signedVoteOn(t, f.id, k, ownerSigner(t), Approve, 0, stateVoted),
			signedVoteOn(t, f.id, k, curatorSigner(t), Approve, 0, stateVoted),
		}
		slices.SortFunc(votes, func(a, b *Vote) int { return bytes.Compare(a.Curator[:], b.Curator[:]) })
		entries = append(entries, SnapshotEntry{Contribution: k, Root: common.Hash(c.Root), Votes: votes})
	}
	slices.SortFunc(entries, func(a, b SnapshotEntry) int { return bytes.Compare(a.Contribution.Bytes(), b.Contribution.Bytes()) })
	// the curator's vote of each entry (the other is the owner's)
	cur := slices.IndexFunc(entries[0].Votes, func(v *Vote) bool { return v.Curator == curatorSigner(t).Address() })
	snapshotOf := func(entries []SnapshotEntry) *Snapshot {
		t.Helper()
		leaf := &SnapshotChunk{Entries: entries}
		if err := f.r.putChunk(ctx, leaf); err != nil {
			t.Fatal(err)
		}
		ref, err := refOfChunk(leaf)
		if err != nil {
			t.Fatal(err)
		}
		node := &SnapshotChunk{Level: 1, Chunks: []ChunkRef{ref}}
		if err := f.r.putChunk(ctx, node); err != nil {
			t.Fatal(err)
		}
		root, err := SnapshotRoot(entries)
		if err != nil {
			t.Fatal(err)
		}
		s := &Snapshot{Datanet: f.id, Policy: f.id, Version: 1, Root: root, Count: uint64(len(entries)),
			Votes: uint64(2 * len(entries)), Entries: mustCID(t, node), Created: stateClock.Unix()}
		if err := SignSnapshot(s, testChainID, ownerSigner(t)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	rep, err := f.r.VerifySnapshot(ctx, snapshotOf(entries))
	if err != nil || rep.Signatures != 24 {
		t.Fatalf("all votes good: %+v %v", rep, err)
	}
	// A vote whose V is flipped, and one signed by the other curator in
	// its name.
	flipped := *entries[7].Votes[cur]
	flipped.Signature = append([]byte(nil), flipped.Signature...)
	flipped.Signature[64] = 27 + 28 - flipped.Signature[64]
	forged := *signedVoteOn(t, f.id, entries[3].Contribution, ownerSigner(t), Approve, 0, stateVoted)
	forged.Curator = curatorSigner(t).Address()
	for _, tc := range []struct {
		name  string
		bad   map[int]*Vote
		first int
	}{
		{"V flipped", map[int]*Vote{7: &flipped}, 7},
		{"signed by another curator", map[int]*Vote{3: &forged}, 3},
		{"both: the first is named", map[int]*Vote{7: &flipped, 3: &forged}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := append([]SnapshotEntry(nil), entries...)
			for i, v := range tc.bad {
				es[i].Votes = slices.Clone(es[i].Votes)
				es[i].Votes[cur] = v
			}
			s := snapshotOf(es)
			_, err := f.r.VerifySnapshot(ctx, s)
			want := fmt.Sprintf("contribution %s: evidence vote by %s", es[tc.first].Contribution, curatorSigner(t).Address())
			if !errors.Is(err, ErrBadSnapshot) || !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), want) {
				t.Fatalf("VerifySnapshot = %v, want ErrBadSnapshot and ErrBadSignature naming %q", err, want)
			}
			// The check of a snapshot received (not full), on this node
			// that holds no vote of the Datanet (so it looks up none).
			if _, err := f.r.verifySnapshot(ctx, s, f.dn, nil, false); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), want) {
				t.Fatalf("verifySnapshot, not full = %v, want ErrBadSignature naming %q", err, want)
			}
		})
	}
	// The same check on a node that holds a vote of the Datanet (which
	// looks the evidence votes up, and holds none of them).
	mustSubmit(t, f.r, signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted))
	es := append([]SnapshotEntry(nil), entries...)
	es[7].Votes = slices.Clone(es[7].Votes)
	es[7].Votes[cur] = &flipped
	rep, err = f.r.verifySnapshot(ctx, snapshotOf(entries), f.dn, nil, false)
	if err != nil || rep.Signatures != 24 {
		t.Fatalf("all votes good, votes held: %+v %v", rep, err)
	}
	if _, err := f.r.verifySnapshot(ctx, snapshotOf(es), f.dn, nil, false); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verifySnapshot, votes held = %v, want ErrBadSignature", err)
	}
}
