package p2p

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Node. Start from DefaultConfig; Identity is required.
type Config struct {
	// Identity is the node's libp2p key; its peer ID is the node's ID.
	Identity crypto.PrivKey
	// ListenAddrs are the multiaddrs to listen on (TCP and QUIC).
	ListenAddrs []string
	// Bootstrap are peers to connect to at start, as multiaddrs ending in
	// /p2p/<peer id>; they also seed the DHT.
	Bootstrap []string
	// MDNS enables discovery of peers on the local network.
	MDNS bool
	// NATPortMap asks the router for a port mapping (UPnP / NAT-PMP).
	NATPortMap bool
	// DHTServer makes the node answer DHT queries and hold provider
	// records; turn it off for nodes that peers cannot dial.
	DHTServer bool
	// ConnLow and ConnHigh are the connection manager's watermarks: above
	// ConnHigh connections are trimmed down to ConnLow. The resource
	// manager's connection limits are derived from ConnHigh so that they
	// agree (see hostLimits).
	ConnLow, ConnHigh int
	// ReprovideInterval is how often provider records of everything
	// provided are announced again. Records live 48h on the DHT.
	ReprovideInterval time.Duration
	// ProvideKeys, when set, lists what this node provides, streamed,
	// for each re-provide (and Reprovide): the node then keeps no set of
	// CIDs in memory, whatever their number (Kubo's reprovider takes its
	// keys the same way). When nil, the CIDs given to Provide are kept and
	// re-provided.
	ProvideKeys func(ctx context.Context) iter.Seq2[cid.Cid, error]
	// SyncInterval is how often each joined set is reconciled with a few
	// random peers of its topic (anti-entropy). Sync also runs on Join,
	// when a peer joins one of our topics, and after a sync brought news.
	SyncInterval time.Duration
	// SyncTimeout bounds one sync session with one peer.
	SyncTimeout time.Duration
	// SyncMaxObjects bounds the objects fetched from, pushed to, or served
	// to one peer in one session; the rest waits for the next session.
	SyncMaxObjects int
	// MaxMessageSize bounds an object carried by gossip. Larger objects
	// (up to MaxObjectSize) travel by sync only.
	MaxMessageSize int
	// MaxObjectSize bounds an object carried by the sync protocol.
	MaxObjectSize int
	// RequestTimeout bounds one FetchObject request to one peer.
	RequestTimeout time.Duration
	// FindProvidersTimeout bounds a FindProviders lookup.
	FindProvidersTimeout time.Duration
	// AppScore, when set, adds an application-specific component to
	// gossipsub peer scores, e.g. a negative value for a peer that sent bad
	// shard bytes. It is called often, under the scorer's lock: it must be
	// fast and must not call back into the Node.
	AppScore func(peer.ID) float64
	// Gater, when set, filters connections (e.g. a ban list).
	Gater connmgr.ConnectionGater
	// UserAgent is announced by identify.
	UserAgent string
	// ProviderStore, when set, holds the provider records the DHT keeps
	// for other peers: a persistent, sorted datastore (the daemon gives one
	// over its Badger, storage/datastore) keeps them across a restart and
	// makes a lookup a prefix seek. Nil keeps them in an in-memory map,
	// which a lookup scans whole. The node does not close it.
	ProviderStore ds.Batching
	// Registerer receives libp2p's metrics; nil disables them.
	Registerer prometheus.Registerer
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger

	// gossipHeartbeat overrides gossipsub's heartbeat; tests shorten it.
	gossipHeartbeat time.Duration
	// noPush stops this node's sessions from pushing objects: tests that
	// count what each side fetches set it.
	noPush bool
	// host, when set, is the node's host instead of one New builds from
	// this Config: tests give a libp2p mocknet host, whose links they
	// control. The node closes it.
	host host.Host
}

// Defaults of the Config fields.
const (
	DefaultPort              = 4180
	DefaultConnLow           = 64
	DefaultConnHigh          = 192
	DefaultReprovideInterval = 12 * time.Hour
	DefaultSyncInterval      = time.Minute
	DefaultSyncTimeout       = 2 * time.Minute
	DefaultSyncMaxObjects    = 10000
	DefaultMaxMessageSize    = 4 << 20
	DefaultMaxObjectSize     = 32 << 20
	DefaultRequestTimeout    = 30 * time.Second
	DefaultFindProvidersTime = 30 * time.Second
)

