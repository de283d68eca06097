package curation

import (
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// world is a small Datanet with three curators (weight 1, quorum 2, half to
// approve, a one-day window), signed with real keys.
type world struct {
	t        testing.TB
	keys     []*ecdsa.PrivateKey // 0 owner, 1..3 curators, 4 an outsider
	dn       *datanet.Datanet
	dnID     cid.Cid
	contribs map[cid.Cid]*datanet.Contribution
	order    []cid.Cid
}

func newWorld(t testing.TB, contributions int) *world {
	t.Helper()
	w := &world{t: t, contribs: map[cid.Cid]*datanet.Contribution{}}
	for range 5 {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		w.keys = append(w.keys, k)
	}
	var curators []datanet.Curator
	for i := 1; i <= 3; i++ {
		curators = append(curators, datanet.Curator{Address: w.addr(i), Weight: 1})
	}
	datanet.SortCurators(curators)
	w.dn = &datanet.Datanet{
		Name: "test", Owner: w.addr(0), ChainID: testChainID, Curators: curators,
		Quorum: 2, ThresholdBps: 5000, Window: 24 * 3600, Created: t0.Unix(),
	}
	if err := datanet.SignDatanet(w.dn, w.signer(0)); err != nil {
		t.Fatal(err)
	}
	w.dnID = mustCID(t, w.dn)
	for i := range contributions {
		shard := storageShard(i)
		var root [32]byte
		root[0], root[1], root[2] = 1, byte(i), byte(i>>8)
		c := &datanet.Contribution{
			Datanet: w.dnID, Files: []datanet.File{{Path: "a.txt", Size: 10, Shards: []cid.Cid{shard}}},
			Root: root, Size: 10, ChunkSize: 1 << 20, Created: t0.Unix(),
		}
		if err := datanet.SignContribution(c, testChainID, w.signer(4)); err != nil {
			t.Fatal(err)
		}
		id := mustCID(t, c)
		w.contribs[id] = c
		w.order = append(w.order, id)
	}
	return w
}

func (w *world) addr(i int) common.Address { return crypto.PubkeyToAddress(w.keys[i].PublicKey) }

func (w *world) signer(i int) datanet.Signer { return datanet.NewKeySigner(w.keys[i]) }

// vote signs a vote by key i on contribution c.
func (w *world) vote(i int, c cid.Cid, d datanet.Decision, seq uint64) *datanet.Vote {
	w.t.Helper()
	v := &datanet.Vote{Datanet: w.dnID, Contribution: c, Decision: d, Seq: seq, Created: t0.Add(time.Hour).Unix()}
	if err := datanet.SignVote(v, testChainID, w.signer(i)); err != nil {
		w.t.Fatal(err)
	}
	return v
}

// snapshot returns a signed-looking snapshot of w's Datanet cut two hours
// after t0 (VerifyEntry reads its Datanet, chain and time only).
func (w *world) snapshot() *datanet.Snapshot {
	return &datanet.Snapshot{Datanet: w.dnID, Policy: w.dnID, Version: 1, ChainID: testChainID, Created: t0.Add(2 * time.Hour).Unix()}
}

// entry returns contribution c's entry with votes as evidence.
func (w *world) entry(c cid.Cid, votes ...*datanet.Vote) *datanet.SnapshotEntry {
	e := &datanet.SnapshotEntry{Contribution: c, Root: common.Hash(w.contribs[c].Root), Votes: votes}
	datanet.SortVotesByCurator(e.Votes)
	return e
}

func mustCID(t testing.TB, o datanet.Object) cid.Cid {
	t.Helper()
	c, err := o.CID()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func storageShard(i int) cid.Cid { return storage.ShardCID([]byte{byte(i), byte(i >> 8)}) }

// TestVerifyEntry checks an entry accepted by its evidence passes, and one
// wrong in one way each is refused with ErrBadSnapshot naming it.
func TestVerifyEntry(t *testing.T) {
	w := newWorld(t, 2)
	a, b := w.order[0], w.order[1]
	s := w.snapshot()
	good := func() *datanet.SnapshotEntry { return w.entry(a, w.vote(1, a, A, 0), w.vote(2, a, A, 0)) }
	if err := VerifyEntry(w.dn, s, w.contribs[a], good()); err != nil {
		t.Fatal(err)
	}
	if err := VerifyEntry(w.dn, s, w.contribs[a], w.entry(a, w.vote(1, a, A, 0), w.vote(2, a, R, 0), w.vote(3, a, A, 0))); err != nil {
		t.Fatalf("accepted 2 to 1: %v", err)
	}
	other := *w.contribs[a]
	other.Datanet = b
	small := *w.dn
	small.MaxContributionSize = 1
	tests := []struct {
		name   string
		policy *datanet.Datanet
		k      *datanet.Contribution
		e      *datanet.SnapshotEntry
	}{
		{"not enough votes", w.dn, w.contribs[a], w.entry(a, w.vote(1, a, A, 0))},
		{"rejected by its votes", w.dn, w.contribs[a], w.entry(a, w.vote(1, a, A, 0), w.vote(2, a, R, 0), w.vote(3, a, R, 0))},
		{"a non-curator's vote", w.dn, w.contribs[a], w.entry(a, w.vote(1, a, A, 0), w.vote(2, a, A, 0), w.vote(4, a, A, 0))},
		{"a vote of another datanet", w.dn, w.contribs[a], func() *datanet.SnapshotEntry {
			e := good()
			v := *e.Votes[0]
			v.Datanet = b
			e.Votes[0] = &v
			return e
		}()},
		{"a vote on another chain", w.dn, w.contribs[a], func() *datanet.SnapshotEntry {
			e := good()
			v := *e.Votes[0]
			v.ChainID++
			e.Votes[0] = &v
			return e
		}()},
		{"a wrong root", w.dn, w.contribs[a], func() *datanet.SnapshotEntry {
			e := good()
			e.Root[0] ^= 1
			return e
		}()},
		{"a contribution of another datanet", w.dn, &other, good()},
		{"not admitted by the policy", &small, w.contribs[a], good()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyEntry(tt.policy, s, tt.k, tt.e)
			if !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), a.String()) {
				t.Fatalf("VerifyEntry = %v, want ErrBadSnapshot naming %s", err, a)
			}
		})
	}
}
