package attribution

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// testCID returns a dag-cbor CID of s, standing for a contribution.
func testCID(s string) cid.Cid {
	h, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 of any bytes cannot fail
	}
	return cid.NewCidV1(cid.DagCBOR, h)
}

// addr returns the address of test contributor i.
func addr(i int) common.Address { return common.Address{19: byte(i), 0: 0xaa} }

// vocabulary returns n distinct words of two or three syllables made of
// the consonants and vowels given, in a fixed pseudo-random order.
func vocabulary(n int, consonants, vowels string, seed uint64) []string {
	var syl []string
	for _, c := range consonants {
		for _, v := range vowels {
			syl = append(syl, string(c)+string(v))
		}
	}
	seen := map[string]bool{}
	r := rand.New(rand.NewPCG(seed, 1))
	var out []string
	for len(out) < n {
		w := syl[r.IntN(len(syl))] + syl[r.IntN(len(syl))]
		if r.IntN(2) == 0 {
			w += syl[r.IntN(len(syl))]
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// corpusWords are the words of test contributions: 4096 of them, so a
// random sequence of 8 is unique in any test corpus. novelWords share no
// letter at their start with them, so a novel word never starts a match.
var (
	corpusWords = vocabulary(4096, "bdfgklmnprstv", "aeiou", 1)
	novelWords  = vocabulary(512, "xqzjw", "aeiouy", 2)
)

// words returns n words drawn uniformly from vocab.
func words(r *rand.Rand, vocab []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = vocab[r.IntN(len(vocab))]
	}
	return out
}

// prose joins words into lines of 12 words, as a text file would hold them.
func prose(ws []string) []byte {
	var b bytes.Buffer
	for i, w := range ws {
		if i > 0 {
			if i%12 == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(w)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// testFile is a file of a test contribution.
type testFile struct {
	kind string
	data []byte
}

// testContribution is a contribution of a test corpus.
type testContribution struct {
	cid         cid.Cid
	contributor common.Address
	rank        uint64
	files       []testFile
	words       [][]string // the words of each txt file, for picking spans
}

// corpus writes the files of contributions under dir and returns the
// build's inputs. opens, if not nil, counts the documents opened.
func corpus(t testing.TB, dir string, cs []*testContribution, opens *atomic.Int64) ([]cid.Cid, []Doc) {
	t.Helper()
	var ids []cid.Cid
	var docs []Doc
	for _, c := range cs {
		ids = append(ids, c.cid)
		for i, f := range c.files {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.%s", c.cid, i, f.kind))
			if _, err := os.Stat(path); err != nil {
				if err := os.WriteFile(path, f.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			docs = append(docs, Doc{
				Contribution: c.cid, File: uint32(i), Kind: f.kind, Size: int64(len(f.data)),
				Open: func(context.Context) (io.ReadCloser, error) {
					if opens != nil {
						opens.Add(1)
					}
					return os.Open(path)
				},
			})
		}
	}
	return ids, docs
}

func members(cs []*testContribution) []Member {
	out := make([]Member, len(cs))
	for i, c := range cs {
		out[i] = Member{Contribution: c.cid, Contributor: c.contributor, Rank: c.rank}
	}
	return out
}

// newContribution returns a contribution of contributor i with files of
// random corpus words (n words each).
func newContribution(r *rand.Rand, name string, i int, rank uint64, n ...int) *testContribution {
	c := &testContribution{cid: testCID(name), contributor: addr(i), rank: rank}
	for _, k := range n {
		ws := words(r, corpusWords, k)
		c.words = append(c.words, ws)
		c.files = append(c.files, testFile{KindTXT, prose(ws)})
	}
	return c
}

// build builds an index of cs in a store at dir and returns a searcher
// over all of cs, closed at the end of the test.
func build(t testing.TB, dir string, cs []*testContribution, opt BuildOptions) (*Store, *Searcher) {
	t.Helper()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids, docs := corpus(t, t.TempDir(), cs, nil)
	if _, err := s.Build(context.Background(), "snap", ids, docs, opt); err != nil {
		t.Fatal(err)
	}
	return s, searcher(t, s, members(cs))
}

func searcher(t testing.TB, s *Store, ms []Member) *Searcher {
	t.Helper()
	sr, err := s.Searcher(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sr.Close(); err != nil {
			t.Error(err)
		}
	})
	return sr
}

// attribute runs a query with the default params.
func attribute(t testing.TB, sr *Searcher, output string) *Result {
	t.Helper()
	res, err := sr.Attribute(context.Background(), []byte(output), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkSources checks every span against its source bytes, as a verifier
// holding the files would.
func checkSources(t testing.TB, res *Result, cs []*testContribution) {
	t.Helper()
	byCID := map[cid.Cid]*testContribution{}
	for _, c := range cs {
		byCID[c.cid] = c
	}
	for _, sp := range res.Spans {
		c := byCID[sp.Contribution]
		if c == nil || int(sp.File) >= len(c.files) {
			t.Fatalf("span %+v: no such file", sp)
		}
		f := c.files[sp.File]
		if sp.Offset+sp.Length > uint64(len(f.data)) {
			t.Fatalf("span %+v: past the end of a %d-byte file", sp, len(f.data))
		}
		got := SourceText(f.kind, f.data[sp.Offset:sp.Offset+sp.Length])
		if want := Normalize(nil, []byte(sp.Text)); !bytes.Equal(got, want) {
			t.Fatalf("span %q: source bytes give %q", want, got)
		}
	}
}

// jsonOf encodes a result, the bytes every node must agree on.
func jsonOf(t testing.TB, res *Result) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// join joins word lists with single spaces.
func join(parts ...[]string) string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return strings.Join(all, " ")
}
