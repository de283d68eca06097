package p2p

import (
	"bytes"
	"encoding/binary"
	"fmt"
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

// runReconcile drives both sides of a reconciliation in memory, through
// the wire encoding, and returns what the initiator learned.
func runReconcile(t testing.TB, mine, theirs []cid.Cid, budget int) (have, need []cid.Cid, rounds, wireBytes int) {
	t.Helper()
	ini, resp := newReconciler(newSet(mine), true), newReconciler(newSet(theirs), false)
	ini.budget, resp.budget = budget, budget
	set := testDatanet("reconcile")
	frame := encodeReconcile(set, ini.initial())
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
		if len(out) == 0 {
			return ini.have, ini.need, rounds, wireBytes
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
		{"late joiner large", 0, 0, 20000, rangeBudget, 4},
		{"initiator ahead", 0, 5000, 0, rangeBudget, 4},
		{"few differences in many", 20000, 7, 9, rangeBudget, 5},
		{"partition halves", 1000, 300, 300, rangeBudget, 4},
		{"disjoint", 0, 3000, 3000, rangeBudget, 5},
		{"tiny frames", 2000, 150, 150, 2 << 10, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			common := testCIDs(0, tt.common)
			onlyA := testCIDs(1_000_000, tt.onlyA)
			onlyB := testCIDs(2_000_000, tt.onlyB)
			a := append(slices.Clone(common), onlyA...)
			b := append(slices.Clone(common), onlyB...)
			have, need, rounds, n := runReconcile(t, a, b, tt.budget)
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
				b.ReportAllocs()
				var rounds, n int
				for b.Loop() {
					_, _, rounds, n = runReconcile(b, a, c, rangeBudget)
				}
				b.ReportMetric(float64(rounds), "rounds")
				b.ReportMetric(float64(n), "wire-bytes")
			})
		}
	}
}
