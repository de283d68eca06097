package attribution

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"index/suffixarray"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// The benchmark corpus: language-like synthetic text, words drawn from a
// vocabulary of 50,000 by a Zipf law (s = 1.07), lines of about 15 words.
// Documents are 1 MiB, eight to a contribution; every document is a pure
// function of its (contribution, document) numbers, so outputs quoting it
// can be made again without reading an index.
const (
	benchDocBytes     = 1 << 20
	benchDocsPerContr = 8
)

var benchVocab = vocabulary(50_000, "bdfgklmnprstvch", "aeiouy", 3)

// zipfText yields size bytes of the text of one document.
type zipfText struct {
	r    *rand.Rand
	z    *rand.Zipf
	left int64
	pend []byte
	n    int
}

func newZipfText(contribution, doc uint64, size int64) *zipfText {
	r := rand.New(rand.NewPCG(contribution, doc))
	return &zipfText{r: r, z: rand.NewZipf(r, 1.07, 1, uint64(len(benchVocab)-1)), left: size}
}

func (g *zipfText) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.left)]
	n := 0
	for n < len(p) {
		if len(g.pend) == 0 {
			g.n++
			g.pend = append(g.pend[:0], benchVocab[g.z.Uint64()]...)
			if g.n%15 == 0 {
				g.pend = append(g.pend, ".\n"...)
			} else {
				g.pend = append(g.pend, ' ')
			}
		}
		k := copy(p[n:], g.pend)
		g.pend = g.pend[k:]
		n += k
	}
	g.left -= int64(n)
	return n, nil
}

func benchDocText(contribution, doc uint64) []byte {
	b, _ := io.ReadAll(newZipfText(contribution, doc, benchDocBytes)) // cannot fail
	return b
}

// benchCorpus returns the contributions and documents of a corpus of size
// bytes, generated on the fly as they are read.
func benchCorpus(size int64) ([]cid.Cid, []Doc, []Member) {
	var ids []cid.Cid
	var docs []Doc
	var ms []Member
	ndocs := (size + benchDocBytes - 1) / benchDocBytes
	for c := uint64(0); int64(c)*benchDocsPerContr < ndocs; c++ {
		id := testCID(fmt.Sprintf("bench contribution %d", c))
		ids = append(ids, id)
		ms = append(ms, Member{Contribution: id, Contributor: addr(int(c%200) + 1), Rank: c})
		for d := uint64(0); d < benchDocsPerContr && int64(c*benchDocsPerContr+d) < ndocs; d++ {
			docs = append(docs, Doc{Contribution: id, File: uint32(d), Kind: KindTXT, Size: benchDocBytes,
				Open: func(context.Context) (io.ReadCloser, error) {
					return io.NopCloser(newZipfText(c, d, benchDocBytes)), nil
				}})
		}
	}
	return ids, docs, ms
}

// benchOutputs returns n outputs of about 1,000 bytes (200 tokens): runs
// of 6 to 40 words quoted from the corpus, between runs of novel text
// drawn from the same law (which matches short phrases by chance).
func benchOutputs(size int64, n int) [][]byte {
	r := rand.New(rand.NewPCG(99, uint64(size)))
	ndocs := (size + benchDocBytes - 1) / benchDocBytes
	cache := map[int64][]string{}
	novel := newZipfText(1<<40, 1, 1<<40)
	br := bufio.NewReader(novel)
	var outs [][]byte
	for range n {
		var out []byte
		for len(out) < 1000 {
			if r.IntN(2) == 0 {
				d := r.Int64N(min(ndocs, 64)) * max(ndocs/64, 1)
				ws, ok := cache[d]
				if !ok {
					ws = strings.Fields(string(benchDocText(uint64(d/benchDocsPerContr), uint64(d%benchDocsPerContr))))
					cache[d] = ws
				}
				at := r.IntN(len(ws) - 50)
				out = append(out, strings.Join(ws[at:at+6+r.IntN(35)], " ")...)
			} else {
				for range 5 + r.IntN(30) {
					w, _ := br.ReadString(' ')
					out = append(out, w...)
				}
			}
			out = append(out, ' ')
		}
		outs = append(outs, out)
	}
	return outs
}

