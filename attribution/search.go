package attribution

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/attribution/rewards"
)

// Member is a contribution an attribution may credit: one accepted into
// the data a model was trained on.
type Member struct {
	Contribution cid.Cid
	Contributor  common.Address
	// Rank orders acceptance: lower is earlier (a time, say). Ties are
	// broken by the CID's bytes, lower first.
	Rank uint64
}

// Params are the parameters of an attribution query. They are part of
// what a record states: the same params give the same result.
type Params struct {
	// MinSpanBytes is the shortest span credited, in bytes.
	MinSpanBytes uint32 `json:"min_span_bytes"`
	// MaxSpanCount drops spans that occur more often than this among the
	// members' text: too common to mean anything.
	MaxSpanCount uint32 `json:"max_span_count"`
	// MaxOutputBytes bounds the output, so the work of a query is bounded.
	MaxOutputBytes uint32 `json:"max_output_bytes"`
}

// MaxOutputLimit is the largest MaxOutputBytes: it bounds the work of a
// query, and keeps the sum of the weights of one output within a uint64.
const MaxOutputLimit = 1 << 20

// DefaultParams returns the parameters nodes use unless configured: spans
// of at least 32 bytes, found at most 64 times, in outputs of up to 64 KiB.
// The package documentation says why.
func DefaultParams() Params {
	return Params{MinSpanBytes: 32, MaxSpanCount: 64, MaxOutputBytes: 64 << 10}
}

// Validate checks that p is usable.
func (p Params) Validate() error {
	switch {
	case p.MinSpanBytes == 0:
		return errors.New("attribution: MinSpanBytes must be at least 1")
	case p.MaxSpanCount == 0:
		return errors.New("attribution: MaxSpanCount must be at least 1")
	case p.MaxOutputBytes == 0 || p.MaxOutputBytes > MaxOutputLimit:
		return fmt.Errorf("attribution: MaxOutputBytes %d outside [1, %d]", p.MaxOutputBytes, MaxOutputLimit)
	}
	return nil
}

// Span is a run of the output found verbatim (after normalisation) in the
// members' text, and the occurrence credited for it.
type Span struct {
	// Start and End delimit the span in the output: bytes [Start, End).
	Start uint32 `json:"start"`
	End   uint32 `json:"end"`
	// Text is the output's bytes [Start, End), as given.
	Text string `json:"text"`
	// Contribution, Contributor, File, Offset and Length say where the
	// credited occurrence is: source bytes [Offset, Offset+Length) of file
	// File of the contribution (SourceText of them is the span's
	// normalised text).
	Contribution cid.Cid        `json:"contribution"`
	Contributor  common.Address `json:"contributor"`
	File         uint32         `json:"file"`
	Offset       uint64         `json:"offset"`
	Length       uint64         `json:"length"`
	// Count is how many times the span occurs among the members' text.
	Count uint64 `json:"count"`
	// Weight is (End-Start)·1,000,000/Count, rounded down.
	Weight uint64 `json:"weight"`
}

// Result is the attribution of an output.
type Result struct {
	Spans []Span `json:"spans"` // sorted by Start
	// Weights are the contributors' shares, summing to rewards.Scale, or
	// empty when no span was credited (or every span's weight rounded to
	// 0).
	Weights []rewards.Share `json:"weights"`
}

// Searcher answers attribution queries over the text of a fixed set of
// member contributions. It is safe for concurrent use.
type Searcher struct {
	members []Member // by credit order: (Rank, CID bytes)
	segs    []*segment
	mu      sync.RWMutex // read-held by queries; Close write-holds it
	closed  bool
}

