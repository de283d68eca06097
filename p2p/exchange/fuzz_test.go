package exchange

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzRequest feeds arbitrary bytes to the server's decoders: whatever a
// peer sends, reading and decoding frames never panics, respects the
// bounds, and what decodes re-encodes to the same bytes.
func FuzzRequest(f *testing.F) {
	_, cids := testShards(3, 1024)
	f.Add(appendRequest(nil, [][]byte{cids[0].Bytes()}))
	f.Add(appendRequest(appendRequest(nil, [][]byte{cids[0].Bytes(), cids[1].Bytes()}), [][]byte{cids[2].Bytes()}))
	f.Add([]byte{0})
	f.Add([]byte{3, 1, 1, 0})
	f.Add(bytes.Repeat([]byte{0xff}, 12))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var (
			frame    []byte
			decoded  [][]byte
			consumed int
		)
		for {
			var err error
			frame, err = readRequestFrame(r, frame)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrProtocol) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("readRequestFrame: unexpected error %v", err)
				}
				return
			}
			if len(frame) == 0 || len(frame) > maxRequestFrame {
				t.Fatalf("frame of %d bytes", len(frame))
			}
			decoded, err = decodeRequest(frame, decoded)
			if err != nil {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("decodeRequest: error %v does not wrap ErrProtocol", err)
				}
				return
			}
			if len(decoded) == 0 || len(decoded) > maxRequestCIDs {
				t.Fatalf("%d cids decoded", len(decoded))
			}
			for _, c := range decoded {
				if len(c) == 0 || len(c) > maxCIDLen {
					t.Fatalf("cid of %d bytes", len(c))
				}
				if _, err := parseCID(c); err != nil && !errors.Is(err, ErrProtocol) {
					t.Fatalf("parseCID: error %v does not wrap ErrProtocol", err)
				}
			}
			enc := appendRequest(nil, decoded)
			if want := in[consumed : consumed+len(enc)]; !bytes.Equal(enc, want) {
				t.Fatalf("re-encoded %x, read %x", enc, want)
			}
			consumed += len(enc)
		}
	})
}

// FuzzResponseHeader feeds arbitrary bytes to the client's decoder of
// response headers: it never panics, respects the bounds, and what decodes
// re-encodes to the bytes it read.
func FuzzResponseHeader(f *testing.F) {
	want := cidOf([]byte("hello")).Bytes()
	f.Add(appendResponseHeader(nil, statusOK, want, 5))
	f.Add(appendResponseHeader(nil, statusNotFound, want, 0))
	f.Add(appendResponseHeader(nil, statusOK, want, MaxShardSize+1))
	f.Add([]byte{statusBusy})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		status, size, err := readResponseHeader(r, want)
		if err != nil {
			return
		}
		if size < 0 || size > MaxShardSize || (status != statusOK && size != 0) {
			t.Fatalf("status %d, size %d", status, size)
		}
		enc := appendResponseHeader(nil, status, want, size)
		if !bytes.HasPrefix(in, enc) || r.Buffered() != len(in)-len(enc) {
			t.Fatalf("re-encoded %x, input %x", enc, in)
		}
	})
}
