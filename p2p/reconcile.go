package p2p

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/ipfs/go-cid"
)

// This file is the pure core of the sync protocol: range-based set
// reconciliation over the object CIDs of one set, in the style of
// Negentropy. It does no I/O; sync.go feeds it frames and carries out what
// it learns.

const (
	keySize         = sha256.Size
	fingerprintSize = 16
	// splitFanout is the number of sub-ranges a range with different
	// fingerprints is split into.
	splitFanout = 16
	// idListThreshold: a differing range holding fewer items than this is
	// answered with its ID list rather than split further.
	idListThreshold = splitFanout
	// maxCIDLen bounds one CID on the wire; object CIDs are ~36 bytes.
	maxCIDLen = 128
	// maxRangesPerFrame and maxIDsPerFrame bound what one RANGES frame may
	// carry; a well-behaved peer stays far below both (see rangeBudget).
	maxRangesPerFrame = 1 << 14
	maxIDsPerFrame    = 1 << 14
	// rangeBudget is the size a node aims for when it writes a RANGES
	// frame; work that does not fit is deferred to the next round as one
	// fingerprint over the rest of the key space.
	rangeBudget = 256 << 10
)

// key is the position of an object in the reconciled key space:
// sha256 of the CID's binary form. Hashing spreads keys uniformly whatever
// the CIDs' codecs, so splitting a range by count splits it evenly.
type key [keySize]byte

func keyOf(c cid.Cid) key { return sha256.Sum256(c.Bytes()) }

// bound is the exclusive upper end of a range: a key prefix of n bytes,
// standing for the prefix padded with zero bytes, or +infinity.
type bound struct {
	inf bool
	n   int // prefix length in bytes, 0..keySize
	k   key // the prefix, zero-padded
}

var infBound = bound{inf: true}

// above reports whether k lies at or above b, that is outside [.., b).
func (b bound) above(k key) bool {
	return !b.inf && bytes.Compare(k[:], b.k[:]) >= 0
}

// cmpBound orders bounds by the keys they stand for.
func cmpBound(a, b bound) int {
	switch {
	case a.inf && b.inf:
		return 0
	case a.inf:
		return 1
	case b.inf:
		return -1
	}
	return bytes.Compare(a.k[:], b.k[:])
}

// boundBetween returns the shortest bound b with prev < b <= next, for
// prev < next.
func boundBetween(prev, next key) bound {
	i := 0
	for i < keySize && prev[i] == next[i] {
		i++
	}
	b := bound{n: i + 1}
	copy(b.k[:i+1], next[:i+1])
	return b
}

// item is one member of a set.
type item struct {
	k key
	c cid.Cid
}

// set is an immutable sorted snapshot of a set of object CIDs, with prefix
// sums of the keys so that any range's fingerprint costs O(1).
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

// fingerprint summarises items[lo:hi]: the first 16 bytes of
// sha256(sum of keys mod 2^256, 32 bytes big-endian || uvarint(count)).
func (s *set) fingerprint(lo, hi int) [fingerprintSize]byte {
	return fingerprintOf(sub256(s.sums[hi], s.sums[lo]), hi-lo)
}

func fingerprintOf(sum [4]uint64, count int) [fingerprintSize]byte {
	var buf [keySize + binary.MaxVarintLen64]byte
	for i, l := range sum {
		binary.BigEndian.PutUint64(buf[8*i:], l)
	}
	n := binary.PutUvarint(buf[keySize:], uint64(count))
	h := sha256.Sum256(buf[:keySize+n])
	var fp [fingerprintSize]byte
	copy(fp[:], h[:])
	return fp
}

func limbs(k key) [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(k[0:]), binary.BigEndian.Uint64(k[8:]),
		binary.BigEndian.Uint64(k[16:]), binary.BigEndian.Uint64(k[24:]),
	}
}

func add256(a, b [4]uint64) [4]uint64 {
	var r [4]uint64
	var c uint64
	for i := 3; i >= 0; i-- {
		r[i], c = bits.Add64(a[i], b[i], c)
	}
	return r
}

func sub256(a, b [4]uint64) [4]uint64 {
	var r [4]uint64
	var c uint64
	for i := 3; i >= 0; i-- {
		r[i], c = bits.Sub64(a[i], b[i], c)
	}
	return r
}

// rangeMode says what a range of a RANGES frame carries.
type rangeMode byte

const (
	modeSkip        rangeMode = 0 // nothing to do for this range
	modeFingerprint rangeMode = 1 // the sender's fingerprint of the range
	modeIDList      rangeMode = 2 // every CID the sender holds in the range
)

// syncRange is one range of a RANGES frame. Ranges are consecutive: each
// starts where the previous one ended (the first at the zero key) and ends
// below upper.
type syncRange struct {
	upper bound
	mode  rangeMode
	fp    [fingerprintSize]byte
	ids   []cid.Cid
}

// encodedSize is the size of r in a RANGES frame.
func (r *syncRange) encodedSize() int {
	n := 2 + r.upper.n
	switch r.mode {
	case modeFingerprint:
		n += fingerprintSize
	case modeIDList:
		n += uvarintLen(uint64(len(r.ids)))
		for _, c := range r.ids {
			n += cidSize(c)
		}
	}
	return n
}