// heavy reports whether a gated benchmark runs: only when -bench names
// its size, or an index directory is given.
func heavy(size string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), size) || os.Getenv("OPENLEDGER_BENCH_INDEX") != ""
}

// peakRSS returns the process's peak resident set in bytes since the last
// resetPeakRSS (Linux; 0 elsewhere).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// indexBytes is the size of the files of the segments of a manifest.
func indexBytes(b *testing.B, dir string, m *Manifest) int64 {
	var n int64
	for _, s := range m.Segments {
		for _, f := range []string{textFile, saFile, offsetsFile, metaFile} {
			fi, err := os.Stat(filepath.Join(dir, segmentsDir, s.ID, f))
			if err != nil {
				b.Fatal(err)
			}
			n += fi.Size()
		}
	}
	return n
}

// BenchmarkBuild indexes a corpus of files on disk, from scratch each
// time, beside sha256 over the same files (reading them as the build
// does): the physical limit of touching every byte.
func BenchmarkBuild(b *testing.B) {
	for _, size := range []int64{4 << 20, 32 << 20, 128 << 20} {
		b.Run(fmt.Sprintf("size=%dMB", size>>20), func(b *testing.B) {
			files := b.TempDir()
			ids, gen, _ := benchCorpus(size)
			var docs []Doc
			var paths []string
			for i, d := range gen {
				p := filepath.Join(files, strconv.Itoa(i))
				rc, _ := d.Open(context.Background())
				f, err := os.Create(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(f, rc); err != nil {
					b.Fatal(err)
				}
				f.Close()
				paths = append(paths, p)
				d.Open = func(context.Context) (io.ReadCloser, error) { return os.Open(p) }
				docs = append(docs, d)
			}
			b.Run("op=index", func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				var idx, text int64
				for b.Loop() {
					dir := filepath.Join(b.TempDir(), "store")
					s, err := OpenStore(dir)
					if err != nil {
						b.Fatal(err)
					}
					m, err := s.Build(context.Background(), "bench", ids, docs, BuildOptions{})
					if err != nil {
						b.Fatal(err)
					}
					idx, text = indexBytes(b, dir, m), m.TextBytes()
					os.RemoveAll(dir)
				}
				b.ReportMetric(float64(idx)/float64(text), "index-bytes/text-byte")
			})
			b.Run("op=suffixarray", func(b *testing.B) {
				// The sort alone: the standard library's SA-IS on the
				// text in memory, without reading, the offset table, the
				// decoding or the files.
				text := make([]byte, 0, size+int64(len(paths)))
				for _, p := range paths {
					data, err := os.ReadFile(p)
					if err != nil {
						b.Fatal(err)
					}
					text = append(Normalize(text, data), sep)
				}
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					suffixarray.New(text)
				}
			})
			b.Run("op=sha256", func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				buf := make([]byte, 256<<10)
				for b.Loop() {
					h := sha256.New()
					for _, p := range paths {
						f, err := os.Open(p)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := io.CopyBuffer(h, f, buf); err != nil {
							b.Fatal(err)
						}
						f.Close()
					}
				}
			})
		})
	}
}

// benchIndex returns a searcher over a corpus of size bytes, building its
// index first (in $OPENLEDGER_BENCH_INDEX/<name> if set, and kept there
// to be reused; else in a temporary directory), and the build's time,
// peak RSS and sizes when it builds, as metrics to report (b.Loop drops
// metrics reported before it).
func benchIndex(b *testing.B, name string, size int64, opt BuildOptions) (*Searcher, map[string]float64) {
	b.Helper()
	dir := b.TempDir()
	if env := os.Getenv("OPENLEDGER_BENCH_INDEX"); env != "" {
		dir = filepath.Join(env, name)
	}
	s, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	ids, docs, ms := benchCorpus(size)
	metrics := map[string]float64{}
	if !s.Indexed("bench") {
		resetPeakRSS()
		start := time.Now()
		m, err := s.Build(context.Background(), "bench", ids, docs, opt)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		metrics["build-s"] = took.Seconds()
		metrics["build-MB/s"] = float64(size) / 1e6 / took.Seconds()
		metrics["build-peak-RSS-MiB"] = float64(peakRSS() >> 20)
		metrics["segments"] = float64(len(m.Segments))
		metrics["index-bytes/text-byte"] = float64(indexBytes(b, dir, m)) / float64(m.TextBytes())
		b.Logf("built %d bytes in %d segments in %v, peak RSS %d MiB", m.TextBytes(), len(m.Segments), took, peakRSS()>>20)
	}
	sr, err := s.Searcher(context.Background(), ms)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sr.Close() })
	return sr, metrics
}

