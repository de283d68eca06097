package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/control"
	lpnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
)

// cutGater blocks connections between chosen pairs of peers, shared by all
// the nodes of a test.
type cutGater struct {
	mu  sync.Mutex
	cut map[[2]peer.ID]bool
}

func (g *cutGater) set(a, b peer.ID, blocked bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cut == nil {
		g.cut = map[[2]peer.ID]bool{}
	}
	g.cut[[2]peer.ID{a, b}], g.cut[[2]peer.ID{b, a}] = blocked, blocked
}

func (g *cutGater) blocked(a, b peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cut[[2]peer.ID{a, b}]
}

// nodeGater is one node's view of the shared cutGater.
type nodeGater struct {
	g    *cutGater
	self func() peer.ID
}

func (n nodeGater) InterceptPeerDial(p peer.ID) bool { return !n.g.blocked(n.self(), p) }
func (n nodeGater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool {
	return !n.g.blocked(n.self(), p)
}
func (n nodeGater) InterceptAccept(lpnet.ConnMultiaddrs) bool { return true }
func (n nodeGater) InterceptSecured(_ lpnet.Direction, p peer.ID, _ lpnet.ConnMultiaddrs) bool {
	return !n.g.blocked(n.self(), p)
}
func (n nodeGater) InterceptUpgraded(lpnet.Conn) (bool, control.DisconnectReason) { return true, 0 }

// curationNet starts k networked nodes whose connections g can cut.
func curationNet(t *testing.T, k int, g *cutGater) []testPeer {
	t.Helper()
	out := make([]testPeer, k)
	for i := range out {
		var id peer.ID
		gater := nodeGater{g: g, self: func() peer.ID { return id }}
		n, _ := testNodeOpts(t, nil, Options{Version: "test", SyncInterval: 300 * time.Millisecond, Gater: gater})
		id = n.net.p2p.Host().ID()
		c := n.InProc()
		t.Cleanup(c.Close)
		out[i] = testPeer{n: n, rpc: c}
	}
	return out
}

func (p testPeer) account(t *testing.T) common.Address {
	t.Helper()
	var id IDResult
	if err := p.rpc.Call(&id, "node_id"); err != nil {
		t.Fatal(err)
	}
	return common.HexToAddress(id.Account)
}

func (p testPeer) status(t *testing.T, contribution string) curation.Status {
	t.Helper()
	var tv TallyView
	if err := p.rpc.Call(&tv, "curation_show", contribution); err != nil {
		return 255 // not held yet
	}
	return tv.Status
}

// addText adds a one-file contribution with the given text through p.
func (p testPeer) addText(t *testing.T, dn, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var added AddResult
	if err := p.rpc.Call(&added, "content_add", AddArgs{Paths: []string{path}, Datanet: dn, ChunkSize: 1 << 10}); err != nil {
		t.Fatal(err)
	}
	return added.CID
}

func (p testPeer) vote(t *testing.T, contribution, decision string) {
	t.Helper()
	var res VoteResult
	if err := p.rpc.Call(&res, "curation_vote", VoteArgs{Contribution: contribution, Decision: decision}); err != nil {
		t.Fatalf("vote %s on %s: %v", decision, contribution, err)
	}
}

// TestCurationFiveNodes: three curators on three of five nodes vote; all
// five agree on every status and cut snapshots with identical roots; votes
// cast on both sides of a partition converge once it heals.
func TestCurationFiveNodes(t *testing.T) {
	var g cutGater
	nodes := curationNet(t, 5, &g)
	for i := 1; i < 5; i++ {
		nodes[i].connect(t, nodes[i-1])
	}
	nodes[4].connect(t, nodes[0]) // a ring: two paths between any two nodes
	var curators []datanet.Curator
	for _, p := range nodes[:3] {
		curators = append(curators, datanet.Curator{Address: p.account(t), Weight: 1})
	}
	var dn DatanetView
	spec := datanet.DatanetSpec{Name: "curated", Curators: curators, Quorum: 2, ThresholdBps: 5001, Window: 3600}
	if err := nodes[0].rpc.Call(&dn, "datanet_create", spec); err != nil {
		t.Fatal(err)
	}
	for _, p := range nodes[1:] {
		if err := p.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the datanet on every node", func() bool {
		for _, p := range nodes {
			if err := p.rpc.Call(new(DatanetDetail), "datanet_show", dn.ID); err != nil {
				return false
			}
		}
		return true
	})
	// Contributions from the two non-curators.
	a := nodes[3].addText(t, dn.ID, "a.txt", "alpha: the first accepted text\n")
	b := nodes[4].addText(t, dn.ID, "b.txt", "beta: a rejected text\n")
	c := nodes[3].addText(t, dn.ID, "c.txt", "gamma: still pending\n")
	waitFor(t, 30*time.Second, "every contribution on every node", func() bool {
		for _, p := range nodes {
			for _, k := range []string{a, b, c} {
				if p.status(t, k) != curation.Pending {
					return false
				}
			}
		}
		return true
	})
	nodes[0].vote(t, a, "approve")
	nodes[1].vote(t, a, "approve")
	nodes[1].vote(t, b, "reject")
	nodes[2].vote(t, b, "reject")
	nodes[2].vote(t, c, "approve")
	want := map[string]curation.Status{a: curation.Accepted, b: curation.Rejected, c: curation.Pending}
	agree := func(want map[string]curation.Status) func() bool {
		return func() bool {
			for _, p := range nodes {
				for k, s := range want {
					if p.status(t, k) != s {
						return false
					}
				}
			}
			return true
		}
	}
	waitFor(t, 30*time.Second, "all five nodes to agree on the tallies", agree(want))

	// Every node cuts a snapshot: different cutters, one root.
	var roots []string
	var cuts []SnapshotView
	for i, p := range nodes {
		var s SnapshotView
		if err := p.rpc.Call(&s, "snapshot_cut", dn.ID); err != nil {
			t.Fatalf("node %d: cut: %v", i, err)
		}
		if s.Contributions != 1 || s.Votes != 2 {
			t.Fatalf("node %d cut %+v, want 1 contribution with 2 votes", i, s)
		}
		roots = append(roots, s.Root)
		cuts = append(cuts, s)
	}
	for i, r := range roots {
		if r != roots[0] {
			t.Fatalf("node %d cut root %s, node 0 %s", i, r, roots[0])
		}
	}
	waitFor(t, 30*time.Second, "every snapshot on every node", func() bool {
		for _, p := range nodes {
			var list []SnapshotView
			if err := p.rpc.Call(&list, "snapshot_list", dn.ID); err != nil || len(list) < len(cuts) {
				return false
			}
		}
		return true
	})
	var verdict SnapshotVerdict
	if err := nodes[4].rpc.Call(&verdict, "snapshot_verify", cuts[0].CID); err != nil || !verdict.OK {
		t.Fatalf("verify on another node: %+v %v", verdict, err)
	}

	// Partition {0, 1, 3} | {2, 4}: curators on both sides vote on c.
	left, right := []int{0, 1, 3}, []int{2, 4}
	setCut := func(blocked bool) {
		for _, l := range left {
			for _, r := range right {
				li, ri := nodes[l].n.net.p2p.Host().ID(), nodes[r].n.net.p2p.Host().ID()
				g.set(li, ri, blocked)
				if blocked {
					_ = nodes[l].n.net.p2p.Host().Network().ClosePeer(ri)
					_ = nodes[r].n.net.p2p.Host().Network().ClosePeer(li)
				}
			}
		}
	}
	setCut(true)
	waitFor(t, 10*time.Second, "the halves to disconnect", func() bool {
		for _, l := range left {
			for _, r := range right {
				if len(nodes[l].n.net.p2p.Host().Network().ConnsToPeer(nodes[r].n.net.p2p.Host().ID())) > 0 {
					return false
				}
			}
		}
		return true
	})
	nodes[0].vote(t, c, "reject") // left
	nodes[2].vote(t, c, "reject") // right: curator 2 changes its mind (seq 1)
	// Left sees approve 1 (curator 2's first vote), reject 1; right sees
	// curator 2's new reject alone.
	sees := func(p testPeer, approve, reject uint64) bool {
		var tv TallyView
		return p.rpc.Call(&tv, "curation_show", c) == nil && tv.Approve == approve && tv.Reject == reject
	}
	waitFor(t, 20*time.Second, "each half to see its own vote", func() bool {
		return sees(nodes[3], 1, 1) && sees(nodes[1], 1, 1) && sees(nodes[4], 0, 1)
	})
	// Neither half alone rejects c: left has approve(2)+reject(0), right
	// has reject(2) only.
	for _, i := range append(left, right...) {
		if s := nodes[i].status(t, c); s != curation.Pending {
			t.Fatalf("node %d: c is %s during the partition, want pending", i, s)
		}
	}
	setCut(false)
	nodes[2].connect(t, nodes[1])
	nodes[4].connect(t, nodes[0])
	want[c] = curation.Rejected
	waitFor(t, 30*time.Second, "all five nodes to converge after the partition heals", agree(want))
	// And they hold the same set: every version, contribution, vote and
	// snapshot.
	id := mustParse(t, dn.ID)
	waitFor(t, 30*time.Second, "all five nodes to hold the same objects", func() bool {
		var first []string
		for i, p := range nodes {
			ids, err := p.n.registry.IDs(context.Background(), id)
			if err != nil {
				return false
			}
			var keys []string
			for _, c := range ids {
				keys = append(keys, c.KeyString())
			}
			slices.Sort(keys)
			if i == 0 {
				first = keys
			} else if !slices.Equal(keys, first) {
				return false
			}
		}
		return true
	})
}

