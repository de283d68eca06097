package exchange

import (
	"errors"
	"fmt"
	"time"
)

// sched is the pure core of one fetch: it decides which peer asks for which
// shard, and what happens to a shard when a peer does not deliver it. It
// does no I/O, starts no goroutines and reads no clock (time is an
// argument); the caller serialises calls.
//
// Every pending shard is in exactly one place: the queue (a deque) of one
// live peer, or in flight at one or two peers. Shards are first dealt to the
// starting peers in contiguous runs. A peer takes from the front of its own
// queue; a peer whose queue is empty steals from the back of the longest
// queue of another peer (work stealing). When no queue has work left, an
// idle peer may ask for a shard that is already in flight at a peer much
// slower than itself (endgame), so the tail of a fetch does not wait on a
// slow peer; the first verified copy wins.
type sched struct {
	shards      []shardSched
	peers       []peerSched
	window      int // shards in flight per peer
	maxAttempts int // failures of peers a shard was in flight at
	maxActive   int // peers with a worker at once
	active      int
	remaining   int   // shards neither done nor failed
	starts      []int // peers to start a worker for; see takeStarts
}

type shardState uint8

const (
	shardPending shardState = iota
	shardDone
	shardFailed
)

type shardSched struct {
	state    shardState
	copies   uint8 // peers it is in flight at
	attempts int   // peers that failed while it was in flight there
	notFound int   // peers that answered that they do not have it
	refused  []uint64
	lastErr  error // last reason a peer did not deliver it
	err      error // why it failed, once state is shardFailed
}

type peerState uint8

const (
	peerIdle   peerState = iota // no worker yet; may be started
	peerActive                  // a worker is running for it
	peerDead                    // dropped from this fetch
)

type peerSched struct {
	state    peerState
	queue    deque
	inflight []int // requested, in request order (responses come in it)
	// spp is the moving average of seconds per delivered shard, 0 while
	// unknown; mark is when the shard at the front of inflight started to
	// be waited for (the last delivery, or the request if the peer was
	// idle).
	spp  float64
	mark time.Time
}

// endgameFactor is how much sooner an idle peer must expect to deliver a
// shard than the peer it is in flight at before asking for a second copy.
const endgameFactor = 2

// sppWeight is the weight of a new sample in peerSched.spp.
const sppWeight = 0.25

// newSched returns the schedule of a fetch of nShards shards from nPeers
// peers, of which the first maxActive are started at once.
func newSched(nShards, nPeers, window, maxAttempts, maxActive int) *sched {
	s := &sched{
		shards:      make([]shardSched, nShards),
		peers:       make([]peerSched, nPeers),
		window:      window,
		maxAttempts: maxAttempts,
		maxActive:   maxActive,
		remaining:   nShards,
	}
	start := min(nPeers, maxActive)
	for p := range start {
		s.peers[p].state = peerActive
		s.starts = append(s.starts, p)
	}
	s.active = start
	if start == 0 {
		for i := range s.shards {
			s.fail(i)
		}
		return s
	}
	for p := range start {
		lo, hi := p*nShards/start, (p+1)*nShards/start
		q := make([]int, 0, hi-lo)
		for i := lo; i < hi; i++ {
			q = append(q, i)
		}
		s.peers[p].queue = deque{q: q}
	}
	return s
}

// finished reports whether every shard is done or failed.
func (s *sched) finished() bool { return s.remaining == 0 }

// takeStarts returns the peers that need a worker started, and forgets them.
func (s *sched) takeStarts() []int {
	out := s.starts
	s.starts = nil
	return out
}

// next returns a shard for peer p to ask for at time now, and records it as
// in flight there; ok is false if p's window is full or there is no shard
// for it now.
func (s *sched) next(p int, now time.Time) (shard int, ok bool) {
	ps := &s.peers[p]
	if ps.state != peerActive || len(ps.inflight) >= s.window || s.finished() {
		return 0, false
	}
	if i, ok := ps.queue.popFront(); ok {
		return s.take(p, i, now), true
	}
	if i, ok := s.steal(p); ok {
		return s.take(p, i, now), true
	}
	if i, ok := s.endgame(p, now); ok {
		return s.take(p, i, now), true
	}
	return 0, false
}

func (s *sched) take(p, i int, now time.Time) int {
	ps := &s.peers[p]
	if len(ps.inflight) == 0 {
		ps.mark = now
	}
	ps.inflight = append(ps.inflight, i)
	s.shards[i].copies++
	return i
}

// stealScan bounds how far from the back of a queue a thief looks for a
// shard it may take (one it has not answered "not found" for).
const stealScan = 256

