package p2p

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// waitMesh waits until every node sees its neighbours on set's topic and
// has grafted them into its mesh (up to gossipsub's Dlo), so that gossip
// reaches everyone without waiting for the next heartbeat.
func (tn *testNet) waitMesh(set cid.Cid) {
	tn.t.Helper()
	const dlo = 5
	waitFor(tn.t, 20*time.Second, func() bool {
		for _, n := range tn.nodes {
			peers := len(n.host.Network().Peers())
			if len(n.topicPeers(set)) < peers || len(n.mesh.peers(TopicName(set))) < min(peers, dlo) {
				return false
			}
		}
		return true
	}, "gossip mesh of %s", TopicName(set))
}

// TestGossipReachesSparseNetwork: 20 nodes, each linked to 2-4 others
// and to no one else (a mocknet: on loopback the DHT connects every pair);
// one object published reaches all 20 by gossip alone (the periodic sync
// is off, and every node joined before the object existed).
func TestGossipReachesSparseNetwork(t *testing.T) {
	bubble(t, func(t *testing.T) {
		dn := testDatanet("twenty")
		tn := newMockNet(t, 20, []cid.Cid{dn})
		adj := tn.sparse(20, 10)
		tn.joinAll(dn)
		tn.waitMesh(dn)
		for i, n := range tn.nodes {
			if got := len(n.host.Network().Peers()); got != len(adj[i]) {
				t.Fatalf("node %d has %d peers, want its %d links", i, got, len(adj[i]))
			}
		}

		obj := mkObj(dn, "one object for twenty nodes")
		c := objCID(obj)
		if err := tn.nodes[7].Publish(context.Background(), dn, obj); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool {
			for _, o := range tn.objs {
				if !o.has(c) {
					return false
				}
			}
			return true
		}, "all 20 nodes to store the object")
		var fetched uint64
		for _, n := range tn.nodes {
			fetched += n.Stats().ObjectsFetched
		}
		t.Logf("objects that came by sync instead of gossip: %d", fetched)
	})
}

// TestGossipAnnouncements: Datanet objects travel on the announcements
// topic, which every node is on from Start.
func TestGossipAnnouncements(t *testing.T) {
	tn := newTestNet(t, 3, nil)
	tn.line(0, 2)
	tn.waitMesh(cid.Undef)
	dn := mkNet("announced")
	if err := tn.nodes[0].Publish(context.Background(), cid.Undef, dn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return tn.objs[2].has(objCID(dn)) }, "announcement")
}

// TestGossipBadMessages: an attacker whose own checks accept anything
// publishes bad objects to B, which is linked to C. B stores none of them
// and forwards none (C never sees them), and the attacker's score at B
// drops for the rejected ones, not for the ignored one.
func TestGossipBadMessages(t *testing.T) {
	dn := testDatanet("bad")
	other := testDatanet("other")
	const maxMsg = 1 << 10
	forged := mkObj(dn, "forged")
	forged[len(forged)-1] ^= 1
	tests := []struct {
		name    string
		data    []byte
		penalty bool // Reject: B penalises the attacker
	}{
		{"malformed", []byte("obj|not enough fields"), true},
		{"oversized", mkObj(dn, strings.Repeat("x", 2*maxMsg)), true},
		{"forged", forged, true},
		{"unknown kind", []byte("vote|" + dn.String() + "|x|" + mac("vote|"+dn.String()+"|x")), true},
		{"wrong topic", mkObj(other, "belongs elsewhere"), true},
		{"unknown datanet", mkObj(testDatanet("unknown"), "cannot judge"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				tn := newMockNet(t, 3, []cid.Cid{dn, other}, func(i int, cfg *Config) {
					if i > 0 {
						cfg.MaxMessageSize = maxMsg
					}
				})
				attacker, b, c := tn.nodes[0], tn.nodes[1], tn.nodes[2]
				tn.objs[0].acceptAll = true
				tn.block(0, 2, true) // the attacker reaches C only through B
				tn.line(0, 2)
				tn.joinAll(dn)
				tn.waitMesh(dn)
				// Let the syncs that joining started end first: sync
				// carries objects up to MaxObjectSize, so one that ran
				// after the publish would rightly bring B the oversized
				// object. A session refused because it crossed the
				// peer's own is tried again once that one ends.
				synctest.Wait()
				time.Sleep(time.Second)
				synctest.Wait()

				if err := attacker.Publish(context.Background(), dn, tt.data); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, func() bool {
					st := b.Stats()
					return st.GossipRejected+st.GossipIgnored > 0
				}, "B to judge the message")
				if tt.penalty {
					waitFor(t, 10*time.Second, func() bool {
						s, ok := b.PeerScore(attacker.ID())
						return ok && s < 0
					}, "the attacker's score at B to drop")
				}
				// A valid object sent after the bad one reaches C through B:
				// once it is there, the bad one would have been too.
				marker := mkObj(dn, "marker after "+tt.name)
				if err := attacker.Publish(context.Background(), dn, marker); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, func() bool { return tn.objs[2].has(objCID(marker)) }, "the marker at C")

				if tn.objs[1].has(objCID(tt.data)) || tn.objs[2].has(objCID(tt.data)) {
					t.Error("bad object stored")
				}
				if n := tn.objs[2].checked(tt.data); n != 0 {
					t.Errorf("bad object forwarded to C (checked %d times)", n)
				}
				s, _ := b.PeerScore(attacker.ID())
				if !tt.penalty && s < 0 {
					t.Errorf("attacker's score %v after an ignored message, want >= 0", s)
				}
				t.Logf("attacker's score at B: %.1f, at C: %v", s, first(c.PeerScore(attacker.ID())))
			})
		})
	}
}

