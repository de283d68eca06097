package attribution

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"index/suffixarray"
	"io"
	"sync"
)

// errSAFormat means the stream of index/suffixarray's Index.Write was not
// in the format this package decodes: Go changed it, and the decoder must
// follow.
var errSAFormat = errors.New("index/suffixarray wrote an unexpected stream (has its format changed?)")

// writeSuffixArray sorts the suffixes of text with the standard library's
// index/suffixarray and writes the suffix array to w as little-endian
// uint32s, one per byte of text.
//
// The standard library keeps its array to itself; Index.Write is the one
// way out. It writes (see writeInt and writeSlice in
// $GOROOT/src/index/suffixarray/suffixarray.go) the text's length as a
// varint in a fixed field of binary.MaxVarintLen64 bytes, the text, then
// the array in chunks: each chunk a fixed varint field holding the chunk's
// size in bytes (the field included), then uvarint entries. The stream is
// decoded through a pipe as it is written, never held whole.
func writeSuffixArray(ctx context.Context, text []byte, w io.Writer) error {
	if len(text) > maxTextBytes {
		return fmt.Errorf("text of %d bytes: at most %d", len(text), maxTextBytes)
	}
	ix := suffixarray.New(text)
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() { pw.CloseWithError(ix.Write(pw)) })
	err := decodeSuffixArray(ctx, bufio.NewReaderSize(pr, 1<<20), text, w)
	// Unblock the writer if decoding stopped early; a no-op after EOF.
	pr.CloseWithError(errors.New("attribution: suffix array decoding stopped"))
	wg.Wait()
	return err
}

// decodeSuffixArray decodes the stream of Index.Write for text, writing
// the entries to w. It checks what is cheap: the length, that there are
// exactly len(text) entries each a position of the text, nothing after
// them, and that a sample of neighbours is in order. TestSuffixArrayDecoding
// checks the rest (a permutation, every neighbour in order): a bitmap of
// the positions seen costs a cache miss per entry, a fifth of the build.
func decodeSuffixArray(ctx context.Context, r *bufio.Reader, text []byte, w io.Writer) error {
	n := len(text)
	var field [binary.MaxVarintLen64]byte
	readField := func() (int64, error) {
		if _, err := io.ReadFull(r, field[:]); err != nil {
			return 0, err
		}
		v, k := binary.Varint(field[:])
		if k <= 0 {
			return 0, fmt.Errorf("%w: bad varint field", errSAFormat)
		}
		return v, nil
	}
	size, err := readField()
	if err != nil {
		return fmt.Errorf("suffix array stream: %w", err)
	}
	if size != int64(n) {
		return fmt.Errorf("%w: text length %d, want %d", errSAFormat, size, n)
	}
	if _, err := r.Discard(n); err != nil {
		return fmt.Errorf("suffix array stream: text: %w", err)
	}
	chunk := make([]byte, 0, 1<<20)
	out := make([]byte, 0, 4<<20)
	var prev uint32
	for got := 0; got < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		size, err := readField()
		if err != nil {
			return fmt.Errorf("suffix array stream after %d of %d entries: %w", got, n, err)
		}
		if size <= binary.MaxVarintLen64 || size-binary.MaxVarintLen64 > int64(cap(chunk)) {
			return fmt.Errorf("%w: chunk of %d bytes", errSAFormat, size)
		}
		chunk = chunk[:size-binary.MaxVarintLen64]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return fmt.Errorf("suffix array stream: %w", err)
		}
		out = out[:0]
		for p := 0; p < len(chunk); {
			v, k := binary.Uvarint(chunk[p:])
			if k <= 0 || v >= uint64(n) || got >= n {
				return fmt.Errorf("%w: entry %d", errSAFormat, got)
			}
			if got%4099 == 1 && bytes.Compare(text[prev:], text[v:]) >= 0 {
				return fmt.Errorf("%w: entries %d and %d out of order", errSAFormat, got-1, got)
			}
			prev = uint32(v)
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
			p += k
			got++
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: bytes after the last entry", errSAFormat)
	}
	return nil
}
