package p2p

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p"
	coreconnmgr "github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
)

// newHost builds the libp2p host, not yet listening: Start listens.
func newHost(cfg *Config, log *slog.Logger) (host.Host, error) {
	limits := hostLimits(cfg.ConnHigh)
	if fd := limits.ToPartialLimitConfig().System.FD; fd != rcmgr.Unlimited && int(fd) <= cfg.ConnHigh {
		log.Warn("file descriptor limit too low for the connection high watermark; raise ulimit -n",
			slog.Int("fd_limit", int(fd)), slog.Int("conn_high", cfg.ConnHigh))
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	if l, ok := rm.(coreconnmgr.GetConnLimiter); ok {
		if err := cm.CheckLimit(l); err != nil {
			rm.Close()
			cm.Close()
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Identity),
		libp2p.NoListenAddrs,
		// TLS first: with AES-NI its AES-GCM outruns Noise's
		// ChaCha20-Poly1305. Both sides must support the first choice for it
		// to win, so keep Noise as the fallback.
		libp2p.Security(tls.ID, tls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		// TCP before QUIC: shards move at ~2.3x the throughput for ~40% of
		// the CPU over TCP+TLS than over quic-go on this class of machine
		// (p2p/exchange BenchmarkFetchProcesses), and libp2p's default
		// ranker dials QUIC first.
		libp2p.SwarmOpts(swarm.WithDialRanker(tcpFirstDialRanker)),
		libp2p.Ping(true),
		libp2p.UserAgent(cfg.UserAgent),
	}
	if cfg.NATPortMap {
		opts = append(opts, libp2p.NATPortMap())
	}
	if cfg.Gater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.Gater))
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	// libp2p.New closes the managers itself when it fails.
	return libp2p.New(opts...)
}

// tcpFirstDialRanker is libp2p's default ranking with TCP and QUIC
// swapped: TCP addresses are dialled at once and QUIC ones only if no TCP
// connection is up within the delay, so QUIC still serves peers reachable
// only over UDP.
func tcpFirstDialRanker(addrs []multiaddr.Multiaddr) []network.AddrDelay {
	const quicDelay = 250 * time.Millisecond
	ranked := swarm.DefaultDialRanker(addrs)
	for i := range ranked {
		switch {
		case isTCP(ranked[i].Addr):
			ranked[i].Delay = 0
		case ranked[i].Delay < quicDelay:
			ranked[i].Delay = quicDelay
		}
	}
	return ranked
}

func isTCP(a multiaddr.Multiaddr) bool {
	_, err := a.ValueForProtocol(multiaddr.P_TCP)
	return err == nil
}

// hostLimits returns the resource manager's limits: libp2p's defaults
// scaled to this machine, with the system connection limits raised so that
// they agree with the connection manager: the manager trims above
// connHigh, so the resource manager must let connections reach it (inbound
// alone included) with room to spare for dials in flight, or trimming
// never starts and new peers are refused instead.
func hostLimits(connHigh int) rcmgr.ConcreteLimitConfig {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	limits.AddProtocolLimit(SyncProtocol,
		rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 256 << 20},
		rcmgr.BaseLimitIncrease{})
	limits.AddProtocolPeerLimit(SyncProtocol,
		rcmgr.BaseLimit{StreamsInbound: 4, StreamsOutbound: 4, Streams: 8, Memory: 64 << 20},
		rcmgr.BaseLimitIncrease{})
	scaled := limits.AutoScale()
	sys := scaled.ToPartialLimitConfig().System
	atLeast := func(v rcmgr.LimitVal, n int) rcmgr.LimitVal {
		if v == rcmgr.Unlimited || (v != rcmgr.DefaultLimit && v != rcmgr.BlockAllLimit && int(v) >= n) {
			return v
		}
		return rcmgr.LimitVal(n)
	}
	// File descriptors are left as scaled from the process's limit: raising
	// them here would trade the resource manager's clean refusal for
	// EMFILE. newHost warns when they cannot carry connHigh connections.
	partial := rcmgr.PartialLimitConfig{System: rcmgr.ResourceLimits{
		Conns:         atLeast(sys.Conns, 2*connHigh),
		ConnsInbound:  atLeast(sys.ConnsInbound, connHigh+connHigh/2),
		ConnsOutbound: atLeast(sys.ConnsOutbound, 2*connHigh),
	}}
	return partial.Build(scaled)
}
