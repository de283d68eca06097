package p2p

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// haveAll reports whether every node in idx stores every CID.
func (tn *testNet) haveAll(idx []int, cids []cid.Cid) bool {
	for _, i := range idx {
		for _, c := range cids {
			if !tn.objs[i].has(c) {
				return false
			}
		}
	}
	return true
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// publishN publishes n new objects of dn from node i and returns their CIDs.
func (tn *testNet) publishN(i int, dn cid.Cid, n int, tag string) []cid.Cid {
	tn.t.Helper()
	var out []cid.Cid
	for k := range n {
		obj := mkObj(dn, fmt.Sprintf("%s %d", tag, k))
		if err := tn.nodes[i].Publish(context.Background(), dn, obj); err != nil {
			tn.t.Fatal(err)
		}
		out = append(out, objCID(obj))
	}
	return out
}

// TestSyncLateJoiner: a node that joins after 10 objects were published
// gets them by sync (gossip does not replay), with no periodic sync.
func TestSyncLateJoiner(t *testing.T) {
	dn := testDatanet("late")
	tn := newTestNet(t, 4, []cid.Cid{dn})
	tn.line(0, 3)
	tn.joinAll(dn)
	tn.waitMesh(dn)
	var cids []cid.Cid
	for i := range 10 {
		cids = append(cids, tn.publishN(i%4, dn, 1, fmt.Sprintf("early %d", i))...)
	}
	waitFor(t, 20*time.Second, func() bool { return tn.haveAll(span(0, 4), cids) }, "the first nodes to converge")

	late := tn.add()
	tn.block(late, 0, true) // one way in, through node 3
	tn.block(late, 1, true)
	tn.block(late, 2, true)
	tn.connect(late, 3)
	if tn.objs[late].count(dn) != 0 {
		t.Fatal("late node has objects before joining")
	}
	if err := tn.nodes[late].Join(context.Background(), dn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return tn.haveAll([]int{late}, cids) }, "the late joiner to get the 10 objects")

	// Now in sync: an explicit Sync moves no objects in one round trip.
	waitFor(t, 10*time.Second, func() bool { return len(tn.nodes[late].topicPeers(dn)) == 1 }, "the late joiner to see node 3 on the topic")
	st, err := tn.nodes[late].Sync(context.Background(), dn)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fetched != 0 || st.Pushed != 0 || st.Rounds != st.Peers {
		t.Errorf("sync of equal sets: %+v", st)
	}
	t.Logf("in-sync Sync: %+v", st)
}

// TestSyncPartitionHeals: two halves are cut apart, each publishes, and
// once the cut heals every node ends with the union.
func TestSyncPartitionHeals(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("partition")
		tn := newMockNet(t, 10, []cid.Cid{dn})
		left, right := span(0, 5), span(5, 10)
		tn.line(0, 4)
		tn.line(5, 9)
		cross := [][2]int{{0, 5}, {2, 7}, {4, 9}}
		for _, c := range cross {
			tn.connect(c[0], c[1])
		}
		tn.joinAll(dn)
		tn.waitMesh(dn)
		before := tn.publishN(3, dn, 2, "before")
		waitFor(t, 20*time.Second, func() bool { return tn.haveAll(span(0, 10), before) }, "the objects published before the cut")

		// Cut.
		for _, l := range left {
			for _, r := range right {
				tn.block(l, r, true)
			}
		}
		waitFor(t, 10*time.Second, func() bool {
			for _, l := range left {
				for _, r := range right {
					if len(tn.nodes[l].host.Network().ConnsToPeer(tn.nodes[r].ID())) > 0 {
						return false
					}
				}
			}
			return true
		}, "the halves to disconnect")
		leftObjs := tn.publishN(1, dn, 3, "left")
		rightObjs := tn.publishN(8, dn, 4, "right")
		waitFor(t, 20*time.Second, func() bool {
			return tn.haveAll(left, leftObjs) && tn.haveAll(right, rightObjs)
		}, "each half to get its own objects")
		for _, i := range left {
			for _, c := range rightObjs {
				if tn.objs[i].has(c) {
					t.Fatal("an object crossed the partition")
				}
			}
		}

		// Heal.
		for _, l := range left {
			for _, r := range right {
				tn.block(l, r, false)
			}
		}
		for _, c := range cross {
			tn.connect(c[0], c[1])
		}
		all := append(append(append([]cid.Cid{}, before...), leftObjs...), rightObjs...)
		waitFor(t, 30*time.Second, func() bool { return tn.haveAll(span(0, 10), all) }, "all nodes to converge on the union")
		for i, o := range tn.objs {
			if n := o.count(dn); n != len(all) {
				t.Errorf("node %d holds %d objects, want %d", i, n, len(all))
			}
		}
	})
}

