package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/multiformats/go-multiaddr"
)

// Node is one openledger node on the network: a libp2p host with the DHT,
// gossip topics and the sync protocol. Build it with New, then Start it;
// Close it when done. Its methods are safe for concurrent use.
type Node struct {
	cfg  Config
	objs Objects
	// checked holds the sha256 of messages PublishChecked is sending,
	// which the local validator takes unchecked.
	checked   sync.Map
	log       *slog.Logger
	host      host.Host
	listen    []multiaddr.Multiaddr
	bootstrap []peer.AddrInfo

	// ctx is the node's lifetime: background work runs under it and every
	// blocking call is cut short when Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// Set by Start, read-only afterwards (read them after checking started).
	dht      *dht.IpfsDHT
	ps       *pubsub.PubSub
	psCancel context.CancelFunc // pubsub's lifetime: it has no Close
	mdns     mdns.Service

	mu       sync.Mutex
	started  bool                     // guarded by mu
	closed   bool                     // guarded by mu
	topics   map[cid.Cid]*joinedTopic // guarded by mu; cid.Undef = announcements
	provided map[cid.Cid]struct{}     // guarded by mu; nil use with Config.ProvideKeys
	// reprovided counts the keys of the last re-provide.
	reprovided atomic.Int64
	pending    map[syncReq]struct{} // guarded by mu: queued syncs
	wg         sync.WaitGroup       // Add only under mu while !closed (enter)

	syncQ     chan syncReq  // work for the sync workers
	inbound   chan struct{} // semaphore of inbound sync sessions
	found     chan peer.AddrInfo
	scores    scoreBook
	syncs     syncState
	mesh      meshTracer
	stats     counters
	closeOnce sync.Once
	closeErr  error
}

// Stats are counters since the node started.
type Stats struct {
	Provided                int    // CIDs this node provides (re-provided on a timer); with Config.ProvideKeys, those of the last re-provide
	Provides                uint64 // DHT announcements attempted, re-provides included
	ProviderRecordsReceived uint64 // ADD_PROVIDER requests this node stored for others
	GossipAccepted          uint64 // gossip messages accepted and stored
	GossipRejected          uint64 // gossip messages rejected (sender penalised)
	GossipIgnored           uint64 // gossip messages ignored
	GossipUnwanted          uint64 // of those, objects not asked for (ErrUnwanted; the sender is charged)
	SyncSessions            uint64 // sync sessions run, either side
	ObjectsFetched          uint64 // objects gained by sync (fetched or pushed to us)
	ObjectsServed           uint64 // objects sent to peers by sync
	ObjectsDeferred         uint64 // objects sync received and kept (in the DeferredStore) until what they need arrives
	ObjectsWaited           uint64 // objects sync received and held in memory while their session fetched what they need
	SyncRoundsAhead         uint64 // reconciliation rounds this node's sessions sent behind the WANT frames of the round before (SyncStats.RoundsAhead)
	SyncBytesSent           uint64 // bytes written to sync streams, either side
	SyncBytesReceived       uint64 // bytes read from sync streams, either side
	PeerOffences            uint64 // provable offences by peers on sync (bad bytes, rejected objects)
}

type counters struct {
	provides, providerRecords                             atomic.Uint64
	gossipAccepted, gossipRejected, gossipIgnored         atomic.Uint64
	gossipUnwanted                                        atomic.Uint64
	syncSessions, objectsFetched, objectsServed, badPeers atomic.Uint64
	objectsDeferred, objectsWaited, syncRoundsAhead       atomic.Uint64
	syncBytesSent, syncBytesReceived                      atomic.Uint64
}

