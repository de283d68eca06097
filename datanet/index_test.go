package datanet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// seededSigner returns a signer whose key is derived from name.
func seededSigner(t testing.TB, name string) Signer {
	t.Helper()
	sum := sha256.Sum256([]byte("openledger index test " + name))
	key, err := crypto.ToECDSA(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return NewKeySigner(key)
}

// memContribution returns a signed one-file contribution to dn whose shard
// is not stored (Check does not need it): the way to make many quickly.
func memContribution(t testing.TB, dn cid.Cid, who Signer, created time.Time, seed int) *Contribution {
	t.Helper()
	body := fmt.Appendf(nil, "contribution %d", seed)
	k := &Contribution{
		Datanet: dn, Contributor: who.Address(), Size: uint64(len(body)), ChunkSize: MinChunkSize,
		License: "CC0-1.0", Created: created.Unix(),
		Files: []File{{Path: fmt.Sprintf("c%d.txt", seed), Size: uint64(len(body)), Shards: []cid.Cid{storage.ShardCID(body)}}},
	}
	tree, err := k.Tree()
	if err != nil {
		t.Fatal(err)
	}
	k.Root = tree.Root()
	if err := SignContribution(k, testChainID, who); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSubmit(t testing.TB, r *Registry, obj Object) cid.Cid {
	t.Helper()
	ch, err := r.Submit(context.Background(), obj)
	if err != nil {
		t.Fatalf("Submit %s: %v", obj.Kind(), err)
	}
	return ch.CID
}

func refCIDs(refs []ContributionRef) []cid.Cid {
	out := make([]cid.Cid, len(refs))
	for i, r := range refs {
		out[i] = r.CID
	}
	return out
}

// TestIndexCountsAndPages follows the counts and the lists by status
// through adds, votes, a page cursor, a re-vote and a repeated store.
func TestIndexCountsAndPages(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t) // f.k is pending, created at stateContributed
	var ks []cid.Cid
	for i := range 5 {
		ks = append(ks, mustSubmit(t, f.r, memContribution(t, f.id, contributorSigner(t), stateContributed.Add(time.Duration(i+1)*time.Minute), i)))
	}
	c, err := f.r.Counts(ctx, f.id)
	if err != nil || c.Pending != 6 || c.Contributions() != 6 || c.Votes != 0 {
		t.Fatalf("Counts after 6 adds = %+v %v", c, err)
	}
	// The owner (weight 2 of 3, quorum 2, 6667 bps) accepts alone.
	mustSubmit(t, f.r, signedVoteOn(t, f.id, ks[0], ownerSigner(t), Approve, 0, stateVoted))
	mustSubmit(t, f.r, signedVoteOn(t, f.id, ks[1], ownerSigner(t), Reject, 0, stateVoted))
	// The curator (weight 1) alone approves: not yet the quorum.
	mustSubmit(t, f.r, signedVoteOn(t, f.id, ks[2], curatorSigner(t), Approve, 0, stateVoted))
	c, err = f.r.Counts(ctx, f.id)
	if err != nil || c.Pending != 4 || c.Accepted != 1 || c.Rejected != 1 || c.Votes != 3 {
		t.Fatalf("Counts after 3 votes = %+v %v", c, err)
	}
	acc, err := f.r.ContributionsByStatus(ctx, f.id, Accepted, cid.Undef, 10)
	if err != nil || len(acc) != 1 || !acc[0].CID.Equals(ks[0]) || acc[0].Approve != 2 {
		t.Fatalf("accepted = %+v %v", acc, err)
	}
	// Pending oldest first, in pages of 2.
	want := []cid.Cid{f.k, ks[2], ks[3], ks[4]}
	var got []cid.Cid
	after := cid.Undef
	for {
		page, err := f.r.ContributionsByStatus(ctx, f.id, Pending, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d", len(page))
		}
		got = append(got, refCIDs(page)...)
		after = page[len(page)-1].CID
	}
	if !slices.EqualFunc(got, want, cid.Cid.Equals) {
		t.Fatalf("pending pages = %v, want %v", got, want)
	}
	// The owner changes its mind on ks[1]: rejected → accepted.
	mustSubmit(t, f.r, signedVoteOn(t, f.id, ks[1], ownerSigner(t), Approve, 1, stateVoted.Add(time.Minute)))
	c, err = f.r.Counts(ctx, f.id)
	if err != nil || c.Accepted != 2 || c.Rejected != 0 || c.Votes != 4 {
		t.Fatalf("Counts after a re-vote = %+v %v", c, err)
	}
	votes, err := f.r.CountedVotes(ctx, ks[1])
	if err != nil || len(votes) != 1 || votes[0].Seq != 1 {
		t.Fatalf("counted votes of ks[1] = %v %v", votes, err)
	}
	// Storing what is held again changes nothing; sync may store a stale
	// vote, which counts nothing.
	data := encodeObject(t, signedVoteOn(t, f.id, ks[0], ownerSigner(t), Approve, 0, stateVoted))
	if _, err := f.r.Put(ctx, data); err != nil {
		t.Fatal(err)
	}
	old := signedVoteOn(t, f.id, ks[1], ownerSigner(t), Reject, 0, stateVoted.Add(-time.Minute))
	if _, err := f.r.Put(AcceptingStale(ctx), encodeObject(t, old)); err != nil {
		t.Fatal(err)
	}
	c2, err := f.r.Counts(ctx, f.id)
	if err != nil || c2.Accepted != 2 || c2.Votes != 5 || c2.Pending != c.Pending {
		t.Fatalf("Counts after a repeated and a stale vote = %+v %v", c2, err)
	}
	if _, err := f.r.ContributionsByStatus(ctx, f.id, Pending, cid.Cid(storage.ShardCID([]byte("x"))), 2); err == nil {
		t.Fatal("a cursor that is no contribution was taken")
	}
}

// TestIndexWindowSweep checks contributions whose window closes leave the
// pending list: expired without the quorum, rejected with it.
func TestIndexWindowSweep(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	k2 := mustSubmit(t, f.r, memContribution(t, f.id, contributorSigner(t), stateContributed, 1))
	// The curator approves k2 (1 of 3 cast, below the quorum 2); f.k gets
	// no vote.
	mustSubmit(t, f.r, signedVoteOn(t, f.id, k2, curatorSigner(t), Approve, 0, stateVoted))
	if c, err := f.r.Counts(ctx, f.id); err != nil || c.Pending != 2 {
		t.Fatalf("Counts before the window closes = %+v %v", c, err)
	}
	end := stateContributed.Add(stateWindow * time.Second)
	f.r.now = func() time.Time { return end }
	c, err := f.r.Counts(ctx, f.id)
	if err != nil || c.Pending != 0 || c.Expired != 2 {
		t.Fatalf("Counts when the window closed = %+v %v", c, err)
	}
	if page, err := f.r.ContributionsByStatus(ctx, f.id, Pending, cid.Undef, 10); err != nil || len(page) != 0 {
		t.Fatalf("pending after the window = %v %v", page, err)
	}
}

// TestIndexPolicyUpdate checks a new version that removes a curator decides
// every contribution again, and one that only renames the Datanet does not
// need to.
func TestIndexPolicyUpdate(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	mustSubmit(t, f.r, signedVoteOn(t, f.id, f.k, ownerSigner(t), Approve, 0, stateVoted))
	if c, _ := f.r.Counts(ctx, f.id); c.Accepted != 1 {
		t.Fatalf("not accepted: %+v", c)
	}
	v1, err := f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{Name: ptr("renamed")}, ownerSigner(t), stateVoted)
	if err != nil {
		t.Fatal(err)
	}
	if under, err := f.r.talliedUnder(ctx, f.id); err != nil || !under.Equals(v1.CID) {
		t.Fatalf("statuses decided under %s (%v), want %s", under, err, v1.CID)
	}
	// The owner makes itself weight 1: its approval alone is short of the
	// quorum of 2.
	owner := ownerSigner(t).Address()
	_, err = f.r.UpdateDatanet(ctx, f.id, DatanetUpdate{SetCurators: []Curator{{Address: owner, Weight: 1}}}, ownerSigner(t), stateVoted)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.r.Counts(ctx, f.id)
	if err != nil || c.Accepted != 0 || c.Pending != 1 {
		t.Fatalf("Counts after the owner's weight fell = %+v %v", c, err)
	}
	// The curator's approval now makes the quorum.
	mustSubmit(t, f.r, signedVoteOn(t, f.id, f.k, curatorSigner(t), Approve, 0, stateVoted))
	if c, err := f.r.Counts(ctx, f.id); err != nil || c.Accepted != 1 {
		t.Fatalf("Counts after the second approval = %+v %v", c, err)
	}
	checkSyncSet(t, f.r, f.id) // three versions, a contribution, two votes
}

