package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/ipfs/go-cid"
)

// view is a set of object CIDs as the reconciler reads it: by key range,
// in key order. A range [lo, hi) is given by its bounds; lo is never
// infinite.
type view interface {
	// summary returns the sum and count of the keys in [lo, hi).
	summary(lo, hi bound) (acc, error)
	// scan calls fn with the items in [lo, hi), in key order, until fn
	// returns false.
	scan(lo, hi bound, fn func(item) (bool, error)) error
	// split calls fn with consecutive sub-ranges covering [lo, hi), whose
	// summary is a: at most parts of them, of about equal counts, each with
	// its upper bound (the last one's is hi) and its summary.
	split(lo, hi bound, a acc, parts int, fn func(upper bound, sub acc)) error
}

// set is an immutable sorted snapshot of a set of object CIDs, with prefix
// sums of the keys so that any range's fingerprint costs O(1): the
// reference view the tests check the index view against.
type set struct {
	items []item
	sums  [][4]uint64 // sums[i] = keys of items[:i] summed mod 2^256, big-endian limbs
}

// newSet builds a set from CIDs in any order; duplicates count once.
func newSet(cids []cid.Cid) *set {
	items := make([]item, 0, len(cids))
	for _, c := range cids {
		if c.Defined() {
			items = append(items, item{k: keyOf(c), c: c})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return bytes.Compare(a.k[:], b.k[:]) })
	items = slices.CompactFunc(items, func(a, b item) bool { return a.k == b.k })
	s := &set{items: items, sums: make([][4]uint64, len(items)+1)}
	for i, it := range items {
		s.sums[i+1] = add256(s.sums[i], limbs(it.k))
	}
	return s
}

func (s *set) len() int { return len(s.items) }

// index returns the number of items below b.
func (s *set) index(b bound) int {
	if b.inf {
		return len(s.items)
	}
	i, _ := slices.BinarySearchFunc(s.items, b.k, func(it item, k key) int {
		return bytes.Compare(it.k[:], k[:])
	})
	return i
}

// fingerprint summarises items[lo:hi].
func (s *set) fingerprint(lo, hi int) [fingerprintSize]byte { return s.acc(lo, hi).fingerprint() }

func (s *set) acc(lo, hi int) acc { return acc{sum: sub256(s.sums[hi], s.sums[lo]), n: hi - lo} }

func (s *set) summary(lo, hi bound) (acc, error) {
	i, j := s.index(lo), s.index(hi)
	return s.acc(i, max(i, j)), nil
}

func (s *set) scan(lo, hi bound, fn func(item) (bool, error)) error {
	for _, it := range s.items[s.index(lo):max(s.index(lo), s.index(hi))] {
		if more, err := fn(it); err != nil || !more {
			return err
		}
	}
	return nil
}

// split cuts items[lo:hi] at equal counts, each cut at the shortest bound
// between neighbouring keys.
func (s *set) split(lo, hi bound, _ acc, parts int, fn func(bound, acc)) error {
	i, j := s.index(lo), s.index(hi)
	n := j - i
	start := i
	for b := 1; b <= parts; b++ {
		end := i + b*n/parts
		ub := hi
		if b < parts {
			if end == start || end == j {
				continue // too few keys for this cut
			}
			ub = boundBetween(s.items[end-1].k, s.items[end].k)
		}
		fn(ub, s.acc(start, end))
		start = end
	}
	return nil
}

// NumBuckets is the number of buckets of a sync index's second level: a
// key's bucket is its first two bytes. Its first level has numCoarse
// buckets, by a key's first byte, each the sum of 256 of the second.
const NumBuckets = 1 << 16

const (
	numCoarse   = 1 << 8
	levelCoarse = 1 // SyncIndex.SyncBuckets' level of the buckets by first byte
	levelFine   = 2 // and by first two bytes
)

// indexView is the view of a Datanet's set over the node's sync index
// (SyncIndex): the buckets a range covers whole are read as their stored
// sums (those of the first level where the range covers them, else of the
// second), and only the keys of the at most two buckets it cuts through
// are read one by one. A range's summary thus reads at most 256 + 2·255
// sums and two buckets' keys, however large the set. It holds nothing
// between calls, so a session costs no memory in the size of the set.
type indexView struct {
	ctx context.Context
	idx SyncIndex
	set cid.Cid
}

// bucketStart is the bound where bucket b starts (b = NumBuckets: +inf).
func bucketStart(b int) bound {
	if b >= NumBuckets {
		return infBound
	}
	bd := bound{n: 2}
	binary.BigEndian.PutUint16(bd.k[:], uint16(b))
	return bd
}

// coarseStart is the bound where first-level bucket c starts (c =
// numCoarse: +inf).
func coarseStart(c int) bound {
	if c >= numCoarse {
		return infBound
	}
	bd := bound{n: 1}
	bd.k[0] = byte(c)
	return bd
}

// bucketOf returns the bucket b lies in, and whether b is where that
// bucket starts (every byte after the first two is zero). +inf lies at the
// start of bucket NumBuckets.
func bucketOf(b bound) (int, bool) {
	if b.inf {
		return NumBuckets, true
	}
	for _, x := range b.k[2:] {
		if x != 0 {
			return int(binary.BigEndian.Uint16(b.k[:])), false
		}
	}
	return int(binary.BigEndian.Uint16(b.k[:])), true
}

// errEnough stops a read of the index early.
var errEnough = errors.New("enough")