// TestSyncPeriodic: with no event to trigger it, the periodic sync still
// repairs a node that missed objects (here: stored directly, as the
// daemon does for its own, without publishing).
func TestSyncPeriodic(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("periodic")
		tn := newMockNet(t, 2, []cid.Cid{dn}, func(_ int, cfg *Config) { cfg.SyncInterval = 200 * time.Millisecond })
		tn.connect(0, 1)
		tn.joinAll(dn)
		tn.waitMesh(dn)
		c := tn.objs[0].add(t, mkObj(dn, "stored, never published"))
		waitFor(t, 10*time.Second, func() bool { return tn.objs[1].has(c) }, "the periodic sync")
	})
}

// TestSyncRejectsBadObjects: a peer that stores forged and foreign
// objects in its set offers them by sync; the honest node stores none,
// counts them rejected and penalises the peer, and still gets the good
// ones.
func TestSyncRejectsBadObjects(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("sync-bad")
		tn := newMockNet(t, 2, []cid.Cid{dn})
		bad, honest := tn.objs[0], tn.objs[1]
		bad.acceptAll = true
		forged := mkObj(dn, "forged")
		forged[len(forged)-1] ^= 1
		foreign := mkObj(testDatanet("foreign"), "foreign")
		good := mkObj(dn, "good")
		for _, o := range [][]byte{forged, foreign, good} {
			bad.mu.Lock()
			c := objCID(o)
			bad.data[c], bad.owner[c] = o, dn
			bad.mu.Unlock()
		}
		tn.connect(0, 1)
		if err := tn.nodes[0].Join(context.Background(), dn); err != nil {
			t.Fatal(err)
		}
		if err := tn.nodes[1].Join(context.Background(), dn); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool { return len(tn.nodes[1].topicPeers(dn)) == 1 }, "topic peer")
		st, err := tn.nodes[1].Sync(context.Background(), dn)
		if err != nil {
			t.Fatal(err)
		}
		if !honest.has(objCID(good)) || honest.has(objCID(forged)) || honest.has(objCID(foreign)) {
			t.Errorf("stored: good %v forged %v foreign %v", honest.has(objCID(good)), honest.has(objCID(forged)), honest.has(objCID(foreign)))
		}
		// Joining started a background session too, which may end after
		// this one; each rejects the forged object (the foreign one is
		// ignored: this node cannot judge it), so the peer is penalised
		// twice.
		t.Logf("explicit sync: %+v", st)
		waitFor(t, 10*time.Second, func() bool {
			return tn.nodes[1].scores.penaltyOf(tn.nodes[0].ID(), time.Now()) >= 2*syncPenalty*0.9
		}, "a penalty of at least %v", 2*syncPenalty)
		waitFor(t, 10*time.Second, func() bool {
			s, ok := tn.nodes[1].PeerScore(tn.nodes[0].ID())
			return ok && s < 0
		}, "the peer's gossip score to reflect the penalty")
	})
}

