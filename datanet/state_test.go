package datanet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// strangerKeyHex is Hardhat and Anvil account 3: no role in the test
// Datanets until an update makes it a curator. Never use it for anything of
// value.
const strangerKeyHex = "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"

func strangerSigner(t testing.TB) Signer { return NewKeySigner(testKey(t, strangerKeyHex)) }

// The timeline of the state tests: the Datanet is created, a contribution
// follows an hour later, votes an hour after that, and the registry's clock
// reads an hour later still.
var (
	stateCreated     = testNow
	stateContributed = testNow.Add(time.Hour)
	stateVoted       = testNow.Add(2 * time.Hour)
	stateClock       = testNow.Add(3 * time.Hour)
)

const stateWindow = 7 * 24 * 3600 // seconds

// stateFixture is a registry holding one Datanet (owner weight 2, curator
// weight 1, quorum 2, threshold 6667 bps, a 7-day window, txt files of at
// most 1 MiB) and one contribution to it.
type stateFixture struct {
	r     *Registry
	store *storage.Store
	id    cid.Cid
	dn    *Datanet
	k     cid.Cid // the contribution, created at stateContributed
}

func stateSpec(t testing.TB, name string) DatanetSpec {
	return DatanetSpec{
		Name:                name,
		License:             "CC0-1.0",
		Kinds:               []string{"txt"},
		MaxContributionSize: 1 << 20,
		Curators: []Curator{
			{Address: ownerSigner(t).Address(), Weight: 2},
			{Address: curatorSigner(t).Address(), Weight: 1},
		},
		Quorum:       2,
		ThresholdBps: 6667,
		Window:       stateWindow,
	}
}

