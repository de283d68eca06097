package datanet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// Hardhat and Anvil accounts 0 to 3. Never use them for anything of value.
const (
	extOwnerKey       = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	extContributorKey = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
	extCuratorKey     = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
	extThirdKey       = "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
	extChainID        = 1612
)

func extSigner(t testing.TB, hexKey string) datanet.Signer {
	t.Helper()
	key, err := crypto.HexToECDSA(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	return datanet.NewKeySigner(key)
}

// The timeline: the Datanet, its contributions an hour later, votes an hour
// after that, the first cut an hour later still.
var (
	extCreated     = time.Unix(1_760_000_000, 0)
	extContributed = extCreated.Add(time.Hour)
	extVoted       = extCreated.Add(2 * time.Hour)
	extCut         = extCreated.Add(3 * time.Hour)
)

// snapNode is a registry with the curation rules, its clock at now.
type snapNode struct {
	r     *datanet.Registry
	store *storage.Store
	now   time.Time
}

func newSnapNode(t testing.TB) *snapNode {
	t.Helper()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	n := &snapNode{store: store, now: extCut}
	n.r, err = datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}, Now: func() time.Time { return n.now }})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// snapFixture is a Datanet with three curators (owner 2, curator 1, third
// 1; quorum 2, threshold 6667 bps, 7-day window) and two contributions:
// k1, which the owner and the third approve, and k2, which only the curator
// approves, short of the quorum.
type snapFixture struct {
	*snapNode
	owner, contributor, curator, third datanet.Signer

	id     cid.Cid
	k1, k2 cid.Cid
	votes  []*datanet.Vote // in submission order
}

func extSpec(t testing.TB, name string, curators ...datanet.Signer) datanet.DatanetSpec {
	spec := datanet.DatanetSpec{
		Name:         name,
		Kinds:        []string{"txt"},
		Quorum:       2,
		ThresholdBps: 6667,
		Window:       7 * 24 * 3600,
	}
	for i, s := range curators {
		w := uint64(1)
		if i == 0 {
			w = 2
		}
		spec.Curators = append(spec.Curators, datanet.Curator{Address: s.Address(), Weight: w})
	}
	return spec
}

func newSnapFixture(t testing.TB) *snapFixture {
	t.Helper()
	ctx := context.Background()
	f := &snapFixture{
		snapNode:    newSnapNode(t),
		owner:       extSigner(t, extOwnerKey),
		contributor: extSigner(t, extContributorKey),
		curator:     extSigner(t, extCuratorKey),
		third:       extSigner(t, extThirdKey),
	}
	var err error
	f.id, _, err = f.r.CreateDatanet(ctx, extSpec(t, "qa", f.owner, f.curator, f.third), extChainID, f.owner, extCreated)
	if err != nil {
		t.Fatal(err)
	}
	f.k1 = f.add(t, f.id, "a.txt", "first", extContributed)
	f.k2 = f.add(t, f.id, "b.txt", "second", extContributed.Add(time.Minute))
	f.vote(t, f.id, f.k1, f.owner, datanet.Approve, extVoted)
	f.vote(t, f.id, f.k1, f.third, datanet.Approve, extVoted)
	f.vote(t, f.id, f.k2, f.curator, datanet.Approve, extVoted)
	return f
}

