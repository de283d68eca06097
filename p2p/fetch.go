package p2p

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Bounds of one FetchObjects call.
const (
	// fetchMaxPeers is how many peers one fetch asks at once; a dropped
	// peer is replaced by the next one given.
	fetchMaxPeers = 8
	// fetchWindow is how many objects may be asked of one peer and not yet
	// answered: WANT frames are written this far ahead of the answers.
	fetchWindow = 512
	// fetchWantBatch is how many CIDs one WANT frame carries (at most
	// maxWantPerFrame); the window is topped up a frame at a time.
	fetchWantBatch = 128
	// fetchStreamObjects is how many objects one stream asks for before it
	// is ended (DONE) and another opened: a responder serves at most
	// Config.SyncMaxObjects per session (10,000 by default) and cuts a
	// session after SyncTimeout.
	fetchStreamObjects = 4096
	// fetchMaxAttempts bounds the peers an object may be asked of before
	// it is given up.
	fetchMaxAttempts = 6
	// fetchBusyWait is how long a peer that keeps answering busy (its
	// sync sessions all taken) is tried again, after pauses growing to
	// fetchBusyMaxPause, before it is dropped from the fetch: a node
	// serving many syncs is busy for seconds, and may be the only holder.
	fetchBusyWait     = 30 * time.Second
	fetchBusyMaxPause = 2 * time.Second
	// maxFetchFailures bounds the CIDs a FetchError names; it counts the
	// rest.
	maxFetchFailures = 32
)

// FetchStats describe one FetchObjects call.
type FetchStats struct {
	Objects int   // objects received, verified and handed to fn
	Bytes   int64 // bytes of those objects
	Streams int   // streams opened
	Missing int   // MISSING answers (the object was then asked elsewhere)
	Peers   int   // peers that delivered at least one object
	Dropped int   // peers dropped from the fetch (failed, or sent bad bytes)
}

// FetchError lists the objects a FetchObjects call could not get from any
// peer. It wraps ErrNotFound.
type FetchError struct {
	CIDs  []cid.Cid // the first maxFetchFailures of them
	Count int       // all of them
	Peers []error   // why peers were dropped, if any were
}

func (e *FetchError) Error() string {
	s := fmt.Sprintf("p2p: %d objects not found on any peer, the first %s", e.Count, e.CIDs[0])
	if len(e.Peers) > 0 {
		s += fmt.Sprintf(" (%d peers dropped: %v)", len(e.Peers), errors.Join(e.Peers...))
	}
	return s
}

// Unwrap makes errors.Is match ErrNotFound.
func (e *FetchError) Unwrap() error { return ErrNotFound }

// FetchObjects gets the objects named by want from peers over the sync
// protocol, and calls fn with each, verified against its CID.
//
// It asks up to 8 peers at once, one stream each, writing WANT frames up
// to 512 objects ahead of the answers; every peer takes CIDs from want as
// it answers, so a fast peer takes more. An object a peer answers MISSING
// for, or that was in flight at a peer that failed, is asked of another
// (6 peers at most). A peer that sends bytes that do not hash to their
// CID is dropped from the fetch and penalised, and what it had in flight
// goes elsewhere; nothing it sent reaches fn. want is read as the fetch
// goes, so a caller can stream millions of CIDs; it must not yield a CID
// twice.
//
// fn is called concurrently, from up to GOMAXPROCS goroutines (at least
// 2), and owns data. An error from fn ends the fetch with that error.
// Memory is bounded by the objects in flight (8 × 512) plus a queue of
// verified objects waiting for fn, whatever the number of CIDs.
//
// FetchObjects returns nil once every object was handed to fn; a
// *FetchError (wrapping ErrNotFound) naming those no peer had; or why it
// stopped (fn's error, ctx's, ErrClosed).
func (n *Node) FetchObjects(ctx context.Context, want iter.Seq[cid.Cid], peers []peer.ID,
	fn func(c cid.Cid, data []byte) error) (FetchStats, error) {
	if fn == nil {
		return FetchStats{}, errors.New("p2p: fetch objects: fn is nil")
	}
	if err := n.enterStarted(); err != nil {
		return FetchStats{}, err
	}
	defer n.wg.Done()
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	f := &objectFetch{
		n:         n,
		fn:        fn,
		perStream: min(fetchStreamObjects, n.cfg.SyncMaxObjects),
		tried:     make(map[cid.Cid][]peer.ID),
		running:   make(map[peer.ID]bool),
		delivered: make(map[peer.ID]bool),
		changed:   make(chan struct{}),
	}
	seen := make(map[peer.ID]bool, len(peers))
	for _, p := range peers {
		if p != n.host.ID() && p != "" && !seen[p] {
			seen[p] = true
			f.queued = append(f.queued, p)
		}
	}
	f.livePeers = len(f.queued)
	return f.run(ctx, want)
}