func newStateFixture(t testing.TB) *stateFixture {
	t.Helper()
	r, store := newTestRegistry(t)
	r.now = func() time.Time { return stateClock }
	id, dn, err := r.CreateDatanet(context.Background(), stateSpec(t, "qa"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	f := &stateFixture{r: r, store: store, id: id, dn: dn}
	f.k = addText(t, r, id, "a.txt", "hello", stateContributed)
	return f
}

// addText adds a one-file contribution to the Datanet id, by the
// contributor, created at at.
func addText(t testing.TB, r *Registry, id cid.Cid, name, content string, at time.Time) cid.Cid {
	t.Helper()
	root := writeTree(t, map[string][]byte{name: []byte(content)})
	c, _, err := r.Add(context.Background(), []string{filepath.Join(root, name)},
		AddOptions{Datanet: id, ChunkSize: 1 << 20}, contributorSigner(t), at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signedVoteOn returns s's vote in the Datanet id on the contribution k,
// signed under testChainID.
func signedVoteOn(t testing.TB, id, k cid.Cid, s Signer, d Decision, seq uint64, at time.Time) *Vote {
	t.Helper()
	v := &Vote{Datanet: id, Contribution: k, Decision: d, Seq: seq, Created: at.Unix()}
	if err := SignVote(v, testChainID, s); err != nil {
		t.Fatal(err)
	}
	return v
}

func encodeObject(t testing.TB, obj Object) []byte {
	t.Helper()
	data, err := obj.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func objectCount(t testing.TB, store *storage.Store) int {
	t.Helper()
	st, err := store.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Objects
}

func voteCount(t testing.TB, r *Registry, k cid.Cid) int {
	t.Helper()
	votes, err := r.Votes(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return len(votes)
}

func versionCIDs(t testing.TB, r *Registry, id cid.Cid) []cid.Cid {
	t.Helper()
	vs, err := r.Versions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]cid.Cid, len(vs))
	for i, v := range vs {
		out[i] = v.CID
	}
	return out
}

func sameCIDs(a, b []cid.Cid) bool {
	return slices.EqualFunc(a, b, func(x, y cid.Cid) bool { return x.Equals(y) })
}

func sameCIDSet(a, b []cid.Cid) bool {
	sorted := func(cs []cid.Cid) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.KeyString()
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(sorted(a), sorted(b))
}

// nextVersion returns an unsigned copy of prev as the version after it
// (seq one more, prev prevCID, created a minute later), with change applied.
func nextVersion(prevCID cid.Cid, prev *Datanet, change func(*Datanet)) *Datanet {
	d := *prev
	d.Curators = slices.Clone(prev.Curators)
	d.Kinds = slices.Clone(prev.Kinds)
	d.Signature = nil
	d.Seq++
	d.Prev = prevCID
	d.Created = prev.Created + 60
	if change != nil {
		change(&d)
	}
	return &d
}

func signedByOwner(t testing.TB, d *Datanet) *Datanet {
	t.Helper()
	if err := SignDatanet(d, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

func TestUpdateDatanet(t *testing.T) {
	owner, curator, stranger := ownerSigner(t).Address(), curatorSigner(t).Address(), strangerSigner(t).Address()
	updated := stateCreated.Add(24 * time.Hour)
	tests := []struct {
		name   string
		update DatanetUpdate
		check  func(t *testing.T, d *Datanet)
	}{
		{
			name:   "add a curator",
			update: DatanetUpdate{SetCurators: []Curator{{Address: stranger, Weight: 3}}},
			check: func(t *testing.T, d *Datanet) {
				if len(d.Curators) != 3 || d.CuratorWeight(stranger) != 3 || d.CuratorWeight(owner) != 2 || d.CuratorWeight(curator) != 1 {
					t.Fatalf("curators %v", d.Curators)
				}
			},
		},
		{
			name:   "remove a curator",
			update: DatanetUpdate{RemoveCurators: []common.Address{curator}},
			check: func(t *testing.T, d *Datanet) {
				if len(d.Curators) != 1 || d.CuratorWeight(curator) != 0 || d.CuratorWeight(owner) != 2 {
					t.Fatalf("curators %v", d.Curators)
				}
			},
		},
		{
			name:   "change a weight",
			update: DatanetUpdate{SetCurators: []Curator{{Address: curator, Weight: 5}}},
			check: func(t *testing.T, d *Datanet) {
				if len(d.Curators) != 2 || d.CuratorWeight(curator) != 5 {
					t.Fatalf("curators %v", d.Curators)
				}
			},
		},
		{
			name:   "voting rules",
			update: DatanetUpdate{Quorum: ptr[uint64](3), ThresholdBps: ptr[uint32](5000), Window: ptr[uint64](3600)},
			check: func(t *testing.T, d *Datanet) {
				if d.Quorum != 3 || d.ThresholdBps != 5000 || d.Window != 3600 || len(d.Curators) != 2 {
					t.Fatalf("policy %v q %d bps %d window %d", d.Curators, d.Quorum, d.ThresholdBps, d.Window)
				}
			},
		},
		{
			name:   "admission rules",
			update: DatanetUpdate{Kinds: &[]string{" .MD", "TXT", "md", ""}, MaxContributionSize: ptr[uint64](10)},
			check: func(t *testing.T, d *Datanet) {
				if !slices.Equal(d.Kinds, []string{"md", "txt"}) || d.MaxContributionSize != 10 {
					t.Fatalf("kinds %q max %d", d.Kinds, d.MaxContributionSize)
				}
			},
		},
		{
			name:   "description",
			update: DatanetUpdate{Name: ptr("qa v2"), Description: ptr("now\nwith answers"), License: ptr("")},
			check: func(t *testing.T, d *Datanet) {
				if d.Name != "qa v2" || d.Description != "now\nwith answers" || d.License != "" {
					t.Fatalf("name %q description %q license %q", d.Name, d.Description, d.License)
				}
			},
		},
		{
			name:   "nothing",
			update: DatanetUpdate{},
			check: func(t *testing.T, d *Datanet) {
				if d.Name != "qa" || !reflect.DeepEqual(d.Curators, stateSpecCurators(t)) || d.Quorum != 2 || d.Window != stateWindow {
					t.Fatalf("changed: %+v", d)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newStateFixture(t)
			// Cache the head, so a stale cache would show.
			if h, err := f.r.Head(ctx, f.id); err != nil || !h.CID.Equals(f.id) || h.Datanet.Seq != 0 {
				t.Fatalf("Head before the update: %+v %v", h, err)
			}
			v, err := f.r.UpdateDatanet(ctx, f.id, tt.update, ownerSigner(t), updated)
			if err != nil {
				t.Fatal(err)
			}
			d := v.Datanet
			if d.Seq != 1 || !d.Prev.Equals(f.id) || d.Owner != owner || d.ChainID != testChainID || d.Created != updated.Unix() {
				t.Fatalf("version: seq %d prev %s owner %s chain %d created %d", d.Seq, d.Prev, d.Owner, d.ChainID, d.Created)
			}
			if err := d.Verify(); err != nil {
				t.Fatal(err)
			}
			if got := mustCID(t, d); !got.Equals(v.CID) {
				t.Fatalf("CID %s, the version's is %s", v.CID, got)
			}
			tt.check(t, d)

			h, err := f.r.Head(ctx, f.id)
			if err != nil || !h.CID.Equals(v.CID) || !reflect.DeepEqual(h.Datanet, d) {
				t.Fatalf("Head = %s %v, want %s", h.CID, err, v.CID)
			}
			got, err := f.r.Datanet(ctx, f.id)
			if err != nil || !reflect.DeepEqual(got, d) {
				t.Fatalf("Datanet = %+v %v", got, err)
			}
			if vs := versionCIDs(t, f.r, f.id); !sameCIDs(vs, []cid.Cid{f.id, v.CID}) {
				t.Fatalf("Versions = %v", vs)
			}
			ids, err := f.r.IDs(ctx, f.id)
			if err != nil || !sameCIDSet(ids, []cid.Cid{f.id, v.CID, f.k}) {
				t.Fatalf("IDs = %v %v", ids, err)
			}
			if pinned, err := f.store.IsPinned(ctx, v.CID); err != nil || !pinned {
				t.Fatalf("update pinned: %v %v", pinned, err)
			}
			list, err := f.r.Datanets(ctx)
			if err != nil || len(list) != 1 || !list[0].ID.Equals(f.id) || list[0].Datanet.Seq != 1 {
				t.Fatalf("Datanets = %+v %v", list, err)
			}
			// A version is not a Datanet ID.
			if _, err := f.r.Datanet(ctx, v.CID); !errors.Is(err, ErrUnknownDatanet) {
				t.Fatalf("Datanet(version 1) = %v, want ErrUnknownDatanet", err)
			}
			// Another node accepts the update on the Datanet's topic and
			// files it under the Datanet ID.
			data, err := f.r.Get(ctx, v.CID)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := f.r.Check(ctx, f.id, data)
			if err != nil || !ch.CID.Equals(v.CID) || !ch.Datanet.Equals(f.id) {
				t.Fatalf("Check(update) = %+v %v", ch, err)
			}
		})
	}
}

func stateSpecCurators(t testing.TB) []Curator {
	cs := slices.Clone(stateSpec(t, "").Curators)
	SortCurators(cs)
	return cs
}

// TestUpdateDatanetChain follows two updates: each version names the one
// before it, and every listing holds all three.
func TestUpdateDatanetChain(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	v1, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Name: ptr("one")}, ownerSigner(t), stateCreated.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A clock behind the head does not date the next version before it.
	v2, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Description: ptr("two")}, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Datanet.Seq != 2 || !v2.Datanet.Prev.Equals(v1.CID) || v2.Datanet.Created != v1.Datanet.Created {
		t.Fatalf("version 2: seq %d prev %s created %d", v2.Datanet.Seq, v2.Datanet.Prev, v2.Datanet.Created)
	}
	if v2.Datanet.Name != "one" || v2.Datanet.Description != "two" {
		t.Fatalf("version 2 lost version 1's change: %q %q", v2.Datanet.Name, v2.Datanet.Description)
	}
	if h, err := f.r.Head(ctx, f.id); err != nil || !h.CID.Equals(v2.CID) {
		t.Fatalf("Head = %s %v, want %s", h.CID, err, v2.CID)
	}
	if vs := versionCIDs(t, f.r, f.id); !sameCIDs(vs, []cid.Cid{f.id, v1.CID, v2.CID}) {
		t.Fatalf("Versions = %v", vs)
	}
	ids, err := f.r.IDs(ctx, f.id)
	if err != nil || len(ids) != 4 || !sameCIDSet(ids, []cid.Cid{f.id, v1.CID, v2.CID, f.k}) {
		t.Fatalf("IDs = %v %v", ids, err)
	}
	// Version 2 is checked by walking back two steps to the ID.
	ch, err := f.r.Check(ctx, f.id, encodeObject(t, v2.Datanet))
	if err != nil || !ch.Datanet.Equals(f.id) {
		t.Fatalf("Check(version 2) = %+v %v", ch, err)
	}
	// A node that restarts (an empty head cache) finds the same head.
	fresh := newRegistryOn(t, f.store)
	if h, err := fresh.Head(ctx, f.id); err != nil || !h.CID.Equals(v2.CID) {
		t.Fatalf("Head on a fresh registry = %s %v", h.CID, err)
	}
}

// TestUpdateDatanetRefused checks each refused update returns the right
// error and stores nothing.
func TestUpdateDatanetRefused(t *testing.T) {
	ctx := context.Background()
	owner, curator, stranger := ownerSigner(t).Address(), curatorSigner(t).Address(), strangerSigner(t).Address()
	tests := []struct {
		name   string
		id     func(f *stateFixture) cid.Cid
		update DatanetUpdate
		signer Signer
		want   error
	}{
		{"by a curator", nil, DatanetUpdate{Name: ptr("mine")}, curatorSigner(t), ErrWrongSigner},
		{"by a stranger", nil, DatanetUpdate{SetCurators: []Curator{{Address: stranger, Weight: 9}}}, strangerSigner(t), ErrWrongSigner},
		{"quorum above the total weight", nil, DatanetUpdate{Quorum: ptr[uint64](4)}, nil, ErrInvalid},
		{"removal leaves the quorum above the total", nil, DatanetUpdate{RemoveCurators: []common.Address{owner}}, nil, ErrInvalid},
		{"no curators left", nil, DatanetUpdate{RemoveCurators: []common.Address{owner, curator}}, nil, ErrInvalid},
		{"remove a non-curator", nil, DatanetUpdate{RemoveCurators: []common.Address{stranger}}, nil, ErrInvalid},
		{"weight 0", nil, DatanetUpdate{SetCurators: []Curator{{Address: stranger}}}, nil, ErrInvalid},
		{"zero address curator", nil, DatanetUpdate{SetCurators: []Curator{{Weight: 1}}}, nil, ErrInvalid},
		{"quorum 0", nil, DatanetUpdate{Quorum: ptr[uint64](0)}, nil, ErrInvalid},
		{"threshold above 100%", nil, DatanetUpdate{ThresholdBps: ptr[uint32](MaxBps + 1)}, nil, ErrInvalid},
		{"window too long", nil, DatanetUpdate{Window: ptr[uint64](MaxWindow + 1)}, nil, ErrInvalid},
		{"bad kind", nil, DatanetUpdate{Kinds: &[]string{"tar.gz"}}, nil, ErrInvalid},
		{"empty name", nil, DatanetUpdate{Name: ptr("")}, nil, ErrInvalid},
		{"unknown datanet", func(*stateFixture) cid.Cid { return mustCID(t, signedDatanet(t)) }, DatanetUpdate{}, nil, ErrUnknownDatanet},
		{"a contribution", func(f *stateFixture) cid.Cid { return f.k }, DatanetUpdate{}, nil, ErrUnknownDatanet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStateFixture(t)
			id := f.id
			if tt.id != nil {
				id = tt.id(f)
			}
			signer := tt.signer
			if signer == nil {
				signer = ownerSigner(t)
			}
			before := objectCount(t, f.store)
			if _, err := f.r.UpdateDatanet(ctx, id, tt.update, signer, stateClock); !errors.Is(err, tt.want) {
				t.Fatalf("UpdateDatanet = %v, want %v", err, tt.want)
			}
			if after := objectCount(t, f.store); after != before {
				t.Fatalf("refused update stored %d objects", after-before)
			}
			if h, err := f.r.Head(ctx, f.id); err != nil || !h.CID.Equals(f.id) {
				t.Fatalf("Head = %s %v, want the first version", h.CID, err)
			}
			if vs := versionCIDs(t, f.r, f.id); len(vs) != 1 {
				t.Fatalf("Versions = %v", vs)
			}
		})
	}
}

// TestCheckDatanetUpdate feeds hand-made updates to Check and Put, as
// they would arrive from the network.
func TestCheckDatanetUpdate(t *testing.T) {
	ctx := context.Background()
	stranger := strangerSigner(t)
	tests := []struct {
		name        string
		make        func(t *testing.T, f *stateFixture) *Datanet
		want        error
		cannotJudge bool
	}{
		{
			name: "by another account",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				d := nextVersion(f.id, f.dn, func(d *Datanet) { d.Owner = stranger.Address() })
				if err := SignDatanet(d, stranger); err != nil {
					t.Fatal(err)
				}
				return d
			},
			want: ErrBadUpdate,
		},
		{
			name: "owner's name, another's signature",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				d := nextVersion(f.id, f.dn, func(d *Datanet) { d.Owner = stranger.Address() })
				if err := SignDatanet(d, stranger); err != nil {
					t.Fatal(err)
				}
				d.Owner = f.dn.Owner
				return d
			},
			want: ErrBadSignature,
		},
		{
			name: "flipped signature byte",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				d := signedByOwner(t, nextVersion(f.id, f.dn, nil))
				d.Signature[7] ^= 0x10
				return d
			},
			want: ErrBadSignature,
		},
		{
			name: "seq skips one",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				return signedByOwner(t, nextVersion(f.id, f.dn, func(d *Datanet) { d.Seq = 2 }))
			},
			want: ErrBadUpdate,
		},
		{
			name: "another chain",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				return signedByOwner(t, nextVersion(f.id, f.dn, func(d *Datanet) { d.ChainID = 1 }))
			},
			want: ErrBadUpdate,
		},
		{
			name: "dated before its previous version",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				return signedByOwner(t, nextVersion(f.id, f.dn, func(d *Datanet) { d.Created = f.dn.Created - 1 }))
			},
			want: ErrBadUpdate,
		},
		{
			name: "quorum above the total weight",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				d := signedByOwner(t, nextVersion(f.id, f.dn, nil))
				d.Quorum = 4 // Encode refuses it, so it is encoded by hand below
				return d
			},
			want: ErrInvalid,
		},
		{
			name: "previous version not held",
			make: func(t *testing.T, f *stateFixture) *Datanet {
				other := testDatanet(t) // signed, never stored here
				other.Name = "elsewhere"
				signedByOwner(t, other)
				return signedByOwner(t, nextVersion(mustCID(t, other), other, nil))
			},
			want:        ErrMissingObject,
			cannotJudge: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStateFixture(t)
			d := tt.make(t, f)
			data, err := d.Encode()
			if errors.Is(err, ErrInvalid) {
				data = encodeInvalid(t, d)
			} else if err != nil {
				t.Fatal(err)
			}
			before := objectCount(t, f.store)
			_, err = f.r.Put(ctx, data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Put = %v, want %v", err, tt.want)
			}
			if got := CannotJudgeYet(err); got != tt.cannotJudge {
				t.Fatalf("CannotJudgeYet(%v) = %v, want %v", err, got, tt.cannotJudge)
			}
			if after := objectCount(t, f.store); after != before {
				t.Fatalf("refused update stored %d objects", after-before)
			}
			if h, err := f.r.Head(ctx, f.id); err != nil || !h.CID.Equals(f.id) {
				t.Fatalf("Head = %s %v, want the first version", h.CID, err)
			}
		})
	}

	t.Run("judged once its previous version arrives", func(t *testing.T) {
		f := newStateFixture(t)
		v1 := signedByOwner(t, nextVersion(f.id, f.dn, func(d *Datanet) { d.Name = "one" }))
		v1CID := mustCID(t, v1)
		v2 := signedByOwner(t, nextVersion(v1CID, v1, func(d *Datanet) { d.Name = "two" }))
		if _, err := f.r.Put(ctx, encodeObject(t, v2)); !errors.Is(err, ErrMissingObject) || !CannotJudgeYet(err) {
			t.Fatalf("version 2 before version 1: %v, want ErrMissingObject", err)
		}
		if _, err := f.r.Put(ctx, encodeObject(t, v1)); err != nil {
			t.Fatal(err)
		}
		ch, err := f.r.Put(ctx, encodeObject(t, v2))
		if err != nil || !ch.Datanet.Equals(f.id) {
			t.Fatalf("version 2 after version 1: %+v %v", ch, err)
		}
		if h, err := f.r.Head(ctx, f.id); err != nil || h.Datanet.Name != "two" || h.Datanet.Seq != 2 {
			t.Fatalf("Head = %+v %v", h, err)
		}
	})

	t.Run("topic", func(t *testing.T) {
		f := newStateFixture(t)
		other, _, err := f.r.CreateDatanet(ctx, stateSpec(t, "other"), testChainID, ownerSigner(t), stateCreated)
		if err != nil {
			t.Fatal(err)
		}
		data := encodeObject(t, signedByOwner(t, nextVersion(f.id, f.dn, nil)))
		if _, err := f.r.Check(ctx, other, data); !errors.Is(err, ErrWrongTopic) {
			t.Fatalf("update on another Datanet's topic: %v, want ErrWrongTopic", err)
		}
		for _, topic := range []cid.Cid{f.id, cid.Undef} {
			if ch, err := f.r.Check(ctx, topic, data); err != nil || !ch.Datanet.Equals(f.id) {
				t.Fatalf("Check(topic %s) = %+v %v", topic, ch, err)
			}
		}
	})

	t.Run("previous version is not a datanet", func(t *testing.T) {
		f := newStateFixture(t)
		d := signedByOwner(t, nextVersion(f.k, f.dn, nil))
		before := objectCount(t, f.store)
		if _, err := f.r.Put(ctx, encodeObject(t, d)); err == nil {
			t.Fatal("an update following a contribution was accepted")
		}
		if after := objectCount(t, f.store); after != before {
			t.Fatalf("refused update stored %d objects", after-before)
		}
	})
}

