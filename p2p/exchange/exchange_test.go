package exchange

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestFetch(t *testing.T) {
	tests := []struct {
		name      string
		providers int
		shards    int
		size      int
		spread    bool // every provider must serve some shards
	}{
		{"one provider", 1, 40, 64 << 10, true},
		{"three providers", 3, 90, 64 << 10, true},
		// Small shards go so fast that a provider whose stream opens
		// late may find its share already stolen.
		{"small shards", 2, 300, 1 << 10, false},
		{"largest shards", 2, 3, MaxShardSize, false},
		{"fewer shards than providers", 3, 2, 4 << 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, cids := testShards(tt.shards, tt.size)
			client := newHost(t)
			stores := make([]*memStore, tt.providers)
			bss := make([]Blockstore, tt.providers)
			for i := range stores {
				stores[i] = newMemStore(data...)
				bss[i] = stores[i]
			}
			_, ids := newProviders(t, client, DefaultServerConfig(), bss...)
			c := newClient(t, client, testConfig())
			col := newCollector(t)
			var progress atomic.Int64
			err := c.Fetch(testContext(t), cids, ids, nil, col.put, func(n int64) { progress.Add(n) })
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			col.check(cids)
			if want := int64(tt.shards * tt.size); progress.Load() != want {
				t.Errorf("progress total %d, want %d", progress.Load(), want)
			}
			if tt.spread {
				for i, s := range stores {
					if s.total.Load() == 0 {
						t.Errorf("provider %d served nothing: the work was not spread", i)
					}
				}
			}
		})
	}
}

func TestFetchDuplicatesAndEmpty(t *testing.T) {
	data, cids := testShards(5, 4<<10)
	client := newHost(t)
	store := newMemStore(data...)
	_, ids := newProviders(t, client, DefaultServerConfig(), store)
	c := newClient(t, client, testConfig())

	col := newCollector(t)
	want := append(append([]cid.Cid{}, cids...), cids...)
	if err := c.Fetch(testContext(t), want, append(ids, ids...), nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)
	for _, id := range cids {
		if n := store.served(id); n != 1 {
			t.Errorf("shard %s requested %d times, want 1", id, n)
		}
	}
	if err := c.Fetch(testContext(t), nil, ids, nil, col.put, nil); err != nil {
		t.Errorf("Fetch of nothing: %v", err)
	}
}

func TestFetchPartialProviders(t *testing.T) {
	data, cids := testShards(60, 16<<10)
	client := newHost(t)
	// Each provider lacks a different third of the shards, and the
	// first has only the first half.
	var stores []Blockstore
	for p := range 3 {
		s := newMemStore()
		for i, d := range data {
			if i%3 != p && (p != 0 || i < len(data)/2) {
				s.put(d)
			}
		}
		stores = append(stores, s)
	}
	_, ids := newProviders(t, client, DefaultServerConfig(), stores...)
	c := newClient(t, client, testConfig())
	col := newCollector(t)
	if err := c.Fetch(testContext(t), cids, ids, nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)
}

