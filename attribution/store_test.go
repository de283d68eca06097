package attribution

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ipfs/go-cid"
)

// layoutCorpus is a corpus of 12 contributions of one to four files each,
// some with JSON files, one without any text, and one quoting another.
func layoutCorpus() []*testContribution {
	r := rand.New(rand.NewPCG(11, 11))
	var cs []*testContribution
	for i := range 12 {
		sizes := make([]int, 1+i%4)
		for j := range sizes {
			sizes[j] = 150 + r.IntN(250)
		}
		c := newContribution(r, fmt.Sprintf("layout %d", i), i%5+1, uint64(100+i%7), sizes...)
		if i%3 == 0 {
			c.files = append(c.files, testFile{KindJSONL, jsonLines(c.words[0][:60])})
		}
		cs = append(cs, c)
	}
	cs = append(cs, &testContribution{cid: testCID("no text"), contributor: addr(7), rank: 1})
	cs[5].files = append(cs[5].files, testFile{KindCSV, cs[2].files[0].data})
	return cs
}

// jsonLines returns JSON lines holding the words in escaped strings.
func jsonLines(ws []string) []byte {
	var b strings.Builder
	for i := 0; i < len(ws); i += 10 {
		part := ws[i:min(i+10, len(ws))]
		fmt.Fprintf(&b, "{\"id\": %d, \"text\": \"%s\\n\\u0041nd \\\"%s\\\"\"}\n", i, strings.Join(part[:5], " "), strings.Join(part[5:], " "))
	}
	return []byte(b.String())
}

// layoutOutputs are outputs quoting the layout corpus, one per
// contribution, plus a mixed one.
func layoutOutputs(cs []*testContribution) []string {
	r := rand.New(rand.NewPCG(12, 12))
	var outs []string
	var mixed []string
	for _, c := range cs {
		if len(c.words) == 0 {
			continue
		}
		ws := c.words[len(c.words)-1]
		q := ws[20:50]
		outs = append(outs, join(words(r, novelWords, 4), q, words(r, novelWords, 4)))
		mixed = append(mixed, join(words(r, novelWords, 3), ws[60:70+r.IntN(20)]))
	}
	outs = append(outs, strings.Join(mixed, " "), join(cs[0].words[0][:5])+" and \"plus more text\"")
	return append(outs, "\"id\": 0, \"text\": \""+join(cs[3].words[0][:5])+" And \""+join(cs[3].words[0][5:10])+"\"")
}

// results attributes every output and encodes the results.
func results(t *testing.T, sr *Searcher, outs []string) []string {
	t.Helper()
	var got []string
	for _, o := range outs {
		got = append(got, jsonOf(t, attribute(t, sr, o)))
	}
	return got
}

