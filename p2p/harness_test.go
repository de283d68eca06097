package p2p

import (
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multihash"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The toy objects of these tests are byte strings, so the tests need no
// other package:
//
//	obj|<datanet CID>|<payload>|<hex HMAC>   an object of a Datanet
//	net|<name>|<hex HMAC>                    a Datanet object (its CID is the Datanet ID)
//
// The HMAC, over everything before it, stands for the signature.
var testMACKey = []byte("openledger p2p test key")

func mac(s string) string {
	m := hmac.New(sha256.New, testMACKey)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func mkObj(datanet cid.Cid, payload string) []byte {
	s := "obj|" + datanet.String() + "|" + payload
	return []byte(s + "|" + mac(s))
}

func mkNet(name string) []byte {
	s := "net|" + name
	return []byte(s + "|" + mac(s))
}

func objCID(data []byte) cid.Cid {
	mh, err := multihash.Sum(data, multihash.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 is always registered
	}
	return cid.NewCidV1(cid.DagCBOR, mh)
}

// memObjects is an in-memory Objects over the toy format.
type memObjects struct {
	mu     sync.Mutex
	data   map[cid.Cid][]byte  // guarded by mu
	owner  map[cid.Cid]cid.Cid // guarded by mu; cid.Undef for Datanet objects
	known  map[cid.Cid]bool    // guarded by mu: Datanets Check can judge
	checks map[string]int      // guarded by mu: Check calls by data
	putAt  map[cid.Cid]time.Time

	acceptAll bool                  // an attacker: accepts and stores anything
	lie       bool                  // Get returns other bytes than were stored
	onPut     func(cid.Cid, []byte) // called after a new object is stored

	deferred  map[cid.Cid]DeferredObject // guarded by mu
	deferSeq  map[cid.Cid]int            // guarded by mu: order of deferral, for eviction
	waiting   map[cid.Cid]map[cid.Cid]bool
	deferNext int
	deferCap  int // bytes of deferred data kept at most; 0: 1 MiB
	defers    int // Defer calls
}

func newMemObjects(known ...cid.Cid) *memObjects {
	m := &memObjects{
		data:   make(map[cid.Cid][]byte),
		owner:  make(map[cid.Cid]cid.Cid),
		known:  make(map[cid.Cid]bool),
		checks: make(map[string]int),
		putAt:  make(map[cid.Cid]time.Time),

		deferred: make(map[cid.Cid]DeferredObject),
		deferSeq: make(map[cid.Cid]int),
		waiting:  make(map[cid.Cid]map[cid.Cid]bool),
	}
	for _, k := range known {
		m.known[k] = true
	}
	return m
}

func (m *memObjects) parse(data []byte) (owner cid.Cid, v Verdict, err error) {
	parts := strings.Split(string(data), "|")
	switch parts[0] {
	case "obj":
		if len(parts) != 4 {
			return cid.Undef, Reject, errors.New("malformed object")
		}
		dn, err := cid.Decode(parts[1])
		if err != nil {
			return cid.Undef, Reject, fmt.Errorf("bad datanet: %w", err)
		}
		if !hmac.Equal([]byte(parts[3]), []byte(mac(strings.Join(parts[:3], "|")))) {
			return cid.Undef, Reject, errors.New("bad signature")
		}
		m.mu.Lock()
		_, stored := m.data[dn]
		known := m.known[dn] || stored
		m.mu.Unlock()
		if !known {
			return dn, Ignore, &unknownDatanetErr{dn}
		}
		return dn, Accept, nil
	case "net":
		if len(parts) != 3 {
			return cid.Undef, Reject, errors.New("malformed datanet")
		}
		if !hmac.Equal([]byte(parts[2]), []byte(mac(strings.Join(parts[:2], "|")))) {
			return cid.Undef, Reject, errors.New("bad signature")
		}
		return objCID(data), Accept, nil
	}
	return cid.Undef, Reject, fmt.Errorf("unknown kind %q", parts[0])
}

func (m *memObjects) Check(_ context.Context, set cid.Cid, data []byte) (cid.Cid, cid.Cid, Verdict, error) {
	c := objCID(data)
	m.mu.Lock()
	m.checks[string(data)]++
	m.mu.Unlock()
	if m.acceptAll {
		return c, set, Accept, nil
	}
	owner, v, err := m.parse(data)
	if v != Accept {
		return c, owner, v, err
	}
	isNet := bytes.HasPrefix(data, []byte("net|"))
	switch {
	case !set.Defined() && !isNet:
		return c, owner, Reject, errors.New("only datanets go on the announcements topic")
	case set.Defined() && owner != set:
		return c, owner, Reject, errors.New("wrong topic")
	}
	return c, owner, Accept, nil
}

func (m *memObjects) Put(_ context.Context, data []byte) (cid.Cid, error) {
	c := objCID(data)
	owner, _, _ := m.parse(data)
	if m.acceptAll && !owner.Defined() {
		owner = cid.Undef
	}
	if bytes.HasPrefix(data, []byte("net|")) {
		owner = cid.Undef // listed in the announcements set
	}
	m.mu.Lock()
	_, had := m.data[c]
	if !had {
		m.data[c] = bytes.Clone(data)
		m.owner[c] = owner
		m.putAt[c] = time.Now()
	}
	m.undeferLocked(c) // stored: no longer deferred, as the daemon's
	onPut := m.onPut
	m.mu.Unlock()
	if !had && onPut != nil {
		onPut(c, data)
	}
	return c, nil
}

func (m *memObjects) Has(_ context.Context, c cid.Cid) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.data[c]
	return ok, nil
}

var errNotStored = errors.New("not stored")

func (m *memObjects) Get(_ context.Context, c cid.Cid) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.data[c]
	if !ok {
		return nil, errNotStored
	}
	if m.lie {
		return append(bytes.Clone(d), "tampered"...), nil
	}
	return bytes.Clone(d), nil
}