func TestSyncErrors(t *testing.T) {
	dn := testDatanet("sync-errors")
	tn := newTestNet(t, 2, []cid.Cid{dn})
	tn.connect(0, 1)
	n := tn.nodes[0]
	if _, err := n.Sync(context.Background(), dn); !errors.Is(err, ErrNotJoined) {
		t.Errorf("sync of a set not joined: %v", err)
	}
	if err := n.Join(context.Background(), dn); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Sync(context.Background(), dn); !errors.Is(err, ErrNoPeers) {
		t.Errorf("sync with no topic peers: %v", err)
	}
	// A peer that has not joined refuses the session.
	if _, err := n.syncPeer(context.Background(), dn, tn.nodes[1].ID(), true); !errors.Is(err, ErrNotJoined) {
		t.Errorf("session with a peer not joined: %v", err)
	}
	// The announcements are gossiped, never reconciled, either side.
	tn.waitMesh(cid.Undef)
	if _, err := n.Sync(context.Background(), cid.Undef); !errors.Is(err, ErrAnnouncementsNotSynced) {
		t.Errorf("sync of the announcements: %v", err)
	}
	if _, err := n.syncPeer(context.Background(), cid.Undef, tn.nodes[1].ID(), true); !errors.Is(err, ErrNotJoined) {
		t.Errorf("a session over the announcements: %v, want refused as not joined", err)
	}
}

// TestFetchObject: an object is fetched by CID and checked against it; a
// lying peer's bytes are refused and the peer penalised, and the fetch
// goes on to an honest one.
func TestFetchObject(t *testing.T) {
	dn := testDatanet("fetch")
	tn := newTestNet(t, 3, []cid.Cid{dn})
	obj := mkObj(dn, "fetch me")
	c := objCID(obj)
	tn.objs[1].add(t, obj) // liar
	tn.objs[1].lie = true
	tn.objs[2].add(t, obj) // honest
	tn.connect(0, 1)
	tn.connect(0, 2)
	n, liar, honest := tn.nodes[0], tn.nodes[1].ID(), tn.nodes[2].ID()
	ctx := context.Background()

	tests := []struct {
		name    string
		from    []peer.ID
		wantErr error
	}{
		{"honest", []peer.ID{honest}, nil},
		{"liar", []peer.ID{liar}, ErrHashMismatch},
		{"liar then honest", []peer.ID{liar, honest}, nil},
		{"nobody has it", []peer.ID{liar}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := c
			if tt.name == "nobody has it" {
				want = objCID([]byte("nobody has this"))
			}
			data, err := n.FetchObject(ctx, want, tt.from)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && string(data) != string(obj) {
				t.Errorf("got %q", data)
			}
		})
	}
	if p := n.scores.penaltyOf(liar, time.Now()); p <= 0 {
		t.Errorf("liar not penalised")
	}
	if p := n.scores.penaltyOf(honest, time.Now()); p != 0 {
		t.Errorf("honest peer penalised: %v", p)
	}
	if n.objs.(*memObjects).has(c) {
		t.Error("FetchObject stored the object; that is the caller's decision")
	}
}

// served is the number of objects node i has sent by sync, answering
// WANTs or pushing.
func (tn *testNet) served(i int) uint64 { return tn.nodes[i].Stats().ObjectsServed }

// withDatanet stores in m the Datanet object named name and n objects of
// it, and returns the Datanet's CID and the objects'.
func withDatanet(t *testing.T, m *memObjects, name string, n int) (cid.Cid, []cid.Cid) {
	t.Helper()
	dn := m.add(t, mkNet(name))
	var cids []cid.Cid
	for k := range n {
		cids = append(cids, m.add(t, mkObj(dn, fmt.Sprintf("needs its datanet %d", k))))
	}
	return dn, cids
}

// TestSyncFetchesDependenciesFirst: a node that lacks a Datanet gets its
// objects by sync all the same: each waits in the deferred store while
// the session asks the same peer for the Datanet, and is stored once the
// Datanet is; nothing is fetched twice.
func TestSyncFetchesDependenciesFirst(t *testing.T) {
	bubble(t, func(t *testing.T) {
		tn := newMockNet(t, 2, nil) // neither knows the Datanet but by its object
		src, joiner := tn.objs[0], tn.objs[1]
		dn, cids := withDatanet(t, src, "deps", 40)
		tn.connect(0, 1)
		tn.joinAll(dn)
		waitFor(t, 20*time.Second, func() bool { return tn.haveAll([]int{1}, append(cids, dn)) }, "the joiner to get the Datanet and its objects")
		synctest.Wait()
		if n := joiner.deferredCount(); n != 0 {
			t.Errorf("%d objects still deferred", n)
		}
		if got := tn.served(0); got != 41 {
			t.Errorf("the source served %d objects, want 41: each once", got)
		}
		if p := tn.nodes[1].scores.penaltyOf(tn.nodes[0].ID(), time.Now()); p != 0 {
			t.Errorf("an honest peer penalised: %v", p)
		}
	})
}

