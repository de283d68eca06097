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
	syncWorkers     = 4   // background sync sessions at once
	syncQueueSize   = 256 // queued background syncs; more are dropped
	maxInboundSyncs = 16  // sync sessions served at once
	syncFanout      = 2   // random topic peers per set per SyncInterval
	syncParallel    = 4   // peers Sync reconciles with at once
	// maxRounds bounds the reconciliation round trips of a session. Each
	// round divides differing ranges by splitFanout, and frames are
	// bounded by rangeBudget, so honest sessions of a million objects
	// need a handful.
	maxRounds = 64
	// maxDeferredBytes bounds the objects kept for a second Check in one
	// session because Check could not judge them yet (e.g. a vote that
	// arrived before its Datanet).
	maxDeferredBytes = 8 << 20
	maxCheckPasses   = 3
)

// SyncStats describes reconciliations, summed over peers.
type SyncStats struct {
	Peers         int   // peers reconciled with
	Failed        int   // peers whose session failed
	Rounds        int   // reconciliation round trips
	RoundTrips    int   // all request/response round trips: Rounds, fetches, final handshake
	BytesSent     int64 // bytes written to sync streams
	BytesReceived int64 // bytes read from sync streams
	Fetched       int   // objects received, checked and stored
	Pushed        int   // objects sent to peers that lacked them
	Rejected      int   // objects received that Check rejected (senders penalised)
}

func (s *SyncStats) add(o SyncStats) {
	s.Peers += o.Peers
	s.Failed += o.Failed
	s.Rounds += o.Rounds
	s.RoundTrips += o.RoundTrips
	s.BytesSent += o.BytesSent
	s.BytesReceived += o.BytesReceived
	s.Fetched += o.Fetched
	s.Pushed += o.Pushed
	s.Rejected += o.Rejected
}

type syncReq struct {
	set  cid.Cid
	peer peer.ID
}

