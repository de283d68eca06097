package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
)

// testCIDs returns n distinct object CIDs, numbered from start.
func testCIDs(start, n int) []cid.Cid {
	out := make([]cid.Cid, n)
	for i := range out {
		out[i] = objCID(binary.AppendUvarint([]byte("object "), uint64(start+i)))
	}
	return out
}

// sliceIndex is a SyncIndex over a set in memory, with the buckets of
// both levels summed once, for reconciliations of the index view without
// a store.
type sliceIndex struct {
	s       *set
	buckets [levelFine + 1][]bucketSum // by level: non-empty buckets, in order
}

type bucketSum struct {
	b int
	a acc
}

// bucketAt is k's bucket at level (levelCoarse: its first byte;
// levelFine: its first two).
func bucketAt(k key, level int) int {
	if level == levelCoarse {
		return int(k[0])
	}
	return int(binary.BigEndian.Uint16(k[:]))
}

func newSliceIndex(cids []cid.Cid) *sliceIndex {
	x := &sliceIndex{s: newSet(cids)}
	for _, it := range x.s.items {
		for level := levelCoarse; level <= levelFine; level++ {
			bs, b := x.buckets[level], bucketAt(it.k, level)
			if len(bs) == 0 || bs[len(bs)-1].b != b {
				bs = append(bs, bucketSum{b: b})
			}
			bs[len(bs)-1].a.add(it.k)
			x.buckets[level] = bs
		}
	}
	return x
}

func (x *sliceIndex) SyncBuckets(_ context.Context, _ cid.Cid, level, from, to int, fn func(int, [32]byte, uint64) error) error {
	bs := x.buckets[level]
	i, _ := slices.BinarySearchFunc(bs, from, func(b bucketSum, from int) int { return b.b - from })
	for _, b := range bs[i:] {
		if b.b >= to {
			break
		}
		var sum [32]byte
		for j, l := range b.a.sum {
			binary.BigEndian.PutUint64(sum[8*j:], l)
		}
		if err := fn(b.b, sum, uint64(b.a.n)); err != nil {
			return err
		}
	}
	return nil
}

func (x *sliceIndex) SyncKeys(_ context.Context, _ cid.Cid, from [32]byte, within int, fn func([32]byte, cid.Cid) (bool, error)) error {
	for _, it := range x.s.items[x.s.index(bound{n: keySize, k: from}):] {
		if !bytes.Equal(it.k[:within], from[:within]) {
			return nil
		}
		if more, err := fn(it.k, it.c); err != nil || !more {
			return err
		}
	}
	return nil
}

func (x *sliceIndex) Datanets(context.Context) ([]cid.Cid, error) { return nil, nil }

// views are the two views a reconciliation runs over.
var views = []struct {
	name string
	make func([]cid.Cid) view
}{
	{"memory", func(c []cid.Cid) view { return newSet(c) }},
	{"index", func(c []cid.Cid) view {
		return &indexView{ctx: context.Background(), idx: newSliceIndex(c), set: testDatanet("reconcile")}
	}},
}

// runReconcile drives both sides of a reconciliation in memory, through
// the wire encoding, and returns what the initiator learned.
func runReconcile(t testing.TB, mine, theirs []cid.Cid, budget int) (have, need []cid.Cid, rounds, wireBytes int) {
	t.Helper()
	return runReconcileOn(t, newSet(mine), newSet(theirs), budget)
}