// TestSyncHoldsWaitingInMemory: with ManyObjects, the objects a session
// cannot judge until the Datanet it asks for arrives wait in memory, not
// in the deferred store, and are stored once it is. With sessions too
// small to ask for the Datanet, they go to the deferred store when the
// session finishes, and later sessions fetch the Datanet and store them.
func TestSyncHoldsWaitingInMemory(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxObjects int
	}{
		{"the session fetches what they wait for", 0},
		{"sessions too small to ask for it", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				dn := testDatanet("held")
				tn := newMockNet(t, 0, nil, func(i int, cfg *Config) {
					cfg.noPush = true // what the joiner gets, it fetches in its sessions
					if i == 1 && tc.maxObjects > 0 {
						cfg.SyncMaxObjects = tc.maxObjects
					}
				})
				tn.many = true
				tn.add()
				tn.add()
				src, joiner := tn.objs[0], tn.objs[1]
				_, cids := withDatanet(t, src, "held", 40)
				tn.connect(0, 1)
				tn.joinAll(dn)
				waitFor(t, 20*time.Second, func() bool { return len(tn.nodes[1].topicPeers(dn)) == 1 }, "topic peer")
				for range 40 {
					if tn.haveAll([]int{1}, append(cids, dn)) {
						break
					}
					if _, err := tn.nodes[1].Sync(context.Background(), dn); err != nil {
						t.Fatal(err)
					}
				}
				synctest.Wait()
				if !tn.haveAll([]int{1}, append(cids, dn)) {
					t.Fatal("the joiner lacks objects")
				}
				st := tn.nodes[1].Stats()
				joiner.mu.Lock()
				defers := joiner.defers
				joiner.mu.Unlock()
				t.Logf("%d waited in memory, %d deferred, %d Defer calls", st.ObjectsWaited, st.ObjectsDeferred, defers)
				if st.ObjectsWaited == 0 {
					t.Error("no object waited in memory")
				}
				if tc.maxObjects == 0 && defers != 0 {
					t.Errorf("%d objects went to the deferred store, though the session fetched the Datanet they wait for", defers)
				}
				if tc.maxObjects > 0 && defers == 0 {
					t.Error("nothing went to the deferred store, though the sessions could not ask for the Datanet")
				}
				if n := joiner.deferredCount(); n != 0 {
					t.Errorf("%d objects still deferred", n)
				}
				if got := tn.served(0); got != 41 {
					t.Errorf("the source served %d objects, want 41: each once", got)
				}
				s := &tn.nodes[1].syncs
				s.mu.Lock()
				claims := len(s.fetching)
				s.mu.Unlock()
				if claims != 0 {
					t.Errorf("%d objects still claimed once the sessions ended", claims)
				}
			})
		})
	}
}

// TestSyncWindowsAdvance: with sessions of 7 objects, the two sides of
// 100 and 20 objects still converge, session after session each going on
// from where the last stopped, every object sent once.
func TestSyncWindowsAdvance(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("windows")
		tn := newMockNet(t, 2, []cid.Cid{dn}, func(_ int, cfg *Config) { cfg.SyncMaxObjects = 7 })
		var all []cid.Cid
		for k := range 100 {
			all = append(all, tn.objs[0].add(t, mkObj(dn, fmt.Sprintf("a %d", k))))
		}
		for k := range 20 {
			all = append(all, tn.objs[1].add(t, mkObj(dn, fmt.Sprintf("b %d", k))))
		}
		tn.connect(0, 1)
		tn.joinAll(dn)
		waitFor(t, 60*time.Second, func() bool { return tn.haveAll(span(0, 2), all) }, "both sides to hold all 120 objects")
		synctest.Wait()
		if got := tn.served(0) + tn.served(1); got != 120 {
			t.Errorf("%d objects sent, want 120: each once", got)
		}
		sessions := tn.nodes[0].Stats().SyncSessions
		if sessions < 100/7 {
			t.Errorf("%d sessions for 100 objects in windows of 7", sessions)
		}
		t.Logf("%d sessions", sessions)
	})
}

