package datanet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
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

// cut cuts an unsigned snapshot of the Datanet id from the registry's
// state at the node's clock, after prev (nil for the first).
func (f *snapFixture) cut(t testing.TB, id cid.Cid, prev *datanet.SnapshotRef) *datanet.Snapshot {
	t.Helper()
	st, err := f.r.State(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	in := curation.CutInput{
		DatanetID:     id,
		Policy:        st.Head.Datanet,
		PolicyCID:     st.Head.CID,
		Contributions: st.Contributions,
		Votes:         st.Votes,
		Now:           f.now,
	}
	if prev != nil {
		in.Prev, in.PrevCID = prev.Snapshot, prev.CID
	}
	s, err := curation.Cut(in)
	if err != nil {
		t.Fatal(err)
	}
	return s
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

// rebuild returns a copy of s with entries ks (their roots from the
// registry) and the votes as evidence, sorted and with its root set,
// unsigned.
func (f *snapFixture) rebuild(t testing.TB, s *datanet.Snapshot, ks []cid.Cid, evidence []*datanet.Vote) *datanet.Snapshot {
	t.Helper()
	cp := *s
	cp.Contributions = nil
	for _, k := range ks {
		c, err := f.r.Contribution(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		cp.Contributions = append(cp.Contributions, datanet.SnapshotEntry{Contribution: k, Root: common.Hash(c.Root)})
	}
	datanet.SortEntries(cp.Contributions)
	cp.Evidence = slices.Clone(evidence)
	datanet.SortEvidence(cp.Evidence)
	root, err := datanet.SnapshotRoot(cp.Contributions)
	if err != nil {
		t.Fatal(err)
	}
	cp.Root = root
	cp.Signature = nil
	return &cp
}

// TestSnapshotLifecycle cuts snapshots from a registry's state, submits
// them, and has a second node check them after syncing the objects.
func TestSnapshotLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newSnapFixture(t)

	// Only k1 is accepted: k2 has 1 of the quorum of 2.
	s1 := extSign(t, f.cut(t, f.id, nil), f.contributor)
	if s1.Version != 1 || s1.Prev.Defined() || len(s1.Contributions) != 1 || !s1.Contributions[0].Contribution.Equals(f.k1) {
		t.Fatalf("first cut: version %d prev %s entries %v", s1.Version, s1.Prev, s1.Contributions)
	}
	if len(s1.Evidence) != 2 || !s1.Policy.Equals(f.id) || s1.Cutter != f.contributor.Address() {
		t.Fatalf("first cut: evidence %d policy %s cutter %s", len(s1.Evidence), s1.Policy, s1.Cutter)
	}
	ch, err := f.r.Submit(ctx, s1)
	if err != nil {
		t.Fatalf("Submit(first snapshot) = %v", err)
	}
	s1CID := extCID(t, s1)
	if !ch.CID.Equals(s1CID) || !ch.Datanet.Equals(f.id) {
		t.Fatalf("Submit = %+v", ch)
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

	// The third approves k2: the next cut holds both.
	f.vote(t, f.id, f.k2, f.third, datanet.Approve, extVoted.Add(time.Hour))
	f.now = extCut.Add(2 * time.Hour)
	st, err := f.r.State(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Contributions) != 2 || len(st.Votes) != 4 || len(st.Snapshots) != 1 || !st.Snapshots[0].CID.Equals(s1CID) {
		t.Fatalf("State: %d contributions, %d votes, %d snapshots", len(st.Contributions), len(st.Votes), len(st.Snapshots))
	}
	s2 := extSign(t, f.cut(t, f.id, &st.Snapshots[0]), f.curator)
	if s2.Version != 2 || !s2.Prev.Equals(s1CID) || len(s2.Contributions) != 2 || len(s2.Evidence) != 4 {
		t.Fatalf("second cut: version %d prev %s entries %d evidence %d", s2.Version, s2.Prev, len(s2.Contributions), len(s2.Evidence))
	}
	if _, err := f.r.Submit(ctx, s2); err != nil {
		t.Fatalf("Submit(second snapshot) = %v", err)
	}
	s2CID := extCID(t, s2)
	if got := f.snapshots(t, f.id); !sameCIDList(got, []cid.Cid{s1CID, s2CID}) {
		t.Fatalf("Snapshots = %v, want version 1 then 2", got)
	}

	// A policy update: the next snapshot names the new head, whose chain of
	// versions leads back to the Datanet.
	v1, err := f.r.UpdateDatanet(ctx, f.id, datanet.DatanetUpdate{ThresholdBps: ptrTo[uint32](5000)}, f.owner, f.now)
	if err != nil {
		t.Fatal(err)
	}
	st, err = f.r.State(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	s3 := extSign(t, f.cut(t, f.id, &st.Snapshots[len(st.Snapshots)-1]), f.owner)
	if !s3.Policy.Equals(v1.CID) || s3.Version != 3 || !s3.Prev.Equals(s2CID) {
		t.Fatalf("third cut: policy %s version %d prev %s", s3.Policy, s3.Version, s3.Prev)
	}
	if _, err := f.r.Submit(ctx, s3); err != nil {
		t.Fatalf("Submit(snapshot under version 1 of the policy) = %v", err)
	}
	s3CID := extCID(t, s3)

	// A second node syncs the objects, in an order that respects their
	// links, and accepts the same snapshots; a registry on its store whose
	// rules refuse every snapshot stores none of them.
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
	var snaps [][]byte
	for _, kind := range []string{datanet.KindDatanet, datanet.KindContribution, datanet.KindVote, datanet.KindSnapshot} {
		for _, c := range ids {
			data, err := f.r.Get(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if k, err := datanet.KindOf(data); err != nil || k != kind {
				continue
			}
			if kind == datanet.KindSnapshot {
				snaps = append(snaps, data)
				continue
			}
			if _, err := g.r.Put(ctx, data); err != nil {
				t.Fatalf("sync %s %s: %v", kind, c, err)
			}
		}
	}
	before := g.objects(t)
	refused := 0
	for i, data := range snaps {
		// The first version is refused by the rules; the later ones as
		// following a snapshot not held.
		_, err := refusing.Put(ctx, data)
		if err == nil {
			t.Fatalf("a registry refusing snapshots stored snapshot %d", i)
		}
		if errors.Is(err, errRefused) {
			refused++
		}
	}
	if refused != 1 {
		t.Fatalf("%d snapshots refused by the rules, want 1 (the first version)", refused)
	}
	if got := g.objects(t); got != before {
		t.Fatalf("refused snapshots stored %d objects", got-before)
	}
	for _, c := range []cid.Cid{s1CID, s2CID, s3CID} {
		data, err := f.r.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.r.Put(ctx, data); err != nil {
			t.Fatalf("second node, snapshot %s: %v", c, err)
		}
	}
	gids, err := g.r.IDs(ctx, f.id)
	if err != nil || !sameCIDList(gids, ids) {
		t.Fatalf("the nodes' IDs differ:\n%v\n%v (%v)", ids, gids, err)
	}
	// Both nodes cut the same snapshot from the same state.
	a, b := f.cut(t, f.id, nil), (&snapFixture{snapNode: g}).cut(t, f.id, nil)
	if !extCID(t, extSign(t, a, f.owner)).Equals(extCID(t, extSign(t, b, f.owner))) {
		t.Fatal("two nodes with the same state cut different snapshots")
	}
}

var errRefused = errors.New("refused by the test's rules")

// refuseSnapshots are the curation rules refusing every snapshot.
type refuseSnapshots struct{ curation.Rules }

func (refuseSnapshots) VerifySnapshot(*datanet.Snapshot, *datanet.Datanet, map[cid.Cid]*datanet.Contribution) error {
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
	s1 := extSign(t, f.cut(t, f.id, nil), f.contributor)
	if _, err := f.r.Submit(ctx, s1); err != nil {
		t.Fatal(err)
	}
	s1CID := extCID(t, s1)

	// Another Datanet with the same curators, a contribution its owner
	// accepted, and a snapshot of it.
	other, _, err := f.r.CreateDatanet(ctx, extSpec(t, "other", f.owner, f.curator, f.third), extChainID, f.owner, extCreated)
	if err != nil {
		t.Fatal(err)
	}
	otherK := f.add(t, other, "o.txt", "other", extContributed)
	f.vote(t, other, otherK, f.owner, datanet.Approve, extVoted)
	otherS := extSign(t, f.cut(t, other, nil), f.owner)
	if _, err := f.r.Submit(ctx, otherS); err != nil {
		t.Fatal(err)
	}
	otherSCID := extCID(t, otherS)

	// k2's lone vote, short of the quorum.
	var k2Vote *datanet.Vote
	for _, v := range f.votes {
		if v.Contribution.Equals(f.k2) {
			k2Vote = v
		}
	}
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

	tests := []struct {
		name string
		// make returns the snapshot to submit, signed unless it says so.
		make        func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot
		topic       cid.Cid
		want        error
		cannotJudge bool
	}{
		{
			name: "includes a contribution short of the quorum",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				return extSign(t, f.rebuild(t, s, []cid.Cid{f.k1, f.k2}, append(slices.Clone(s.Evidence), k2Vote)), f.contributor)
			},
			want: curation.ErrBadSnapshot,
		},
		{
			name: "includes a contribution without evidence",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				return extSign(t, f.rebuild(t, s, []cid.Cid{f.k1, f.k2}, s.Evidence), f.contributor)
			},
			want: curation.ErrBadSnapshot,
		},
		{
			name: "evidence vote tampered",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				ev := make([]*datanet.Vote, len(s.Evidence))
				for i, v := range s.Evidence {
					cp := *v
					cp.Reason = "added by the cutter"
					ev[i] = &cp
				}
				return extSign(t, f.rebuild(t, s, []cid.Cid{f.k1}, ev), f.contributor)
			},
			want: curation.ErrBadSnapshot,
		},
		{
			name: "policy is another datanet",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Policy = other
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "policy is a contribution",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Policy = f.k1
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "policy not held",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Policy = extCID(t, &unheld)
				return extSign(t, s, f.contributor)
			},
			want:        datanet.ErrMissingObject,
			cannotJudge: true,
		},
		{
			name: "previous snapshot not held",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Version, s.Prev = 2, extCID(t, extSign(t, f.cut(t, f.id, nil), f.curator))
				return extSign(t, s, f.contributor)
			},
			want:        datanet.ErrMissingObject,
			cannotJudge: true,
		},
		{
			name: "previous snapshot of another datanet",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Version, s.Prev = 2, otherSCID
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "version does not follow the previous",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Version, s.Prev = 3, s1CID
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "previous is not a snapshot",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				s.Version, s.Prev = 2, f.k1
				return extSign(t, s, f.contributor)
			},
			want: datanet.ErrBadSnapshotLink,
		},
		{
			name: "contribution not held",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				cp := *s
				cp.Contributions = append(slices.Clone(s.Contributions),
					datanet.SnapshotEntry{Contribution: extCID(t, loose), Root: common.Hash(loose.Root)})
				datanet.SortEntries(cp.Contributions)
				root, err := datanet.SnapshotRoot(cp.Contributions)
				if err != nil {
					t.Fatal(err)
				}
				cp.Root = root
				return extSign(t, &cp, f.contributor)
			},
			want:        datanet.ErrMissingObject,
			cannotJudge: true,
		},
		{
			name: "unknown datanet",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				unknown := extCID(t, &unheld) // a datanet version never stored
				cp := f.rebuild(t, s, []cid.Cid{f.k1}, nil)
				cp.Datanet, cp.Policy = unknown, unknown
				return extSign(t, cp, f.contributor)
			},
			want:        datanet.ErrUnknownDatanet,
			cannotJudge: true,
		},
		{
			name: "another chain",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				cp := f.rebuild(t, s, []cid.Cid{f.k1}, nil)
				cp.ChainID = 0
				if err := datanet.SignSnapshot(cp, 1, f.contributor); err != nil {
					t.Fatal(err)
				}
				return cp
			},
			want: datanet.ErrNotAdmitted,
		},
		{
			name: "cutter's signature forged",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				extSign(t, s, f.contributor)
				s.Cutter = f.owner.Address()
				return s
			},
			want: datanet.ErrBadSignature,
		},
		{
			name: "on another datanet's topic",
			make: func(t *testing.T, s *datanet.Snapshot) *datanet.Snapshot {
				return extSign(t, s, f.curator)
			},
			topic: other,
			want:  datanet.ErrWrongTopic,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.make(t, f.cut(t, f.id, nil))
			data := extEncode(t, s)
			snapsBefore, objectsBefore := f.snapshots(t, f.id), f.objects(t)
			otherBefore := f.snapshots(t, other)

			_, err := f.r.Check(ctx, tt.topic, data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if got := datanet.CannotJudgeYet(err); got != tt.cannotJudge {
				t.Fatalf("CannotJudgeYet(%v) = %v, want %v", err, got, tt.cannotJudge)
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
			if got := f.objects(t); got != objectsBefore {
				t.Fatalf("objects %d -> %d", objectsBefore, got)
			}
		})
	}

	// Control: the unchanged cut is accepted (a rival version 1 by
	// another cutter), so each refusal above is down to its one change.
	if _, err := f.r.Submit(ctx, extSign(t, f.cut(t, f.id, nil), f.third)); err != nil {
		t.Fatalf("unchanged cut: %v", err)
	}
}