// objectFetch is one call of FetchObjects.
type objectFetch struct {
	n         *Node
	fn        func(cid.Cid, []byte) error
	perStream int

	ctx    context.Context
	cancel context.CancelCauseFunc
	src    chan cid.Cid // CIDs from want, fed by one goroutine
	puts   chan fetched // verified objects waiting for fn

	mu        sync.Mutex
	srcDone   bool                  // guarded by mu: the feeder has sent every CID of want
	drained   bool                  // guarded by mu: src is closed and empty
	retry     []cid.Cid             // guarded by mu: to ask again, of a peer not in tried
	tried     map[cid.Cid][]peer.ID // guarded by mu: peers that failed each CID in flight
	inflight  int                   // guarded by mu: CIDs sent on src, not yet delivered or given up
	queued    []peer.ID             // guarded by mu: peers not started yet
	active    int                   // guarded by mu: workers running
	livePeers int                   // guarded by mu: queued + active
	running   map[peer.ID]bool      // guarded by mu: peers whose workers run
	delivered map[peer.ID]bool      // guarded by mu
	failed    []cid.Cid             // guarded by mu: given up (first maxFetchFailures)
	failedN   int                   // guarded by mu
	dropped   []error               // guarded by mu
	stats     FetchStats            // guarded by mu
	changed   chan struct{}         // guarded by mu: closed and replaced on every change

	workers sync.WaitGroup
}

type fetched struct {
	c    cid.Cid
	data []byte
}

// errFetchOver cancels a fetch's context once it is over.
var errFetchOver = errors.New("p2p: fetch over")

func (f *objectFetch) run(parent context.Context, want iter.Seq[cid.Cid]) (FetchStats, error) {
	f.ctx, f.cancel = context.WithCancelCause(parent)
	defer f.cancel(errFetchOver)
	f.src = make(chan cid.Cid, fetchWindow)
	nput := max(2, runtime.GOMAXPROCS(0))
	f.puts = make(chan fetched, 2*nput)

	var feeder, putters sync.WaitGroup
	// The feeder counts a CID in flight before it sends it, and marks the
	// source done after its last send, so that no worker can see the
	// fetch finished while a CID it took from src is not counted yet.
	feeder.Go(func() {
		defer close(f.src)
		defer func() {
			f.mu.Lock()
			f.srcDone = true
			f.changedLocked()
			f.mu.Unlock()
		}()
		for c := range want {
			f.mu.Lock()
			f.inflight++
			f.mu.Unlock()
			select {
			case f.src <- c:
			case <-f.ctx.Done():
				f.mu.Lock()
				f.inflight--
				f.mu.Unlock()
				return
			}
		}
	})
	var fnErr error
	var fnOnce sync.Once
	for range nput {
		putters.Go(func() {
			for o := range f.puts {
				if f.ctx.Err() != nil && context.Cause(f.ctx) != errFetchOver {
					continue // drain: the fetch failed
				}
				if err := f.fn(o.c, o.data); err != nil {
					fnOnce.Do(func() { fnErr = err })
					f.cancel(err)
				}
			}
		})
	}

	f.mu.Lock()
	f.startWorkersLocked()
	f.mu.Unlock()
	stranded := false
	for {
		f.mu.Lock()
		finished := f.finishedLocked()
		stranded = !finished && f.livePeers == 0
		ch := f.changed
		f.mu.Unlock()
		if finished || stranded || f.ctx.Err() != nil {
			break
		}
		select {
		case <-ch:
		case <-f.ctx.Done():
		}
	}
	if stranded {
		// Nobody is left to ask: give up what is left, reading want to
		// its end to count it (the feeder goes on until then).
		for c := range f.src {
			f.mu.Lock()
			f.giveUpLocked(c)
			f.mu.Unlock()
		}
		f.mu.Lock()
		for _, c := range f.retry {
			f.giveUpLocked(c)
		}
		f.retry = nil
		f.mu.Unlock()
	}
	cause := context.Cause(f.ctx)
	f.cancel(errFetchOver)
	f.workers.Wait()
	close(f.puts)
	putters.Wait()
	feeder.Wait()

	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Peers = len(f.delivered)
	switch {
	case fnErr != nil:
		return f.stats, fnErr
	case cause != nil:
		return f.stats, ctxErr(parent)
	case f.failedN > 0:
		return f.stats, &FetchError{CIDs: f.failed, Count: f.failedN, Peers: f.dropped}
	}
	return f.stats, nil
}

