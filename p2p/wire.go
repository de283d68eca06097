package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// Frames of the sync protocol; doc.go documents the format.
const (
	frameReconcile byte = 1
	frameRanges    byte = 2
	frameWant      byte = 3
	frameObject    byte = 4
	frameMissing   byte = 5
	frameDone      byte = 6
	frameError     byte = 7
)

// Error codes of an ERROR frame.
const (
	codeNotJoined byte = 1 // the responder has not joined the set
	codeBusy      byte = 2 // too many sync sessions; try later
	codeBadFrame  byte = 3 // the responder could not use a frame
)

const (
	// maxControlFrame bounds every frame but OBJECT.
	maxControlFrame = 1 << 20
	// objectOverhead is the room an OBJECT frame needs beyond the object.
	objectOverhead = 1 + binary.MaxVarintLen64 + maxCIDLen
	// maxWantPerFrame bounds the CIDs of one WANT frame.
	maxWantPerFrame = 256
	maxErrorText    = 256
)

// wire is one sync stream with buffered, counted, bounded framing.
type wire struct {
	r         *bufio.Reader
	w         *bufio.Writer
	maxObject int
	in, out   int64
}

func newWire(rw io.ReadWriter, maxObject int) *wire {
	c := &wire{maxObject: maxObject}
	c.r = bufio.NewReader(countReader{rw, &c.in})
	c.w = bufio.NewWriterSize(countWriter{rw, &c.out}, 64<<10)
	return c
}

type countReader struct {
	r io.Reader
	n *int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

type countWriter struct {
	w io.Writer
	n *int64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// send buffers one frame; flush writes it out.
func (c *wire) send(typ byte, body []byte) error {
	var hdr [binary.MaxVarintLen64 + 1]byte
	n := binary.PutUvarint(hdr[:], uint64(len(body)+1))
	hdr[n] = typ
	if _, err := c.w.Write(hdr[:n+1]); err != nil {
		return err
	}
	_, err := c.w.Write(body)
	return err
}

func (c *wire) flush() error { return c.w.Flush() }

// recv reads one frame. It returns io.EOF only at a clean end between
// frames.
func (c *wire) recv() (byte, []byte, error) {
	return readFrame(c.r, c.maxObject)
}

// readFrame reads one frame whose body is bounded by maxControlFrame, or
// by maxObject plus its header for an OBJECT frame.
func readFrame(r *bufio.Reader, maxObject int) (byte, []byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("%w: frame length: %w", ErrProtocol, err)
	}
	if n == 0 {
		return 0, nil, fmt.Errorf("%w: empty frame", ErrProtocol)
	}
	typ, err := r.ReadByte()
	if err != nil {
		return 0, nil, unexpectedEOF(err)
	}
	limit := uint64(maxControlFrame)
	if typ == frameObject {
		limit = uint64(maxObject) + objectOverhead
	}
	if n-1 > limit {
		return 0, nil, fmt.Errorf("%w: frame type %d of %d bytes exceeds %d", ErrProtocol, typ, n-1, limit)
	}
	if n-1 <= frameReadStep {
		// Most frames (an object, a WANT): read into a body of their size.
		// A bytes.Buffer would grow it again for its minimum read, an
		// allocation and a copy per frame.
		body := make([]byte, n-1)
		if _, err := io.ReadFull(r, body); err != nil {
			return 0, nil, unexpectedEOF(err)
		}
		return typ, body, nil
	}
	// Grow the body as bytes arrive rather than trusting the length: a
	// peer announcing a large frame must send it to make us hold it.
	var body bytes.Buffer
	body.Grow(frameReadStep)
	if _, err := io.CopyN(&body, r, int64(n-1)); err != nil {
		return 0, nil, unexpectedEOF(err)
	}
	return typ, body.Bytes(), nil
}

// frameReadStep is what readFrame holds for a frame before its bytes
// arrive.
const frameReadStep = 64 << 10

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", ErrProtocol, err)
}

// appendCID appends uvarint(len) || cid bytes; cid.Undef is length 0.
func appendCID(b []byte, c cid.Cid) []byte {
	if !c.Defined() {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(c.ByteLen()))
	return append(b, c.Bytes()...)
}

// decoder reads the fields of one frame body.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated frame")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

