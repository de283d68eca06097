package p2p

import (
	"context"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// syncState is what the sync sessions of a node share.
type syncState struct {
	mu sync.Mutex
	// cursors says where the next session over a set with a peer goes on,
	// after one that stopped at its bound: the key below which the set
	// has been reconciled with that peer in this pass, and how wide a
	// window of the key space the next session takes.
	cursors map[syncReq]cursor // guarded by mu
	// fetching holds the objects a session is asking a peer for, so that
	// concurrent sessions do not fetch the same object twice.
	fetching map[cid.Cid]struct{} // guarded by mu
	// outbound and inbound are the sessions running with each peer over
	// each set, as initiator and as responder; a channel is closed when
	// its session ends. One session at a time per peer and set: two would
	// move the same objects both ways at once.
	outbound map[syncReq]chan struct{} // guarded by mu
	inbound  map[syncReq]chan struct{} // guarded by mu
}

// beginOutbound registers a session with req.peer as initiator. If one
// runs with that peer over that set, either way, it waits for it to end
// when wait is set, and otherwise returns ok false.
func (s *syncState) beginOutbound(ctx context.Context, req syncReq, wait bool) (end func(), ok bool, err error) {
	for {
		s.mu.Lock()
		busy := s.outbound[req]
		if busy == nil {
			busy = s.inbound[req]
		}
		if busy == nil {
			if s.outbound == nil {
				s.outbound = make(map[syncReq]chan struct{})
			}
			ch := make(chan struct{})
			s.outbound[req] = ch
			s.mu.Unlock()
			return func() { s.end(s.outbound, req, ch) }, true, nil
		}
		s.mu.Unlock()
		if !wait {
			return nil, false, nil
		}
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// beginInbound registers a session served to req.peer. It refuses a second
// one with the same peer over the same set, and one that crosses this
// node's own session with the peer when this node's ID is the lower (the
// peer, whose ID is the higher, serves it and refuses the other).
func (s *syncState) beginInbound(req syncReq, self peer.ID) (end func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.inbound[req]; ok {
		return nil, false
	}
	if _, ok := s.outbound[req]; ok && self < req.peer {
		return nil, false
	}
	if s.inbound == nil {
		s.inbound = make(map[syncReq]chan struct{})
	}
	ch := make(chan struct{})
	s.inbound[req] = ch
	return func() { s.end(s.inbound, req, ch) }, true
}

// waitInbound waits until no session served to req.peer over req.set
// runs, and at least d.
func (s *syncState) waitInbound(ctx context.Context, req syncReq, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	ch := s.inbound[req]
	s.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *syncState) end(m map[syncReq]chan struct{}, req syncReq, ch chan struct{}) {
	s.mu.Lock()
	if m[req] == ch {
		delete(m, req)
	}
	s.mu.Unlock()
	close(ch)
}

// maxCursors bounds the cursors kept; past it a session starts from the
// beginning of the key space, which costs rounds, not objects.
const maxCursors = 4096

// cursor is where a pass over a set with a peer is.
type cursor struct {
	at    bound  // the next session starts here
	width uint64 // how much key space it takes (in units of 2^-64 of it); 0: the rest
}

// cursor returns where the next session of req starts.
func (s *syncState) cursor(req syncReq) bound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[req].at
}

// window returns the keys the next session of req reconciles: from its
// cursor to end. A session that has to stop at its bound of objects has
// learned how much key space a bound's worth of objects takes; the next
// one takes that much, rather than asking its peer for the IDs of the
// rest of the set.
func (s *syncState) window(req syncReq) (from, end bound) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cursors[req]
	if c.width == 0 {
		return c.at, infBound
	}
	start := prefix64(c.at)
	if start+c.width < start {
		return c.at, infBound // past the end of the key space
	}
	return c.at, bound64(start + c.width)
}

// advance records how the session of req that reconciled [from, end)
// ended: stopped with its cursor at to, having learned learned objects of
// at most quota up to reached; or through the key space (not stopped),
// which ends the pass.
func (s *syncState) advance(req syncReq, from, end, to, reached bound, stopped bool, learned, quota int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !stopped {
		delete(s.cursors, req)
		return
	}
	c := s.cursors[req]
	switch {
	case cmpBound(reached, end) < 0:
		// Stopped inside the window: a bound's worth of objects.
		c.width = max(prefix64(reached)-prefix64(from), 1)
	case c.width != 0:
		// Went through the window with room left: a wider one, aimed at
		// nine tenths of the bound (at most four times as wide), so that
		// the next session takes about a bound's worth and few stop short
		// of their window.
		grow := 4.0
		if learned > 0 {
			grow = min(max(0.9*float64(quota)/float64(learned), 1), 4)
		}
		if w := float64(c.width) * grow; w >= math.MaxUint64 {
			c.width = 0 // the rest of the key space
		} else {
			c.width = uint64(w)
		}
	}
	c.at = to
	if s.cursors == nil {
		s.cursors = make(map[syncReq]cursor)
	}
	if _, ok := s.cursors[req]; !ok && len(s.cursors) >= maxCursors {
		for k := range s.cursors {
			delete(s.cursors, k)
			break
		}
	}
	s.cursors[req] = c
}

// prefix64 is the position of b in the key space in units of 2^-64 of it:
// the first eight bytes of its key (+inf: the last unit).
func prefix64(b bound) uint64 {
	if b.inf {
		return math.MaxUint64
	}
	return binary.BigEndian.Uint64(b.k[:8])
}

// bound64 is the bound at position p.
func bound64(p uint64) bound {
	b := bound{n: 8}
	binary.BigEndian.PutUint64(b.k[:], p)
	return b
}

// claim marks c as being fetched; false if another session fetches it.
func (s *syncState) claim(c cid.Cid) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.fetching[c]; ok {
		return false
	}
	if s.fetching == nil {
		s.fetching = make(map[cid.Cid]struct{})
	}
	s.fetching[c] = struct{}{}
	return true
}

func (s *syncState) unclaim(c cid.Cid) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.fetching, c)
}