// TestSameResultWhateverTheLayout: one segment, many tiny segments, split
// contributions, an incremental build and another store give the same
// result bytes.
func TestSameResultWhateverTheLayout(t *testing.T) {
	cs := layoutCorpus()
	outs := layoutOutputs(cs)
	_, one := build(t, t.TempDir(), cs, BuildOptions{})
	want := results(t, one, outs)
	spans := 0
	for i, o := range outs {
		res := attribute(t, one, o)
		checkSources(t, res, cs)
		spans += len(res.Spans)
		if i < len(outs)-3 && len(res.Spans) == 0 {
			t.Errorf("output %d quotes a contribution but finds nothing: %s", i, want[i])
		}
	}
	if spans < len(outs) {
		t.Fatalf("only %d spans: the test proves little", spans)
	}

	t.Run("another store", func(t *testing.T) {
		_, sr := build(t, t.TempDir(), cs, BuildOptions{})
		if got := results(t, sr, outs); !slices.Equal(got, want) {
			t.Fatalf("results differ between two stores:\n%v\n%v", got, want)
		}
	})
	for _, opt := range []BuildOptions{
		{MaxSegmentBytes: 3500, Workers: 2}, // a file or two each: contributions split
		{MaxSegmentBytes: 8000},
		{MaxSegmentBytes: 30000, Workers: 3},
	} {
		t.Run(fmt.Sprintf("max=%d", opt.MaxSegmentBytes), func(t *testing.T) {
			s, sr := build(t, t.TempDir(), cs, opt)
			m, err := s.Manifest("snap")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Segments) < 2 {
				t.Fatalf("%d segments", len(m.Segments))
			}
			if got := results(t, sr, outs); !slices.Equal(got, want) {
				t.Fatalf("results differ from one segment's:\n%v\n%v", got, want)
			}
		})
	}

	t.Run("incremental", func(t *testing.T) {
		dir := t.TempDir()
		s, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		files := t.TempDir()
		var opens atomic.Int64
		v1 := cs[:7]
		ids, docs := corpus(t, files, v1, &opens)
		m1, err := s.Build(context.Background(), "v1", ids, docs, BuildOptions{MaxSegmentBytes: 4000})
		if err != nil {
			t.Fatal(err)
		}
		if int(opens.Load()) != len(docs) {
			t.Fatalf("v1 opened %d of %d documents", opens.Load(), len(docs))
		}
		opens.Store(0)
		ids, docs = corpus(t, files, cs, &opens)
		m2, err := s.Build(context.Background(), "v2", ids, docs, BuildOptions{MaxSegmentBytes: 4000})
		if err != nil {
			t.Fatal(err)
		}
		newDocs := 0
		for _, c := range cs[7:] {
			newDocs += len(c.files)
		}
		if int(opens.Load()) != newDocs {
			t.Fatalf("v2 opened %d documents, want only the %d new ones", opens.Load(), newDocs)
		}
		for _, seg := range m1.Segments {
			if !slices.Contains(m2.Segments, seg) {
				t.Errorf("v2 does not reuse v1's segment %s", seg.ID)
			}
		}
		metas, err := s.scan()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range m2.Built {
			for _, c := range metas[id].Contributions {
				if slices.ContainsFunc(v1, func(v *testContribution) bool { return v.cid == c }) {
					t.Errorf("v2 rebuilt %s of v1 in %s", c, id)
				}
			}
		}
		if len(m2.Built) == 0 || len(m2.Segments) != len(m1.Segments)+len(m2.Built) {
			t.Fatalf("v2: %d segments, %d built; v1 had %d", len(m2.Segments), len(m2.Built), len(m1.Segments))
		}
		// Building v2 again builds nothing.
		opens.Store(0)
		m3, err := s.Build(context.Background(), "v2", ids, docs, BuildOptions{})
		if err != nil || len(m3.Built) != 0 || opens.Load() != 0 || !slices.Equal(m3.Segments, m2.Segments) {
			t.Fatalf("rebuild: %v, built %v, %d opens", err, m3.Built, opens.Load())
		}
		if !s.Indexed("v1") || !s.Indexed("v2") || s.Indexed("v3") {
			t.Fatal("Indexed")
		}
		sr := searcher(t, s, members(cs))
		if got := results(t, sr, outs); !slices.Equal(got, want) {
			t.Fatalf("incremental results differ:\n%v\n%v", got, want)
		}
		// A searcher over v1's members only uses v1's segments.
		sr1 := searcher(t, s, members(v1))
		if sr1.TextBytes() != m1.TextBytes() {
			t.Fatalf("v1 searcher over %d bytes, v1 has %d", sr1.TextBytes(), m1.TextBytes())
		}
	})
}

// TestSegmentIDs: the same inputs give the same segment IDs in any store,
// and the order of the inputs does not matter.
func TestSegmentIDs(t *testing.T) {
	cs := layoutCorpus()
	var ms []*Manifest
	for i := range 2 {
		s, err := OpenStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		ids, docs := corpus(t, t.TempDir(), cs, nil)
		if i == 1 {
			slices.Reverse(ids)
			slices.Reverse(docs)
		}
		m, err := s.Build(context.Background(), "x", ids, docs, BuildOptions{MaxSegmentBytes: 3000})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if !slices.Equal(ms[0].Segments, ms[1].Segments) || !slices.Equal(ms[0].Contributions, ms[1].Contributions) {
		t.Fatalf("two stores: %v\n%v", ms[0].Segments, ms[1].Segments)
	}
}

func TestNotIndexed(t *testing.T) {
	cs := groundTruth()
	s, _ := build(t, t.TempDir(), cs[:2], BuildOptions{})
	ctx := context.Background()
	_, err := s.Searcher(ctx, members(cs))
	if !errors.Is(err, ErrNotIndexed) {
		t.Fatalf("Searcher: %v, want ErrNotIndexed", err)
	}
	nie, ok := errors.AsType[*NotIndexedError](err)
	want := []cid.Cid{cs[2].cid, cs[3].cid}
	slices.SortFunc(want, func(a, b cid.Cid) int { return strings.Compare(a.KeyString(), b.KeyString()) })
	if !ok || !slices.Equal(nie.Missing, want) {
		t.Fatalf("missing %v, want %v", nie, want)
	}
	// cs[0] and cs[1] share a segment: cs[0] alone cannot use it, since a
	// count over it would include a non-member.
	_, err = s.Searcher(ctx, members(cs[:1]))
	if nie, ok := errors.AsType[*NotIndexedError](err); !ok || !slices.Equal(nie.Missing, []cid.Cid{cs[0].cid}) {
		t.Fatalf("member sharing a segment with a non-member: %v", err)
	}
	dup := append(members(cs[:2]), members(cs[:1])...)
	if _, err := s.Searcher(ctx, dup); err == nil {
		t.Fatal("duplicate member accepted")
	}
	if _, err := s.Manifest("other"); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("Manifest: %v", err)
	}
}