// TestIndexAgreesWithTally is a property test: random Datanets, random
// votes stored in random order, the index's status of every contribution
// is the tally of every vote held, and a registry that builds the index
// from the stored objects (a store written before the index existed)
// gets the same statuses and counts.
func TestIndexAgreesWithTally(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			r, store := newTestRegistry(t)
			r.now = func() time.Time { return stateClock }
			curators := make([]Signer, 2+rng.IntN(4))
			var cs []Curator
			for i := range curators {
				curators[i] = seededSigner(t, fmt.Sprintf("%d/%d", seed, i))
				cs = append(cs, Curator{Address: curators[i].Address(), Weight: 1 + rng.Uint64N(3)})
			}
			var total uint64
			for _, c := range cs {
				total += c.Weight
			}
			spec := DatanetSpec{Name: "p", Curators: cs, Quorum: 1 + rng.Uint64N(total), ThresholdBps: uint32(1 + rng.IntN(10000))}
			id, _, err := r.CreateDatanet(ctx, spec, testChainID, ownerSigner(t), stateCreated)
			if err != nil {
				t.Fatal(err)
			}
			var ks []cid.Cid
			for i := range 20 {
				ks = append(ks, mustSubmit(t, r, memContribution(t, id, contributorSigner(t), stateContributed, i)))
			}
			var votes []*Vote
			for range 80 {
				who := curators[rng.IntN(len(curators))]
				d := Approve
				if rng.IntN(2) == 0 {
					d = Reject
				}
				v := signedVoteOn(t, id, ks[rng.IntN(len(ks))], who, d, rng.Uint64N(4), stateVoted.Add(time.Duration(rng.IntN(60))*time.Second))
				if !slices.ContainsFunc(votes, func(w *Vote) bool { return mustCID(t, w).Equals(mustCID(t, v)) }) {
					votes = append(votes, v)
				}
			}
			rng.Shuffle(len(votes), func(i, j int) { votes[i], votes[j] = votes[j], votes[i] })
			for _, v := range votes {
				// Sync takes stale votes too; both orders must converge.
				if _, err := r.Put(AcceptingStale(ctx), encodeObject(t, v)); err != nil {
					t.Fatal(err)
				}
			}
			head, err := r.Head(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			check := func(t *testing.T, r *Registry) Counts {
				t.Helper()
				wantPending := map[cid.Cid]bool{}
				for _, k := range ks {
					held, err := r.Votes(ctx, k)
					if err != nil {
						t.Fatal(err)
					}
					want, err := CurationRules.Tally(head.Datanet, k, stateContributed.Unix(), held, stateClock)
					if err != nil {
						t.Fatal(err)
					}
					got, err := r.ContributionRef(ctx, k)
					if err != nil {
						t.Fatal(err)
					}
					if got.Status != want.Status || got.Approve != want.Approve || got.Reject != want.Reject {
						t.Fatalf("%s: index %v (%d/%d), tally %v (%d/%d)", k, got.Status, got.Approve, got.Reject, want.Status, want.Approve, want.Reject)
					}
					if want.Status == Pending {
						wantPending[k] = true
					}
					counted, err := r.CountedVotes(ctx, k)
					if err != nil {
						t.Fatal(err)
					}
					if want.Status != notAdmitted && !sameVoteSet(t, counted, want.Counted) {
						t.Fatalf("%s: index counts %d votes, tally %d", k, len(counted), len(want.Counted))
					}
				}
				// The pending list, a page of 3 at a time, twice (the
				// second read starts at the floor the first learned).
				for range 2 {
					listed := 0
					after := cid.Undef
					for {
						page, err := r.ContributionsByStatus(ctx, id, Pending, after, 3)
						if err != nil {
							t.Fatal(err)
						}
						if len(page) == 0 {
							break
						}
						for _, p := range page {
							if !wantPending[p.CID] {
								t.Fatalf("%s listed as pending", p.CID)
							}
						}
						listed += len(page)
						after = page[len(page)-1].CID
					}
					if listed != len(wantPending) {
						t.Fatalf("%d pending listed, want %d", listed, len(wantPending))
					}
				}
				c, err := r.Counts(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if c.Contributions() != uint64(len(ks)) || c.Votes != uint64(len(votes)) {
					t.Fatalf("counts %+v for %d contributions, %d votes", c, len(ks), len(votes))
				}
				checkSyncSet(t, r, id)
				return c
			}
			c1 := check(t, r)
			// Drop the index and build it again from the objects.
			if err := r.deletePrefix(ctx, nil); err != nil {
				t.Fatal(err)
			}
			r2, err := NewRegistry(store, Config{Rules: CurationRules, Now: func() time.Time { return stateClock }})
			if err != nil {
				t.Fatal(err)
			}
			if c2 := check(t, r2); c2 != c1 {
				t.Fatalf("counts of the rebuilt index %+v, want %+v", c2, c1)
			}
			// An index of version 1 (the second level of the sync
			// buckets stored, Z keys) is upgraded when a registry opens
			// it: the stored buckets are deleted (so are version 2 and
			// 3's first level, X keys), the sums held in memory.
			if err := store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
				for _, k := range [][]byte{append([]byte{ixSyncBucketV3}, id.Bytes()...), append([]byte{ixSyncCoarseV3}, id.Bytes()...)} {
					if err := tx.Set(append(k, 0, 1), make([]byte, 40)); err != nil {
						return err
					}
				}
				return tx.Set([]byte{ixVersion}, []byte{1})
			}); err != nil {
				t.Fatal(err)
			}
			// reopen opens a registry on store, which upgrades what it
			// must, and checks it as the first, with no V key left.
			reopen := func(what string) {
				t.Helper()
				r, err := NewRegistry(store, Config{Rules: CurationRules, Now: func() time.Time { return stateClock }})
				if err != nil {
					t.Fatal(err)
				}
				if c := check(t, r); c != c1 {
					t.Fatalf("counts of the %s %+v, want %+v", what, c, c1)
				}
				if n := countPrefix(t, store, []byte{ixVoteV2}); n != 0 {
					t.Fatalf("%d V keys left in the %s", n, what)
				}
				for _, p := range []byte{ixSyncBucketV3, ixSyncCoarseV3} {
					if n := countPrefix(t, store, []byte{p}); n != 0 {
						t.Fatalf("%d %c keys left in the %s", n, p, what)
					}
				}
			}
			reopen("index upgraded from version 1")
			// An index of version 2 (counted votes under V keys) is
			// upgraded when a registry opens it.
			moved := downgradeCounted(t, store)
			if moved == 0 {
				t.Fatal("no counted vote to move")
			}
			reopen("index upgraded from version 2")
			// The same upgrade cut short after its first transaction (of
			// two keys): the index says version 3 (a build of version 2
			// refuses it), and the next open moves the rest.
			moved = downgradeCounted(t, store)
			defer func(keys int) { moveBatchKeys, afterMoveBatch = keys, nil }(moveBatchKeys)
			moveBatchKeys = 2
			stop := errors.New("stopped")
			afterMoveBatch = func() error { return stop }
			if _, err := NewRegistry(store, Config{Rules: CurationRules, Now: func() time.Time { return stateClock }}); !errors.Is(err, stop) {
				t.Fatalf("open with the move stopped: %v", err)
			}
			if n := countPrefix(t, store, []byte{ixVoteV2}); n == 0 || n == moved {
				t.Fatalf("%d of %d V keys left after one transaction of the move", n, moved)
			}
			if v := indexVersionOf(t, store); v != indexVersion {
				t.Fatalf("index version %d while the move is cut short, want %d", v, indexVersion)
			}
			afterMoveBatch = nil
			reopen("index moved in two opens")
		})
	}
}