func TestFetchBadPeer(t *testing.T) {
	data, cids := testShards(40, 32<<10)
	client := newHost(t)
	// The honest peer is slow, so that it cannot fetch everything before
	// the bad ones send anything.
	slow := DefaultServerConfig()
	slow.MaxBytesPerSecondPerPeer = 2 << 20
	_, bad1 := newProviders(t, client, DefaultServerConfig(), corrupt(newMemStore(data...)))
	_, honest := newProviders(t, client, slow, newMemStore(data...))
	_, bad2 := newProviders(t, client, DefaultServerConfig(), corrupt(newMemStore(data...)))
	ids := []peer.ID{bad1[0], honest[0], bad2[0]}
	c := newClient(t, client, testConfig())
	var (
		mu  sync.Mutex
		bad = map[peer.ID]error{}
	)
	c.OnBadPeer(func(p peer.ID, err error) {
		mu.Lock()
		bad[p] = err
		mu.Unlock()
	})
	col := newCollector(t) // fails the test if a bad byte reaches put
	if err := c.Fetch(testContext(t), cids, ids, nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []peer.ID{bad1[0], bad2[0]} {
		if err, ok := bad[p]; !ok || !errors.Is(err, ErrBadData) {
			t.Errorf("OnBadPeer(%s) got %v, want an error wrapping ErrBadData", p, err)
		}
		if cs := client.Network().Connectedness(p); cs == network.Connected {
			t.Errorf("still connected to bad peer %s", p)
		}
	}
	if _, ok := bad[ids[1]]; ok {
		t.Errorf("honest peer reported bad")
	}
}

// stallHandler accepts exchange streams and never answers; it returns when
// the client resets the stream.
func stallHandler(s network.Stream) {
	buf := make([]byte, 1024)
	for {
		if _, err := s.Read(buf); err != nil {
			_ = s.Reset()
			return
		}
	}
}

func TestFetchStall(t *testing.T) {
	data, cids := testShards(30, 16<<10)
	cfg := testConfig()

	t.Run("completes elsewhere", func(t *testing.T) {
		client := newHost(t)
		staller := newHost(t)
		staller.SetStreamHandler(ProtocolID, stallHandler)
		connect(t, client, staller)
		_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
		c := newClient(t, client, cfg)
		col := newCollector(t)
		if err := c.Fetch(testContext(t), cids, append([]peer.ID{staller.ID()}, ids...), nil, col.put, nil); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		col.check(cids)
	})

	t.Run("dropped after StallTimeout", func(t *testing.T) {
		client := newHost(t)
		staller := newHost(t)
		staller.SetStreamHandler(ProtocolID, stallHandler)
		connect(t, client, staller)
		c := newClient(t, client, cfg)
		start := time.Now()
		err := c.Fetch(testContext(t), cids, []peer.ID{staller.ID()}, nil, newCollector(t).put, nil)
		took := time.Since(start)
		if !errors.Is(err, ErrStalled) {
			t.Fatalf("Fetch from a staller: %v, want an error wrapping ErrStalled", err)
		}
		if min := cfg.StallTimeout * 7 / 8; took < min || took > cfg.StallTimeout+5*time.Second {
			t.Errorf("Fetch from a staller took %v, want about %v", took, cfg.StallTimeout)
		}
		var fe *FetchError
		if !errors.As(err, &fe) || len(fe.Missing()) != len(cids) {
			t.Errorf("Fetch error %v does not list the %d missing shards", err, len(cids))
		}
	})
}

func TestFetchProviderDisappears(t *testing.T) {
	data, cids := testShards(80, 64<<10)
	client := newHost(t)
	cfg := DefaultServerConfig()
	ps, ids := newProviders(t, client, cfg, newMemStore(data...), newMemStore(data...), newMemStore(data...))
	c := newClient(t, client, testConfig())
	col := newCollector(t)
	var (
		n    atomic.Int32
		once sync.Once
	)
	put := func(id cid.Cid, d []byte) error {
		if n.Add(1) == int32(len(cids)/4) {
			once.Do(func() { _ = ps[0].h.Close() })
		}
		return col.put(id, d)
	}
	if err := c.Fetch(testContext(t), cids, ids, nil, put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)
}

func TestFetchNotFound(t *testing.T) {
	data, cids := testShards(20, 8<<10)
	absent := []cid.Cid{cidOf([]byte("nobody has this"))}
	client := newHost(t)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...), newMemStore(data[:10]...))
	cfg := testConfig()
	cfg.StallTimeout = 10 * time.Second // not found must not wait for a timeout
	c := newClient(t, client, cfg)
	col := newCollector(t)
	want := append([]cid.Cid{absent[0]}, cids...)
	start := time.Now()
	err := c.Fetch(testContext(t), want, ids, nil, col.put, nil)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Fetch took %v to find a shard missing", took)
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Fetch: %v, want an error wrapping ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), absent[0].String()) {
		t.Errorf("error %q does not name %s", err, absent[0])
	}
	fe, ok := errors.AsType[*FetchError](err)
	if !ok || len(fe.Missing()) != 1 || !fe.Missing()[0].Equals(absent[0]) {
		t.Errorf("Fetch error %v, want a *FetchError missing only %s", err, absent[0])
	}
	col.check(cids) // the rest was fetched

	err = c.Fetch(testContext(t), cids, nil, nil, col.put, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch without providers: %v, want an error wrapping ErrNotFound", err)
	}
}

func TestFetchResume(t *testing.T) {
	data, cids := testShards(40, 8<<10)
	client := newHost(t)
	store := newMemStore(data...)
	_, ids := newProviders(t, client, DefaultServerConfig(), store)
	c := newClient(t, client, testConfig())
	have := func(id cid.Cid) bool {
		for _, h := range cids[:20] {
			if h.Equals(id) {
				return true
			}
		}
		return false
	}
	col := newCollector(t)
	if err := c.Fetch(testContext(t), cids, ids, have, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids[20:])
	for i, id := range cids {
		if want, got := map[bool]int{true: 0, false: 1}[i < 20], store.served(id); got != want {
			t.Errorf("shard %d requested %d times, want %d", i, got, want)
		}
	}
}

func TestFetchSlowPeer(t *testing.T) {
	// One provider sends 64 KiB/s; alone it would need 16 s. Work
	// stealing and the endgame must not wait for it.
	data, cids := testShards(64, 16<<10)
	client := newHost(t)
	slow := DefaultServerConfig()
	slow.MaxBytesPerSecondPerPeer = 64 << 10
	_, ids1 := newProviders(t, client, slow, newMemStore(data...))
	_, ids2 := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	c := newClient(t, client, testConfig())
	col := newCollector(t)
	start := time.Now()
	if err := c.Fetch(testContext(t), cids, append(ids1, ids2...), nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("Fetch took %v: it waited for the slow peer", took)
	}
	col.check(cids)
}

