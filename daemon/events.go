package daemon

import (
	"context"
	"sync"

	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// ObjectEvent is an object stored on this node, as
// datanet_subscribe("objects") reports it.
type ObjectEvent struct {
	// Kind is the object's kind (datanet, contribution, vote, snapshot,
	// model, ...), or "lagged" when the subscriber fell behind and events
	// were dropped: the subscription ends, and the client reloads what it
	// shows and subscribes again.
	Kind    string `json:"kind"`
	CID     string `json:"cid,omitempty"`
	Datanet string `json:"datanet,omitempty"`
	// Contribution is the contribution a vote is on.
	Contribution string `json:"contribution,omitempty"`
	// Local is true for an object made on this node.
	Local bool `json:"local,omitempty"`
}

// eventLagged is the Kind of the last event of a subscriber that fell
// behind.
const eventLagged = "lagged"

// feedBuffer bounds the events waiting for one subscriber; one that lets
// more pile up is dropped rather than holding up the storing call.
const feedBuffer = 256

// objectFeed fans the node's stored objects out to subscribers without
// ever blocking the registry's Stored hook. The zero value is ready.
type objectFeed struct {
	mu   sync.Mutex
	subs map[chan ObjectEvent]struct{} // guarded by mu
}

func (f *objectFeed) subscribe() chan ObjectEvent {
	ch := make(chan ObjectEvent, feedBuffer)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[chan ObjectEvent]struct{}{}
	}
	f.subs[ch] = struct{}{}
	return ch
}

// unsubscribe removes ch; it is a no-op for a channel already dropped.
func (f *objectFeed) unsubscribe(ch chan ObjectEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

// publish hands ev to every subscriber. A subscriber whose buffer is full
// is dropped: its channel is closed, which it reports as lagged.
func (f *objectFeed) publish(ev ObjectEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// objectEvent describes a stored object for the feed.
func objectEvent(ev datanet.Stored) ObjectEvent {
	out := ObjectEvent{Kind: ev.Object.Kind(), CID: ev.CID.String(), Local: ev.Local}
	if ev.Datanet.Defined() {
		out.Datanet = ev.Datanet.String()
	}
	if v, ok := ev.Object.(*datanet.Vote); ok {
		out.Contribution = v.Contribution.String()
	}
	return out
}

// Objects reports every object of Datanet id stored on this node from now
// on (all Datanets for ""): new contributions, votes, versions and
// snapshots, made here or received. Subscribe with
// datanet_subscribe("objects", id).
func (a *datanetAPI) Objects(ctx context.Context, id string) (*rpc.Subscription, error) {
	var dn cid.Cid
	if id != "" {
		var err error
		if dn, err = parseCID(id); err != nil {
			return nil, err
		}
	}
	// Subscribe to the feed before answering, so nothing stored after the
	// answer is missed.
	ch := a.n.objects.subscribe()
	sub, err := a.n.subscribeWork(ctx, func(ctx context.Context, notify func(any)) {
		defer a.n.objects.unsubscribe(ch)
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					notify(ObjectEvent{Kind: eventLagged})
					return
				}
				if !dn.Defined() || ev.Datanet == id {
					notify(ev)
				}
			case <-ctx.Done():
				return
			}
		}
	})
	if err != nil {
		a.n.objects.unsubscribe(ch)
	}
	return sub, err
}
