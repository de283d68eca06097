package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// SyncProtocol is the stream protocol of set reconciliation and of
// fetching objects by CID. doc.go documents its wire format.
const SyncProtocol protocol.ID = "/openledger/sync/1.0.0"

const (
	syncWorkers     = 4                      // background sync sessions at once
	syncQueueSize   = 256                    // queued background syncs; more are dropped
	maxInboundSyncs = 16                     // sync sessions served at once
	syncFanout      = 2                      // random topic peers per set per SyncInterval
	syncParallel    = 4                      // peers Sync reconciles with at once
	busyPause       = 100 * time.Millisecond // before a session refused as busy is tried again
	// maxRounds bounds the reconciliation round trips of a session. Each
	// round divides differing ranges by splitFanout, and frames are
	// bounded by rangeBudget, so honest sessions of a million objects
	// need a handful.
	maxRounds = 64
)

// SyncStats describes reconciliations, summed over peers.
type SyncStats struct {
	Peers      int // peers reconciled with
	Failed     int // peers whose session failed
	Rounds     int // reconciliation rounds
	RoundTrips int // all request/response round trips: Rounds (but those ahead), fetches, final handshake
	// RoundsAhead counts the rounds whose RANGES frame went out behind
	// the WANT frames of the round before, its answer read among theirs:
	// the peer worked it out while this node admitted objects.
	RoundsAhead   int
	BytesSent     int64 // bytes written to sync streams
	BytesReceived int64 // bytes read from sync streams
	Fetched       int   // objects received, checked and stored (and deferred ones they unblocked)
	Pushed        int   // objects sent to peers that lacked them
	Rejected      int   // objects received that Check rejected (senders penalised)
	Deferred      int   // objects received that Check could not judge yet, kept for later in the DeferredStore
	// Waited counts the objects received that Check could not judge yet
	// and that the session held in memory while it fetched what they
	// wait for (those still waiting at its end count in Deferred too).
	Waited int
	// Incomplete counts the sessions that stopped at their bound
	// (Config.SyncMaxObjects, or the round limit): the next session with
	// that peer goes on from where it stopped.
	Incomplete int
}

func (s *SyncStats) add(o SyncStats) {
	s.Peers += o.Peers
	s.Failed += o.Failed
	s.Rounds += o.Rounds
	s.RoundTrips += o.RoundTrips
	s.RoundsAhead += o.RoundsAhead
	s.BytesSent += o.BytesSent
	s.BytesReceived += o.BytesReceived
	s.Fetched += o.Fetched
	s.Pushed += o.Pushed
	s.Rejected += o.Rejected
	s.Deferred += o.Deferred
	s.Waited += o.Waited
	s.Incomplete += o.Incomplete
}

type syncReq struct {
	set  cid.Cid
	peer peer.ID
}

// scheduleSync queues a background reconciliation of set with p, unless
// one is queued already; when the queue is full it is dropped (the
// periodic sync covers it).
func (n *Node) scheduleSync(set cid.Cid, p peer.ID) {
	if !set.Defined() {
		return // the announcements are gossiped only
	}
	req := syncReq{set, p}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.pending[req]; ok || n.closed {
		return
	}
	select {
	case n.syncQ <- req:
		n.pending[req] = struct{}{}
	default:
		n.log.Debug("sync queue full", slog.String("peer", p.String()))
	}
}

// syncNews spreads objects a session brought: the other peers of the
// topic are reconciled with too, since sync does not re-gossip.
func (n *Node) syncNews(set cid.Cid, except peer.ID) {
	for _, p := range n.topicPeers(set) {
		if p != except {
			n.scheduleSync(set, p)
		}
	}
}