// manyMem is memObjects as ManyObjects: PutMany is Put of each.
type manyMem struct{ *memObjects }

func (m manyMem) Preverify([][]byte) {}

func (m manyMem) PutMany(ctx context.Context, data [][]byte) ([]error, error) {
	errs := make([]error, len(data))
	for i, d := range data {
		_, errs[i] = m.Put(ctx, d)
	}
	return errs, nil
}

// unknownDatanetErr is what the toy Check says of an object whose Datanet it
// lacks, naming it as real Objects do.
type unknownDatanetErr struct{ c cid.Cid }

func (e *unknownDatanetErr) Error() string      { return "unknown datanet " + e.c.String() }
func (e *unknownDatanetErr) Missing() []cid.Cid { return []cid.Cid{e.c} }

func (m *memObjects) IDs(_ context.Context, set cid.Cid) ([]cid.Cid, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []cid.Cid
	for c, o := range m.owner {
		if o == set {
			out = append(out, c)
		}
	}
	return out, nil
}

// sorted returns the set in key order.
func (m *memObjects) sorted(ctx context.Context, set cid.Cid) *set {
	ids, _ := m.IDs(ctx, set)
	return newSet(ids)
}

func (m *memObjects) SyncBuckets(ctx context.Context, set cid.Cid, level, from, to int, fn func(int, [32]byte, uint64) error) error {
	var (
		cur = -1
		a   acc
	)
	flush := func() error {
		if cur < 0 {
			return nil
		}
		var sum [32]byte
		for i, l := range a.sum {
			binary.BigEndian.PutUint64(sum[8*i:], l)
		}
		return fn(cur, sum, uint64(a.n))
	}
	for _, it := range m.sorted(ctx, set).items {
		b := bucketAt(it.k, level)
		if b < from || b >= to {
			continue
		}
		if b != cur {
			if err := flush(); err != nil {
				return err
			}
			cur, a = b, acc{}
		}
		a.add(it.k)
	}
	return flush()
}

func (m *memObjects) SyncKeys(ctx context.Context, set cid.Cid, from [32]byte, within int, fn func([32]byte, cid.Cid) (bool, error)) error {
	for _, it := range m.sorted(ctx, set).items {
		if bytes.Compare(it.k[:], from[:]) < 0 {
			continue
		}
		if !bytes.Equal(it.k[:within], from[:within]) {
			return nil
		}
		if more, err := fn(it.k, it.c); err != nil || !more {
			return err
		}
	}
	return nil
}

