package main

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/daemon"
)

// TestE2ECurate runs the curation flow a Datanet owner and an outside
// curator with a wallet go through, directly on the repo and through a
// daemon: create a Datanet with two curators, vote with the operator
// account and with an external key on typed data, cut a snapshot, verify
// it, read it back, and change the policy.
func TestE2ECurate(t *testing.T) {
	for _, mode := range []string{"offline", "daemon"} {
		t.Run(mode, func(t *testing.T) { testCurate(t, mode == "daemon") })
	}
}

func testCurate(t *testing.T, withDaemon bool) {
	c := newCLI(t)
	if withDaemon {
		c.startDaemon()
	}
	var id daemon.IDResult
	c.json(&id, "id")
	operator := common.HexToAddress(id.Account)
	external := newKey(t)
	externalAddr := crypto.PubkeyToAddress(external.PublicKey)
	stranger := newKey(t)
	strangerAddr := crypto.PubkeyToAddress(stranger.PublicKey)

	var dn struct{ ID string }
	c.json(&dn, "datanet", "create", "curated", "--curator", operator.Hex(),
		"--curator", externalAddr.Hex()+":1", "--quorum", "2", "--threshold", "50%", "--window", "7d")
	show := c.ok("datanet", "show", dn.ID)
	for _, want := range []string{"version:     0", "curators:    2, total weight 2", operator.Hex() + "  weight 1 (owner)",
		externalAddr.Hex() + "  weight 1", "quorum:      2", "threshold:   50% ", "window:      7d"} {
		if !strings.Contains(show, want) {
			t.Fatalf("datanet show lacks %q:\n%s", want, show)
		}
	}

	dir, files := dataset(t)
	var first addJSON
	c.json(&first, "add", dir, "--datanet", dn.ID)
	notes := filepath.Join(t.TempDir(), "notes")
	writeFile(t, filepath.Join(notes, "notes.txt"), []byte("line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\n"))
	var second addJSON
	c.json(&second, "add", notes, "--datanet", dn.ID)

	// The operator approves the first contribution: one vote of quorum 2.
	out := c.ok("curate", "vote", first.CID, "approve", "--reason", "clean text")
	if !strings.Contains(out, "pending") || !strings.Contains(out, "cast 1 of quorum 2") {
		t.Fatalf("curate vote:\n%s", out)
	}
	c.fail("no accepted contribution", "snapshot", "cut", dn.ID)

	// The external curator signs typed data in a wallet and submits it.
	doc := c.ok("curate", "typed-data", first.CID, "approve", "--curator", externalAddr.Hex(), "--reason", "read it all")
	if !json.Valid([]byte(doc)) || !strings.HasPrefix(doc, "{") {
		t.Fatalf("curate typed-data printed more than the JSON document:\n%s", doc)
	}
	voteFile := filepath.Join(t.TempDir(), "vote.json")
	writeFile(t, voteFile, []byte(doc))
	var submitted daemon.VoteResult
	c.json(&submitted, "curate", "submit", "--typed-data", voteFile, "--signature", hexutil.Encode(signTypedData(t, []byte(doc), external)))
	if submitted.CID == "" || submitted.Vote.Curator != externalAddr || submitted.Tally.Status != curation.Accepted || submitted.Tally.Approve != 2 {
		t.Fatalf("curate submit: %+v", submitted)
	}
	show = c.ok("curate", "show", first.CID)
	for _, want := range []string{"status:       accepted", "cast:         2 of quorum 2", operator.Hex(), externalAddr.Hex(), `"read it all"`} {
		if !strings.Contains(show, want) {
			t.Fatalf("curate show lacks %q:\n%s", want, show)
		}
	}

	// Votes not signed by a curator are refused, and nothing is stored.
	doc2 := c.ok("curate", "typed-data", second.CID, "reject", "--curator", externalAddr.Hex())
	file2 := filepath.Join(t.TempDir(), "vote2.json")
	writeFile(t, file2, []byte(doc2))
	c.fail("signed by "+strangerAddr.Hex(), "curate", "submit", "--typed-data", file2,
		"--signature", hexutil.Encode(signTypedData(t, []byte(doc2), stranger)))
	forged := retypeCurator(t, doc2, strangerAddr)
	file3 := filepath.Join(t.TempDir(), "vote3.json")
	writeFile(t, file3, forged)
	c.fail("not a curator", "curate", "submit", "--typed-data", file3,
		"--signature", hexutil.Encode(signTypedData(t, forged, stranger)))
	c.fail("not a curator", "curate", "typed-data", second.CID, "approve", "--curator", strangerAddr.Hex())
	c.fail("want approve or reject", "curate", "vote", second.CID, "maybe")
	c.fail("is not JSON", "curate", "submit", "--typed-data", filepath.Join(dir, "a.txt"), "--signature", "0x00")
	var status daemon.StatusResult
	c.json(&status, "curate", "status", dn.ID)
	if status.Votes != 2 || status.Counts["accepted"] != 1 || status.Counts["pending"] != 1 {
		t.Fatalf("curate status: %+v", status)
	}

	// The second contribution waits, with a preview of its first lines.
	pending := c.ok("curate", "pending", dn.ID)
	if !strings.Contains(pending, second.CID) || strings.Contains(pending, first.CID) ||
		!strings.Contains(pending, "notes/notes.txt  txt") ||
		!strings.Contains(pending, "      line 1\n      line 2\n") || strings.Contains(pending, "line 6") {
		t.Fatalf("curate pending:\n%s", pending)
	}

	// A snapshot holds the accepted contribution and reads back as one
	// directory per contribution.
	c.fail("not a datanet", "snapshot", "cut", second.CID)
	snap := strings.TrimSpace(c.ok("snapshot", "cut", dn.ID))
	if verify := c.ok("snapshot", "verify", snap); !strings.HasPrefix(verify, "OK snapshot "+snap) {
		t.Fatalf("snapshot verify:\n%s", verify)
	}
	if list := c.ok("snapshot", "list", dn.ID); !strings.Contains(list, snap) {
		t.Fatalf("snapshot list lacks %s:\n%s", snap, list)
	}
	if s := c.ok("snapshot", "show", snap); !strings.Contains(s, first.CID) || strings.Contains(s, second.CID) {
		t.Fatalf("snapshot show:\n%s", s)
	}
	c.fail("want snapshot", "snapshot", "verify", first.CID)
	got := filepath.Join(t.TempDir(), "snapshot")
	c.ok("get", snap, "-o", got)
	entries, err := os.ReadDir(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != first.CID {
		t.Fatalf("get %s wrote %v, want one directory %s", snap, entries, first.CID)
	}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(got, first.CID, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("get %s: %s differs from the input (%v)", snap, name, err)
		}
	}

	// The owner removes the external curator: version 1, one curator.
	c.fail("nothing to update", "datanet", "update", dn.ID)
	c.fail("not a curator", "datanet", "update", dn.ID, "--remove-curator", strangerAddr.Hex())
	if out := c.ok("datanet", "update", dn.ID, "--remove-curator", externalAddr.Hex(), "--quorum", "1"); !strings.Contains(out, "version 1") {
		t.Fatalf("datanet update: %s", out)
	}
	show = c.ok("datanet", "show", dn.ID)
	if !strings.Contains(show, "version:     1") || !strings.Contains(show, "curators:    1, total weight 1") ||
		!strings.Contains(show, "quorum:      1") || strings.Contains(show, externalAddr.Hex()) ||
		!strings.Contains(show, "window:      7d") {
		t.Fatalf("datanet show after update:\n%s", show)
	}
	// The removed curator's vote no longer counts; the snapshot, cut under
	// version 0, still verifies.
	var tally daemon.TallyView
	c.json(&tally, "curate", "show", first.CID)
	if tally.Status != curation.Accepted || tally.Cast != 1 || len(tally.Ignored) != 1 ||
		tally.Ignored[0].Reason != curation.NotCurator || tally.Ignored[0].Vote.Curator != externalAddr {
		t.Fatalf("curate show after the update: %+v", tally)
	}
	c.ok("snapshot", "verify", snap)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signTypedData signs an EIP-712 document as a wallet's
// eth_signTypedData_v4 does: the digest of the typed data, V 27 or 28.
func signTypedData(t *testing.T, doc []byte, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	var td apitypes.TypedData
	if err := json.Unmarshal(doc, &td); err != nil {
		t.Fatalf("typed data: %v\n%s", err, doc)
	}
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := crypto.Sign(hash, key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return sig
}

// retypeCurator returns doc with another curator in its message.
func retypeCurator(t *testing.T, doc string, curator common.Address) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	m["message"].(map[string]any)["curator"] = curator.Hex()
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCurateFlagParsing(t *testing.T) {
	thresholds := []struct {
		in   string
		bps  uint32
		fail string
	}{
		{"0.5", 5000, ""},
		{"0.67", 6700, ""},
		{"67%", 6700, ""},
		{" 50.01 % ", 5001, ""},
		{"1", 10000, ""},
		{"100%", 10000, ""},
		{"0.00005", 1, ""},
		{"0", 0, "above 0"},
		{"-0.5", 0, "above 0"},
		{"1.01", 0, "at most 1"},
		{"67", 0, "write 67%"},
		{"101%", 0, "at most 1"},
		{"0.00001", 0, "below 0.01%"},
		{"NaN", 0, "want a fraction"},
		{"two thirds", 0, "want a fraction"},
	}
	for _, tt := range thresholds {
		t.Run("threshold="+tt.in, func(t *testing.T) {
			bps, err := parseThreshold(tt.in)
			checkParse(t, err, tt.fail)
			if err == nil && bps != tt.bps {
				t.Fatalf("parseThreshold(%q) = %d, want %d", tt.in, bps, tt.bps)
			}
		})
	}
	windows := []struct {
		in   string
		secs uint64
		fail string
	}{
		{"0", 0, ""},
		{"7d", 7 * 86400, ""},
		{"72h", 72 * 3600, ""},
		{"1h30m", 5400, ""},
		{"36500d", 36500 * 86400, ""},
		{"36501d", 0, "longer than"},
		{"1.5s", 0, "whole number of seconds"},
		{"-1h", 0, "negative"},
		{"-1d", 0, "want a duration"},
		{"1w", 0, "want a duration"},
	}
	for _, tt := range windows {
		t.Run("window="+tt.in, func(t *testing.T) {
			secs, err := parseWindow(tt.in)
			checkParse(t, err, tt.fail)
			if err == nil {
				if secs != tt.secs {
					t.Fatalf("parseWindow(%q) = %d, want %d", tt.in, secs, tt.secs)
				}
				if again, err := parseWindow(strings.Fields(formatWindow(secs))[0]); secs > 0 && (err != nil || again != secs) {
					t.Fatalf("formatWindow(%d) = %q does not read back: %d, %v", secs, formatWindow(secs), again, err)
				}
			}
		})
	}
	addr := "0x00000000000000000000000000000000000000aa"
	curators := []struct {
		in     string
		weight uint64
		fail   string
	}{
		{addr, 1, ""},
		{addr + ":3", 3, ""},
		{addr + ":0", 0, "not a positive integer"},
		{addr + ":x", 0, "not a positive integer"},
		{"0x12:3", 0, "not an address"},
		{"alice", 0, "not an address"},
	}
	for _, tt := range curators {
		t.Run("curator="+tt.in, func(t *testing.T) {
			c, err := parseCurator(tt.in)
			checkParse(t, err, tt.fail)
			if err == nil && (c.Weight != tt.weight || c.Address != common.HexToAddress(addr)) {
				t.Fatalf("parseCurator(%q) = %+v", tt.in, c)
			}
		})
	}
	for secs, want := range map[uint64]string{0: "none", 86400: "1d", 36 * 3600: "36h", 5400: "1h30m", 90: "1m30s", 10: "10s", 3610: "1h0m10s"} {
		if got := formatWindow(secs); !strings.HasPrefix(got, want) {
			t.Errorf("formatWindow(%d) = %q, want %q", secs, got, want)
		}
	}
	for bps, want := range map[uint32]string{5001: "50.01%", 6700: "67%", 10000: "100%", 1: "0.01%"} {
		if got := formatBps(bps); got != want {
			t.Errorf("formatBps(%d) = %q, want %q", bps, got, want)
		}
	}
}

func checkParse(t *testing.T, err error, fail string) {
	t.Helper()
	switch {
	case fail == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case fail != "" && err == nil:
		t.Fatalf("no error, want one containing %q", fail)
	case fail != "" && !strings.Contains(err.Error(), fail):
		t.Fatalf("error %q, want one containing %q", err, fail)
	}
}
