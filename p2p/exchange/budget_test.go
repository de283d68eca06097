package exchange

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/openledger/openledger/storage"
)

// liveHeap returns the bytes of live heap objects, after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// slowRequest is what each stream of a slow peer sends: one frame asking
// for maxRequestCIDs shards, cycling through cids.
func slowRequest(cids []cid.Cid) []byte {
	bins := make([][]byte, maxRequestCIDs)
	for i := range bins {
		bins[i] = cids[i%len(cids)].Bytes()
	}
	return appendRequest(nil, bins)
}

// TestServerSlowPeers is the attack of issue 12: 200 peers (real libp2p
// hosts on loopback, in this process) open 8 streams each, ask on each for
// 256 shards of 1 MiB, and never read. The server's heap stays within a
// bound set by ServerConfig.MaxBytesInFlight and MaxStreams, not by what
// the peers ask for, and an honest peer is served meanwhile.
//
// Each slow stream closes its side after its request: its muxer then drops
// what arrives and never opens the window again, which, to the server, is a
// peer that does not read, without the test process buffering 256 KiB per
// stream on the peers' side. Under the race detector, which makes 200 hosts
// slow, 40 peers attack a server of 256 streams.
func TestServerSlowPeers(t *testing.T) {
	slowPeers := 200
	cfg := DefaultServerConfig()
	if raceEnabled {
		slowPeers, cfg.MaxStreams = 40, 256
	}
	const (
		streamsPerPeer = 8
		nShards        = 32
		// heapBound is the live heap the attack may add: the shard budget
		// (64 MiB) and 1024 stalled streams, with their buffers, requests
		// and muxer state.
		heapBound = 160 << 20
		// heapAbort stops the attack early, so that a server without a
		// budget (each stream read 5 shards ahead) fails the test instead
		// of taking gigabytes.
		heapAbort = 1 << 30
	)
	ctx := testContext(t)

	// The server, on a real Badger store: every read copies the shard out,
	// as the daemon's does.
	store, err := storage.Open(storage.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	data, cids := testShards(nShards, 1<<20)
	for _, d := range data {
		if _, err := store.PutShard(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	data = nil
	unlimited := libp2p.ResourceManager(&network.NullResourceManager{})
	srvHost := newHost(t, unlimited)
	srv := newServer(t, srvHost, blockstoreFunc(store.ReadShardUnverified), cfg)

	slow := make([]host.Host, slowPeers)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range slow {
		slow[i] = newHost(t, unlimited)
		g.Go(func() error {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return slow[i].Connect(cctx, peer.AddrInfo{ID: srvHost.ID(), Addrs: srvHost.Addrs()})
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("connect the slow peers: %v", err)
	}
	honest := newHost(t)
	connect(t, honest, srvHost)
	client := newClient(t, honest, DefaultClientConfig())

	heap0 := liveHeap()
	var peakHeap atomic.Uint64
	aborted := make(chan struct{})
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > heap0 && m.HeapAlloc-heap0 > peakHeap.Load() {
				peakHeap.Store(m.HeapAlloc - heap0)
			}
			if m.HeapAlloc > heap0+heapAbort {
				close(aborted)
				_ = srv.Close()
				return
			}
		}
	})
	defer func() {
		close(stopSampling)
		sampler.Wait()
	}()

	req := slowRequest(cids)
	attack := time.Now()
	for _, h := range slow {
		g.Go(func() error {
			for range streamsPerPeer {
				s, err := h.NewStream(ctx, srvHost.ID(), ProtocolID)
				if err != nil {
					return err
				}
				if _, err := s.Write(req); err != nil {
					return err
				}
				_ = s.Close()
			}
			return nil
		})
	}
	failIfAborted := func() {
		t.Helper()
		select {
		case <-aborted:
			t.Fatalf("heap grew by more than %d MiB during the attack: aborted", heapAbort>>20)
		default:
		}
	}
	if err := g.Wait(); err != nil {
		failIfAborted()
		t.Fatalf("slow peer: %v", err)
	}
	opened := time.Since(attack)

	// The honest peer, while the slow streams still hold or wait for the
	// budget.
	fetch := func() time.Duration {
		t.Helper()
		start := time.Now()
		col := newCollector(t)
		if err := client.Fetch(ctx, cids, []peer.ID{srvHost.ID()}, nil, col.put, nil); err != nil {
			failIfAborted()
			t.Fatalf("honest fetch under attack: %v", err)
		}
		col.check(cids)
		return time.Since(start)
	}
	during := fetch()

	// Settle: every slow stream that was let in has stalled and given its
	// shard back.
	for srv.Stats().BytesInFlight > 0 {
		failIfAborted()
		select {
		case <-ctx.Done():
			t.Fatalf("slow streams never gave their shards back: %+v", srv.Stats())
		case <-time.After(20 * time.Millisecond):
		}
	}
	failIfAborted()
	heap := liveHeap()
	held := heap - min(heap, heap0)
	after := fetch()
	st := srv.Stats()
	t.Logf("%d slow peers x %d streams (opened in %v): live heap +%.1f MiB after (from %.1f MiB), peak +%.1f MiB (unswept garbage included); "+
		"server stats %+v; honest fetch of %d MiB %v under attack, %v after",
		slowPeers, streamsPerPeer, opened.Round(time.Millisecond), float64(held)/(1<<20), float64(heap0)/(1<<20), float64(peakHeap.Load())/(1<<20),
		st, nShards, during.Round(time.Millisecond), after.Round(time.Millisecond))
	if held > heapBound {
		t.Errorf("the slow peers hold %d MiB of heap, want at most %d MiB", held>>20, heapBound>>20)
	}
	if st.PeakBytesInFlight > cfg.MaxBytesInFlight {
		t.Errorf("peak shard bytes in flight %d, above the budget %d", st.PeakBytesInFlight, cfg.MaxBytesInFlight)
	}
	if st.Streams > cfg.MaxStreams {
		t.Errorf("%d streams served, above MaxStreams %d", st.Streams, cfg.MaxStreams)
	}
	if st.Busy+st.Evicted == 0 {
		t.Errorf("no stream was refused or evicted with %d asked for and MaxStreams %d", slowPeers*streamsPerPeer, cfg.MaxStreams)
	}
	if st.Stalls == 0 {
		t.Errorf("no stream stalled")
	}
}