// encodeInvalid encodes d, which breaks a field rule, as Encode would if it
// allowed it: what a malicious peer can send.
func encodeInvalid(t testing.TB, d *Datanet) []byte {
	t.Helper()
	data, err := marshalCBOR(d)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestHeadForkLowestCID has the owner sign two versions with the same seq:
// every node picks the one with the lowest CID, whatever order they
// arrived in.
func TestHeadForkLowestCID(t *testing.T) {
	ctx := context.Background()
	ra, _ := newTestRegistry(t)
	rb, _ := newTestRegistry(t)
	id, dn, err := ra.CreateDatanet(ctx, stateSpec(t, "qa"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Put(ctx, encodeObject(t, dn)); err != nil {
		t.Fatal(err)
	}
	forkA := signedByOwner(t, nextVersion(id, dn, func(d *Datanet) { d.Name = "fork a" }))
	forkB := signedByOwner(t, nextVersion(id, dn, func(d *Datanet) { d.Name = "fork b" }))
	a, b := mustCID(t, forkA), mustCID(t, forkB)
	low, high, lowName := a, b, "fork a"
	if strings.Compare(b.KeyString(), a.KeyString()) < 0 {
		low, high, lowName = b, a, "fork b"
	}

	put := func(r *Registry, d *Datanet) {
		t.Helper()
		if _, err := r.Put(ctx, encodeObject(t, d)); err != nil {
			t.Fatal(err)
		}
	}
	put(ra, forkA)
	put(rb, forkB)
	// With one fork each, each node's head is the fork it holds.
	for _, tc := range []struct {
		r    *Registry
		want cid.Cid
	}{{ra, a}, {rb, b}} {
		if h, err := tc.r.Head(ctx, id); err != nil || !h.CID.Equals(tc.want) {
			t.Fatalf("Head with one fork = %s %v, want %s", h.CID, err, tc.want)
		}
	}
	put(ra, forkB)
	put(rb, forkA)
	for name, r := range map[string]*Registry{"a then b": ra, "b then a": rb} {
		h, err := r.Head(ctx, id)
		if err != nil || !h.CID.Equals(low) || h.Datanet.Name != lowName {
			t.Fatalf("%s: Head = %s %v, want the lowest CID %s", name, h.CID, err, low)
		}
		if vs := versionCIDs(t, r, id); !sameCIDs(vs, []cid.Cid{id, low, high}) {
			t.Fatalf("%s: Versions = %v, want the ID then the forks, lowest CID first", name, vs)
		}
	}

	// A version after the losing fork doesn't move the head: at seq 1 the
	// lowest CID wins, and the walk goes on from there.
	after := nextVersion(high, forkA, func(d *Datanet) { d.Name = "after the loser" })
	if high.Equals(b) {
		after = nextVersion(high, forkB, func(d *Datanet) { d.Name = "after the loser" })
	}
	signedByOwner(t, after)
	put(ra, after)
	put(rb, after)
	for _, r := range []*Registry{ra, rb} {
		if h, err := r.Head(ctx, id); err != nil || !h.CID.Equals(low) {
			t.Fatalf("Head after a version on the losing fork = %s %v, want %s", h.CID, err, low)
		}
	}
	idsA, err := ra.IDs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	idsB, err := rb.IDs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(idsA) != 4 || !sameCIDs(idsA, idsB) {
		t.Fatalf("IDs differ between the nodes:\n%v\n%v", idsA, idsB)
	}
	// The owner's next update follows the winning fork.
	v2, err := ra.UpdateDatanet(ctx, id, DatanetUpdate{}, ownerSigner(t), stateClock)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Datanet.Seq != 2 || !v2.Datanet.Prev.Equals(low) || v2.Datanet.Name != lowName {
		t.Fatalf("update after the fork: seq %d prev %s name %q", v2.Datanet.Seq, v2.Datanet.Prev, v2.Datanet.Name)
	}
}

// TestCuratorChangesApplyToVotes checks votes are judged by the Datanet's
// current version: a removed curator's new vote is refused, an added one's
// is taken, and votes stored before stay.
func TestCuratorChangesApplyToVotes(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	early := signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted)
	if _, err := f.r.Submit(ctx, early); err != nil {
		t.Fatal(err)
	}
	stranger := signedVoteOn(t, f.id, f.k, strangerSigner(t), Approve, 0, stateVoted)
	if _, err := f.r.Submit(ctx, stranger); !errors.Is(err, ErrNotCurator) {
		t.Fatalf("vote by a non-curator: %v, want ErrNotCurator", err)
	}

	_, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{
		RemoveCurators: []common.Address{curatorSigner(t).Address()},
		SetCurators:    []Curator{{Address: strangerSigner(t).Address(), Weight: 1}},
	}, ownerSigner(t), stateVoted)
	if err != nil {
		t.Fatal(err)
	}
	late := signedVoteOn(t, f.id, f.k, curatorSigner(t), Reject, 1, stateVoted.Add(time.Minute))
	if _, err := f.r.Submit(ctx, late); !errors.Is(err, ErrNotCurator) || CannotJudgeYet(err) {
		t.Fatalf("vote by a removed curator: %v, want ErrNotCurator", err)
	}
	// The same bytes refused before the update are taken after it.
	if _, err := f.r.Submit(ctx, stranger); err != nil {
		t.Fatalf("vote by an added curator: %v", err)
	}
	votes, err := f.r.Votes(ctx, f.k)
	if err != nil || len(votes) != 2 {
		t.Fatalf("Votes = %v %v, want the early vote and the added curator's", votes, err)
	}
	for _, v := range votes {
		if v.Curator == curatorSigner(t).Address() && v.Seq != 0 {
			t.Fatalf("the removed curator's late vote was stored: %+v", v)
		}
	}
}

// TestCheckVote submits votes, good and bad, and checks what is stored.
func TestCheckVote(t *testing.T) {
	ctx := context.Background()
	t.Run("accepted", func(t *testing.T) {
		f := newStateFixture(t)
		v := signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted)
		if n, err := f.r.NextVoteSeq(ctx, f.k, curatorSigner(t).Address()); err != nil || n != 0 {
			t.Fatalf("NextVoteSeq before voting = %d %v", n, err)
		}
		ch, err := f.r.Submit(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		if !ch.CID.Equals(mustCID(t, v)) || !ch.Datanet.Equals(f.id) {
			t.Fatalf("Submit = %+v", ch)
		}
		votes, err := f.r.Votes(ctx, f.k)
		if err != nil || len(votes) != 1 || !reflect.DeepEqual(votes[0], v) {
			t.Fatalf("Votes = %v %v", votes, err)
		}
		checkKept(t, f.store, ch.CID)
		// Kept by its contribution (storage.ObjectPut.KeptBy): no pin key.
		if pinned, err := f.store.IsPinned(ctx, ch.CID); err != nil || pinned {
			t.Fatalf("vote pinned: %v %v", pinned, err)
		}
		for signer, want := range map[Signer]uint64{curatorSigner(t): 1, ownerSigner(t): 0} {
			if n, err := f.r.NextVoteSeq(ctx, f.k, signer.Address()); err != nil || n != want {
				t.Fatalf("NextVoteSeq(%s) = %d %v, want %d", signer.Address(), n, err, want)
			}
		}

		// The same vote again is fine, and stored once.
		if _, err := f.r.Submit(ctx, v); err != nil {
			t.Fatalf("the same vote again: %v", err)
		}
		if n := voteCount(t, f.r, f.k); n != 1 {
			t.Fatalf("%d votes after a repeat", n)
		}

		// A change of mind, with a seq that skips, is taken.
		again := signedVoteOn(t, f.id, f.k, curatorSigner(t), Reject, 5, stateVoted.Add(time.Minute))
		if _, err := f.r.Submit(ctx, again); err != nil {
			t.Fatal(err)
		}
		if n := voteCount(t, f.r, f.k); n != 2 {
			t.Fatalf("%d votes after a change of mind", n)
		}
		if n, err := f.r.NextVoteSeq(ctx, f.k, curatorSigner(t).Address()); err != nil || n != 6 {
			t.Fatalf("NextVoteSeq after seq 5 = %d %v", n, err)
		}
		st, err := f.r.State(ctx, f.id)
		if err != nil || len(st.Votes) != 2 {
			t.Fatalf("State.Votes = %v %v", st, err)
		}
	})

	t.Run("window edges", func(t *testing.T) {
		f := newStateFixture(t)
		end := stateContributed.Add(stateWindow * time.Second)
		f.r.now = func() time.Time { return end.Add(time.Hour) }
		first := signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateContributed)
		last := signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, end.Add(-time.Second))
		for _, v := range []*Vote{first, last} {
			if _, err := f.r.Submit(ctx, v); err != nil {
				t.Fatalf("vote at %s: %v", unixUTC(v.Created), err)
			}
		}
	})

	t.Run("clock skew edge", func(t *testing.T) {
		f := newStateFixture(t)
		v := signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateClock.Add(MaxClockSkew))
		if _, err := f.r.Submit(ctx, v); err != nil {
			t.Fatalf("vote dated now + MaxClockSkew: %v", err)
		}
	})

	t.Run("default clock", func(t *testing.T) {
		f := newStateFixture(t)
		f.r = newRegistryOn(t, f.store) // Config.Now nil: time.Now
		v := signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateContributed.Add(stateWindow*time.Second-time.Second))
		if _, err := f.r.Submit(ctx, v); err != nil {
			t.Fatalf("vote on a registry without a clock: %v", err)
		}
	})
}