// TestSyncConcurrentSessionsFetchOnce: a joiner reconciling with two peers
// that hold the same objects, at once, fetches each object from one of
// them only.
func TestSyncConcurrentSessionsFetchOnce(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("once")
		tn := newMockNet(t, 3, []cid.Cid{dn}, func(_ int, cfg *Config) {
			cfg.SyncMaxObjects = 50
			cfg.noPush = true // count what the joiner fetches only
		})
		var all []cid.Cid
		for k := range 300 {
			obj := mkObj(dn, fmt.Sprintf("everywhere %d", k))
			tn.objs[0].add(t, obj)
			all = append(all, tn.objs[1].add(t, obj))
		}
		tn.connect(0, 1)
		tn.connect(0, 2)
		tn.connect(1, 2)
		tn.joinAll(dn)
		waitFor(t, 20*time.Second, func() bool { return len(tn.nodes[2].topicPeers(dn)) == 2 }, "the joiner's topic peers")
		if _, err := tn.nodes[2].Sync(context.Background(), dn); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, func() bool { return tn.haveAll([]int{2}, all) }, "the joiner to hold all 300 objects")
		synctest.Wait()
		if got := tn.served(0) + tn.served(1); got != 300 {
			t.Errorf("the joiner was sent %d objects, want 300: each once (%d and %d)", got, tn.served(0), tn.served(1))
		}
	})
}

// TestSyncDeferredBounded: a peer whose set holds objects no one can judge
// (of a Datanet nobody has) cannot make a node hold more deferred bytes
// than its bound, and is not penalised for them; one that answers with
// other bytes than asked for is.
func TestSyncDeferredBounded(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("flood")
		tn := newMockNet(t, 2, []cid.Cid{dn})
		bad, honest := tn.objs[0], tn.objs[1]
		honest.deferCap = 20 << 10
		orphan := testDatanet("nobody has it")
		filler := strings.Repeat("x", 900)
		bad.mu.Lock()
		for k := range 300 {
			o := mkObj(orphan, fmt.Sprintf("%s %d", filler, k))
			c := objCID(o)
			bad.data[c], bad.owner[c] = o, dn // listed in dn's set
		}
		bad.mu.Unlock()
		tn.connect(0, 1)
		tn.joinAll(dn)
		waitFor(t, 10*time.Second, func() bool { return len(tn.nodes[1].topicPeers(dn)) == 1 }, "topic peer")
		st, err := tn.nodes[1].Sync(context.Background(), dn)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		honest.mu.Lock()
		kept, defers := honest.deferredBytesLocked(), honest.defers
		honest.mu.Unlock()
		if kept > honest.deferCap || defers == 0 {
			t.Errorf("%d bytes deferred (%d Defer calls), bound %d", kept, defers, honest.deferCap)
		}
		if p := tn.nodes[1].scores.penaltyOf(tn.nodes[0].ID(), time.Now()); p != 0 {
			t.Errorf("penalised %v for objects that cannot be judged", p)
		}
		t.Logf("sync: %+v; %d bytes deferred", st, kept)

		// Wrong bytes for a WANT: the session fails, the peer is penalised.
		bad.lie = true
		good := bad.add(t, mkObj(dn, "asked for"))
		if _, err := tn.nodes[1].Sync(context.Background(), dn); !errors.Is(err, ErrHashMismatch) {
			t.Errorf("sync with a liar: %v, want ErrHashMismatch", err)
		}
		if honest.has(good) {
			t.Error("stored what a liar sent")
		}
		if p := tn.nodes[1].scores.penaltyOf(tn.nodes[0].ID(), time.Now()); p < syncPenalty*0.9 {
			t.Errorf("liar's penalty %v", p)
		}
	})
}