// DefaultConfig returns the configuration of a public node with no
// identity: listening on TCP and QUIC port 4180 on every interface, mDNS
// on, DHT server.
func DefaultConfig() Config {
	return Config{
		ListenAddrs: []string{
			fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", DefaultPort),
			fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", DefaultPort),
			fmt.Sprintf("/ip6/::/tcp/%d", DefaultPort),
			fmt.Sprintf("/ip6/::/udp/%d/quic-v1", DefaultPort),
		},
		MDNS:                 true,
		NATPortMap:           true,
		DHTServer:            true,
		ConnLow:              DefaultConnLow,
		ConnHigh:             DefaultConnHigh,
		ReprovideInterval:    DefaultReprovideInterval,
		SyncInterval:         DefaultSyncInterval,
		SyncTimeout:          DefaultSyncTimeout,
		SyncMaxObjects:       DefaultSyncMaxObjects,
		MaxMessageSize:       DefaultMaxMessageSize,
		MaxObjectSize:        DefaultMaxObjectSize,
		RequestTimeout:       DefaultRequestTimeout,
		FindProvidersTimeout: DefaultFindProvidersTime,
		UserAgent:            "openledger",
	}
}

// maxGossipMessage is the largest MaxMessageSize accepted: gossip is for
// signed objects, and gossipsub buffers every message in memory per peer.
const maxGossipMessage = 16 << 20

// validate checks c and returns its parsed addresses. It fills nothing in.
func (c *Config) validate() (listen []multiaddr.Multiaddr, boot []peer.AddrInfo, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Identity == nil:
		return nil, nil, bad("identity is required")
	case c.ConnLow < 0 || c.ConnHigh <= c.ConnLow:
		return nil, nil, bad("connection watermarks low %d, high %d: need 0 <= low < high", c.ConnLow, c.ConnHigh)
	case c.ReprovideInterval <= 0:
		return nil, nil, bad("reprovide interval %v must be positive", c.ReprovideInterval)
	case c.SyncInterval <= 0:
		return nil, nil, bad("sync interval %v must be positive", c.SyncInterval)
	case c.SyncTimeout <= 0:
		return nil, nil, bad("sync timeout %v must be positive", c.SyncTimeout)
	case c.SyncMaxObjects <= 0:
		return nil, nil, bad("sync max objects %d must be positive", c.SyncMaxObjects)
	case c.MaxMessageSize <= 0 || c.MaxMessageSize > maxGossipMessage:
		return nil, nil, bad("max message size %d not in (0, %d]", c.MaxMessageSize, maxGossipMessage)
	case c.MaxObjectSize < c.MaxMessageSize || c.MaxObjectSize > 1<<30:
		return nil, nil, bad("max object size %d not in [max message size %d, 1 GiB]", c.MaxObjectSize, c.MaxMessageSize)
	case c.RequestTimeout <= 0:
		return nil, nil, bad("request timeout %v must be positive", c.RequestTimeout)
	case c.FindProvidersTimeout <= 0:
		return nil, nil, bad("find providers timeout %v must be positive", c.FindProvidersTimeout)
	case c.gossipHeartbeat < 0:
		return nil, nil, bad("negative gossip heartbeat")
	}
	if len(c.ListenAddrs) == 0 {
		return nil, nil, bad("no listen addresses")
	}
	for _, s := range c.ListenAddrs {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, nil, bad("listen address %q: %v", s, err)
		}
		listen = append(listen, a)
	}
	for _, s := range c.Bootstrap {
		ai, err := parseP2PAddr(s)
		if err != nil {
			return nil, nil, bad("bootstrap address: %v", err)
		}
		boot = append(boot, *ai)
	}
	return listen, boot, nil
}

// parseP2PAddr parses a multiaddr ending in /p2p/<peer id>.
func parseP2PAddr(s string) (*peer.AddrInfo, error) {
	a, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBadAddr, s, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBadAddr, s, err)
	}
	return ai, nil
}
