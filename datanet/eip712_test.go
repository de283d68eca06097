package datanet

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

// The typed data documents below are written out by hand, as a dapp would
// hand them to eth_signTypedData_v4 (integers as JSON numbers this time), so
// a change of the types, the domain or the hashed encodings fails here.

const datanetTypedData = `{
  "types": {
    "EIP712Domain": [
      {"name": "name", "type": "string"},
      {"name": "version", "type": "string"},
      {"name": "chainId", "type": "uint256"}
    ],
    "Datanet": [
      {"name": "name", "type": "string"},
      {"name": "description", "type": "string"},
      {"name": "license", "type": "string"},
      {"name": "owner", "type": "address"},
      {"name": "kinds", "type": "string[]"},
      {"name": "maxContributionSize", "type": "uint64"},
      {"name": "curators", "type": "Curator[]"},
      {"name": "quorum", "type": "uint64"},
      {"name": "thresholdBps", "type": "uint32"},
      {"name": "window", "type": "uint64"},
      {"name": "seq", "type": "uint64"},
      {"name": "prev", "type": "string"},
      {"name": "created", "type": "uint64"}
    ],
    "Curator": [
      {"name": "account", "type": "address"},
      {"name": "weight", "type": "uint64"}
    ]
  },
  "primaryType": "Datanet",
  "domain": {"name": "openledger", "version": "1", "chainId": %d},
  "message": {
    "name": %q, "description": %q, "license": %q, "owner": %q,
    "kinds": %s, "maxContributionSize": %d, "curators": %s, "quorum": %d,
    "thresholdBps": %d, "window": %d, "seq": %d, "prev": %q, "created": %d
  }
}`

const contributionTypedData = `{
  "types": {
    "EIP712Domain": [
      {"name": "name", "type": "string"},
      {"name": "version", "type": "string"},
      {"name": "chainId", "type": "uint256"}
    ],
    "Contribution": [
      {"name": "datanet", "type": "string"},
      {"name": "contributor", "type": "address"},
      {"name": "root", "type": "bytes32"},
      {"name": "size", "type": "uint64"},
      {"name": "chunkSize", "type": "uint64"},
      {"name": "fileCount", "type": "uint32"},
      {"name": "files", "type": "bytes32"},
      {"name": "license", "type": "string"},
      {"name": "metadata", "type": "bytes32"},
      {"name": "created", "type": "uint64"}
    ]
  },
  "primaryType": "Contribution",
  "domain": {"name": "openledger", "version": "1", "chainId": %d},
  "message": {
    "datanet": %q, "contributor": %q, "root": "%#x", "size": %d,
    "chunkSize": %d, "fileCount": %d, "files": %q, "license": %q,
    "metadata": %q, "created": %d
  }
}`

// walletSign signs a typed data document as a wallet does.
func walletSign(t *testing.T, doc string, hexKey string) (sig []byte, hash []byte) {
	t.Helper()
	var td apitypes.TypedData
	if err := json.Unmarshal([]byte(doc), &td); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig, err = crypto.Sign(hash, testKey(t, hexKey))
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return sig, hash
}