// finishedLocked reports whether every CID of want was delivered or given
// up.
func (f *objectFetch) finishedLocked() bool { return f.srcDone && f.inflight == 0 }

// changedLocked wakes whoever waits for a change of the fetch's state.
func (f *objectFetch) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// startWorkersLocked starts queued peers while fewer than fetchMaxPeers
// run.
func (f *objectFetch) startWorkersLocked() {
	for f.active < fetchMaxPeers && len(f.queued) > 0 {
		p := f.queued[0]
		f.queued = f.queued[1:]
		f.active++
		f.running[p] = true
		f.workers.Go(func() { f.worker(p) })
	}
}

// canRetryLocked reports whether c may be asked of another peer: one that
// runs or waits its turn and has not failed it, within fetchMaxAttempts.
func (f *objectFetch) canRetryLocked(c cid.Cid, running []peer.ID) bool {
	tried := f.tried[c]
	if len(tried) >= fetchMaxAttempts {
		return false
	}
	for _, ps := range [][]peer.ID{running, f.queued} {
		for _, p := range ps {
			if !slices.Contains(tried, p) {
				return true
			}
		}
	}
	return false
}

// running lists the peers whose workers run. f.mu is held.
func (f *objectFetch) runningLocked() []peer.ID {
	out := make([]peer.ID, 0, len(f.running))
	for p := range f.running {
		out = append(out, p)
	}
	return out
}

// failedAtLocked records that p did not deliver c, and asks another peer
// for it or gives it up.
func (f *objectFetch) failedAtLocked(c cid.Cid, p peer.ID, running []peer.ID) {
	f.tried[c] = append(f.tried[c], p)
	if f.canRetryLocked(c, running) {
		f.retry = append(f.retry, c)
		f.changedLocked()
		return
	}
	f.giveUpLocked(c)
}

// giveUpLocked ends the fetch of c, which no peer delivered.
func (f *objectFetch) giveUpLocked(c cid.Cid) {
	delete(f.tried, c)
	f.inflight--
	f.failedN++
	if len(f.failed) < maxFetchFailures {
		f.failed = append(f.failed, c)
	}
	if f.finishedLocked() {
		f.changedLocked()
	}
}

// take returns up to max CIDs for p to ask for: first those other peers
// failed, then new ones from want.
func (f *objectFetch) take(p peer.ID, max int) []cid.Cid {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cid.Cid
	for i := 0; i < len(f.retry) && len(out) < max; {
		c := f.retry[i]
		if slices.Contains(f.tried[c], p) {
			i++
			continue
		}
		out = append(out, c)
		f.retry[i] = f.retry[len(f.retry)-1]
		f.retry = f.retry[:len(f.retry)-1]
	}
	for len(out) < max && !f.drained {
		select {
		case c, ok := <-f.src:
			if !ok {
				f.drained = true
				return out
			}
			out = append(out, c)
		default:
			return out
		}
	}
	return out
}