// TestCheckVoteRefused checks each refused vote fails with the right error,
// is classified rightly, and leaves the store as it was.
func TestCheckVoteRefused(t *testing.T) {
	ctx := context.Background()
	type env struct {
		*stateFixture
		other  cid.Cid // another Datanet with the same curators
		otherK cid.Cid // a contribution to it
	}
	vote := func(t *testing.T, e env, s Signer, d Decision, seq uint64, at time.Time) *Vote {
		return signedVoteOn(t, e.id, e.k, s, d, seq, at)
	}
	tests := []struct {
		name string
		// before are votes submitted first, which must be accepted.
		before      func(t *testing.T, e env) []*Vote
		vote        func(t *testing.T, e env) []byte
		topic       func(e env) cid.Cid
		want        error
		cannotJudge bool
	}{
		{
			name: "not a curator",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, strangerSigner(t), Approve, 0, stateVoted))
			},
			want: ErrNotCurator,
		},
		{
			name: "the contributor",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, contributorSigner(t), Approve, 0, stateVoted))
			},
			want: ErrNotCurator,
		},
		{
			name: "flipped signature byte",
			vote: func(t *testing.T, e env) []byte {
				v := vote(t, e, curatorSigner(t), Approve, 0, stateVoted)
				v.Signature[3] ^= 0x01
				return encodeObject(t, v)
			},
			want: ErrBadSignature,
		},
		{
			name: "curator's name, stranger's signature",
			vote: func(t *testing.T, e env) []byte {
				v := vote(t, e, strangerSigner(t), Approve, 0, stateVoted)
				v.Curator = curatorSigner(t).Address()
				return encodeObject(t, v)
			},
			want: ErrBadSignature,
		},
		{
			name: "decision changed after signing",
			vote: func(t *testing.T, e env) []byte {
				v := vote(t, e, curatorSigner(t), Reject, 0, stateVoted)
				v.Decision = Approve
				return encodeObject(t, v)
			},
			want: ErrBadSignature,
		},
		{
			name: "older seq after a newer one",
			before: func(t *testing.T, e env) []*Vote {
				return []*Vote{vote(t, e, curatorSigner(t), Reject, 1, stateVoted)}
			},
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, curatorSigner(t), Approve, 0, stateVoted.Add(time.Minute)))
			},
			want:        ErrStaleVote,
			cannotJudge: true,
		},
		{
			name: "same seq, another decision",
			before: func(t *testing.T, e env) []*Vote {
				return []*Vote{vote(t, e, curatorSigner(t), Approve, 0, stateVoted)}
			},
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, curatorSigner(t), Reject, 0, stateVoted))
			},
			want:        ErrStaleVote,
			cannotJudge: true,
		},
		{
			name: "same seq, another reason",
			before: func(t *testing.T, e env) []*Vote {
				return []*Vote{vote(t, e, curatorSigner(t), Approve, 3, stateVoted)}
			},
			vote: func(t *testing.T, e env) []byte {
				v := &Vote{Datanet: e.id, Contribution: e.k, Decision: Approve, Reason: "sure", Seq: 3, Created: stateVoted.Unix()}
				if err := SignVote(v, testChainID, curatorSigner(t)); err != nil {
					t.Fatal(err)
				}
				return encodeObject(t, v)
			},
			want:        ErrStaleVote,
			cannotJudge: true,
		},
		{
			name: "before the contribution",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, curatorSigner(t), Approve, 0, stateContributed.Add(-time.Second)))
			},
			want: ErrOutsideWindow,
		},
		{
			name: "when the window closes",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, curatorSigner(t), Approve, 0, stateContributed.Add(stateWindow*time.Second)))
			},
			want: ErrOutsideWindow,
		},
		{
			name: "from the future",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, curatorSigner(t), Approve, 0, stateClock.Add(MaxClockSkew+time.Second)))
			},
			want:        ErrFutureVote,
			cannotJudge: true,
		},
		{
			name: "contribution not held",
			vote: func(t *testing.T, e env) []byte {
				k := mustCID(t, signedContribution(t))
				return encodeObject(t, signedVoteOn(t, e.id, k, curatorSigner(t), Approve, 0, stateVoted))
			},
			want:        ErrMissingObject,
			cannotJudge: true,
		},
		{
			name: "contribution to another datanet",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, signedVoteOn(t, e.id, e.otherK, curatorSigner(t), Approve, 0, stateVoted))
			},
			want: ErrNotAdmitted,
		},
		{
			name: "voted contribution is the datanet",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, signedVoteOn(t, e.id, e.id, curatorSigner(t), Approve, 0, stateVoted))
			},
			want: ErrWrongKind,
		},
		{
			name: "unknown datanet",
			vote: func(t *testing.T, e env) []byte {
				dn := mustCID(t, signedDatanet(t))
				return encodeObject(t, signedVoteOn(t, dn, e.k, curatorSigner(t), Approve, 0, stateVoted))
			},
			want:        ErrUnknownDatanet,
			cannotJudge: true,
		},
		{
			name: "another chain",
			vote: func(t *testing.T, e env) []byte {
				v := &Vote{Datanet: e.id, Contribution: e.k, Decision: Approve, Created: stateVoted.Unix()}
				if err := SignVote(v, 1, curatorSigner(t)); err != nil {
					t.Fatal(err)
				}
				return encodeObject(t, v)
			},
			want: ErrNotAdmitted,
		},
		{
			name: "on another datanet's topic",
			vote: func(t *testing.T, e env) []byte {
				return encodeObject(t, vote(t, e, curatorSigner(t), Approve, 0, stateVoted))
			},
			topic: func(e env) cid.Cid { return e.other },
			want:  ErrWrongTopic,
		},
		{
			name: "not canonical",
			vote: func(t *testing.T, e env) []byte {
				return append(encodeObject(t, vote(t, e, curatorSigner(t), Approve, 0, stateVoted)), 0)
			},
			want: ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStateFixture(t)
			other, _, err := f.r.CreateDatanet(ctx, stateSpec(t, "other"), testChainID, ownerSigner(t), stateCreated)
			if err != nil {
				t.Fatal(err)
			}
			e := env{stateFixture: f, other: other, otherK: addText(t, f.r, other, "b.txt", "other", stateContributed)}
			if tt.before != nil {
				for _, v := range tt.before(t, e) {
					if _, err := f.r.Submit(ctx, v); err != nil {
						t.Fatalf("setup vote: %v", err)
					}
				}
			}
			data := tt.vote(t, e)
			topic := cid.Undef
			if tt.topic != nil {
				topic = tt.topic(e)
			}
			votesBefore, objectsBefore := voteCount(t, f.r, f.k), objectCount(t, f.store)
			otherVotesBefore := voteCount(t, f.r, e.otherK)

			_, err = f.r.Check(ctx, topic, data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if got := CannotJudgeYet(err); got != tt.cannotJudge {
				t.Fatalf("CannotJudgeYet(%v) = %v, want %v", err, got, tt.cannotJudge)
			}
			if topic == cid.Undef {
				if _, err := f.r.Put(ctx, data); !errors.Is(err, tt.want) {
					t.Fatalf("Put = %v, want %v", err, tt.want)
				}
			}
			if n := voteCount(t, f.r, f.k); n != votesBefore {
				t.Fatalf("votes %d -> %d", votesBefore, n)
			}
			if n := voteCount(t, f.r, e.otherK); n != otherVotesBefore {
				t.Fatalf("votes on the other contribution %d -> %d", otherVotesBefore, n)
			}
			if n := objectCount(t, f.store); n != objectsBefore {
				t.Fatalf("objects %d -> %d", objectsBefore, n)
			}
		})
	}
}

