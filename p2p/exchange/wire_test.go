package exchange

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with the hex dump in testdata/name, or rewrites it
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	dump := hex.Dump(got)
	if *update {
		if err := os.WriteFile(path, []byte(dump), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if dump != string(want) {
		t.Errorf("%s changed: the wire format is not what it was.\ngot:\n%swant:\n%s", name, dump, want)
	}
}

func TestWireGolden(t *testing.T) {
	hello := []byte("hello")
	c := cidOf(hello)
	if c.String() != "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq" {
		t.Fatalf("CID of hello is %s", c)
	}
	other := cidOf([]byte("world"))
	tests := []struct {
		name string
		enc  []byte
		size int // as documented in doc.go, 0 if not
	}{
		{"request.golden", appendRequest(nil, [][]byte{c.Bytes()}), 39},
		{"request-two.golden", appendRequest(nil, [][]byte{c.Bytes(), other.Bytes()}), 0},
		{"response-ok.golden", append(appendResponseHeader(nil, statusOK, c.Bytes(), len(hello)), hello...), 44},
		{"response-not-found.golden", appendResponseHeader(nil, statusNotFound, c.Bytes(), 0), 38},
		{"response-unavailable.golden", appendResponseHeader(nil, statusUnavailable, c.Bytes(), 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, tt.enc)
			if tt.size != 0 && len(tt.enc) != tt.size {
				t.Errorf("%d bytes, doc.go says %d", len(tt.enc), tt.size)
			}
		})
	}
}

func TestRequestRoundTrip(t *testing.T) {
	_, cids := testShards(maxRequestCIDs, 1024)
	for _, n := range []int{1, 2, 100, maxRequestCIDs} {
		bins := make([][]byte, n)
		for i := range bins {
			bins[i] = cids[i].Bytes()
		}
		enc := appendRequest(nil, bins)
		frame, err := readRequestFrame(bufio.NewReader(bytes.NewReader(enc)), nil)
		if err != nil {
			t.Fatalf("%d cids: readRequestFrame: %v", n, err)
		}
		if len(frame) > maxRequestFrame {
			t.Errorf("%d cids: frame of %d bytes is over the limit", n, len(frame))
		}
		got, err := decodeRequest(frame, nil)
		if err != nil {
			t.Fatalf("%d cids: decodeRequest: %v", n, err)
		}
		if len(got) != n {
			t.Fatalf("%d cids: decoded %d", n, len(got))
		}
		for i := range got {
			c, err := parseCID(got[i])
			if err != nil || !c.Equals(cids[i]) {
				t.Errorf("%d cids: cid %d is %v, %v; want %s", n, i, c, err, cids[i])
			}
		}
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	c := cidOf([]byte("hello")).Bytes()
	tests := []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"zero count", []byte{0}},
		{"count over limit", appendUvarint(nil, maxRequestCIDs+1)},
		{"missing cid", []byte{2, 36}},
		{"cid length zero", []byte{1, 0}},
		{"cid length over limit", appendUvarint([]byte{1}, maxCIDLen+1)},
		{"non-minimal count", []byte{0x81, 0x00, 36}},
		{"non-minimal cid length", append([]byte{1, 0xa4, 0x00}, c...)},
		{"trailing byte", append(append([]byte{1, 36}, c...), 0)},
		{"truncated", append([]byte{1, 36}, c[:35]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := decodeRequest(tt.frame, nil); !errors.Is(err, ErrProtocol) {
				t.Errorf("decodeRequest(%x) = %x, %v; want ErrProtocol", tt.frame, got, err)
			}
		})
	}
}

func TestReadRequestFrameErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		protocol bool // a protocol violation, not just the end of the stream
	}{
		{"zero length", []byte{0}, true},
		{"over limit", appendUvarint(nil, maxRequestFrame+1), true},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 10), true},
		{"10-byte varint over 64 bits", append(bytes.Repeat([]byte{0xff}, 9), 0x02), true},
		{"non-minimal", []byte{0x85, 0x00}, true},
		{"truncated length", []byte{0x85}, false},
		{"truncated frame", []byte{5, 1, 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readRequestFrame(bufio.NewReader(bytes.NewReader(tt.in)), nil)
			if err == nil || err == io.EOF {
				t.Fatalf("readRequestFrame(%x): %v, want an error", tt.in, err)
			}
			if errors.Is(err, ErrProtocol) != tt.protocol {
				t.Errorf("readRequestFrame(%x): %v; protocol violation: %v, want %v", tt.in, err, !tt.protocol, tt.protocol)
			}
		})
	}
	if _, err := readRequestFrame(bufio.NewReader(bytes.NewReader(nil)), nil); err != io.EOF {
		t.Errorf("readRequestFrame at the end of the stream: %v, want io.EOF", err)
	}
}

func TestReadResponseHeader(t *testing.T) {
	c := cidOf([]byte("hello")).Bytes()
	other := cidOf([]byte("world")).Bytes()
	ok := appendResponseHeader(nil, statusOK, c, 5)
	tests := []struct {
		name   string
		in     []byte
		status byte
		size   int
		err    error  // errors.Is, nil for success
		msg    string // in the error, if err is nil and this is not empty
	}{
		{name: "ok", in: ok, status: statusOK, size: 5},
		{name: "not found", in: appendResponseHeader(nil, statusNotFound, c, 0), status: statusNotFound},
		{name: "unavailable", in: appendResponseHeader(nil, statusUnavailable, c, 0), status: statusUnavailable},
		{name: "empty shard", in: appendResponseHeader(nil, statusOK, c, 0), status: statusOK},
		{name: "largest shard", in: appendResponseHeader(nil, statusOK, c, MaxShardSize), status: statusOK, size: MaxShardSize},
		{name: "busy", in: []byte{statusBusy}, err: ErrBusy},
		{name: "unknown status", in: append([]byte{9}, ok[1:]...), err: ErrProtocol},
		{name: "other cid", in: appendResponseHeader(nil, statusOK, other, 5), err: ErrProtocol},
		{name: "cid length", in: append([]byte{statusOK, 35}, c...), err: ErrProtocol},
		{name: "oversize shard", in: appendResponseHeader(nil, statusOK, c, MaxShardSize+1), err: ErrProtocol},
		{name: "non-minimal size", in: append(append([]byte{statusOK, 36}, c...), 0x85, 0x00), err: ErrProtocol},
		{name: "nothing", in: nil, msg: "unanswered"},
		{name: "truncated cid", in: ok[:10], err: io.ErrUnexpectedEOF},
		{name: "truncated size", in: ok[:len(ok)-1], err: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, size, err := readResponseHeader(bufio.NewReader(bytes.NewReader(tt.in)), c)
			switch {
			case tt.err == nil && tt.msg == "":
				if err != nil || status != tt.status || size != tt.size {
					t.Errorf("got %d, %d, %v; want %d, %d", status, size, err, tt.status, tt.size)
				}
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Errorf("got %v, want %v", err, tt.err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("got %v, want an error saying %q", err, tt.msg)
				}
			}
			if tt.err == io.ErrUnexpectedEOF && errors.Is(err, ErrProtocol) {
				t.Errorf("a truncated response is reported as a protocol violation: %v", err)
			}
		})
	}
}