// waitWork waits until there may be work for p. It returns false when p
// should stop: the fetch is over, or the only work left is for peers
// still waiting their turn.
func (f *objectFetch) waitWork(p peer.ID) bool {
	f.mu.Lock()
	if f.finishedLocked() || f.ctx.Err() != nil {
		f.mu.Unlock()
		return false
	}
	if f.drained && len(f.retry) > 0 && len(f.queued) > 0 {
		// What is left p has failed: make room for a peer that has not.
		f.mu.Unlock()
		return false
	}
	changed := f.changed
	var src chan cid.Cid
	if !f.drained {
		src = f.src
	}
	f.mu.Unlock()
	select {
	case <-changed:
	case <-f.ctx.Done():
		return false
	case c, ok := <-src:
		f.mu.Lock()
		if ok {
			f.retry = append(f.retry, c)
		} else {
			f.drained = true
		}
		f.changedLocked()
		f.mu.Unlock()
	}
	return true
}

// worker fetches from p until the fetch is over or p fails.
func (f *objectFetch) worker(p peer.ID) {
	err := f.serve(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.running, p)
	f.active--
	f.livePeers--
	if err != nil && f.ctx.Err() == nil {
		f.stats.Dropped++
		if len(f.dropped) < maxFetchFailures {
			f.dropped = append(f.dropped, fmt.Errorf("peer %s: %w", p, err))
		}
		f.n.log.Debug("peer dropped from fetch", slog.String("with", p.String()), slog.Any("err", err))
	}
	f.startWorkersLocked()
	// What only p could still have been asked for is given up.
	running := f.runningLocked()
	retry := f.retry
	f.retry = nil
	for _, c := range retry {
		if f.canRetryLocked(c, running) {
			f.retry = append(f.retry, c)
		} else {
			f.giveUpLocked(c)
		}
	}
	f.changedLocked()
}

// serve runs sessions with p while there is work for it.
func (f *objectFetch) serve(p peer.ID) error {
	var busy int
	var busySince time.Time
	for {
		batch := f.take(p, fetchWantBatch)
		if len(batch) == 0 {
			if !f.waitWork(p) {
				return nil
			}
			continue
		}
		err := f.session(p, batch)
		switch {
		case err == nil:
			busy = 0
		case errors.Is(err, ErrBusy) && (busy == 0 || time.Since(busySince) < fetchBusyWait):
			if busy == 0 {
				busySince = time.Now()
			}
			busy++
			select {
			case <-time.After(min(time.Duration(busy*busy)*100*time.Millisecond, fetchBusyMaxPause)):
			case <-f.ctx.Done():
				return nil
			}
		default:
			return err
		}
	}
}