// Searcher opens the segments that hold the members' text. It chooses a
// cover of pairwise-disjoint stored segments holding only members (see the
// package documentation); if some member has none, it fails with a
// *NotIndexedError.
func (s *Store) Searcher(ctx context.Context, members []Member) (*Searcher, error) {
	sr := &Searcher{members: slices.Clone(members)}
	slices.SortFunc(sr.members, func(a, b Member) int {
		if c := cmp.Compare(a.Rank, b.Rank); c != 0 {
			return c
		}
		return strings.Compare(a.Contribution.KeyString(), b.Contribution.KeyString())
	})
	index := make(map[string]int, len(members))
	want := make(map[string]bool, len(members))
	for i, m := range sr.members {
		if !m.Contribution.Defined() {
			return nil, errors.New("attribution: member with an undefined CID")
		}
		k := m.Contribution.KeyString()
		if want[k] {
			return nil, fmt.Errorf("attribution: member %s listed twice", m.Contribution)
		}
		want[k] = true
		index[k] = i
	}
	metas, err := s.scan()
	if err != nil {
		return nil, err
	}
	all := units(metas)
	chosen, covered := cover(all, want, nil, nil)
	if len(covered) < len(want) {
		// The greedy cover can miss one that overlapping segments of
		// several builds allow; each manifest's segments cover its build.
		names, err := s.manifestNames()
		if err != nil {
			return nil, err
		}
		byID := map[string]*unit{}
		for _, u := range all {
			for _, m := range u.metas {
				byID[m.ID] = u
			}
		}
		for _, name := range names {
			m, err := s.Manifest(name)
			if err != nil {
				return nil, err
			}
			var first []*unit
			for _, seg := range m.Segments {
				if u := byID[seg.ID]; u != nil && !slices.Contains(first, u) {
					first = append(first, u)
				}
			}
			if c, cov := cover(all, want, nil, first); len(cov) == len(want) {
				chosen, covered = c, cov
				break
			}
		}
	}
	if len(covered) < len(want) {
		return nil, &NotIndexedError{Missing: missing(want, covered)}
	}
	for _, u := range chosen {
		for _, m := range u.metas {
			if err := ctx.Err(); err != nil {
				sr.Close()
				return nil, err
			}
			g, err := openSegment(filepath.Join(s.dir, segmentsDir), m)
			if err != nil {
				sr.Close()
				return nil, err
			}
			g.docMember = make([]int, len(m.Docs))
			for i, d := range m.Docs {
				g.docMember[i] = index[m.Contributions[d.Contribution].KeyString()]
			}
			sr.segs = append(sr.segs, g)
		}
	}
	return sr, nil
}

// Close unmaps the searcher's segments, once no query is running. It is
// idempotent.
func (sr *Searcher) Close() error {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.closed {
		return nil
	}
	sr.closed = true
	var errs []error
	for _, g := range sr.segs {
		if err := g.close(); err != nil {
			errs = append(errs, err)
		}
	}
	sr.segs = nil
	return errors.Join(errs...)
}

// TextBytes is the size of the text the searcher searches.
func (sr *Searcher) TextBytes() int64 {
	sr.mu.RLock()
	defer sr.mu.RUnlock()
	var n int64
	for _, g := range sr.segs {
		n += int64(g.n)
	}
	return n
}

// weightUnit is the weight of one byte of a span found once.
const weightUnit = 1_000_000

// Attribute finds the spans of output that occur verbatim in the members'
// text and credits each to its earliest accepted holder (see the package
// documentation for the method). An output that matches nothing gives a
// Result with no spans and no weights.
func (sr *Searcher) Attribute(ctx context.Context, output []byte, p Params) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(output) > int(p.MaxOutputBytes) {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrOutputTooLarge, len(output), p.MaxOutputBytes)
	}
	q := Normalize(nil, output)
	if blank(q) {
		return nil, ErrEmptyOutput
	}
	sr.mu.RLock()
	defer sr.mu.RUnlock()
	if sr.closed {
		return nil, ErrClosed
	}

	// Steps 1-2: the maximal spans, at least MinSpanBytes long.
	cands, err := sr.candidates(ctx, q, int(p.MinSpanBytes))
	if err != nil {
		return nil, err
	}

	// Steps 3-5: count, credit and weigh each.
	res := &Result{Spans: []Span{}, Weights: []rewards.Share{}}
	var scores []rewards.Score
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pat := q[c.start:c.end]
		type hit struct {
			g      *segment
			lo, hi int
		}
		var hits []hit
		var count uint64
		for _, g := range sr.segs {
			lo, hi, err := g.rangeOf(pat)
			if err != nil {
				return nil, err
			}
			if hi > lo {
				hits = append(hits, hit{g, lo, hi})
				count += uint64(hi - lo)
			}
		}
		if count == 0 || count > uint64(p.MaxSpanCount) {
			continue
		}
		best := Span{}
		bestMember := -1
		for _, h := range hits {
			for i := h.lo; i < h.hi; i++ {
				pos := binary.LittleEndian.Uint32(h.g.sa[saEntry*i:])
				doc, off, length, err := h.g.locate(int(pos), len(pat))
				if err != nil {
					return nil, err
				}
				mi, file := h.g.docMember[doc], h.g.meta.Docs[doc].File
				if bestMember >= 0 && (mi > bestMember || mi == bestMember &&
					(file > best.File || file == best.File && off >= best.Offset)) {
					continue
				}
				bestMember = mi
				best.File, best.Offset, best.Length = file, off, length
			}
		}
		m := sr.members[bestMember]
		best.Start, best.End = uint32(c.start), uint32(c.end)
		best.Text = string(output[c.start:c.end])
		best.Contribution, best.Contributor = m.Contribution, m.Contributor
		best.Count = count
		best.Weight = uint64(len(pat)) * weightUnit / count
		res.Spans = append(res.Spans, best)
		if best.Weight > 0 { // 0 only for a count above the length·10^6
			scores = append(scores, rewards.Score{Address: m.Contributor, Score: best.Weight})
		}
	}
	if len(scores) == 0 {
		return res, nil
	}
	if res.Weights, err = rewards.Shares(scores); err != nil {
		return nil, err
	}
	return res, nil
}

