package exchange

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// ProtocolID names the shard exchange protocol on libp2p streams.
const ProtocolID = "/openledger/shards/1.0.0"

// Bounds of the wire format (see doc.go). A peer that exceeds one has its
// stream reset.
const (
	// MaxShardSize is the largest shard sent or accepted.
	MaxShardSize = storage.MaxChunkSize
	// maxRequestCIDs bounds the CIDs named by one request frame.
	maxRequestCIDs = 256
	// maxCIDLen bounds the length of one binary CID. A CIDv1 raw sha2-256
	// is 36 bytes.
	maxCIDLen = 128
	// maxRequestFrame bounds the body of one request frame.
	maxRequestFrame = 16 << 10
	// maxResponseHeader bounds a response header: status, CID length, CID,
	// data length.
	maxResponseHeader = 1 + binary.MaxVarintLen64 + maxCIDLen + binary.MaxVarintLen64
)

// Response statuses.
const (
	// statusOK is followed by the CID, the data length and the data.
	statusOK byte = 0x00
	// statusNotFound is followed by the CID: the server does not have it.
	statusNotFound byte = 0x01
	// statusUnavailable is followed by the CID: the server has it but
	// could not read it (a storage fault); ask elsewhere.
	statusUnavailable byte = 0x02
	// statusBusy is a whole response, sent instead of any other as the
	// first byte of a stream the server refuses; the server then closes
	// the stream.
	statusBusy byte = 0x03
)

// appendRequest appends to dst a request frame naming cids, each a binary
// CID. The caller keeps len(cids) in [1, maxRequestCIDs] and each CID at
// most maxCIDLen bytes.
func appendRequest(dst []byte, cids [][]byte) []byte {
	body := uvarintLen(uint64(len(cids)))
	for _, c := range cids {
		body += uvarintLen(uint64(len(c))) + len(c)
	}
	dst = binary.AppendUvarint(dst, uint64(body))
	dst = binary.AppendUvarint(dst, uint64(len(cids)))
	for _, c := range cids {
		dst = binary.AppendUvarint(dst, uint64(len(c)))
		dst = append(dst, c...)
	}
	return dst
}

// uvarintLen returns the length of the uvarint encoding of x.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// readRequestFrame reads the next request frame from r into buf (grown if
// needed) and returns its body. It returns io.EOF when r ends cleanly before
// a frame, and an error wrapping ErrProtocol for an oversize or truncated
// frame.
func readRequestFrame(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := readUvarint(r)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, wireError("request length", err)
	}
	if n == 0 || n > maxRequestFrame {
		return nil, fmt.Errorf("%w: request frame of %d bytes (limit %d)", ErrProtocol, n, maxRequestFrame)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, wireError("request frame", err)
	}
	return buf, nil
}

// decodeRequest decodes the body of a request frame into dst (reusing its
// capacity) and returns the CIDs it names, in order. The CIDs are slices of
// frame. Any error wraps ErrProtocol.
func decodeRequest(frame []byte, dst [][]byte) ([][]byte, error) {
	dst = dst[:0]
	count, n := uvarint(frame)
	if n <= 0 {
		return nil, fmt.Errorf("%w: bad cid count", ErrProtocol)
	}
	if count == 0 || count > maxRequestCIDs {
		return nil, fmt.Errorf("%w: request for %d cids (limit %d)", ErrProtocol, count, maxRequestCIDs)
	}
	rest := frame[n:]
	for range count {
		l, n := uvarint(rest)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad cid length", ErrProtocol)
		}
		if l == 0 || l > maxCIDLen {
			return nil, fmt.Errorf("%w: cid of %d bytes (limit %d)", ErrProtocol, l, maxCIDLen)
		}
		rest = rest[n:]
		if uint64(len(rest)) < l {
			return nil, fmt.Errorf("%w: truncated cid", ErrProtocol)
		}
		dst = append(dst, rest[:l:l])
		rest = rest[l:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes in request frame", ErrProtocol, len(rest))
	}
	return dst, nil
}

// parseCID parses a binary CID from a request.
func parseCID(b []byte) (cid.Cid, error) {
	n, c, err := cid.CidFromBytes(b)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if n != len(b) {
		return cid.Undef, fmt.Errorf("%w: %d trailing bytes after cid", ErrProtocol, len(b)-n)
	}
	return c, nil
}

// appendResponseHeader appends the header of a response for the binary CID
// c with the given status; size is the length of the data that follows when
// status is statusOK.
func appendResponseHeader[B []byte | string](dst []byte, status byte, c B, size int) []byte {
	dst = append(dst, status)
	dst = binary.AppendUvarint(dst, uint64(len(c)))
	dst = append(dst, c...)
	if status == statusOK {
		dst = binary.AppendUvarint(dst, uint64(size))
	}
	return dst
}

// readResponseHeader reads the header of the next response from r, which
// must be for the binary CID want (responses come in request order). It
// returns the status and, for statusOK, the length of the data that follows.
// A busy server gives an error wrapping ErrBusy; anything malformed, one
// wrapping ErrProtocol.
func readResponseHeader(r *bufio.Reader, want []byte) (status byte, size int, err error) {
	status, err = r.ReadByte()
	if err == io.EOF {
		return 0, 0, errors.New("stream closed with requests unanswered")
	}
	if err != nil {
		return 0, 0, wireError("response status", err)
	}
	switch status {
	case statusOK, statusNotFound, statusUnavailable:
	case statusBusy:
		return status, 0, ErrBusy
	default:
		return 0, 0, fmt.Errorf("%w: unknown status %#x", ErrProtocol, status)
	}
	l, err := readUvarint(r)
	if err != nil {
		return 0, 0, wireError("response cid length", err)
	}
	if l != uint64(len(want)) {
		return 0, 0, fmt.Errorf("%w: response for a cid of %d bytes, want %d", ErrProtocol, l, len(want))
	}
	got, err := r.Peek(len(want))
	if err != nil {
		return 0, 0, wireError("response cid", err)
	}
	if !bytes.Equal(got, want) {
		return 0, 0, fmt.Errorf("%w: response out of order", ErrProtocol)
	}
	if _, err := r.Discard(len(want)); err != nil {
		return 0, 0, wireError("response cid", err)
	}
	if status != statusOK {
		return status, 0, nil
	}
	n, err := readUvarint(r)
	if err != nil {
		return 0, 0, wireError("response length", err)
	}
	if n > MaxShardSize {
		return 0, 0, fmt.Errorf("%w: shard of %d bytes (limit %d)", ErrProtocol, n, MaxShardSize)
	}
	return status, int(n), nil
}

// errVarint reports a varint that is longer than 64 bits or not minimally
// encoded: each value has exactly one encoding on the wire.
var errVarint = fmt.Errorf("%w: bad varint", ErrProtocol)

// readUvarint reads a minimally encoded uvarint from r. It returns io.EOF
// only if r ends before the first byte.
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	for i := range binary.MaxVarintLen64 {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if b < 0x80 {
			if (i > 0 && b == 0) || (i == binary.MaxVarintLen64-1 && b > 1) {
				return 0, errVarint
			}
			return x | uint64(b)<<(7*i), nil
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, errVarint
}

// uvarint decodes a minimally encoded uvarint from b and returns it and the
// number of bytes read, or n <= 0 if b does not start with one.
func uvarint(b []byte) (x uint64, n int) {
	x, n = binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, -n
	}
	return x, n
}

// wireError wraps an error met while decoding what. The end of the stream
// inside a frame is reported as io.ErrUnexpectedEOF but not as a protocol
// violation: a peer whose process dies may look like that.
func wireError(what string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: %w", what, err)
}
