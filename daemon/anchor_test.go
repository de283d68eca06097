package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/gethtest"
	"github.com/openledger/openledger/proofs"
)

// TestAnchorOnGeth: a node configured with a real geth --dev endpoint and a
// deployed registry anchors the objects it makes; their proofs verify
// against the chain.
func TestAnchorOnGeth(t *testing.T) {
	dev := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	registry := dev.DeployAnchorRegistry(t)

	n, _ := testNodeOpts(t, func(c *Config) {
		c.Chain.ID = dev.ChainID.Uint64()
		c.Chain.RPC = dev.IPC
		c.Chain.AnchorRegistry = registry.Hex()
	}, Options{Version: "test", AnchorInterval: time.Hour})
	p := testPeer{n: n, rpc: n.InProc()}
	defer p.rpc.Close()
	dev.Fund(t, p.account(t), 1)
	var cs ChainStatus
	if err := p.rpc.Call(&cs, "chain_status"); err != nil {
		t.Fatal(err)
	}
	if cs.ChainID != dev.ChainID.Uint64() || cs.Head == 0 || cs.Balance != "1000000000000000000" || !cs.RegistryDeployed {
		t.Fatalf("chain_status = %+v", cs)
	}

	var dn DatanetView
	if err := p.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "anchored"}); err != nil {
		t.Fatal(err)
	}
	k := p.addText(t, dn.ID, "a.txt", "anchored text\n")
	var st AnchorStatusView
	if err := p.rpc.Call(&st, "anchor_status"); err != nil || !st.Enabled || st.Queued != 2 {
		t.Fatalf("status before flush: %+v %v, want 2 queued", st, err)
	}
	if err := p.rpc.CallContext(ctx, &st, "anchor_flush"); err != nil || st.Anchored != 2 || st.Queued != 0 {
		t.Fatalf("flush: %+v %v, want 2 anchored", st, err)
	}
	for _, c := range []string{dn.ID, k} {
		var proof proofs.AnchorProof
		if err := p.rpc.CallContext(ctx, &proof, "proofs_verify", c); err != nil {
			t.Fatalf("verify %s: %v", c, err)
		}
		if proof.ChainID != dev.ChainID.Uint64() || proof.Contract != registry || proof.BlockNumber == 0 {
			t.Fatalf("proof of %s: %+v", c, proof)
		}
		// Anyone can check it against the chain with the proof alone.
		if !proof.Verify() {
			t.Fatalf("proof of %s does not walk to its root", c)
		}
		if err := proof.VerifyOnChain(ctx, dev.Client); err != nil {
			t.Fatalf("proof of %s on chain: %v", c, err)
		}
	}
	// A tampered object (its id), path or root is refused by
	// proofs_check, against the chain; the untouched proof passes.
	var proof proofs.AnchorProof
	if err := p.rpc.Call(&proof, "proofs_show", k); err != nil {
		t.Fatal(err)
	}
	if err := p.rpc.CallContext(ctx, new(proofs.AnchorProof), "proofs_check", proof); err != nil {
		t.Fatalf("the untouched proof: %v", err)
	}
	tampered := map[string]func(*proofs.AnchorProof){
		"object": func(q *proofs.AnchorProof) { q.ID = mustParse(t, dn.ID).Bytes() },
		"leaf":   func(q *proofs.AnchorProof) { q.Leaf = proofs.Hash(common.HexToHash("0x01")) },
		"path": func(q *proofs.AnchorProof) {
			q.Path = append([]proofs.Hash{proofs.Hash(common.HexToHash("0x02"))}, q.Path...)
		},
		"root":  func(q *proofs.AnchorProof) { q.Root[0] ^= 1 },
		"block": func(q *proofs.AnchorProof) { q.BlockNumber++ },
		"chain": func(q *proofs.AnchorProof) { q.ChainID++ },
	}
	for name, change := range tampered {
		q := proof
		q.Path = append([]proofs.Hash(nil), proof.Path...)
		change(&q)
		if err := p.rpc.CallContext(ctx, new(proofs.AnchorProof), "proofs_check", q); err == nil {
			t.Errorf("a proof with a tampered %s checks", name)
		}
	}
	// Something never made here has no proof.
	err := p.rpc.Call(&proof, "proofs_show", mustParse(t, k).String()[:10]+"x")
	if err == nil {
		t.Fatal("proofs_show of a bad CID succeeded")
	}
	other := "bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi" // an object CID this node never made
	if err := p.rpc.Call(&proof, "proofs_show", other); fmt.Sprint(errData(err)) != "not_anchored" {
		t.Fatalf("proofs_show of an object never queued: %v", err)
	}
}

func errData(err error) any {
	if de, ok := err.(interface{ ErrorData() interface{} }); ok {
		return de.ErrorData()
	}
	return err
}