func (n *Node) syncWorker() {
	for {
		select {
		case <-n.ctx.Done():
			return
		case req := <-n.syncQ:
			n.mu.Lock()
			delete(n.pending, req)
			_, joined := n.topics[req.set]
			n.mu.Unlock()
			if !joined {
				continue
			}
			st, err := n.syncPeer(n.ctx, req.set, req.peer, true)
			log := n.log.With(slog.String("set", TopicName(req.set)), slog.String("with", req.peer.String()))
			if errors.Is(err, ErrBusy) {
				// The peer runs a session with us over the set, or too
				// many: try again once it is over.
				log.Debug("sync: peer busy", slog.Any("err", err))
				if n.syncs.waitInbound(n.ctx, req, busyPause) == nil {
					n.scheduleSync(req.set, req.peer)
				}
				continue
			}
			if err != nil {
				log.Debug("sync failed", slog.Any("err", err))
				continue
			}
			log.Debug("synced", slog.Int("rounds", st.Rounds), slog.Int("fetched", st.Fetched),
				slog.Int("pushed", st.Pushed), slog.Int("deferred", st.Deferred), slog.Bool("incomplete", st.Incomplete > 0),
				slog.Int64("sent", st.BytesSent), slog.Int64("received", st.BytesReceived))
			if st.Incomplete > 0 {
				n.scheduleSync(req.set, req.peer) // go on from where it stopped
			}
		}
	}
}

// syncLoop reconciles every joined set with a few random topic peers every
// SyncInterval (±10%).
func (n *Node) syncLoop() {
	t := time.NewTimer(jitter(n.cfg.SyncInterval))
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		n.mu.Lock()
		sets := make([]cid.Cid, 0, len(n.topics))
		for set := range n.topics {
			sets = append(sets, set)
		}
		n.mu.Unlock()
		for _, set := range sets {
			peers := n.topicPeers(set)
			rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
			for _, p := range peers[:min(syncFanout, len(peers))] {
				n.scheduleSync(set, p)
			}
		}
		t.Reset(jitter(n.cfg.SyncInterval))
	}
}

func jitter(d time.Duration) time.Duration {
	return d - d/10 + rand.N(d/5+1)
}

// TopicPeers returns the peers seen on the Datanet's topic (cid.Undef:
// the announcements): those Sync reconciles with.
func (n *Node) TopicPeers(datanet cid.Cid) []peer.ID { return n.topicPeers(datanet) }

// Sync reconciles the Datanet's set (cid.Undef: the announcements) with
// every peer of its topic now, so that both sides end with the union: with
// each peer, session after session until one has gone through the whole
// set. It fails only when no peer could be reconciled with; stats count
// the failures.
func (n *Node) Sync(ctx context.Context, datanet cid.Cid) (SyncStats, error) {
	if err := n.enterStarted(); err != nil {
		return SyncStats{}, err
	}
	defer n.wg.Done()
	if !datanet.Defined() {
		return SyncStats{}, ErrAnnouncementsNotSynced
	}
	if n.topic(datanet) == nil {
		return SyncStats{}, fmt.Errorf("p2p: sync %s: %w", TopicName(datanet), ErrNotJoined)
	}
	peers := n.topicPeers(datanet)
	if len(peers) == 0 {
		return SyncStats{}, fmt.Errorf("p2p: sync %s: %w", TopicName(datanet), ErrNoPeers)
	}
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		total SyncStats
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, syncParallel)
	)
	for _, p := range peers {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			st, err := n.syncWith(ctx, datanet, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				st.Failed++
				errs = append(errs, fmt.Errorf("with %s: %w", p, err))
			} else {
				st.Peers++
			}
			total.add(st)
		})
	}
	wg.Wait()
	if err := ctxErr(ctx); err != nil {
		return total, err
	}
	if total.Peers == 0 {
		return total, fmt.Errorf("p2p: sync %s: %w", TopicName(datanet), errors.Join(errs...))
	}
	return total, nil
}