func TestFetchPutError(t *testing.T) {
	data, cids := testShards(20, 8<<10)
	client := newHost(t)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	c := newClient(t, client, testConfig())
	errFull := errors.New("disk full")
	var n atomic.Int32
	err := c.Fetch(testContext(t), cids, ids, nil, func(cid.Cid, []byte) error {
		if n.Add(1) == 5 {
			return errFull
		}
		return nil
	}, nil)
	if !errors.Is(err, errFull) {
		t.Errorf("Fetch: %v, want the put error", err)
	}
}

func TestFetchCancel(t *testing.T) {
	data, cids := testShards(64, 16<<10)
	client := newHost(t)
	slow := DefaultServerConfig()
	slow.MaxBytesPerSecondPerPeer = 32 << 10
	_, ids := newProviders(t, client, slow, newMemStore(data...))

	t.Run("context", func(t *testing.T) {
		c := newClient(t, client, testConfig())
		ctx, cancel := context.WithCancel(testContext(t))
		var once sync.Once
		err := c.Fetch(ctx, cids, ids, nil, func(cid.Cid, []byte) error {
			once.Do(cancel)
			return nil
		}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch: %v, want context.Canceled", err)
		}
	})
	t.Run("client closed", func(t *testing.T) {
		c := newClient(t, client, testConfig())
		var once sync.Once
		closed := make(chan struct{})
		err := c.Fetch(testContext(t), cids, ids, nil, func(cid.Cid, []byte) error {
			once.Do(func() { go func() { _ = c.Close(); close(closed) }() })
			return nil
		}, nil)
		<-closed
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Fetch: %v, want ErrClosed", err)
		}
		if err := c.Fetch(testContext(t), cids, ids, nil, newCollector(t).put, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("Fetch after Close: %v, want ErrClosed", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestFetchBadInput(t *testing.T) {
	client := newHost(t)
	tests := []struct {
		name string
		cfg  func(*ClientConfig)
		want []cid.Cid
		put  func(cid.Cid, []byte) error
	}{
		{name: "zero window", cfg: func(c *ClientConfig) { c.Window = 0 }},
		{name: "huge window", cfg: func(c *ClientConfig) { c.Window = 1000 }},
		{name: "no stall timeout", cfg: func(c *ClientConfig) { c.StallTimeout = 0 }},
		{name: "no attempts", cfg: func(c *ClientConfig) { c.MaxAttempts = 0 }},
		{name: "no peers", cfg: func(c *ClientConfig) { c.MaxPeers = 0 }},
		{name: "undefined cid", want: []cid.Cid{cid.Undef}},
		{name: "not sha2-256", want: []cid.Cid{identityCID(t)}},
		{name: "nil put", want: []cid.Cid{cidOf([]byte("x"))}, put: nil},
	}
	if err := newClient(t, nil, testConfig()).Fetch(testContext(t), nil, nil, nil, newCollector(t).put, nil); err == nil {
		t.Errorf("Fetch with a nil host succeeded")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			put := tt.put
			if put == nil && tt.name != "nil put" {
				put = newCollector(t).put
			}
			c := newClient(t, client, cfg)
			if err := c.Fetch(testContext(t), tt.want, nil, nil, put, nil); err == nil {
				t.Errorf("Fetch succeeded")
			}
		})
	}
}

func TestFetchPutConcurrency(t *testing.T) {
	data, cids := testShards(60, 16<<10)
	client := newHost(t)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...), newMemStore(data...))
	cfg := testConfig()
	cfg.PutConcurrency = 3
	c := newClient(t, client, cfg)
	col := newCollector(t)
	var running, most, inProgress atomic.Int32
	put := func(id cid.Cid, d []byte) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // a slow store: puts pile up
		return col.put(id, d)
	}
	progress := func(int64) {
		if inProgress.Add(1) != 1 {
			t.Errorf("progress called concurrently")
		}
		inProgress.Add(-1)
	}
	if err := c.Fetch(testContext(t), cids, ids, nil, put, progress); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)
	if m := most.Load(); m > int32(cfg.PutConcurrency) {
		t.Errorf("%d puts ran at once, PutConcurrency is %d", m, cfg.PutConcurrency)
	}
}

// wrongCIDHandler answers every request with a response for another CID.
func wrongCIDHandler(s network.Stream) {
	defer s.Reset()
	r := bufio.NewReader(s)
	frame, err := readRequestFrame(r, nil)
	if err != nil {
		return
	}
	if _, err := decodeRequest(frame, nil); err != nil {
		return
	}
	other := []byte("not the shard you asked for")
	_, _ = s.Write(append(appendResponseHeader(nil, statusOK, cidOf(other).Bytes(), len(other)), other...))
	_, _ = io.Copy(io.Discard, s)
}