// TestVoteWindowFollowsUpdate checks a vote is judged by the window of the
// Datanet's current version.
func TestVoteWindowFollowsUpdate(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	v := signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateContributed.Add(2*time.Hour))
	data := encodeObject(t, v)
	if _, err := f.r.Check(ctx, cid.Undef, data); err != nil {
		t.Fatalf("vote in the 7-day window: %v", err)
	}
	if _, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Window: ptr[uint64](3600)}, ownerSigner(t), stateVoted); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Check(ctx, cid.Undef, data); !errors.Is(err, ErrOutsideWindow) {
		t.Fatalf("vote after a 1-hour window: %v, want ErrOutsideWindow", err)
	}
	if _, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Window: ptr[uint64](0)}, ownerSigner(t), stateVoted); err != nil {
		t.Fatal(err)
	}
	late := signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateContributed.Add(365*24*time.Hour))
	f.r.now = func() time.Time { return time.Unix(late.Created, 0) }
	if _, err := f.r.Check(ctx, cid.Undef, encodeObject(t, late)); err != nil {
		t.Fatalf("vote a year later with no window: %v", err)
	}
}

// handContribution returns a signed contribution to the Datanet id of
// files with the given paths and sizes (1 MiB chunks, made-up shards),
// created at stateContributed.
func handContribution(t testing.TB, id cid.Cid, chainID uint64, files map[string]uint64) *Contribution {
	t.Helper()
	c := &Contribution{
		Datanet:   id,
		Root:      crypto.Keccak256Hash([]byte("some root")),
		ChunkSize: 1 << 20,
		Created:   stateContributed.Unix(),
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		f := File{Path: p, Size: files[p]}
		for i := range shardCount(f.Size, c.ChunkSize) {
			f.Shards = append(f.Shards, rawCID(t, fmt.Appendf(nil, "%s %d", p, i)))
		}
		c.Files = append(c.Files, f)
		c.Size += f.Size
	}
	if err := SignContribution(c, chainID, contributorSigner(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCheckContributionRules feeds contributions that break the Datanet's
// rules to Check, as a peer could send them.
func TestCheckContributionRules(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		make        func(t *testing.T, f *stateFixture) *Contribution
		topic       func(f *stateFixture) cid.Cid
		want        error
		cannotJudge bool
	}{
		{
			name: "over the size limit",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				return handContribution(t, f.id, testChainID, map[string]uint64{"big.txt": 1<<20 + 1})
			},
			want: ErrNotAdmitted,
		},
		{
			name: "kind not accepted",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				return handContribution(t, f.id, testChainID, map[string]uint64{"a.txt": 10, "b.csv": 10})
			},
			want: ErrNotAdmitted,
		},
		{
			name: "no extension",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				return handContribution(t, f.id, testChainID, map[string]uint64{"README": 10})
			},
			want: ErrNotAdmitted,
		},
		{
			name: "another chain",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				return handContribution(t, f.id, 1, map[string]uint64{"a.txt": 10})
			},
			want: ErrNotAdmitted,
		},
		{
			name: "forged signature",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				c := handContribution(t, f.id, testChainID, map[string]uint64{"a.txt": 10})
				c.Metadata = map[string]string{"added": "later"}
				return c
			},
			want: ErrBadSignature,
		},
		{
			name: "to a version, not the ID",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				v, err := f.r.UpdateDatanet(context.Background(), f.id, DatanetUpdate{}, ownerSigner(t), stateCreated)
				if err != nil {
					t.Fatal(err)
				}
				return handContribution(t, v.CID, testChainID, map[string]uint64{"a.txt": 10})
			},
			want:        ErrUnknownDatanet,
			cannotJudge: true,
		},
		{
			name: "unknown datanet",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				return handContribution(t, mustCID(t, signedDatanet(t)), testChainID, map[string]uint64{"a.txt": 10})
			},
			want:        ErrUnknownDatanet,
			cannotJudge: true,
		},
		{
			name: "on another datanet's topic",
			make: func(t *testing.T, f *stateFixture) *Contribution {
				return handContribution(t, f.id, testChainID, map[string]uint64{"a.txt": 10})
			},
			topic: func(f *stateFixture) cid.Cid { return mustCID(t, signedDatanet(t)) },
			want:  ErrWrongTopic,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStateFixture(t)
			data := encodeObject(t, tt.make(t, f))
			topic := cid.Undef
			if tt.topic != nil {
				topic = tt.topic(f)
			}
			before := objectCount(t, f.store)
			_, err := f.r.Check(ctx, topic, data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if got := CannotJudgeYet(err); got != tt.cannotJudge {
				t.Fatalf("CannotJudgeYet(%v) = %v, want %v", err, got, tt.cannotJudge)
			}
			if topic == cid.Undef {
				if _, err := f.r.Put(ctx, data); !errors.Is(err, tt.want) {
					t.Fatalf("Put = %v, want %v", err, tt.want)
				}
			}
			if after := objectCount(t, f.store); after != before {
				t.Fatalf("refused contribution stored %d objects", after-before)
			}
			entries, err := f.r.Contributions(ctx, f.id)
			if err != nil || len(entries) != 1 {
				t.Fatalf("Contributions = %v %v", entries, err)
			}
		})
	}

	t.Run("rules follow updates", func(t *testing.T) {
		f := newStateFixture(t)
		data := encodeObject(t, handContribution(t, f.id, testChainID, map[string]uint64{"a.txt": 2 << 20, "b.CSV": 1}))
		if _, err := f.r.Check(ctx, f.id, data); !errors.Is(err, ErrNotAdmitted) {
			t.Fatalf("Check = %v, want ErrNotAdmitted", err)
		}
		_, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Kinds: &[]string{"txt", "csv"}, MaxContributionSize: ptr[uint64](0)}, ownerSigner(t), stateCreated)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := f.r.Put(ctx, data)
		if err != nil || !ch.Datanet.Equals(f.id) {
			t.Fatalf("Put after the rules allow it: %+v %v", ch, err)
		}
		entries, err := f.r.Contributions(ctx, f.id)
		if err != nil || len(entries) != 2 {
			t.Fatalf("Contributions = %v %v", entries, err)
		}
	})
}