// TestCoverFromManifest: when the largest-first cover fails on segments of
// overlapping builds, a manifest's segments are tried first.
func TestCoverFromManifest(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	a := newContribution(r, "a", 1, 1, 50)
	b := newContribution(r, "b", 2, 2, 400)
	c := newContribution(r, "c", 3, 3, 400)
	d := newContribution(r, "d", 4, 4, 50)
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	for _, b := range []struct {
		name string
		set  []*testContribution
	}{{"ab", []*testContribution{a, b}}, {"cd", []*testContribution{c, d}}, {"bc", []*testContribution{b, c}}} {
		ids, docs := corpus(t, files, b.set, nil)
		if _, err := s.Build(context.Background(), b.name, ids, docs, BuildOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// {b, c} holds the most text, so largest-first takes it and cannot
	// cover a and d; the manifest "ab" leads to {a, b} + {c, d}.
	all := []*testContribution{a, b, c, d}
	sr := searcher(t, s, members(all))
	res := attribute(t, sr, join(words(r, novelWords, 3), d.words[0][:20], words(r, novelWords, 3)))
	if len(res.Spans) != 1 || res.Spans[0].Contribution != d.cid {
		t.Fatalf("%s", jsonOf(t, res))
	}
}

func TestBuildBadInput(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := testCID("c")
	open := func(data string) func(context.Context) (io.ReadCloser, error) {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }
	}
	doc := Doc{Contribution: c, File: 0, Kind: KindTXT, Size: 5, Open: open("hello")}
	for name, tc := range map[string]struct {
		name string
		ids  []cid.Cid
		docs []Doc
		opt  BuildOptions
		want string
	}{
		"bad name":       {"../x", []cid.Cid{c}, nil, BuildOptions{}, "bad index name"},
		"dup":            {"x", []cid.Cid{c, c}, nil, BuildOptions{}, "twice"},
		"undefined":      {"x", []cid.Cid{{}}, nil, BuildOptions{}, "undefined"},
		"stranger doc":   {"x", []cid.Cid{testCID("d")}, []Doc{doc}, BuildOptions{}, "not in the build"},
		"bad kind":       {"x", []cid.Cid{c}, []Doc{{Contribution: c, Kind: "pdf", Open: open("")}}, BuildOptions{}, "kind"},
		"dup doc":        {"x", []cid.Cid{c}, []Doc{doc, doc}, BuildOptions{}, "twice"},
		"short":          {"x", []cid.Cid{c}, []Doc{{Contribution: c, Kind: KindTXT, Size: 9, Open: open("hello")}}, BuildOptions{}, "read 5 bytes"},
		"long":           {"x", []cid.Cid{c}, []Doc{{Contribution: c, Kind: KindTXT, Size: 3, Open: open("hello")}}, BuildOptions{}, "longer than"},
		"too large":      {"x", []cid.Cid{c}, []Doc{doc}, BuildOptions{MaxSegmentBytes: 5}, "too large"},
		"max too large":  {"x", []cid.Cid{c}, nil, BuildOptions{MaxSegmentBytes: 1 << 31}, "MaxSegmentBytes"},
		"open fails":     {"x", []cid.Cid{c}, []Doc{{Contribution: c, Kind: KindTXT, Size: 1, Open: func(context.Context) (io.ReadCloser, error) { return nil, errors.New("gone") }}}, BuildOptions{}, "gone"},
		"json too short": {"x", []cid.Cid{c}, []Doc{{Contribution: c, Kind: KindJSON, Size: 10, Open: open(`"ab"`)}}, BuildOptions{}, "read 4 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Build(ctx, tc.name, tc.ids, tc.docs, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build: %v, want %q", err, tc.want)
			}
		})
	}
	// Nothing half-built is visible, and tmp is clean.
	for _, d := range []string{segmentsDir, manifestsDir, tmpDir} {
		entries, _ := os.ReadDir(filepath.Join(s.dir, d))
		if len(entries) != 0 {
			t.Errorf("%s holds %d entries after failed builds", d, len(entries))
		}
	}
}