// TestFetchWhileStreamsTaken: a node whose sync streams to a peer are all
// taken (the resource manager allows 4 a peer, and sync sessions use
// them) is told busy, not "not found", and a batch fetch started then
// waits for a stream and gets the object from that peer, its only holder.
func TestFetchWhileStreamsTaken(t *testing.T) {
	dn := testDatanet("inbound")
	tn := newTestNet(t, 3, []cid.Cid{dn})
	tn.connect(1, 0)
	tn.connect(2, 0)
	server := tn.nodes[0].ID()
	ctx := context.Background()
	obj := mkObj(dn, "served")
	tn.objs[0].add(t, obj)
	var held []network.Stream
	for range 4 {
		s, err := tn.nodes[1].Host().NewStream(ctx, server, SyncProtocol)
		if err != nil {
			t.Fatal(err)
		}
		// A WANT answered proves the stream is up on both sides.
		w := newWire(s, DefaultMaxObjectSize)
		if err := w.send(frameWant, encodeWant([]cid.Cid{objCID(obj)})); err != nil || w.flush() != nil {
			t.Fatal(err)
		}
		if typ, _, err := w.recv(); err != nil || typ != frameObject {
			t.Fatalf("held stream: frame %d, %v", typ, err)
		}
		held = append(held, s)
	}
	if _, err := tn.nodes[1].FetchObject(ctx, objCID(obj), []peer.ID{server}); !errors.Is(err, ErrBusy) {
		t.Fatalf("a fifth stream to the same peer: %v, want busy", err)
	}
	if _, err := tn.nodes[2].FetchObject(ctx, objCID(obj), []peer.ID{server}); err != nil {
		t.Fatalf("another peer is refused: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := tn.nodes[1].FetchObjects(ctx, slices.Values([]cid.Cid{objCID(obj)}), []peer.ID{server},
			func(cid.Cid, []byte) error { return nil })
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	for _, s := range held {
		s.Reset()
	}
	if err := <-done; err != nil {
		t.Fatalf("a batch fetch while the streams were taken: %v", err)
	}
}

// TestSyncRangesAhead: a round's RANGES frame goes out behind the WANT
// frames of the round before, and its answer is read among theirs, so
// the peer works it out while the objects are admitted. The sessions
// still fetch exactly what the node lacks, each object once; with a bound
// that cuts sessions short (an answer read ahead is then dropped), the
// windows still cover everything.
func TestSyncRangesAhead(t *testing.T) {
	for _, max := range []int{10000, 37} {
		t.Run(fmt.Sprintf("max=%d", max), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				dn := testDatanet("ahead")
				tn := newMockNet(t, 2, []cid.Cid{dn}, func(_ int, cfg *Config) {
					cfg.SyncMaxObjects = max
					cfg.noPush = true
				})
				var all []cid.Cid
				lacking := 0
				for k := range 3000 {
					obj := mkObj(dn, fmt.Sprintf("ahead %d", k))
					all = append(all, tn.objs[0].add(t, obj))
					if k%10 == 3 {
						lacking++ // scattered over the key space
						continue
					}
					tn.objs[1].add(t, obj)
				}
				tn.connect(0, 1)
				tn.joinAll(dn)
				waitFor(t, 60*time.Second, func() bool { return tn.haveAll([]int{1}, all) }, "the node to get the objects it lacks")
				synctest.Wait()
				if got := tn.served(0); got != uint64(lacking) {
					t.Errorf("%d objects served, want %d: each lacking one once", got, lacking)
				}
				st := tn.nodes[1].Stats()
				if st.SyncRoundsAhead == 0 {
					t.Errorf("no round went out ahead: %+v", st)
				}
				t.Logf("%d sessions, %d rounds ahead", st.SyncSessions, st.SyncRoundsAhead)
			})
		})
	}
}