// syncWith runs sessions with p over set until they have gone through the
// whole key space (a pass that a session stopped midway began goes round
// once more from the start), or one stops at its bound without having
// moved an object or its cursor.
func (n *Node) syncWith(ctx context.Context, set cid.Cid, p peer.ID) (SyncStats, error) {
	var total SyncStats
	whole := cmpBound(n.syncs.cursor(syncReq{set, p}), bound{}) == 0
	for busy := 0; ; {
		before := n.syncs.cursor(syncReq{set, p})
		st, err := n.syncPeer(ctx, set, p, true)
		total.add(st)
		if errors.Is(err, ErrBusy) && busy < 3 {
			// The peer serves us no second session over the set, nor one
			// that crosses its own with us: wait for that one to end.
			busy++
			if err := n.syncs.waitInbound(ctx, syncReq{set, p}, time.Duration(busy)*busyPause); err != nil {
				return total, err
			}
			continue
		}
		if err != nil {
			return total, err
		}
		if st.Incomplete == 0 {
			if whole {
				return total, nil
			}
			whole = true // from the start once more
			continue
		}
		moved := st.Fetched+st.Pushed+st.Deferred > 0 || cmpBound(n.syncs.cursor(syncReq{set, p}), before) != 0
		if !moved {
			return total, nil
		}
	}
}

// syncPeer runs one session with p as the initiator over set: it learns
// both differences, fetches what it lacks (and what that turns out to
// depend on) and pushes what p lacks, in key order from where the last
// session with p stopped, and at most Config.SyncMaxObjects each way. A
// session that stops at that bound counts in st.Incomplete; the next one
// goes on from there. One session runs at a time with a peer over a set,
// either way: if one runs, syncPeer waits for it to end when wait is set,
// and otherwise does nothing (that session reconciles both ways).
func (n *Node) syncPeer(ctx context.Context, set cid.Cid, p peer.ID, wait bool) (st SyncStats, err error) {
	req := syncReq{set, p}
	release, ok, err := n.syncs.beginOutbound(ctx, req, wait)
	if err != nil || !ok {
		return st, err
	}
	defer release()
	n.stats.syncSessions.Add(1)
	ctx, cancel := context.WithTimeout(ctx, n.cfg.SyncTimeout)
	defer cancel()
	v, err := n.viewOf(ctx, set)
	if err != nil {
		return st, fmt.Errorf("list objects: %w", err)
	}
	from, end := n.syncs.window(req)
	s, err := n.host.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return st, cerr
		}
		return st, openStreamError(err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl) // best effort: the AfterFunc bounds it anyway
	}
	w := newWire(s, n.cfg.MaxObjectSize)
	a := n.newAdmitter(set, p, true)
	defer a.release()
	defer func() {
		st.BytesSent, st.BytesReceived = w.out, w.in
		st.Fetched, st.Rejected, st.Deferred, st.Waited = a.stored, a.rejected, a.deferred, a.heldWaiting
		n.stats.syncRoundsAhead.Add(uint64(st.RoundsAhead))
		n.countBytes(w)
		if err != nil {
			s.Reset()
			if cerr := ctxErr(ctx); cerr != nil {
				err = cerr
			}
			return
		}
		s.Close()
	}()

	// Reconcile, fetching and pushing what each round teaches.
	rec := newReconciler(v, true)
	rec.end = end
	rec.maxNeed, rec.maxHave = n.cfg.SyncMaxObjects, min(n.cfg.SyncMaxObjects, maxPush)
	if n.cfg.noPush {
		rec.maxHave = 0
	}
	rec.held = func(c cid.Cid) (bool, error) { return a.held(ctx, c) }
	open, err := rec.initial(from)
	if err != nil {
		return st, fmt.Errorf("list objects: %w", err)
	}
	if err := w.send(frameReconcile, encodeReconcile(set, open)); err != nil {
		return st, err
	}
	f := &fetcher{a: a, w: w, max: n.cfg.SyncMaxObjects, checked: true}
	for {
		if err := w.flush(); err != nil {
			return st, err
		}
		body, ahead := f.answer, f.answer != nil
		f.answer = nil
		if ahead {
			st.RoundsAhead++
		} else {
			typ, b, err := w.recv()
			if err != nil {
				return st, err
			}
			st.RoundTrips++
			if body, err = rangesAnswer(typ, b); err != nil {
				return st, err
			}
		}
		st.Rounds++
		in, err := decodeRanges(body)
		if err != nil {
			return st, err
		}
		out, err := rec.process(in)
		if err != nil {
			return st, fmt.Errorf("reconcile: %w", err)
		}
		have, need, held := rec.take()
		if err := a.recheckHeld(ctx, held); err != nil {
			return st, err
		}
		// The next RANGES frame goes out behind the first WANT frames of
		// this round, so that the peer works out its answer while this
		// node admits what it fetches, instead of after; the answer waits
		// in f.answer. If this round's fetch then stops the session (a
		// cut), the answer is dropped: stopAt ends at the first range of
		// out still open all the same.
		if len(out) > 0 && !rec.stopped && st.Rounds < maxRounds {
			f.ranges = appendRanges(nil, out)
		}
		cut, err := f.fetch(ctx, need)
		st.RoundTrips += f.takeRoundTrips()
		if err != nil {
			return st, err
		}
		if cut.Defined() {
			// Out of objects to ask for: go on from the first not asked.
			rec.stopAt(out, bound{n: keySize, k: keyOf(cut)})
		}
		pushed, err := n.push(ctx, w, have)
		st.Pushed += pushed
		if err != nil {
			return st, err
		}
		if len(out) == 0 {
			rec.done()
		}
		if rec.stopped || len(out) == 0 {
			break
		}
		if st.Rounds >= maxRounds {
			// Use what was learned; the next session goes on from there.
			n.log.Debug("sync round limit", slog.String("with", p.String()))
			rec.stopAt(out, infBound)
			break
		}
		// Not stopped, out not empty, under the round limit: out went
		// during the fetch (f.ranges), and its answer waits in f.answer.
	}
	if err := f.drain(ctx); err != nil {
		return st, err
	}
	st.RoundTrips += f.takeRoundTrips()
	if err := a.finish(ctx); err != nil {
		return st, err
	}
	n.stats.objectsFetched.Add(uint64(a.stored))
	n.stats.objectsServed.Add(uint64(st.Pushed))
	if a.stored > 0 {
		n.syncNews(set, p)
	}

	// Done: wait until the peer has taken in the pushed objects.
	if err := w.send(frameDone, nil); err != nil {
		return st, err
	}
	if err := w.flush(); err != nil {
		return st, err
	}
	st.RoundTrips++
	typ, body, err := w.recv()
	switch {
	case err != nil:
		return st, err
	case typ == frameError:
		return st, decodeError(body)
	case typ != frameDone:
		return st, fmt.Errorf("%w: frame type %d instead of done", ErrProtocol, typ)
	}
	if rec.stopped {
		st.Incomplete++
	}
	n.syncs.advance(req, from, end, rec.cursor, rec.reached, rec.stopped, rec.learnedNeed, rec.maxNeed)
	n.log.Debug("sync session", slog.String("set", TopicName(set)), slog.String("with", p.String()),
		slog.String("from", from.String()), slog.String("end", end.String()),
		slog.Bool("stopped", rec.stopped), slog.String("to", rec.cursor.String()),
		slog.Int("need", rec.learnedNeed), slog.Int("have", rec.learnedHave), slog.Int("held", a.heldSeen),
		slog.Int("fetched", a.stored), slog.Int("waited", a.heldWaiting), slog.Int("deferred", a.deferred))
	return st, nil
}