// sameVoteSet reports whether a and b hold the same votes (by CID).
func sameVoteSet(t *testing.T, a, b []*Vote) bool {
	t.Helper()
	ids := func(vs []*Vote) []string {
		var out []string
		for _, v := range vs {
			out = append(out, mustCID(t, v).KeyString())
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(ids(a), ids(b))
}

// downgradeCounted rewrites the index of store as version 2 kept it: each
// contribution's counted votes under V <contribution> <curator> keys, not
// in its record. It returns how many V keys it wrote.
func downgradeCounted(t *testing.T, store *storage.Store) int {
	t.Helper()
	ctx := context.Background()
	type rec struct {
		key []byte
		r   contribRecord
	}
	var recs []rec
	err := store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan([]byte{ixContrib}, nil, false, func(key, v []byte) (bool, error) {
			r, err := decodeContribRecord(v)
			if err != nil {
				return false, err
			}
			recs = append(recs, rec{slices.Clone(key), r})
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
		for _, x := range recs {
			for _, c := range x.r.Counted {
				if err := tx.Set(slices.Concat([]byte{ixVoteV2}, x.key[1:], c.Curator[:]), c.Vote.Bytes()); err != nil {
					return err
				}
				n++
			}
			x.r.Counted = nil
			if err := tx.Set(x.key, x.r.encode()); err != nil {
				return err
			}
		}
		return tx.Set([]byte{ixVersion}, []byte{2})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// indexVersionOf reads the index's version.
func indexVersionOf(t *testing.T, store *storage.Store) uint64 {
	t.Helper()
	var v uint64
	err := store.ViewIndex(context.Background(), func(tx *storage.IndexTxn) error {
		b, err := tx.Get([]byte{ixVersion})
		if err != nil {
			return err
		}
		v, _ = binary.Uvarint(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// countPrefix counts the index keys under prefix.
func countPrefix(t *testing.T, store *storage.Store, prefix []byte) int {
	t.Helper()
	n := 0
	err := store.ViewIndex(context.Background(), func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, nil, false, func(_, _ []byte) (bool, error) {
			n++
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkSyncSet checks the sync index of dn holds exactly the objects of
// dn the store holds (its versions, and what names it: a whole-store
// scan), in key order, with bucket sums and counts that add up, and that
// a read within a bucket yields that bucket's keys.
func checkSyncSet(t *testing.T, r *Registry, dn cid.Cid) {
	t.Helper()
	ctx := context.Background()
	versions, err := r.Versions(ctx, dn)
	if err != nil {
		t.Fatal(err)
	}
	var ids []cid.Cid
	for _, v := range versions {
		ids = append(ids, v.CID)
	}
	err = r.store.ForEachObject(ctx, func(c cid.Cid, data []byte) error {
		obj, err := Decode(data)
		if err != nil {
			return nil // a chunk, or not of this package
		}
		if _, ok := obj.(*Datanet); !ok && slices.ContainsFunc(syncSets(c, obj, cid.Undef), dn.Equals) {
			ids = append(ids, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[[32]byte]cid.Cid{}
	buckets := map[uint16]SyncBucket{}
	for _, c := range ids {
		k := SyncKey(c)
		want[k] = c
		b := buckets[uint16(k[0])<<8|uint16(k[1])]
		b.Sum, b.Count = add256(b.Sum, k), b.Count+1
		buckets[uint16(k[0])<<8|uint16(k[1])] = b
	}
	var prev [32]byte
	n := 0
	err = r.SyncKeys(ctx, dn, [32]byte{}, 0, func(k [32]byte, c cid.Cid) (bool, error) {
		if n > 0 && string(k[:]) <= string(prev[:]) {
			t.Fatalf("sync keys out of order")
		}
		if w, ok := want[k]; !ok || !w.Equals(c) || SyncKey(c) != k {
			t.Fatalf("sync key of %s is not in IDs", c)
		}
		prev, n = k, n+1
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d sync keys, the store holds %d objects of the set", n, len(want))
	}
	for b, sb := range buckets {
		var from [32]byte
		from[0], from[1] = byte(b>>8), byte(b)
		var count uint64
		err := r.SyncKeys(ctx, dn, from, 2, func(k [32]byte, c cid.Cid) (bool, error) {
			if k[0] != from[0] || k[1] != from[1] {
				t.Fatalf("SyncKeys within bucket %04x yielded %x", b, k[:2])
			}
			count++
			return true, nil
		})
		if err != nil || count != sb.Count {
			t.Fatalf("SyncKeys within bucket %04x: %d keys, %v; want %d", b, count, err, sb.Count)
		}
	}
	got := 0
	err = r.SyncBuckets(ctx, dn, func(bucket uint16, b SyncBucket) error {
		if buckets[bucket] != b {
			t.Fatalf("bucket %04x = %+v, want %+v", bucket, b, buckets[bucket])
		}
		got++
		return nil
	})
	if err != nil || got != len(buckets) {
		t.Fatalf("%d buckets (%v), want %d", got, err, len(buckets))
	}
	coarse := map[int]SyncBucket{}
	for k := range want {
		b := coarse[int(k[0])]
		b.Sum, b.Count = add256(b.Sum, k), b.Count+1
		coarse[int(k[0])] = b
	}
	got = 0
	err = r.SyncBucketRange(ctx, dn, SyncCoarse, 0, 256, func(bucket int, b SyncBucket) error {
		if coarse[bucket] != b {
			t.Fatalf("first-level bucket %02x = %+v, want %+v", bucket, b, coarse[bucket])
		}
		got++
		return nil
	})
	if err != nil || got != len(coarse) {
		t.Fatalf("%d first-level buckets (%v), want %d", got, err, len(coarse))
	}
}

// FuzzContribRecord: decoding any bytes as a contribution's record never
// panics, and a record that decodes encodes to bytes that decode to the
// same record (the encoding is minimal, the decoder accepts non-minimal
// uvarints as Go's does: records are this node's own).
func FuzzContribRecord(f *testing.F) {
	dn := cid.MustParse("bafyreigehq7zrloi2r5xhoqjxsmncuvu5lqwuothtr4kfidqsgi72par3e")
	vote := cid.MustParse("bafyreicdl6gypzvoanqbtkqhujsv3utbmd6fqf6dyg4q54p5lzu7j3bskq")
	base := contribRecord{Datanet: dn, Created: 1_700_000_000, Root: [32]byte{1, 2, 3}, Size: 1 << 20, Status: Accepted, Approve: 3, Reject: 1}
	f.Add(base.encode())
	base.Counted = []countedRef{{Curator: common.Address{1}, Vote: vote}, {Curator: common.Address{2}, Vote: dn}}
	f.Add(base.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeContribRecord(b)
		if err != nil {
			if !errors.Is(err, storage.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := decodeContribRecord(rec.encode())
		if err != nil {
			t.Fatalf("%x decodes, its encoding %x does not: %v", b, rec.encode(), err)
		}
		if !reflect.DeepEqual(again, rec) || !bytes.Equal(again.encode(), rec.encode()) {
			t.Fatalf("%x decodes as %+v, its encoding as %+v", b, rec, again)
		}
	})
}
