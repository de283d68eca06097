package attribution

import (
	"bytes"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// A textSink receives the pieces of text found in a file, in order, with
// where each run of bytes came from.
type textSink interface {
	// raw gives bytes copied unchanged from source offset src.
	raw(src int64, b []byte)
	// escape gives the bytes dec decoded from the srcLen source bytes of
	// one escape sequence at src.
	escape(src int64, srcLen int, dec []byte)
	// end closes the current piece.
	end()
}

// maxEscape is the longest escape sequence: a surrogate pair, \uXXXX\uXXXX.
const maxEscape = 12

// jsonLexer finds the string literals in JSON text and decodes them, one
// piece per literal. It is not a validator: it does not tell keys from
// values, and it reads anything. Outside a literal it skips to the next
// quote; inside, it passes runs of bytes through unchanged and decodes
// escapes (\" \\ \/ \b \f \n \r \t, \uXXXX, surrogate pairs; a lone
// surrogate decodes to U+FFFD). A backslash that starts no valid escape is
// an ordinary byte. A literal left open at the end of the text ends there.
type jsonLexer struct {
	sink textSink
	in   bool  // inside a string literal
	off  int64 // source offset of the next byte to lex
	dec  [utf8.UTFMax]byte
}

// lex lexes buf, which starts at source offset l.off, and returns how many
// bytes it consumed. Unless eof, it stops at an escape that may run past
// the end of buf, for the caller to call again with more bytes.
func (l *jsonLexer) lex(buf []byte, eof bool) int {
	i := 0
	quote := -1 // index of the next '"' at or after i, or len(buf) if none
	for i < len(buf) {
		if !l.in {
			j := bytes.IndexByte(buf[i:], '"')
			if j < 0 {
				i = len(buf)
				break
			}
			i += j + 1
			l.in = true
			continue
		}
		if quote < i {
			quote = len(buf)
			if j := bytes.IndexByte(buf[i:], '"'); j >= 0 {
				quote = i + j
			}
		}
		stop := quote
		if j := bytes.IndexByte(buf[i:quote], '\\'); j >= 0 {
			stop = i + j
		}
		if stop > i {
			l.sink.raw(l.off+int64(i), buf[i:stop])
			i = stop
		}
		if i == len(buf) {
			break
		}
		if buf[i] == '"' {
			l.sink.end()
			l.in = false
			i++
			continue
		}
		if len(buf)-i < maxEscape && !eof {
			break
		}
		n, srcLen := decodeEscape(buf[i:], &l.dec)
		if srcLen == 0 {
			l.sink.raw(l.off+int64(i), buf[i:i+1])
			i++
			continue
		}
		l.sink.escape(l.off+int64(i), srcLen, l.dec[:n])
		i += srcLen
	}
	l.off += int64(i)
	return i
}

// lexBytes lexes all of src.
func (l *jsonLexer) lexBytes(src []byte) { l.lex(src, true) }

// lexReader lexes everything r yields, using buf (at least 2·maxEscape
// bytes) to read into, and ends a literal left open at the end. read, if
// not nil, is told of each read and may stop the lexing with an error.
func (l *jsonLexer) lexReader(r io.Reader, buf []byte, read func(n int) error) error {
	held := 0
	for {
		m, err := r.Read(buf[held:])
		held += m
		eof := err == io.EOF
		if err != nil && !eof {
			return err
		}
		if read != nil {
			if err := read(m); err != nil {
				return err
			}
		}
		used := l.lex(buf[:held], eof)
		held = copy(buf, buf[used:held])
		if eof {
			if l.in {
				l.sink.end()
				l.in = false
			}
			return nil
		}
	}
}

// decodeEscape decodes the escape sequence at the start of e (e[0] is a
// backslash) into dec. It returns the number of decoded bytes and of
// source bytes, or srcLen 0 if e starts no valid escape.
func decodeEscape(e []byte, dec *[utf8.UTFMax]byte) (n, srcLen int) {
	if len(e) < 2 {
		return 0, 0
	}
	var b byte
	switch e[1] {
	case '"', '\\', '/':
		b = e[1]
	case 'b':
		b = '\b'
	case 'f':
		b = '\f'
	case 'n':
		b = '\n'
	case 'r':
		b = '\r'
	case 't':
		b = '\t'
	case 'u':
		u, ok := hex4(e[2:])
		if !ok {
			return 0, 0
		}
		r, srcLen := rune(u), 6
		if utf16.IsSurrogate(r) {
			pair := utf8.RuneError
			if r < 0xdc00 && len(e) >= maxEscape && e[6] == '\\' && e[7] == 'u' {
				if v, ok := hex4(e[8:]); ok {
					if d := utf16.DecodeRune(r, rune(v)); d != utf8.RuneError {
						pair, srcLen = d, maxEscape
					}
				}
			}
			r = pair
		}
		return utf8.EncodeRune(dec[:], r), srcLen
	default:
		return 0, 0
	}
	dec[0] = b
	return 1, 2
}

// hex4 decodes four hex digits at the start of b.
func hex4(b []byte) (uint16, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v uint16
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(c)
	}
	return v, true
}