func runReconcileOn(t testing.TB, mine, theirs view, budget int) (have, need []cid.Cid, rounds, wireBytes int) {
	t.Helper()
	ini, resp := newReconciler(mine, true), newReconciler(theirs, false)
	ini.budget, resp.budget = budget, budget
	ini.idBudget, resp.idBudget = min(budget, idListStart), min(budget, idListStart)
	set := testDatanet("reconcile")
	open, err := ini.initial(bound{})
	if err != nil {
		t.Fatal(err)
	}
	frame := encodeReconcile(set, open)
	wireBytes += len(frame)
	gotSet, in, err := decodeReconcile(frame)
	if err != nil || !gotSet.Equals(set) {
		t.Fatalf("decode reconcile: %v %v", gotSet, err)
	}
	for {
		rounds++
		if rounds > maxRounds {
			t.Fatalf("no convergence after %d rounds", maxRounds)
		}
		out, err := resp.process(in)
		if err != nil {
			t.Fatalf("responder: %v", err)
		}
		frame = appendRanges(nil, out)
		wireBytes += len(frame)
		if len(frame) > maxControlFrame {
			t.Fatalf("responder frame of %d bytes", len(frame))
		}
		if in, err = decodeRanges(frame); err != nil {
			t.Fatalf("decode responder frame: %v", err)
		}
		out, err = ini.process(in)
		if err != nil {
			t.Fatalf("initiator: %v", err)
		}
		h, n, _ := ini.take()
		have, need = append(have, h...), append(need, n...)
		if len(out) == 0 {
			return have, need, rounds, wireBytes
		}
		frame = appendRanges(nil, out)
		wireBytes += len(frame)
		if in, err = decodeRanges(frame); err != nil {
			t.Fatalf("decode initiator frame: %v", err)
		}
	}
}

func sortedKeys(cids []cid.Cid) []string {
	out := make([]string, len(cids))
	for i, c := range cids {
		out[i] = c.KeyString()
	}
	slices.Sort(out)
	return out
}

func TestReconcile(t *testing.T) {
	tests := []struct {
		name                 string
		common, onlyA, onlyB int
		budget               int
		maxRounds            int
	}{
		{"both empty", 0, 0, 0, rangeBudget, 1},
		{"equal small", 10, 0, 0, rangeBudget, 1},
		{"equal large", 50000, 0, 0, rangeBudget, 1},
		{"late joiner small", 0, 0, 10, rangeBudget, 1},
		{"late joiner large", 0, 0, 20000, rangeBudget, 6}, // ID lists of 16, 32, 64... KiB
		{"initiator ahead", 0, 5000, 0, rangeBudget, 4},
		{"few differences in many", 20000, 7, 9, rangeBudget, 5},
		{"partition halves", 1000, 300, 300, rangeBudget, 4},
		{"disjoint", 0, 3000, 3000, rangeBudget, 5},
		{"tiny frames", 2000, 150, 150, 2 << 10, 40},
	}
	for _, tt := range tests {
		for _, v := range views {
			t.Run(tt.name+"/"+v.name, func(t *testing.T) {
				common := testCIDs(0, tt.common)
				onlyA := testCIDs(1_000_000, tt.onlyA)
				onlyB := testCIDs(2_000_000, tt.onlyB)
				a := append(slices.Clone(common), onlyA...)
				b := append(slices.Clone(common), onlyB...)
				have, need, rounds, n := runReconcileOn(t, v.make(a), v.make(b), tt.budget)
				if !slices.Equal(sortedKeys(have), sortedKeys(onlyA)) {
					t.Errorf("have: got %d ids, want the %d only the initiator holds", len(have), len(onlyA))
				}
				if !slices.Equal(sortedKeys(need), sortedKeys(onlyB)) {
					t.Errorf("need: got %d ids, want the %d only the responder holds", len(need), len(onlyB))
				}
				if rounds > tt.maxRounds {
					t.Errorf("%d rounds, want <= %d", rounds, tt.maxRounds)
				}
				t.Logf("%d rounds, %d bytes", rounds, n)
			})
		}
	}
}