// session asks p for batch, then for more as answers arrive, on one
// stream, up to perStream objects. A writer goroutine keeps WANT frames
// ahead of the answers while this one reads them, so neither side's
// writes wait on the other's (a responder answers a WANT before it reads
// the next). On failure the objects not answered go to other peers; when
// p was busy, to any peer, p included: it did not fail them.
func (f *objectFetch) session(p peer.ID, batch []cid.Cid) (err error) {
	q := &wantQueue{pending: batch, wake: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	defer func() {
		if err == nil || len(q.pending) == 0 {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if errors.Is(err, ErrBusy) {
			f.retry = append(f.retry, q.pending...)
			f.changedLocked()
			return
		}
		running := f.runningLocked()
		for _, c := range q.pending {
			f.failedAtLocked(c, p, running)
		}
	}()
	timeout := f.n.cfg.RequestTimeout
	octx, cancel := context.WithTimeout(f.ctx, timeout)
	s, err := f.n.host.NewStream(octx, p, SyncProtocol)
	cancel()
	if err != nil {
		return openStreamError(err)
	}
	f.mu.Lock()
	f.stats.Streams++
	f.mu.Unlock()
	sctx, scancel := context.WithCancel(f.ctx)
	stop := context.AfterFunc(sctx, func() { s.Reset() })
	w := newWire(s, f.n.cfg.MaxObjectSize)
	var writer sync.WaitGroup
	var werr error
	writer.Go(func() { werr = f.writeWants(sctx, p, s, w, q) })
	defer func() {
		if err != nil {
			scancel() // resets the stream, which ends the writer
		}
		writer.Wait()
		if err == nil && werr != nil {
			err = werr
		}
		if stop() && err == nil && endSession(w, s, timeout) == nil {
			s.Close()
		} else {
			s.Reset()
		}
		scancel()
	}()
	for {
		c, ok := q.next(sctx)
		if !ok {
			return ctxErr(sctx) // nil once the writer is done and every answer read
		}
		_ = s.SetReadDeadline(time.Now().Add(timeout))
		data, err := readObject(w, c)
		if errors.Is(err, ErrNotFound) {
			q.answered()
			f.mu.Lock()
			f.stats.Missing++
			f.failedAtLocked(c, p, f.runningLocked())
			f.mu.Unlock()
			continue
		}
		if err != nil {
			return err
		}
		if !hashMatches(c, data) {
			f.n.penalise(p)
			return fmt.Errorf("object %s: %w", c, ErrHashMismatch)
		}
		q.answered()
		if err := f.deliver(p, c, data); err != nil {
			return err
		}
	}
}

// writeWants writes the first WANT of q, then more as answers make room,
// until perStream objects were asked or there is nothing more to ask. It
// resets the stream when a write fails, so the reader does not wait for
// answers to WANTs never sent.
func (f *objectFetch) writeWants(ctx context.Context, p peer.ID, s network.Stream, w *wire, q *wantQueue) (err error) {
	defer q.close()
	defer func() {
		if err != nil {
			s.Reset()
		}
	}()
	q.mu.Lock()
	first := slices.Clone(q.pending)
	q.mu.Unlock()
	if err := w.send(frameWant, encodeWant(first)); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	asked := len(first)
	for asked < f.perStream {
		q.mu.Lock()
		inFlight := len(q.pending)
		q.mu.Unlock()
		var more []cid.Cid
		if fetchWindow-inFlight >= fetchWantBatch {
			more = f.take(p, min(fetchWantBatch, f.perStream-asked))
		}
		if len(more) == 0 {
			if inFlight == 0 {
				return nil // nothing in flight, nothing to ask
			}
			f.mu.Lock()
			changed := f.changed
			f.mu.Unlock()
			select {
			case <-q.room:
			case <-changed:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		q.push(more)
		asked += len(more)
		if err := w.send(frameWant, encodeWant(more)); err != nil {
			return err
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
	return nil
}

// wantQueue holds the CIDs asked on one stream and not yet answered, in
// the order asked: the writer pushes, the reader pops.
type wantQueue struct {
	mu      sync.Mutex
	pending []cid.Cid // guarded by mu
	closed  bool      // guarded by mu: the writer will push no more
	wake    chan struct{}
	room    chan struct{}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (q *wantQueue) push(cs []cid.Cid) {
	q.mu.Lock()
	q.pending = append(q.pending, cs...)
	q.mu.Unlock()
	signal(q.wake)
}

func (q *wantQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	signal(q.wake)
}

// next returns the CID whose answer comes next, waiting for the writer to
// ask one; false once the writer is done and everything was answered, or
// ctx is done.
func (q *wantQueue) next(ctx context.Context) (cid.Cid, bool) {
	for {
		q.mu.Lock()
		if len(q.pending) > 0 {
			c := q.pending[0]
			q.mu.Unlock()
			return c, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return cid.Undef, false
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return cid.Undef, false
		}
	}
}

// answered pops the CID next returned.
func (q *wantQueue) answered() {
	q.mu.Lock()
	q.pending = q.pending[1:]
	q.mu.Unlock()
	signal(q.room)
}

// endSession ends a fetch stream as the protocol asks: DONE, answered by
// DONE.
func endSession(w *wire, s network.Stream, timeout time.Duration) error {
	if err := w.send(frameDone, nil); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	_ = s.SetReadDeadline(time.Now().Add(timeout))
	typ, _, err := w.recv()
	if err == nil && typ != frameDone {
		err = fmt.Errorf("%w: frame type %d instead of done", ErrProtocol, typ)
	}
	return err
}

// deliver hands a verified object to fn's goroutines, waiting for room.
func (f *objectFetch) deliver(p peer.ID, c cid.Cid, data []byte) error {
	select {
	case f.puts <- fetched{c, data}:
	case <-f.ctx.Done():
		return context.Cause(f.ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tried, c)
	f.inflight--
	f.delivered[p] = true
	f.stats.Objects++
	f.stats.Bytes += int64(len(data))
	if f.finishedLocked() {
		f.changedLocked()
	}
	return nil
}