// walk calls bucket with the buckets [lo, hi) covers whole, each with the
// bounds it spans, and key with the keys of the buckets the range cuts
// through, in key order, until one returns false. A bucket of more than
// most keys is not a piece: walk goes into it instead (the buckets of the
// next level, or its keys), so that split can cut a range whose keys sit
// in one bucket.
func (v *indexView) walk(lo, hi bound, most int, bucket func(start, end bound, a acc) bool, key func(it item) bool) error {
	if cmpBound(lo, hi) >= 0 {
		return nil
	}
	bl, loStart := bucketOf(lo)
	bh, hiStart := bucketOf(hi)
	if bl == bh {
		return v.keys(lo, hi, key) // within one bucket
	}
	first := bl
	if !loStart {
		more := true
		err := v.keys(lo, bucketStart(bl+1), func(it item) bool { more = key(it); return more })
		if err != nil || !more {
			return err
		}
		first = bl + 1
	}
	more, err := v.buckets(first, bh, most, bucket, key)
	if err != nil || !more || hiStart {
		return err
	}
	return v.keys(bucketStart(bh), hi, key)
}

// buckets walks the second-level buckets [first, last): as first-level
// buckets where they make whole ones (see walk for most).
func (v *indexView) buckets(first, last, most int, bucket func(start, end bound, a acc) bool, key func(item) bool) (bool, error) {
	up := (first + numCoarse - 1) &^ (numCoarse - 1) // the first first-level bucket start at or after first
	down := last &^ (numCoarse - 1)                  // the last at or before last
	if up >= down {
		return v.level(levelFine, first, last, most, bucket, key)
	}
	for _, part := range []struct{ level, from, to int }{
		{levelFine, first, up},
		{levelCoarse, up / numCoarse, down / numCoarse},
		{levelFine, down, last},
	} {
		if more, err := v.level(part.level, part.from, part.to, most, bucket, key); err != nil || !more {
			return more, err
		}
	}
	return true, nil
}

// level walks the buckets [from, to) of level (see walk for most).
func (v *indexView) level(level, from, to, most int, bucket func(start, end bound, a acc) bool, key func(item) bool) (bool, error) {
	if from >= to {
		return true, nil
	}
	start := bucketStart
	if level == levelCoarse {
		start = coarseStart
	}
	more := true
	err := v.idx.SyncBuckets(v.ctx, v.set, level, from, to, func(b int, sum [32]byte, count uint64) error {
		if b < from || b >= to {
			return fmt.Errorf("sync index: bucket %d of level %d read for [%d, %d)", b, level, from, to)
		}
		var err error
		switch {
		case count <= uint64(most):
			more = bucket(start(b), start(b+1), acc{sum: limbs(sum), n: int(count)})
		case level == levelCoarse:
			more, err = v.level(levelFine, b*numCoarse, (b+1)*numCoarse, most, bucket, key)
		default:
			err = v.keys(start(b), start(b+1), func(it item) bool { more = key(it); return more })
		}
		if err == nil && !more {
			err = errEnough
		}
		return err
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return more, err
}

// keys calls fn with the keys in [lo, hi) read one by one. A range inside
// one bucket, as walk's are, is read as such (SyncKeys' within).
func (v *indexView) keys(lo, hi bound, fn func(item) bool) error {
	if lo.inf {
		return nil
	}
	within := 0
	if b, _ := bucketOf(lo); cmpBound(hi, bucketStart(b+1)) <= 0 {
		within = 2
	}
	return v.idx.SyncKeys(v.ctx, v.set, lo.k, within, func(k [32]byte, c cid.Cid) (bool, error) {
		if hi.above(k) {
			return false, nil
		}
		return fn(item{k: k, c: c}), nil
	})
}

func (v *indexView) summary(lo, hi bound) (acc, error) {
	var a acc
	err := v.walk(lo, hi, math.MaxInt,
		func(_, _ bound, b acc) bool { a.addAcc(b); return true },
		func(it item) bool { a.add(it.k); return true })
	return a, err
}

func (v *indexView) scan(lo, hi bound, fn func(item) (bool, error)) error {
	var ferr error
	err := v.keys(lo, hi, func(it item) bool {
		more, err := fn(it)
		ferr = err
		return more && err == nil
	})
	if err != nil {
		return err
	}
	return ferr
}

// split cuts at bucket boundaries where a range spans buckets, and between
// keys inside the buckets it cuts through: a cut falls after the piece
// (bucket or key) that reaches the next share of a's count, at the start
// of the next piece. A piece is never more than a share (walk goes into a
// larger bucket), so a range of more than parts keys is always cut, however
// its keys lie, and its parts are about even.
func (v *indexView) split(lo, hi bound, a acc, parts int, fn func(bound, acc)) error {
	var (
		sub      acc
		seen     int
		cut      = 1 // the next share to reach
		pending  bool
		prevKey  key   // the last piece, if a key
		prevEnd  bound // the last piece's end, if a bucket
		prevKeyd bool  // the last piece was a key
	)
	emit := func(next bound) {
		fn(next, sub)
		sub = acc{}
		pending = false
	}
	piece := func(n int) {
		seen += n
		for cut < parts && seen >= cut*a.n/parts {
			cut++
			pending = true
		}
	}
	err := v.walk(lo, hi, max(a.n/parts, 1),
		func(start, end bound, ba acc) bool {
			if pending {
				emit(start)
			}
			sub.addAcc(ba)
			prevEnd, prevKeyd = end, false
			piece(ba.n)
			return true
		},
		func(it item) bool {
			if pending {
				if prevKeyd {
					emit(boundBetween(prevKey, it.k))
				} else {
					emit(prevEnd)
				}
			}
			sub.add(it.k)
			prevKey, prevKeyd = it.k, true
			piece(1)
			return true
		})
	if err != nil {
		return err
	}
	fn(hi, sub)
	return nil
}