// TestReconcileCostsLittleForFewDifferences checks that the protocol does
// not send the whole set: a few differences in a large set cost a small
// fraction of its ID list.
func TestReconcileCostsLittleForFewDifferences(t *testing.T) {
	common := testCIDs(0, 50000)
	a := append(slices.Clone(common), testCIDs(1_000_000, 3)...)
	b := append(slices.Clone(common), testCIDs(2_000_000, 3)...)
	_, _, rounds, n := runReconcile(t, a, b, rangeBudget)
	full := 0
	for _, c := range common {
		full += cidSize(c)
	}
	if n*20 > full {
		t.Errorf("%d bytes exchanged in %d rounds; the ID list alone is %d", n, rounds, full)
	}
}

func TestFingerprintIgnoresOrder(t *testing.T) {
	cids := testCIDs(0, 500)
	want := newSet(cids)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := slices.Clone(cids)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(shuffled, shuffled[:10]...) // duplicates count once
		got := newSet(shuffled)
		if got.len() != want.len() || got.fingerprint(0, got.len()) != want.fingerprint(0, want.len()) {
			t.Fatal("fingerprint depends on input order or duplicates")
		}
		if got.fingerprint(100, 300) != want.fingerprint(100, 300) {
			t.Fatal("range fingerprint depends on input order")
		}
	}
}

// TestFingerprintMatchesDefinition checks the prefix-sum fingerprint
// against the definition in doc.go, computed directly.
func TestFingerprintMatchesDefinition(t *testing.T) {
	s := newSet(testCIDs(0, 100))
	for _, r := range [][2]int{{0, 0}, {0, 100}, {17, 18}, {3, 99}} {
		var sum [4]uint64
		for _, it := range s.items[r[0]:r[1]] {
			sum = add256(sum, limbs(it.k))
		}
		if got, want := s.fingerprint(r[0], r[1]), fingerprintOf(sum, r[1]-r[0]); got != want {
			t.Errorf("range %v: fingerprint %x, want %x", r, got, want)
		}
	}
}

func TestBoundBetween(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		var a, b key
		for i := range a {
			a[i] = byte(r.IntN(4)) // small alphabet: long common prefixes
			b[i] = byte(r.IntN(4))
		}
		switch bytes.Compare(a[:], b[:]) {
		case 0:
			continue
		case 1:
			a, b = b, a
		}
		bd := boundBetween(a, b)
		if bd.above(a) || !bd.above(b) {
			t.Fatalf("bound %x (n=%d) not in (%x, %x]", bd.k[:bd.n], bd.n, a, b)
		}
		for i := bd.n; i < keySize; i++ {
			if bd.k[i] != 0 {
				t.Fatal("bound not zero-padded")
			}
		}
	}
}

