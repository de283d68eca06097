package curation

import (
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/proofs"
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

func (w *world) cut(votes []*datanet.Vote) (*datanet.Snapshot, error) {
	s, err := Cut(CutInput{
		DatanetID: w.dnID, Policy: w.dn, PolicyCID: w.dnID, Contributions: w.contribs,
		Votes: votes, Now: t0.Add(2 * time.Hour),
	})
	if err != nil {
		return nil, err
	}
	return s, datanet.SignSnapshot(s, testChainID, w.signer(1))
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

func TestCutAndVerify(t *testing.T) {
	w := newWorld(t, 3)
	a, b, c := w.order[0], w.order[1], w.order[2]
	votes := []*datanet.Vote{
		w.vote(1, a, A, 0), w.vote(2, a, A, 0), // a: accepted
		w.vote(1, b, A, 0), w.vote(2, b, R, 0), w.vote(3, b, R, 0), // b: rejected
		w.vote(1, c, A, 0),                     // c: pending
		w.vote(3, a, R, 0), w.vote(3, a, A, 1), // a again: curator 3 changes its mind
		w.vote(4, a, R, 0), // an outsider: not counted, not evidence
	}
	s, err := w.cut(votes)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Contributions) != 1 || !s.Contributions[0].Contribution.Equals(a) {
		t.Fatalf("snapshot holds %v, want only %s", s.Contributions, a)
	}
	if len(s.Evidence) != 3 {
		t.Fatalf("%d evidence votes, want the 3 counted on %s", len(s.Evidence), a)
	}
	for _, v := range s.Evidence {
		if v.Curator == w.addr(3) && v.Seq != 1 {
			t.Fatalf("evidence holds curator 3's superseded vote")
		}
	}
	digest := a.Hash()[2:]
	leaf := proofs.ContributionLeaf([32]byte(digest), w.contribs[a].Root)
	if tree, _ := proofs.NewTree([]proofs.Hash{leaf}); tree.Root() != s.Root {
		t.Fatalf("root %x, want %x", s.Root, tree.Root())
	}
	if err := VerifySnapshot(s, w.dn, w.contribs); err != nil {
		t.Fatal(err)
	}
	// Any vote order cuts the same snapshot.
	rev := make([]*datanet.Vote, len(votes))
	for i, v := range votes {
		rev[len(votes)-1-i] = v
	}
	s2, err := w.cut(rev)
	if err != nil {
		t.Fatal(err)
	}
	if mustCID(t, s2) != mustCID(t, s) {
		t.Fatal("reversed votes cut another snapshot")
	}
}

func TestCutNothingAccepted(t *testing.T) {
	w := newWorld(t, 1)
	if _, err := w.cut([]*datanet.Vote{w.vote(1, w.order[0], A, 0)}); !errors.Is(err, datanet.ErrEmptySnapshot) {
		t.Fatalf("Cut = %v, want ErrEmptySnapshot", err)
	}
}

// TestVerifySnapshotRefuses: a snapshot that includes a contribution without
// enough votes, or whose evidence was forged, is refused.
func TestVerifySnapshotRefuses(t *testing.T) {
	w := newWorld(t, 2)
	a, b := w.order[0], w.order[1]
	good := []*datanet.Vote{w.vote(1, a, A, 0), w.vote(2, a, A, 0)}
	resign := func(s *datanet.Snapshot) {
		s.Signature = nil
		if err := datanet.SignSnapshot(s, testChainID, w.signer(1)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		change func(s *datanet.Snapshot)
	}{
		{"contribution without enough votes", func(s *datanet.Snapshot) {
			s.Contributions = append(s.Contributions, datanet.SnapshotEntry{Contribution: b, Root: w.contribs[b].Root})
			datanet.SortEntries(s.Contributions)
			s.Evidence = append(s.Evidence, w.vote(1, b, A, 0))
			datanet.SortEvidence(s.Evidence)
			s.Root, _ = datanet.SnapshotRoot(s.Contributions)
			resign(s)
		}},
		{"evidence dropped", func(s *datanet.Snapshot) { s.Evidence = s.Evidence[:1]; resign(s) }},
		{"forged evidence signature", func(s *datanet.Snapshot) {
			v := *s.Evidence[0]
			v.Signature = append([]byte(nil), v.Signature...)
			v.Signature[5] ^= 1
			s.Evidence[0] = &v
			resign(s)
		}},
		{"evidence from a non-curator", func(s *datanet.Snapshot) {
			s.Evidence = []*datanet.Vote{w.vote(1, a, A, 0), w.vote(4, a, A, 0)}
			datanet.SortEvidence(s.Evidence)
			resign(s)
		}},
		{"wrong contribution root", func(s *datanet.Snapshot) {
			s.Contributions[0].Root[0] ^= 1
			s.Root, _ = datanet.SnapshotRoot(s.Contributions)
			resign(s)
		}},
		{"cutter signature", func(s *datanet.Snapshot) { s.Created++ }},
		{"policy of another version", func(s *datanet.Snapshot) { s.Policy = b; resign(s) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := w.cut(good)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(s)
			if err := VerifySnapshot(s, w.dn, w.contribs); !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("VerifySnapshot = %v, want ErrBadSnapshot", err)
			}
		})
	}
	t.Run("missing contribution", func(t *testing.T) {
		s, err := w.cut(good)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifySnapshot(s, w.dn, map[cid.Cid]*datanet.Contribution{}); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("VerifySnapshot = %v, want ErrBadSnapshot", err)
		}
	})
}