// maxPush bounds the objects an initiator pushes to its peer in one
// session. Pushing spreads news that gossip missed; a peer that lacks more
// (a late joiner, the other half of a partition) fetches the rest itself
// when it initiates (on joining, when this node appears on its topic,
// every SyncInterval): it then fetches each object once, whichever peers
// hold it, where every one of them pushing the same objects to it at once
// would move them as many times. It is small, too, because a responder
// takes no more pushed objects a session than its SyncMaxObjects, which
// the pusher does not know: the rest would be sent for nothing.
const maxPush = 256

// push sends p the objects it lacks, as OBJECT frames.
func (n *Node) push(ctx context.Context, w *wire, have []cid.Cid) (int, error) {
	pushed := 0
	for _, c := range have {
		data, err := n.objs.Get(ctx, c)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return pushed, cerr
			}
			n.log.Debug("push: get object", slog.String("cid", c.String()), slog.Any("err", err))
			continue
		}
		if len(data) > n.cfg.MaxObjectSize {
			continue
		}
		if err := w.send(frameObject, encodeObject(c, data)); err != nil {
			return pushed, err
		}
		pushed++
	}
	return pushed, nil
}

// fetcher asks the peer of a session for objects, WANT frames pipelined
// ahead of the answers, dependencies first, and hands what arrives to the
// admitter.
type fetcher struct {
	a          *admitter
	w          *wire
	max        int          // objects the session may ask for
	wanted     int          // objects asked for
	received   int          // objects the peer sent
	inFlight   [][]wantItem // WANT frames sent and not yet answered, oldest first; nil: the RANGES frame sent among them (ranges)
	roundTrips int
	// checked says the need lists given to fetch were found not held
	// just before (the reconciler asked held), so they are not checked
	// again.
	checked bool
	// cut is the first object of a need list the peer answered MISSING
	// after it had sent others: it serves fewer objects a session than
	// this node asks for (Config.SyncMaxObjects differs), so the session
	// goes on from there next time.
	cut cid.Cid
	// queued are the groups of objects read and being verified, not
	// admitted yet, oldest first: one is verified while the one before
	// it is admitted.
	queued []*verifying
	// ranges is the session's next RANGES frame, to send behind the
	// first WANT frames of the fetch (or at once if it wants nothing);
	// answer is the peer's answer to it, read in its turn among the
	// answers to the WANT frames.
	ranges, answer []byte
}