// TestSnapshotPolicyVersion pins what a snapshot is judged by: the policy
// version it names, which need not be the Datanet's head (a node may cut
// before an update reaches it).
func TestSnapshotPolicyVersion(t *testing.T) {
	ctx := context.Background()
	f := newSnapFixture(t)
	// Cut under the first version, then the owner raises the quorum so k1
	// (approved by weight 3) no longer reaches it.
	s := extSign(t, f.cut(t, f.id, nil), f.contributor)
	if _, err := f.r.UpdateDatanet(ctx, f.id, datanet.DatanetUpdate{Quorum: ptrTo[uint64](4)}, f.owner, extVoted); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Submit(ctx, s); err != nil {
		t.Fatalf("snapshot under the previous policy version: %v", err)
	}
	// Cut under the head, nothing is accepted.
	st, err := f.r.State(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = curation.Cut(curation.CutInput{
		DatanetID: f.id, Policy: st.Head.Datanet, PolicyCID: st.Head.CID,
		Contributions: st.Contributions, Votes: st.Votes, Now: f.now,
	})
	if !errors.Is(err, datanet.ErrEmptySnapshot) {
		t.Fatalf("Cut under quorum 4 = %v, want ErrEmptySnapshot", err)
	}
	// A snapshot naming the head as its policy but carrying the first
	// version's evidence is refused.
	s2 := *s
	s2.Policy = st.Head.CID
	s2.Version, s2.Prev = 2, extCID(t, s)
	if _, err := f.r.Submit(ctx, extSign(t, &s2, f.contributor)); !errors.Is(err, curation.ErrBadSnapshot) {
		t.Fatalf("snapshot under quorum 4 with weight 3 of evidence = %v, want ErrBadSnapshot", err)
	}
	if got := f.snapshots(t, f.id); len(got) != 1 {
		t.Fatalf("Snapshots = %v", got)
	}
}
