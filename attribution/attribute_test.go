package attribution

import (
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/attribution/rewards"
)

// groundTruth is a corpus of four contributors with distinct texts.
func groundTruth() []*testContribution {
	r := rand.New(rand.NewPCG(7, 7))
	return []*testContribution{
		newContribution(r, "alice", 1, 10, 600, 400),
		newContribution(r, "bob", 2, 20, 500),
		newContribution(r, "carol", 3, 30, 300, 300, 200),
		newContribution(r, "dave", 4, 40, 800),
	}
}

// shareOf returns the parts of a in shares, 0 if absent.
func shareOf(shares []rewards.Share, a common.Address) uint64 {
	for _, s := range shares {
		if s.Address == a {
			return s.Parts
		}
	}
	return 0
}

// tolerance is how far a share may be from the known one: ±0.05 of Scale.
// The spans below are found exactly, so the shares are exact in practice;
// the tolerance allows a boundary word more or less.
const tolerance = rewards.Scale / 20

func near(got, want uint64) bool {
	if got > want {
		return got-want <= tolerance
	}
	return want-got <= tolerance
}

// wantShare is Scale·part/total.
func wantShare(part, total int) uint64 {
	v := new(big.Int).Mul(big.NewInt(int64(part)), new(big.Int).SetUint64(rewards.Scale))
	return v.Div(v, big.NewInt(int64(total))).Uint64()
}

func TestGroundTruth(t *testing.T) {
	cs := groundTruth()
	_, sr := build(t, t.TempDir(), cs, BuildOptions{})
	r := rand.New(rand.NewPCG(8, 8))
	novel := func(n int) []string { return words(r, novelWords, n) }

	// Spans of known length copied from alice, bob and carol, in novel
	// text; the first word capitalised and the copy on one line while the
	// source breaks lines, so normalisation is exercised.
	a := cs[0].words[0][100:130]
	b := cs[1].words[0][7:22]
	c := cs[2].words[1][250:262]
	ac := append([]string{strings.ToUpper(a[0][:1]) + a[0][1:]}, a[1:]...)
	output := join(novel(10), ac, novel(8), b, novel(5), c, novel(6)) + "."
	res := attribute(t, sr, output)
	checkSources(t, res, cs)

	want := []struct {
		text string
		who  common.Address
	}{{join(ac), addr(1)}, {join(b), addr(2)}, {join(c), addr(3)}}
	if len(res.Spans) != len(want) {
		t.Fatalf("%d spans, want %d: %s", len(res.Spans), len(want), jsonOf(t, res))
	}
	total := 0
	for _, w := range want {
		total += len(w.text)
	}
	for i, w := range want {
		sp := res.Spans[i]
		if sp.Text != w.text || sp.Contributor != w.who || sp.Count != 1 || sp.Weight != uint64(len(w.text))*weightUnit {
			t.Errorf("span %d: %+v, want %q by %s", i, sp, w.text, w.who)
		}
		if got, ws := shareOf(res.Weights, w.who), wantShare(len(w.text), total); !near(got, ws) {
			t.Errorf("share of %s: %d, want %d ± %d", w.who, got, ws, tolerance)
		}
	}
	if shareOf(res.Weights, addr(4)) != 0 {
		t.Errorf("dave, not quoted, has a share: %v", res.Weights)
	}
	var sum uint64
	for _, s := range res.Weights {
		sum += s.Parts
	}
	if sum != rewards.Scale {
		t.Errorf("shares sum to %d", sum)
	}

	// Novel text alone attributes to nobody; so do short quotes.
	for _, out := range []string{join(novel(200)), join(novel(20), a[:3], novel(20))} {
		res := attribute(t, sr, out)
		if len(res.Spans) != 0 || len(res.Weights) != 0 {
			t.Errorf("novel output attributed: %s", jsonOf(t, res))
		}
	}
}

// TestEarliestHolderEarns: a contributor who resubmits another's text
// earns nothing from it while accepted later, and everything when earlier:
// the rank decides.
func TestEarliestHolderEarns(t *testing.T) {
	cs := groundTruth()
	copycat := &testContribution{cid: testCID("mallory"), contributor: addr(9), rank: 50,
		files: []testFile{{KindMD, cs[1].files[0].data}}}
	r := rand.New(rand.NewPCG(9, 9))
	quote := cs[1].words[0][40:70]
	output := join(words(r, novelWords, 12), quote, words(r, novelWords, 12))

	for _, tc := range []struct {
		rank uint64
		want common.Address
	}{{50, addr(2)}, {5, addr(9)}, {20, addr(2)}} { // a tie goes to the lower CID: bob's
		t.Run("", func(t *testing.T) {
			copycat.rank = tc.rank
			all := append(groundTruth(), copycat)
			_, sr := build(t, t.TempDir(), all, BuildOptions{})
			res := attribute(t, sr, output)
			checkSources(t, res, all)
			if len(res.Spans) != 1 {
				t.Fatalf("spans: %s", jsonOf(t, res))
			}
			sp := res.Spans[0]
			if sp.Count != 2 || sp.Contributor != tc.want {
				t.Fatalf("copycat rank %d: span %+v, want count 2 credited to %s", tc.rank, sp, tc.want)
			}
			if len(res.Weights) != 1 || res.Weights[0].Address != tc.want || res.Weights[0].Parts != rewards.Scale {
				t.Fatalf("weights %v", res.Weights)
			}
		})
	}
	if testCID("bob").KeyString() > testCID("mallory").KeyString() {
		t.Fatal("the tie case assumes bob's CID sorts first")
	}
}

