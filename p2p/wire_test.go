package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

var update = flag.Bool("update", false, "rewrite golden files")

// frame returns one frame as it goes on the wire.
func frame(t testing.TB, typ byte, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newWire(&struct {
		io.Reader
		io.Writer
	}{strings.NewReader(""), &buf}, DefaultMaxObjectSize)
	if err := w.send(typ, body); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// goldenFrames is one of each frame, built from fixed inputs.
func goldenFrames(t testing.TB) []struct {
	name string
	b    []byte
} {
	set := testDatanet("golden")
	small := testCIDs(0, 3)
	large := newSet(testCIDs(100, 40))
	obj := mkObj(set, "golden payload")
	split := newReconciler(large, false)
	answer, err := split.process([]syncRange{{upper: infBound, mode: modeFingerprint}})
	if err != nil {
		t.Fatal(err)
	}
	mixed := []syncRange{
		{upper: boundBetween(large.items[9].k, large.items[10].k), mode: modeSkip},
		{upper: infBound, mode: modeIDList, ids: small},
	}
	return []struct {
		name string
		b    []byte
	}{
		{"RECONCILE datanet, opening ID list of 3", frame(t, frameReconcile, encodeReconcile(set, opening(t, newSet(small), bound{})))},
		{"RECONCILE announcements, opening fingerprint of 40", frame(t, frameReconcile, encodeReconcile(cid.Undef, opening(t, large, bound{})))},
		{"RECONCILE datanet, going on from a cursor: skip, then a fingerprint of 30", frame(t, frameReconcile, encodeReconcile(set, opening(t, large, bound{n: keySize, k: large.items[10].k})))},
		{"RANGES 16 fingerprints splitting 40", frame(t, frameRanges, appendRanges(nil, answer))},
		{"RANGES skip then ID list", frame(t, frameRanges, appendRanges(nil, mixed))},
		{"RANGES empty (done)", frame(t, frameRanges, appendRanges(nil, nil))},
		{"WANT 2", frame(t, frameWant, encodeWant(small[:2]))},
		{"OBJECT", frame(t, frameObject, encodeObject(objCID(obj), obj))},
		{"MISSING", frame(t, frameMissing, encodeMissing(small[2]))},
		{"DONE", frame(t, frameDone, nil)},
		{"ERROR not joined", frame(t, frameError, encodeError(codeNotJoined, "not joined"))},
	}
}

// opening is the initiator's opening ranges over v from the cursor from.
func opening(t testing.TB, v view, from bound) []syncRange {
	t.Helper()
	rs, err := newReconciler(v, true).initial(from)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestWireGolden pins the sync protocol's encoding: a change shows as a
// diff of testdata/sync-frames.golden (regenerate with -update).
func TestWireGolden(t *testing.T) {
	var out strings.Builder
	out.WriteString("# Frames of /openledger/sync/1.0.0, one per line as hex (see doc.go).\n")
	for _, f := range goldenFrames(t) {
		fmt.Fprintf(&out, "\n# %s\n%s\n", f.name, hex.EncodeToString(f.b))
	}
	path := filepath.Join("testdata", "sync-frames.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("sync frames differ from %s; if the change is intended, rerun with -update\n%s", path, diffLines(string(want), got))
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestWireRoundTrip decodes every golden frame back to what was encoded.
func TestWireRoundTrip(t *testing.T) {
	for _, f := range goldenFrames(t) {
		t.Run(f.name, func(t *testing.T) {
			typ, body, err := readFrame(bufio.NewReader(bytes.NewReader(f.b)), DefaultMaxObjectSize)
			if err != nil {
				t.Fatal(err)
			}
			var reencoded []byte
			switch typ {
			case frameReconcile:
				set, rs, err := decodeReconcile(body)
				if err != nil {
					t.Fatal(err)
				}
				reencoded = encodeReconcile(set, rs)
			case frameRanges:
				rs, err := decodeRanges(body)
				if err != nil {
					t.Fatal(err)
				}
				reencoded = appendRanges(nil, rs)
			case frameWant:
				cids, err := decodeWant(body)
				if err != nil {
					t.Fatal(err)
				}
				reencoded = encodeWant(cids)
			case frameObject:
				c, data, err := decodeObject(body)
				if err != nil || !hashMatches(c, data) {
					t.Fatal(err)
				}
				reencoded = encodeObject(c, data)
			case frameMissing:
				c, err := decodeMissing(body)
				if err != nil {
					t.Fatal(err)
				}
				reencoded = encodeMissing(c)
			case frameDone:
			case frameError:
				err := decodeError(body)
				if !errors.Is(err, ErrNotJoined) {
					t.Fatalf("error frame decodes to %v", err)
				}
				reencoded = body
			default:
				t.Fatalf("type %d", typ)
			}
			if !bytes.Equal(reencoded, body) {
				t.Errorf("re-encoded body differs")
			}
		})
	}
}

func TestReadFrameLimits(t *testing.T) {
	const maxObject = 1 << 10
	long := func(typ byte, n int) []byte {
		b := binary.AppendUvarint(nil, uint64(n+1))
		b = append(b, typ)
		return append(b, make([]byte, n)...)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"clean end", nil, io.EOF},
		{"empty frame", []byte{0}, ErrProtocol},
		{"truncated length", []byte{0x80}, ErrProtocol},
		{"length overflow", bytes.Repeat([]byte{0xff}, 11), ErrProtocol},
		{"truncated body", []byte{5, frameWant, 1}, ErrProtocol},
		{"control frame at limit", long(frameRanges, maxControlFrame), nil},
		{"control frame over limit", long(frameRanges, maxControlFrame+1), ErrProtocol},
		{"object at limit", long(frameObject, maxObject+objectOverhead), nil},
		{"object over limit", long(frameObject, maxObject+objectOverhead+1), ErrProtocol},
		{"huge length", binary.AppendUvarint(nil, 1<<62), ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)), maxObject)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	c := testCIDs(0, 1)[0]
	tests := []struct {
		name   string
		decode func([]byte) error
		in     []byte
	}{
		{"ranges: bound too long", rangesErr, []byte{1, 33}},
		{"ranges: unknown mode", rangesErr, []byte{1, 0xff, 7}},
		{"ranges: truncated fingerprint", rangesErr, []byte{1, 0xff, 1, 1, 2}},
		{"ranges: too many", rangesErr, binary.AppendUvarint(nil, maxRangesPerFrame+1)},
		{"ranges: too many ids", rangesErr, append([]byte{1, 0xff, 2}, binary.AppendUvarint(nil, maxIDsPerFrame+1)...)},
		{"ranges: trailing bytes", rangesErr, []byte{0, 0}},
		{"ranges: bad cid", rangesErr, []byte{1, 0xff, 2, 1, 3, 1, 2, 3}},
		{"ranges: empty cid in id list", rangesErr, []byte{1, 0xff, 2, 1, 0}},
		{"want: none", wantErr, []byte{0}},
		{"want: too many", wantErr, binary.AppendUvarint(nil, maxWantPerFrame+1)},
		{"want: cid too long", wantErr, append([]byte{1}, binary.AppendUvarint(nil, maxCIDLen+1)...)},
		{"object: no cid", objectErr, []byte{0}},
		{"missing: trailing", missingErr, append(encodeMissing(c), 0)},
		{"error: empty", func(b []byte) error {
			if err := decodeError(b); !errors.Is(err, ErrProtocol) {
				return nil
			}
			return ErrProtocol
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.decode(tt.in); !errors.Is(err, ErrProtocol) {
				t.Errorf("err = %v, want ErrProtocol", err)
			}
		})
	}
}

func rangesErr(b []byte) error  { _, err := decodeRanges(b); return err }
func wantErr(b []byte) error    { _, err := decodeWant(b); return err }
func objectErr(b []byte) error  { _, _, err := decodeObject(b); return err }
func missingErr(b []byte) error { _, err := decodeMissing(b); return err }

// FuzzReadFrame feeds arbitrary stream bytes to the framing and every
// frame decoder.
func FuzzReadFrame(f *testing.F) {
	for _, g := range goldenFrames(f) {
		f.Add(g.b)
	}
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			typ, body, err := readFrame(r, 1<<16)
			if err != nil {
				return
			}
			switch typ {
			case frameReconcile:
				_, _, _ = decodeReconcile(body)
			case frameRanges:
				_, _ = decodeRanges(body)
			case frameWant:
				_, _ = decodeWant(body)
			case frameObject:
				_, _, _ = decodeObject(body)
			case frameMissing:
				_, _ = decodeMissing(body)
			case frameError:
				_ = decodeError(body)
			}
		}
	})
}