func TestFetchProtocolViolation(t *testing.T) {
	data, cids := testShards(20, 32<<10)
	client := newHost(t)
	liar := newHost(t)
	liar.SetStreamHandler(ProtocolID, wrongCIDHandler)
	connect(t, client, liar)
	slow := DefaultServerConfig()
	slow.MaxBytesPerSecondPerPeer = 2 << 20
	_, ids := newProviders(t, client, slow, newMemStore(data...))
	c := newClient(t, client, testConfig())
	reported := make(chan error, 1)
	c.OnBadPeer(func(p peer.ID, err error) {
		if p == liar.ID() {
			reported <- err
		}
	})
	col := newCollector(t)
	if err := c.Fetch(testContext(t), cids, append([]peer.ID{liar.ID()}, ids...), nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)
	select {
	case err := <-reported:
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("OnBadPeer got %v, want an error wrapping ErrProtocol", err)
		}
	default:
		t.Errorf("the peer that broke the protocol was not reported")
	}
}

func TestFetchReplacesDroppedPeer(t *testing.T) {
	// One peer at a time: the staller is dropped after StallTimeout and
	// the next provider in the list takes over.
	data, cids := testShards(10, 8<<10)
	client := newHost(t)
	staller := newHost(t)
	staller.SetStreamHandler(ProtocolID, stallHandler)
	connect(t, client, staller)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	cfg := testConfig()
	cfg.MaxPeers = 1
	c := newClient(t, client, cfg)
	col := newCollector(t)
	start := time.Now()
	if err := c.Fetch(testContext(t), cids, append([]peer.ID{staller.ID()}, ids...), nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if took := time.Since(start); took < cfg.StallTimeout*7/8 {
		t.Errorf("Fetch took %v: the staller was not waited for, so MaxPeers was not respected", took)
	}
	col.check(cids)
}

// corruptOne returns a Blockstore that serves bs's shards, with one byte of
// the shard c flipped.
func corruptOne(bs Blockstore, c cid.Cid) Blockstore {
	bad := corrupt(bs)
	return blockstoreFunc(func(ctx context.Context, k cid.Cid) ([]byte, error) {
		if k.Equals(c) {
			return bad.GetShard(ctx, k)
		}
		return bs.GetShard(ctx, k)
	})
}

// TestFetchOneBadShard: a peer that sends one shard that does not match
// (a damaged copy) is distrusted for that shard, not for the others: it
// still serves them, the shard is asked of other peers, and the peer is
// reported once and stays connected.
func TestFetchOneBadShard(t *testing.T) {
	data, cids := testShards(1024, 4<<10)
	victim := cids[100]
	client := newHost(t)
	_, damaged := newProviders(t, client, DefaultServerConfig(), corruptOne(newMemStore(data...), victim))
	_, good := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	// No peer stalls here: a busy machine must not make one look stalled.
	cfg := testConfig()
	cfg.StallTimeout = DefaultClientConfig().StallTimeout
	c := newClient(t, client, cfg)
	var reports atomic.Int32
	c.OnBadPeer(func(p peer.ID, err error) {
		reports.Add(1)
		if p != damaged[0] || !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), victim.String()) {
			t.Errorf("OnBadPeer(%s, %v), want the damaged peer and ErrBadData naming %s", p, err, victim)
		}
	})

	// The damaged peer alone: everything but its bad shard comes.
	col := newCollector(t)
	err := c.Fetch(testContext(t), cids, damaged, nil, col.put, nil)
	fe, ok := errors.AsType[*FetchError](err)
	if !ok || len(fe.Shards) != 1 || !fe.Shards[0].CID.Equals(victim) || !errors.Is(err, ErrBadData) {
		t.Fatalf("Fetch from a peer with one bad shard: %v, want a FetchError naming %s only, wrapping ErrBadData", err, victim)
	}
	if got := len(col.got); got != len(cids)-1 {
		t.Errorf("%d shards fetched, want %d", got, len(cids)-1)
	}
	if n := reports.Load(); n != 1 {
		t.Errorf("%d reports, want 1", n)
	}
	if cs := client.Network().Connectedness(damaged[0]); cs != network.Connected {
		t.Errorf("the peer with one bad shard was disconnected (%v)", cs)
	}

	// With a good peer too, the bad shard comes from it.
	col = newCollector(t)
	if err := c.Fetch(testContext(t), cids, append(damaged, good...), nil, col.put, nil); err != nil {
		t.Fatalf("Fetch from a damaged and a good peer: %v", err)
	}
	col.check(cids)
}