func first[T any](v T, _ bool) T { return v }

func TestPublishErrors(t *testing.T) {
	dn := testDatanet("publish")
	tn := newTestNet(t, 1, []cid.Cid{dn}, func(_ int, cfg *Config) { cfg.MaxMessageSize = 1 << 10 })
	n := tn.nodes[0]
	if err := n.Join(context.Background(), dn); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		set     cid.Cid
		data    []byte
		wantErr error
	}{
		{"valid", dn, mkObj(dn, "fine"), nil},
		{"same object again", dn, mkObj(dn, "fine"), nil},
		{"too large", dn, mkObj(dn, strings.Repeat("x", 2<<10)), ErrTooLarge},
		{"not joined", testDatanet("elsewhere"), mkObj(testDatanet("elsewhere"), "x"), ErrNotJoined},
		{"rejected by check", dn, []byte("garbage"), ErrRejected},
		{"object on announcements", cid.Undef, mkObj(dn, "x"), ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := n.Publish(context.Background(), tt.set, tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if stored := tn.objs[0].has(objCID(tt.data)); stored != (tt.wantErr == nil) {
				t.Errorf("stored = %v", stored)
			}
		})
	}
}

func TestJoinLeave(t *testing.T) {
	a, b := testDatanet("a"), testDatanet("b")
	tn := newTestNet(t, 2, []cid.Cid{a, b})
	tn.connect(0, 1)
	n := tn.nodes[0]
	for _, dn := range []cid.Cid{a, b, a} {
		if err := n.Join(context.Background(), dn); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Joined(); len(got) != 2 {
		t.Fatalf("joined %v", got)
	}
	if err := n.Join(context.Background(), cid.Undef); err == nil {
		t.Error("joined the undefined datanet")
	}
	if err := tn.nodes[1].Join(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		ps := n.Peers()
		return len(ps) == 1 && len(ps[0].Datanets) == 1 && ps[0].Datanets[0] == a
	}, "the peer listed on a")
	if err := n.Leave(a); err != nil {
		t.Fatal(err)
	}
	if err := n.Leave(a); !errors.Is(err, ErrNotJoined) {
		t.Errorf("second leave: %v", err)
	}
	if err := n.Leave(cid.Undef); err == nil {
		t.Error("left the announcements")
	}
	if got := n.Joined(); len(got) != 1 || got[0] != b {
		t.Fatalf("joined %v after leave", got)
	}
	if err := n.Publish(context.Background(), a, mkObj(a, "x")); !errors.Is(err, ErrNotJoined) {
		t.Errorf("publish after leave: %v", err)
	}
	// Joining again after leaving works.
	if err := n.Join(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// TestAppScore: the daemon's hook (e.g. "this peer sent bad shard bytes")
// lowers the peer's gossip score.
func TestAppScore(t *testing.T) {
	bubble(t, func(t *testing.T) {
		var bad atomic.Value // peer.ID
		tn := newMockNet(t, 2, nil, func(i int, cfg *Config) {
			if i == 0 {
				cfg.AppScore = func(p peer.ID) float64 {
					if p == bad.Load() {
						return -1000
					}
					return 0
				}
			}
		})
		bad.Store(tn.nodes[1].ID())
		tn.connect(0, 1)
		waitFor(t, 10*time.Second, func() bool {
			s, ok := tn.nodes[0].PeerScore(tn.nodes[1].ID())
			return ok && s <= -1000
		}, "the app score in the peer's gossip score")
		if ps := tn.nodes[0].Peers(); len(ps) != 1 || ps[0].Score > -1000 {
			t.Errorf("peers %+v", ps)
		}
	})
}