// FuzzReconcile feeds arbitrary RANGES payloads to both sides of the
// reconciler over a fixed set: they must answer or fail, never panic, and
// an answer must itself decode.
func FuzzReconcile(f *testing.F) {
	cids := testCIDs(0, 300)
	s := newSet(cids)
	for _, g := range goldenFrames(f) {
		if len(g.b) > 2 {
			f.Add(g.b[2:])
		}
	}
	f.Add(appendRanges(nil, opening(f, s, bound{})))
	f.Fuzz(func(t *testing.T, payload []byte) {
		in, err := decodeRanges(payload)
		if err != nil {
			return
		}
		for i := range 4 {
			v := views[i%2].make(cids)
			out, err := newReconciler(v, i < 2).process(in)
			if err != nil {
				continue
			}
			enc := appendRanges(nil, out)
			if len(enc) > maxControlFrame {
				t.Fatalf("answer of %d bytes", len(enc))
			}
			if _, err := decodeRanges(enc); err != nil {
				t.Fatalf("answer does not decode: %v", err)
			}
		}
	})
}

// FuzzServeSync feeds arbitrary streams to a started node's sync
// responder: it must answer or fail, never panic or hang, and never store
// anything its Objects did not accept.
func FuzzServeSync(f *testing.F) {
	dn := testDatanet("golden")
	tn := newTestNet(f, 1, []cid.Cid{dn})
	n := tn.nodes[0]
	if err := n.Join(context.Background(), dn); err != nil {
		f.Fatal(err)
	}
	tn.objs[0].add(f, mkObj(dn, "held"))
	var session []byte
	for _, g := range goldenFrames(f) {
		f.Add(g.b)
		session = append(session, g.b...)
	}
	f.Add(session)
	f.Fuzz(func(t *testing.T, in []byte) {
		w := newWire(&struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), io.Discard}, n.cfg.MaxObjectSize)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.serveSync(ctx, w, n.ID())
		o := tn.objs[0]
		o.mu.Lock()
		defer o.mu.Unlock()
		for c, data := range o.data {
			if !hashMatches(c, data) {
				t.Fatal("stored bytes that do not match their CID")
			}
		}
	})
}