// steal takes a shard for p from the back of the longest queue of another
// peer that holds one p may ask for.
func (s *sched) steal(p int) (int, bool) {
	victim, longest := -1, 0
	for v := range s.peers {
		if v != p && s.peers[v].state != peerDead && s.peers[v].queue.len() > longest {
			victim, longest = v, s.peers[v].queue.len()
		}
	}
	if victim < 0 {
		return 0, false
	}
	q := &s.peers[victim].queue
	for k := range min(q.len(), stealScan) {
		if i := q.at(q.len() - 1 - k); !s.shards[i].refusedBy(p) {
			q.remove(q.len() - 1 - k)
			return i, true
		}
	}
	// Nothing near the back is for p. Rare (p lacks a run of shards that
	// another peer holds), so look through every queue.
	for v := range s.peers {
		if v == p || s.peers[v].state == peerDead {
			continue
		}
		q := &s.peers[v].queue
		for k := range q.len() {
			if i := q.at(k); !s.shards[i].refusedBy(p) {
				q.remove(k)
				return i, true
			}
		}
	}
	return 0, false
}

// endgame picks a shard in flight at another peer that p can expect to
// deliver endgameFactor times sooner, or reports that there is none.
func (s *sched) endgame(p int, now time.Time) (int, bool) {
	ps := &s.peers[p]
	spp := ps.spp
	if spp == 0 {
		spp = s.fastest()
		if spp == 0 {
			return 0, false // nothing measured yet: no basis to judge
		}
	}
	mine := float64(len(ps.inflight)+1) * spp
	best, bestETA := -1, 0.0
	for v := range s.peers {
		vs := &s.peers[v]
		if v == p || vs.state != peerActive || len(vs.inflight) == 0 {
			continue
		}
		since := now.Sub(vs.mark).Seconds()
		est := vs.spp
		if since > est {
			// Overdue: expect it to take as long again.
			est = 2 * since
		}
		// The last eligible shard in v's flight is the one v will
		// deliver last.
		for k := len(vs.inflight) - 1; k >= 0; k-- {
			i := vs.inflight[k]
			sh := &s.shards[i]
			if sh.copies > 1 || sh.state != shardPending || sh.refusedBy(p) {
				continue
			}
			if eta := float64(k+1)*est - since; eta > bestETA {
				best, bestETA = i, eta
			}
			break
		}
	}
	if best < 0 || bestETA <= endgameFactor*mine {
		return 0, false
	}
	return best, true
}

// fastest returns the smallest measured seconds per shard of any peer, or
// 0 if none is measured.
func (s *sched) fastest() float64 {
	best := 0.0
	for v := range s.peers {
		if spp := s.peers[v].spp; spp > 0 && (best == 0 || spp < best) {
			best = spp
		}
	}
	return best
}

// popInflight removes shard i from the front of p's in-flight list, where
// the caller found it, and updates p's rate when a shard was delivered.
func (s *sched) popInflight(p, i int, now time.Time, delivered bool) error {
	ps := &s.peers[p]
	if len(ps.inflight) == 0 || ps.inflight[0] != i {
		return fmt.Errorf("%w: shard %d is not next in flight at peer %d", errInternal, i, p)
	}
	ps.inflight = ps.inflight[1:]
	if len(ps.inflight) == 0 {
		ps.inflight = ps.inflight[:0:0]
	}
	s.shards[i].copies--
	if delivered {
		sample := now.Sub(ps.mark).Seconds()
		if ps.spp == 0 {
			ps.spp = sample
		} else {
			ps.spp += sppWeight * (sample - ps.spp)
		}
	}
	ps.mark = now
	return nil
}

// delivered records that peer p delivered shard i, verified, at now. It
// reports whether this is the first copy (the caller hands it to put) or a
// duplicate to drop.
func (s *sched) delivered(p, i int, now time.Time) (first bool, err error) {
	if err := s.popInflight(p, i, now, true); err != nil {
		return false, err
	}
	sh := &s.shards[i]
	if sh.state != shardPending {
		return false, nil
	}
	sh.state = shardDone
	s.remaining--
	return true, nil
}

// refused records that peer p answered, at now, that it cannot send shard
// i; cause says why (nil: it does not have it). The shard goes to another
// peer that might have it, or fails if there is none.
func (s *sched) refused(p, i int, now time.Time, cause error) error {
	if err := s.popInflight(p, i, now, false); err != nil {
		return err
	}
	sh := &s.shards[i]
	sh.refuse(p, len(s.peers))
	if cause == nil {
		sh.notFound++
	} else {
		sh.lastErr = cause
	}
	if sh.state == shardPending && sh.copies == 0 {
		s.requeue(i)
	}
	return nil
}

// busy records that peer p refused the stream its in-flight shards were
// asked on. They go back to the front of its queue, in order, where other
// peers may steal them while p's worker waits to ask again.
func (s *sched) busy(p int) {
	ps := &s.peers[p]
	inflight := ps.inflight
	ps.inflight = nil
	for k := len(inflight) - 1; k >= 0; k-- {
		sh := &s.shards[inflight[k]]
		sh.copies--
		if sh.state == shardPending && sh.copies == 0 {
			ps.queue.pushFront(inflight[k])
		}
	}
}