func TestReconcileRejectsBadRanges(t *testing.T) {
	s := newSet(testCIDs(0, 50))
	high := bound{n: 1}
	high.k[0] = 0x80
	low := bound{n: 1}
	low.k[0] = 0x10
	outside := testCIDs(0, 50)
	var above []cid.Cid // an ID whose key is at or above 0x80
	for _, c := range outside {
		if k := keyOf(c); k[0] >= 0x80 {
			above = append(above, c)
			break
		}
	}
	tests := []struct {
		name string
		in   []syncRange
	}{
		{"decreasing bounds", []syncRange{{upper: high, mode: modeSkip}, {upper: low, mode: modeSkip}}},
		{"repeated bound", []syncRange{{upper: low, mode: modeSkip}, {upper: low, mode: modeSkip}}},
		{"zero first bound", []syncRange{{upper: bound{}, mode: modeSkip}}},
		{"range after infinity", []syncRange{{upper: infBound, mode: modeSkip}, {upper: infBound, mode: modeSkip}}},
		{"id outside its range", []syncRange{{upper: high, mode: modeIDList, ids: above}}},
		{"unknown mode", []syncRange{{upper: high, mode: 9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, initiator := range []bool{true, false} {
				if _, err := newReconciler(s, initiator).process(tt.in); err == nil {
					t.Errorf("initiator=%v: accepted", initiator)
				}
			}
		})
	}
}

func BenchmarkReconcile(b *testing.B) {
	for _, size := range []int{1000, 100000} {
		for _, diff := range []int{0, 10, 1000} {
			b.Run(fmt.Sprintf("size=%d/diff=%d", size, diff), func(b *testing.B) {
				common := testCIDs(0, size)
				a := append(slices.Clone(common), testCIDs(1_000_000, diff/2)...)
				c := append(slices.Clone(common), testCIDs(2_000_000, diff-diff/2)...)
				benchReconcile(b, newSet(a), newSet(c))
			})
		}
	}
}

// TestReconcileWindowsAdvance: sessions that fetch a few objects each
// and push fewer go on from where the last one stopped, each side in turn
// the initiator, so that random sets converge to their union with every
// object moved exactly once, however small the windows.
func TestReconcileWindowsAdvance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 30 {
		for _, v := range views {
			common := testCIDs(0, r.IntN(300))
			sets := [2][]cid.Cid{
				append(slices.Clone(common), testCIDs(1_000_000, r.IntN(400))...),
				append(slices.Clone(common), testCIDs(2_000_000, r.IntN(400))...),
			}
			window, push := 1+r.IntN(60), r.IntN(20)
			budget := []int{rangeBudget, 2 << 10, 600}[r.IntN(3)]
			union := slices.Compact(sortedKeys(append(slices.Clone(sets[0]), sets[1]...)))
			moved := map[cid.Cid]int{}
			cursors := [2]bound{}
			quiet := 0 // complete sessions in a row that learned nothing
			for session := 0; quiet < 2; session++ {
				if session > 10_000 {
					t.Fatalf("trial %d (%s): no convergence", trial, v.name)
				}
				i := session % 2 // the initiator
				ini, resp := newReconciler(v.make(sets[i]), true), newReconciler(v.make(sets[1-i]), false)
				ini.budget, resp.budget = budget, budget
				ini.idBudget, resp.idBudget = min(budget, idListStart), min(budget, idListStart)
				ini.maxNeed, ini.maxHave = window, push
				in, err := ini.initial(cursors[i])
				if err != nil {
					t.Fatal(err)
				}
				var fetched, pushed []cid.Cid
				for round := 0; ; round++ {
					if round > maxRounds {
						t.Fatalf("trial %d: more than %d rounds", trial, maxRounds)
					}
					out, err := resp.process(in)
					if err != nil {
						t.Fatal(err)
					}
					if in, err = ini.process(out); err != nil {
						t.Fatal(err)
					}
					have, need, _ := ini.take()
					fetched, pushed = append(fetched, need...), append(pushed, have...)
					if ini.stopped || len(in) == 0 {
						break
					}
				}
				for _, c := range append(slices.Clone(fetched), pushed...) {
					moved[c]++
				}
				sets[i], sets[1-i] = append(sets[i], fetched...), append(sets[1-i], pushed...)
				if len(fetched) > window || len(pushed) > push {
					t.Fatalf("moved %d/%d in windows of %d/%d", len(fetched), len(pushed), window, push)
				}
				learned := ini.learnedNeed + ini.learnedHave
				switch {
				case ini.stopped:
					if cmpBound(ini.cursor, cursors[i]) <= 0 && len(fetched) == 0 {
						t.Fatalf("trial %d (%s): a session stopped at %x without progress", trial, v.name, ini.cursor.k[:ini.cursor.n])
					}
					cursors[i], quiet = ini.cursor, 0
				case learned == 0:
					cursors[i] = bound{}
					quiet++
				default:
					cursors[i], quiet = bound{}, 0
				}
			}
			for i := range sets {
				if !slices.Equal(sortedKeys(sets[i]), union) {
					t.Fatalf("trial %d (%s, windows %d/%d): side %d holds %d, union %d", trial, v.name, window, push, i, len(sets[i]), len(union))
				}
			}
			for c, n := range moved {
				if n != 1 {
					t.Fatalf("trial %d (%s): %s moved %d times", trial, v.name, c, n)
				}
			}
		}
	}
}