// TestState checks State and the listings gather a Datanet's objects from
// the backlink index, and only that Datanet's.
func TestState(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	// Contributions added out of time order; two share a second.
	k3 := addText(t, f.r, f.id, "c.txt", "three", stateContributed.Add(2*time.Minute))
	k0 := addText(t, f.r, f.id, "z.txt", "zero", stateContributed.Add(-time.Minute))
	k2 := addText(t, f.r, f.id, "b.txt", "two", stateContributed.Add(2*time.Minute))
	other, _, err := f.r.CreateDatanet(ctx, stateSpec(t, "other"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	otherK := addText(t, f.r, other, "o.txt", "other", stateContributed)

	want := []cid.Cid{k0, f.k, k2, k3}
	if strings.Compare(k3.KeyString(), k2.KeyString()) < 0 {
		want[2], want[3] = k3, k2
	}
	entries, err := f.r.Contributions(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	var got []cid.Cid
	for _, e := range entries {
		got = append(got, e.CID)
		if !mustCID(t, e.Contribution).Equals(e.CID) {
			t.Fatalf("entry %s holds another contribution", e.CID)
		}
	}
	if !sameCIDs(got, want) {
		t.Fatalf("Contributions = %v\nwant oldest first, then by CID: %v", got, want)
	}

	votes := []*Vote{
		signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateVoted),
		signedVoteOn(t, f.id, f.k, curatorSigner(t), Reject, 0, stateVoted),
		signedVoteOn(t, f.id, k2, curatorSigner(t), Approve, 0, stateVoted),
		signedVoteOn(t, other, otherK, curatorSigner(t), Approve, 0, stateVoted),
	}
	for _, v := range votes {
		if _, err := f.r.Submit(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	// Snapshots are checked by a stand-in verifier here; the curation
	// package's is tested in state_ext_test.go.
	f.r.rules = uncheckedSnapshots{f.r.rules}
	s1 := stateSnapshot(t, f, 1, cid.Undef, f.k)
	s1CID := mustCID(t, s1)
	s2 := stateSnapshot(t, f, 2, s1CID, f.k, k2)
	s2b := stateSnapshot(t, f, 2, s1CID, k2) // a rival version 2
	if _, err := f.r.Submit(ctx, s2); !errors.Is(err, ErrMissingObject) || !CannotJudgeYet(err) {
		t.Fatalf("version 2 before version 1: %v, want ErrMissingObject", err)
	}
	for _, s := range []*Snapshot{s1, s2b, s2} {
		if _, err := f.r.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	st, err := f.r.State(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ID.Equals(f.id) || !st.Head.CID.Equals(f.id) {
		t.Fatalf("State ID %s head %s", st.ID, st.Head.CID)
	}
	var contribs []cid.Cid
	for c, k := range st.Contributions {
		contribs = append(contribs, c)
		if !k.Datanet.Equals(f.id) {
			t.Fatalf("State holds a contribution to %s", k.Datanet)
		}
	}
	if !sameCIDSet(contribs, want) {
		t.Fatalf("State.Contributions = %v, want %v", contribs, want)
	}
	if len(st.Votes) != 3 {
		t.Fatalf("State.Votes has %d votes, want the 3 in this Datanet", len(st.Votes))
	}
	for _, v := range st.Votes {
		if !v.Datanet.Equals(f.id) {
			t.Fatalf("State holds a vote in %s", v.Datanet)
		}
	}
	wantSnaps := []cid.Cid{s1CID, mustCID(t, s2), mustCID(t, s2b)}
	if strings.Compare(wantSnaps[2].KeyString(), wantSnaps[1].KeyString()) < 0 {
		wantSnaps[1], wantSnaps[2] = wantSnaps[2], wantSnaps[1]
	}
	listed, err := f.r.Snapshots(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	for name, refs := range map[string][]SnapshotRef{"State.Snapshots": st.Snapshots, "Snapshots": listed} {
		var cs []cid.Cid
		for _, ref := range refs {
			cs = append(cs, ref.CID)
			if !mustCID(t, ref.Snapshot).Equals(ref.CID) {
				t.Fatalf("%s: ref %s holds another snapshot", name, ref.CID)
			}
		}
		if !sameCIDs(cs, wantSnaps) {
			t.Fatalf("%s = %v\nwant by version, then CID: %v", name, cs, wantSnaps)
		}
	}
	if s, err := f.r.Snapshot(ctx, s1CID); err != nil || !mustCID(t, s).Equals(s1CID) {
		t.Fatalf("Snapshot = %+v %v", s, err)
	}
	if _, err := f.r.Snapshot(ctx, f.k); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("Snapshot(contribution) = %v, want ErrWrongKind", err)
	}
	if _, err := f.r.Contribution(ctx, s1CID); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("Contribution(snapshot) = %v, want ErrWrongKind", err)
	}
	ids, err := f.r.IDs(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1+4+3+3 {
		t.Fatalf("IDs lists %d objects, want 11: %v", len(ids), ids)
	}

	// The other Datanet's state holds only its own objects.
	ost, err := f.r.State(ctx, other)
	if err != nil || len(ost.Contributions) != 1 || ost.Contributions[otherK] == nil || len(ost.Votes) != 1 || len(ost.Snapshots) != 0 {
		t.Fatalf("State(other) = %+v %v", ost, err)
	}
	if _, err := f.r.State(ctx, mustCID(t, signedDatanet(t))); !errors.Is(err, ErrUnknownDatanet) {
		t.Fatalf("State(unknown) = %v, want ErrUnknownDatanet", err)
	}
	if ids, err := f.r.IDs(ctx, mustCID(t, signedDatanet(t))); err != nil || len(ids) != 0 {
		t.Fatalf("IDs(unknown) = %v %v", ids, err)
	}
}

// stateSnapshot returns a snapshot of the fixture's Datanet listing ks,
// signed by the contributor, its entry tree stored, each entry with the
// owner's approval as evidence (not stored as a vote; the stand-in rules
// of the tests that use it accept any evidence).
func stateSnapshot(t testing.TB, f *stateFixture, version uint64, prev cid.Cid, ks ...cid.Cid) *Snapshot {
	t.Helper()
	return datanetSnapshot(t, f.r, f.id, version, prev, ks...)
}

// datanetSnapshot is stateSnapshot for the Datanet dn of r.
func datanetSnapshot(t testing.TB, r *Registry, dn cid.Cid, version uint64, prev cid.Cid, ks ...cid.Cid) *Snapshot {
	t.Helper()
	ctx := context.Background()
	var entries []SnapshotEntry
	for _, k := range ks {
		c, err := r.Contribution(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		v := signedVoteOn(t, dn, k, ownerSigner(t), Approve, 0, stateVoted)
		entries = append(entries, SnapshotEntry{Contribution: k, Root: common.Hash(c.Root), Votes: []*Vote{v}})
	}
	SortEntries(entries)
	ref, root, err := r.writeEntryTree(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	s := &Snapshot{
		Datanet: dn,
		Policy:  dn,
		Version: version,
		Prev:    prev,
		Root:    root,
		Count:   ref.Count,
		Votes:   ref.Votes,
		Entries: ref.Chunk,
		Created: stateClock.Unix(),
	}
	if err := SignSnapshot(s, testChainID, contributorSigner(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestContributionsReadTheIndex checks Contributions lists what the
// registry's index names: an object stored in the store directly is not
// found, as a whole-store scan or the store's backlinks would find it,
// and it is once the registry stores it.
func TestContributionsReadTheIndex(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	k := handContribution(t, f.id, testChainID, map[string]uint64{"hidden.txt": 10})
	data := encodeObject(t, k)
	c := mustCID(t, k)
	if err := f.store.PutObject(ctx, c, data, nil); err != nil {
		t.Fatal(err)
	}
	entries, err := f.r.Contributions(ctx, f.id)
	if err != nil || len(entries) != 1 || !entries[0].CID.Equals(f.k) {
		t.Fatalf("Contributions = %v %v, want only the indexed contribution", entries, err)
	}
	if err := f.store.PutObject(ctx, c, data, k.Links()); err != nil {
		t.Fatal(err)
	}
	entries, err = f.r.Contributions(ctx, f.id)
	if err != nil || len(entries) != 1 {
		t.Fatalf("Contributions = %v %v, want only the indexed contribution", entries, err)
	}
	if _, err := f.r.PutFetched(ctx, c, data); err != nil {
		t.Fatal(err)
	}
	entries, err = f.r.Contributions(ctx, f.id)
	if err != nil || len(entries) != 2 {
		t.Fatalf("Contributions = %v %v, want both", entries, err)
	}
}

// versionChain returns n updates of the fixture's Datanet, each following
// the one before, signed and encoded, and the CID of the last.
func versionChain(t testing.TB, f *stateFixture, n int) ([][]byte, cid.Cid) {
	t.Helper()
	var out [][]byte
	prevCID, prev := f.id, f.dn
	for i := range n {
		d := signedByOwner(t, nextVersion(prevCID, prev, func(d *Datanet) { d.Name = fmt.Sprintf("v%d", i+1) }))
		out = append(out, encodeObject(t, d))
		prevCID, prev = mustCID(t, d), d
	}
	return out, prevCID
}

// TestStateConcurrent reads heads and state while a chain of updates is
// stored; run with -race.
func TestStateConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	chain, last := versionChain(t, f, 5)
	done := make(chan error, 1)
	go func() {
		for _, data := range chain {
			if _, err := f.r.Put(ctx, data); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 50 {
		if _, err := f.r.Head(ctx, f.id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.r.State(ctx, f.id); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h, err := newRegistryOn(t, f.store).Head(ctx, f.id)
	if err != nil || !h.CID.Equals(last) || h.Datanet.Name != "v5" {
		t.Fatalf("Head after 5 updates = %+v %v", h, err)
	}
}

// The tests below guard bugs found and fixed: each failed before its fix.

// TestHeadCacheNotStale reads heads while chains of updates are stored: a
// Head that computed its answer before an update was stored must not cache
// it after the update dropped the cache.
func TestHeadCacheNotStale(t *testing.T) {
	ctx := context.Background()
	for range 30 { // the race showed in about 1 run in 40 before the fix; 30 runs keep CI under its budget
		f := newStateFixture(t)
		chain, last := versionChain(t, f, 20)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						f.r.Head(ctx, f.id)
					}
				}
			})
		}
		for _, data := range chain {
			if _, err := f.r.Put(ctx, data); err != nil {
				t.Error(err)
			}
		}
		close(stop)
		wg.Wait()
		if h, err := f.r.Head(ctx, f.id); err != nil || !h.CID.Equals(last) {
			t.Fatalf("Head = version %d %v, want version 20", h.Datanet.Seq, err)
		}
	}
}

// TestUpdateDatanetConcurrent has one node make two updates at once: they
// must come out as versions 1 and 2, not two versions 1 (the owner's own
// node equivocating, one update lost).
func TestUpdateDatanetConcurrent(t *testing.T) {
	ctx := context.Background()
	for range 20 {
		f := newStateFixture(t)
		var wg sync.WaitGroup
		for _, name := range []string{"x", "y"} {
			wg.Go(func() {
				if _, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Name: &name}, ownerSigner(t), stateVoted); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		h, err := f.r.Head(ctx, f.id)
		if err != nil || h.Datanet.Seq != 2 {
			t.Fatalf("Head after two updates = version %d %v, want 2", h.Datanet.Seq, err)
		}
	}
}

// TestDatanetsOldestFirst checks Datanets sorts by creation, not by the
// time of the latest update.
func TestDatanetsOldestFirst(t *testing.T) {
	ctx := context.Background()
	r, _ := newTestRegistry(t)
	a, _, err := r.CreateDatanet(ctx, stateSpec(t, "a"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := r.CreateDatanet(ctx, stateSpec(t, "b"), testChainID, ownerSigner(t), stateCreated.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdateDatanet(ctx, a, DatanetUpdate{}, ownerSigner(t), stateCreated.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := r.Datanets(ctx)
	if err != nil || len(list) != 2 || !list[0].ID.Equals(a) || !list[1].ID.Equals(b) {
		t.Fatalf("Datanets = %+v %v, want a (created first) then b", list, err)
	}
}

// TestProvablyBadNotMisjudged checks objects that link a held object of
// the wrong kind where a Datanet version belongs are judged bad, not
// "cannot judge yet": the node holds everything needed to refuse them.
func TestProvablyBadNotMisjudged(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	f.r.rules = uncheckedSnapshots{f.r.rules}

	update := signedByOwner(t, nextVersion(f.k, f.dn, nil))
	if _, err := f.r.Check(ctx, cid.Undef, encodeObject(t, update)); err == nil || CannotJudgeYet(err) {
		t.Errorf("update following a contribution: %v, want a provably bad error", err)
	}
	s := stateSnapshot(t, f, 1, cid.Undef, f.k)
	s.Policy, s.Signature = f.k, nil
	if err := SignSnapshot(s, testChainID, contributorSigner(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Check(ctx, cid.Undef, encodeObject(t, s)); !errors.Is(err, ErrBadSnapshotLink) || CannotJudgeYet(err) {
		t.Errorf("snapshot whose policy is a contribution: %v, want ErrBadSnapshotLink, provably bad", err)
	}
}

// TestStaleVoteBySync: a vote older than one held is refused by Check, but
// taken under AcceptingStale (sync), so two nodes that saw a curator's
// votes in opposite orders end with the same set; the tally ignores it.
func TestStaleVoteBySync(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	newer := signedVoteOn(t, f.id, f.k, curatorSigner(t), Reject, 1, stateVoted.Add(time.Minute))
	older := encodeObject(t, signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted))
	if _, err := f.r.Submit(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Put(ctx, older); !errors.Is(err, ErrStaleVote) {
		t.Fatalf("Put of an older vote = %v, want ErrStaleVote", err)
	}
	if n := voteCount(t, f.r, f.k); n != 1 {
		t.Fatalf("%d votes after a refused stale vote, want 1", n)
	}
	if _, err := f.r.Put(AcceptingStale(ctx), older); err != nil {
		t.Fatalf("Put of an older vote by sync: %v", err)
	}
	if n := voteCount(t, f.r, f.k); n != 2 {
		t.Fatalf("%d votes after sync, want 2", n)
	}
	// Everything else is still checked under AcceptingStale.
	outsider := encodeObject(t, signedVoteOn(t, f.id, f.k, contributorSigner(t), Approve, 0, stateVoted))
	if _, err := f.r.Put(AcceptingStale(ctx), outsider); !errors.Is(err, ErrNotCurator) {
		t.Fatalf("non-curator by sync = %v, want ErrNotCurator", err)
	}
}

// TestDatanetObjectsUnlisted: the objects of a Datanet's set are not listed
// by the store's backlinks to the Datanet (the set lists them), whether
// added (a session's commit), put one at a time or many at once; a vote is
// still listed by its link to its contribution, and IDs, State and
// Contributions find everything.
func TestDatanetObjectsUnlisted(t *testing.T) {
	ctx := context.Background()
	f, k2, v1, v2 := votedOnTwice(t)
	back, err := f.store.Backlinks(ctx, f.id)
	if err != nil || len(back) != 0 {
		t.Fatalf("backlinks of the Datanet = %v %v, want none", back, err)
	}
	for k, v := range map[cid.Cid]*Vote{f.k: v1, k2: v2} {
		votes, err := f.r.Votes(ctx, k)
		if err != nil || len(votes) != 1 || votes[0].Curator != v.Curator {
			t.Fatalf("Votes(%s) = %v %v, want the one vote", k, votes, err)
		}
	}
	ids, err := f.r.IDs(ctx, f.id)
	if err != nil || len(ids) != 5 || !ids[0].Equals(f.id) {
		t.Fatalf("IDs = %v %v, want the Datanet, 2 contributions and 2 votes", ids, err)
	}
	st, err := f.r.State(ctx, f.id)
	if err != nil || len(st.Contributions) != 2 || len(st.Votes) != 2 {
		t.Fatalf("State = %+v %v, want 2 contributions and 2 votes", st, err)
	}
	entries, err := f.r.Contributions(ctx, f.id)
	if err != nil || len(entries) != 2 {
		t.Fatalf("Contributions = %v %v, want 2", entries, err)
	}
}

// TestVotesKeptByContribution: a vote, put one at a time or many at once,
// gets no pin and no kind entry; GC keeps it while its contribution is
// kept and takes it once its contribution is unpinned; the kind index
// refuses to list votes.
func TestVotesKeptByContribution(t *testing.T) {
	ctx := context.Background()
	f, k2, v1, v2 := votedOnTwice(t)
	c1, c2 := mustCID(t, v1), mustCID(t, v2)
	for _, c := range []cid.Cid{c1, c2} {
		if pinned, err := f.store.IsPinned(ctx, c); err != nil || pinned {
			t.Fatalf("vote %s pinned: %v %v", c, pinned, err)
		}
		err := f.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			if ok, err := has(tx, kindKey(KindVote, c)); err != nil || ok {
				return fmt.Errorf("kind entry of vote %s: %v %v", c, ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkKept(t, f.store, c)
	}
	if _, err := f.r.ObjectsOfKind(ctx, KindVote, cid.Undef, 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ObjectsOfKind(vote): %v, want ErrInvalid", err)
	}
	if err := f.store.Unpin(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GC(ctx); err != nil {
		t.Fatal(err)
	}
	for c, want := range map[cid.Cid]bool{f.k: true, c1: true, k2: false, c2: false} {
		if ok, err := f.store.HasObject(ctx, c); err != nil || ok != want {
			t.Fatalf("HasObject(%s) after unpinning %s and GC = %v %v, want %v", c, k2, ok, err, want)
		}
	}
	if votes, err := f.r.Votes(ctx, f.k); err != nil || len(votes) != 1 {
		t.Fatalf("Votes of the kept contribution = %v %v", votes, err)
	}
}

// votedOnTwice is a state fixture with a second contribution, k2, and a
// vote on each contribution: v1 on f.k stored by Put, v2 on k2 by
// PutMany.
func votedOnTwice(t *testing.T) (f *stateFixture, k2 cid.Cid, v1, v2 *Vote) {
	t.Helper()
	ctx := context.Background()
	f = newStateFixture(t)
	k2 = addText(t, f.r, f.id, "b.txt", "world", stateContributed)
	v1 = signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted)
	if _, err := f.r.Put(ctx, encodeObject(t, v1)); err != nil {
		t.Fatal(err)
	}
	v2 = signedVoteOn(t, f.id, k2, curatorSigner(t), Approve, 0, stateVoted)
	res, err := f.r.PutMany(ctx, [][]byte{encodeObject(t, v2)})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	return f, k2, v1, v2
}