func (f *snapFixture) add(t testing.TB, id cid.Cid, name, content string, at time.Time) cid.Cid {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := f.r.Add(context.Background(), []string{p}, datanet.AddOptions{Datanet: id, ChunkSize: 1 << 20}, f.contributor, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// vote submits s's next vote on k.
func (f *snapFixture) vote(t testing.TB, id, k cid.Cid, s datanet.Signer, d datanet.Decision, at time.Time) *datanet.Vote {
	t.Helper()
	ctx := context.Background()
	seq, err := f.r.NextVoteSeq(ctx, k, s.Address())
	if err != nil {
		t.Fatal(err)
	}
	v := &datanet.Vote{Datanet: id, Contribution: k, Decision: d, Seq: seq, Created: at.Unix()}
	if err := datanet.SignVote(v, extChainID, s); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Submit(ctx, v); err != nil {
		t.Fatal(err)
	}
	f.votes = append(f.votes, v)
	return v
}

// cut cuts, signs (by signer) and stores a snapshot of the Datanet id at
// the node's clock.
func (f *snapFixture) cut(t testing.TB, id cid.Cid, signer datanet.Signer) (*datanet.Snapshot, cid.Cid) {
	t.Helper()
	s, c, _, err := f.r.CutSnapshot(context.Background(), id, signer, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// entry returns contribution k's entry with votes as its evidence.
func (f *snapFixture) entry(t testing.TB, k cid.Cid, votes ...*datanet.Vote) datanet.SnapshotEntry {
	t.Helper()
	c, err := f.r.Contribution(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	e := datanet.SnapshotEntry{Contribution: k, Root: common.Hash(c.Root), Votes: slices.Clone(votes)}
	datanet.SortVotesByCurator(e.Votes)
	return e
}

// votesOn returns the fixture's votes on k, the latest of each curator.
func (f *snapFixture) votesOn(k cid.Cid) []*datanet.Vote {
	latest := map[common.Address]*datanet.Vote{}
	for _, v := range f.votes {
		if v.Contribution.Equals(k) {
			latest[v.Curator] = v
		}
	}
	var out []*datanet.Vote
	for _, v := range latest {
		out = append(out, v)
	}
	return out
}

// forge stores an entry tree over entries and returns an unsigned version
// 1 snapshot of the Datanet id naming it, under the Datanet's head, at the
// node's clock: a snapshot a cut need not make.
func (f *snapFixture) forge(t testing.TB, id cid.Cid, entries ...datanet.SnapshotEntry) *datanet.Snapshot {
	t.Helper()
	ctx := context.Background()
	datanet.SortEntries(entries)
	ref, root, err := f.r.WriteEntryTree(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.r.Head(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return &datanet.Snapshot{Datanet: id, Policy: head.CID, Version: 1, Root: root, Count: ref.Count,
		Votes: ref.Votes, Entries: ref.Chunk, Created: f.now.Unix()}
}

func extSign(t testing.TB, s *datanet.Snapshot, signer datanet.Signer) *datanet.Snapshot {
	t.Helper()
	s.Signature = nil
	if err := datanet.SignSnapshot(s, extChainID, signer); err != nil {
		t.Fatal(err)
	}
	return s
}

func extCID(t testing.TB, obj datanet.Object) cid.Cid {
	t.Helper()
	c, err := obj.CID()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func extEncode(t testing.TB, obj datanet.Object) []byte {
	t.Helper()
	data, err := obj.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (n *snapNode) objects(t testing.TB) int {
	t.Helper()
	st, err := n.store.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Objects
}

func (n *snapNode) snapshots(t testing.TB, id cid.Cid) []cid.Cid {
	t.Helper()
	refs, err := n.r.Snapshots(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]cid.Cid, len(refs))
	for i, ref := range refs {
		out[i] = ref.CID
	}
	return out
}

func sameCIDList(a, b []cid.Cid) bool {
	return slices.EqualFunc(a, b, func(x, y cid.Cid) bool { return x.Equals(y) })
}

// entriesOf lists a snapshot's entries.
func (n *snapNode) entriesOf(t testing.TB, s *datanet.Snapshot) []datanet.SnapshotEntry {
	t.Helper()
	var out []datanet.SnapshotEntry
	if err := n.r.SnapshotEntries(context.Background(), s, func(e *datanet.SnapshotEntry) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// putWithChunks stores a snapshot from another node as a fetch does: Put,
// and while it misses objects, fetch them from src (PutFetched) and again.
func (n *snapNode) putWithChunks(t testing.TB, src *datanet.Registry, data []byte) error {
	t.Helper()
	ctx := context.Background()
	for range 8 {
		_, err := n.r.Put(ctx, data)
		missing := datanet.MissingCIDs(err)
		if len(missing) == 0 {
			return err
		}
		for _, c := range missing {
			b, gerr := src.Get(ctx, c)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if _, err := n.r.PutFetched(ctx, c, b); err != nil {
				t.Fatalf("PutFetched(%s): %v", c, err)
			}
		}
	}
	t.Fatal("the snapshot still misses objects after 8 rounds")
	return nil
}

// TestSnapshotLifecycle cuts snapshots from a registry's index, each
// reusing the leaves of the one before that did not change, and has a
// second node check them after syncing the objects and fetching the
// chunks.
func TestSnapshotLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newSnapFixture(t)

	// Only k1 is accepted: k2 has 1 of the quorum of 2.
	s1, s1CID := f.cut(t, f.id, f.contributor)
	if s1.Version != 1 || s1.Prev.Defined() || s1.Count != 1 || s1.Votes != 2 || !s1.Policy.Equals(f.id) || s1.Cutter != f.contributor.Address() {
		t.Fatalf("first cut: %+v", s1)
	}
	if es := f.entriesOf(t, s1); len(es) != 1 || !es[0].Contribution.Equals(f.k1) || len(es[0].Votes) != 2 {
		t.Fatalf("first cut entries: %+v", es)
	}
	if got := f.snapshots(t, f.id); !sameCIDList(got, []cid.Cid{s1CID}) {
		t.Fatalf("Snapshots = %v", got)
	}
	if pinned, err := f.store.IsPinned(ctx, s1CID); err != nil || !pinned {
		t.Fatalf("snapshot pinned: %v %v", pinned, err)
	}
	// The same snapshot again is fine and stored once.
	if _, err := f.r.Submit(ctx, s1); err != nil {
		t.Fatalf("the same snapshot again: %v", err)
	}
	// A third party's full check passes.
	if rep, err := f.r.VerifySnapshot(ctx, s1); err != nil || rep.Entries != 1 || rep.Signatures != 2 {
		t.Fatalf("VerifySnapshot = %+v %v", rep, err)
	}

	// The third approves k2: the next cut keeps the first leaf as it was
	// and writes one leaf for k2.
	f.vote(t, f.id, f.k2, f.third, datanet.Approve, extVoted.Add(time.Hour))
	f.now = extCut.Add(2 * time.Hour)
	s2, s2CID, stats, err := f.r.CutSnapshot(ctx, f.id, f.curator, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Version != 2 || !s2.Prev.Equals(s1CID) || s2.Count != 2 || s2.Votes != 4 || stats.Reused != 1 || stats.Written != 1 {
		t.Fatalf("second cut: %+v %+v", s2, stats)
	}
	if got := f.snapshots(t, f.id); !sameCIDList(got, []cid.Cid{s1CID, s2CID}) {
		t.Fatalf("Snapshots = %v, want version 1 then 2", got)
	}

	// A policy update: the next snapshot names the new head.
	v1, err := f.r.UpdateDatanet(ctx, f.id, datanet.DatanetUpdate{ThresholdBps: ptrTo[uint32](5000)}, f.owner, f.now)
	if err != nil {
		t.Fatal(err)
	}
	s3, s3CID := f.cut(t, f.id, f.owner)
	if !s3.Policy.Equals(v1.CID) || s3.Version != 3 || !s3.Prev.Equals(s2CID) || s3.Count != 2 {
		t.Fatalf("third cut: %+v", s3)
	}

	// A second node syncs the objects, in an order that respects their
	// links, and takes the same snapshots, fetching their chunks; a
	// registry on its store whose rules refuse every entry stores none.
	g := newSnapNode(t)
	g.now = f.now
	refusing, err := datanet.NewRegistry(g.store, datanet.Config{Rules: refuseSnapshots{}, Now: func() time.Time { return g.now }})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.r.IDs(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2+2+4+3 {
		t.Fatalf("IDs lists %d objects, want 11", len(ids))
	}
	for _, kind := range []string{datanet.KindDatanet, datanet.KindContribution, datanet.KindVote} {
		for _, c := range ids {
			data, err := f.r.Get(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if k, err := datanet.KindOf(data); err != nil || k != kind {
				continue
			}
			if _, err := g.r.Put(ctx, data); err != nil {
				t.Fatalf("sync %s %s: %v", kind, c, err)
			}
		}
	}
	refusedData := extEncode(t, s1)
	if err := (&snapNode{r: refusing, store: g.store}).putWithChunks(t, f.r, refusedData); !errors.Is(err, errRefused) {
		t.Fatalf("Put on a registry refusing entries = %v", err)
	}
	if got := g.snapshots(t, f.id); len(got) != 0 {
		t.Fatalf("refused snapshots stored: %v", got)
	}
	for _, c := range []cid.Cid{s1CID, s2CID, s3CID} {
		data, err := f.r.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.putWithChunks(t, f.r, data); err != nil {
			t.Fatalf("second node, snapshot %s: %v", c, err)
		}
	}
	gids, err := g.r.IDs(ctx, f.id)
	if err != nil || !sameCIDList(gids, ids) {
		t.Fatalf("the nodes' IDs differ:\n%v\n%v (%v)", ids, gids, err)
	}
	// Both nodes cut the same next snapshot from the same state.
	gf := &snapFixture{snapNode: g}
	a, _ := f.cut(t, f.id, f.owner)
	b, _ := gf.cut(t, f.id, f.owner)
	if a.Entries != b.Entries || a.Root != b.Root || extCID(t, a) != extCID(t, b) {
		t.Fatal("two nodes with the same state cut different snapshots")
	}
}

var errRefused = errors.New("refused by the test's rules")

// refuseSnapshots are the curation rules refusing every snapshot entry.
type refuseSnapshots struct{ curation.Rules }

func (refuseSnapshots) VerifyEntry(*datanet.Datanet, *datanet.Snapshot, *datanet.Contribution, *datanet.SnapshotEntry) error {
	return errRefused
}

// TestNewRegistryNeedsRules checks a registry is not built without curation
// rules: it would keep votes and snapshots every other node refuses.
func TestNewRegistryNeedsRules(t *testing.T) {
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := datanet.NewRegistry(store, datanet.Config{}); err == nil {
		t.Fatal("NewRegistry without Rules succeeded")
	}
	if _, err := datanet.NewRegistry(nil, datanet.Config{Rules: curation.Rules{}}); err == nil {
		t.Fatal("NewRegistry without a store succeeded")
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestSnapshotRefused submits snapshots that are wrong in one way each:
// each fails with its error, is classified rightly, and changes nothing.
func TestSnapshotRefused(t *testing.T) {
	ctx := context.Background()
	f := newSnapFixture(t)
	_, s1CID := f.cut(t, f.id, f.contributor)

	// Another Datanet with the same curators, a contribution its owner
	// accepted, and a snapshot of it.
	other, _, err := f.r.CreateDatanet(ctx, extSpec(t, "other", f.owner, f.curator, f.third), extChainID, f.owner, extCreated)
	if err != nil {
		t.Fatal(err)
	}
	otherK := f.add(t, other, "o.txt", "other", extContributed)
	f.vote(t, other, otherK, f.owner, datanet.Approve, extVoted)
	_, otherSCID := f.cut(t, other, f.owner)

	k1 := f.entry(t, f.k1, f.votesOn(f.k1)...)
	// A contribution to this Datanet, signed but not held here.
	loose := &datanet.Contribution{
		Datanet:   f.id,
		Files:     []datanet.File{{Path: "x.txt", Size: 1, Shards: []cid.Cid{storage.ShardCID([]byte("x"))}}},
		Root:      crypto.Keccak256Hash([]byte("x")),
		Size:      1,
		ChunkSize: 1 << 20,
		Created:   extContributed.Unix(),
	}
	if err := datanet.SignContribution(loose, extChainID, f.contributor); err != nil {
		t.Fatal(err)
	}
	looseVote := &datanet.Vote{Datanet: f.id, Contribution: extCID(t, loose), Decision: datanet.Approve, Created: extVoted.Unix()}
	if err := datanet.SignVote(looseVote, extChainID, f.owner); err != nil {
		t.Fatal(err)
	}
	// A version of the policy, signed but not held here.
	d, err := f.r.Datanet(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	unheld := *d
	unheld.Signature, unheld.Seq, unheld.Prev, unheld.Created = nil, 1, f.id, d.Created+1
	if err := datanet.SignDatanet(&unheld, f.owner); err != nil {
		t.Fatal(err)
	}
	// A leaf not stored here: k1 with one of its two votes.
	missingLeaf := &datanet.SnapshotChunk{Entries: []datanet.SnapshotEntry{f.entry(t, f.k1, f.votesOn(f.k1)[0])}}
	missingLeafCID := extCID(t, missingLeaf)

	tests := []struct {
		name string
		// make returns the snapshot to submit, signed unless it says so.
		make        func(t *testing.T) *datanet.Snapshot
		topic       cid.Cid
		want        error
		cannotJudge bool
		names       cid.Cid // a CID the error must name
	}{
		{
			name: "includes a contribution short of the quorum",
			make: func(t *testing.T) *datanet.Snapshot {
				return extSign(t, f.forge(t, f.id, k1, f.entry(t, f.k2, f.votesOn(f.k2)...)), f.contributor)
			},
			want: datanet.ErrBadSnapshot, names: f.k2,
		},
		{
			name: "an evidence vote tampered",
			make: func(t *testing.T) *datanet.Snapshot {
				e := f.entry(t, f.k1, f.votesOn(f.k1)...)
				cp := *e.Votes[0]
				cp.Reason = "added by the cutter"
				e.Votes[0] = &cp
				return extSign(t, f.forge(t, f.id, e), f.contributor)
			},
			want: datanet.ErrBadSnapshot, names: f.k1,
		},
		{
			name: "a contribution of another datanet",
			make: func(t *testing.T) *datanet.Snapshot {
				return extSign(t, f.forge(t, f.id, k1, f.entry(t, otherK, f.votesOn(otherK)...)), f.contributor)
			},
			want: datanet.ErrBadSnapshot, names: otherK,
		},
		{
			name: "a wrong root",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Root[0] ^= 1
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshot,
		},
		{
			name: "a wrong count",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Votes++
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshot,
		},
		{
			name: "a leaf not held",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Entries = missingLeafCID
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrMissingObject, cannotJudge: true, names: missingLeafCID,
		},
		{
			name: "policy is another datanet",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Policy = other
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "policy is a contribution",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Policy = f.k1
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "policy not held",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Policy = extCID(t, &unheld)
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrMissingObject, cannotJudge: true,
		},
		{
			name: "previous snapshot not held",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Version, s.Prev = 2, extCID(t, extSign(t, f.forge(t, f.id, k1), f.curator))
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrMissingObject, cannotJudge: true,
		},
		{
			name: "previous snapshot of another datanet",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Version, s.Prev = 2, otherSCID
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "version does not follow the previous",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Version, s.Prev = 3, s1CID
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "previous is not a snapshot",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				s.Version, s.Prev = 2, f.k1
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "contribution not held",
			make: func(t *testing.T) *datanet.Snapshot {
				e := datanet.SnapshotEntry{Contribution: extCID(t, loose), Root: common.Hash(loose.Root), Votes: []*datanet.Vote{looseVote}}
				return extSign(t, f.forge(t, f.id, k1, e), f.contributor)
			},
			want: datanet.ErrMissingObject, cannotJudge: true, names: extCID(t, loose),
		},
		{
			name: "unknown datanet",
			make: func(t *testing.T) *datanet.Snapshot {
				unknown := extCID(t, &unheld) // a datanet version never stored
				s := f.forge(t, f.id, k1)
				s.Datanet, s.Policy = unknown, unknown
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrUnknownDatanet, cannotJudge: true,
		},
		{
			name: "another chain",
			make: func(t *testing.T) *datanet.Snapshot {
				s := f.forge(t, f.id, k1)
				if err := datanet.SignSnapshot(s, 1, f.contributor); err != nil {
					t.Fatal(err)
				}
				return s
			},
			want: datanet.ErrNotAdmitted,
		},
		{
			name: "cutter's signature forged",
			make: func(t *testing.T) *datanet.Snapshot {
				s := extSign(t, f.forge(t, f.id, k1), f.contributor)
				s.Cutter = f.owner.Address()
				return s
			},
			want: datanet.ErrBadSignature,
		},
		{
			name: "on another datanet's topic",
			make: func(t *testing.T) *datanet.Snapshot {
				return extSign(t, f.forge(t, f.id, k1), f.curator)
			},
			topic: other,
			want:  datanet.ErrWrongTopic,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.make(t)
			data := extEncode(t, s)
			snapsBefore := f.snapshots(t, f.id)
			otherBefore := f.snapshots(t, other)

			_, err := f.r.Check(ctx, tt.topic, data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if got := datanet.CannotJudgeYet(err); got != tt.cannotJudge {
				t.Fatalf("CannotJudgeYet(%v) = %v, want %v", err, got, tt.cannotJudge)
			}
			if tt.names.Defined() && !strings.Contains(err.Error(), tt.names.String()) {
				t.Fatalf("Check = %v, which does not name %s", err, tt.names)
			}
			if tt.cannotJudge && !slices.ContainsFunc(datanet.MissingCIDs(err), tt.names.Equals) && tt.names.Defined() {
				t.Fatalf("MissingCIDs(%v) = %v, want %s among them", err, datanet.MissingCIDs(err), tt.names)
			}
			if !tt.topic.Defined() {
				if _, err := f.r.Submit(ctx, s); !errors.Is(err, tt.want) {
					t.Fatalf("Submit = %v, want %v", err, tt.want)
				}
			}
			if got := f.snapshots(t, f.id); !sameCIDList(got, snapsBefore) {
				t.Fatalf("Snapshots %v -> %v", snapsBefore, got)
			}
			if got := f.snapshots(t, other); !sameCIDList(got, otherBefore) {
				t.Fatalf("the other Datanet's snapshots %v -> %v", otherBefore, got)
			}
		})
	}

	// Control: the forged snapshot unchanged is accepted (a rival version
	// 1 by another cutter), so each refusal above is down to its change.
	if _, err := f.r.Submit(ctx, extSign(t, f.forge(t, f.id, k1), f.third)); err != nil {
		t.Fatalf("unchanged forge: %v", err)
	}
}

// TestSnapshotPolicyVersion pins what a snapshot is judged by: the policy
// version it names, which need not be the Datanet's head (a node may cut
// before an update reaches it).
func TestSnapshotPolicyVersion(t *testing.T) {
	ctx := context.Background()
	f := newSnapFixture(t)
	// A snapshot under the first version, not stored yet; then the owner
	// raises the quorum so k1 (approved by weight 3) no longer reaches it.
	first := extSign(t, f.forge(t, f.id, f.entry(t, f.k1, f.votesOn(f.k1)...)), f.contributor)
	if _, err := f.r.UpdateDatanet(ctx, f.id, datanet.DatanetUpdate{Quorum: ptrTo[uint64](4)}, f.owner, extVoted); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Submit(ctx, first); err != nil {
		t.Fatalf("snapshot under the previous policy version: %v", err)
	}
	// Cut under the head, nothing is accepted.
	if _, _, _, err := f.r.CutSnapshot(ctx, f.id, f.contributor, f.now); !errors.Is(err, datanet.ErrEmptySnapshot) {
		t.Fatalf("CutSnapshot under quorum 4 = %v, want ErrEmptySnapshot", err)
	}
	// A snapshot naming the head as its policy but carrying the first
	// version's evidence is refused.
	s2 := f.forge(t, f.id, f.entry(t, f.k1, f.votesOn(f.k1)...))
	s2.Version, s2.Prev = 2, extCID(t, first)
	if _, err := f.r.Submit(ctx, extSign(t, s2, f.contributor)); !errors.Is(err, datanet.ErrBadSnapshot) {
		t.Fatalf("snapshot under quorum 4 with weight 3 of evidence = %v, want ErrBadSnapshot", err)
	}
	if got := f.snapshots(t, f.id); len(got) != 1 {
		t.Fatalf("Snapshots = %v", got)
	}
}
