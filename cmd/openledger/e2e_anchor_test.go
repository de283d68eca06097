package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/internal/gethtest"
)

// TestE2EAnchorGeth: a daemon configured with a real geth --dev endpoint
// anchors what it makes; `proofs verify` checks a proof through the node,
// and again from the proof file alone against the chain, with no repo.
func TestE2EAnchorGeth(t *testing.T) {
	dev := gethtest.Start(t)
	c := newCLI(t)
	cfgPath := filepath.Join(c.repo, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, []byte(strings.Replace(string(cfg), "rpc = 'none'", "rpc = '"+dev.IPC+"'", 1)))
	var id daemon.IDResult
	c.json(&id, "id")
	dev.Fund(t, common.HexToAddress(id.Account), 1)
	c.startDaemon()
	if out := c.ok("chain", "deploy"); !strings.Contains(out, "anchoring: true") {
		t.Fatalf("chain deploy: %s", out)
	}
	if out := c.ok("chain", "status"); !strings.Contains(out, "deployed: true") {
		t.Fatalf("chain status: %s", out)
	}

	dn := strings.TrimSpace(c.ok("datanet", "create", "anchored"))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("anchored text\n"))
	var added daemon.AddResult
	c.json(&added, "add", filepath.Join(dir, "a.txt"), "--datanet", dn)
	var st daemon.AnchorStatusView
	c.json(&st, "anchor", "flush")
	if st.Anchored != 2 || st.Queued != 0 || st.InFlight != 0 {
		t.Fatalf("after flush: %+v", st)
	}
	if out := c.ok("proofs", "verify", added.CID); !strings.HasPrefix(out, "OK "+added.CID) {
		t.Fatalf("proofs verify: %s", out)
	}
	// The proof file alone, checked against the chain by anyone.
	proof := c.ok("proofs", "show", added.CID, "--json")
	proofPath := filepath.Join(dir, "proof.json")
	writeFile(t, proofPath, []byte(proof))
	nobody := &cli{t: t, repo: filepath.Join(t.TempDir(), "no-repo")}
	if out := nobody.ok("proofs", "verify", "--file", proofPath, "--chain-rpc", dev.IPC); !strings.HasPrefix(out, "OK "+added.CID) {
		t.Fatalf("proofs verify --file: %s", out)
	}
	// A tampered proof fails, with a non-zero exit.
	tampered := strings.Replace(proof, `"blockNumber": `, `"blockNumber": 1`, 1)
	if tampered == proof {
		t.Fatalf("no blockNumber in %s", proof)
	}
	writeFile(t, proofPath, []byte(tampered))
	nobody.fail("", "proofs", "verify", "--file", proofPath, "--chain-rpc", dev.IPC)
	// An object that is not the one the proof names.
	writeFile(t, proofPath, []byte(proof))
	other := filepath.Join(dir, "other.cbor")
	writeFile(t, other, []byte("not the object"))
	nobody.fail("the proof is for", "proofs", "verify", "--file", proofPath, "--chain-rpc", dev.IPC, "--object", other)
}

// TestE2EAnchorKill9: the daemon is killed with SIGKILL while it anchors
// (the flush may be before, during or after sending the transaction);
// after a restart nothing queued is lost and nothing is anchored twice.
func TestE2EAnchorKill9(t *testing.T) {
	dev := gethtest.Start(t)
	registry := dev.DeployAnchorRegistry(t)
	c := newCLI(t)
	cfgPath := filepath.Join(c.repo, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The endpoint comes from the daemon's --chain-rpc, the registry from
	// the config.
	writeFile(t, cfgPath, []byte(strings.Replace(string(cfg), "anchor_registry = ''", "anchor_registry = '"+registry.Hex()+"'", 1)))
	var id daemon.IDResult
	c.json(&id, "id")
	dev.Fund(t, common.HexToAddress(id.Account), 1)

	for round := range 3 {
		_, d := c.startDaemon("--chain-rpc", dev.IPC)
		dn := strings.TrimSpace(c.ok("datanet", "create", fmt.Sprintf("round %d", round)))
		flush := c.cmd("anchor", "flush")
		if err := flush.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(round*150) * time.Millisecond) // before, around and after the send
		d.Process.Signal(syscall.SIGKILL)
		<-c.daemonDone
		flush.Wait()
		_ = dn
		// The killed daemon left its api file; the harness waits for the
		// next daemon's.
		os.Remove(filepath.Join(c.repo, daemon.APIFile))
	}
	c.startDaemon("--chain-rpc", dev.IPC)
	var st daemon.AnchorStatusView
	c.json(&st, "anchor", "flush")
	if st.Anchored != 3 || st.Queued != 0 || st.InFlight != 0 {
		t.Fatalf("after the kills and a flush: %+v, want 3 anchored", st)
	}
	items := dev.AnchoredItems(t, registry)
	if items != 3 {
		t.Fatalf("%d items anchored on chain, want exactly 3 (one per Datanet)", items)
	}
}
