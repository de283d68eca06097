package daemon

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// recoverTypedData returns the account that signed a SignedTypedData, as a
// verifier who has only the document would find it: go-ethereum's apitypes
// hashes the document as eth_signTypedData_v4 did.
func recoverTypedData(t *testing.T, d *SignedTypedData) common.Address {
	t.Helper()
	doc, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var td apitypes.TypedData
	if err := json.Unmarshal(doc, &td); err != nil {
		t.Fatalf("the document is not eth_signTypedData_v4 JSON: %v\n%s", err, doc)
	}
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig := bytes.Clone(d.Signature)
	if len(sig) != 65 {
		t.Fatalf("signature of %d bytes", len(sig))
	}
	if sig[64] >= 27 {
		sig[64] -= 27
	}
	pub, err := crypto.SigToPub(hash, sig)
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(*pub)
}

// TestObjectBytes: a contribution's exact bytes come over HTTP as an IPLD
// block (?format=raw|dag-cbor, or Accept) and through object_get; they
// hash to the CID and hold the signature, license, metadata and chunk
// size; the signed EIP-712 document verifies against the signer.
func TestObjectBytes(t *testing.T) {
	n, repo := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	meta := map[string]string{"source": "a test", "lang": "en"}
	added := addFiles(t, c, map[string][]byte{"a.txt": []byte("hello objects\n")}, 1<<10, "CC-BY-4.0", meta)
	kc := mustParse(t, added.CID)
	base := "http://" + n.HTTPAddr() + ContentPath
	var block []byte
	for _, tc := range []struct {
		query   string
		headers []string
		media   string
	}{
		{"?format=raw", nil, MediaRaw},
		{"?format=dag-cbor", nil, MediaDagCBOR},
		{"", []string{"Accept", MediaRaw}, MediaRaw},
		{"", []string{"Accept", "text/html, " + MediaDagCBOR + ";q=0.9"}, MediaDagCBOR},
	} {
		resp, body := httpDo(t, "GET", base+added.CID+tc.query, nil, tc.headers...)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.media {
			t.Fatalf("%s %v: %s %q", tc.query, tc.headers, resp.Status, resp.Header.Get("Content-Type"))
		}
		if got := storage.ObjectCID(cid.DagCBOR, body); !got.Equals(kc) {
			t.Fatalf("%s %v: the bytes hash to %s, not %s", tc.query, tc.headers, got, kc)
		}
		block = body
	}
	k, err := datanet.DecodeContribution(block)
	if err != nil {
		t.Fatal(err)
	}
	if k.License != "CC-BY-4.0" || !maps.Equal(k.Metadata, meta) || k.ChunkSize != 1<<10 || len(k.Signature) != 65 || k.Verify() != nil {
		t.Fatalf("decoded block: license %q, metadata %v, chunk size %d, signature %x", k.License, k.Metadata, k.ChunkSize, k.Signature)
	}

	// A shard is a raw block, not DAG-CBOR; a path or another format is
	// a bad request.
	shard := added.Files[0].Shards[0]
	resp, body := httpDo(t, "GET", base+shard+"?format=raw", nil)
	if resp.StatusCode != http.StatusOK || !storage.ObjectCID(cid.Raw, body).Equals(mustParse(t, shard)) {
		t.Fatalf("shard as a raw block: %s, %q", resp.Status, body)
	}
	for path, want := range map[string]int{
		shard + "?format=dag-cbor":        http.StatusNotAcceptable,
		added.CID + "?format=car":         http.StatusBadRequest,
		added.CID + "/a.txt?format=raw":   http.StatusBadRequest,
		"bafyreiaaaaaaaaaaaa?format=raw":  http.StatusBadRequest,
		added.CID + "/a.txt?format=":      http.StatusOK, // the file
		added.CID + "?format=raw&after=x": http.StatusOK,
	} {
		if resp, body := httpDo(t, "GET", base+path, nil); resp.StatusCode != want {
			t.Errorf("%s: %s %s, want %d", path, resp.Status, body, want)
		}
	}

	// object_get, over HTTP with no token.
	var v ObjectView
	if err := rpcHTTP(t, n, "", "object_get", &v, added.CID); err != nil {
		t.Fatal(err)
	}
	operator := common.HexToAddress(repo.Config.Identity.Account)
	if !bytes.Equal(v.Raw, block) || v.Kind != datanet.KindContribution || common.HexToAddress(v.Signer) != operator {
		t.Fatalf("object_get: kind %q, signer %s, %d bytes", v.Kind, v.Signer, len(v.Raw))
	}
	var fields datanet.Contribution
	if err := json.Unmarshal(v.Object, &fields); err != nil {
		t.Fatal(err)
	}
	if fields.License != k.License || !maps.Equal(fields.Metadata, meta) || fields.ChunkSize != k.ChunkSize || !bytes.Equal(fields.Signature, k.Signature) {
		t.Fatalf("object_get fields: %s", v.Object)
	}
	if got := recoverTypedData(t, v.TypedData); got != operator || common.HexToAddress(v.TypedData.Signer) != operator {
		t.Fatalf("the typed data recovers %s, signer %s, want %s", got, v.TypedData.Signer, operator)
	}

	// A vote (its own signing path) and the Datanet verify the same way.
	var vr VoteResult
	if err := c.Call(&vr, "curation_vote", VoteArgs{Contribution: added.CID, Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	for _, oc := range []string{vr.CID, k.Datanet.String()} {
		var v ObjectView
		if err := rpcHTTP(t, n, "", "object_get", &v, oc); err != nil {
			t.Fatal(err)
		}
		if got := recoverTypedData(t, v.TypedData); got != operator {
			t.Errorf("%s %s: the typed data recovers %s, want %s", v.Kind, oc, got, operator)
		}
	}
	if err := rpcHTTP(t, n, "", "object_get", &v, shard); err == nil || !strings.Contains(err.Error(), "format=raw") {
		t.Errorf("object_get of a shard: %v", err)
	}
}