// benchReconcile reports one reconciliation of mine with theirs.
func benchReconcile(b *testing.B, mine, theirs view) {
	b.ReportAllocs()
	var rounds, n int
	for b.Loop() {
		_, _, rounds, n = runReconcileOn(b, mine, theirs, rangeBudget)
	}
	b.ReportMetric(float64(rounds), "rounds")
	b.ReportMetric(float64(n), "wire-bytes")
}

// TestIndexViewMatchesSet: over a set large enough that first-level
// buckets hold many second-level ones, the index view's summary, scan and
// split of random ranges (bucket-aligned or not, up to +inf) agree with
// the reference set's, and a split's sub-ranges tile the range.
func TestIndexViewMatchesSet(t *testing.T) {
	cids := testCIDs(0, 40_000)
	for _, i := range denseBucket {
		cids = append(cids, testCIDs(i, 1)...)
	}
	ref := newSet(cids)
	iv := &indexView{ctx: context.Background(), idx: newSliceIndex(cids), set: testDatanet("view")}
	rng := rand.New(rand.NewPCG(3, 4))
	randomBound := func() bound {
		var b bound
		switch rng.IntN(6) {
		case 0:
			return infBound
		case 1: // a first-level bucket's start
			b.n, b.k[0] = 1, byte(rng.IntN(256))
		case 2: // a second-level bucket's start
			b.n = 2
			binary.BigEndian.PutUint16(b.k[:], uint16(rng.IntN(NumBuckets)))
		case 3: // a key of the set
			b.n, b.k = keySize, ref.items[rng.IntN(ref.len())].k
		default:
			b.n = 1 + rng.IntN(keySize)
			for i := range b.n {
				b.k[i] = byte(rng.Uint32())
			}
		}
		return b
	}
	fixed := [][2]bound{ // the dense bucket, alone and within others
		{bucketStart(0), bucketStart(1)}, {bound{}, bucketStart(1)}, {coarseStart(0), coarseStart(1)},
		{bound{}, infBound}, {bucketStart(0), bucketStart(2)},
	}
	for i := range 2000 {
		lo, hi := randomBound(), randomBound()
		if i < len(fixed) {
			lo, hi = fixed[i][0], fixed[i][1]
		}
		if lo.inf {
			lo = bound{}
		}
		if cmpBound(lo, hi) > 0 {
			lo, hi = hi, lo
		}
		want, _ := ref.summary(lo, hi)
		got, err := iv.summary(lo, hi)
		if err != nil || got != want {
			t.Fatalf("range %d [%s, %s): summary %d keys (%v), want %d", i, lo, hi, got.n, err, want.n)
		}
		n := 0
		if err := iv.scan(lo, hi, func(item) (bool, error) { n++; return true, nil }); err != nil || n != want.n {
			t.Fatalf("range %d: scanned %d keys (%v), want %d", i, n, err, want.n)
		}
		parts, prev, total := 0, lo, acc{}
		err = iv.split(lo, hi, got, splitFanout, func(ub bound, sub acc) {
			parts++
			if cmpBound(ub, prev) < 0 {
				t.Fatalf("range %d: sub-range up to %s below %s", i, ub, prev)
			}
			if w, _ := ref.summary(prev, ub); w != sub {
				t.Fatalf("range %d: sub-range [%s, %s) summed %d keys, holds %d", i, prev, ub, sub.n, w.n)
			}
			total.addAcc(sub)
			prev = ub
		})
		if err != nil || cmpBound(prev, hi) != 0 || total != want || parts > splitFanout {
			t.Fatalf("range %d: split into %d parts up to %s (%v), summing %d keys of %d", i, parts, prev, err, total.n, want.n)
		}
		if want.n >= idListThreshold && parts < 2 {
			t.Fatalf("range %d [%s, %s) of %d keys: split into itself", i, lo, hi, want.n)
		}
	}
}

