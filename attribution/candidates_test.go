package attribution

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// naiveCandidates is the method as written: a search at every word start.
func naiveCandidates(t *testing.T, sr *Searcher, q []byte, minSpan int) []span {
	t.Helper()
	var out []span
	maxEnd := 0
	for i := range q {
		if !isWordStart(q, i) {
			continue
		}
		longest := 0
		for _, g := range sr.segs {
			n, err := g.longestPrefix(q[i:])
			if err != nil {
				t.Fatal(err)
			}
			longest = max(longest, n)
		}
		if e := trimEnd(q, i, i+longest); e-i >= minSpan && e > maxEnd {
			out = append(out, span{i, e})
			maxEnd = e
		}
	}
	return out
}

// TestCandidatesSkipExactly: skipping word starts inside long matches
// finds the same spans as searching at every one.
func TestCandidatesSkipExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 31))
	// A small vocabulary, so partial matches of every length abound, and
	// texts that repeat each other in parts.
	vocab := corpusWords[:40]
	var cs []*testContribution
	var all []string
	for i := range 6 {
		ws := words(r, vocab, 800)
		if i > 0 {
			copy(ws[100:400], all[r.IntN(len(all)-300):])
		}
		all = append(all, ws...)
		cs = append(cs, &testContribution{cid: testCID(strings.Repeat("r", i+1)), contributor: addr(i + 1), rank: uint64(i),
			files: []testFile{{KindTXT, prose(ws)}}})
	}
	_, sr := build(t, t.TempDir(), cs, BuildOptions{MaxSegmentBytes: 12000})
	for n := range 60 {
		var parts []string
		for range 1 + r.IntN(6) {
			switch r.IntN(3) {
			case 0:
				parts = append(parts, strings.Join(words(r, novelWords, r.IntN(5)), " "))
			case 1:
				parts = append(parts, strings.Join(words(r, vocab, r.IntN(30)), " "))
			default:
				at := r.IntN(len(all) - 500)
				parts = append(parts, strings.Join(all[at:at+r.IntN(500)], " "))
			}
		}
		q := Normalize(nil, []byte(strings.Join(parts, " ")))
		for _, minSpan := range []int{1, 8, 32} {
			got, err := sr.candidates(context.Background(), q, minSpan)
			if err != nil {
				t.Fatal(err)
			}
			if want := naiveCandidates(t, sr, q, minSpan); !slices.Equal(got, want) {
				t.Fatalf("output %d, min %d: %v, want %v", n, minSpan, got, want)
			}
		}
	}
}

// TestVerbatimCopyIsCheap: an output that copies the text at length costs
// a few searches, not one per word (the naive method is quadratic here).
func TestVerbatimCopyIsCheap(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 32))
	c := newContribution(r, "long", 1, 1, 12000)
	_, sr := build(t, t.TempDir(), []*testContribution{c}, BuildOptions{})
	out := join(c.words[0])
	p := DefaultParams()
	p.MaxOutputBytes = MaxOutputLimit
	start := time.Now()
	res, err := sr.Attribute(context.Background(), []byte(out), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Spans) != 1 || res.Spans[0].Text != out {
		t.Fatalf("%d spans", len(res.Spans))
	}
	t.Logf("%d-byte verbatim copy attributed in %v", len(out), time.Since(start))
}
