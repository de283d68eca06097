package exchange

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	yamuxlib "github.com/libp2p/go-yamux/v5"

	"github.com/openledger/openledger/storage"
)

const benchShard = 1 << 20

// benchData is up to 1 GiB of 1 MiB shards, made once per process.
var benchData = sync.OnceValues(func() ([][]byte, []cid.Cid) {
	return testShards(1024, benchShard)
})

// benchStore serves the first n bench shards.
func benchStore(n int) *memStore {
	data, _ := benchData()
	return newMemStore(data[:n]...)
}

var benchSizes = []int{256, 1024} // MiB

// benchFetch fetches the first n bench shards from providers once per
// iteration.
func benchFetch(b *testing.B, c *Client, n int, providers []peer.ID) {
	_, cids := benchData()
	want := cids[:n]
	b.SetBytes(int64(n) * benchShard)
	b.ReportAllocs()
	for b.Loop() {
		var got int64
		var mu sync.Mutex
		put := func(_ cid.Cid, d []byte) error {
			mu.Lock()
			got += int64(len(d))
			mu.Unlock()
			return nil
		}
		if err := c.Fetch(context.Background(), want, providers, nil, put, nil); err != nil {
			b.Fatalf("Fetch: %v", err)
		}
		if got != int64(n)*benchShard {
			b.Fatalf("fetched %d bytes, want %d", got, int64(n)*benchShard)
		}
	}
}

// BenchmarkFetch fetches 1 MiB shards between in-process hosts over
// loopback TCP with the recommended host options (see hostOptions).
func BenchmarkFetch(b *testing.B) {
	for _, providers := range []int{1, 3} {
		for _, mib := range benchSizes {
			b.Run(fmt.Sprintf("providers=%d/size=%dMiB", providers, mib), func(b *testing.B) {
				store := benchStore(mib)
				client := newHost(b, recommendedOptions()...)
				ids := make([]peer.ID, providers)
				for i := range providers {
					h := newHost(b, recommendedOptions()...)
					newServer(b, h, store, DefaultServerConfig())
					connect(b, client, h)
					ids[i] = h.ID()
				}
				benchFetch(b, newClient(b, client, DefaultClientConfig()), mib, ids)
			})
		}
	}
}

// securities and muxers are the host options BenchmarkTransports
// compares, in every combination.
var (
	securities = []struct {
		name string
		opt  libp2p.Option
	}{
		{"tls", libp2p.Security(libp2ptls.ID, libp2ptls.New)},
		{"noise", libp2p.Security(noise.ID, noise.New)},
	}
	muxers = []struct {
		name string
		set  func(*yamuxlib.Config)
	}{
		{"default", func(*yamuxlib.Config) {}},
		{"msg=256KiB", func(c *yamuxlib.Config) { c.MaxMessageSize = 256 << 10 }},
		{"msg=1MiB", func(c *yamuxlib.Config) { c.MaxMessageSize = 1 << 20 }},
		{"readbuf=64KiB", func(c *yamuxlib.Config) { c.ReadBufSize = 64 << 10 }},
		{"msg=1MiB,readbuf=64KiB", func(c *yamuxlib.Config) { c.MaxMessageSize = 1 << 20; c.ReadBufSize = 64 << 10 }},
		{"window=32MiB", func(c *yamuxlib.Config) { c.MaxStreamWindowSize = 32 << 20 }},
	}
)

// yamuxOption returns a muxer option with libp2p's yamux defaults changed
// by set.
func yamuxOption(set func(*yamuxlib.Config)) libp2p.Option {
	cfg := *yamux.DefaultTransport.Config()
	set(&cfg)
	return libp2p.Muxer(yamux.ID, (*yamux.Transport)(&cfg))
}

