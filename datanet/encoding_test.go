package datanet

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenObjects are the objects whose encodings are pinned in testdata.
var goldenObjects = []struct {
	name string
	make func(testing.TB) Object
}{
	{"datanet", func(t testing.TB) Object { return signedDatanet(t) }},
	{"datanet-update", func(t testing.TB) Object { return signedDatanetUpdate(t) }},
	{"contribution", func(t testing.TB) Object { return signedContribution(t) }},
	{"vote", func(t testing.TB) Object { return signedVote(t) }},
	{"snapshot", func(t testing.TB) Object { return signedSnapshot(t) }},
	{"snapshot-chunk", func(t testing.TB) Object { return testChunk(t) }},
	{"model", func(t testing.TB) Object { return signedModel(t) }},
	{"attribution", func(t testing.TB) Object { return signedAttribution(t) }},
	{"reward-epoch", func(t testing.TB) Object { return signedEpoch(t) }},
}

// checkGolden compares got with testdata/name, or writes it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./datanet -run TestGolden -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; if that is intended, run go test ./datanet -run TestGolden -update and review the diff\ngot:\n%s\nwant:\n%s",
			path, got, want)
	}
}

// readGoldenCBOR returns the encoding pinned in testdata/name.cbor.hex.
func readGoldenCBOR(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name+".cbor.hex"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// hexLines formats data as hex, 32 bytes a line.
func hexLines(data []byte) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(32, len(data))
		b.WriteString(hex.EncodeToString(data[:n]))
		b.WriteByte('\n')
		data = data[n:]
	}
	return b.Bytes()
}

