package datanet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
)

// lineageFixture is a registry holding a Datanet with three contributions
// (k2 of three 1 KiB shards), a snapshot s1 of f.k and k2, a later
// snapshot s2 of k3 only, and a model trained on s1 with one artifact.
type lineageFixture struct {
	*stateFixture
	k2, k3   cid.Cid
	text2    string // the content of k2's only file, "corpus.txt"
	s1, s2   cid.Cid
	model    cid.Cid
	m        *ModelRecord
	artifact []byte
}

func newLineageFixture(t testing.TB) *lineageFixture {
	t.Helper()
	ctx := context.Background()
	f := &lineageFixture{stateFixture: newStateFixture(t)}
	f.r.rules = uncheckedSnapshots{f.r.rules}
	var b strings.Builder
	for i := 0; b.Len() < 3000; i++ {
		b.WriteString("The patient should rest and drink plenty of water. ")
	}
	f.text2 = b.String()[:3000]
	root := writeTree(t, map[string][]byte{"corpus.txt": []byte(f.text2)})
	var err error
	f.k2, _, err = f.r.Add(ctx, []string{filepath.Join(root, "corpus.txt")},
		AddOptions{Datanet: f.id, ChunkSize: MinChunkSize}, contributorSigner(t), stateContributed)
	if err != nil {
		t.Fatal(err)
	}
	f.k3 = addText(t, f.r, f.id, "c.txt", "three", stateContributed)
	s1 := stateSnapshot(t, f.stateFixture, 1, cid.Undef, f.k, f.k2)
	f.s1 = mustCID(t, s1)
	s2 := stateSnapshot(t, f.stateFixture, 2, f.s1, f.k3)
	f.s2 = mustCID(t, s2)
	for _, s := range []*Snapshot{s1, s2} {
		if _, err := f.r.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	f.artifact = bytes.Repeat([]byte("lora weights "), 200) // 2600 bytes: 3 shards of 1 KiB
	dir := writeTree(t, map[string][]byte{"lora/adapter.bin": f.artifact, "lora/config.json": []byte(`{"r":16}`)})
	f.model, f.m, err = f.r.RegisterModel(ctx, ModelSpec{
		Name:      "qa-lora",
		Base:      "meta-llama/Llama-3.1-8B",
		Snapshots: []ModelSnapshot{{Datanet: f.id, Snapshot: f.s1}},
		ChunkSize: MinChunkSize,
	}, []string{filepath.Join(dir, "lora")}, testChainID, trainerSigner(t), stateClock)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// span returns a span of the output [start, end) credited to the bytes
// [offset, offset+length) of file 0 of contribution k in snapshot s, with
// real proofs.
func (f *lineageFixture) span(t testing.TB, s, k cid.Cid, start, end uint32, offset, length uint64) AttributedSpan {
	t.Helper()
	ctx := context.Background()
	c, err := f.r.Contribution(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	file := c.Files[0]
	var leaves []proofs.Hash
	for j, sh := range file.Shards {
		size := min(c.ChunkSize, file.Size-uint64(j)*c.ChunkSize)
		leaves = append(leaves, proofs.ShardLeaf(uint64(j), mustShardDigest(t, sh), size))
	}
	tree, err := proofs.NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Root() != proofs.Hash(c.Root) {
		t.Fatal("test tree differs from the contribution's")
	}
	if ct, err := c.Tree(); err != nil || ct.Root() != proofs.Hash(c.Root) {
		t.Fatalf("Contribution.Tree: %v, root differs from the contribution's", err)
	}
	sp := AttributedSpan{
		Start: start, End: end, Snapshot: s, Contribution: k, Contributor: c.Contributor,
		Offset: offset, Length: length, Count: 1, Weight: uint64(end - start),
	}
	for j := offset / c.ChunkSize; j <= (offset+length-1)/c.ChunkSize; j++ {
		p, err := tree.Proof(int(j))
		if err != nil {
			t.Fatal(err)
		}
		sp.Shards = append(sp.Shards, SpanShard{
			Index: j, Shard: file.Shards[j], Size: min(c.ChunkSize, file.Size-j*c.ChunkSize), Proof: commonHashes(p),
		})
	}
	snap, err := f.r.Snapshot(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var entries []proofs.Hash
	at := -1
	var listed []SnapshotEntry
	if err := f.r.SnapshotEntries(ctx, snap, func(e *SnapshotEntry) error { listed = append(listed, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	for i, e := range listed {
		d, err := objectDigest(e.Contribution)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, proofs.ContributionLeaf(d, e.Root))
		if e.Contribution.Equals(k) {
			at = i
		}
	}
	if at < 0 {
		// A span the test means to be refused: any proof.
		return sp
	}
	stree, err := proofs.NewTree(entries)
	if err != nil {
		t.Fatal(err)
	}
	p, err := stree.Proof(at)
	if err != nil {
		t.Fatal(err)
	}
	sp.ContributionProof = commonHashes(p)
	return sp
}

func mustShardDigest(t testing.TB, c cid.Cid) [32]byte {
	t.Helper()
	d, err := ShardDigest(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// record returns an unsigned attribution record of an output quoting k2
// (two spans, the first across a shard boundary) through the model.
func (f *lineageFixture) record(t testing.TB) *AttributionRecord {
	t.Helper()
	output := "Advice: " + f.text2[1000:1100] + " / " + f.text2[2500:2560]
	r := &AttributionRecord{
		Model:      f.model,
		Output:     rawCID(t, []byte(output)),
		OutputSize: uint64(len(output)),
		Params:     AttributionParams{MinSpanBytes: 16, MaxSpanCount: 100, MaxOutputBytes: 4096, Normalization: "openledger-text/1"},
		Spans: []AttributedSpan{
			f.span(t, f.s1, f.k2, 8, 108, 1000, 100),
			f.span(t, f.s1, f.k2, 111, 171, 2500, 60),
		},
		Weights:    []Share{{Address: contributorSigner(t).Address(), Parts: WeightScale}},
		TokensIn:   40,
		TokensOut:  uint64(len(output)) / 4,
		Rewards:    testRewards(),
		ModelOwner: trainerSigner(t).Address(),
		Payouts: []Payout{
			{Address: contributorSigner(t).Address(), Role: RoleContributor, Amount: big.NewInt(7)},
			{Address: trainerSigner(t).Address(), Role: RoleModelOwner, Amount: big.NewInt(2)},
		},
		Created: stateClock.Unix(),
	}
	if len(r.Spans[0].Shards) != 2 {
		t.Fatalf("first span touches %d shards, want 2", len(r.Spans[0].Shards))
	}
	return r
}

func signedRecord(t testing.TB, r *AttributionRecord, chainID uint64) *AttributionRecord {
	t.Helper()
	r.Signature = nil
	if err := SignAttributionRecord(r, chainID, attesterSigner(t)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegisterModel(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t)
	m := f.m
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	if m.Owner != trainerSigner(t).Address() || m.ChainID != testChainID || m.ChunkSize != MinChunkSize || m.Created != stateClock.Unix() {
		t.Fatalf("model fields: %+v", m)
	}
	if len(m.Artifacts) != 2 || m.Artifacts[0].Path != "lora/adapter.bin" || len(m.Artifacts[0].Shards) != 3 || m.Artifacts[1].Path != "lora/config.json" {
		t.Fatalf("artifacts: %+v", m.Artifacts)
	}
	got, err := f.r.Model(ctx, f.model)
	if err != nil || !mustCID(t, got).Equals(f.model) {
		t.Fatalf("Model = %v, %v", got, err)
	}
	// The model is in its Datanet's set.
	ids, err := f.r.IDs(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if !containsCID(ids, f.model) {
		t.Fatalf("IDs of the datanet lack the model: %v", ids)
	}

	t.Run("without artifacts", func(t *testing.T) {
		c, m, err := f.r.RegisterModel(ctx, ModelSpec{Name: "plain", Snapshots: []ModelSnapshot{{Datanet: f.id, Snapshot: f.s2}}},
			nil, testChainID, trainerSigner(t), stateClock)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Artifacts) != 0 || m.ChunkSize != 0 {
			t.Fatalf("artifacts %v chunk size %d", m.Artifacts, m.ChunkSize)
		}
		if has, err := f.r.Has(ctx, c); err != nil || !has {
			t.Fatalf("not stored: %v", err)
		}
	})
	t.Run("refused before writing", func(t *testing.T) {
		before := objectCount(t, f.store)
		dir := writeTree(t, map[string][]byte{"w.bin": []byte("weights")})
		for name, tc := range map[string]struct {
			snapshots []ModelSnapshot
			want      error
		}{
			"missing snapshot": {[]ModelSnapshot{{Datanet: f.id, Snapshot: objectCIDOf(t, "nowhere")}}, ErrMissingObject},
			"not a snapshot":   {[]ModelSnapshot{{Datanet: f.id, Snapshot: f.k}}, ErrWrongKind},
			"other datanet":    {[]ModelSnapshot{{Datanet: f.k, Snapshot: f.s1}}, ErrBadModelLink},
			"no snapshot":      {nil, ErrInvalid},
		} {
			_, _, err := f.r.RegisterModel(ctx, ModelSpec{Name: "x", Snapshots: tc.snapshots, ChunkSize: MinChunkSize},
				[]string{filepath.Join(dir, "w.bin")}, testChainID, trainerSigner(t), stateClock)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
		_, _, err := f.r.RegisterModel(ctx, ModelSpec{Name: "x", Snapshots: []ModelSnapshot{{Datanet: f.id, Snapshot: f.s1}}, ChunkSize: MinChunkSize},
			[]string{filepath.Join(dir, "w.bin")}, 161201, trainerSigner(t), stateClock)
		if !errors.Is(err, ErrNotAdmitted) {
			t.Errorf("other chain: %v, want ErrNotAdmitted", err)
		}
		if after := objectCount(t, f.store); after != before {
			t.Fatalf("refused registrations stored %d objects", after-before)
		}
	})
}

func containsCID(cs []cid.Cid, c cid.Cid) bool {
	for _, x := range cs {
		if x.Equals(c) {
			return true
		}
	}
	return false
}

func TestCheckModel(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t)
	other, _, err := f.r.CreateDatanet(ctx, stateSpec(t, "other"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.r.Get(ctx, f.model)
	if err != nil {
		t.Fatal(err)
	}
	for name, topic := range map[string]cid.Cid{"its datanet's topic": f.id, "no topic": cid.Undef} {
		ch, err := f.r.Check(ctx, topic, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !ch.CID.Equals(f.model) || !ch.Datanet.Equals(f.id) || ch.Object.Kind() != KindModel {
			t.Fatalf("%s: Checked %+v", name, ch)
		}
	}
	if _, err := f.r.Check(ctx, other, data); !errors.Is(err, ErrWrongTopic) {
		t.Fatalf("model on another datanet's topic: %v, want ErrWrongTopic", err)
	}

	// A model of two Datanets goes on either topic; its Datanet is that
	// of its first snapshot.
	f.r.rules = uncheckedSnapshots{f.r.rules}
	ok := addText(t, f.r, other, "o.txt", "other", stateContributed)
	os := datanetSnapshot(t, f.r, other, 1, cid.Undef, ok)
	if _, err := f.r.Submit(ctx, os); err != nil {
		t.Fatal(err)
	}
	two := signModelOf(t, []ModelSnapshot{{Datanet: f.id, Snapshot: f.s1}, {Datanet: other, Snapshot: mustCID(t, os)}}, testChainID)
	for _, topic := range []cid.Cid{f.id, other} {
		ch, err := f.r.Check(ctx, topic, encodeObject(t, two))
		if err != nil {
			t.Fatalf("model of two datanets on the topic of %s: %v", topic, err)
		}
		if !ch.Datanet.Equals(two.Snapshots[0].Datanet) {
			t.Fatalf("Checked.Datanet %s, want the first snapshot's %s", ch.Datanet, two.Snapshots[0].Datanet)
		}
	}

	tests := []struct {
		name      string
		model     *ModelRecord
		want      error
		judgeable bool // provably bad, rather than "cannot judge yet"
	}{
		{"missing snapshot", signModelOf(t, []ModelSnapshot{{Datanet: f.id, Snapshot: objectCIDOf(t, "nowhere")}}, testChainID), ErrMissingObject, false},
		{"contribution as snapshot", signModelOf(t, []ModelSnapshot{{Datanet: f.id, Snapshot: f.k}}, testChainID), ErrWrongKind, true},
		{"snapshot of another datanet", signModelOf(t, []ModelSnapshot{{Datanet: other, Snapshot: f.s1}}, testChainID), ErrBadModelLink, true},
		{"other chain", signModelOf(t, []ModelSnapshot{{Datanet: f.id, Snapshot: f.s1}}, 161201), ErrNotAdmitted, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.r.Check(ctx, cid.Undef, encodeObject(t, tt.model))
			t.Log(err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if CannotJudgeYet(err) == tt.judgeable {
				t.Fatalf("CannotJudgeYet(%v) = %t", err, !tt.judgeable)
			}
		})
	}
	// A forged signature is refused before anything is looked up.
	forged := signModelOf(t, []ModelSnapshot{{Datanet: f.id, Snapshot: f.s1}}, testChainID)
	forged.Name = "renamed"
	if _, err := f.r.Check(ctx, cid.Undef, encodeObject(t, forged)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged model: %v, want ErrBadSignature", err)
	}
}

func entryOf(t testing.TB, r *Registry, k cid.Cid) SnapshotEntry {
	t.Helper()
	c, err := r.Contribution(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return SnapshotEntry{Contribution: k, Root: common.Hash(c.Root)}
}

func signModelOf(t testing.TB, snapshots []ModelSnapshot, chainID uint64) *ModelRecord {
	t.Helper()
	m := &ModelRecord{Name: "m", Snapshots: snapshots, Created: stateClock.Unix()}
	SortModelSnapshots(m.Snapshots)
	if err := SignModel(m, chainID, trainerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckAttribution(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t)
	rec := signedRecord(t, f.record(t), testChainID)
	ch, err := f.r.Submit(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	rc := mustCID(t, rec)
	if !ch.CID.Equals(rc) || !ch.Datanet.Equals(f.id) {
		t.Fatalf("Checked %+v", ch)
	}
	if _, err := f.r.Check(ctx, f.id, encodeObject(t, rec)); err != nil {
		t.Fatalf("record on its model's datanet's topic: %v", err)
	}
	other, _, err := f.r.CreateDatanet(ctx, stateSpec(t, "other"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Check(ctx, other, encodeObject(t, rec)); !errors.Is(err, ErrWrongTopic) {
		t.Fatalf("record on another datanet's topic: %v, want ErrWrongTopic", err)
	}

	// Another node that lacks the model cannot judge it yet.
	fresh, _ := newTestRegistry(t)
	_, err = fresh.Check(ctx, cid.Undef, encodeObject(t, rec))
	if !errors.Is(err, ErrMissingObject) || !CannotJudgeYet(err) {
		t.Fatalf("record without its model: %v, want ErrMissingObject, cannot judge yet", err)
	}

	stranger := strangerSigner(t).Address()
	tests := []struct {
		name   string
		change func(r *AttributionRecord)
		chain  uint64
		want   error
		later  bool // cannot judge yet
	}{
		{"model not held", func(r *AttributionRecord) { r.Model = objectCIDOf(t, "no model") }, testChainID, ErrMissingObject, true},
		{"model is a snapshot", func(r *AttributionRecord) { r.Model = f.s1 }, testChainID, ErrWrongKind, false},
		{"wrong chain ID", func(r *AttributionRecord) {}, 161201, ErrNotAdmitted, false},
		{"another model owner", func(r *AttributionRecord) {
			r.ModelOwner = stranger
			r.Payouts[1].Address = stranger
		}, testChainID, ErrBadAttributionLink, false},
		{"snapshot not in the model", func(r *AttributionRecord) {
			r.Spans[1] = f.span(t, f.s2, f.k3, 111, 116, 0, 5)
		}, testChainID, ErrBadAttributionLink, false},
		{"contribution not in the snapshot", func(r *AttributionRecord) {
			sp := f.span(t, f.s1, f.k3, 111, 116, 0, 5)
			r.Spans[1] = sp
		}, testChainID, ErrBadAttributionLink, false},
		{"contribution proof broken", func(r *AttributionRecord) {
			r.Spans[0].ContributionProof[0][0] ^= 1
		}, testChainID, ErrBadAttributionLink, false},
		{"contribution proof dropped", func(r *AttributionRecord) {
			r.Spans[0].ContributionProof = nil
		}, testChainID, ErrBadAttributionLink, false},
		{"shard proof broken", func(r *AttributionRecord) {
			r.Spans[0].Shards[1].Proof[0][31] ^= 1
		}, testChainID, ErrBadAttributionLink, false},
		{"shard of another index", func(r *AttributionRecord) {
			r.Spans[1].Shards[0].Index = 0
		}, testChainID, ErrBadAttributionLink, false},
		{"shard of another size", func(r *AttributionRecord) {
			r.Spans[1].Shards[0].Size--
		}, testChainID, ErrBadAttributionLink, false},
		{"another contributor", func(r *AttributionRecord) {
			for i := range r.Spans {
				r.Spans[i].Contributor = stranger
			}
			r.Weights[0].Address, r.Payouts[0].Address = stranger, stranger
		}, testChainID, ErrBadAttributionLink, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.record(t)
			tt.change(r)
			r = signedRecord(t, r, tt.chain)
			_, err := f.r.Check(ctx, cid.Undef, encodeObject(t, r))
			t.Log(err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if CannotJudgeYet(err) != tt.later {
				t.Fatalf("CannotJudgeYet(%v) = %t, want %t", err, !tt.later, tt.later)
			}
			if _, err := f.r.Submit(ctx, r); err == nil {
				t.Fatal("Submit stored a refused record")
			}
		})
	}
	recs, err := f.r.AllAttributionRecords(ctx)
	if err != nil || !sameCIDs(recs, []cid.Cid{rc}) {
		t.Fatalf("AllAttributionRecords after the refusals = %v, %v", recs, err)
	}
}

func TestLineageLookups(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t)

	// Two more models, one older, one of the same second.
	older, _, err := f.r.RegisterModel(ctx, ModelSpec{Name: "older", Snapshots: []ModelSnapshot{{Datanet: f.id, Snapshot: f.s1}}},
		nil, testChainID, trainerSigner(t), stateClock.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	twin, _, err := f.r.RegisterModel(ctx, ModelSpec{Name: "twin", Snapshots: []ModelSnapshot{{Datanet: f.id, Snapshot: f.s2}}},
		nil, testChainID, trainerSigner(t), stateClock)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := f.r.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []cid.Cid{older, f.model, twin}
	if strings.Compare(twin.KeyString(), f.model.KeyString()) < 0 {
		want[1], want[2] = twin, f.model
	}
	var got []cid.Cid
	for _, ref := range refs {
		got = append(got, ref.CID)
		if !mustCID(t, ref.Model).Equals(ref.CID) {
			t.Fatalf("ref %s holds another model", ref.CID)
		}
	}
	if !sameCIDs(got, want) {
		t.Fatalf("Models = %v\nwant by created, then CID: %v", got, want)
	}

	// Records of two models.
	var mine []cid.Cid
	for i := range 3 {
		r := f.record(t)
		r.TokensIn += uint64(i)
		r = signedRecord(t, r, testChainID)
		if _, err := f.r.Submit(ctx, r); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, mustCID(t, r))
	}
	o := f.record(t)
	o.Model = older
	o = signedRecord(t, o, testChainID)
	if _, err := f.r.Submit(ctx, o); err != nil {
		t.Fatal(err)
	}
	SortCIDs(mine)
	recs, err := f.r.AttributionRecords(ctx, f.model)
	if err != nil || !sameCIDs(recs, mine) {
		t.Fatalf("AttributionRecords = %v, %v\nwant %v", recs, err, mine)
	}
	if recs, err := f.r.AttributionRecords(ctx, twin); err != nil || len(recs) != 0 {
		t.Fatalf("AttributionRecords of a model without records = %v, %v", recs, err)
	}
	all := append([]cid.Cid{mustCID(t, o)}, mine...)
	SortCIDs(all)
	if got, err := f.r.AllAttributionRecords(ctx); err != nil || !sameCIDs(got, all) {
		t.Fatalf("AllAttributionRecords = %v, %v\nwant %v", got, err, all)
	}
	if r, err := f.r.AttributionRecord(ctx, mine[0]); err != nil || !mustCID(t, r).Equals(mine[0]) {
		t.Fatalf("AttributionRecord = %v, %v", r, err)
	}
	// Records are in no Datanet's set, and the contribution's votes are
	// still its votes.
	ids, err := f.r.IDs(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if containsCID(ids, mine[0]) {
		t.Fatal("a record is in the datanet's set")
	}
	if n := voteCount(t, f.r, f.k2); n != 0 {
		t.Fatalf("Votes on a credited contribution: %d", n)
	}

	// Epochs: stored whatever their prev, listed by number then CID.
	var epochs []*RewardEpoch
	for _, n := range []uint64{3, 1, 2, 2} {
		e := &RewardEpoch{
			Number: n, Records: mine[:1],
			Balances:    []Balance{{Address: contributorSigner(t).Address(), Cumulative: big.NewInt(int64(7 * n))}},
			Root:        [32]byte{byte(n), byte(len(epochs))},
			Distributor: testDistributor,
			Created:     stateClock.Unix(),
		}
		if n > 1 {
			e.Prev = objectCIDOf(t, "some epoch")
		}
		if err := SignRewardEpoch(e, testChainID, ownerSigner(t)); err != nil {
			t.Fatal(err)
		}
		ch, err := f.r.Submit(ctx, e)
		if err != nil {
			t.Fatalf("epoch %d: %v", n, err)
		}
		if ch.Datanet.Defined() {
			t.Fatalf("epoch's Checked.Datanet = %s, want undefined", ch.Datanet)
		}
		epochs = append(epochs, e)
	}
	if _, err := f.r.Check(ctx, f.id, encodeObject(t, epochs[0])); err != nil {
		t.Fatalf("epoch on a datanet's topic: %v", err)
	}
	erefs, err := f.r.RewardEpochs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantEpochs := []cid.Cid{mustCID(t, epochs[1]), mustCID(t, epochs[2]), mustCID(t, epochs[3]), mustCID(t, epochs[0])}
	if bytes.Compare(wantEpochs[2].Bytes(), wantEpochs[1].Bytes()) < 0 {
		wantEpochs[1], wantEpochs[2] = wantEpochs[2], wantEpochs[1]
	}
	var gotEpochs []cid.Cid
	for _, ref := range erefs {
		gotEpochs = append(gotEpochs, ref.CID)
		if !mustCID(t, ref.Epoch).Equals(ref.CID) {
			t.Fatalf("ref %s holds another epoch", ref.CID)
		}
	}
	if !sameCIDs(gotEpochs, wantEpochs) {
		t.Fatalf("RewardEpochs = %v\nwant by number, then CID: %v", gotEpochs, wantEpochs)
	}
	if e, err := f.r.RewardEpoch(ctx, wantEpochs[0]); err != nil || e.Number != 1 {
		t.Fatalf("RewardEpoch = %+v, %v", e, err)
	}

	// Each lookup refuses another kind.
	for name, err := range map[string]error{
		"Model":             second(f.r.Model(ctx, mine[0])),
		"AttributionRecord": second(f.r.AttributionRecord(ctx, f.model)),
		"RewardEpoch":       second(f.r.RewardEpoch(ctx, f.s1)),
	} {
		if !errors.Is(err, ErrWrongKind) {
			t.Errorf("%s of another kind: %v, want ErrWrongKind", name, err)
		}
	}
	if _, err := f.r.Model(ctx, objectCIDOf(t, "nowhere")); !IsNotFound(err) {
		t.Errorf("Model of nothing: %v, want not found", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestResolveModel(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t)
	res, err := f.r.Resolve(ctx, "/content/"+f.model.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != ResolvedDirectory || len(res.Files) != 2 || res.ChunkSize != MinChunkSize {
		t.Fatalf("Resolve(model) = %+v", res)
	}
	res, err = f.r.Resolve(ctx, f.model.String()+"/lora/adapter.bin")
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != ResolvedFile || res.File.Path != "lora/adapter.bin" {
		t.Fatalf("Resolve(model/lora/adapter.bin) = %+v", res)
	}
	rd, err := f.r.OpenFile(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, f.artifact) {
		t.Fatalf("read %d bytes (%v), want the %d of the artifact", len(got), err, len(f.artifact))
	}
	if res, err := f.r.Resolve(ctx, f.model.String()+"/lora"); err != nil || res.Kind != ResolvedDirectory || len(res.Files) != 2 {
		t.Fatalf("Resolve(model/lora) = %+v, %v", res, err)
	}
	if _, err := f.r.Resolve(ctx, f.model.String()+"/missing.bin"); !errors.Is(err, ErrNoSuchPath) {
		t.Fatalf("Resolve of a missing artifact: %v, want ErrNoSuchPath", err)
	}
	rec := signedRecord(t, f.record(t), testChainID)
	if _, err := f.r.Submit(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if res, err := f.r.Resolve(ctx, mustCID(t, rec).String()); err != nil || res.Kind != ResolvedObject {
		t.Fatalf("Resolve(record) = %+v, %v", res, err)
	}
	if _, err := f.r.Resolve(ctx, mustCID(t, rec).String()+"/x"); !errors.Is(err, ErrNoSuchPath) {
		t.Fatalf("Resolve(record/x) = %v, want ErrNoSuchPath", err)
	}
}

func TestPutLineageFromNetwork(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t)
	rec := signedRecord(t, f.record(t), testChainID)
	if _, err := f.r.Submit(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// Another node receives the Datanet's objects in order, then the
	// model and the record.
	dst, _ := newTestRegistry(t)
	dst.rules = f.r.rules
	order := []cid.Cid{f.id, f.k, f.k2, f.k3, f.s1, f.model, mustCID(t, rec)}
	for i, c := range order {
		data, err := f.r.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if i == len(order)-2 {
			// A record before its model cannot be judged.
			recData := encodeObject(t, rec)
			if _, err := dst.Put(ctx, recData); !CannotJudgeYet(err) {
				t.Fatalf("record before its model: %v", err)
			}
		}
		_, err = dst.Put(ctx, data)
		for _, m := range MissingCIDs(err) { // a snapshot's chunks, fetched by CID
			chunk, gerr := f.r.Get(ctx, m)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if _, gerr := dst.PutFetched(ctx, m, chunk); gerr != nil {
				t.Fatal(gerr)
			}
			_, err = dst.Put(ctx, data)
		}
		if err != nil {
			t.Fatalf("put %s: %v", c, err)
		}
	}
	recs, err := dst.AttributionRecords(ctx, f.model)
	if err != nil || !sameCIDs(recs, []cid.Cid{mustCID(t, rec)}) {
		t.Fatalf("AttributionRecords on the other node = %v, %v", recs, err)
	}
}
