package daemon

import (
	"context"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// storedQueue bounds the stored objects waiting for the post-store loop;
// a full queue holds up the storing calls (back-pressure), never drops.
const storedQueue = 1024

// publishTimeout bounds one gossip publish of the post-store loop.
const publishTimeout = 30 * time.Second

// objectStored is the registry's Stored hook, run for every object stored:
// the one place the node reacts to a new object. What must hold when the
// storing call returns is done here: an object made on this node is queued
// for anchoring (a durable write to the anchorer's queue). The rest, which
// waits on the network, is the post-store loop's: objects made here, and
// snapshots received (to index).
func (n *Node) objectStored(ev datanet.Stored) {
	n.objects.publish(objectEvent(ev))
	if ev.Local {
		n.anchorObject(n.ctx, ev.CID)
	} else if _, ok := ev.Object.(*datanet.Snapshot); !ok {
		return
	}
	select {
	case n.storedCh <- ev:
	case <-n.ctx.Done():
	}
}

// warmIndex reads every Datanet's counts once at start, in the
// background, so that no interactive read pays for what a restart forgets:
// the first sweep of a Datanet scans its pending range from the start,
// over the keys of every contribution decided since Badger's last
// compaction (about 0.3 µs each), and learns where its pending
// contributions begin; later reads start there.
func (n *Node) warmIndex() {
	var after cid.Cid
	for n.ctx.Err() == nil {
		page, err := n.registry.DatanetsPage(n.ctx, after, datanet.PageLimit(0))
		if err != nil || len(page) == 0 {
			return
		}
		for _, e := range page {
			if _, err := n.registry.Counts(n.ctx, e.ID); err != nil && n.ctx.Err() == nil {
				n.log.Debug("warm the index", "datanet", e.ID.String(), "err", err)
			}
		}
		after = page[len(page)-1].ID
	}
}

// postStoreLoop gossips and provides the objects made on this node, and
// indexes the snapshots received, one event at a time and in order.
func (n *Node) postStoreLoop() {
	for {
		select {
		case ev := <-n.storedCh:
			n.afterStore(ev)
		case <-n.ctx.Done():
			return
		}
	}
}

func (n *Node) afterStore(ev datanet.Stored) {
	if !ev.Local {
		// A snapshot of a joined Datanet that arrived: index it.
		if n.net != nil && slices.ContainsFunc(n.net.p2p.Joined(), ev.Datanet.Equals) {
			n.autoIndex(ev.CID)
		}
		return
	}
	if n.net == nil {
		return
	}
	if topic, ok := ev.Gossip(); ok {
		n.publish(ev, topic)
	}
	if ev.Provided() {
		n.announceProvide(ev.CID)
	}
}

// publish gossips an object made here on topic, joining its Datanet first
// (making or adding to a Datanet joins it). A failure is logged: peers get
// the object by sync.
func (n *Node) publish(ev datanet.Stored, topic cid.Cid) {
	if err := n.join(n.ctx, ev.Datanet); err != nil {
		n.log.Warn("join for publishing failed; peers will get the object by sync", "cid", ev.CID.String(), "datanet", ev.Datanet.String(), "err", err)
		return
	}
	data, err := ev.Object.Encode()
	if err == nil {
		ctx, cancel := context.WithTimeout(n.ctx, publishTimeout)
		err = n.net.p2p.PublishChecked(ctx, topic, data)
		cancel()
	}
	if err != nil && n.ctx.Err() == nil {
		n.log.Warn("publish failed; peers will get it by sync", "cid", ev.CID.String(), "err", err)
	}
}
