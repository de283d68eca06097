package attribution

import (
	"bytes"
	"unicode/utf8"
)

// Normalization names the text protocol this package implements: the
// normalisation of bytes, the kinds read and how each becomes text, and the
// word and span rules of the query (see the package documentation). An
// attribution record states it, and a node that implements another refuses
// to verify the record rather than disagree silently.
const Normalization = "openledger-text/1"

// sep separates pieces of text in a segment. Normalised text never holds
// it, so no match crosses a piece.
const sep = 0x00

// normTable maps each byte to its normalised byte.
var normTable = func() (t [256]byte) {
	for i := range t {
		switch b := byte(i); {
		case b >= 'A' && b <= 'Z':
			t[i] = b + ('a' - 'A')
		case b < 0x20 || b == 0x7f:
			t[i] = ' '
		default:
			t[i] = b
		}
	}
	return t
}()

// Normalize appends the normalised src to dst and returns the extended
// slice: ASCII upper-case letters become lower case, every byte 0x00–0x1F
// and 0x7F becomes a space, every other byte is unchanged. It keeps lengths
// and offsets.
func Normalize(dst, src []byte) []byte {
	n := len(dst)
	dst = append(dst, src...)
	for i, b := range dst[n:] {
		dst[n+i] = normTable[b]
	}
	return dst
}

// Kinds of file the span index reads. Others are attributed by whole-file
// use, outside this package.
const (
	KindTXT   = "txt"
	KindMD    = "md"
	KindCSV   = "csv"
	KindJSON  = "json"
	KindJSONL = "jsonl"
)

// Indexable reports whether files of kind (a lower-case file extension
// without the dot) are read by the span index.
func Indexable(kind string) bool {
	switch kind {
	case KindTXT, KindMD, KindCSV, KindJSON, KindJSONL:
		return true
	}
	return false
}

func isJSONKind(kind string) bool { return kind == KindJSON || kind == KindJSONL }

// SourceText returns the indexed text of src, a run of bytes of a file of
// the given kind: what a span's source bytes [Offset, Offset+Length) must
// give back, so a verifier holding the file can check a span with
// bytes.Equal(SourceText(kind, src), Normalize(nil, spanText)).
//
// For txt, md and csv it is src normalised. For json and jsonl, src is read
// as the inside of one JSON string literal: escapes are decoded, then the
// result is normalised; an unescaped quote (the end of the literal) gives a
// 0x00 byte, which no normalised output holds, so a run that leaves its
// string never verifies. For any other kind it is nil.
func SourceText(kind string, src []byte) []byte {
	switch {
	case kind == KindTXT || kind == KindMD || kind == KindCSV:
		return Normalize(nil, src)
	case isJSONKind(kind):
		var c collector
		lx := jsonLexer{sink: &c, in: true}
		lx.lexBytes(src)
		return c.text
	}
	return nil
}

// collector is a sink that builds the text of its pieces, as a segment does,
// without the offset table.
type collector struct {
	text []byte
}

func (c *collector) raw(_ int64, b []byte)             { c.text = Normalize(c.text, b) }
func (c *collector) escape(_ int64, _ int, dec []byte) { c.text = Normalize(c.text, dec) }
func (c *collector) end()                              { c.text = append(c.text, sep) }

// isWordByte reports whether b belongs to a word: an ASCII letter or digit
// (normalised text has no upper case) or any byte ≥ 0x80.
func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 0x80
}

// isWordStart reports whether a span may start at q[i]: a word byte not
// preceded by one, and not a UTF-8 continuation byte (which only starts a
// word in invalid UTF-8, and could fall inside a decoded escape).
func isWordStart(q []byte, i int) bool {
	b := q[i]
	return isWordByte(b) && (b < 0x80 || b >= 0xc0) && (i == 0 || !isWordByte(q[i-1]))
}

// trimEnd returns where the span of q starting at s and matching up to e
// ends: not inside a UTF-8 sequence that e cuts short, not in the middle of
// a word, and without trailing spaces. The result may be s (nothing left).
func trimEnd(q []byte, s, e int) int {
	// An incomplete UTF-8 sequence at the end would end the span inside
	// the bytes of a decoded escape; drop it.
	j := e
	for j > s && j > e-utf8.UTFMax && q[j-1] >= 0x80 && q[j-1] < 0xc0 {
		j--
	}
	if j > s && q[j-1] >= 0xc0 && e-(j-1) < utf8SeqLen(q[j-1]) {
		e = j - 1
	}
	if e < len(q) && e > s && isWordByte(q[e]) && isWordByte(q[e-1]) {
		for e > s && isWordByte(q[e-1]) {
			e--
		}
	}
	for e > s && q[e-1] == ' ' {
		e--
	}
	return e
}

// utf8SeqLen is the length a UTF-8 sequence starting with lead byte b
// declares (1 for a byte that cannot lead one).
func utf8SeqLen(b byte) int {
	switch {
	case b >= 0xc0 && b < 0xe0:
		return 2
	case b >= 0xe0 && b < 0xf0:
		return 3
	case b >= 0xf0 && b < 0xf8:
		return 4
	}
	return 1
}

// blank reports whether normalised text q is empty or only spaces.
func blank(q []byte) bool {
	return len(bytes.TrimLeft(q, " ")) == 0
}
