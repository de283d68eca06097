package p2p

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// mdnsServiceName keeps our LAN discovery apart from other libp2p apps.
	mdnsServiceName = "_openledger._udp"
	dialTimeout     = 15 * time.Second
	// rebootstrapEvery is how often the node redials bootstrap peers it
	// lost, while it has fewer than ConnLow connections.
	rebootstrapEvery = time.Minute
)

// mdnsNotifee queues peers found on the LAN for connectLoop; it drops
// them when the queue is full (they are announced again).
type mdnsNotifee struct{ n *Node }

func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.n.host.ID() {
		return
	}
	select {
	case m.n.found <- ai:
	default:
	}
}

// connectLoop connects to the bootstrap peers at start and again while
// the node is short of connections, and to peers found by mDNS.
func (n *Node) connectLoop() {
	n.connectBootstrap()
	t := time.NewTicker(rebootstrapEvery)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case ai := <-n.found:
			n.dial(ai)
		case <-t.C:
			if len(n.host.Network().Peers()) < n.cfg.ConnLow {
				n.connectBootstrap()
			}
		}
	}
}

// connectBootstrap dials the bootstrap peers not connected, in parallel,
// then refreshes the DHT's routing table.
func (n *Node) connectBootstrap() {
	if len(n.bootstrap) == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, ai := range n.bootstrap {
		if n.host.Network().Connectedness(ai.ID) == network.Connected {
			continue
		}
		wg.Go(func() { n.dial(ai) })
	}
	wg.Wait()
	if err := n.dht.Bootstrap(n.ctx); err != nil {
		n.log.Debug("dht bootstrap", slog.Any("err", err))
	}
}

func (n *Node) dial(ai peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
	defer cancel()
	if err := n.host.Connect(ctx, ai); err != nil {
		n.log.Debug("dial failed", slog.String("to", ai.ID.String()), slog.Any("err", err))
	}
}