func (m *memObjects) Defer(_ context.Context, o DeferredObject) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.defers++
	limit := m.deferCap
	if limit == 0 {
		limit = 1 << 20
	}
	if _, stored := m.data[o.CID]; stored || len(o.Data) > limit {
		return false, nil
	}
	m.undeferLocked(o.CID)
	for m.deferredBytesLocked()+len(o.Data) > limit {
		oldest, seq := cid.Undef, -1
		for c, s := range m.deferSeq {
			if seq < 0 || s < seq {
				oldest, seq = c, s
			}
		}
		m.undeferLocked(oldest)
	}
	o.Data = bytes.Clone(o.Data)
	m.deferred[o.CID] = o
	m.deferSeq[o.CID] = m.deferNext
	m.deferNext++
	for _, w := range o.Waits {
		if m.waiting[w] == nil {
			m.waiting[w] = make(map[cid.Cid]bool)
		}
		m.waiting[w][o.CID] = true
	}
	return true, nil
}

func (m *memObjects) deferredBytesLocked() int {
	n := 0
	for _, o := range m.deferred {
		n += len(o.Data)
	}
	return n
}

func (m *memObjects) undeferLocked(c cid.Cid) {
	o, ok := m.deferred[c]
	if !ok {
		return
	}
	for _, w := range o.Waits {
		delete(m.waiting[w], c)
		if len(m.waiting[w]) == 0 {
			delete(m.waiting, w)
		}
	}
	delete(m.deferred, c)
	delete(m.deferSeq, c)
}

func (m *memObjects) Deferred(_ context.Context, c cid.Cid) (DeferredObject, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.deferred[c]
	return o, ok, nil
}

func (m *memObjects) Waiting(_ context.Context, c cid.Cid, fn func(cid.Cid) (bool, error)) error {
	m.mu.Lock()
	var ws []cid.Cid
	for d := range m.waiting[c] {
		ws = append(ws, d)
	}
	m.mu.Unlock()
	for _, d := range ws {
		if more, err := fn(d); err != nil || !more {
			return err
		}
	}
	return nil
}

func (m *memObjects) Undefer(_ context.Context, c cid.Cid) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.undeferLocked(c)
	return nil
}

func (m *memObjects) deferredCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.deferred)
}