// BenchmarkQuery measures the latency of attributing a 200-token output
// (about 1,000 bytes, half quotes of the corpus, half novel text) over
// corpora of 100 MB, 1 GB and 4 GB. The larger two are built only when
// -bench names them (size=1GB, size=4GB), or reused from
// $OPENLEDGER_BENCH_INDEX. Run with -benchtime 200x for the percentiles
// of 200 queries.
func BenchmarkQuery(b *testing.B) {
	for _, tc := range []struct {
		name  string
		size  int64
		opt   BuildOptions
		gated bool
	}{
		{"size=100MB", 100 << 20, BuildOptions{}, false},
		{"size=1GB", 1 << 30, BuildOptions{}, true},
		{"size=4GB", 4 << 30, BuildOptions{MaxSegmentBytes: 1 << 30, Workers: 2}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.gated && !heavy(strings.TrimPrefix(tc.name, "size=")) {
				b.Skip("heavy: name it in -bench, or set OPENLEDGER_BENCH_INDEX")
			}
			sr, metrics := benchIndex(b, tc.name, tc.size, tc.opt)
			outs := benchOutputs(tc.size, 200)
			p := DefaultParams()
			ctx := context.Background()
			// Warm the page cache as a long-running node would be.
			for _, o := range outs {
				if _, err := sr.Attribute(ctx, o, p); err != nil {
					b.Fatal(err)
				}
			}
			var lat []time.Duration
			var spans, outBytes int
			b.ReportAllocs()
			for b.Loop() {
				o := outs[len(lat)%len(outs)]
				start := time.Now()
				res, err := sr.Attribute(ctx, o, p)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				spans += len(res.Spans)
				outBytes += len(o)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(spans)/float64(len(lat)), "spans/query")
			b.ReportMetric(float64(outBytes)/float64(len(lat)), "bytes/query")
			for k, v := range metrics {
				b.ReportMetric(v, k)
			}
		})
	}
}

// BenchmarkChanceSpans measures how often novel text, drawn from the same
// Zipf law as the corpus but not copied from it, matches it by chance at
// each minimum span length: what MinSpanBytes must rise above. It reports
// spans per 1,000-byte output and how many of them MaxSpanCount 64 drops.
// The 1 GB corpus is gated as in BenchmarkQuery.
func BenchmarkChanceSpans(b *testing.B) {
	novel := bufio.NewReader(newZipfText(1<<41, 7, 1<<40))
	var outs [][]byte
	for range 100 {
		var o []byte
		for len(o) < 1000 {
			w, _ := novel.ReadString(' ')
			o = append(o, w...)
		}
		outs = append(outs, o)
	}
	for _, tc := range []struct {
		name  string
		size  int64
		gated bool
	}{{"size=100MB", 100 << 20, false}, {"size=1GB", 1 << 30, true}} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.gated && !heavy(strings.TrimPrefix(tc.name, "size=")) {
				b.Skip("heavy: name it in -bench, or set OPENLEDGER_BENCH_INDEX")
			}
			sr, _ := benchIndex(b, tc.name, tc.size, BuildOptions{})
			for _, min := range []uint32{16, 24, 32, 40, 48} {
				b.Run(fmt.Sprintf("min=%d", min), func(b *testing.B) {
					p := DefaultParams()
					p.MinSpanBytes = min
					p.MaxSpanCount = 1 << 30
					var spans, common, n int
					for b.Loop() {
						res, err := sr.Attribute(context.Background(), outs[n%len(outs)], p)
						if err != nil {
							b.Fatal(err)
						}
						n++
						spans += len(res.Spans)
						for _, s := range res.Spans {
							if s.Count > 64 {
								common++
							}
						}
					}
					b.ReportMetric(float64(spans)/float64(n), "chance-spans/query")
					b.ReportMetric(float64(common)/float64(n), "over-64/query")
				})
			}
		})
	}
}
