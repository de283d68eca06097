package datanet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// recordInput returns the input BuildAttributionRecord needs to build the
// fixture's record: its fields, and its spans without their proofs.
func (f *lineageFixture) recordInput(t *testing.T, want *AttributionRecord) RecordInput {
	t.Helper()
	ctx := context.Background()
	output := "Advice: " + f.text2[1000:1100] + " / " + f.text2[2500:2560]
	in := RecordInput{
		Model: want.Model, ModelRecord: f.m, Output: []byte(output), Params: want.Params,
		TokensIn: want.TokensIn, TokensOut: want.TokensOut, Rewards: want.Rewards,
		Weights: want.Weights, Payouts: want.Payouts,
		Snapshots: map[cid.Cid]*SnapshotProofs{}, Contributions: map[cid.Cid]*Contribution{},
		Attester: want.Attester, Created: want.Created,
	}
	for _, sp := range want.Spans {
		sp.Shards, sp.ContributionProof = nil, nil
		in.Spans = append(in.Spans, sp)
		var err error
		if in.Snapshots[sp.Snapshot], err = f.r.SnapshotTreeOf(ctx, mustSnapshot(t, f, sp.Snapshot)); err != nil {
			t.Fatal(err)
		}
		if in.Contributions[sp.Contribution], err = f.r.Contribution(ctx, sp.Contribution); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// TestBuildAttributionRecord checks the builder gives, byte for byte, the
// record the fixture assembles with proofs computed independently (one
// span across a shard boundary), and refuses inputs it cannot prove.
func TestBuildAttributionRecord(t *testing.T) {
	f := newLineageFixture(t)
	want := f.record(t)
	want.Attester, want.ChainID = attesterSigner(t).Address(), f.m.ChainID
	got, err := BuildAttributionRecord(f.recordInput(t, want))
	if err != nil {
		t.Fatal(err)
	}
	wb, gb := encodeObject(t, want), encodeObject(t, got)
	if !bytes.Equal(wb, gb) {
		t.Fatalf("built record differs from the fixture's:\n got %+v\nwant %+v", got, want)
	}

	tests := []struct {
		name   string
		change func(*RecordInput)
		want   error
		text   string
	}{
		{"no model", func(in *RecordInput) { in.ModelRecord = nil }, ErrInvalid, "without a model"},
		{"contribution missing", func(in *RecordInput) { clear(in.Contributions) }, nil, "not given"},
		{"snapshot missing", func(in *RecordInput) { clear(in.Snapshots) }, nil, "not given"},
		{"not in the snapshot", func(in *RecordInput) { in.Spans[0].Snapshot = f.s2; in.Snapshots[f.s2] = mustProofs(t, f, f.s2) }, nil, "is not in the snapshot"},
		{"outside the file", func(in *RecordInput) { in.Spans[1].Offset = 2990 }, nil, "outside file"},
		{"no such file", func(in *RecordInput) { in.Spans[1].File = 3 }, nil, "file 3 of a contribution of 1 files"},
		{"corrupt contribution", func(in *RecordInput) {
			k := *in.Contributions[f.k2]
			k.Root[0] ^= 1
			in.Contributions[f.k2] = &k
		}, storage.ErrCorrupt, "do not hash to its root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := f.recordInput(t, want)
			tt.change(&in)
			_, err := BuildAttributionRecord(in)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("BuildAttributionRecord = %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}

func mustProofs(t *testing.T, f *lineageFixture, c cid.Cid) *SnapshotProofs {
	t.Helper()
	p, err := f.r.SnapshotTreeOf(context.Background(), mustSnapshot(t, f, c))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustSnapshot(t *testing.T, f *lineageFixture, c cid.Cid) *Snapshot {
	t.Helper()
	s, err := f.r.Snapshot(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAnchorLeaf checks an object's anchored leaf is proofs.ObjectLeaf of
// the sha256 of its encoding, that a proof's ID is read back to that leaf,
// and that what is not a sha2-256 CID is refused.
func TestAnchorLeaf(t *testing.T) {
	f := newStateFixture(t)
	data, err := f.r.Get(context.Background(), f.k)
	if err != nil {
		t.Fatal(err)
	}
	want := proofs.ObjectLeaf(sha256.Sum256(data))
	if got, err := AnchorLeaf(f.k); err != nil || got != want {
		t.Fatalf("AnchorLeaf = %s %v, want %s", got, err, want)
	}
	if got, err := ProofLeaf(&proofs.AnchorProof{ID: f.k.Bytes()}); err != nil || got != want {
		t.Fatalf("ProofLeaf = %s %v, want %s", got, err, want)
	}
	if _, err := ProofLeaf(&proofs.AnchorProof{ID: []byte("not a cid")}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ProofLeaf(not a CID) = %v, want ErrInvalid", err)
	}
	id := cid.NewCidV1(cid.Raw, mustMultihash(t, []byte("x"), multihash.SHA2_512))
	if _, err := AnchorLeaf(id); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AnchorLeaf(sha2-512 CID) = %v, want ErrInvalid", err)
	}
}

func mustMultihash(t *testing.T, b []byte, code uint64) multihash.Multihash {
	t.Helper()
	h, err := multihash.Sum(b, code, -1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
