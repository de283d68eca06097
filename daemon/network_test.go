package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/datanet"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type testPeer struct {
	n   *Node
	rpc *rpc.Client
}

// newTestNet starts k networked nodes in this process, on loopback.
func newTestNet(t testing.TB, k int) []testPeer {
	t.Helper()
	out := make([]testPeer, k)
	for i := range out {
		n, _ := testNodeOpts(t, nil, Options{Version: "test", SyncInterval: 500 * time.Millisecond})
		c := n.InProc()
		t.Cleanup(c.Close)
		out[i] = testPeer{n: n, rpc: c}
	}
	return out
}

func (p testPeer) connect(t testing.TB, to testPeer) {
	t.Helper()
	var id IDResult
	if err := to.rpc.Call(&id, "node_id"); err != nil {
		t.Fatal(err)
	}
	if len(id.Addrs) == 0 {
		t.Fatal("peer has no addresses")
	}
	var pid string
	if err := p.rpc.Call(&pid, "node_connect", id.Addrs[0]); err != nil {
		t.Fatal(err)
	}
}

func TestNetworkAnnounceAndFetch(t *testing.T) {
	net := newTestNet(t, 3)
	a, b, c := net[0], net[1], net[2]
	b.connect(t, a)
	c.connect(t, b) // c reaches a only through b

	var dn DatanetView
	if err := a.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "shared"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []testPeer{b, c} {
		if err := p.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	body := make([]byte, 3<<20+5)
	rand.Read(body) // distinct shards: no dedup

	os.WriteFile(filepath.Join(dir, "data.bin"), body, 0o644)
	var added AddResult
	if err := a.rpc.Call(&added, "content_add", AddArgs{Paths: []string{filepath.Join(dir, "data.bin")}, Datanet: dn.ID}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kc, _ := parseCID(added.CID)
	for i, p := range []testPeer{b, c} {
		waitFor(t, 30*time.Second, "the contribution to reach every node", func() bool {
			has, err := p.n.registry.Has(ctx, kc)
			return err == nil && has
		})
		_ = i
	}
	// c fetches the shards (from a, or from b once b has them) and serves
	// them over HTTP.
	var res FetchResult
	if err := c.rpc.Call(&res, "content_fetch", added.CID); err != nil {
		t.Fatal(err)
	}
	if res.Fetched != 4 {
		t.Fatalf("fetch: %+v, want 4 shards fetched", res)
	}
	resp, err := http.Get("http://" + c.n.HTTPAddr() + ContentPath + added.CID + "/data.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("fetched bytes differ (%d vs %d)", len(got), len(body))
	}
	// A second fetch finds everything local.
	if err := c.rpc.Call(&res, "content_fetch", added.CID); err != nil || res.Fetched != 0 {
		t.Fatalf("second fetch: %+v %v", res, err)
	}
	// b has not fetched: its HTTP content fetches on demand.
	resp, err = http.Get("http://" + b.n.HTTPAddr() + ContentPath + added.CID + "/data.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("fetch-on-GET bytes differ (%d vs %d)", len(got), len(body))
	}
}

func TestJoinedSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	cfg, _ := ProfileConfig("test")
	if _, err := InitRepo(dir, InitOptions{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	start := func() (*Node, *Repo) {
		repo, err := OpenRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNode(repo, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		return n, repo
	}
	n, repo := start()
	c := n.InProc()
	var dn DatanetView
	if err := c.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "keep"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	n.Close()
	repo.Close()

	n, repo = start()
	defer repo.Close()
	defer n.Close()
	c = n.InProc()
	defer c.Close()
	var joined []string
	if err := c.Call(&joined, "datanet_joined"); err != nil || len(joined) != 1 || joined[0] != dn.ID {
		t.Fatalf("joined after restart: %v %v", joined, err)
	}
}

// TestJoinFetchesTheDatanet: joining a Datanet this node does not hold
// fetches its object from a peer before the call returns, so that what
// sync then brings can be judged as it comes; joining one no peer has
// still joins.
func TestJoinFetchesTheDatanet(t *testing.T) {
	net := newTestNet(t, 2)
	a, b := net[0], net[1]
	var dn DatanetView
	if err := a.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "fetched on join"}); err != nil {
		t.Fatal(err)
	}
	b.connect(t, a)
	if err := b.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
		t.Fatal(err)
	}
	id, err := parseCID(dn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := b.n.registry.Has(context.Background(), id); err != nil || !has {
		t.Errorf("after join, the datanet is held: %v %v", has, err)
	}

	// A Datanet nobody has: joined all the same, held by no one.
	ghost := testObjectCID(t, "a datanet nobody has")
	if err := b.rpc.Call(nil, "datanet_join", ghost.String()); err != nil {
		t.Fatalf("join of a datanet no peer has: %v", err)
	}
	var joined []string
	if err := b.rpc.Call(&joined, "datanet_joined"); err != nil || !slices.Contains(joined, ghost.String()) {
		t.Errorf("joined %v (%v), want it to hold %s", joined, err, ghost)
	}
}