type wantItem struct {
	c   cid.Cid
	dep bool // asked for as a dependency, not from a need list
}

// wantFrames is how many WANT frames are in flight.
func (f *fetcher) wantFrames() int {
	n := 0
	for _, b := range f.inFlight {
		if b != nil {
			n++
		}
	}
	return n
}

// rangesAnswer returns the body of the initiator's answer frame of type
// typ, which must be a RANGES frame.
func rangesAnswer(typ byte, body []byte) ([]byte, error) {
	switch typ {
	case frameRanges:
		return body, nil
	case frameError:
		return nil, decodeError(body)
	}
	return nil, fmt.Errorf("%w: frame type %d during reconciliation", ErrProtocol, typ)
}

// fetchPipeline is how many WANT frames a session keeps unanswered.
const fetchPipeline = 2

func (f *fetcher) takeRoundTrips() int {
	n := f.roundTrips
	f.roundTrips = 0
	return n
}

// fetch asks for the objects of need (in key order) this node lacks, and
// for the dependencies the admitter finds, and takes in the answers. If
// the session's bound, or the peer's, stops it first, cut is the first
// object of need not fetched.
func (f *fetcher) fetch(ctx context.Context, need []cid.Cid) (cut cid.Cid, err error) {
	for {
		for f.wantFrames() < fetchPipeline {
			var batch []wantItem
			for len(batch) < maxWantPerFrame && f.wanted < f.max {
				var it wantItem
				switch {
				case len(f.a.deps) > 0:
					it = wantItem{c: f.a.deps[0], dep: true}
					f.a.deps = f.a.deps[1:]
				case len(need) > 0:
					it.c, need = need[0], need[1:]
				}
				if !it.c.Defined() {
					break
				}
				ok, err := f.a.wantable(ctx, it.c, !it.dep && f.checked)
				if err != nil {
					return cid.Undef, err
				}
				if ok {
					batch = append(batch, it)
					f.wanted++
				}
			}
			if len(batch) == 0 {
				break
			}
			cids := make([]cid.Cid, len(batch))
			for i, it := range batch {
				cids[i] = it.c
			}
			if err := f.w.send(frameWant, encodeWant(cids)); err != nil {
				return cid.Undef, err
			}
			if err := f.w.flush(); err != nil {
				return cid.Undef, err
			}
			f.inFlight = append(f.inFlight, batch)
			f.roundTrips++
		}
		if f.ranges != nil {
			if err := f.w.send(frameRanges, f.ranges); err != nil {
				return cid.Undef, err
			}
			if err := f.w.flush(); err != nil {
				return cid.Undef, err
			}
			f.ranges = nil
			f.inFlight = append(f.inFlight, nil)
		}
		if len(f.inFlight) == 0 {
			if len(f.queued) > 0 {
				// Admit what was read: it may want dependencies.
				if err := f.admitQueued(ctx, 0); err != nil {
					return cid.Undef, err
				}
				continue
			}
			switch {
			case f.cut.Defined():
				c := f.cut
				f.cut = cid.Undef
				return c, nil
			case len(need) > 0:
				return need[0], nil
			}
			return cid.Undef, nil
		}
		if err := f.answers(ctx); err != nil {
			return cid.Undef, err
		}
	}
}

