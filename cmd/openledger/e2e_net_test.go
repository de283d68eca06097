package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openledger/openledger/daemon"
)

// TestE2ENetwork runs three daemon processes on loopback: a contribution
// added on one is announced to the others, and both get byte-identical files.
func TestE2ENetwork(t *testing.T) {
	nodes := []*cli{newCLI(t), newCLI(t), newCLI(t)}
	ids := make([]daemon.IDResult, 3)
	for i, c := range nodes {
		c.startDaemon("--listen", "/ip4/127.0.0.1/tcp/0")
		c.json(&ids[i], "id")
		if len(ids[i].Addrs) == 0 || !strings.Contains(ids[i].Addrs[0], "/p2p/"+ids[i].PeerID) {
			t.Fatalf("node %d addrs %v", i, ids[i].Addrs)
		}
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	b.ok("connect", ids[0].Addrs[0])
	c.ok("connect", ids[1].Addrs[0])
	var peers []daemon.PeerView
	b.json(&peers, "peers")
	if len(peers) < 2 {
		t.Fatalf("b has %d peers, want a and c", len(peers))
	}

	var dn struct{ ID string }
	a.json(&dn, "datanet", "create", "e2e-net", "--license", "CC0-1.0")
	c.ok("datanet", "join", dn.ID)
	dir, files := dataset(t)
	var added addJSON
	a.json(&added, "add", dir, "--datanet", dn.ID)

	// c joined: the contribution reaches it by gossip or sync.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var show daemon.DatanetDetail
		out, _, code := c.run("datanet", "show", dn.ID, "--json")
		if code == 0 && json.Unmarshal([]byte(out), &show) == nil &&
			slices.ContainsFunc(show.Contributions, func(ci daemon.ContributionInfo) bool { return ci.CID == added.CID }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("contribution %s never reached node c", added.CID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// b never joined: it finds the contribution through the DHT and fetches it.
	var provs []daemon.ProviderView
	b.json(&provs, "providers", added.CID)
	if !slices.ContainsFunc(provs, func(p daemon.ProviderView) bool { return p.ID == ids[0].PeerID }) {
		t.Fatalf("providers of %s: %v, want node a %s", added.CID, provs, ids[0].PeerID)
	}
	checkGet(t, b, added.CID, files)
	checkGet(t, c, added.CID, files)

	// A CID nobody has: a clear "not found" after a bounded time.
	start := time.Now()
	missing := "bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
	b.fail("not found", "get", missing, "-o", filepath.Join(t.TempDir(), "none"))
	if took := time.Since(start); took > 90*time.Second {
		t.Fatalf("not found took %s", took)
	}
}
