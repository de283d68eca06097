package exchange

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multihash"

	"github.com/openledger/openledger/storage"
)

// memStore is a Blockstore over a map, keyed by multihash like storage.
// It counts the requests for each shard.
type memStore struct {
	mu     sync.Mutex
	shards map[string][]byte // guarded by mu
	gets   map[string]int    // guarded by mu
	total  atomic.Int64
}

func newMemStore(shards ...[]byte) *memStore {
	s := &memStore{shards: make(map[string][]byte), gets: make(map[string]int)}
	for _, d := range shards {
		s.put(d)
	}
	return s
}

func (s *memStore) put(data []byte) cid.Cid {
	c := storage.ShardCID(data)
	s.mu.Lock()
	s.shards[string(c.Hash())] = data
	s.mu.Unlock()
	return c
}

func (s *memStore) GetShard(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.total.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets[c.KeyString()]++
	d, ok := s.shards[string(c.Hash())]
	if !ok {
		return nil, fmt.Errorf("get shard %s: %w", c, storage.ErrNotFound)
	}
	return d, nil
}

// served returns how many times c was asked for.
func (s *memStore) served(c cid.Cid) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[c.KeyString()]
}

// blockstoreFunc adapts a function to Blockstore.
type blockstoreFunc func(ctx context.Context, c cid.Cid) ([]byte, error)

func (f blockstoreFunc) GetShard(ctx context.Context, c cid.Cid) ([]byte, error) { return f(ctx, c) }

// corrupt returns a Blockstore that serves bs's shards with one byte
// flipped.
func corrupt(bs Blockstore) Blockstore {
	return blockstoreFunc(func(ctx context.Context, c cid.Cid) ([]byte, error) {
		d, err := bs.GetShard(ctx, c)
		if err != nil || len(d) == 0 {
			return d, err
		}
		bad := append([]byte(nil), d...)
		bad[len(bad)/2] ^= 0x01
		return bad, nil
	})
}

// randBytes returns n pseudo-random bytes determined by seed.
func randBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// testShards returns n distinct shards of size bytes and their CIDs.
func testShards(n, size int) ([][]byte, []cid.Cid) {
	data := make([][]byte, n)
	cids := make([]cid.Cid, n)
	for i := range n {
		data[i] = randBytes(uint64(i)+1, size)
		cids[i] = storage.ShardCID(data[i])
	}
	return data, cids
}

// newHost returns a libp2p host on loopback TCP, closed when the test ends.
func newHost(t testing.TB, opts ...libp2p.Option) host.Host {
	t.Helper()
	return newHostOn(t, tcpOptions(), opts...)
}

// tcpOptions makes a host listen and dial on loopback TCP only.
func tcpOptions() []libp2p.Option {
	return []libp2p.Option{
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.NoTransports, libp2p.Transport(tcp.NewTCPTransport),
	}
}

// newHostOn returns a libp2p host with the transport options base and
// opts, closed when the test ends.
func newHostOn(t testing.TB, base []libp2p.Option, opts ...libp2p.Option) host.Host {
	t.Helper()
	h, err := libp2p.New(append(append(base, libp2p.DisableRelay()), opts...)...)
	if err != nil {
		t.Fatalf("libp2p.New: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// newServer starts a Server for bs on h, closed when the test ends.
func newServer(t testing.TB, h host.Host, bs Blockstore, cfg ServerConfig) *Server {
	t.Helper()
	s, err := NewServer(h, bs, cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
	})
	return s
}

// newClient returns a Client on h, closed when the test ends.
func newClient(t testing.TB, h host.Host, cfg ClientConfig) *Client {
	t.Helper()
	c := NewClient(h, cfg)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// connect connects a to each of bs.
func connect(t testing.TB, a host.Host, bs ...host.Host) {
	t.Helper()
	for _, b := range bs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()})
		cancel()
		if err != nil {
			t.Fatalf("connect %s to %s: %v", a.ID(), b.ID(), err)
		}
	}
}

// testConfig is a client configuration with timeouts short enough for
// tests.
func testConfig() ClientConfig {
	cfg := DefaultClientConfig()
	cfg.StallTimeout = 500 * time.Millisecond
	return cfg
}

// provider is one serving node of a test network.
type provider struct {
	h   host.Host
	srv *Server
}

// newProviders starts one server per Blockstore, each on its own host,
// connects client to them all, and returns them and their peer IDs.
func newProviders(t testing.TB, client host.Host, cfg ServerConfig, stores ...Blockstore) ([]provider, []peer.ID) {
	t.Helper()
	ps := make([]provider, len(stores))
	ids := make([]peer.ID, len(stores))
	for i, bs := range stores {
		h := newHost(t)
		ps[i] = provider{h: h, srv: newServer(t, h, bs, cfg)}
		ids[i] = h.ID()
		connect(t, client, h)
	}
	return ps, ids
}

// collector is a put function that checks every shard against its CID and
// records what it got.
type collector struct {
	t     testing.TB
	mu    sync.Mutex
	got   map[string]int // guarded by mu: puts per CID
	bytes int64          // guarded by mu
}

func newCollector(t testing.TB) *collector {
	return &collector{t: t, got: make(map[string]int)}
}

func (c *collector) put(id cid.Cid, data []byte) error {
	if got := storage.ShardCID(data); !got.Equals(id) {
		c.t.Errorf("put(%s) with bytes of %s", id, got)
	}
	c.mu.Lock()
	c.got[id.KeyString()]++
	c.bytes += int64(len(data))
	c.mu.Unlock()
	return nil
}

// check fails the test unless every CID in want was put exactly once and
// nothing else was.
func (c *collector) check(want []cid.Cid) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range want {
		if n := c.got[w.KeyString()]; n != 1 {
			c.t.Errorf("shard %s put %d times, want 1", w, n)
		}
	}
	if len(c.got) != len(want) {
		c.t.Errorf("%d distinct shards put, want %d", len(c.got), len(want))
	}
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// cidOf returns the shard CID of data.
func cidOf(data []byte) cid.Cid { return storage.ShardCID(data) }

// identityCID returns a CID with an identity multihash, which Fetch cannot
// verify as a shard.
func identityCID(t testing.TB) cid.Cid {
	t.Helper()
	mh, err := multihash.Sum([]byte("inline"), multihash.IDENTITY, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, mh)
}

func appendUvarint(b []byte, x uint64) []byte { return binary.AppendUvarint(b, x) }