// New validates cfg and builds the node's host, which does not listen
// until Start. objs is the node's object set; p2p calls into it for every
// decision about objects.
func New(cfg Config, objs Objects) (*Node, error) {
	if objs == nil {
		return nil, fmt.Errorf("%w: objects is nil", ErrConfig)
	}
	listen, boot, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := cfg.host
	if h == nil {
		if h, err = newHost(&cfg, log); err != nil {
			return nil, fmt.Errorf("p2p: build host: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:       cfg,
		objs:      objs,
		log:       log.With(slog.String("peer", h.ID().String())),
		host:      h,
		listen:    listen,
		bootstrap: boot,
		ctx:       ctx,
		cancel:    cancel,
		topics:    make(map[cid.Cid]*joinedTopic),
		provided:  make(map[cid.Cid]struct{}),
		pending:   make(map[syncReq]struct{}),
		syncQ:     make(chan syncReq, syncQueueSize),
		inbound:   make(chan struct{}, maxInboundSyncs),
		found:     make(chan peer.AddrInfo, 16),
	}
	n.scores.init()
	return n, nil
}

// Start listens, starts the DHT, gossipsub and the announcements topic,
// the sync protocol and the node's timers, and connects to the bootstrap
// peers (in the background). ctx bounds Start only; the node runs until
// Close. When Start fails the node must still be closed.
func (n *Node) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case n.started:
		return errors.New("p2p: already started")
	}
	if err := n.host.Network().Listen(n.listen...); err != nil {
		return fmt.Errorf("p2p: listen: %w", err)
	}
	if err := n.startDHT(); err != nil {
		return err
	}
	if err := n.startPubSub(); err != nil {
		return err
	}
	n.started = true
	if err := n.joinLocked(cid.Undef); err != nil {
		return fmt.Errorf("p2p: join announcements: %w", err)
	}
	n.host.SetStreamHandler(SyncProtocol, n.handleSync)
	for range syncWorkers {
		n.goLocked(n.syncWorker)
	}
	n.goLocked(n.syncLoop)
	n.goLocked(n.reprovideLoop)
	n.goLocked(n.connectLoop)
	if n.cfg.MDNS {
		n.mdns = mdns.NewMdnsService(n.host, mdnsServiceName, mdnsNotifee{n})
		if err := n.mdns.Start(); err != nil {
			return fmt.Errorf("p2p: start mdns: %w", err)
		}
	}
	n.log.Info("p2p started", slog.Any("addrs", n.host.Addrs()))
	return nil
}

// Close stops the node: background work, the sync protocol, gossip, the
// DHT and the host, and waits for every goroutine it started. It is
// idempotent and returns what failed, joined.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		n.cancel()
		if n.psCancel != nil {
			n.psCancel()
		}
		n.host.RemoveStreamHandler(SyncProtocol)
		var errs []error
		if n.mdns != nil {
			errs = append(errs, n.mdns.Close())
		}
		n.wg.Wait()
		if n.dht != nil {
			errs = append(errs, n.dht.Close())
		}
		errs = append(errs, n.host.Close())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// enter registers a call or goroutine that Close must wait for; it
// returns ErrClosed once Close has begun. Pair it with n.wg.Done.
func (n *Node) enter() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	n.wg.Add(1)
	return nil
}

// enterStarted is enter for calls that need Start first.
func (n *Node) enterStarted() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case !n.started:
		return ErrNotStarted
	}
	n.wg.Add(1)
	return nil
}

// goLocked starts f as a goroutine Close waits for. n.mu must be held and
// the node not closed.
func (n *Node) goLocked(f func()) {
	n.wg.Go(f)
}

// opCtx derives a context for one operation that ends with ctx or with
// the node; its cause is ErrClosed when Close cut it short.
func (n *Node) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(n.ctx, func() { cancel(ErrClosed) })
	return ctx, func() { stop(); cancel(context.Canceled) }
}

// ctxErr returns why ctx ended, preferring ErrClosed.
func ctxErr(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// Host returns the libp2p host, for protocols built beside this package
// (e.g. the shard exchange). It is valid from New until Close.
func (n *Node) Host() host.Host { return n.host }

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Addrs returns the node's full addresses, each ending in /p2p/<id>.
func (n *Node) Addrs() []multiaddr.Multiaddr {
	out, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()})
	if err != nil {
		return nil // only for an empty peer ID, which a host never has
	}
	return out
}