// quicOptions makes a host listen and dial on QUIC only.
func quicOptions() []libp2p.Option {
	return []libp2p.Option{
		libp2p.NoTransports, libp2p.Transport(quic.NewTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/udp/0/quic-v1"),
	}
}

// recommendedOptions are the host options recommended for the daemon from
// BenchmarkTransports and BenchmarkFetchProcesses: TCP, TLS first and
// Noise second (libp2p's default order; the dialer's first choice that
// both sides support wins), libp2p's yamux defaults. The differences
// between TLS and Noise and between yamux settings were within the noise
// of this machine; QUIC was 2-3 times slower.
func recommendedOptions() []libp2p.Option {
	return []libp2p.Option{libp2p.Security(libp2ptls.ID, libp2ptls.New), libp2p.Security(noise.ID, noise.New)}
}

// BenchmarkTransports fetches 256 MiB from one provider with each
// security transport and yamux setting, and with libp2p's defaults.
func BenchmarkTransports(b *testing.B) {
	run := func(name string, base []libp2p.Option, opts ...libp2p.Option) {
		b.Run(name, func(b *testing.B) {
			const mib = 256
			store := benchStore(mib)
			client := newHostOn(b, base, opts...)
			h := newHostOn(b, base, opts...)
			newServer(b, h, store, DefaultServerConfig())
			connect(b, client, h)
			benchFetch(b, newClient(b, client, DefaultClientConfig()), mib, []peer.ID{h.ID()})
		})
	}
	run("libp2p-default", tcpOptions())
	run("quic", quicOptions())
	for _, sec := range securities {
		for _, mux := range muxers {
			run(sec.name+"/"+mux.name, tcpOptions(), sec.opt, yamuxOption(mux.set))
		}
	}
}

// BenchmarkRawTCP copies the same bytes over a loopback TCP connection in
// this process: the physical limit of BenchmarkFetch. "sha256" also hashes
// every shard on the receiving side, "tls" runs crypto/tls (TLS 1.3,
// AES-GCM) over the connection.
func BenchmarkRawTCP(b *testing.B) {
	for _, mode := range []string{"plain", "sha256", "tls", "tls+sha256"} {
		for _, mib := range benchSizes {
			b.Run(fmt.Sprintf("%s/size=%dMiB", mode, mib), func(b *testing.B) {
				benchRawTCP(b, mode, mib)
			})
		}
	}
}

func benchRawTCP(b *testing.B, mode string, mib int) {
	data, _ := benchData()
	data = data[:mib]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	useTLS := mode == "tls" || mode == "tls+sha256"
	hash := mode == "sha256" || mode == "tls+sha256"
	var srvConf, cliConf *tls.Config
	if useTLS {
		srvConf, cliConf = benchTLSConfigs(b)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if useTLS {
			c = tls.Server(c, srvConf)
		}
		defer c.Close()
		// One round of the whole data per request byte.
		var req [1]byte
		for {
			if _, err := io.ReadFull(c, req[:]); err != nil {
				return
			}
			for _, d := range data {
				if _, err := c.Write(d); err != nil {
					return
				}
			}
		}
	})
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	if useTLS {
		conn = tls.Client(conn, cliConf)
	}
	defer conn.Close()
	buf := make([]byte, benchShard)
	b.SetBytes(int64(mib) * benchShard)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write([]byte{1}); err != nil {
			b.Fatal(err)
		}
		for range mib {
			if _, err := io.ReadFull(conn, buf); err != nil {
				b.Fatal(err)
			}
			if hash {
				_ = sha256.Sum256(buf)
			}
		}
	}
}

// BenchmarkFetchWindow fetches 256 MiB from one provider with each window
// (shards in flight per peer).
func BenchmarkFetchWindow(b *testing.B) {
	const mib = 256
	for _, w := range []int{1, 2, 4, 8, 16, 32} {
		b.Run(fmt.Sprintf("window=%d", w), func(b *testing.B) {
			client := newHost(b)
			h := newHost(b)
			newServer(b, h, benchStore(mib), DefaultServerConfig())
			connect(b, client, h)
			cfg := DefaultClientConfig()
			cfg.Window = w
			benchFetch(b, newClient(b, client, cfg), mib, []peer.ID{h.ID()})
		})
	}
}

// BenchmarkFetchStorage is the daemon's path, one provider, 256 MiB:
// "src=badger" serves from a storage.Store on disk with
// ReadShardUnverified, "dst=badger" writes each fetched shard with
// PutVerifiedShard to a fresh store on disk, as package daemon does; "mem"
// and "discard" leave storage out of that side.
func BenchmarkFetchStorage(b *testing.B) {
	for _, src := range []string{"mem", "badger"} {
		for _, dst := range []string{"discard", "badger"} {
			b.Run("src="+src+"/dst="+dst, func(b *testing.B) {
				benchFetchStorage(b, src == "badger", dst == "badger", DefaultClientConfig().PutConcurrency)
			})
		}
	}
	// How many concurrent puts the store needs.
	for _, n := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("src=mem/dst=badger/puts=%d", n), func(b *testing.B) { benchFetchStorage(b, false, true, n) })
	}
}

func benchFetchStorage(b *testing.B, fromBadger, toBadger bool, puts int) {
	const mib = 256
	data, cids := benchData()
	ctx := context.Background()
	var bs Blockstore = benchStore(mib)
	if fromBadger {
		src := openBenchStore(b)
		for _, d := range data[:mib] {
			if _, err := src.PutShard(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
		bs = blockstoreFunc(src.ReadShardUnverified)
	}
	client := newHost(b)
	h := newHost(b)
	newServer(b, h, bs, DefaultServerConfig())
	connect(b, client, h)
	cfg := DefaultClientConfig()
	cfg.PutConcurrency = puts
	c := newClient(b, client, cfg)
	b.SetBytes(mib * benchShard)
	b.ReportAllocs()
	for b.Loop() {
		put := func(cid.Cid, []byte) error { return nil }
		if toBadger {
			b.StopTimer()
			dst := openBenchStore(b)
			b.StartTimer()
			put = func(c cid.Cid, d []byte) error { return dst.PutVerifiedShard(ctx, c, d) }
		}
		if err := c.Fetch(ctx, cids[:mib], []peer.ID{h.ID()}, nil, put, nil); err != nil {
			b.Fatalf("Fetch: %v", err)
		}
	}
}

// openBenchStore opens a storage.Store in a new temporary directory,
// closed when the benchmark ends.
func openBenchStore(b *testing.B) *storage.Store {
	b.Helper()
	s, err := storage.Open(storage.DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	})
	return s
}