func TestBuildCancelled(t *testing.T) {
	cs := layoutCorpus()
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ids, docs := corpus(t, t.TempDir(), cs, nil)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Build(cancelled, "x", ids, docs, BuildOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
	// Cancelled in the middle: the opener of the fifth document cancels.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	for i := range docs {
		open := docs[i].Open
		docs[i].Open = func(ctx context.Context) (io.ReadCloser, error) {
			if n.Add(1) == 5 {
				cancel()
			}
			return open(ctx)
		}
	}
	if _, err := s.Build(ctx, "x", ids, docs, BuildOptions{MaxSegmentBytes: 3500, Workers: 2}); !errors.Is(err, context.Canceled) {
		t.Fatalf("build cancelled midway: %v", err)
	}
	if _, err := s.Manifest("x"); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("manifest after a cancelled build: %v", err)
	}
	tmp, _ := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if len(tmp) != 0 {
		t.Fatalf("tmp holds %d entries", len(tmp))
	}
	// What was finished stays and is reused.
	ids, docs = corpus(t, t.TempDir(), cs, nil)
	if _, err := s.Build(context.Background(), "x", ids, docs, BuildOptions{MaxSegmentBytes: 3500}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestProgress(t *testing.T) {
	cs := layoutCorpus()
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ids, docs := corpus(t, t.TempDir(), cs, nil)
	var total int64
	for _, d := range docs {
		total += d.Size
	}
	var last, calls int64
	_, err = s.Build(context.Background(), "x", ids, docs, BuildOptions{Workers: 2, MaxSegmentBytes: 3000, Progress: func(done, tot int64) {
		if tot != total || done < last || done > tot {
			t.Errorf("progress %d/%d after %d, want total %d", done, tot, last, total)
		}
		last = done
		calls++
	}})
	if err != nil || last != total || calls < 2 {
		t.Fatalf("progress ended at %d/%d after %d calls: %v", last, total, calls, err)
	}
}

// TestCorruptSegment: damaged files give a clear error, not a panic or a
// wrong answer.
func TestCorruptSegment(t *testing.T) {
	cs := groundTruth()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, seg string)
		want   string // in the error of Searcher, or of Check if "check:"
	}{
		{"truncated sa", func(t *testing.T, seg string) { truncate(t, filepath.Join(seg, saFile), 100) }, "sa is"},
		{"missing text", func(t *testing.T, seg string) { os.Remove(filepath.Join(seg, textFile)) }, "text"},
		{"truncated offsets", func(t *testing.T, seg string) { truncate(t, filepath.Join(seg, offsetsFile), 7) }, "offsets is"},
		{"bad meta", func(t *testing.T, seg string) { os.WriteFile(filepath.Join(seg, metaFile), []byte("{"), 0o644) }, "meta.json"},
		{"edited meta", func(t *testing.T, seg string) { edit(t, filepath.Join(seg, metaFile), `"size": `, `"size": 1`) }, "hash to"},
		{"flipped text byte", func(t *testing.T, seg string) { flip(t, filepath.Join(seg, textFile), 10) }, "check:text hashes"},
		{"flipped sa byte", func(t *testing.T, seg string) { flip(t, filepath.Join(seg, saFile), 3) }, "check:sa hashes"},
		{"garbage sa", func(t *testing.T, seg string) { fill(t, filepath.Join(seg, saFile), 0xff) }, "query:past the text"},
		{"garbage offsets", func(t *testing.T, seg string) { fill(t, filepath.Join(seg, offsetsFile), 0x7f) }, "offset table runs past"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, sr := build(t, dir, cs, BuildOptions{})
			sr.Close()
			m, err := s.Manifest("snap")
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, filepath.Join(dir, segmentsDir, m.Segments[0].ID))
			s, err = OpenStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := strings.CutPrefix(tc.want, "check:"); ok {
				err = s.Check(context.Background())
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
					t.Fatalf("Check: %v, want ErrCorrupt and %q", err, want)
				}
				return
			}
			sr, err = s.Searcher(context.Background(), members(cs))
			if want, ok := strings.CutPrefix(tc.want, "query:"); ok {
				if err != nil {
					t.Fatal(err)
				}
				defer sr.Close()
				_, err = sr.Attribute(context.Background(), []byte(join(cs[0].words[0][:40])), DefaultParams())
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
					t.Fatalf("Attribute: %v, want ErrCorrupt and %q", err, want)
				}
				return
			}
			if err == nil {
				sr.Close()
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), m.Segments[0].ID) {
				t.Fatalf("Searcher: %v, want ErrCorrupt naming the segment and %q", err, tc.want)
			}
		})
	}
}

func truncate(t *testing.T, path string, by int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-by); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x20
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fill(t *testing.T, path string, b byte) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte{b}, int(fi.Size())), 0o644); err != nil {
		t.Fatal(err)
	}
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCrashLeftovers: a half-written segment in tmp is never used, and
// OpenStore removes it.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(dir, tmpDir, "segment-123")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(half, textFile), []byte("partial"), 0o644)
	if _, err := s.scan(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover not removed: %v", err)
	}
	os.WriteFile(filepath.Join(dir, storeFormatFile), []byte("something else\n"), 0o644)
	if _, err := OpenStore(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("foreign format: %v", err)
	}
}