// drain takes in the answers still due and fetches the dependencies they
// bring.
func (f *fetcher) drain(ctx context.Context) error {
	_, err := f.fetch(ctx, nil)
	return err
}

// answers reads the answers to the oldest WANT frame in flight.
func (f *fetcher) answers(ctx context.Context) error {
	batch := f.inFlight[0]
	f.inFlight = f.inFlight[1:]
	if batch == nil {
		// The answer to the RANGES frame sent among the WANT frames.
		typ, body, err := f.w.recv()
		if err != nil {
			return err
		}
		f.answer, err = rangesAnswer(typ, body)
		return err
	}
	// Objects are admitted in groups, bounded in bytes, so that their
	// signatures are verified together on every core.
	var (
		group []received
		size  int
	)
	for _, it := range batch {
		data, err := readObject(f.w, it.c)
		if errors.Is(err, ErrNotFound) {
			f.a.unclaim(it.c)
			if !it.dep && f.received > 0 && !f.cut.Defined() {
				// Not lost since the peer listed it, most likely: the
				// peer serves no more this session. Ask for no more.
				f.cut, f.max = it.c, f.wanted
			}
			continue
		}
		if err != nil {
			return err
		}
		f.received++
		group = append(group, received{it.c, data})
		if size += len(data); size >= admitGroupBytes {
			if err := f.queue(ctx, group); err != nil {
				return err
			}
			group, size = nil, 0
		}
	}
	if len(group) == 0 {
		return nil
	}
	return f.queue(ctx, group)
}

// queue starts verifying group, then admits the groups queued before it:
// group is verified while the one read before it is admitted.
func (f *fetcher) queue(ctx context.Context, group []received) error {
	f.queued = append(f.queued, f.a.preverify(group))
	return f.admitQueued(ctx, 1)
}