// cid reads a CID; a zero length gives cid.Undef when allowUndef is set.
func (d *decoder) cid(allowUndef bool) cid.Cid {
	n := d.uvarint()
	if d.err != nil {
		return cid.Undef
	}
	if n == 0 && allowUndef {
		return cid.Undef
	}
	if n == 0 || n > maxCIDLen {
		d.fail("cid length %d", n)
		return cid.Undef
	}
	raw := d.bytes(int(n))
	if d.err != nil {
		return cid.Undef
	}
	c, err := cid.Cast(raw)
	if err != nil {
		d.fail("bad cid: %v", err)
		return cid.Undef
	}
	return c
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// appendRanges encodes a RANGES payload.
func appendRanges(b []byte, rs []syncRange) []byte {
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for i := range rs {
		r := &rs[i]
		if r.upper.inf {
			b = append(b, 0xff)
		} else {
			b = append(b, byte(r.upper.n))
			b = append(b, r.upper.k[:r.upper.n]...)
		}
		b = append(b, byte(r.mode))
		switch r.mode {
		case modeFingerprint:
			b = append(b, r.fp[:]...)
		case modeIDList:
			b = binary.AppendUvarint(b, uint64(len(r.ids)))
			for _, c := range r.ids {
				b = appendCID(b, c)
			}
		}
	}
	return b
}

// ranges decodes a RANGES payload, checking bounds and counts; the
// reconciler checks that the bounds increase.
func (d *decoder) ranges() []syncRange {
	n := d.uvarint()
	if n > maxRangesPerFrame {
		d.fail("%d ranges", n)
	}
	if d.err != nil {
		return nil
	}
	rs := make([]syncRange, 0, min(n, 64))
	ids := 0
	for range n {
		var r syncRange
		switch l := d.byte(); {
		case l == 0xff:
			r.upper = infBound
		case l <= keySize:
			r.upper.n = int(l)
			copy(r.upper.k[:], d.bytes(int(l)))
		default:
			d.fail("bound length %d", l)
		}
		r.mode = rangeMode(d.byte())
		switch r.mode {
		case modeSkip:
		case modeFingerprint:
			copy(r.fp[:], d.bytes(fingerprintSize))
		case modeIDList:
			m := d.uvarint()
			ids += int(min(m, maxIDsPerFrame+1))
			if ids > maxIDsPerFrame {
				d.fail("more than %d ids", maxIDsPerFrame)
			}
			for j := uint64(0); j < m && d.err == nil; j++ {
				r.ids = append(r.ids, d.cid(false))
			}
		default:
			d.fail("range mode %d", r.mode)
		}
		if d.err != nil {
			return nil
		}
		rs = append(rs, r)
	}
	return rs
}

func decodeRanges(body []byte) ([]syncRange, error) {
	d := decoder{b: body}
	rs := d.ranges()
	return rs, d.end()
}

func encodeReconcile(set cid.Cid, rs []syncRange) []byte {
	return appendRanges(appendCID(nil, set), rs)
}

func decodeReconcile(body []byte) (cid.Cid, []syncRange, error) {
	d := decoder{b: body}
	set := d.cid(true)
	rs := d.ranges()
	return set, rs, d.end()
}

func encodeWant(cids []cid.Cid) []byte {
	b := binary.AppendUvarint(nil, uint64(len(cids)))
	for _, c := range cids {
		b = appendCID(b, c)
	}
	return b
}

func decodeWant(body []byte) ([]cid.Cid, error) {
	d := decoder{b: body}
	n := d.uvarint()
	if n == 0 || n > maxWantPerFrame {
		d.fail("want of %d cids", n)
	}
	var out []cid.Cid
	for i := uint64(0); i < n && d.err == nil; i++ {
		out = append(out, d.cid(false))
	}
	return out, d.end()
}

func encodeObject(c cid.Cid, data []byte) []byte {
	b := make([]byte, 0, cidSize(c)+len(data))
	return append(appendCID(b, c), data...)
}

func decodeObject(body []byte) (cid.Cid, []byte, error) {
	d := decoder{b: body}
	c := d.cid(false)
	if d.err != nil {
		return cid.Undef, nil, d.err
	}
	return c, d.b, nil
}

func encodeMissing(c cid.Cid) []byte { return appendCID(nil, c) }

func decodeMissing(body []byte) (cid.Cid, error) {
	d := decoder{b: body}
	c := d.cid(false)
	return c, d.end()
}

func encodeError(code byte, text string) []byte {
	if len(text) > maxErrorText {
		text = text[:maxErrorText]
	}
	return append([]byte{code}, text...)
}

// remoteError is an ERROR frame received from a peer.
type remoteError struct {
	code byte
	text string
}

func (e *remoteError) Error() string { return fmt.Sprintf("peer error %d: %s", e.code, e.text) }

func (e *remoteError) Unwrap() error {
	switch e.code {
	case codeNotJoined:
		return ErrNotJoined
	case codeBusy:
		return ErrBusy
	}
	return ErrProtocol
}

func decodeError(body []byte) error {
	if len(body) == 0 || len(body) > 1+maxErrorText {
		return fmt.Errorf("%w: bad error frame", ErrProtocol)
	}
	return &remoteError{code: body[0], text: string(body[1:])}
}