// denseBucket are the numbers i whose testCIDs(i, 1) has its key in
// second-level bucket 0000: one bucket that holds more keys than an ID
// list does (at 10^6 contributions every bucket holds about 46).
var denseBucket = []int{40719, 229223, 281455, 302006, 322728, 388044, 500011, 512123, 617927,
	672803, 773509, 807188, 836460, 862788, 911853, 1169638, 1357279, 1408615, 1436070, 1506881,
	1680193, 1784853, 1832297, 1966242, 2115761, 2137084, 2203848, 2246457, 2250751, 2308631,
	2359303, 2372031, 2418339, 2447699, 2466685, 2474943, 2663875, 2822920, 2857191, 2932356}

// TestReconcileDenseBucket: sets that differ inside a bucket of more keys
// than an ID list holds converge. The index view once split such a range
// into itself, so the two sides sent each other the same fingerprint until
// the round limit, and every later session stopped there.
func TestReconcileDenseBucket(t *testing.T) {
	var dense []cid.Cid
	for _, i := range denseBucket {
		c := testCIDs(i, 1)[0]
		if k := keyOf(c); k[0] != 0 || k[1] != 0 {
			t.Fatalf("testCIDs(%d, 1) is not in bucket 0000", i)
		}
		dense = append(dense, c)
	}
	common := append(testCIDs(0, 2000), dense[:20]...)
	onlyA, onlyB := dense[20:30], dense[30:]
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			a := append(slices.Clone(common), onlyA...)
			b := append(slices.Clone(common), onlyB...)
			have, need, rounds, _ := runReconcileOn(t, v.make(a), v.make(b), rangeBudget)
			if !slices.Equal(sortedKeys(have), sortedKeys(onlyA)) || !slices.Equal(sortedKeys(need), sortedKeys(onlyB)) {
				t.Errorf("have %d need %d, want %d and %d", len(have), len(need), len(onlyA), len(onlyB))
			}
			if rounds > 8 {
				t.Errorf("%d rounds", rounds)
			}
		})
	}
}

// TestWindowWidths: a session that stops inside its window sets the next
// window to what it took; one that goes through with room left widens it
// towards nine tenths of the bound (not by a whole factor: a window that
// took 56 % of the bound grows by 1.6, not 1), at most four times, and up
// to the rest of the key space.
func TestWindowWidths(t *testing.T) {
	var s syncState
	req := syncReq{testDatanet("widths"), "peer"}
	from, end := s.window(req)
	if from != (bound{}) || !end.inf {
		t.Fatalf("first window [%s, %s), want the whole key space", from, end)
	}
	const unit = uint64(1) << 50
	s.advance(req, from, end, bound64(unit), bound64(unit), true, 10_000, 10_000)
	for _, tc := range []struct {
		learned int
		grow    float64
	}{{5_600, 0.9 / 0.56}, {9_500, 1}, {100, 4}, {0, 4}} {
		from, end = s.window(req)
		width := prefix64(end) - prefix64(from)
		s.advance(req, from, end, end, end, true, tc.learned, 10_000)
		next, nextEnd := s.window(req)
		if cmpBound(next, end) != 0 {
			t.Fatalf("next window starts at %s, want %s", next, end)
		}
		got := float64(prefix64(nextEnd)-prefix64(next)) / float64(width)
		if math.Abs(got-tc.grow) > 0.001 {
			t.Errorf("learned %d of 10000: the window grew by %.3f, want %.3f", tc.learned, got, tc.grow)
		}
	}
	for range 40 { // past the top of the key space: the rest of it
		from, end = s.window(req)
		if end.inf {
			break
		}
		s.advance(req, from, end, end, end, true, 0, 10_000)
	}
	if _, end = s.window(req); !end.inf {
		t.Errorf("the window never reached the end of the key space: %s", end)
	}
}