// admitQueued admits the queued groups, oldest first, until keep are
// left.
func (f *fetcher) admitQueued(ctx context.Context, keep int) error {
	for len(f.queued) > keep {
		v := f.queued[0]
		f.queued[0] = nil
		f.queued = f.queued[1:]
		if err := f.a.admitVerified(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// admitGroupBytes bounds the bytes of the objects a session holds to admit
// together (a WANT frame's answers, at most maxWantPerFrame objects). A
// session holds at most two such groups read and not admitted: the one it
// admits, and the one whose signatures are verified meanwhile.
const admitGroupBytes = 4 << 20

// countBytes adds what went through w to the node's counters.
func (n *Node) countBytes(w *wire) {
	n.stats.syncBytesSent.Add(uint64(w.out))
	n.stats.syncBytesReceived.Add(uint64(w.in))
}

// readObject reads the answer to a WANT of c: its bytes, or ErrNotFound.
func readObject(w *wire, c cid.Cid) ([]byte, error) {
	typ, body, err := w.recv()
	if err != nil {
		return nil, err
	}
	switch typ {
	case frameObject:
		got, data, err := decodeObject(body)
		if err != nil {
			return nil, err
		}
		if !got.Equals(c) {
			return nil, fmt.Errorf("%w: object %s sent for %s", ErrProtocol, got, c)
		}
		return data, nil
	case frameMissing:
		got, err := decodeMissing(body)
		if err != nil {
			return nil, err
		}
		if !got.Equals(c) {
			return nil, fmt.Errorf("%w: missing %s sent for %s", ErrProtocol, got, c)
		}
		return nil, ErrNotFound
	case frameError:
		return nil, decodeError(body)
	}
	return nil, fmt.Errorf("%w: frame type %d instead of an object", ErrProtocol, typ)
}

// handleSync serves one sync stream opened by a peer.
func (n *Node) handleSync(s network.Stream) {
	if err := n.enter(); err != nil {
		s.Reset()
		return
	}
	defer n.wg.Done()
	from := s.Conn().RemotePeer()
	w := newWire(s, n.cfg.MaxObjectSize)
	defer n.countBytes(w)
	select {
	case n.inbound <- struct{}{}:
		defer func() { <-n.inbound }()
	default:
		_ = s.SetDeadline(time.Now().Add(time.Second))
		if w.send(frameError, encodeError(codeBusy, "too many sync sessions")) == nil {
			_ = w.flush()
		}
		s.Close()
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.SyncTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	_ = s.SetDeadline(time.Now().Add(n.cfg.SyncTimeout))
	if err := n.serveSync(ctx, w, from); err != nil {
		n.log.Debug("sync session failed", slog.String("with", from.String()), slog.Any("err", err))
		if errors.Is(err, ErrProtocol) {
			// Tell the peer why, then close gracefully so that it reads it.
			if w.send(frameError, encodeError(codeBadFrame, err.Error())) == nil && w.flush() == nil {
				s.Close()
				return
			}
		}
		s.Reset()
		return
	}
	s.Close()
}

// openStreamError explains a sync stream that could not be opened. The
// resource manager's refusal (this node's streams to the peer, or the
// peer's from this node, all taken: hostLimits allows 4 a peer) is
// ErrBusy: sessions and fetches in flight end soon, and the caller tries
// again rather than give up on the peer.
func openStreamError(err error) error {
	if errors.Is(err, network.ErrResourceLimitExceeded) {
		return fmt.Errorf("open stream: %w: %w", ErrBusy, err)
	}
	return fmt.Errorf("open stream: %w", err)
}

// serveSync answers the frames of one session: reconciliation, WANTs,
// pushed objects, until DONE or the end of the stream.
func (n *Node) serveSync(ctx context.Context, w *wire, from peer.ID) error {
	var (
		rec                    *reconciler
		a                      *admitter
		rounds, served, pushed int
	)
	defer func() { n.stats.objectsServed.Add(uint64(served)) }()
	defer func() {
		if a != nil {
			a.release()
		}
	}()
	for {
		typ, body, err := w.recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch typ {
		case frameReconcile:
			if rec != nil {
				return fmt.Errorf("%w: second reconcile frame", ErrProtocol)
			}
			set, in, err := decodeReconcile(body)
			if err != nil {
				return err
			}
			if !set.Defined() || n.topic(set) == nil {
				if err := w.send(frameError, encodeError(codeNotJoined, "not joined: "+TopicName(set))); err != nil {
					return err
				}
				return w.flush()
			}
			end, ok := n.syncs.beginInbound(syncReq{set, from}, n.host.ID())
			if !ok {
				if err := w.send(frameError, encodeError(codeBusy, "a session over this set with you runs")); err != nil {
					return err
				}
				return w.flush()
			}
			defer end()
			n.stats.syncSessions.Add(1)
			v, err := n.viewOf(ctx, set)
			if err != nil {
				return fmt.Errorf("list objects: %w", err)
			}
			rec = newReconciler(v, false)
			a = n.newAdmitter(set, from, false)
			if err := n.answerRanges(w, rec, in); err != nil {
				return err
			}
		case frameRanges:
			if rec == nil {
				return fmt.Errorf("%w: ranges before reconcile", ErrProtocol)
			}
			if rounds++; rounds > maxRounds {
				return fmt.Errorf("%w: more than %d rounds", ErrProtocol, maxRounds)
			}
			in, err := decodeRanges(body)
			if err != nil {
				return err
			}
			if err := n.answerRanges(w, rec, in); err != nil {
				return err
			}
		case frameWant:
			cids, err := decodeWant(body)
			if err != nil {
				return err
			}
			for _, c := range cids {
				var data []byte
				if served < n.cfg.SyncMaxObjects {
					data, err = n.objs.Get(ctx, c)
					if err != nil && ctx.Err() != nil {
						return ctx.Err()
					}
				}
				if data == nil || len(data) > n.cfg.MaxObjectSize {
					err = w.send(frameMissing, encodeMissing(c))
				} else {
					served++
					err = w.send(frameObject, encodeObject(c, data))
				}
				if err != nil {
					return err
				}
			}
		case frameObject:
			if a == nil {
				return fmt.Errorf("%w: object pushed before reconcile", ErrProtocol)
			}
			c, data, err := decodeObject(body)
			if err != nil {
				return err
			}
			if pushed++; pushed > n.cfg.SyncMaxObjects {
				break // taken: as many as one session takes; the rest come later
			}
			has, err := n.objs.Has(ctx, c)
			if err != nil {
				return fmt.Errorf("has %s: %w", c, err)
			}
			if !has {
				if err := a.admitGroup(ctx, []received{{c, data}}); err != nil {
					return err
				}
			}
		case frameDone:
			if a != nil {
				if err := a.finish(ctx); err != nil {
					return err
				}
				n.stats.objectsFetched.Add(uint64(a.stored))
				if a.stored > 0 {
					n.syncNews(a.set, from)
				}
			}
			if err := w.send(frameDone, nil); err != nil {
				return err
			}
			return w.flush()
		default:
			return fmt.Errorf("%w: unknown frame type %d", ErrProtocol, typ)
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
}

func (n *Node) answerRanges(w *wire, rec *reconciler, in []syncRange) error {
	out, err := rec.process(in)
	if err != nil {
		return err
	}
	return w.send(frameRanges, appendRanges(nil, out))
}

// viewOf returns the view sync reconciles a Datanet's set over: its sync
// index.
func (n *Node) viewOf(ctx context.Context, set cid.Cid) (view, error) {
	return &indexView{ctx: ctx, idx: n.objs, set: set}, nil
}

// FetchObject gets one object by CID over the sync protocol, from the
// peers in from in turn (none given: the DHT's providers of c). Bytes that
// do not hash to c are refused and their sender penalised. The object is
// returned, not checked or stored: that is the caller's decision.
func (n *Node) FetchObject(ctx context.Context, c cid.Cid, from []peer.ID) ([]byte, error) {
	if !c.Defined() {
		return nil, errors.New("p2p: fetch: undefined cid")
	}
	if err := n.enterStarted(); err != nil {
		return nil, err
	}
	defer n.wg.Done()
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	if len(from) == 0 {
		provs, err := n.FindProviders(ctx, c, defaultMaxProviders)
		if err != nil {
			return nil, fmt.Errorf("p2p: fetch %s: %w", c, err)
		}
		for _, ai := range provs {
			n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
			from = append(from, ai.ID)
		}
	}
	var errs []error
	for _, p := range from {
		if p == n.host.ID() {
			continue
		}
		data, err := n.fetchFrom(ctx, p, c)
		if err == nil {
			return data, nil
		}
		if cerr := ctxErr(ctx); cerr != nil {
			return nil, cerr
		}
		errs = append(errs, fmt.Errorf("from %s: %w", p, err))
	}
	if len(errs) == 0 {
		errs = append(errs, ErrNotFound)
	}
	return nil, fmt.Errorf("p2p: fetch %s: %w", c, errors.Join(errs...))
}

func (n *Node) fetchFrom(ctx context.Context, p peer.ID, c cid.Cid) (data []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	s, err := n.host.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		return nil, openStreamError(err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	defer func() {
		if err != nil {
			s.Reset()
		} else {
			s.Close()
		}
	}()
	w := newWire(s, n.cfg.MaxObjectSize)
	defer n.countBytes(w)
	if err := w.send(frameWant, encodeWant([]cid.Cid{c})); err != nil {
		return nil, err
	}
	if err := w.send(frameDone, nil); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	data, err = readObject(w, c)
	if err != nil {
		return nil, err
	}
	if !hashMatches(c, data) {
		n.penalise(p)
		return nil, ErrHashMismatch
	}
	return data, nil
}