// prettyDiag indents CBOR diagnostic notation, one map entry or array
// element a line.
func prettyDiag(diag string) []byte {
	var b bytes.Buffer
	depth, quote := 0, byte(0)
	newline := func() {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", depth))
	}
	for i := 0; i < len(diag); i++ {
		ch := diag[i]
		switch {
		case quote != 0:
			b.WriteByte(ch)
			if ch == '\\' && i+1 < len(diag) {
				i++
				b.WriteByte(diag[i])
			} else if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
			b.WriteByte(ch)
		case (ch == '{' || ch == '[') && i+1 < len(diag) && diag[i+1] != '}' && diag[i+1] != ']':
			b.WriteByte(ch)
			depth++
			newline()
		case (ch == '}' || ch == ']') && i > 0 && diag[i-1] != '{' && diag[i-1] != '[':
			depth--
			newline()
			b.WriteByte(ch)
		case ch == ',' && i+1 < len(diag) && diag[i+1] == ' ':
			b.WriteByte(ch)
			i++
			newline()
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, g := range goldenObjects {
		t.Run(g.name, func(t *testing.T) {
			obj := g.make(t)
			data, err := obj.Encode()
			if err != nil {
				t.Fatal(err)
			}
			c, err := obj.CID()
			if err != nil {
				t.Fatal(err)
			}
			var hash []byte
			if obj.Kind() != KindSnapshotChunk { // a chunk is not signed
				h, err := SigningHash(obj)
				if err != nil {
					t.Fatal(err)
				}
				hash = h[:]
			}
			diag, err := cbor.Diagnose(data)
			if err != nil {
				t.Fatal(err)
			}
			view, err := json.MarshalIndent(obj, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			var typed []byte
			if hash != nil {
				if typed, err = TypedDataJSON(obj); err != nil {
					t.Fatal(err)
				}
			}
			summary := fmt.Sprintf("kind %s\ncid %s\nsigning_hash %#x\nsigner %s\nsize %d\n",
				obj.Kind(), c, hash, obj.Signer(), len(data))
			checkGolden(t, g.name+".cbor.hex", hexLines(data))
			checkGolden(t, g.name+".diag", prettyDiag(diag))
			checkGolden(t, g.name+".txt", []byte(summary))
			checkGolden(t, g.name+".json", append(view, '\n'))
			if typed != nil {
				checkGolden(t, g.name+".eip712.json", append(typed, '\n'))
			}
		})
	}
}

// TestGoldenDecode decodes and verifies the pinned bytes, whatever the
// fixtures say: old encodings must keep their meaning.
func TestGoldenDecode(t *testing.T) {
	if *updateGolden {
		t.Skip("rewriting golden files")
	}
	for _, g := range goldenObjects {
		t.Run(g.name, func(t *testing.T) {
			data := readGoldenCBOR(t, g.name)
			obj, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := obj.Verify(); err != nil {
				t.Fatal(err)
			}
			c, err := ObjectCID(data)
			if err != nil {
				t.Fatal(err)
			}
			summary, err := os.ReadFile(filepath.Join("testdata", g.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(summary), "\ncid "+c.String()+"\n") {
				t.Errorf("CID %s is not the one in %s.txt", c, g.name)
			}
			if c.Prefix().Codec != cid.DagCBOR || c.Version() != 1 {
				t.Errorf("CID %s is not CIDv1 dag-cbor", c)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, g := range goldenObjects {
		t.Run(g.name, func(t *testing.T) {
			obj := g.make(t)
			data, err := obj.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if back.Kind() != obj.Kind() {
				t.Fatalf("kind %s, want %s", back.Kind(), obj.Kind())
			}
			again, err := back.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) {
				t.Fatal("re-encoding differs")
			}
			c1, err := obj.CID()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := ObjectCID(data)
			if err != nil {
				t.Fatal(err)
			}
			if !c1.Equals(c2) {
				t.Fatalf("CID %s, ObjectCID %s", c1, c2)
			}
		})
	}
}

func TestCIDCoversSignature(t *testing.T) {
	d := signedDatanet(t)
	signed, err := d.CID()
	if err != nil {
		t.Fatal(err)
	}
	d.Signature = nil
	unsigned, err := d.CID()
	if err != nil {
		t.Fatal(err)
	}
	if signed.Equals(unsigned) {
		t.Fatal("the signature does not change the CID")
	}
}

func TestDecodeTyped(t *testing.T) {
	dn, err := signedDatanet(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	co, err := signedContribution(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeDatanet(dn); err != nil {
		t.Errorf("DecodeDatanet(datanet): %v", err)
	}
	if _, err := DecodeContribution(co); err != nil {
		t.Errorf("DecodeContribution(contribution): %v", err)
	}
	if _, err := DecodeDatanet(co); !errors.Is(err, ErrWrongKind) {
		t.Errorf("DecodeDatanet(contribution) = %v, want ErrWrongKind", err)
	}
	if _, err := DecodeContribution(dn); !errors.Is(err, ErrWrongKind) {
		t.Errorf("DecodeContribution(datanet) = %v, want ErrWrongKind", err)
	}
	if _, err := DecodeDatanet([]byte{0xa0}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("DecodeDatanet({}) = %v, want ErrUnknownKind", err)
	}
}

// entries decodes an encoded object into its raw map entries.
func entries(t testing.TB, data []byte) map[string]cbor.RawMessage {
	t.Helper()
	var m map[string]cbor.RawMessage
	if err := cbor.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// encodeEntries encodes map entries with the given key order.
func encodeEntries(t testing.TB, m map[string]cbor.RawMessage, sort cbor.SortMode) []byte {
	t.Helper()
	em, err := cbor.EncOptions{Sort: sort}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	data, err := em.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// cborOf encodes v with the DAG-CBOR options.
func cborOf(t testing.TB, v any) cbor.RawMessage {
	t.Helper()
	cd, err := codecs()
	if err != nil {
		t.Fatal(err)
	}
	data, err := cd.enc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeRejects(t *testing.T) {
	datanet, err := signedDatanet(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	updated, err := signedDatanetUpdate(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	contribution, err := signedContribution(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	prevCID := signedDatanetUpdate(t).Prev.Bytes()
	// edit returns the base object with some entries changed (nil deletes).
	edit := func(base []byte, changes map[string]cbor.RawMessage) []byte {
		m := entries(t, base)
		for k, v := range changes {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return encodeEntries(t, m, cbor.SortLengthFirst)
	}
	tagged := func(content []byte) cbor.RawMessage { // tag 42 of a byte string
		return append([]byte{0xd8, 42}, cborOf(t, content)...)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"not a map", []byte{0x81, 0x01}, ErrMalformed},
		{"truncated", datanet[:len(datanet)-1], ErrMalformed},
		{"trailing byte", append(append([]byte{}, datanet...), 0), ErrMalformed},
		{"too large", make([]byte, MaxObjectSize+1), ErrTooLarge},
		{"empty map", []byte{0xa0}, ErrUnknownKind},
		{"unknown kind", edit(datanet, map[string]cbor.RawMessage{"kind": cborOf(t, "dataset")}), ErrUnknownKind},
		{"another kind's keys", edit(datanet, map[string]cbor.RawMessage{"kind": cborOf(t, KindModel)}), ErrMalformed},
		{"no kind", edit(datanet, map[string]cbor.RawMessage{"kind": nil}), ErrUnknownKind},
		{"kind not text", edit(datanet, map[string]cbor.RawMessage{"kind": cborOf(t, 1)}), ErrMalformed},
		{"version 2", edit(datanet, map[string]cbor.RawMessage{"v": cborOf(t, 2)}), ErrUnsupportedVersion},
		{"no version", edit(datanet, map[string]cbor.RawMessage{"v": nil}), ErrUnsupportedVersion},
		{"unknown key", edit(datanet, map[string]cbor.RawMessage{"extra": cborOf(t, 1)}), ErrMalformed},
		{"duplicate key", duplicateKey(t, datanet), ErrMalformed},
		{"missing license", edit(datanet, map[string]cbor.RawMessage{"license": nil}), ErrNonCanonical},
		{"missing owner", edit(datanet, map[string]cbor.RawMessage{"owner": nil}), ErrMalformed},
		{"missing prev", edit(datanet, map[string]cbor.RawMessage{"prev": nil}), ErrNonCanonical},
		{"keys sorted alphabetically", alphabetical(t, datanet), ErrNonCanonical},
		{"long integer", edit(datanet, map[string]cbor.RawMessage{"created": binary.BigEndian.AppendUint64([]byte{0x1b}, 1767225600)}), ErrNonCanonical},
		{"indefinite text", edit(datanet, map[string]cbor.RawMessage{"name": {0x7f, 0x61, 'a', 0xff}}), ErrMalformed},
		{"indefinite kinds", edit(datanet, map[string]cbor.RawMessage{"kinds": {0x9f, 0x63, 't', 'x', 't', 0xff}}), ErrMalformed},
		{"float", edit(datanet, map[string]cbor.RawMessage{"created": {0xfb, 0x41, 0xda, 0x55, 0x41, 0x80, 0, 0, 0}}), ErrMalformed},
		{"undefined prev", edit(datanet, map[string]cbor.RawMessage{"prev": {0xf7}}), ErrNonCanonical},
		{"null kinds", edit(datanet, map[string]cbor.RawMessage{"kinds": {0xf6}}), ErrNonCanonical},
		{"null signature", edit(datanet, map[string]cbor.RawMessage{"signature": {0xf6}}), ErrNonCanonical},
		{"tagged name", edit(datanet, map[string]cbor.RawMessage{"name": append([]byte{0xd8, 32}, cborOf(t, "x")...)}), ErrNonCanonical},
		{"invalid utf-8", edit(datanet, map[string]cbor.RawMessage{"name": {0x62, 'a', 0xff}}), ErrMalformed},
		{"negative seq", edit(datanet, map[string]cbor.RawMessage{"seq": {0x20}}), ErrMalformed},
		{"bignum seq", edit(datanet, map[string]cbor.RawMessage{"max_contribution_size": {0xc2, 0x41, 0x01}}), ErrNonCanonical},
		{"short owner", edit(datanet, map[string]cbor.RawMessage{"owner": cborOf(t, make([]byte, 19))}), ErrMalformed},
		{"owner as text", edit(datanet, map[string]cbor.RawMessage{"owner": cborOf(t, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")}), ErrMalformed},
		{"short signature", edit(datanet, map[string]cbor.RawMessage{"signature": cborOf(t, make([]byte, 64))}), ErrInvalid},
		{"empty name", edit(datanet, map[string]cbor.RawMessage{"name": cborOf(t, "")}), ErrInvalid},
		{"prev without tag", edit(updated, map[string]cbor.RawMessage{"prev": cborOf(t, append([]byte{0}, prevCID...))}), ErrMalformed},
		{"prev without 0x00", edit(updated, map[string]cbor.RawMessage{"prev": tagged(prevCID)}), ErrMalformed},
		{"prev with trailing byte", edit(updated, map[string]cbor.RawMessage{"prev": tagged(append(append([]byte{0}, prevCID...), 0))}), ErrMalformed},
		{"prev with long tag", edit(updated, map[string]cbor.RawMessage{"prev": append([]byte{0xd9, 0, 42}, cborOf(t, append([]byte{0}, prevCID...))...)}), ErrMalformed},
		{"prev with long length", edit(updated, map[string]cbor.RawMessage{"prev": append([]byte{0xd8, 42, 0x59, 0, byte(len(prevCID) + 1), 0}, prevCID...)}), ErrMalformed},
		{"prev tag 43", edit(updated, map[string]cbor.RawMessage{"prev": append([]byte{0xd8, 43}, cborOf(t, append([]byte{0}, prevCID...))...)}), ErrMalformed},
		{"prev is CIDv0", edit(updated, map[string]cbor.RawMessage{"prev": tagged(append([]byte{0}, cid.NewCidV0(signedDatanetUpdate(t).Prev.Hash()).Bytes()...))}), ErrInvalid},
		{"prev null on an update", edit(updated, map[string]cbor.RawMessage{"prev": {0xf6}}), ErrInvalid},
		{"unsorted files", edit(contribution, map[string]cbor.RawMessage{"files": swapFiles(t, contribution)}), ErrInvalid},
		{"metadata keys sorted bytewise", edit(contribution, map[string]cbor.RawMessage{"metadata": {0xa2, 0x62, 'a', 'a', 0x61, 'x', 0x61, 'b', 0x61, 'x'}}), ErrNonCanonical},
		{"null datanet", edit(contribution, map[string]cbor.RawMessage{"datanet": {0xf6}}), ErrMalformed},
		{"short root", edit(contribution, map[string]cbor.RawMessage{"root": cborOf(t, make([]byte, 31))}), ErrMalformed},
		{"unknown file key", edit(contribution, map[string]cbor.RawMessage{"files": unknownFileKey(t, contribution)}), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := Decode(tt.data)
			t.Log(err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, %v; want %v", obj, err, tt.want)
			}
			if obj != nil {
				t.Fatalf("Decode returned an object with error %v", err)
			}
		})
	}
}

// duplicateKey returns the encoding with its "v" entry repeated at the end.
func duplicateKey(t testing.TB, data []byte) []byte {
	t.Helper()
	if data[0]&0xe0 != 0xa0 || data[0]&0x1f >= 23 {
		t.Fatalf("unexpected map head %#x", data[0])
	}
	out := append([]byte{data[0] + 1}, data[1:]...)
	return append(out, 0x61, 'v', 0x01)
}

// alphabetical re-encodes an object with its keys in alphabetical order
// rather than length-first.
func alphabetical(t testing.TB, data []byte) []byte {
	t.Helper()
	m := entries(t, data)
	keys := slices.Sorted(maps.Keys(m))
	out := appendHead(nil, 5, uint64(len(keys)))
	for _, k := range keys {
		out = append(out, cborOf(t, k)...)
		out = append(out, m[k]...)
	}
	if bytes.Equal(out, data) {
		t.Fatal("alphabetical order is the canonical order")
	}
	return out
}

func swapFiles(t testing.TB, data []byte) cbor.RawMessage {
	t.Helper()
	var files []cbor.RawMessage
	if err := cbor.Unmarshal(entries(t, data)["files"], &files); err != nil {
		t.Fatal(err)
	}
	files[0], files[1] = files[1], files[0]
	return cborOf(t, files)
}

func unknownFileKey(t testing.TB, data []byte) cbor.RawMessage {
	t.Helper()
	var files []map[string]cbor.RawMessage
	if err := cbor.Unmarshal(entries(t, data)["files"], &files); err != nil {
		t.Fatal(err)
	}
	files[0]["mode"] = cborOf(t, 0o644)
	return cborOf(t, files)
}

func TestEncodeRejectsInvalid(t *testing.T) {
	d := signedDatanet(t)
	d.Name = ""
	if _, err := d.Encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Encode = %v, want ErrInvalid", err)
	}
	if _, err := d.CID(); !errors.Is(err, ErrInvalid) {
		t.Errorf("CID = %v, want ErrInvalid", err)
	}
}

func TestEncodeTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 16 MiB object")
	}
	// Each shard link costs 41 bytes in the encoding.
	n := MaxObjectSize/41 + 1
	c := testContribution(t)
	shard := rawCID(t, []byte("x"))
	f := File{Path: "big.txt", Size: uint64(n) * MinChunkSize, Shards: make([]cid.Cid, n)}
	for i := range f.Shards {
		f.Shards[i] = shard
	}
	c.Files, c.Size, c.ChunkSize = []File{f}, f.Size, MinChunkSize
	if _, err := c.Encode(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Encode of %d shards = %v, want ErrTooLarge", n, err)
	}
	c.Files[0].Shards = c.Files[0].Shards[:n-1000]
	c.Files[0].Size = uint64(n-1000) * MinChunkSize
	c.Size = c.Files[0].Size
	data, err := c.Encode()
	if err != nil {
		t.Fatalf("Encode of %d shards: %v", n-1000, err)
	}
	if _, err := Decode(data); err != nil {
		t.Fatalf("Decode of %d bytes: %v", len(data), err)
	}
}

func TestJSONView(t *testing.T) {
	for _, g := range goldenObjects {
		t.Run(g.name, func(t *testing.T) {
			obj := g.make(t)
			view, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			back := newOfKind(t, obj.Kind())
			if err := json.Unmarshal(view, back); err != nil {
				t.Fatal(err)
			}
			want, err := obj.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := back.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("JSON round trip changed the object:\n%s", view)
			}
		})
	}
	t.Run("wrong kind", func(t *testing.T) {
		view, err := json.Marshal(signedDatanet(t))
		if err != nil {
			t.Fatal(err)
		}
		var c Contribution
		if err := json.Unmarshal(view, &c); err == nil {
			t.Fatal("a Datanet's JSON unmarshalled into a Contribution")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		var d Datanet
		if err := json.Unmarshal([]byte(`{"kind":"datanet","nmae":"x"}`), &d); err == nil {
			t.Fatal("unknown key accepted")
		}
	})
}

func newOfKind(t testing.TB, kind string) Object {
	t.Helper()
	switch kind {
	case KindDatanet:
		return new(Datanet)
	case KindContribution:
		return new(Contribution)
	case KindVote:
		return new(Vote)
	case KindSnapshot:
		return new(Snapshot)
	case KindSnapshotChunk:
		return new(SnapshotChunk)
	case KindModel:
		return new(ModelRecord)
	case KindAttribution:
		return new(AttributionRecord)
	case KindRewardEpoch:
		return new(RewardEpoch)
	}
	t.Fatalf("no object of kind %q", kind)
	return nil
}

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// is canonical: it re-encodes to the same bytes and CID, and survives the
// JSON view.
func FuzzDecode(f *testing.F) {
	for _, g := range goldenObjects {
		f.Add(readGoldenCBOR(f, g.name))
	}
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa2, 0x61, 'v', 0x01, 0x64, 'k', 'i', 'n', 'd', 0x67, 'd', 'a', 't', 'a', 'n', 'e', 't'})
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := Decode(data)
		if err != nil {
			if obj != nil {
				t.Fatalf("object with error %v", err)
			}
			return
		}
		enc, err := obj.Encode()
		if err != nil {
			t.Fatalf("accepted object does not encode: %v", err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("accepted non-canonical bytes:\n%x\nre-encoded:\n%x", data, enc)
		}
		c1, err := obj.CID()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ObjectCID(data)
		if err != nil {
			t.Fatal(err)
		}
		if !c1.Equals(c2) {
			t.Fatalf("CID %s, ObjectCID %s", c1, c2)
		}
		_ = obj.Verify()
		_ = obj.Links()
		if _, err := SigningHash(obj); err != nil && obj.Kind() != KindSnapshotChunk {
			t.Fatalf("SigningHash of a valid object: %v", err)
		}
		view, err := json.Marshal(obj)
		if err != nil {
			t.Fatalf("JSON view: %v", err)
		}
		back := newOfKind(t, obj.Kind())
		if err := json.Unmarshal(view, back); err != nil {
			t.Fatalf("JSON view does not read back: %v\n%s", err, view)
		}
		if again, err := back.Encode(); err != nil || !bytes.Equal(again, data) {
			t.Fatalf("JSON round trip changed the object (%v):\n%s", err, view)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{1, 1024, 65536} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			c := bigContribution(b, n)
			data, err := c.Encode()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Encode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1, 1024, 65536} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			data, err := bigContribution(b, n).Encode()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeStored checks the decoding of stored bytes gives what Decode
// gives for every golden object.
func TestDecodeStored(t *testing.T) {
	for _, g := range goldenObjects {
		t.Run(g.name, func(t *testing.T) {
			data, err := g.make(t).Encode()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeStored(data)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("decodeStored = %+v %v, want %+v", got, err, want)
			}
		})
	}
}

// FuzzWalkHead checks the walk of an encoding for "kind" and "v"
// against the head decoder: whenever both read the bytes, they read the
// same; every golden object is read by the walk.
func FuzzWalkHead(f *testing.F) {
	cd, err := codecs()
	if err != nil {
		f.Fatal(err)
	}
	for _, g := range goldenObjects {
		data := readGoldenCBOR(f, g.name)
		obj, err := Decode(data)
		if err != nil {
			f.Fatal(err)
		}
		if kind, v, ok := walkHead(data); !ok || kind != obj.Kind() || v != EncodingVersion {
			f.Fatalf("%s: walkHead = %q %d %v", g.name, kind, v, ok)
		}
		f.Add(data)
	}
	f.Add([]byte{0xa2, 0x61, 'v', 0x01, 0x64, 'k', 'i', 'n', 'd', 0x67, 'd', 'a', 't', 'a', 'n', 'e', 't'})
	f.Add([]byte{0xa2, 0x61, 'v', 0x01, 0x61, 'v', 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		kind, v, ok := walkHead(data)
		var head struct {
			Kind string `cbor:"kind"`
			V    uint64 `cbor:"v"`
		}
		if !ok || cd.head.Unmarshal(data, &head) != nil {
			return
		}
		if head.Kind != kind || head.V != v {
			t.Fatalf("walkHead = %q %d, head decoder %q %d", kind, v, head.Kind, head.V)
		}
	})
}
