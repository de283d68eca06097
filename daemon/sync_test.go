package daemon

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/benchprof"
	"github.com/openledger/openledger/internal/bignet"
	"github.com/openledger/openledger/p2p"
	"github.com/openledger/openledger/storage"
)

// syncNode is the part of a node sync involves, with nothing else: a
// registry over Badger in a temp dir, its netObjects, and a p2p node on
// loopback.
type syncNode struct {
	reg   *datanet.Registry
	store *storage.Store
	objs  netObjects
	p2p   *p2p.Node
}

// syncNodeOpts shape a syncNode.
type syncNodeOpts struct {
	maxObjects    int    // p2p.Config.SyncMaxObjects (0: the default)
	deferredBytes int64  // the deferred store's bound (0: the default)
	dir           string // the store's directory (empty: a temp dir)
}

// benchMapped sets c's storage.mapped_memory to OPENLEDGER_BENCH_MAPPED
// when it is set: benchmarks compare settings with it.
func benchMapped(c *Config) {
	if v, ok := os.LookupEnv("OPENLEDGER_BENCH_MAPPED"); ok {
		c.Storage.MappedMemory = v
	}
}

// benchMappedMemory is storage.mapped_memory as a daemon has it: the
// default, or OPENLEDGER_BENCH_MAPPED.
func benchMappedMemory(tb testing.TB) int64 {
	tb.Helper()
	c := DefaultConfig()
	benchMapped(&c)
	n, err := c.MappedMemoryBytes()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func newSyncNode(tb testing.TB, o syncNodeOpts) *syncNode {
	tb.Helper()
	if o.dir == "" {
		o.dir = filepath.Join(tb.TempDir(), "store")
	}
	scfg := storage.DefaultConfig(o.dir)
	scfg.MappedMemory = benchMappedMemory(tb)
	store, err := storage.Open(scfg)
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}})
	if err != nil {
		store.Close()
		tb.Fatal(err)
	}
	if o.deferredBytes == 0 {
		o.deferredBytes = DefaultDeferredBytes
	}
	n := &syncNode{reg: reg, store: store, objs: netObjects{r: reg, deferredStore: newDeferredStore(store, o.deferredBytes)}}
	key, _, err := crypto.GenerateEd25519Key(crand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := p2p.DefaultConfig()
	cfg.Identity = key
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.MDNS, cfg.NATPortMap = false, false
	cfg.SyncInterval = time.Hour // the tests sync explicitly, or on joining
	if o.maxObjects > 0 {
		cfg.SyncMaxObjects = o.maxObjects
	}
	switch os.Getenv("DBG") {
	case "":
	case "sessions": // one line a session, not one an object
		cfg.Logger = slog.New(sessionsOnly{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})})
	default:
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if n.p2p, err = p2p.New(cfg, n.objs); err != nil {
		tb.Fatal(err)
	}
	// Cleanups run last first: the node closes, then the store.
	tb.Cleanup(func() { store.Close() })
	tb.Cleanup(func() {
		if err := n.p2p.Close(); err != nil {
			tb.Errorf("close node: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.p2p.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	return n
}

func (n *syncNode) connect(tb testing.TB, to *syncNode) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.p2p.Connect(ctx, to.p2p.Addrs()[0].String()); err != nil {
		tb.Fatal(err)
	}
}

// sessionsOnly drops the debug records of single objects (DBG=sessions).
type sessionsOnly struct{ slog.Handler }

func (h sessionsOnly) Handle(ctx context.Context, r slog.Record) error {
	if r.Level <= slog.LevelDebug && strings.HasPrefix(r.Message, "sync object") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h sessionsOnly) WithAttrs(as []slog.Attr) slog.Handler {
	return sessionsOnly{h.Handler.WithAttrs(as)}
}

func (h sessionsOnly) WithGroup(name string) slog.Handler {
	return sessionsOnly{h.Handler.WithGroup(name)}
}

// keys returns the sync set of dn, in key order.
func (n *syncNode) keys(tb testing.TB, dn cid.Cid) []cid.Cid {
	tb.Helper()
	var out []cid.Cid
	err := n.reg.SyncKeys(context.Background(), dn, [32]byte{}, 0, func(_ [32]byte, c cid.Cid) (bool, error) {
		out = append(out, c)
		return true, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// put stores the objects of items a node starts with.
func (n *syncNode) put(tb testing.TB, items []bignet.Item) {
	tb.Helper()
	for _, it := range items {
		if _, err := n.reg.Put(context.Background(), it.Data); err != nil {
			tb.Fatalf("put: %v", err)
		}
	}
}

// syncAll has every node sync dn with its topic peers, in turn, until the
// nodes hold the same set, at most rounds times, each Sync within
// timeout; it returns how many it took.
func syncAll(tb testing.TB, nodes []*syncNode, dn cid.Cid, rounds int, timeout time.Duration) int {
	tb.Helper()
	for r := 1; r <= rounds; r++ {
		for i, n := range nodes {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			st, err := n.p2p.Sync(ctx, dn)
			cancel()
			if err != nil {
				tb.Logf("node %d sync: %v", i, err)
			}
			if os.Getenv("DBG") != "" {
				tb.Logf("round %d node %d: %+v", r, i, st)
			}
		}
		if same(tb, nodes, dn) {
			return r
		}
	}
	return 0
}

func same(tb testing.TB, nodes []*syncNode, dn cid.Cid) bool {
	first := nodes[0].keys(tb, dn)
	for _, n := range nodes[1:] {
		if !slices.EqualFunc(first, n.keys(tb, dn), cid.Cid.Equals) {
			return false
		}
	}
	return true
}

// waitTopic waits until every node sees each peer it is connected to on
// dn's topic.
func waitTopic(tb testing.TB, nodes []*syncNode, dn cid.Cid) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		for len(n.p2p.TopicPeers(dn)) < len(n.p2p.Host().Network().Peers()) {
			if time.Now().After(deadline) {
				tb.Fatalf("topic peers of %s: timed out", dn)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestSyncConvergenceProperty: random Datanets (curators, quorum, window,
// votes, a policy update that appoints a curator), spread at random over
// two or three nodes (a node may hold nothing, not even the Datanet), with
// random session windows: once the nodes have synced, they hold the same
// set, every object of the Datanet, and agree on every count.
func TestSyncConvergenceProperty(t *testing.T) {
	trials := envInt(t, "OPENLEDGER_SYNC_TRIALS", 8, 3)
	for trial := range trials {
		seed := uint64(trial) + 1
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 42))
			curators := 1 + r.IntN(4)
			opts := bignet.Options{
				Seed:     seed,
				Curators: curators,
				Quorum:   uint64(1 + r.IntN(curators)),
				Votes:    r.IntN(curators+1) - 1, // -1: none
				Mixed:    r.IntN(2) == 0,
				Update:   r.IntN(2) == 0,
				Window:   uint64(r.IntN(2)) * 7 * 24 * 3600,
			}
			net, items := bignet.Objects(t, 20+r.IntN(120), opts)
			k := 2 + r.IntN(2)
			nodes := make([]*syncNode, k)
			union := map[cid.Cid]bool{}
			for i := range nodes {
				nodes[i] = newSyncNode(t, syncNodeOpts{maxObjects: 1 + r.IntN(60)})
				held := subset(r, items, i == 0)
				nodes[i].put(t, held)
				for _, it := range held {
					c, err := datanet.ObjectCID(it.Data)
					if err != nil {
						t.Fatal(err)
					}
					union[c] = true
				}
			}
			for i := 1; i < k; i++ {
				nodes[i].connect(t, nodes[r.IntN(i)])
			}
			for _, n := range nodes {
				if err := n.p2p.Join(context.Background(), net.ID); err != nil {
					t.Fatal(err)
				}
			}
			waitTopic(t, nodes, net.ID)
			rounds := syncAll(t, nodes, net.ID, 4, time.Minute)
			if rounds == 0 {
				for i, n := range nodes {
					t.Logf("node %d holds %d of %d", i, len(n.keys(t, net.ID)), net.Objects)
				}
				t.Fatalf("%d nodes (%+v) did not converge", k, opts)
			}
			for _, c := range nodes[0].keys(t, net.ID) {
				if !union[c] {
					t.Errorf("%s held that no node started with", c)
				}
			}
			if got := len(nodes[0].keys(t, net.ID)); got != len(union) {
				t.Errorf("the nodes hold %d objects, %d between them to start with", got, len(union))
			}
			ctx := context.Background()
			want, err := nodes[0].reg.Counts(ctx, net.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range nodes[1:] {
				got, err := n.reg.Counts(ctx, net.ID)
				if err != nil || got != want {
					t.Errorf("node %d counts %+v (%v), node 0 %+v", i+1, got, err, want)
				}
				if b, err := n.objs.bytes(ctx); err != nil || b != 0 {
					t.Errorf("node %d keeps %d deferred bytes (%v) once converged", i+1, b, err)
				}
			}
			for i, n := range nodes {
				if o := n.p2p.Stats().PeerOffences; o != 0 {
					t.Errorf("node %d counted %d offences by honest peers", i, o)
				}
			}
			t.Logf("%d nodes, %d objects (%+v), converged in %d round(s)", k, net.Objects, opts, rounds)
		})
	}
}

// TestSyncHoldsWaitingObjectsInMemory: with the registry's objects, a
// joiner's sessions hold in memory the objects they cannot judge yet
// because they wait for objects the session fetches (a vote before its
// contribution), and converge: in one session, and in sessions too small
// to fetch all that they wait for (those left waiting go to the deferred
// store at a session's end), with votes by an appointed curator, which
// wait for an update they cannot name. p2p's TestSyncHoldsWaitingInMemory
// counts what goes to the deferred store, on a network where only the
// joiner's sessions bring objects.
func TestSyncHoldsWaitingObjectsInMemory(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxObjects int
		update     bool
	}{
		{"one session", 0, false},
		{"small sessions", 40, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			net, items := bignet.Objects(t, 150, bignet.Options{Seed: 7, Update: tc.update})
			src := newSyncNode(t, syncNodeOpts{})
			src.put(t, items)
			joiner := newSyncNode(t, syncNodeOpts{maxObjects: tc.maxObjects})
			joiner.connect(t, src)
			for _, n := range []*syncNode{src, joiner} {
				if err := n.p2p.Join(ctx, net.ID); err != nil {
					t.Fatal(err)
				}
			}
			waitTopic(t, []*syncNode{joiner, src}, net.ID)
			for range 60 {
				if same(t, []*syncNode{joiner, src}, net.ID) {
					break
				}
				if _, err := joiner.p2p.Sync(ctx, net.ID); err != nil {
					t.Log(err)
				}
			}
			if !same(t, []*syncNode{joiner, src}, net.ID) {
				t.Fatalf("the joiner holds %d of %d objects", len(joiner.keys(t, net.ID)), net.Objects)
			}
			st := joiner.p2p.Stats()
			t.Logf("%d objects waited in memory, %d deferred", st.ObjectsWaited, st.ObjectsDeferred)
			if st.ObjectsWaited == 0 {
				t.Error("no object waited in memory")
			}
			if b, err := joiner.objs.bytes(ctx); err != nil || b != 0 {
				t.Errorf("the joiner keeps %d deferred bytes (%v) once converged", b, err)
			}
			want, err := src.reg.Counts(ctx, net.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := joiner.reg.Counts(ctx, net.ID); err != nil || got != want {
				t.Errorf("the joiner counts %+v (%v), the source %+v", got, err, want)
			}
		})
	}
}

// subset picks a random share of items that a node could hold: a vote
// only with its contribution, anything only with the Datanet, a vote by
// the appointed curator only with the update; in dependency order. Some
// nodes hold nothing (unless some is set), some everything.
func subset(r *rand.Rand, items []bignet.Item, some bool) []bignet.Item {
	share := []float64{0, 0.3, 0.7, 1}[r.IntN(4)]
	if some && share == 0 {
		share = 0.5
	}
	var out []bignet.Item
	haveUpdate := false
	contribs := map[int]bool{}
	for i, it := range items {
		switch {
		case share == 0:
		case it.Contribution < 0 && i == 0:
			out = append(out, it) // the Datanet: everyone who holds anything
		case it.Contribution < 0:
			if haveUpdate = r.Float64() < share; haveUpdate {
				out = append(out, it)
			}
		case it.Vote < 0:
			if contribs[it.Contribution] = r.Float64() < share; contribs[it.Contribution] {
				out = append(out, it)
			}
		case contribs[it.Contribution] && (!it.NeedsUpdate || haveUpdate) && r.Float64() < share:
			out = append(out, it)
		}
	}
	return out
}

// lateJoin has a new node join a Datanet that src holds whole and sync it
// until it holds the same set; it returns how long that took, the bytes
// the joiner sent and received by sync, and the peak growth of the
// process's live heap (both nodes, their stores, the test) over what it
// was once the joiner was up, before it joined. The live heap is what the
// runtime's own collections found live, read every 100 ms (a collection
// runs every few seconds at most: the join allocates about 200 MB/s);
// forcing one at each read, as this did until the session of 2026-12-04
// (third), spent a tenth of the join's CPU marking.
func lateJoin(tb testing.TB, src *syncNode, net *bignet.Net, o syncNodeOpts) (took time.Duration, transferred uint64, peakHeap uint64) {
	tb.Helper()
	joiner := newSyncNode(tb, o)
	joiner.connect(tb, src)
	var peak atomic.Uint64
	runtime.GC()
	base := liveHeap()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if live := liveHeap(); live > peak.Load() {
				peak.Store(live)
				if f := os.Getenv("OPENLEDGER_SYNC_HEAPPROF"); f != "" {
					if w, err := os.Create(f); err == nil {
						_ = pprof.WriteHeapProfile(w)
						w.Close()
					}
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	// OPENLEDGER_JOIN_PROFILE=path profiles the join (benchprof: a CPU
	// profile, or allocations, or a trace) for OPENLEDGER_JOIN_PROFILE_FOR
	// (default 1m), starting OPENLEDGER_JOIN_PROFILE_AFTER (a duration,
	// default 0) into it.
	if path := os.Getenv("OPENLEDGER_JOIN_PROFILE"); path != "" {
		after, _ := time.ParseDuration(os.Getenv("OPENLEDGER_JOIN_PROFILE_AFTER"))
		span, err := time.ParseDuration(os.Getenv("OPENLEDGER_JOIN_PROFILE_FOR"))
		if err != nil {
			span = time.Minute
		}
		wg.Go(func() {
			select {
			case <-stop:
				return
			case <-time.After(after):
			}
			end := benchprof.Start(tb, path)
			defer end()
			select {
			case <-stop:
			case <-time.After(span):
			}
		})
	}
	start := time.Now()
	ctx := context.Background()
	if err := src.p2p.Join(ctx, net.ID); err != nil {
		tb.Fatal(err)
	}
	if err := joiner.p2p.Join(ctx, net.ID); err != nil {
		tb.Fatal(err)
	}
	waitTopic(tb, []*syncNode{joiner, src}, net.ID)
	if syncAll(tb, []*syncNode{joiner, src}, net.ID, 3, time.Hour) == 0 {
		tb.Fatalf("the joiner holds %d of %d objects", len(joiner.keys(tb, net.ID)), net.Objects)
	}
	took = time.Since(start)
	st := joiner.p2p.Stats()
	if p := peak.Load(); p > base {
		peakHeap = p - base
	}
	if os.Getenv("DBG") != "" {
		tb.Logf("joiner %+v", st)
		tb.Logf("source %+v", src.p2p.Stats())

	}
	return took, st.SyncBytesSent + st.SyncBytesReceived, peakHeap
}

// envInt is the integer in the environment variable name, else def, or
// short under -short.
func envInt(t *testing.T, name string, def, short int) int {
	t.Helper()
	s := os.Getenv(name)
	switch {
	case s != "":
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	case testing.Short():
		return short
	}
	return def
}

// liveHeap is the heap marked live by the last GC.
func liveHeap() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// TestSyncLateJoinerLargeDatanet: a node that joins a Datanet of 2,000
// contributions and 4,000 votes (OPENLEDGER_SYNC_N to change) gets all of
// it in windows of 1,000 objects (OPENLEDGER_SYNC_WINDOW) and transfers at
// most 1.5 times the bytes it stores.
func TestSyncLateJoinerLargeDatanet(t *testing.T) {
	n := envInt(t, "OPENLEDGER_SYNC_N", 2000, 500)
	maxObj := envInt(t, "OPENLEDGER_SYNC_WINDOW", 1000, 1000)
	src := newSyncNode(t, syncNodeOpts{})
	start := time.Now()
	net := bignet.Build(t, src.reg, n, bignet.Options{Seed: 11})
	t.Logf("built %d objects, %d bytes, in %v", net.Objects, net.Bytes, time.Since(start))
	took, moved, peak := lateJoin(t, src, net, syncNodeOpts{maxObjects: maxObj})
	ratio := float64(moved) / float64(net.Bytes)
	t.Logf("joined in %v: %d bytes transferred for %d stored (%.2fx); live heap grew %d MiB at most",
		took.Round(time.Millisecond), moved, net.Bytes, ratio, peak>>20)
	if ratio > 1.5 {
		t.Errorf("transferred %.2f times the bytes stored, want <= 1.5", ratio)
	}
}

// BenchmarkLateJoiner: a node joins a Datanet of size contributions and
// 2·size votes held by one peer, and syncs until it holds it all.
// Sizes above 10,000 run only with OPENLEDGER_BIG=1, and 10^6 only with
// OPENLEDGER_BIG=2 (building the Datanet
// takes about 0.5 ms an object).
// joinSource returns the source node of BenchmarkLateJoiner, holding a
// Datanet of size contributions. OPENLEDGER_JOIN_SOURCE=dir keeps it in
// dir/<size> and takes it from there the next time (a build of 10^6 takes
// minutes): the store, and what Build said of it in net.json.
func joinSource(b *testing.B, size int) (*syncNode, *bignet.Net) {
	b.Helper()
	keep := os.Getenv("OPENLEDGER_JOIN_SOURCE")
	if keep == "" {
		src := newSyncNode(b, syncNodeOpts{})
		return src, bignet.Build(b, src.reg, size, bignet.Options{Seed: 12})
	}
	dir := filepath.Join(keep, strconv.Itoa(size))
	meta := filepath.Join(dir, "net.json")
	if _, err := os.Stat(meta); err != nil {
		_ = os.RemoveAll(dir) // a build that did not finish
	}
	src := newSyncNode(b, syncNodeOpts{dir: filepath.Join(dir, "store")})
	var kept struct {
		ID      string
		Objects int
		Bytes   int64
	}
	if data, err := os.ReadFile(meta); err == nil {
		if err := json.Unmarshal(data, &kept); err != nil {
			b.Fatalf("%s: %v", meta, err)
		}
		id, err := cid.Decode(kept.ID)
		if err != nil {
			b.Fatalf("%s: %v", meta, err)
		}
		return src, &bignet.Net{ID: id, Objects: kept.Objects, Bytes: kept.Bytes}
	}
	net := bignet.Build(b, src.reg, size, bignet.Options{Seed: 12})
	kept.ID, kept.Objects, kept.Bytes = net.ID.String(), net.Objects, net.Bytes
	data, err := json.Marshal(kept)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(meta, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return src, net
}

func BenchmarkLateJoiner(b *testing.B) {
	for _, size := range []int{1000, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			if size > 10_000 && os.Getenv("OPENLEDGER_BIG") == "" {
				b.Skip("set OPENLEDGER_BIG=1")
			}
			if size > 100_000 && os.Getenv("OPENLEDGER_BIG") != "2" {
				b.Skip("set OPENLEDGER_BIG=2")
			}
			src, net := joinSource(b, size)
			b.ReportAllocs()
			var took time.Duration
			var moved, peak uint64
			// OPENLEDGER_DEFERRED_BYTES bounds the joiner's deferred store
			// (default DefaultDeferredBytes), to see how convergence
			// depends on it.
			opts := syncNodeOpts{}
			if v := os.Getenv("OPENLEDGER_DEFERRED_BYTES"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					b.Fatal(err)
				}
				opts.deferredBytes = n
			}
			for b.Loop() {
				took, moved, peak = lateJoin(b, src, net, opts)
			}
			b.SetBytes(net.Bytes)
			b.ReportMetric(took.Seconds(), "s-to-converge")
			b.ReportMetric(float64(moved)/float64(net.Bytes), "transferred/stored")
			b.ReportMetric(float64(peak)/(1<<20), "live-heap-growth-MiB")
		})
	}
}
