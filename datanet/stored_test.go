package datanet

import (
	"context"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"
)

// storedLog records the events of a registry's Stored hook.
type storedLog struct {
	mu     sync.Mutex
	events []Stored
}

func (l *storedLog) add(ev Stored) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// take returns the events since the last take.
func (l *storedLog) take() []Stored {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// TestStoredEvents checks every way an object enters the registry tells
// the Stored hook once, with its set, whether it was made here, and the
// topic it is gossiped on; a refused object tells nothing.
func TestStoredEvents(t *testing.T) {
	ctx := context.Background()
	f := newLineageFixture(t) // the fixture's own objects were stored before the hook
	log := &storedLog{}
	f.r.onStored = log.add
	expect := func(t *testing.T, what string, c cid.Cid, set cid.Cid, local bool, topic cid.Cid, gossiped bool) {
		t.Helper()
		evs := log.take()
		if len(evs) != 1 {
			t.Fatalf("%s: %d events, want 1", what, len(evs))
		}
		ev := evs[0]
		if !ev.CID.Equals(c) || !ev.Datanet.Equals(set) || ev.Local != local {
			t.Fatalf("%s: event %s set %s local %v, want %s %s %v", what, ev.CID, ev.Datanet, ev.Local, c, set, local)
		}
		if tp, ok := ev.Gossip(); ok != gossiped || !tp.Equals(topic) {
			t.Fatalf("%s: gossiped on %s (%v), want %s (%v)", what, tp, ok, topic, gossiped)
		}
	}

	id, _, err := f.r.CreateDatanet(ctx, stateSpec(t, "another"), testChainID, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "create", id, id, true, cid.Undef, true)

	v, err := f.r.UpdateDatanet(ctx, id, DatanetUpdate{Name: ptr("renamed")}, ownerSigner(t), stateCreated)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "update", v.CID, id, true, id, true)

	k := addText(t, f.r, f.id, "new.txt", "new text", stateContributed)
	expect(t, "add", k, f.id, true, f.id, true)

	vote := signedVoteOn(t, f.id, k, curatorSigner(t), Approve, 0, stateVoted)
	ch, err := f.r.Submit(ctx, vote)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "vote", ch.CID, f.id, true, f.id, true)
	if ch.Provided() {
		t.Fatal("a vote is announced on the DHT")
	}
	if _, err := f.r.Submit(ctx, signedVoteOn(t, f.id, k, strangerSigner(t), Approve, 0, stateVoted)); err == nil {
		t.Fatal("a stranger's vote was stored")
	}
	if evs := log.take(); len(evs) != 0 {
		t.Fatalf("a refused vote told the hook: %+v", evs)
	}

	rec := signedRecord(t, f.record(t), testChainID)
	output := "Advice: " + f.text2[1000:1100] + " / " + f.text2[2500:2560]
	ch, err = f.r.SubmitAttribution(ctx, rec, []byte(output))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "attribution", ch.CID, f.id, true, cid.Undef, false)
	if has, err := f.store.HasShard(ctx, rec.Output); err != nil || !has {
		t.Fatalf("the record's output is not stored: %v %v", has, err)
	}

	// Another node receives the vote from the network.
	g := newRegistryOn(t, f.store)
	glog := &storedLog{}
	g.onStored = glog.add
	data := encodeObject(t, vote)
	if _, err := g.Put(ctx, data); err != nil {
		t.Fatal(err)
	}
	if evs := glog.take(); len(evs) != 1 || evs[0].Local || !evs[0].Datanet.Equals(f.id) {
		t.Fatalf("Put told %+v, want one received vote of %s", evs, f.id)
	}
}
