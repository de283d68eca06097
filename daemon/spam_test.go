package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// TestGossipSpamDatanetsNotKept: a peer pushes Datanets made with
// throwaway keys on the announcements topic (issue 12 #6). The node keeps
// none of them (nothing stored, listed or pinned), charges the pusher
// until gossipsub graylists it, and still takes a Datanet it asks for.
func TestGossipSpamDatanetsNotKept(t *testing.T) {
	net := newTestNet(t, 2)
	a, spammer := net[0], net[1]
	spammer.connect(t, a)
	ctx := context.Background()
	const spam = 300
	var ids []cid.Cid
	for i := range spam {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		// Stored on the spammer, which announces each (the post-store
		// loop publishes a new Datanet on the announcements topic).
		id, _, err := spammer.n.registry.CreateDatanet(ctx, datanet.DatanetSpec{Name: "spam"}, 1337,
			datanet.NewKeySigner(key), time.Now())
		if err != nil {
			t.Fatalf("spam %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	pid := spammer.n.net.p2p.ID()
	waitFor(t, 60*time.Second, "the spammer to be graylisted", func() bool {
		s, ok := a.n.net.p2p.PeerScore(pid)
		return ok && s < -2500
	})
	st := a.n.net.p2p.Stats()
	if st.GossipUnwanted == 0 || st.GossipAccepted != 0 {
		t.Errorf("gossip stats %+v: want unwanted counted, nothing accepted", st)
	}
	for _, id := range ids {
		if has, err := a.n.registry.Has(ctx, id); err != nil || has {
			t.Fatalf("spam datanet %s stored (%v)", id, err)
		}
	}
	var list []DatanetView
	if err := a.rpc.Call(&list, "datanet_list", PageArgs{}); err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("datanet list shows %d unsolicited datanets", len(list))
	}
	// Asked for, one is taken, from a peer not graylisted for it.
	honest := newTestNet(t, 1)[0]
	honest.connect(t, a)
	var dn DatanetView
	if err := honest.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "wanted"}); err != nil {
		t.Fatal(err)
	}
	if err := a.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
		t.Fatalf("join a datanet asked for: %v", err)
	}
	if err := a.rpc.Call(&list, "datanet_list", PageArgs{}); err != nil || len(list) != 1 || list[0].ID != dn.ID {
		t.Fatalf("datanet list after join: %+v %v", list, err)
	}
	// The honest node's announcement of its new Datanet races the join: if
	// it arrives first it is unwanted and charged, once (a tenth of an
	// offence, p2p's unwantedPenalty). One charge, no more, and nowhere near
	// the graylist the spammer reached.
	if s, ok := a.n.net.p2p.PeerScore(honest.n.net.p2p.ID()); ok && s < -10.5 {
		t.Errorf("the honest peer's score is %.1f after announcing one datanet: charged more than once", s)
	}
}
