package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openledger/openledger/daemon"
)

// TestDevnet runs the README's first command: the whole story on three
// nodes and an embedded dev chain, ending with bob's claim.
func TestDevnet(t *testing.T) {
	c := &cli{t: t, repo: filepath.Join(t.TempDir(), "unused")}
	out := c.ok("devnet", "--exit")
	for _, want := range []string{
		"snapshot_verify on carol: ok true",
		"attribution_attribute on alice: 3 spans",
		"attribution_verify on carol",
		"rewards_verify 1: the root recomputed",
		"rewards_claim for bob (a contributor): his OPEN balance 0 -> ",
		"done (--exit)",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("devnet output lacks %q:\n%s", want, out)
		}
	}
}

// TestE2EAttribution drives attribution through the CLI on one repo with
// no daemon: a snapshot, a model with an artifact, the index, a record and
// its verification, and the refusals.
func TestE2EAttribution(t *testing.T) {
	c := newCLI(t)
	var dn struct{ ID string }
	c.json(&dn, "datanet", "create", "texts")
	dir := t.TempDir()
	text := "the quick brown fox jumps over the lazy dog while the curators vote on every line of it\n" +
		"attribution credits the earliest accepted contribution that holds a span of the output\n"
	writeFile(t, filepath.Join(dir, "lines.txt"), []byte(text))
	var added addJSON
	c.json(&added, "add", dir, "--datanet", dn.ID)
	c.ok("curate", "vote", added.CID, "approve")
	var snap daemon.SnapshotView
	c.json(&snap, "snapshot", "cut", dn.ID)

	adapter := bytes.Repeat([]byte("lora weights "), 5000)
	apath := filepath.Join(t.TempDir(), "adapter.bin")
	writeFile(t, apath, adapter)
	var model daemon.ModelView
	c.json(&model, "model", "register", "fox-lora", "--base", "base-model", "--snapshot", snap.CID, "--artifact", apath)
	if len(model.Artifacts) != 1 || model.Snapshots[0].Indexed {
		t.Fatalf("model %+v", model)
	}
	out := filepath.Join(t.TempDir(), "model")
	c.ok("get", model.CID, "-o", out)
	if got, err := os.ReadFile(filepath.Join(out, "adapter.bin")); err != nil || !bytes.Equal(got, adapter) {
		t.Fatalf("artifact fetched by the model's CID differs: %v", err)
	}

	output := "as they say, attribution credits the earliest accepted contribution that holds a span of the output, and so on"
	c.fail("attribution index "+snap.CID, "attribute", "--model", model.CID, "--text", output)
	c.ok("attribution", "index", snap.CID)
	var rec daemon.AttributionView
	c.json(&rec, "attribute", "--model", model.CID, "--text", output, "--tokens-in", "100")
	if len(rec.Record.Spans) != 1 || !strings.Contains(rec.Texts[0], "earliest accepted contribution") || len(rec.Record.Weights) != 1 {
		t.Fatalf("record %+v texts %q", rec.Record, rec.Texts)
	}
	if v := c.ok("attribute", "verify", rec.CID); !strings.Contains(v, "OK record") {
		t.Fatalf("verify: %s", v)
	}
	if v := c.ok("attribute", "show", rec.CID); !strings.Contains(v, "payout contributor") {
		t.Fatalf("show: %s", v)
	}
	if ids := c.ok("attribution", "records", model.CID); strings.TrimSpace(ids) != rec.CID {
		t.Fatalf("records: %q", ids)
	}

	c.fail("empty", "attribute", "--model", model.CID, "--text", "   ")
	c.fail("exactly one of --text and --file", "attribute", "--model", model.CID)
	c.fail("model", "attribute", "--model", snap.CID, "--text", output)
	big := filepath.Join(t.TempDir(), "big.txt")
	writeFile(t, big, bytes.Repeat([]byte("x"), 70000))
	c.fail("at most 65536", "attribute", "--model", model.CID, "--file", big)
	if p := c.ok("rewards", "params"); !strings.Contains(p, "contributors: 6000 bps") {
		t.Fatalf("rewards params: %s", p)
	}
	c.fail("no rewards distributor", "rewards", "epoch", "close")
}