// TestCurationRefusals: votes a node must refuse over the RPC, each with
// its error name, and nothing stored.
func TestCurationRefusals(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	p := testPeer{n: n, rpc: c}
	var dn DatanetView
	if err := c.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "solo", Window: 3600, MaxContributionSize: 64}); err != nil {
		t.Fatal(err)
	}
	k := p.addText(t, dn.ID, "k.txt", "some text\n")
	outsider, _ := crypto.GenerateKey()
	outAddr := crypto.PubkeyToAddress(outsider.PublicKey)

	sign := func(doc json.RawMessage) SubmitArgs {
		var td apitypes.TypedData
		if err := json.Unmarshal(doc, &td); err != nil {
			t.Fatal(err)
		}
		hash, _, err := apitypes.TypedDataAndHash(td)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := crypto.Sign(hash, outsider)
		if err != nil {
			t.Fatal(err)
		}
		return SubmitArgs{TypedData: doc, Signature: sig} // V 0/1, as some signers return it
	}
	code := func(err error) string {
		if err == nil {
			return "accepted"
		}
		if de, ok := err.(interface{ ErrorData() interface{} }); ok {
			return fmt.Sprint(de.ErrorData())
		}
		return err.Error()
	}
	// A non-curator cannot get typed data for itself...
	var doc json.RawMessage
	err := c.Call(&doc, "curation_typedData", VoteArgs{Contribution: k, Decision: "approve", Curator: outAddr.Hex()})
	if code(err) != "not_curator" {
		t.Fatalf("typed data for a non-curator: %v", err)
	}
	// ...and a document naming the operator but signed by another key is
	// refused as a bad signature.
	if err := c.Call(&doc, "curation_typedData", VoteArgs{Contribution: k, Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	var res VoteResult
	if err := c.Call(&res, "curation_submitVote", sign(doc)); code(err) != "bad_signature" {
		t.Fatalf("forged submit: %v", err)
	}
	// The operator votes, then an old seq is replayed.
	if err := c.Call(&res, "curation_vote", VoteArgs{Contribution: k, Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	first := res.Vote
	if err := c.Call(&res, "curation_vote", VoteArgs{Contribution: k, Decision: "reject"}); err != nil || res.Vote.Seq != 1 {
		t.Fatalf("second vote: %+v %v", res.Vote, err)
	}
	_, err = n.registry.Submit(context.Background(), first)
	if err != nil {
		t.Fatalf("the same vote again is idempotent: %v", err)
	}
	older := *first
	older.Reason, older.Signature = "changed", nil
	signer, _ := n.Signer()
	if err := datanet.SignVote(&older, older.ChainID, signer); err != nil {
		t.Fatal(err)
	}
	_, err = n.registry.Submit(context.Background(), &older)
	if code(apiError(err)) != "stale_vote" {
		t.Fatalf("replayed seq 0: %v", err)
	}
	votes, _ := n.registry.Votes(context.Background(), mustParse(t, k))
	if len(votes) != 2 {
		t.Fatalf("%d votes stored, want 2", len(votes))
	}
	// A contribution over the size limit is refused before a byte is stored.
	var added AddResult
	path := filepath.Join(t.TempDir(), "big.txt")
	os.WriteFile(path, make([]byte, 65), 0o644)
	if err := c.Call(&added, "content_add", AddArgs{Paths: []string{path}, Datanet: dn.ID}); code(err) != "policy" {
		t.Fatalf("oversized contribution: %v", err)
	}
	// Nothing accepted yet: no snapshot.
	var s SnapshotView
	if err := c.Call(&s, "snapshot_cut", dn.ID); code(err) != "nothing_accepted" {
		t.Fatalf("cut with nothing accepted: %v", err)
	}
}

func mustParse(t *testing.T, s string) cid.Cid {
	t.Helper()
	c, err := parseCID(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSnapshotPages lists a snapshot of three contributions of two files
// each a page at a time: content_ls and HTTP with "@ENTRY/FILE" cursors,
// snapshot_entries with ordinals; every page is what the whole listing
// holds at its place.
func TestSnapshotPages(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	var dv DatanetView
	if err := c.Call(&dv, "datanet_create", datanet.DatanetSpec{Name: "pages"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("c", i))
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "a.txt"), []byte(fmt.Sprint("a", i)), 0o644)
		os.WriteFile(filepath.Join(dir, "b.txt"), []byte(fmt.Sprint("b", i)), 0o644)
		var added AddResult
		if err := c.Call(&added, "content_add", AddArgs{Paths: []string{dir}, Datanet: dv.ID}); err != nil {
			t.Fatal(err)
		}
		if err := c.Call(nil, "curation_vote", VoteArgs{Contribution: added.CID, Decision: "approve"}); err != nil {
			t.Fatal(err)
		}
	}
	var s SnapshotView
	if err := c.Call(&s, "snapshot_cut", dv.ID); err != nil || s.Contributions != 3 {
		t.Fatalf("cut: %+v %v", s, err)
	}
	var whole LsResult
	if err := c.Call(&whole, "content_ls", s.CID); err != nil || len(whole.Files) != 6 || whole.Next != "" {
		t.Fatalf("whole listing: %+v %v", whole, err)
	}
	for _, limit := range []int{1, 2, 4} {
		var paths []string
		page := &PageArgs{Limit: limit}
		for {
			var ls LsResult
			if err := c.Call(&ls, "content_ls", s.CID, page); err != nil {
				t.Fatal(err)
			}
			for _, f := range ls.Files {
				paths = append(paths, f.Path)
			}
			// The same page over HTTP.
			resp, err := http.Get(fmt.Sprintf("http://%s%s%s?limit=%d&after=%s", n.HTTPAddr(), ContentPath, s.CID, limit, page.After))
			if err != nil {
				t.Fatal(err)
			}
			var hl LsResult
			json.NewDecoder(resp.Body).Decode(&hl)
			resp.Body.Close()
			if len(hl.Files) != len(ls.Files) || hl.Next != ls.Next {
				t.Fatalf("HTTP page %+v, RPC page %+v", hl, ls)
			}
			if ls.Next == "" {
				break
			}
			page.After = ls.Next
		}
		if len(paths) != 6 {
			t.Fatalf("limit %d: %d paths", limit, len(paths))
		}
		for i, p := range paths {
			if p != whole.Files[i].Path {
				t.Fatalf("limit %d: path %d is %s, want %s", limit, i, p, whole.Files[i].Path)
			}
		}
	}
	var entries []string
	page := &PageArgs{Limit: 1}
	for {
		var ep EntriesPage
		if err := c.Call(&ep, "snapshot_entries", s.CID, page); err != nil {
			t.Fatal(err)
		}
		for _, e := range ep.Entries {
			entries = append(entries, e.Contribution.String())
		}
		if ep.Next == "" {
			break
		}
		page.After = ep.Next
	}
	if len(entries) != 3 || !strings.HasPrefix(whole.Files[0].Path, entries[0]) || !strings.HasPrefix(whole.Files[5].Path, entries[2]) {
		t.Fatalf("entries %v, listing %v", entries, whole.Files)
	}
	err := c.Call(nil, "content_ls", s.CID, &PageArgs{After: "nonsense"})
	if de, ok := err.(interface{ ErrorData() any }); !ok || fmt.Sprint(de.ErrorData()) != "bad_request" {
		t.Fatalf("a bad cursor: %v", err)
	}
}