// Connect dials the peer at addr, a multiaddr ending in /p2p/<id>, and
// returns its ID.
func (n *Node) Connect(ctx context.Context, addr string) (peer.ID, error) {
	ai, err := parseP2PAddr(addr)
	if err != nil {
		return "", err
	}
	if ai.ID == n.host.ID() {
		return "", fmt.Errorf("%w: %s is this node", ErrBadAddr, addr)
	}
	if err := n.enterStarted(); err != nil {
		return "", err
	}
	defer n.wg.Done()
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	if err := n.host.Connect(ctx, *ai); err != nil {
		if c := ctxErr(ctx); errors.Is(c, ErrClosed) {
			return "", c
		}
		return "", fmt.Errorf("p2p: connect %s: %w", ai.ID, err)
	}
	return ai.ID, nil
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID        peer.ID
	Addrs     []string      // remote addresses of the open connections
	Inbound   bool          // the first open connection was dialled by the peer
	Latency   time.Duration // moving average of measured round trips; 0 if unknown
	Agent     string        // the peer's user agent, from identify
	Protocols []string      // protocols the peer supports, sorted
	Score     float64       // gossipsub score at the last inspection
	Mesh      []cid.Cid     // joined sets whose gossip mesh includes the peer
	Datanets  []cid.Cid     // joined Datanets whose topic the peer is subscribed to
}

// Peers lists the connected peers, sorted by ID.
func (n *Node) Peers() []PeerInfo {
	ps := n.host.Peerstore()
	topics, meshes := n.topicMembers()
	var out []PeerInfo
	for _, p := range n.host.Network().Peers() {
		info := PeerInfo{ID: p, Latency: ps.LatencyEWMA(p), Datanets: topics[p], Mesh: meshes[p]}
		for i, c := range n.host.Network().ConnsToPeer(p) {
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr().String())
			if i == 0 {
				info.Inbound = c.Stat().Direction == network.DirInbound
			}
		}
		if v, err := ps.Get(p, "AgentVersion"); err == nil {
			info.Agent, _ = v.(string)
		}
		if protos, err := ps.GetProtocols(p); err == nil {
			for _, pr := range protos {
				info.Protocols = append(info.Protocols, string(pr))
			}
			slices.Sort(info.Protocols)
		}
		info.Score, _ = n.scores.score(p)
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b PeerInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// PeerScore returns p's gossipsub score at the last inspection (every
// second), and whether p was scored.
func (n *Node) PeerScore(p peer.ID) (float64, bool) { return n.scores.score(p) }

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	provided := len(n.provided)
	n.mu.Unlock()
	if n.cfg.ProvideKeys != nil {
		provided = int(n.reprovided.Load())
	}
	return Stats{
		Provided:                provided,
		Provides:                n.stats.provides.Load(),
		ProviderRecordsReceived: n.stats.providerRecords.Load(),
		GossipAccepted:          n.stats.gossipAccepted.Load(),
		GossipRejected:          n.stats.gossipRejected.Load(),
		GossipIgnored:           n.stats.gossipIgnored.Load(),
		GossipUnwanted:          n.stats.gossipUnwanted.Load(),
		SyncSessions:            n.stats.syncSessions.Load(),
		SyncRoundsAhead:         n.stats.syncRoundsAhead.Load(),
		ObjectsFetched:          n.stats.objectsFetched.Load(),
		ObjectsServed:           n.stats.objectsServed.Load(),
		ObjectsDeferred:         n.stats.objectsDeferred.Load(),
		ObjectsWaited:           n.stats.objectsWaited.Load(),
		SyncBytesSent:           n.stats.syncBytesSent.Load(),
		SyncBytesReceived:       n.stats.syncBytesReceived.Load(),
		PeerOffences:            n.stats.badPeers.Load(),
	}
}