// independentCBOR encodes v as DAG-CBOR from generic values, without the
// package's wire types.
func independentCBOR(t *testing.T, v any) []byte {
	t.Helper()
	em, err := cbor.EncOptions{Sort: cbor.SortLengthFirst, IndefLength: cbor.IndefLengthForbidden}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	data, err := em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWalletSignedDatanetVerifies(t *testing.T) {
	d := testDatanet(t)
	kinds, err := json.Marshal(d.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	var curators []string
	for _, c := range d.Curators {
		curators = append(curators, fmt.Sprintf(`{"account": %q, "weight": %d}`, c.Address.Hex(), c.Weight))
	}
	doc := fmt.Sprintf(datanetTypedData, d.ChainID, d.Name, d.Description, d.License, d.Owner.Hex(),
		kinds, d.MaxContributionSize, "["+strings.Join(curators, ", ")+"]", d.Quorum, d.ThresholdBps,
		d.Window, d.Seq, "", d.Created)
	sig, hash := walletSign(t, doc, ownerKeyHex)

	if got, err := SigningHash(d); err != nil || !equalBytes(got[:], hash) {
		t.Fatalf("SigningHash = %x, %v; the wallet signed %x", got, err, hash)
	}
	d.Signature = sig
	if err := d.Verify(); err != nil {
		t.Fatalf("wallet signature does not verify: %v", err)
	}
}

func TestWalletSignedContributionVerifies(t *testing.T) {
	c := testContribution(t)
	c.ChainID = testChainID
	var files []any
	for _, f := range c.Files {
		var shards []any
		for _, s := range f.Shards {
			shards = append(shards, cbor.Tag{Number: 42, Content: append([]byte{0}, s.Bytes()...)})
		}
		files = append(files, map[string]any{"path": f.Path, "size": f.Size, "shards": shards})
	}
	filesHash := crypto.Keccak256Hash(independentCBOR(t, files))
	metaHash := crypto.Keccak256Hash(independentCBOR(t, c.Metadata))
	doc := fmt.Sprintf(contributionTypedData, testChainID, c.Datanet.String(), c.Contributor.Hex(),
		c.Root, c.Size, c.ChunkSize, len(c.Files), filesHash.Hex(), c.License, metaHash.Hex(), c.Created)
	sig, hash := walletSign(t, doc, contributorKeyHex)

	if got, err := SigningHash(c); err != nil || !equalBytes(got[:], hash) {
		t.Fatalf("SigningHash = %x, %v; the wallet signed %x", got, err, hash)
	}
	c.Signature = sig
	if err := c.Verify(); err != nil {
		t.Fatalf("wallet signature does not verify: %v", err)
	}
	// An object holding it encodes, decodes and still verifies.
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(); err != nil {
		t.Fatal(err)
	}
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

func TestEmptyMetadataHash(t *testing.T) {
	c := signedContribution(t)
	c.Metadata = nil
	_, msg, err := c.typedMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := crypto.Keccak256Hash([]byte{0xa0}).Hex(); msg["metadata"] != want {
		t.Errorf("metadata hash of no metadata %v, want keccak256(0xa0) %s", msg["metadata"], want)
	}
}

func TestTypeStrings(t *testing.T) {
	tests := []struct {
		obj  Object
		want string
	}{
		{signedDatanet(t), "Datanet(string name,string description,string license,address owner," +
			"string[] kinds,uint64 maxContributionSize,Curator[] curators,uint64 quorum," +
			"uint32 thresholdBps,uint64 window,uint64 seq,string prev,uint64 created)" +
			"Curator(address account,uint64 weight)"},
		{signedContribution(t), "Contribution(string datanet,address contributor,bytes32 root," +
			"uint64 size,uint64 chunkSize,uint32 fileCount,bytes32 files,string license," +
			"bytes32 metadata,uint64 created)"},
		{signedModel(t), "Model(string name,string base,address owner,uint32 snapshotCount,bytes32 snapshots," +
			"uint32 artifactCount,bytes32 artifacts,uint64 chunkSize,bytes32 metadata,uint64 created)"},
		{signedAttribution(t), "Attribution(string model,bytes32 output,uint64 outputSize,uint32 spanCount," +
			"bytes32 spans,bytes32 weights,bytes32 params,uint64 tokensIn,uint64 tokensOut,bytes32 payouts," +
			"address modelOwner,address attester,uint64 created)"},
		{signedEpoch(t), "RewardEpoch(uint64 number,string prev,uint32 recordCount,bytes32 records," +
			"uint32 balanceCount,bytes32 balances,bytes32 root,address distributor,address poster,uint64 created)"},
	}
	for _, tt := range tests {
		td, err := TypedData(tt.obj)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(td.EncodeType(td.PrimaryType)); got != tt.want {
			t.Errorf("type %s\nwant %s", got, tt.want)
		}
		if got := string(td.EncodeType("EIP712Domain")); got != "EIP712Domain(string name,string version,uint256 chainId)" {
			t.Errorf("domain type %s", got)
		}
	}
}

func TestTypedDataJSON(t *testing.T) {
	for _, g := range goldenObjects {
		t.Run(g.name, func(t *testing.T) {
			obj := g.make(t)
			if obj.Kind() == KindSnapshotChunk {
				if _, err := TypedDataJSON(obj); err == nil {
					t.Fatal("typed data of an unsigned chunk")
				}
				return
			}
			doc, err := TypedDataJSON(obj)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(doc), "verifyingContract") || strings.Contains(string(doc), "salt") {
				t.Errorf("typed data has empty domain fields:\n%s", doc)
			}
			var td apitypes.TypedData
			if err := json.Unmarshal(doc, &td); err != nil {
				t.Fatal(err)
			}
			hash, _, err := apitypes.TypedDataAndHash(td)
			if err != nil {
				t.Fatal(err)
			}
			want, err := SigningHash(obj)
			if err != nil {
				t.Fatal(err)
			}
			if !equalBytes(hash, want[:]) {
				t.Fatalf("JSON hashes to %x, SigningHash %x", hash, want)
			}
		})
	}
}

func TestTamperedDatanetFails(t *testing.T) {
	other := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	prev := c0(t)
	tests := []struct {
		name   string
		change func(d *Datanet)
	}{
		{"name", func(d *Datanet) { d.Name += "!" }},
		{"description", func(d *Datanet) { d.Description = "" }},
		{"license", func(d *Datanet) { d.License = "MIT" }},
		{"owner", func(d *Datanet) { d.Owner = other }},
		{"chain ID", func(d *Datanet) { d.ChainID = 161201 }},
		{"kinds", func(d *Datanet) { d.Kinds = d.Kinds[1:] }},
		{"any kind", func(d *Datanet) { d.Kinds = nil }},
		{"max contribution size", func(d *Datanet) { d.MaxContributionSize++ }},
		{"seq", func(d *Datanet) { d.Seq++ }},
		{"prev", func(d *Datanet) { d.Prev = prev }},
		{"created", func(d *Datanet) { d.Created++ }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := signedDatanet(t)
			tt.change(d)
			if err := d.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestTamperedContributionFails(t *testing.T) {
	other := common.HexToAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
	shard := rawCID(t, []byte("another shard"))
	tests := []struct {
		name   string
		change func(c *Contribution)
	}{
		{"datanet", func(c *Contribution) { c.Datanet = mustCID(t, signedDatanetUpdate(t)) }},
		{"contributor", func(c *Contribution) { c.Contributor = other }},
		{"chain ID", func(c *Contribution) { c.ChainID = 161201 }},
		{"file path", func(c *Contribution) { c.Files[0].Path = "README.txt" }},
		{"file size", func(c *Contribution) { c.Files[1].Size-- }},
		{"shard", func(c *Contribution) { c.Files[1].Shards[2] = shard }},
		{"shard order", func(c *Contribution) { s := c.Files[1].Shards; s[0], s[1] = s[1], s[0] }},
		{"file dropped", func(c *Contribution) { c.Files = c.Files[:2] }},
		{"root", func(c *Contribution) { c.Root[31] ^= 1 }},
		{"size", func(c *Contribution) { c.Size++ }},
		{"chunk size", func(c *Contribution) { c.ChunkSize /= 2 }},
		{"license", func(c *Contribution) { c.License = "MIT" }},
		{"metadata value", func(c *Contribution) { c.Metadata["language"] = "fr" }},
		{"metadata key added", func(c *Contribution) { c.Metadata["x"] = "" }},
		{"metadata dropped", func(c *Contribution) { c.Metadata = nil }},
		{"created", func(c *Contribution) { c.Created-- }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := signedContribution(t)
			tt.change(c)
			if err := c.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func mustCID(t testing.TB, obj Object) cid.Cid {
	t.Helper()
	c, err := obj.CID()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFlippedSignatureBitFails(t *testing.T) {
	for _, obj := range []Object{signedDatanet(t), signedContribution(t)} {
		sig := signatureOf(obj)
		for i := range sig {
			for _, bit := range []byte{0x01, 0x80} {
				sig[i] ^= bit
				if err := obj.Verify(); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s: byte %d bit %#x flipped: Verify = %v, want ErrBadSignature", obj.Kind(), i, bit, err)
				}
				sig[i] ^= bit
			}
		}
		if err := obj.Verify(); err != nil {
			t.Fatalf("%s: restored signature: %v", obj.Kind(), err)
		}
	}
}

// signatureOf returns the object's signature slice (not a copy).
func signatureOf(obj Object) []byte {
	switch o := obj.(type) {
	case *Datanet:
		return o.Signature
	case *Contribution:
		return o.Signature
	}
	return nil
}

func TestWrongChainIDFails(t *testing.T) {
	d := testDatanet(t)
	d.ChainID = 161201 // testnet
	if err := SignDatanet(d, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	c := testContribution(t)
	if err := SignContribution(c, 161201, contributorSigner(t)); err != nil {
		t.Fatal(err)
	}
	// Replayed on mainnet.
	d.ChainID, c.ChainID = testChainID, testChainID
	if err := d.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("datanet on another chain: Verify = %v, want ErrBadSignature", err)
	}
	if err := c.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("contribution on another chain: Verify = %v, want ErrBadSignature", err)
	}
	// Signed for the testnet and carried as such, it is refused by a
	// mainnet Datanet.
	c.ChainID = 161201
	if err := c.Verify(); err != nil {
		t.Fatal(err)
	}
	if err := signedDatanet(t).Admits(c); !errors.Is(err, ErrNotAdmitted) {
		t.Errorf("Admits = %v, want ErrNotAdmitted", err)
	}
}

// typedDoc writes a typed data document for eth_signTypedData_v4 from a
// type spelled out as "name type" pairs, independently of the package's
// type tables.
func typedDoc(t *testing.T, primary string, fields []string, chainID uint64, msg map[string]any) string {
	t.Helper()
	var typ []map[string]string
	for _, f := range fields {
		typeName, name, _ := strings.Cut(f, " ")
		typ = append(typ, map[string]string{"name": name, "type": typeName})
	}
	doc, err := json.Marshal(map[string]any{
		"types": map[string]any{
			"EIP712Domain": []map[string]string{
				{"name": "name", "type": "string"},
				{"name": "version", "type": "string"},
				{"name": "chainId", "type": "uint256"},
			},
			primary: typ,
		},
		"primaryType": primary,
		"domain":      map[string]any{"name": "openledger", "version": "1", "chainId": chainID},
		"message":     msg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// tag42 is a link in independentCBOR's input.
func tag42(c cid.Cid) cbor.Tag { return cbor.Tag{Number: 42, Content: append([]byte{0}, c.Bytes()...)} }

// hashList is a list of proof hashes in independentCBOR's input.
func hashList(hs []common.Hash) []any {
	out := []any{}
	for _, h := range hs {
		out = append(out, h.Bytes())
	}
	return out
}

func keccakHex(t *testing.T, v any) string {
	t.Helper()
	return crypto.Keccak256Hash(independentCBOR(t, v)).Hex()
}

// checkWalletSigned checks that the package's signing hash of obj is the
// one a wallet computes from doc, and that a wallet's signature of doc
// verifies as obj's.
func checkWalletSigned(t *testing.T, obj Object, doc, hexKey string, setSig func([]byte)) {
	t.Helper()
	sig, hash := walletSign(t, doc, hexKey)
	if got, err := SigningHash(obj); err != nil || !equalBytes(got[:], hash) {
		t.Fatalf("SigningHash = %x, %v; the wallet signed %x\n%s", got, err, hash, doc)
	}
	setSig(sig)
	if err := obj.Verify(); err != nil {
		t.Fatalf("wallet signature does not verify: %v", err)
	}
}

func TestWalletSignedModelVerifies(t *testing.T) {
	m := testModel(t)
	m.Owner, m.ChainID = trainerSigner(t).Address(), testChainID
	snapshots := []any{}
	for _, s := range m.Snapshots {
		snapshots = append(snapshots, map[string]any{"datanet": tag42(s.Datanet), "snapshot": tag42(s.Snapshot)})
	}
	artifacts := []any{}
	for _, f := range m.Artifacts {
		shards := []any{}
		for _, s := range f.Shards {
			shards = append(shards, tag42(s))
		}
		artifacts = append(artifacts, map[string]any{"path": f.Path, "size": f.Size, "shards": shards})
	}
	doc := typedDoc(t, "Model", []string{"string name", "string base", "address owner", "uint32 snapshotCount",
		"bytes32 snapshots", "uint32 artifactCount", "bytes32 artifacts", "uint64 chunkSize", "bytes32 metadata",
		"uint64 created"}, testChainID, map[string]any{
		"name": m.Name, "base": m.Base, "owner": m.Owner.Hex(), "snapshotCount": len(m.Snapshots),
		"snapshots": keccakHex(t, snapshots), "artifactCount": len(m.Artifacts), "artifacts": keccakHex(t, artifacts),
		"chunkSize": m.ChunkSize, "metadata": keccakHex(t, m.Metadata), "created": m.Created,
	})
	checkWalletSigned(t, m, doc, trainerKeyHex, func(sig []byte) { m.Signature = sig })
}

func TestWalletSignedAttributionVerifies(t *testing.T) {
	r := testAttribution(t)
	r.Attester, r.ChainID = attesterSigner(t).Address(), testChainID
	spans := []any{}
	for _, s := range r.Spans {
		shards := []any{}
		for _, sh := range s.Shards {
			shards = append(shards, map[string]any{"index": sh.Index, "shard": tag42(sh.Shard), "size": sh.Size, "proof": hashList(sh.Proof)})
		}
		spans = append(spans, map[string]any{
			"start": s.Start, "end": s.End, "snapshot": tag42(s.Snapshot), "contribution": tag42(s.Contribution),
			"contributor": s.Contributor.Bytes(), "file": s.File, "offset": s.Offset, "length": s.Length,
			"count": s.Count, "weight": s.Weight, "shards": shards, "contribution_proof": hashList(s.ContributionProof),
		})
	}
	weights := []any{}
	for _, w := range r.Weights {
		weights = append(weights, map[string]any{"address": w.Address.Bytes(), "parts": w.Parts})
	}
	payouts := []any{}
	for _, p := range r.Payouts {
		payouts = append(payouts, map[string]any{"address": p.Address.Bytes(), "role": p.Role, "amount": p.Amount.Bytes()})
	}
	rw := r.Rewards
	params := map[string]any{
		"params": map[string]any{
			"min_span_bytes": r.Params.MinSpanBytes, "max_span_count": r.Params.MaxSpanCount,
			"max_output_bytes": r.Params.MaxOutputBytes, "normalization": r.Params.Normalization,
		},
		"rewards": map[string]any{
			"rate_in": rw.RateIn.Bytes(), "rate_out": rw.RateOut.Bytes(), "platform_fee": rw.PlatformFee.Bytes(),
			"model_owner_bps": rw.ModelOwnerBps, "staker_bps": rw.StakerBps, "contributor_bps": rw.ContributorBps,
			"platform": rw.Platform.Bytes(), "stakers": rw.Stakers.Bytes(),
		},
	}
	output := sha256.Sum256([]byte(goldenOutput))
	doc := typedDoc(t, "Attribution", []string{"string model", "bytes32 output", "uint64 outputSize", "uint32 spanCount",
		"bytes32 spans", "bytes32 weights", "bytes32 params", "uint64 tokensIn", "uint64 tokensOut", "bytes32 payouts",
		"address modelOwner", "address attester", "uint64 created"}, testChainID, map[string]any{
		"model": r.Model.String(), "output": common.Hash(output).Hex(), "outputSize": r.OutputSize, "spanCount": len(r.Spans),
		"spans": keccakHex(t, spans), "weights": keccakHex(t, weights), "params": keccakHex(t, params),
		"tokensIn": r.TokensIn, "tokensOut": r.TokensOut, "payouts": keccakHex(t, payouts),
		"modelOwner": r.ModelOwner.Hex(), "attester": r.Attester.Hex(), "created": r.Created,
	})
	checkWalletSigned(t, r, doc, attesterKeyHex, func(sig []byte) { r.Signature = sig })
}

func TestWalletSignedRewardEpochVerifies(t *testing.T) {
	e := testEpoch(t)
	e.Poster, e.ChainID = ownerSigner(t).Address(), testChainID
	records := []any{}
	for _, c := range e.Records {
		records = append(records, tag42(c))
	}
	balances := []any{}
	for _, b := range e.Balances {
		balances = append(balances, map[string]any{"address": b.Address.Bytes(), "cumulative": b.Cumulative.Bytes()})
	}
	doc := typedDoc(t, "RewardEpoch", []string{"uint64 number", "string prev", "uint32 recordCount", "bytes32 records",
		"uint32 balanceCount", "bytes32 balances", "bytes32 root", "address distributor", "address poster",
		"uint64 created"}, testChainID, map[string]any{
		"number": e.Number, "prev": e.Prev.String(), "recordCount": len(e.Records), "records": keccakHex(t, records),
		"balanceCount": len(e.Balances), "balances": keccakHex(t, balances), "root": common.Hash(e.Root).Hex(),
		"distributor": e.Distributor.Hex(), "poster": e.Poster.Hex(), "created": e.Created,
	})
	checkWalletSigned(t, e, doc, ownerKeyHex, func(sig []byte) { e.Signature = sig })
}