// scheduleSync queues a background reconciliation of set with p, unless
// one is queued already; when the queue is full it is dropped (the
// periodic sync covers it).
func (n *Node) scheduleSync(set cid.Cid, p peer.ID) {
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
			st, err := n.syncPeer(n.ctx, req.set, req.peer)
			log := n.log.With(slog.String("set", TopicName(req.set)), slog.String("with", req.peer.String()))
			if err != nil {
				log.Debug("sync failed", slog.Any("err", err))
				continue
			}
			log.Debug("synced", slog.Int("rounds", st.Rounds), slog.Int("fetched", st.Fetched),
				slog.Int("pushed", st.Pushed), slog.Int64("sent", st.BytesSent), slog.Int64("received", st.BytesReceived))
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

// Sync reconciles the Datanet's set (cid.Undef: the announcements) with
// every peer of its topic now, so that both sides end with the union. It
// fails only when no peer could be reconciled with; stats count the
// failures.
func (n *Node) Sync(ctx context.Context, datanet cid.Cid) (SyncStats, error) {
	if err := n.enterStarted(); err != nil {
		return SyncStats{}, err
	}
	defer n.wg.Done()
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
			st, err := n.syncPeer(ctx, datanet, p)
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

// syncPeer runs one reconciliation of set with p as the initiator: it
// learns both differences, fetches what it lacks and pushes what p lacks.
func (n *Node) syncPeer(ctx context.Context, set cid.Cid, p peer.ID) (st SyncStats, err error) {
	n.stats.syncSessions.Add(1)
	ctx, cancel := context.WithTimeout(ctx, n.cfg.SyncTimeout)
	defer cancel()
	ids, err := n.objs.IDs(ctx, set)
	if err != nil {
		return st, fmt.Errorf("list objects: %w", err)
	}
	s, err := n.host.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return st, cerr
		}
		return st, fmt.Errorf("open stream: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl) // best effort: the AfterFunc bounds it anyway
	}
	w := newWire(s, n.cfg.MaxObjectSize)
	defer func() {
		st.BytesSent, st.BytesReceived = w.out, w.in
		if err != nil {
			s.Reset()
			if cerr := ctxErr(ctx); cerr != nil {
				err = cerr
			}
			return
		}
		s.Close()
	}()

	// Reconcile.
	rec := newReconciler(newSet(ids), true)
	if err := w.send(frameReconcile, encodeReconcile(set, rec.initial())); err != nil {
		return st, err
	}
	for {
		if err := w.flush(); err != nil {
			return st, err
		}
		typ, body, err := w.recv()
		if err != nil {
			return st, err
		}
		st.Rounds++
		st.RoundTrips++
		switch typ {
		case frameRanges:
		case frameError:
			return st, decodeError(body)
		default:
			return st, fmt.Errorf("%w: frame type %d during reconciliation", ErrProtocol, typ)
		}
		in, err := decodeRanges(body)
		if err != nil {
			return st, err
		}
		out, err := rec.process(in)
		if err != nil {
			return st, err
		}
		if len(out) == 0 {
			break
		}
		if st.Rounds >= maxRounds {
			// Use what was learned; the next session goes on from there.
			n.log.Debug("sync round limit", slog.String("with", p.String()))
			break
		}
		if err := w.send(frameRanges, appendRanges(nil, out)); err != nil {
			return st, err
		}
	}

	// Fetch what we lack.
	a := &admitter{n: n, set: set, from: p}
	need := rec.need[:min(len(rec.need), n.cfg.SyncMaxObjects)]
	for len(need) > 0 {
		batch := make([]cid.Cid, 0, maxWantPerFrame)
		for len(need) > 0 && len(batch) < maxWantPerFrame {
			c := need[0]
			need = need[1:]
			if has, err := n.objs.Has(ctx, c); err != nil {
				return st, fmt.Errorf("has %s: %w", c, err)
			} else if !has {
				batch = append(batch, c)
			}
		}
		if len(batch) == 0 {
			continue
		}
		if err := w.send(frameWant, encodeWant(batch)); err != nil {
			return st, err
		}
		if err := w.flush(); err != nil {
			return st, err
		}
		st.RoundTrips++
		for _, c := range batch {
			data, err := readObject(w, c)
			if errors.Is(err, ErrNotFound) {
				continue // the peer lost it since it listed it
			}
			if err != nil {
				return st, err
			}
			if err := a.admit(ctx, c, data); err != nil {
				return st, err
			}
		}
	}
	if err := a.finish(ctx); err != nil {
		return st, err
	}
	st.Fetched, st.Rejected = a.stored, a.rejected
	n.stats.objectsFetched.Add(uint64(a.stored))
	if a.stored > 0 {
		n.syncNews(set, p)
	}

	// Push what the peer lacks.
	for _, c := range rec.have[:min(len(rec.have), n.cfg.SyncMaxObjects)] {
		data, err := n.objs.Get(ctx, c)
		if err != nil {
			n.log.Debug("push: get object", slog.String("cid", c.String()), slog.Any("err", err))
			continue
		}
		if len(data) > n.cfg.MaxObjectSize {
			continue
		}
		if err := w.send(frameObject, encodeObject(c, data)); err != nil {
			return st, err
		}
		st.Pushed++
	}
	n.stats.objectsServed.Add(uint64(st.Pushed))

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
	return st, nil
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

// serveSync answers the frames of one session: reconciliation, WANTs,
// pushed objects, until DONE or the end of the stream.
func (n *Node) serveSync(ctx context.Context, w *wire, from peer.ID) error {
	var (
		rec                    *reconciler
		a                      *admitter
		rounds, served, pushed int
	)
	defer func() { n.stats.objectsServed.Add(uint64(served)) }()
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
			if n.topic(set) == nil {
				if err := w.send(frameError, encodeError(codeNotJoined, "not joined: "+TopicName(set))); err != nil {
					return err
				}
				return w.flush()
			}
			n.stats.syncSessions.Add(1)
			ids, err := n.objs.IDs(ctx, set)
			if err != nil {
				return fmt.Errorf("list objects: %w", err)
			}
			rec = newReconciler(newSet(ids), false)
			a = &admitter{n: n, set: set, from: from}
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
			if pushed++; pushed > n.cfg.SyncMaxObjects {
				return fmt.Errorf("%w: more than %d objects pushed", ErrProtocol, n.cfg.SyncMaxObjects)
			}
			c, data, err := decodeObject(body)
			if err != nil {
				return err
			}
			has, err := n.objs.Has(ctx, c)
			if err != nil {
				return fmt.Errorf("has %s: %w", c, err)
			}
			if !has {
				if err := a.admit(ctx, c, data); err != nil {
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

// admitter checks and stores the objects one session receives for a set.
// Objects Check cannot judge yet are kept (within maxDeferredBytes) and
// checked again at the end, since a session delivers them in key order,
// not in dependency order. So are objects Check rejects: a verdict can
// depend on order too (a vote by a curator whose appointment, a Datanet
// update, comes later in the session), so the sender is penalised only
// for objects still rejected once everything else is in.
type admitter struct {
	n        *Node
	set      cid.Cid
	from     peer.ID
	stored   int
	rejected int
	deferred []deferredObject
	size     int
	final    bool // the last pass: rejections count
}

type deferredObject struct {
	c    cid.Cid
	data []byte
}

// syncKey marks the context of Objects calls made by sync.
type syncKey struct{}

// FromSync reports whether an Objects.Check or Objects.Put call comes from
// sync rather than gossip. Sync converges sets, so it may take objects
// gossip would not bother to spread (an old vote superseded by a newer one):
// refusing them would leave two honest nodes' sets different forever.
func FromSync(ctx context.Context) bool { return ctx.Value(syncKey{}) != nil }

// admit handles one object received for c. It fails on bytes that do not
// match c (the session is then abandoned) and on local storage failures.
func (a *admitter) admit(ctx context.Context, c cid.Cid, data []byte) error {
	ctx = context.WithValue(ctx, syncKey{}, true)
	if !hashMatches(c, data) {
		a.n.penalise(a.from)
		return fmt.Errorf("object %s from %s: %w", c, a.from, ErrHashMismatch)
	}
	switch v, err := a.check(ctx, c, data); v {
	case Accept:
		if _, err := a.n.objs.Put(ctx, data); err != nil {
			return fmt.Errorf("store %s: %w", c, err)
		}
		a.stored++
	case Reject:
		if !a.final && a.size+len(data) <= maxDeferredBytes {
			a.deferred = append(a.deferred, deferredObject{c, data})
			a.size += len(data)
			return nil
		}
		a.rejected++
		a.n.penalise(a.from)
		a.n.log.Debug("sync object rejected", slog.String("cid", c.String()),
			slog.String("from", a.from.String()), slog.Any("err", err))
	default:
		if a.final {
			return nil
		}
		if a.size+len(data) <= maxDeferredBytes {
			a.deferred = append(a.deferred, deferredObject{c, data})
			a.size += len(data)
		}
	}
	return nil
}

func (a *admitter) check(ctx context.Context, c cid.Cid, data []byte) (Verdict, error) {
	got, owner, v, err := a.n.objs.Check(ctx, a.set, data)
	switch {
	case v != Accept:
		return v, err
	case err != nil:
		return Ignore, err
	case !got.Equals(c):
		return Reject, fmt.Errorf("object sent as %s is %s", c, got)
	case a.set.Defined() && owner != a.set:
		return Reject, fmt.Errorf("object of %s sent as one of %s", owner, a.set)
	}
	return Accept, nil
}

// finish checks the deferred objects again while that makes progress,
// then once more for the last time: what is still rejected then counts
// against the sender, what still cannot be judged is dropped (a later
// session brings it again).
func (a *admitter) finish(ctx context.Context) error {
	retryAll := func() error {
		retry := a.deferred
		a.deferred, a.size = nil, 0
		for _, o := range retry {
			if err := a.admit(ctx, o.c, o.data); err != nil {
				return err
			}
		}
		return nil
	}
	for pass := 0; pass < maxCheckPasses && len(a.deferred) > 0; pass++ {
		before := a.stored
		if err := retryAll(); err != nil {
			return err
		}
		if a.stored == before {
			break
		}
	}
	a.final = true
	defer func() { a.final = false }()
	return retryAll()
}

// hashMatches reports whether data hashes to c's multihash.
func hashMatches(c cid.Cid, data []byte) bool {
	got, err := c.Prefix().Sum(data)
	return err == nil && got.Equals(c)
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
		return nil, fmt.Errorf("open stream: %w", err)
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
