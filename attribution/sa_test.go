package attribution

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"index/suffixarray"
	"math/rand/v2"
	"testing"
)

// suffixArrayOf runs writeSuffixArray and reads the file format back.
func suffixArrayOf(t *testing.T, text []byte) []uint32 {
	t.Helper()
	var out bytes.Buffer
	if err := writeSuffixArray(context.Background(), text, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != saEntry*len(text) {
		t.Fatalf("%d bytes of suffix array for %d of text", out.Len(), len(text))
	}
	sa := make([]uint32, len(text))
	for i := range sa {
		sa[i] = binary.LittleEndian.Uint32(out.Bytes()[saEntry*i:])
	}
	return sa
}

// TestSuffixArrayDecoding checks that what is decoded from
// index/suffixarray's Write is a suffix array: a permutation of the
// positions with the suffixes in strictly increasing order. If Go changes
// its format, this fails loudly.
func TestSuffixArrayDecoding(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	texts := map[string][]byte{
		"empty":   {},
		"one":     {'a'},
		"banana":  []byte("banana\x00"),
		"repeats": bytes.Repeat([]byte("ab"), 5000),
		"same":    bytes.Repeat([]byte{'z'}, 7000),
	}
	rnd := make([]byte, 100_000) // several chunks of the stream
	for i := range rnd {
		rnd[i] = byte(r.IntN(256))
	}
	texts["random bytes"] = rnd
	texts["words"] = []byte(join(words(r, corpusWords, 20000)))
	small := make([]byte, 30_000)
	for i := range small {
		small[i] = "ab\x00"[r.IntN(3)]
	}
	texts["small alphabet"] = small
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			sa := suffixArrayOf(t, text)
			seen := make([]bool, len(text))
			for i, p := range sa {
				if int(p) >= len(text) || seen[p] {
					t.Fatalf("entry %d = %d: not a permutation", i, p)
				}
				seen[p] = true
				if i > 0 && bytes.Compare(text[sa[i-1]:], text[p:]) >= 0 {
					t.Fatalf("suffixes %d and %d out of order", i-1, i)
				}
			}
			// The stdlib agrees on where things are.
			if len(text) > 2 {
				ix := suffixarray.New(text)
				pat := text[len(text)/2 : len(text)/2+2]
				if got, want := len(ix.Lookup(pat, -1)), countPrefix(text, sa, pat); got != want {
					t.Fatalf("lookup %q: stdlib %d, ours %d", pat, got, want)
				}
			}
		})
	}
}

func countPrefix(text []byte, sa []uint32, p []byte) int {
	n := 0
	for _, s := range sa {
		if bytes.HasPrefix(text[s:], p) {
			n++
		}
	}
	return n
}

// TestSuffixArrayStreamChecks: the decoder refuses streams that are not
// what it expects.
func TestSuffixArrayStreamChecks(t *testing.T) {
	text := []byte("mississippi\x00")
	var good bytes.Buffer
	if err := suffixarray.New(text).Write(&good); err != nil {
		t.Fatal(err)
	}
	decode := func(stream []byte, text []byte) error {
		var out bytes.Buffer
		return decodeSuffixArray(context.Background(), bufio.NewReader(bytes.NewReader(stream)), text, &out)
	}
	if err := decode(good.Bytes(), text); err != nil {
		t.Fatalf("good stream: %v", err)
	}
	g := good.Bytes()
	hdr := binary.MaxVarintLen64 + len(text) // where the first chunk starts
	for name, stream := range map[string][]byte{
		"wrong length": withLength(g, 99),
		"truncated":    g[:len(g)-1],
		"trailing":     append(bytes.Clone(g), 0),
		"bad chunk":    append(bytes.Clone(g[:hdr]), make([]byte, 10)...),
		"out of order": withEntry(g, hdr, 0),
	} {
		if err := decode(stream, text); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name != "truncated" && !errors.Is(err, errSAFormat) {
			t.Errorf("%s: %v, want errSAFormat", name, err)
		}
	}
}

// withEntry returns the stream with every entry of the first chunk set to v.
func withEntry(stream []byte, at int, v byte) []byte {
	s := bytes.Clone(stream)
	size, _ := binary.Varint(s[at:])
	for p := at + binary.MaxVarintLen64; p < at+int(size); p++ {
		s[p] = v
	}
	return s
}

// withLength returns the stream with its text length field set to n.
func withLength(stream []byte, n int64) []byte {
	s := bytes.Clone(stream)
	clear(s[:binary.MaxVarintLen64])
	binary.PutVarint(s, n)
	return s
}