func cidSize(c cid.Cid) int {
	l := c.ByteLen()
	return uvarintLen(uint64(l)) + l
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// reconciler runs one side of a reconciliation over a set snapshot. The
// initiator learns both differences (have: it holds, the peer lacks; need:
// the peer holds, it lacks); the responder only answers.
type reconciler struct {
	set       *set
	initiator bool
	budget    int // target size of an output frame

	have, need []cid.Cid // initiator only
}

func newReconciler(s *set, initiator bool) *reconciler {
	return &reconciler{set: s, initiator: initiator, budget: rangeBudget}
}

// initial returns the initiator's opening ranges: its whole ID list when
// small, else one fingerprint over the whole key space.
func (r *reconciler) initial() []syncRange {
	var o output
	r.split(&o, infBound, 0, r.set.len(), true)
	return o.finish()
}

// process answers one incoming RANGES frame. An empty result means this
// side has nothing more to say; for the initiator it ends the
// reconciliation.
func (r *reconciler) process(in []syncRange) ([]syncRange, error) {
	var o output
	lower := bound{}
	lo := 0
	for i := range in {
		rg := &in[i]
		if cmpBound(rg.upper, lower) <= 0 {
			return nil, fmt.Errorf("%w: ranges out of order", ErrProtocol)
		}
		hi := r.set.index(rg.upper)
		switch rg.mode {
		case modeSkip:
			o.skip(rg.upper)
		case modeFingerprint:
			if r.set.fingerprint(lo, hi) == rg.fp {
				o.skip(rg.upper)
			} else {
				r.split(&o, rg.upper, lo, hi, false)
			}
		case modeIDList:
			if err := r.idList(&o, rg, lower, lo, hi); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: unknown range mode %d", ErrProtocol, rg.mode)
		}
		lower, lo = rg.upper, hi
		if o.size > r.budget && i < len(in)-1 {
			// Defer the rest: one fingerprint over everything above.
			o.add(syncRange{upper: infBound, mode: modeFingerprint, fp: r.set.fingerprint(lo, r.set.len())})
			break
		}
	}
	return o.finish(), nil
}

// split answers a differing range [.., upper) holding items[lo:hi]: an ID
// list when it is small, else splitFanout fingerprinted sub-ranges of
// equal counts.
func (r *reconciler) split(o *output, upper bound, lo, hi int, opening bool) {
	n := hi - lo
	if n < idListThreshold {
		o.add(syncRange{upper: upper, mode: modeIDList, ids: r.cids(lo, hi)})
		return
	}
	if opening {
		o.add(syncRange{upper: upper, mode: modeFingerprint, fp: r.set.fingerprint(lo, hi)})
		return
	}
	start := lo
	for b := 1; b <= splitFanout; b++ {
		end := lo + b*n/splitFanout
		ub := upper
		if b < splitFanout {
			ub = boundBetween(r.set.items[end-1].k, r.set.items[end].k)
		}
		o.add(syncRange{upper: ub, mode: modeFingerprint, fp: r.set.fingerprint(start, end)})
		start = end
	}
}

// idList handles the peer's complete ID list for [lower, rg.upper).
func (r *reconciler) idList(o *output, rg *syncRange, lower bound, lo, hi int) error {
	theirs := make(map[key]cid.Cid, len(rg.ids))
	for _, c := range rg.ids {
		k := keyOf(c)
		if !lower.above(k) || rg.upper.above(k) {
			return fmt.Errorf("%w: id outside its range", ErrProtocol)
		}
		theirs[k] = c
	}
	if r.initiator {
		for _, it := range r.set.items[lo:hi] {
			if _, ok := theirs[it.k]; ok {
				delete(theirs, it.k)
			} else {
				r.have = append(r.have, it.c)
			}
		}
		need := make([]item, 0, len(theirs))
		for k, c := range theirs {
			need = append(need, item{k: k, c: c})
		}
		slices.SortFunc(need, func(a, b item) int { return bytes.Compare(a.k[:], b.k[:]) })
		for _, it := range need {
			r.need = append(r.need, it.c)
		}
		o.skip(rg.upper)
		return nil
	}
	// Responder: answer with our own list for the range, as much of it as
	// the frame budget allows; a fingerprint covers the rest.
	room := r.budget - o.size - 64
	end := lo
	for end < hi && (end == lo || room >= cidSize(r.set.items[end].c)) {
		room -= cidSize(r.set.items[end].c)
		end++
	}
	if end == hi {
		o.add(syncRange{upper: rg.upper, mode: modeIDList, ids: r.cids(lo, hi)})
		return nil
	}
	ub := boundBetween(r.set.items[end-1].k, r.set.items[end].k)
	o.add(syncRange{upper: ub, mode: modeIDList, ids: r.cids(lo, end)})
	o.add(syncRange{upper: rg.upper, mode: modeFingerprint, fp: r.set.fingerprint(end, hi)})
	return nil
}

func (r *reconciler) cids(lo, hi int) []cid.Cid {
	out := make([]cid.Cid, hi-lo)
	for i, it := range r.set.items[lo:hi] {
		out[i] = it.c
	}
	return out
}

// output accumulates the ranges of a frame, merging adjacent skips and
// dropping trailing ones.
type output struct {
	ranges []syncRange
	size   int
}

func (o *output) skip(upper bound) {
	if n := len(o.ranges); n > 0 && o.ranges[n-1].mode == modeSkip {
		o.size += upper.n - o.ranges[n-1].upper.n
		o.ranges[n-1].upper = upper
		return
	}
	o.add(syncRange{upper: upper, mode: modeSkip})
}

func (o *output) add(r syncRange) {
	o.ranges = append(o.ranges, r)
	o.size += r.encodedSize()
}

func (o *output) finish() []syncRange {
	for len(o.ranges) > 0 && o.ranges[len(o.ranges)-1].mode == modeSkip {
		o.ranges = o.ranges[:len(o.ranges)-1]
	}
	return o.ranges
}
