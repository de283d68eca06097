package datanet_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/bignet"
	"github.com/openledger/openledger/storage"
)

func newBulkRegistry(t testing.TB, stored func(datanet.Stored)) *datanet.Registry {
	t.Helper()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := bignet.Created.Add(365 * 24 * time.Hour)
	r, err := datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}, Now: func() time.Time { return now }, Stored: stored})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// registryState is what a registry says of a Datanet: its counts, every
// contribution by status, the counted votes of each, and its sync buckets.
type registryState struct {
	counts   datanet.Counts
	byStatus map[datanet.Status][]cid.Cid
	counted  map[cid.Cid][]cid.Cid
	buckets  map[uint16]datanet.SyncBucket
}

func stateOf(t testing.TB, r *datanet.Registry, dn cid.Cid) registryState {
	t.Helper()
	ctx := context.Background()
	s := registryState{byStatus: map[datanet.Status][]cid.Cid{}, counted: map[cid.Cid][]cid.Cid{}, buckets: map[uint16]datanet.SyncBucket{}}
	var err error
	if s.counts, err = r.Counts(ctx, dn); err != nil {
		t.Fatal(err)
	}
	for _, st := range []datanet.Status{datanet.Pending, datanet.Accepted, datanet.Rejected} {
		var after cid.Cid
		for {
			page, err := r.ContributionsByStatus(ctx, dn, st, after, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, ref := range page {
				s.byStatus[st] = append(s.byStatus[st], ref.CID)
				votes, err := r.CountedVotes(ctx, ref.CID)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range votes {
					vc, _ := v.CID()
					s.counted[ref.CID] = append(s.counted[ref.CID], vc)
				}
			}
			if len(page) < 100 {
				break
			}
			after = page[len(page)-1].CID
		}
	}
	if err := r.SyncBuckets(ctx, dn, func(bk uint16, sb datanet.SyncBucket) error {
		s.buckets[bk] = sb
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s registryState) equal(o registryState) bool {
	if s.counts != o.counts || len(s.byStatus) != len(o.byStatus) || len(s.counted) != len(o.counted) || len(s.buckets) != len(o.buckets) {
		return false
	}
	for st, cs := range s.byStatus {
		if !slices.EqualFunc(cs, o.byStatus[st], cid.Cid.Equals) {
			return false
		}
	}
	for k, vs := range s.counted {
		if !slices.EqualFunc(vs, o.counted[k], cid.Cid.Equals) {
			return false
		}
	}
	for bk, b := range s.buckets {
		if o.buckets[bk] != b {
			return false
		}
	}
	return true
}

// TestPutManyMatchesPut: a Datanet stored by PutMany, in batches of random
// order and size, ends in exactly the state Put gives one object at a
// time in dependency order: the same counts, statuses, counted votes and
// sync buckets, every object told to Stored once. Objects whose
// dependencies come in a later batch fail as "cannot judge yet" and are
// given again with a later batch, as sync and fetch do with deferred
// objects; a vote after its contribution in the same batch is stored.
func TestPutManyMatchesPut(t *testing.T) {
	// Mixed votes (some reject), an update appointing a fourth curator who
	// votes too, and several votes per contribution, superseding none.
	net, items := bignet.Objects(t, 150, bignet.Options{Seed: 7, Mixed: true, Update: true, Votes: 3})
	ctx := context.Background()
	one := newBulkRegistry(t, nil)
	for _, it := range items {
		if _, err := one.Put(ctx, it.Data); err != nil {
			t.Fatal(err)
		}
	}
	want := stateOf(t, one, net.ID)
	if want.counts.Accepted == 0 || want.counts.Rejected == 0 {
		t.Fatalf("the fixture decides nothing both ways: %+v", want.counts)
	}

	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 99))
		stored := map[cid.Cid]int{}
		many := newBulkRegistry(t, func(ev datanet.Stored) { stored[ev.CID]++ })
		// The Datanet's versions first (a vote by the curator the update
		// appoints is refused under the first version, by Put too), then
		// the rest in random order.
		var queue, versions [][]byte
		for _, it := range items {
			if it.Contribution < 0 {
				versions = append(versions, it.Data)
			} else {
				queue = append(queue, it.Data)
			}
		}
		rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
		queue = append(versions, queue...)
		for round := 0; len(queue) > 0; round++ {
			if round > 200 {
				t.Fatalf("seed %d: %d objects never stored", seed, len(queue))
			}
			n := min(len(queue), 1+rng.IntN(400))
			batch := queue[:n]
			res, err := many.PutMany(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			var later [][]byte
			for i, r := range res {
				switch {
				case r.Err == nil && r.Checked == nil:
					t.Fatalf("seed %d: object %d neither stored nor failed", seed, i)
				case r.Err != nil && !datanet.CannotJudgeYet(r.Err):
					t.Fatalf("seed %d: object %d: %v", seed, i, r.Err)
				case r.Err != nil:
					later = append(later, batch[i])
				}
			}
			queue = append(queue[n:], later...)
		}
		if got := stateOf(t, many, net.ID); !got.equal(want) {
			t.Errorf("seed %d: PutMany state\n%+v\nPut state\n%+v", seed, got.counts, want.counts)
		}
		if len(stored) != len(items) {
			t.Errorf("seed %d: %d objects told to Stored, want %d", seed, len(stored), len(items))
		}
		for c, n := range stored {
			if n != 1 {
				t.Errorf("seed %d: %s told to Stored %d times", seed, c, n)
			}
		}
	}
}

// TestPutManyRefusesBadObjects: in a batch, an object with a broken
// signature or bytes that are not an object fails alone, with the error
// Put gives it, and the rest is stored.
func TestPutManyRefusesBadObjects(t *testing.T) {
	// 40 contributions by 4 contributors and 80 votes by 3 curators: the
	// signatures of a group of 128 are checked together (verifyObjects).
	_, items := bignet.Objects(t, 40, bignet.Options{Seed: 8})
	ctx := context.Background()
	r := newBulkRegistry(t, nil)
	data := make([][]byte, 0, len(items)+2)
	for _, it := range items {
		data = append(data, it.Data)
	}
	// A vote and a contribution in the first group, and the last vote,
	// each with a flipped byte of its signature (the last bytes of its
	// encoding); then garbage.
	flip := func(i int) {
		data[i] = slices.Clone(data[i])
		data[i][len(data[i])-5] ^= 1
	}
	firstVote := slices.IndexFunc(items[1:], func(it bignet.Item) bool { return it.Vote >= 0 }) + 1
	lastContrib := slices.IndexFunc(items[30:], func(it bignet.Item) bool { return it.Vote < 0 && it.Contribution >= 0 }) + 30
	flip(firstVote)
	flip(lastContrib)
	flip(len(data) - 1)
	bad := map[int]bool{firstVote: true, lastContrib: true, len(data) - 1: true}
	data = append(data, []byte("not an object"), items[len(items)-1].Data)
	res, err := r.PutMany(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range res {
		switch {
		case bad[i]:
			_, putErr := newBulkRegistry(t, nil).Put(ctx, data[i])
			if x.Err == nil || x.Err.Error() != putErr.Error() {
				t.Errorf("object %d, broken signature: %v, Put says %v", i, x.Err, putErr)
			}
		case i == len(data)-2:
			if x.Err == nil {
				t.Error("garbage stored")
			}
		case i < len(items) && items[i].Vote >= 0 && items[i].Contribution == items[lastContrib].Contribution:
			if x.Err == nil { // a vote on the refused contribution
				t.Errorf("object %d: a vote on a refused contribution stored", i)
			}
		case x.Err != nil:
			t.Errorf("object %d: %v", i, x.Err)
		}
	}
}

// BenchmarkPutMany stores a Datanet of 2,000 contributions and 4,000 votes
// received from the network, in dependency order: one object at a time
// (Put, one goroutine, as sync did), or 256 at a time (PutMany). ns/op is
// per object.
func BenchmarkPutMany(b *testing.B) {
	_, items := bignet.Objects(b, 2000, bignet.Options{Seed: 9})
	ctx := context.Background()
	data := make([][]byte, len(items))
	for i, it := range items {
		data[i] = it.Data
	}
	run := func(b *testing.B, put func(r *datanet.Registry, data [][]byte)) {
		objects := 0
		for b.Loop() {
			b.StopTimer()
			r := newBulkRegistry(b, nil)
			b.StartTimer()
			put(r, data)
			objects += len(data)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(objects), "ns/object")
		b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
	}
	b.Run("put", func(b *testing.B) {
		run(b, func(r *datanet.Registry, data [][]byte) {
			for _, d := range data {
				if _, err := r.Put(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("putmany", func(b *testing.B) {
		run(b, func(r *datanet.Registry, data [][]byte) {
			for len(data) > 0 {
				n := min(len(data), 256)
				res, err := r.PutMany(ctx, data[:n])
				if err != nil {
					b.Fatal(err)
				}
				for _, x := range res {
					if x.Err != nil {
						b.Fatal(x.Err)
					}
				}
				data = data[n:]
			}
		})
	})
}

// TestPreverifyChangesNoVerdict checks that what Preverify remembers
// changes no verdict: a registry that preverified the objects (twice, the
// second time from what the first remembered) checks and stores them as
// one that did not, a broken signature included.
func TestPreverifyChangesNoVerdict(t *testing.T) {
	net, items := bignet.Objects(t, 40, bignet.Options{Seed: 9})
	ctx := context.Background()
	data := make([][]byte, 0, len(items))
	for _, it := range items {
		data = append(data, it.Data)
	}
	vote := slices.IndexFunc(items[1:], func(it bignet.Item) bool { return it.Vote >= 0 }) + 1
	data[vote] = slices.Clone(data[vote])
	data[vote][len(data[vote])-5] ^= 1 // its signature
	warm, cold := newBulkRegistry(t, nil), newBulkRegistry(t, nil)
	warm.Preverify(data)
	warm.Preverify(data) // the second time from what the first kept
	for i, d := range data {
		got, gerr := warm.Check(ctx, cid.Undef, d)
		want, werr := cold.Check(ctx, cid.Undef, d)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("object %d: Check after Preverify says %v, without %v", i, gerr, werr)
		}
		if gerr != nil {
			continue
		}
		enc, err := got.Object.Encode()
		if err != nil || !got.CID.Equals(want.CID) || !slices.Equal(enc, d) {
			t.Fatalf("object %d: Check after Preverify gives %s (%v), without %s", i, got.CID, err, want.CID)
		}
	}
	if _, err := warm.Check(ctx, cid.Undef, data[vote]); err == nil {
		t.Fatal("a vote with a broken signature passes Check after Preverify")
	}
	wres, err := warm.PutMany(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	cres, err := cold.PutMany(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wres {
		if (wres[i].Err == nil) != (cres[i].Err == nil) {
			t.Fatalf("object %d: PutMany after Preverify says %v, without %v", i, wres[i].Err, cres[i].Err)
		}
	}
	if wres[vote].Err == nil {
		t.Fatal("a vote with a broken signature stored")
	}
	if w, c := stateOf(t, warm, net.ID), stateOf(t, cold, net.ID); !w.equal(c) {
		t.Fatalf("state after Preverify:\n%+v\nwithout:\n%+v", w, c)
	}
}
