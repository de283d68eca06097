package p2p

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
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
	// idListStart is how many bytes of IDs a node puts in the ID lists
	// of its first RANGES frame of a session; after a frame where it had
	// to cut one, twice as many, up to rangeBudget. An initiator that
	// fetches a window of objects then stops wastes at most about the IDs
	// of the last frame it was sent, and the first frames are small.
	idListStart = 16 << 10
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

// String shows the bound's prefix in hex, or "inf".
func (b bound) String() string {
	if b.inf {
		return "inf"
	}
	return fmt.Sprintf("%x", b.k[:b.n])
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

// acc summarises a range: the sum of its keys mod 2^256 and their count.
type acc struct {
	sum [4]uint64
	n   int
}

func (a *acc) add(k key) {
	a.sum = add256(a.sum, limbs(k))
	a.n++
}

func (a *acc) addAcc(b acc) {
	a.sum = add256(a.sum, b.sum)
	a.n += b.n
}

// fingerprint is the first 16 bytes of sha256(sum of keys mod 2^256, 32
// bytes big-endian || uvarint(count)).
func (a acc) fingerprint() [fingerprintSize]byte { return fingerprintOf(a.sum, a.n) }

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

// reconciler runs one side of a reconciliation over a view of its set.
// The initiator learns both differences (have: it holds, the peer lacks;
// need: the peer holds, it lacks); the responder only answers.
//
// The initiator learns in key order, so when it has learned maxNeed
// objects to fetch it stops, and cursor says where the next session goes
// on: every difference below cursor has been learned. Of the objects the
// peer lacks it keeps the first maxHave and counts the others (the peer
// fetches those itself when it initiates: see Node.push). The view may
// change while a reconciliation runs (objects arrive): that costs extra
// rounds, never a wrong answer, since each round compares what each side
// holds then.
type reconciler struct {
	view      view
	initiator bool
	budget    int // target size of an output frame
	idBudget  int // bytes of IDs the next output frame may carry, up to budget

	// Initiator only.
	have, need       []cid.Cid // learned and not yet taken (take)
	maxHave, maxNeed int       // bounds on what is kept (have) and learned (need) over the session
	learnedHave      int       // objects the peer lacks, kept or not
	learnedNeed      int
	stopped          bool  // a bound was reached
	cursor           bound // when stopped: where to go on
	reached          bound // when stopped: how far it had learned (cursor may be below, at a range still open)
	// end is where the initiator's window ends: it reconciles the keys
	// from where it starts up to end, and leaves the rest to the next
	// session (infBound: no end). See syncState.window.
	end bound
	// held, if set, tells needed objects this node holds already (e.g.
	// deferred ones): they are listed in held, not need, and do not count
	// against maxNeed, so objects that cannot be fetched do not stop every
	// session at the same place.
	held     func(cid.Cid) (bool, error)
	heldList []cid.Cid
}

func newReconciler(v view, initiator bool) *reconciler {
	return &reconciler{view: v, initiator: initiator, budget: rangeBudget, idBudget: idListStart,
		maxHave: math.MaxInt, maxNeed: math.MaxInt, end: infBound}
}

// take returns what the initiator learned since the last take.
func (r *reconciler) take() (have, need, held []cid.Cid) {
	have, need, held = r.have, r.need, r.heldList
	r.have, r.need, r.heldList = nil, nil, nil
	return have, need, held
}

func (r *reconciler) full() bool { return r.learnedNeed >= r.maxNeed }

// stop ends the initiator's reconciliation at b, below which every range
// of o but those still open has been handled.
func (r *reconciler) stop(o *output, b bound) { r.stopAt(o.ranges, b) }

// stopAt ends the initiator's reconciliation at b or before: at the start
// of the first range of out still open (not a skip: the ranges it would
// send next), or where it stopped before.
func (r *reconciler) stopAt(out []syncRange, b bound) {
	reached := b
	lower := bound{}
	for _, rg := range out {
		if rg.mode != modeSkip {
			b = minBound(b, lower) // an open range: go on from its start
			break
		}
		lower = rg.upper
	}
	if r.stopped {
		b = minBound(b, r.cursor)
		reached = minBound(reached, r.reached)
	}
	r.stopped, r.cursor, r.reached = true, b, reached
}

func minBound(a, b bound) bound {
	if cmpBound(a, b) <= 0 {
		return a
	}
	return b
}

// initial returns the initiator's opening ranges over its window, from
// the key from on (the zero bound: the start of the key space) up to
// r.end: its ID list of the keys there when they are few, else one
// fingerprint over them.
func (r *reconciler) initial(from bound) ([]syncRange, error) {
	var o output
	if cmpBound(from, bound{}) > 0 {
		o.skip(from)
	}
	a, err := r.view.summary(from, r.end)
	if err != nil {
		return nil, err
	}
	if err := r.split(&o, from, r.end, a, true); err != nil {
		return nil, err
	}
	return o.finish(), nil
}

// done ends the initiator's reconciliation of its window: if the window
// ends before the key space does, it stopped there.
func (r *reconciler) done() {
	if !r.end.inf {
		r.stopAt(nil, r.end)
	}
}

// process answers one incoming RANGES frame. An empty result means this
// side has nothing more to say; for the initiator it ends the
// reconciliation, as does stopped.
func (r *reconciler) process(in []syncRange) ([]syncRange, error) {
	var o output
	lower := bound{}
	for i := range in {
		rg := &in[i]
		if cmpBound(rg.upper, lower) <= 0 {
			return nil, fmt.Errorf("%w: ranges out of order", ErrProtocol)
		}
		if r.initiator && r.full() {
			r.stop(&o, lower)
			return o.finish(), nil
		}
		if r.initiator && cmpBound(rg.upper, r.end) > 0 {
			// Past the window (the peer deferred work to a later round
			// with one fingerprint up to +inf): only its part below end.
			if err := r.clip(&o, rg, lower); err != nil {
				return nil, err
			}
			break
		}
		switch rg.mode {
		case modeSkip:
			o.skip(rg.upper)
		case modeFingerprint:
			a, err := r.view.summary(lower, rg.upper)
			if err != nil {
				return nil, err
			}
			if a.fingerprint() == rg.fp {
				o.skip(rg.upper)
			} else if err := r.split(&o, lower, rg.upper, a, false); err != nil {
				return nil, err
			}
		case modeIDList:
			if err := r.idList(&o, rg, lower); err != nil {
				return nil, err
			}
			if r.stopped {
				return o.finish(), nil
			}
		default:
			return nil, fmt.Errorf("%w: unknown range mode %d", ErrProtocol, rg.mode)
		}
		lower = rg.upper
		if (o.size > r.budget || o.idsCut) && i < len(in)-1 {
			if err := r.deferRest(&o, in[i+1:], lower); err != nil {
				return nil, err
			}
			break
		}
	}
	if o.idsCut {
		r.idBudget = min(2*r.idBudget, r.budget)
	}
	return o.finish(), nil
}

// deferRest answers the ranges of rest, which follow lower, for a later
// round: each run of ranges still open with one fingerprint of its own,
// the ranges done with skips, so that the next round takes up again only
// what is left.
func (r *reconciler) deferRest(o *output, rest []syncRange, lower bound) error {
	start, open := lower, false
	closeRun := func(upper bound) error {
		if !open {
			return nil
		}
		open = false
		a, err := r.view.summary(start, upper)
		if err != nil {
			return err
		}
		o.add(syncRange{upper: upper, mode: modeFingerprint, fp: a.fingerprint()})
		return nil
	}
	for i := range rest {
		rg := &rest[i]
		if cmpBound(rg.upper, lower) <= 0 {
			return fmt.Errorf("%w: ranges out of order", ErrProtocol)
		}
		if r.initiator && cmpBound(rg.upper, r.end) > 0 {
			if rg.mode != modeSkip && cmpBound(lower, r.end) < 0 && !open {
				start, open = lower, true
			}
			return closeRun(minBound(rg.upper, r.end))
		}
		if rg.mode == modeSkip {
			if err := closeRun(lower); err != nil {
				return err
			}
			o.skip(rg.upper)
		} else if !open {
			start, open = lower, true
		}
		lower = rg.upper
	}
	return closeRun(lower)
}

// clip handles, for the initiator, a range that reaches past its window:
// its part below the window's end, if any. A fingerprint of the whole
// cannot be compared with that part, so the part is taken as different.
func (r *reconciler) clip(o *output, rg *syncRange, lower bound) error {
	if cmpBound(lower, r.end) >= 0 {
		return nil
	}
	switch rg.mode {
	case modeSkip:
		return nil
	case modeFingerprint:
		a, err := r.view.summary(lower, r.end)
		if err != nil {
			return err
		}
		return r.split(o, lower, r.end, a, false)
	case modeIDList:
		part := syncRange{upper: r.end, mode: modeIDList}
		for _, c := range rg.ids {
			if k := keyOf(c); !r.end.above(k) {
				part.ids = append(part.ids, c)
			} else if rg.upper.above(k) {
				return fmt.Errorf("%w: id outside its range", ErrProtocol)
			}
		}
		return r.idList(o, &part, lower)
	}
	return fmt.Errorf("%w: unknown range mode %d", ErrProtocol, rg.mode)
}

// split answers a differing range [lo, hi) whose summary is a: an ID list
// when it holds few keys, else splitFanout fingerprinted sub-ranges of
// about equal counts (opening: one fingerprint of the range).
func (r *reconciler) split(o *output, lo, hi bound, a acc, opening bool) error {
	if a.n < idListThreshold {
		ids := make([]cid.Cid, 0, a.n)
		err := r.view.scan(lo, hi, func(it item) (bool, error) {
			ids = append(ids, it.c)
			return len(ids) < maxIDsPerFrame, nil
		})
		if err != nil {
			return err
		}
		o.add(syncRange{upper: hi, mode: modeIDList, ids: ids})
		return nil
	}
	if opening {
		o.add(syncRange{upper: hi, mode: modeFingerprint, fp: a.fingerprint()})
		return nil
	}
	return r.view.split(lo, hi, a, splitFanout, func(ub bound, sub acc) {
		o.add(syncRange{upper: ub, mode: modeFingerprint, fp: sub.fingerprint()})
	})
}

// idList handles the peer's complete ID list for [lower, rg.upper).
func (r *reconciler) idList(o *output, rg *syncRange, lower bound) error {
	theirs := make([]item, 0, len(rg.ids))
	var theirAcc acc
	for _, c := range rg.ids {
		k := keyOf(c)
		if !lower.above(k) || rg.upper.above(k) {
			return fmt.Errorf("%w: id outside its range", ErrProtocol)
		}
		theirs = append(theirs, item{k: k, c: c})
	}
	slices.SortFunc(theirs, func(a, b item) int { return bytes.Compare(a.k[:], b.k[:]) })
	theirs = slices.CompactFunc(theirs, func(a, b item) bool { return a.k == b.k })
	for _, it := range theirs {
		theirAcc.add(it.k)
	}
	if r.initiator {
		return r.merge(o, rg.upper, lower, theirs)
	}
	// Responder: answer with our own list for the range, as much of it as
	// the frame budget allows (a fingerprint covers the rest), or a skip
	// when it is the same list.
	mine, err := r.view.summary(lower, rg.upper)
	if err != nil {
		return err
	}
	if mine == theirAcc {
		o.skip(rg.upper)
		return nil
	}
	room := min(r.budget-o.size, r.idBudget-o.ids) - 64
	var (
		ids       []cid.Cid
		last, cut key
		cutting   bool
	)
	err = r.view.scan(lower, rg.upper, func(it item) (bool, error) {
		size := cidSize(it.c)
		if len(ids) > 0 && (room < size || len(ids) >= maxIDsPerFrame) {
			cut, cutting = it.k, true
			return false, nil
		}
		room -= size
		ids = append(ids, it.c)
		last = it.k
		return true, nil
	})
	if err != nil {
		return err
	}
	if !cutting {
		o.add(syncRange{upper: rg.upper, mode: modeIDList, ids: ids})
		return nil
	}
	o.idsCut = true
	ub := boundBetween(last, cut)
	rest, err := r.view.summary(ub, rg.upper)
	if err != nil {
		return err
	}
	o.add(syncRange{upper: ub, mode: modeIDList, ids: ids})
	o.add(syncRange{upper: rg.upper, mode: modeFingerprint, fp: rest.fingerprint()})
	return nil
}

// merge compares the initiator's keys in [lower, upper) with the peer's
// (sorted), in key order, learning both differences until a bound is
// reached.
func (r *reconciler) merge(o *output, upper, lower bound, theirs []item) error {
	j := 0
	learn := func(it item, mine bool) (bool, error) {
		if !mine && r.held != nil {
			if held, err := r.held(it.c); err != nil || held {
				r.heldList = append(r.heldList, it.c)
				return err == nil, err
			}
		}
		if r.full() {
			r.stop(o, bound{n: keySize, k: it.k})
			return false, nil
		}
		if mine {
			if r.learnedHave < r.maxHave {
				r.have = append(r.have, it.c)
			}
			r.learnedHave++
		} else {
			r.need = append(r.need, it.c)
			r.learnedNeed++
		}
		return true, nil
	}
	err := r.view.scan(lower, upper, func(it item) (bool, error) {
		for ; j < len(theirs) && bytes.Compare(theirs[j].k[:], it.k[:]) < 0; j++ {
			if more, err := learn(theirs[j], false); !more {
				return false, err
			}
		}
		if j < len(theirs) && theirs[j].k == it.k {
			j++
			return true, nil
		}
		return learn(it, true)
	})
	if err != nil || r.stopped {
		return err
	}
	for ; j < len(theirs); j++ {
		if more, err := learn(theirs[j], false); !more {
			return err
		}
	}
	o.skip(upper)
	return nil
}

// output accumulates the ranges of a frame, merging adjacent skips and
// dropping trailing ones.
type output struct {
	ranges []syncRange
	size   int
	ids    int  // bytes of the ID lists
	idsCut bool // an ID list was cut short for lack of room
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
	size := r.encodedSize()
	o.size += size
	if r.mode == modeIDList {
		o.ids += size
	}
}

func (o *output) finish() []syncRange {
	for len(o.ranges) > 0 && o.ranges[len(o.ranges)-1].mode == modeSkip {
		o.ranges = o.ranges[:len(o.ranges)-1]
	}
	return o.ranges
}