// TestMaxSpanCount: a span found more often than MaxSpanCount is dropped.
func TestMaxSpanCount(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	shared := words(r, corpusWords, 10)
	var cs []*testContribution
	for i := range 5 {
		c := newContribution(r, "common"+string(rune('a'+i)), i+1, uint64(i), 50)
		c.files = append(c.files, testFile{KindTXT, prose(shared)})
		cs = append(cs, c)
	}
	_, sr := build(t, t.TempDir(), cs, BuildOptions{})
	out := join(words(r, novelWords, 5), shared, words(r, novelWords, 5))
	p := DefaultParams()
	res, err := sr.Attribute(context.Background(), []byte(out), p)
	if err != nil || len(res.Spans) != 1 || res.Spans[0].Count != 5 || res.Spans[0].Contributor != addr(1) {
		t.Fatalf("count 5 ≤ %d: %v %s", p.MaxSpanCount, err, jsonOf(t, res))
	}
	if w := res.Spans[0].Weight; w != uint64(len(join(shared)))*weightUnit/5 {
		t.Fatalf("weight %d", w)
	}
	p.MaxSpanCount = 4
	res, err = sr.Attribute(context.Background(), []byte(out), p)
	if err != nil || len(res.Spans) != 0 || len(res.Weights) != 0 {
		t.Fatalf("count 5 > 4: %v %s", err, jsonOf(t, res))
	}
}

// TestMaximalSpans: of overlapping matches only maximal ones are kept, and
// a span ends on a word boundary.
func TestMaximalSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	c := newContribution(r, "one", 1, 1, 300)
	_, sr := build(t, t.TempDir(), []*testContribution{c}, BuildOptions{})
	ws := c.words[0]
	// Two quotes that overlap in the source but not in the output, and a
	// quote followed by the first letters of the next source word.
	next := ws[161]
	out := join(ws[100:120]) + " zz " + join(ws[110:130]) + " xq " + join(ws[150:161]) + " " + next[:len(next)-1] + "q"
	res := attribute(t, sr, out)
	checkSources(t, res, []*testContribution{c})
	want := []string{join(ws[100:120]), join(ws[110:130]), join(ws[150:161])}
	if len(res.Spans) != len(want) {
		t.Fatalf("spans %s", jsonOf(t, res))
	}
	for i, w := range want {
		if res.Spans[i].Text != w {
			t.Errorf("span %d: %q, want %q", i, res.Spans[i].Text, w)
		}
	}
}

func TestAttributeBadInput(t *testing.T) {
	cs := groundTruth()
	_, sr := build(t, t.TempDir(), cs, BuildOptions{})
	ctx := context.Background()
	p := DefaultParams()
	for _, out := range []string{"", "   ", "\n\t \r\x00 "} {
		if _, err := sr.Attribute(ctx, []byte(out), p); !errors.Is(err, ErrEmptyOutput) {
			t.Errorf("output %q: %v, want ErrEmptyOutput", out, err)
		}
	}
	huge := []byte(strings.Repeat(join(cs[0].words[0])+" ", 400))
	_, err := sr.Attribute(ctx, huge, p)
	if !errors.Is(err, ErrOutputTooLarge) || !strings.Contains(err.Error(), "65536") {
		t.Errorf("huge output: %v, want ErrOutputTooLarge naming the limit", err)
	}
	for _, bad := range []Params{{}, {MinSpanBytes: 1, MaxSpanCount: 1}, {MinSpanBytes: 1, MaxOutputBytes: 1}, {MaxSpanCount: 1, MaxOutputBytes: 1},
		{MinSpanBytes: 1, MaxSpanCount: 1, MaxOutputBytes: MaxOutputLimit + 1}} {
		if _, err := sr.Attribute(ctx, []byte("text"), bad); err == nil || bad.Validate() == nil {
			t.Errorf("params %+v accepted", bad)
		}
	}
	// The largest output allowed is attributed (bounded work).
	p.MaxOutputBytes = MaxOutputLimit
	if _, err := sr.Attribute(ctx, huge[:MaxOutputLimit], p); err != nil {
		t.Errorf("output of MaxOutputLimit bytes: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sr.Attribute(cancelled, []byte(join(cs[0].words[0][:50])), DefaultParams()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := sr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sr.Attribute(ctx, []byte("some text"), DefaultParams()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestSearcherConcurrent runs queries from several goroutines (run with
// -race).
func TestSearcherConcurrent(t *testing.T) {
	cs := groundTruth()
	_, sr := build(t, t.TempDir(), cs, BuildOptions{})
	out := join(cs[3].words[0][10:40])
	want := jsonOf(t, attribute(t, sr, out))
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			res, err := sr.Attribute(context.Background(), []byte(out), DefaultParams())
			if err == nil && jsonOf(t, res) != want {
				err = errors.New("different result")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