// span is a candidate span of the normalised output: bytes [start, end).
type span struct{ start, end int }

// candidates returns the maximal spans of q at least minSpan bytes long,
// in order: at each word start, the longest prefix of the rest of q found
// in the text, trimmed by trimEnd; then those long enough; then those not
// inside an earlier one.
//
// It finds the same spans as searching at every word start, with less
// work where q copies the text at length: past a start j whose match ends
// at reach, a later start's match ends at reach or beyond, and it can only
// give a new span if it goes beyond. Whether the match from a start goes
// beyond reach (whether q[start:reach+1] occurs) is monotone in the start,
// so a binary search over the starts before reach finds the first that
// does, instead of a search at each: a long verbatim copy costs O(log)
// searches, not one per word.
func (sr *Searcher) candidates(ctx context.Context, q []byte, minSpan int) ([]span, error) {
	var starts []int
	for i := range q {
		if isWordStart(q, i) {
			starts = append(starts, i)
		}
	}
	var out []span
	maxEnd, reach := 0, 0
	for k, n := 0, 0; k < len(starts); n++ {
		if n%32 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if starts[k] < reach {
			if reach == len(q) {
				break
			}
			hi := k + sort.SearchInts(starts[k:], reach)
			if hi-k > 2 {
				var err error
				base := k
				k = base + sort.Search(hi-base, func(x int) bool {
					ok, e := sr.occurs(q[starts[base+x] : reach+1])
					if e != nil && err == nil {
						err = e
					}
					return ok
				})
				if err != nil {
					return nil, err
				}
				if k == hi {
					continue
				}
			}
		}
		j := starts[k]
		k++
		longest := 0
		for _, g := range sr.segs {
			l, err := g.longestPrefix(q[j:])
			if err != nil {
				return nil, err
			}
			longest = max(longest, l)
		}
		reach = max(reach, j+longest)
		if e := trimEnd(q, j, j+longest); e-j >= minSpan && e > maxEnd {
			out = append(out, span{j, e})
			maxEnd = e
		}
	}
	return out, nil
}

// occurs reports whether p occurs in the text of some segment.
func (sr *Searcher) occurs(p []byte) (bool, error) {
	for _, g := range sr.segs {
		lo, err := g.bound(p, false)
		if err != nil {
			return false, err
		}
		if lo < g.n {
			s, err := g.suffix(lo)
			if err != nil {
				return false, err
			}
			if bytes.HasPrefix(s, p) {
				return true, nil
			}
		}
	}
	return false, nil
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}

// longestPrefix returns the length of the longest prefix of q that occurs
// in the segment's text: the longest common prefix of q with the suffixes
// on either side of where q would sort. The binary search skips the prefix
// q is known to share with both ends of the range.
func (g *segment) longestPrefix(q []byte) (int, error) {
	lo, hi := 0, g.n
	loLCP, hiLCP := 0, 0 // with the suffixes at lo-1 and at hi
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		s, err := g.suffix(mid)
		if err != nil {
			return 0, err
		}
		k := min(loLCP, hiLCP, len(s))
		k += commonPrefix(q[k:], s[k:])
		if k == len(q) {
			return k, nil
		}
		if k == len(s) || s[k] < q[k] {
			lo, loLCP = mid+1, k
		} else {
			hi, hiLCP = mid, k
		}
	}
	return max(loLCP, hiLCP), nil
}

// rangeOf returns the range [lo, hi) of the suffix array whose suffixes
// start with p.
func (g *segment) rangeOf(p []byte) (lo, hi int, err error) {
	if lo, err = g.bound(p, false); err != nil {
		return 0, 0, err
	}
	hi, err = g.bound(p, true)
	return lo, hi, err
}

// bound returns the first suffix array index whose suffix sorts after p
// (upper) or not before p (lower), counting a suffix that starts with p as
// equal to it.
func (g *segment) bound(p []byte, upper bool) (int, error) {
	lo, hi := 0, g.n
	loLCP, hiLCP := 0, 0
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		s, err := g.suffix(mid)
		if err != nil {
			return 0, err
		}
		k := min(loLCP, hiLCP, len(s))
		k += commonPrefix(p[k:], s[k:])
		var right bool
		switch {
		case k == len(p):
			right = upper
		case k == len(s) || s[k] < p[k]:
			right = true
		}
		if right {
			lo, loLCP = mid+1, k
		} else {
			hi, hiLCP = mid, k
		}
	}
	return lo, nil
}