// TestChainDeployOnGeth: chain_deploy deploys the contracts with the
// operator account, writes their addresses to the config, and the node
// starts anchoring at once.
func TestChainDeployOnGeth(t *testing.T) {
	dev := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, repo := testNodeOpts(t, func(c *Config) {
		c.Chain.ID = dev.ChainID.Uint64()
		c.Chain.RPC = dev.IPC
	}, Options{Version: "test", AnchorInterval: time.Hour})
	p := testPeer{n: n, rpc: n.InProc()}
	defer p.rpc.Close()
	var st AnchorStatusView
	if err := p.rpc.Call(&st, "anchor_status"); err != nil || st.Enabled {
		t.Fatalf("status before deploy: %+v %v", st, err)
	}
	var res DeployResult
	if err := p.rpc.CallContext(ctx, &res, "chain_deploy", DeployArgs{}); err == nil {
		t.Fatal("deploy from an account without funds succeeded")
	}
	dev.Fund(t, p.account(t), 1)
	if err := p.rpc.CallContext(ctx, &res, "chain_deploy", DeployArgs{}); err != nil {
		t.Fatal(err)
	}
	if !res.Anchoring || !res.TokenDeployed || res.GasUsed == 0 {
		t.Fatalf("deploy: %+v", res)
	}
	saved, err := LoadConfig(repo.Path(ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Chain.AnchorRegistry != res.AnchorRegistry || saved.Chain.RewardsDistributor != res.RewardsDistributor {
		t.Fatalf("config holds %+v, deploy said %+v", saved.Chain, res)
	}
	var dn DatanetView
	if err := p.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "deployed"}); err != nil {
		t.Fatal(err)
	}
	if err := p.rpc.CallContext(ctx, &st, "anchor_flush"); err != nil || st.Anchored != 1 {
		t.Fatalf("flush: %+v %v", st, err)
	}
	var proof proofs.AnchorProof
	if err := p.rpc.CallContext(ctx, &proof, "proofs_verify", dn.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("deployed the three contracts for %d gas; %s anchored in block %d", res.GasUsed, dn.ID, proof.BlockNumber)
}

// TestEmbeddedDevChain: with chain.rpc empty (the default), a node runs the
// embedded dev chain, deploys the contracts at first start, and anchors
// with no setup; after a restart the chain and the proofs are still there.
func TestEmbeddedDevChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	cfg, _ := ProfileConfig("test")
	cfg.Chain.RPC = "" // the default profile's embedded dev chain
	if _, err := InitRepo(dir, InitOptions{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	start := func() (*Node, *Repo, testPeer) {
		repo, err := OpenRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNode(repo, Options{Version: "test", AnchorInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		return n, repo, testPeer{n: n, rpc: n.InProc()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A Datanet made by an offline command, before any daemon ran.
	offline := func() string {
		repo, err := OpenRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer repo.Close()
		n, err := NewNode(repo, Options{Version: "test", Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		c := n.InProc()
		defer c.Close()
		var dn DatanetView
		if err := c.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "made offline"}); err != nil {
			t.Fatal(err)
		}
		return dn.ID
	}()
	n, repo, p := start()
	if repo.Config.Chain.AnchorRegistry == "" || repo.Config.Chain.RewardsDistributor == "" {
		t.Fatalf("contracts not deployed at first start: %+v", repo.Config.Chain)
	}
	var cs ChainStatus
	if err := p.rpc.Call(&cs, "chain_status"); err != nil || cs.ChainID != 1337 || !cs.RegistryDeployed {
		t.Fatalf("chain_status = %+v, %v", cs, err)
	}
	var dn DatanetView
	if err := p.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "embedded"}); err != nil {
		t.Fatal(err)
	}
	var st AnchorStatusView
	waitFor(t, 30*time.Second, "the offline Datanet queued at start", func() bool {
		return p.rpc.Call(&st, "anchor_status") == nil && st.Queued+st.InFlight+st.Anchored == 2
	})
	if err := p.rpc.CallContext(ctx, &st, "anchor_flush"); err != nil || st.Anchored != 2 {
		t.Fatalf("flush: %+v %v", st, err)
	}
	if err := p.rpc.CallContext(ctx, new(proofs.AnchorProof), "proofs_verify", offline); err != nil {
		t.Fatalf("the offline Datanet: %v", err)
	}
	var before proofs.AnchorProof
	if err := p.rpc.CallContext(ctx, &before, "proofs_verify", dn.ID); err != nil {
		t.Fatal(err)
	}
	registry := repo.Config.Chain.AnchorRegistry
	p.rpc.Close()
	n.Close()
	repo.Close()

	n, repo, p = start()
	defer repo.Close()
	defer n.Close()
	defer p.rpc.Close()
	if repo.Config.Chain.AnchorRegistry != registry {
		t.Fatalf("registry after restart %s, was %s", repo.Config.Chain.AnchorRegistry, registry)
	}
	var after proofs.AnchorProof
	if err := p.rpc.CallContext(ctx, &after, "proofs_verify", dn.ID); err != nil {
		t.Fatalf("proof after restart: %v", err)
	}
	if after.BlockNumber != before.BlockNumber || after.Root != before.Root {
		t.Fatalf("proof changed across a restart: %+v vs %+v", after, before)
	}
}

// TestThreeNodesAnchorOnGeth: three nodes anchor on one geth --dev; each
// checks the others' proofs against the chain.
func TestThreeNodesAnchorOnGeth(t *testing.T) {
	dev := gethtest.Start(t)
	registry := dev.DeployAnchorRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var nodes []testPeer
	var made []string
	for i := range 3 {
		n, _ := testNodeOpts(t, func(c *Config) {
			c.Chain.ID = dev.ChainID.Uint64()
			c.Chain.RPC = dev.IPC
			c.Chain.AnchorRegistry = registry.Hex()
		}, Options{Version: "test", AnchorInterval: time.Hour})
		p := testPeer{n: n, rpc: n.InProc()}
		t.Cleanup(p.rpc.Close)
		dev.Fund(t, p.account(t), 1)
		var dn DatanetView
		if err := p.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: fmt.Sprintf("node %d", i)}); err != nil {
			t.Fatal(err)
		}
		nodes, made = append(nodes, p), append(made, dn.ID)
	}
	proofsOf := make([]proofs.AnchorProof, len(nodes))
	for i, p := range nodes {
		var st AnchorStatusView
		if err := p.rpc.CallContext(ctx, &st, "anchor_flush"); err != nil || st.Anchored != 1 {
			t.Fatalf("node %d flush: %+v %v", i, st, err)
		}
		if err := p.rpc.Call(&proofsOf[i], "proofs_show", made[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range nodes {
		for j, proof := range proofsOf {
			var got proofs.AnchorProof
			if err := p.rpc.CallContext(ctx, &got, "proofs_check", proof); err != nil {
				t.Fatalf("node %d checking node %d's proof: %v", i, j, err)
			}
		}
	}
	// A proof moved to another block, or naming another object, fails.
	bad := proofsOf[0]
	bad.BlockNumber++
	if err := nodes[1].rpc.CallContext(ctx, new(proofs.AnchorProof), "proofs_check", bad); err == nil {
		t.Fatal("a proof with the wrong block checks")
	}
	bad = proofsOf[0]
	bad.ID = proofsOf[1].ID
	if err := nodes[2].rpc.CallContext(ctx, new(proofs.AnchorProof), "proofs_check", bad); fmt.Sprint(errData(err)) != "anchor_mismatch" {
		t.Fatalf("a proof naming another object: %v", err)
	}
}

// TestAnchorChainDown: the chain endpoint is stopped while objects are
// queued; nothing is lost, and once it is back every object is anchored
// exactly once.
func TestAnchorChainDown(t *testing.T) {
	dev := gethtest.Start(t)
	registry := dev.DeployAnchorRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, _ := testNodeOpts(t, func(c *Config) {
		c.Chain.ID = dev.ChainID.Uint64()
		c.Chain.RPC = dev.IPC
		c.Chain.AnchorRegistry = registry.Hex()
	}, Options{Version: "test", AnchorInterval: 200 * time.Millisecond})
	p := testPeer{n: n, rpc: n.InProc()}
	defer p.rpc.Close()
	dev.Fund(t, p.account(t), 1)

	dev.Stop()
	var dn DatanetView
	if err := p.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "outage"}); err != nil {
		t.Fatal(err)
	}
	k := p.addText(t, dn.ID, "a.txt", "made while the chain was down\n")
	var st AnchorStatusView
	waitFor(t, 30*time.Second, "the anchorer to meet the dead chain", func() bool {
		return p.rpc.Call(&st, "anchor_status") == nil && st.LastError != ""
	})
	if st.Anchored != 0 || st.Queued+st.InFlight != 2 {
		t.Fatalf("while the chain is down: %+v, want 2 queued or in flight", st)
	}

	dev.Restart(t)
	waitFor(t, 90*time.Second, "both objects anchored after the chain came back", func() bool {
		return p.rpc.Call(&st, "anchor_status") == nil && st.Anchored == 2
	})
	for _, c := range []string{dn.ID, k} {
		if err := p.rpc.CallContext(ctx, new(proofs.AnchorProof), "proofs_verify", c); err != nil {
			t.Fatalf("verify %s: %v", c, err)
		}
	}
	items := dev.AnchoredItems(t, registry)
	if items != 2 {
		t.Fatalf("%d items anchored on chain, want exactly 2", items)
	}
}