// add stores an object directly, as the daemon does for its own.
func (m *memObjects) add(t testing.TB, data []byte) cid.Cid {
	t.Helper()
	c, err := m.Put(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (m *memObjects) has(c cid.Cid) bool {
	ok, _ := m.Has(context.Background(), c)
	return ok
}

func (m *memObjects) count(set cid.Cid) int {
	ids, _ := m.IDs(context.Background(), set)
	return len(ids)
}

func (m *memObjects) checked(data []byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checks[string(data)]
}

// testGater blocks connections between chosen pairs of peers; every node
// of a testNet uses it.
type testGater struct {
	mu      sync.Mutex
	blocked map[[2]peer.ID]bool // guarded by mu
}

func (g *testGater) allow(a, b peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.blocked[[2]peer.ID{a, b}] && !g.blocked[[2]peer.ID{b, a}]
}

func (g *testGater) set(a, b peer.ID, blocked bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blocked == nil {
		g.blocked = make(map[[2]peer.ID]bool)
	}
	g.blocked[[2]peer.ID{a, b}] = blocked
}

// gaterFor is the ConnectionGater of one node.
type gaterFor struct {
	g    *testGater
	self peer.ID
}

func (f gaterFor) InterceptPeerDial(p peer.ID) bool { return f.g.allow(f.self, p) }
func (f gaterFor) InterceptAddrDial(p peer.ID, _ multiaddr.Multiaddr) bool {
	return f.g.allow(f.self, p)
}
func (f gaterFor) InterceptAccept(network.ConnMultiaddrs) bool { return true }
func (f gaterFor) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return f.g.allow(f.self, p)
}
func (f gaterFor) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// testNet is a set of started nodes, on loopback TCP (newTestNet) or on a
// libp2p mocknet (newMockNet).
type testNet struct {
	t     testing.TB
	nodes []*Node
	objs  []*memObjects
	known []cid.Cid
	// many gives the nodes added from now on their objects as
	// ManyObjects (manyMem).
	many  bool
	opts  []func(i int, cfg *Config)
	gate  testGater       // loopback: the pairs that may not connect
	mn    mocknet.Mocknet // mocknet: the links, the only pairs that may connect
	conns mockConns       // mocknet: every connection made
}

// mockConns remembers the connections of a mocknet. Mocknet can leave a
// stream open on a connection that closed (one opened or arriving while
// the connection closes misses the connection's reset), and the stream's
// goroutine then waits forever; resetStreams ends those when the test
// ends, or the synctest bubble would report them as deadlocked.
type mockConns struct {
	mu    sync.Mutex
	conns []network.Conn // guarded by mu
}

func (m *mockConns) connected(_ network.Network, c network.Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns = append(m.conns, c)
}

// resetStreams waits until the bubble's other goroutines are blocked (the
// hosts closed), then resets every stream still open.
func (m *mockConns) resetStreams() {
	synctest.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conns {
		for _, s := range c.GetStreams() {
			s.Reset()
		}
	}
}

// testConfig is a node on loopback TCP with short timers and no mDNS or
// port mapping.
func testConfig(t testing.TB) Config {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Identity = key
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.MDNS = false
	cfg.NATPortMap = false
	cfg.ConnLow, cfg.ConnHigh = 32, 96
	cfg.SyncInterval = time.Hour // tests that rely on the timer shorten it
	cfg.SyncTimeout = 20 * time.Second
	cfg.RequestTimeout = 5 * time.Second
	cfg.FindProvidersTimeout = 5 * time.Second
	cfg.gossipHeartbeat = 100 * time.Millisecond
	return cfg
}

// newTestNet starts n nodes whose Objects know the Datanets in known;
// opts adjust each node's Config. The nodes are not connected.
func newTestNet(t testing.TB, n int, known []cid.Cid, opts ...func(i int, cfg *Config)) *testNet {
	t.Helper()
	tn := &testNet{t: t, known: known, opts: opts}
	for range n {
		tn.add()
	}
	return tn
}

// newMockNet is newTestNet on a libp2p mocknet, the cheaper tier for
// protocol tests: the nodes' hosts talk through in-memory pipes, with no
// transport or handshake, and two nodes can connect only where a link
// joins them. connect links the pair first and block cuts the link, so the
// topology a test builds is the whole network: the DHT cannot add
// connections of its own (on loopback it connects every pair), and a
// partition is a cut link, not a refused dial.
//
// Call it inside bubble.
func newMockNet(t testing.TB, n int, known []cid.Cid, opts ...func(i int, cfg *Config)) *testNet {
	t.Helper()
	tn := &testNet{t: t, known: known, opts: opts, mn: mocknet.New()}
	// Cleanups run last first: the nodes close, then the mocknet, then
	// the streams it left open are reset.
	t.Cleanup(tn.conns.resetStreams)
	t.Cleanup(func() { tn.mn.Close() })
	for range n {
		tn.add()
	}
	return tn
}

// bubble runs f in a testing/synctest bubble, for tests on a mocknet: the
// clock is virtual, so gossipsub's heartbeats, the score inspection and
// the sync timers cost no real time, a deadline cannot pass because the
// machine is busy, and synctest.Wait lets what is in flight finish; and
// the bubble waits for every goroutine to end, including those mocknet
// closes asynchronously, which outside one can outlive the test. Under
// the race detector f runs on one P, as go-libp2p-pubsub's synctest tests
// do: with more, Go 1.26's runtime crashed in a bubble's timer code
// (SIGSEGV in timer.maybeRunChan) about once in 40 runs of these tests.
func bubble(t *testing.T, f func(t *testing.T)) {
	if raceEnabled {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	synctest.Test(t, f)
}

// add starts one more node and returns its index.
func (tn *testNet) add() int {
	t := tn.t
	t.Helper()
	i := len(tn.nodes)
	cfg := testConfig(t)
	self, err := peer.IDFromPrivateKey(cfg.Identity)
	if err != nil {
		t.Fatal(err)
	}
	if tn.mn != nil {
		addr := fmt.Sprintf("/ip4/10.0.%d.%d/tcp/%d", i/256, i%256, DefaultPort)
		h, err := tn.mn.AddPeer(cfg.Identity, multiaddr.StringCast(addr))
		if err != nil {
			t.Fatal(err)
		}
		h.Network().Notify(&network.NotifyBundle{ConnectedF: tn.conns.connected})
		cfg.host, cfg.ListenAddrs = h, []string{addr}
	} else {
		cfg.Gater = gaterFor{&tn.gate, self}
	}
	for _, o := range tn.opts {
		o(i, &cfg)
	}
	objs := newMemObjects(tn.known...)
	var asObjects Objects = objs
	if tn.many {
		asObjects = manyMem{objs}
	}
	node, err := New(cfg, asObjects)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := node.Close(); err != nil {
			t.Errorf("close node %d: %v", i, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tn.nodes = append(tn.nodes, node)
	tn.objs = append(tn.objs, objs)
	return i
}

func (tn *testNet) connect(i, j int) {
	tn.t.Helper()
	if tn.mn != nil {
		a, b := tn.nodes[i].ID(), tn.nodes[j].ID()
		if len(tn.mn.LinksBetweenPeers(a, b)) == 0 {
			if _, err := tn.mn.LinkPeers(a, b); err != nil {
				tn.t.Fatalf("link %d and %d: %v", i, j, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tn.nodes[i].Connect(ctx, tn.nodes[j].Addrs()[0].String()); err != nil {
		tn.t.Fatalf("connect %d to %d: %v", i, j, err)
	}
}

// block stops nodes i and j from connecting, and closes their
// connections; on loopback the DHT would otherwise link any two nodes of a
// test. On a mocknet it cuts their link; connect links them again.
func (tn *testNet) block(i, j int, blocked bool) {
	a, b := tn.nodes[i].ID(), tn.nodes[j].ID()
	switch {
	case tn.mn == nil:
		tn.gate.set(a, b, blocked)
	case blocked && len(tn.mn.LinksBetweenPeers(a, b)) > 0:
		if err := tn.mn.UnlinkPeers(a, b); err != nil {
			tn.t.Fatalf("unlink %d and %d: %v", i, j, err)
		}
	}
	if blocked {
		_ = tn.nodes[i].host.Network().ClosePeer(b)
		_ = tn.nodes[j].host.Network().ClosePeer(a)
	}
}

// line connects node k to k+1 for k in [from, to).
func (tn *testNet) line(from, to int) {
	for k := from; k < to; k++ {
		tn.connect(k, k+1)
	}
}

// sparse connects the nodes in a line plus extra random links (seeded),
// so that each has 2-4 neighbours; it returns the adjacency.
func (tn *testNet) sparse(seed uint64, extra int) map[int]map[int]bool {
	adj := make(map[int]map[int]bool)
	link := func(a, b int) {
		if a == b || adj[a][b] {
			return
		}
		if adj[a] == nil {
			adj[a] = map[int]bool{}
		}
		if adj[b] == nil {
			adj[b] = map[int]bool{}
		}
		adj[a][b], adj[b][a] = true, true
		tn.connect(a, b)
	}
	for k := 0; k+1 < len(tn.nodes); k++ {
		link(k, k+1)
	}
	r := rand.New(rand.NewPCG(seed, seed))
	for range extra {
		a, b := r.IntN(len(tn.nodes)), r.IntN(len(tn.nodes))
		if len(adj[a]) < 4 && len(adj[b]) < 4 {
			link(a, b)
		}
	}
	return adj
}

func (tn *testNet) joinAll(set cid.Cid) {
	tn.t.Helper()
	for i, n := range tn.nodes {
		if err := n.Join(context.Background(), set); err != nil {
			tn.t.Fatalf("node %d join: %v", i, err)
		}
	}
}

// waitTopicPeers waits until every node sees each of its connected
// neighbours on set's topic.
func (tn *testNet) waitTopicPeers(set cid.Cid) {
	tn.t.Helper()
	waitFor(tn.t, 20*time.Second, func() bool {
		for _, n := range tn.nodes {
			if len(n.topicPeers(set)) < len(n.host.Network().Peers()) {
				return false
			}
		}
		return true
	}, "topic peers of %s", set)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testDatanet(name string) cid.Cid { return objCID(mkNet(name)) }
