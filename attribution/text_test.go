package attribution

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	in := []byte("Hello, WORLD!\x00\x01\t\n\r\x1f\x7f~ Ünïcödé ÀZ[`az{")
	want := "hello, world!       ~ Ünïcödé Àz[`az{"
	// Only ASCII A-Z fold: the bytes of "Ü" and "À" are unchanged.
	if got := Normalize(nil, in); string(got) != want {
		t.Fatalf("Normalize = %q, want %q", got, want)
	}
	if got := Normalize([]byte("x"), []byte("AB")); string(got) != "xab" {
		t.Fatalf("append: %q", got)
	}
	for b := range 256 {
		n := Normalize(nil, []byte{byte(b)})
		if len(n) != 1 || n[0] == sep {
			t.Fatalf("byte %#x normalises to %q", b, n)
		}
	}
}

func TestWordsAndTrim(t *testing.T) {
	q := []byte("ab  cd-ef é \xa9x 12")
	var starts []int
	for i := range q {
		if isWordStart(q, i) {
			starts = append(starts, i)
		}
	}
	// "é" is c3 a9: a word start at c3; the lone a9 after a space is not,
	// nor the x after it.
	if want := []int{0, 4, 7, 10, 16}; !equalInts(starts, want) {
		t.Fatalf("word starts %v, want %v", starts, want)
	}
	for _, tc := range []struct {
		q    string
		s, e int
		want int
	}{
		{"hello world", 0, 11, 11},
		{"hello world", 0, 8, 5},  // mid-word: back to "hello"
		{"hello world", 0, 6, 5},  // trailing space
		{"hello, world", 0, 6, 6}, // punctuation stays
		{"hello", 0, 3, 0},        // nothing left
		{"ab caf\xc3\xa9 x", 0, 7, 2},
		{"ab caf\xc3 x", 0, 7, 2},    // cut UTF-8 sequence at the end of a word
		{"ab \xe2\x82 x", 0, 5, 2},   // incomplete 3-byte sequence
		{"ab \xe2\x82\xac", 0, 6, 6}, // complete
	} {
		if got := trimEnd([]byte(tc.q), tc.s, tc.e); got != tc.want {
			t.Errorf("trimEnd(%q, %d, %d) = %d, want %d", tc.q, tc.s, tc.e, got, tc.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lexed is the result of lexing JSON with a textBuilder: the text and the
// offset table.
type lexed struct {
	text    []byte
	records []record
}

func lexJSON(t testing.TB, src []byte, r io.Reader, bufSize int) lexed {
	t.Helper()
	var tab bytes.Buffer
	b := &textBuilder{text: make([]byte, 0, len(src)+1), w: &tab}
	lx := jsonLexer{sink: b}
	if err := lx.lexReader(r, make([]byte, bufSize), nil); err != nil {
		t.Fatal(err)
	}
	b.flush()
	if b.err != nil {
		t.Fatal(b.err)
	}
	var out lexed
	out.text = b.text
	for p := tab.Bytes(); len(p) > 0; p = p[recordSize:] {
		out.records = append(out.records, decodeRecord(p))
	}
	return out
}

func TestJSONLexer(t *testing.T) {
	src := `{"Title": "Caf\u00e9 \"Noir\"\n", "n": 12, "e": "", "emoji": "x\ud83d\ude00y", ` +
		`"lone": "\ud800z", "bad": "\q\u12G", "slash": "a\/b\\c"} "open`
	got := lexJSON(t, []byte(src), strings.NewReader(src), 64)
	want := "title\x00café \"noir\" \x00n\x00e\x00emoji\x00x😀y\x00lone\x00\ufffdz\x00bad\x00\\q\\u12g\x00slash\x00a/b\\c\x00open\x00"
	if string(got.text) != want {
		t.Fatalf("text %q\nwant %q", got.text, want)
	}
	// Each record's source bytes give its text back.
	for _, r := range got.records {
		srcText := SourceText(KindJSON, []byte(src[r.SrcOff:r.SrcOff+uint64(r.SrcLen)]))
		if txt := got.text[r.TextStart : r.TextStart+r.TextLen]; !bytes.Equal(srcText, txt) {
			t.Errorf("record %+v: source gives %q, text %q", r, srcText, txt)
		}
	}
	// The escape of the emoji is one record of 12 source bytes.
	i := strings.Index(src, `\ud83d`)
	found := false
	for _, r := range got.records {
		if r.SrcOff == uint64(i) {
			found = r.SrcLen == 12 && r.TextLen == 4
		}
	}
	if !found {
		t.Fatalf("no 12-byte record for the surrogate pair: %+v", got.records)
	}
}

// TestJSONSpans: a span inside escaped JSON strings maps back to the
// right source bytes.
func TestJSONSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	ws := words(r, corpusWords, 40)
	line := func(a, b []string) string {
		return `{"id": 7, "text": "` + strings.Join(a, " ") + `\n\u00c9l\u00e8ve \"` + strings.Join(b, " ") + `\" \ud83d\ude00 end"}` + "\n"
	}
	data := line(ws[:20], ws[20:30]) + line(words(r, corpusWords, 8), ws[30:40])
	c := &testContribution{cid: testCID("json"), contributor: addr(1), rank: 1,
		files: []testFile{{KindTXT, prose(words(r, corpusWords, 100))}, {KindJSONL, []byte(data)}}}
	cs := []*testContribution{c}
	_, sr := build(t, t.TempDir(), cs, BuildOptions{})

	quote := strings.Join(ws[10:20], " ") + " Élève \"" + strings.Join(ws[20:30], " ") + "\" 😀 end"
	res := attribute(t, sr, "Xq zy "+quote+" zz.")
	checkSources(t, res, cs)
	if len(res.Spans) != 1 || res.Spans[0].Text != quote || res.Spans[0].File != 1 {
		t.Fatalf("spans %s", jsonOf(t, res))
	}
	sp := res.Spans[0]
	src := data[sp.Offset : sp.Offset+sp.Length]
	wantSrc := strings.Join(ws[10:20], " ") + `\n\u00c9l\u00e8ve \"` + strings.Join(ws[20:30], " ") + `\" \ud83d\ude00 end`
	if src != wantSrc {
		t.Fatalf("source bytes %q\nwant %q", src, wantSrc)
	}
	// The quote does not run into the next string: "end" closes the piece.
	res = attribute(t, sr, quote+" 7 "+strings.Join(ws[:5], " "))
	if len(res.Spans) == 0 || res.Spans[0].Text != quote {
		t.Fatalf("a span crossed a string boundary: %s", jsonOf(t, res))
	}
}

func TestSourceText(t *testing.T) {
	for _, tc := range []struct {
		kind, src, want string
	}{
		{KindTXT, "Hello\tWorld", "hello world"},
		{KindMD, "# Title", "# title"},
		{KindCSV, "A,B\r\n", "a,b  "},
		{KindJSON, `caf\u00E9 \"x\"`, "café \"x\""},
		{KindJSONL, `a\nb`, "a b"},
		{KindJSON, `a" "b`, "a\x00b"}, // leaves its string: never equals an output
		{KindJSON, `\ud83d\ude00`, "😀"},
		{"pdf", "x", ""},
	} {
		if got := SourceText(tc.kind, []byte(tc.src)); string(got) != tc.want {
			t.Errorf("SourceText(%s, %q) = %q, want %q", tc.kind, tc.src, got, tc.want)
		}
	}
}

// FuzzJSONLexer: whatever the bytes, the lexer's pieces map back to their
// source consistently, whatever the read sizes; and for a valid JSON
// string it agrees with encoding/json.
func FuzzJSONLexer(f *testing.F) {
	for _, s := range []string{
		`{"a": "b\n\"c\"", "d": ["\u00e9\ud83d\ude00"]}`,
		`"\ud800\udc00\ud800x\udc00"`, `"\`, `"\u12`, `"abc`, `"\q\/"`, `[1, 2, "x\"`,
		"\"\x00\x7f\xff\"", `{"k":"v"}` + "\n" + `{"k":"w\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		a := lexJSON(t, src, bytes.NewReader(src), 64<<10)
		b := lexJSON(t, src, iotest.OneByteReader(bytes.NewReader(src)), 2*maxEscape)
		if !bytes.Equal(a.text, b.text) || len(a.records) != len(b.records) {
			t.Fatalf("read sizes change the text: %q vs %q", a.text, b.text)
		}
		for i := range a.records {
			if a.records[i] != b.records[i] {
				t.Fatalf("read sizes change record %d: %+v vs %+v", i, a.records[i], b.records[i])
			}
		}
		var lastSrc uint64
		var lastText uint32
		for _, r := range a.records {
			if r.SrcOff < lastSrc || r.TextStart < lastText || r.SrcOff+uint64(r.SrcLen) > uint64(len(src)) ||
				r.TextLen == 0 || r.TextLen > r.SrcLen || int(r.TextStart+r.TextLen) > len(a.text) {
				t.Fatalf("record %+v out of place (src %d, text %d)", r, len(src), len(a.text))
			}
			lastSrc, lastText = r.SrcOff+uint64(r.SrcLen), r.TextStart+r.TextLen
			txt := a.text[r.TextStart : r.TextStart+r.TextLen]
			if bytes.IndexByte(txt, sep) >= 0 {
				t.Fatalf("separator inside record %+v", r)
			}
			if got := SourceText(KindJSON, src[r.SrcOff:r.SrcOff+uint64(r.SrcLen)]); !bytes.Equal(got, txt) {
				t.Fatalf("record %+v: source gives %q, text %q", r, got, txt)
			}
		}
		// Every text byte but the separators is in a record.
		covered := 0
		for _, r := range a.records {
			covered += int(r.TextLen)
		}
		if covered+bytes.Count(a.text, []byte{sep}) != len(a.text) {
			t.Fatalf("%d of %d text bytes in records, %d separators", covered, len(a.text), bytes.Count(a.text, []byte{sep}))
		}
		var s string
		if len(src) > 0 && src[0] == '"' && utf8.Valid(src) && json.Unmarshal(src, &s) == nil {
			want := append(Normalize(nil, []byte(s)), sep)
			if s == "" {
				want = nil
			}
			if !bytes.Equal(a.text, want) {
				t.Fatalf("JSON string %q decodes to %q, encoding/json says %q", src, a.text, want)
			}
		}
	})
}