// dropped records that peer p failed with err and is out of this fetch.
// Its shards go to other peers; each in flight there counts an attempt.
func (s *sched) dropped(p int, err error) {
	ps := &s.peers[p]
	if ps.state == peerDead {
		return
	}
	if ps.state == peerActive {
		s.active--
	}
	ps.state = peerDead
	inflight := ps.inflight
	ps.inflight = nil
	queued := ps.queue.drain()
	for _, i := range inflight {
		sh := &s.shards[i]
		sh.copies--
		sh.attempts++
		sh.lastErr = err
		if sh.state != shardPending || sh.copies > 0 {
			continue
		}
		if sh.attempts >= s.maxAttempts {
			sh.state = shardFailed
			sh.err = fmt.Errorf("%d attempts failed, the last: %w", sh.attempts, err)
			s.remaining--
			continue
		}
		s.requeue(i)
	}
	for _, i := range queued {
		s.requeue(i)
	}
	s.replace()
}

// replace starts an idle peer if fewer than maxActive are active and there
// is work left.
func (s *sched) replace() {
	if s.finished() {
		return
	}
	for v := range s.peers {
		if s.active >= s.maxActive {
			return
		}
		if s.peers[v].state == peerIdle {
			s.start(v)
		}
	}
}

func (s *sched) start(v int) {
	s.peers[v].state = peerActive
	s.active++
	s.starts = append(s.starts, v)
}

// requeue gives pending shard i, in flight nowhere, to the live peer with
// the shortest queue that has not refused it, starting an idle peer if only
// idle peers remain; with no such peer the shard fails.
func (s *sched) requeue(i int) {
	sh := &s.shards[i]
	best, idle := -1, -1
	for v := range s.peers {
		vs := &s.peers[v]
		if vs.state == peerDead || sh.refusedBy(v) {
			continue
		}
		if vs.state == peerIdle {
			if idle < 0 {
				idle = v
			}
			continue
		}
		if best < 0 || vs.queue.len() < s.peers[best].queue.len() {
			best = v
		}
	}
	if best < 0 && idle >= 0 {
		best = idle
		s.start(idle)
	}
	if best < 0 {
		s.fail(i)
		return
	}
	// At the front: it has waited already, and a "not found" is cheap to
	// learn.
	s.peers[best].queue.pushFront(i)
}

// fail marks pending shard i failed because no live peer may have it.
func (s *sched) fail(i int) {
	sh := &s.shards[i]
	switch {
	case sh.notFound > 0 && sh.lastErr != nil:
		sh.err = fmt.Errorf("%w at %d providers, others failed: %w", ErrNotFound, sh.notFound, sh.lastErr)
	case sh.notFound > 0:
		sh.err = fmt.Errorf("%w at %d providers", ErrNotFound, sh.notFound)
	case sh.lastErr != nil:
		sh.err = fmt.Errorf("no provider left: %w", sh.lastErr)
	default:
		sh.err = errNoProviders
	}
	sh.state = shardFailed
	s.remaining--
}

var errNoProviders = fmt.Errorf("%w: no providers", ErrNotFound)

// failures returns the index and error of every failed shard, in order.
func (s *sched) failures() (idx []int, errs []error) {
	for i := range s.shards {
		if s.shards[i].state == shardFailed {
			idx = append(idx, i)
			errs = append(errs, s.shards[i].err)
		}
	}
	return idx, errs
}

func (sh *shardSched) refusedBy(p int) bool {
	w := p / 64
	return w < len(sh.refused) && sh.refused[w]&(1<<(p%64)) != 0
}

func (sh *shardSched) refuse(p, nPeers int) {
	if sh.refused == nil {
		sh.refused = make([]uint64, (nPeers+63)/64)
	}
	sh.refused[p/64] |= 1 << (p % 64)
}

// deque is a double-ended queue of shard indexes.
type deque struct {
	q    []int
	head int
}

func (d *deque) len() int { return len(d.q) - d.head }

func (d *deque) at(k int) int { return d.q[d.head+k] }

func (d *deque) popFront() (int, bool) {
	if d.len() == 0 {
		return 0, false
	}
	i := d.q[d.head]
	d.head++
	return i, true
}

func (d *deque) pushFront(i int) {
	if d.head > 0 {
		d.head--
		d.q[d.head] = i
		return
	}
	// No room at the front: move the elements to the back half of a new
	// array, so a run of pushes costs amortised O(1).
	n := d.len()
	q := make([]int, n+1+n)
	copy(q[n+1:], d.q[d.head:])
	d.q, d.head = q, n
	d.q[d.head] = i
}

// remove deletes the k-th element; k is near the back in the common case.
func (d *deque) remove(k int) {
	k += d.head
	copy(d.q[k:], d.q[k+1:])
	d.q = d.q[:len(d.q)-1]
}

func (d *deque) drain() []int {
	out := d.q[d.head:]
	d.q, d.head = nil, 0
	return out
}

// errInternal is never expected; it marks a broken invariant of sched.
var errInternal = errors.New("exchange: internal error")
