package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// collector is an fn for FetchObjects that keeps what it is given.
type collector struct {
	mu  sync.Mutex
	got map[cid.Cid][]byte // guarded by mu
	dup int                // guarded by mu: objects given twice
}

func (c *collector) put(k cid.Cid, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = make(map[cid.Cid][]byte)
	}
	if _, ok := c.got[k]; ok {
		c.dup++
	}
	c.got[k] = data
	return nil
}

// storeObjects stores n objects of dn on the nodes given (by index) and
// returns their CIDs and bytes.
func (tn *testNet) storeObjects(dn cid.Cid, n int, tag string, on func(k int) []int) ([]cid.Cid, map[cid.Cid][]byte) {
	var cids []cid.Cid
	all := make(map[cid.Cid][]byte, n)
	for k := range n {
		obj := mkObj(dn, fmt.Sprintf("%s %d", tag, k))
		c := objCID(obj)
		for _, i := range on(k) {
			tn.objs[i].add(tn.t, obj)
		}
		cids = append(cids, c)
		all[c] = obj
	}
	return cids, all
}

func (tn *testNet) ids(idx ...int) []peer.ID {
	out := make([]peer.ID, len(idx))
	for k, i := range idx {
		out[k] = tn.nodes[i].ID()
	}
	return out
}

// checkAll fails unless got holds exactly want, each object once.
func checkAll(t *testing.T, c *collector, want map[cid.Cid][]byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dup > 0 {
		t.Errorf("%d objects handed to fn twice", c.dup)
	}
	if len(c.got) != len(want) {
		t.Fatalf("got %d objects, want %d", len(c.got), len(want))
	}
	for k, data := range want {
		if !bytes.Equal(c.got[k], data) {
			t.Fatalf("object %s: got %q", k, c.got[k])
		}
	}
}

// TestFetchObjects: objects are fetched from several peers at once, over
// more streams than one session allows; objects a peer lacks are asked of
// another; a liar is dropped and penalised and what it held goes to an
// honest peer; objects nobody has are named in a FetchError.
func TestFetchObjects(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, tn *testNet, n *Node, dn cid.Cid)
	}{
		{"several peers, several streams", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			cids, all := tn.storeObjects(dn, 2*fetchStreamObjects+900, "many", func(int) []int { return []int{1, 2} })
			var c collector
			st, err := n.FetchObjects(ctx, slices.Values(cids), tn.ids(1, 2), c.put)
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, &c, all)
			if st.Objects != len(cids) || st.Peers != 2 || st.Streams < 3 || st.Dropped != 0 {
				t.Errorf("stats %+v: want every object, from 2 peers, over 3 streams or more", st)
			}
		}},
		{"each peer holds half", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			cids, all := tn.storeObjects(dn, 1000, "half", func(k int) []int { return []int{1 + k%2} })
			var c collector
			st, err := n.FetchObjects(ctx, slices.Values(cids), tn.ids(1, 2), c.put)
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, &c, all)
			if st.Missing == 0 {
				t.Errorf("stats %+v: no MISSING answer, yet each peer lacks half", st)
			}
		}},
		{"liar dropped, honest peer delivers", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			tn.objs[3].lie = true // set before any stream is served, never reset
			cids, all := tn.storeObjects(dn, 600, "liar", func(int) []int { return []int{1, 3} })
			var c collector
			st, err := n.FetchObjects(ctx, slices.Values(cids), tn.ids(3, 1), c.put)
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, &c, all)
			if st.Dropped != 1 {
				t.Errorf("stats %+v: want the liar dropped", st)
			}
			if p := n.scores.penaltyOf(tn.nodes[3].ID(), time.Now()); p <= 0 {
				t.Error("liar not penalised")
			}
			if p := n.scores.penaltyOf(tn.nodes[1].ID(), time.Now()); p != 0 {
				t.Errorf("honest peer penalised: %v", p)
			}
		}},
		{"some held by nobody", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			cids, all := tn.storeObjects(dn, 300, "some", func(int) []int { return []int{2} })
			var absent []cid.Cid
			for k := range 40 {
				absent = append(absent, objCID(fmt.Appendf(nil, "nobody holds %d", k)))
			}
			var c collector
			_, err := n.FetchObjects(ctx, slices.Values(append(absent, cids...)), tn.ids(1, 2), c.put)
			var fe *FetchError
			if !errors.As(err, &fe) || !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want a FetchError", err)
			}
			if fe.Count != len(absent) || len(fe.CIDs) != maxFetchFailures {
				t.Errorf("FetchError counts %d, names %d; want %d, %d", fe.Count, len(fe.CIDs), len(absent), maxFetchFailures)
			}
			for _, k := range fe.CIDs {
				if !slices.Contains(absent, k) {
					t.Errorf("FetchError names %s, which peers hold", k)
				}
			}
			checkAll(t, &c, all)
		}},
		{"no peers", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			cids, _ := tn.storeObjects(dn, 10, "none", func(int) []int { return []int{1} })
			var c collector
			_, err := n.FetchObjects(ctx, slices.Values(cids), nil, c.put)
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Count != len(cids) {
				t.Fatalf("err = %v, want a FetchError of %d objects", err, len(cids))
			}
		}},
		{"fn fails", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			cids, _ := tn.storeObjects(dn, 2000, "fnfail", func(int) []int { return []int{1, 2} })
			boom := errors.New("boom")
			var mu sync.Mutex
			calls := 0
			_, err := n.FetchObjects(ctx, slices.Values(cids), tn.ids(1, 2), func(cid.Cid, []byte) error {
				mu.Lock()
				defer mu.Unlock()
				if calls++; calls == 100 {
					return boom
				}
				return nil
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want fn's", err)
			}
		}},
		{"cancelled", func(t *testing.T, tn *testNet, n *Node, dn cid.Cid) {
			ctx, cancel := context.WithCancel(ctx)
			cids, _ := tn.storeObjects(dn, 2000, "cancel", func(int) []int { return []int{1} })
			_, err := n.FetchObjects(ctx, slices.Values(cids), tn.ids(1), func(cid.Cid, []byte) error {
				cancel()
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				dn := testDatanet("fetch many")
				tn := newMockNet(t, 4, []cid.Cid{dn})
				for i := 1; i < 4; i++ {
					tn.connect(0, i)
				}
				tc.run(t, tn, tn.nodes[0], dn)
			})
		})
	}
}

// TestFetchObjectsStreamsWant: want is read as the fetch goes, not all at
// once: the CIDs read ahead of those delivered stay within the bounds of
// what may be in flight.
func TestFetchObjectsStreamsWant(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("fetch lazily")
		tn := newMockNet(t, 2, []cid.Cid{dn})
		tn.connect(0, 1)
		cids, _ := tn.storeObjects(dn, 6000, "lazy", func(int) []int { return []int{1} })
		var mu sync.Mutex
		read, done, ahead := 0, 0, 0
		want := iter.Seq[cid.Cid](func(yield func(cid.Cid) bool) {
			for _, c := range cids {
				mu.Lock()
				read++
				ahead = max(ahead, read-done)
				mu.Unlock()
				if !yield(c) {
					return
				}
			}
		})
		_, err := tn.nodes[0].FetchObjects(context.Background(), want, tn.ids(1), func(cid.Cid, []byte) error {
			mu.Lock()
			done++
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// In flight: the window, src's buffer, the put queue and the
		// putters, and one more the feeder holds.
		if bound := 2*fetchWindow + 64; ahead > bound || done != len(cids) {
			t.Fatalf("read %d CIDs ahead of those delivered (bound %d); delivered %d of %d", ahead, bound, done, len(cids))
		}
	})
}
