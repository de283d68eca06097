package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/storage"
)

// TestE2EObjectAndDevChain: a daemon on the embedded dev chain anchors a
// contribution; `object get --raw` gives bytes that hash to its CID,
// `object get --typed-data` a document whose signature recovers the
// contributor, and anyone checks the proof file and those bytes against
// `chain rpc-url`, with no repo.
func TestE2EObjectAndDevChain(t *testing.T) {
	c := newCLI(t)
	cfgPath := filepath.Join(c.repo, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, []byte(strings.Replace(string(cfg), "rpc = 'none'", "rpc = ''", 1)))
	var id daemon.IDResult
	c.json(&id, "id")
	c.startDaemon()

	dn := strings.TrimSpace(c.ok("datanet", "create", "objects"))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("bytes you can check\n"))
	var added daemon.AddResult
	c.json(&added, "add", filepath.Join(dir, "a.txt"), "--datanet", dn, "--license", "CC0-1.0", "--meta", "source=e2e")
	c.ok("anchor", "flush")

	raw := c.ok("object", "get", added.CID, "--raw")
	kc, err := cid.Decode(added.CID)
	if err != nil {
		t.Fatal(err)
	}
	if got := storage.ObjectCID(cid.DagCBOR, []byte(raw)); !got.Equals(kc) {
		t.Fatalf("object get --raw: %d bytes hash to %s, not %s", len(raw), got, kc)
	}
	if fields := c.ok("object", "get", added.CID); !strings.Contains(fields, `"license": "CC0-1.0"`) ||
		!strings.Contains(fields, `"source": "e2e"`) || !strings.Contains(fields, `"signature": "0x`) {
		t.Fatalf("object get: %s", fields)
	}
	var doc daemon.SignedTypedData
	if err := json.Unmarshal([]byte(c.ok("object", "get", added.CID, "--typed-data")), &doc); err != nil {
		t.Fatal(err)
	}
	var td apitypes.TypedData
	docJSON, _ := json.Marshal(doc)
	if err := json.Unmarshal(docJSON, &td); err != nil {
		t.Fatal(err)
	}
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig := bytes.Clone(doc.Signature)
	sig[64] -= 27
	pub, err := crypto.SigToPub(hash, sig)
	if err != nil || crypto.PubkeyToAddress(*pub) != common.HexToAddress(id.Account) {
		t.Fatalf("the typed data's signature recovers %v (%v), want %s", pub, err, id.Account)
	}

	rpcURL := strings.TrimSpace(c.ok("chain", "rpc-url"))
	if !strings.HasSuffix(rpcURL, daemon.ChainRPCPath) {
		t.Fatalf("chain rpc-url: %q", rpcURL)
	}
	proofPath, objPath := filepath.Join(dir, "proof.json"), filepath.Join(dir, "object.cbor")
	writeFile(t, proofPath, []byte(c.ok("proofs", "show", added.CID, "--json")))
	writeFile(t, objPath, []byte(raw))
	nobody := &cli{t: t, repo: filepath.Join(t.TempDir(), "no-repo")}
	if out := nobody.ok("proofs", "verify", "--file", proofPath, "--chain-rpc", rpcURL, "--object", objPath); !strings.HasPrefix(out, "OK "+added.CID) {
		t.Fatalf("proofs verify --chain-rpc %s: %s", rpcURL, out)
	}
}
