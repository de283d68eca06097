package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxWake bounds the deferred objects one arrival rechecks at once; the
// rest are rechecked when sync meets them again (they are held, so they
// are not fetched again).
const maxWake = 1 << 16

// wakePage is how many waiting objects are read at a time.
const wakePage = 256

// admitter checks and stores the objects one session receives for a set.
// An object Check cannot judge yet is kept in the DeferredStore with what
// it waits for; the initiator asks the same peer for those dependencies in
// the same session, and every object stored wakes the deferred objects
// waiting for it. An object Check rejects is dropped and its sender
// penalised: called by sync, Check rejects only what nothing received
// later could make acceptable.
type admitter struct {
	n         *Node
	set       cid.Cid
	from      peer.ID
	initiator bool // may ask the peer for dependencies

	deps     []cid.Cid            // dependencies to ask the peer for, in order
	depSeen  map[cid.Cid]struct{} // deps queued so far, at most SyncMaxObjects
	claimed  map[cid.Cid]struct{} // objects this session claimed in n.syncs
	unwaited []cid.Cid            // deferred here with nothing to wait for: checked again at the end

	stored, rejected, deferred int
	heldSeen                   int // objects found held (deferred) rather than fetched
	heldWaiting                int // objects held in memory (waiting) while they waited

	// many is the node's Objects as ManyObjects, if it is one: objects
	// Check accepts then wait in pending, and are stored a batch at a
	// time (flush), while the session goes on (flying, until land).
	// pendingSet holds the CIDs of both, until they are stored.
	many       ManyObjects
	pending    []received
	pendingSet map[cid.Cid]struct{}
	flying     *flight

	// waiting holds, with ManyObjects, the objects of an initiator's
	// session that Check could not judge yet and that wait for objects
	// the session asks its peer for (a vote before its contribution): in
	// memory, up to sessionWaitBytes, rather than written to the
	// DeferredStore and read back a moment later. Each stays claimed
	// until it is stored, and what still waits when the session finishes
	// goes to the DeferredStore.
	waiting waitList
}

// sessionWaitBytes bounds the bytes of the objects a session holds in
// memory while they wait (admitter.waiting); beyond it they are deferred
// on disk.
const sessionWaitBytes = 16 << 20

// waitList is the objects a session holds in memory while they wait.
type waitList struct {
	objs  map[cid.Cid]DeferredObject
	by    map[cid.Cid][]cid.Cid // a dependency → the objects waiting for it
	bytes int
}

// hold adds o, which waits for o.Waits.
func (w *waitList) hold(o DeferredObject) {
	if w.objs == nil {
		w.objs = make(map[cid.Cid]DeferredObject)
		w.by = make(map[cid.Cid][]cid.Cid)
	}
	w.objs[o.CID] = o
	w.bytes += len(o.Data)
	for _, d := range o.Waits {
		w.by[d] = append(w.by[d], o.CID)
	}
}

// take removes and returns the objects waiting for d.
func (w *waitList) take(d cid.Cid) []DeferredObject {
	ids, ok := w.by[d]
	if !ok {
		return nil
	}
	delete(w.by, d)
	var out []DeferredObject
	for _, c := range ids {
		if o, ok := w.objs[c]; ok {
			out = append(out, w.remove(c, o))
		}
	}
	return out
}

// remove drops o, held under c, and returns it.
func (w *waitList) remove(c cid.Cid, o DeferredObject) DeferredObject {
	delete(w.objs, c)
	w.bytes -= len(o.Data)
	return o
}

// drop forgets every object held.
func (w *waitList) drop() {
	clear(w.objs)
	clear(w.by)
	w.bytes = 0
}

// all removes and returns every object held, in CID order.
func (w *waitList) all() []DeferredObject {
	out := make([]DeferredObject, 0, len(w.objs))
	for c, o := range w.objs {
		out = append(out, w.remove(c, o))
	}
	clear(w.by)
	slices.SortFunc(out, func(a, b DeferredObject) int { return strings.Compare(a.CID.KeyString(), b.CID.KeyString()) })
	return out
}

// flight is a batch of accepted objects being stored (ManyObjects.PutMany)
// while the session checks what comes next.
type flight struct {
	batch []received
	errs  []error
	err   error
	done  chan struct{} // closed when PutMany has returned
}

// received is an object a session received.
type received struct {
	c    cid.Cid
	data []byte
}

// putBatch bounds the accepted objects a session stores at once.
const putBatch = 256

func (n *Node) newAdmitter(set cid.Cid, from peer.ID, initiator bool) *admitter {
	many, _ := n.objs.(ManyObjects)
	return &admitter{
		n: n, set: set, from: from, initiator: initiator,
		depSeen:    make(map[cid.Cid]struct{}),
		claimed:    make(map[cid.Cid]struct{}),
		many:       many,
		pendingSet: make(map[cid.Cid]struct{}),
	}
}

// syncKey marks the context of Objects calls made by sync.
type syncKey struct{}

// FromSync reports whether an Objects.Check or Objects.Put call comes from
// sync rather than gossip. Sync converges sets, so it may take objects
// gossip would not bother to spread (an old vote superseded by a newer one):
// refusing them would leave two honest nodes' sets different forever.
func FromSync(ctx context.Context) bool { return ctx.Value(syncKey{}) != nil }

func syncContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, syncKey{}, true)
}

// held reports whether c, which the peer lists and this node's sync index
// does not, is deferred here: sync checks it again rather than fetch it.
// Whether c is stored is not asked: the sync index lists what is stored
// (its reads are live, so they see what this session stored), and what
// another session stored since is found when c is claimed (wantable),
// which asks anyway. That spares a read of the store that misses for
// every object a joiner fetches.
func (a *admitter) held(ctx context.Context, c cid.Cid) (bool, error) {
	_, ok, err := a.n.objs.Deferred(ctx, c)
	return ok, err
}

// wantable reports whether the session should ask its peer for c: not
// stored, not deferred (a deferred object is checked again instead), not
// being fetched by another session. It claims c when it says yes.
// checked says c was just found neither stored nor deferred (held).
//
// It claims c before it looks whether c is held: a session releases its
// claim only once the object is stored or deferred, so a claim taken
// after that release sees it held, and one taken before makes the other
// session's claim fail. Looking first would let a session that stored c
// between the look and the claim have c fetched twice.
func (a *admitter) wantable(ctx context.Context, c cid.Cid, checked bool) (bool, error) {
	if !a.n.syncs.claim(c) {
		return false, nil
	}
	held, err := a.heldOrRechecked(ctx, c, checked)
	if err != nil || held {
		a.n.syncs.unclaim(c)
		return false, err
	}
	a.claimed[c] = struct{}{}
	return true, nil
}

// heldOrRechecked is held, checking a deferred object again unless
// checked (the caller found c neither stored nor deferred a moment ago,
// before it was claimed).
func (a *admitter) heldOrRechecked(ctx context.Context, c cid.Cid, checked bool) (bool, error) {
	if has, err := a.n.objs.Has(ctx, c); err != nil || has {
		return has, err
	}
	o, ok, err := a.n.objs.Deferred(ctx, c)
	if err != nil || !ok {
		return false, err
	}
	if !checked {
		if _, _, err := a.recheck(ctx, o); err != nil {
			return true, err
		}
	}
	return true, nil
}

func (a *admitter) unclaim(c cid.Cid) {
	if _, ok := a.claimed[c]; ok {
		delete(a.claimed, c)
		a.n.syncs.unclaim(c)
	}
}

// release gives up the claims of a session that ends, once the batch in
// flight, if any, is written (what it did is not looked at: a session that
// ends with an error stops there).
func (a *admitter) release() {
	if a.flying != nil {
		<-a.flying.done
		a.flying = nil
	}
	// Objects still held in memory are dropped with their claims: the
	// peer still holds them, and a later session fetches them again.
	a.waiting.drop()
	for c := range a.claimed {
		a.unclaim(c)
	}
}

// recheckHeld checks again the deferred objects among cids, which a
// reconciliation found the peer holds.
func (a *admitter) recheckHeld(ctx context.Context, cids []cid.Cid) error {
	a.heldSeen += len(cids)
	for _, c := range cids {
		if _, _, _, err := a.recheckCID(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// recheckCID checks the object deferred under c again, if there is one
// (found).
func (a *admitter) recheckCID(ctx context.Context, c cid.Cid) (found, stored, changed bool, err error) {
	o, ok, err := a.n.objs.Deferred(ctx, c)
	if err != nil || !ok {
		return false, false, false, err
	}
	stored, changed, err = a.recheck(ctx, o)
	return true, stored, changed, err
}

// admitGroup admits objects received together, in order: their
// signatures verified on every core first when the node can (ManyObjects),
// and those accepted stored a batch at a time. Every object of group is
// stored (or, with ManyObjects, being stored: see land), deferred or
// dropped when it returns without error, and its claim released once it is
// stored.
func (a *admitter) admitGroup(ctx context.Context, group []received) error {
	return a.admitVerified(ctx, a.preverify(group))
}

// verifying is a group of received objects whose signatures are being
// verified in the background, on every core, while the session admits
// the group before it: a session's admission waits for the verification
// of only the group it admits, not for a group's verification to start.
type verifying struct {
	group []received
	done  chan struct{}
}

// preverify starts verifying the signatures of group in the background
// when the node can (ManyObjects). What it verifies is only remembered
// (Objects.Preverify), so a group dropped unadmitted costs nothing else.
func (a *admitter) preverify(group []received) *verifying {
	v := &verifying{group: group, done: make(chan struct{})}
	if a.many == nil || len(group) < 2 {
		close(v.done)
		return v
	}
	data := make([][]byte, 0, len(group))
	for _, g := range group {
		if hashMatches(g.c, g.data) {
			data = append(data, g.data)
		}
	}
	go func() {
		defer close(v.done)
		a.many.Preverify(data)
	}()
	return v
}

// admitVerified is admitGroup of a group preverify started.
func (a *admitter) admitVerified(ctx context.Context, v *verifying) error {
	select {
	case <-v.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, g := range v.group {
		err := a.admit(ctx, g.c, g.data)
		_, waits := a.pendingSet[g.c]
		_, held := a.waiting.objs[g.c]
		if !waits && !held {
			a.unclaim(g.c) // stored or deferred now: other sessions see it held
		}
		if err != nil {
			return err
		}
	}
	return a.flush(ctx)
}

// admit handles one object received for c. It fails on bytes that do not
// match c (the session is then abandoned) and on local storage failures.
// With ManyObjects, an object accepted waits in pending until flush.
func (a *admitter) admit(ctx context.Context, c cid.Cid, data []byte) error {
	if !hashMatches(c, data) {
		a.n.penalise(a.from)
		return fmt.Errorf("object %s from %s: %w", c, a.from, ErrHashMismatch)
	}
	v, err := a.check(ctx, a.set, c, data)
	if v == Ignore && len(a.pendingSet) > 0 && a.waitsForPending(err) {
		// It needs an object accepted a moment ago, not stored yet.
		if err := a.settle(ctx); err != nil {
			return err
		}
		v, err = a.check(ctx, a.set, c, data)
	}
	switch v {
	case Accept:
		if a.many != nil {
			a.pending = append(a.pending, received{c, data})
			a.pendingSet[c] = struct{}{}
			if len(a.pending) >= putBatch {
				return a.flush(ctx)
			}
			return nil
		}
		if err := a.put(ctx, c, data); err != nil {
			return err
		}
		return a.wake(ctx, c)
	case Reject:
		a.reject(c, a.from, err)
		return nil
	case Ignore:
		if errors.Is(err, ErrUnwanted) {
			a.n.chargeUnwanted(a.from)
			return nil
		}
		fallthrough
	default:
		o := DeferredObject{CID: c, Set: a.set, From: a.from, Data: data}
		if a.hold(o, err) {
			a.heldWaiting++
			a.n.stats.objectsWaited.Add(1)
			return nil
		}
		_, err := a.keep(ctx, o, err, true)
		return err
	}
}

// hold keeps o, which Check could not judge for cause, in memory
// (waiting) if cause names what it waits for, the session asks its peer
// for that, and the bytes held stay within sessionWaitBytes. It reports
// whether it did.
func (a *admitter) hold(o DeferredObject, cause error) bool {
	missing := missingOf(cause)
	if a.many == nil || !a.initiator || len(missing) == 0 || a.waiting.bytes+len(o.Data) > sessionWaitBytes {
		return false
	}
	o.Waits = missing[:min(len(missing), MaxWaits)]
	a.waiting.hold(o)
	a.wantDeps(missing)
	return true
}

func (a *admitter) check(ctx context.Context, set, c cid.Cid, data []byte) (Verdict, error) {
	got, owner, v, err := a.n.objs.Check(syncContext(ctx), set, data)
	switch {
	case v != Accept:
		return v, err
	case err != nil:
		return Ignore, err
	case !got.Equals(c):
		return Reject, fmt.Errorf("object sent as %s is %s", c, got)
	case set.Defined() && owner != set:
		return Reject, fmt.Errorf("object of %s sent as one of %s", owner, set)
	}
	return Accept, nil
}

// waitsForPending reports whether err names as missing an object that
// waits in pending.
func (a *admitter) waitsForPending(err error) bool {
	for _, m := range missingOf(err) {
		if _, ok := a.pendingSet[m]; ok {
			return true
		}
	}
	return false
}

// flush starts storing the objects waiting in pending (ManyObjects.PutMany)
// while the session goes on, once the batch stored before has landed: one
// batch is in flight at a time, so that the checks of the next objects
// (and their signatures, on the other core) overlap the store.
func (a *admitter) flush(ctx context.Context) error {
	if err := a.land(ctx); err != nil {
		return err
	}
	if len(a.pending) == 0 {
		return nil
	}
	f := &flight{batch: a.pending, done: make(chan struct{})}
	a.pending = nil
	data := make([][]byte, len(f.batch))
	for i, r := range f.batch {
		data[i] = r.data
	}
	a.flying = f
	go func() {
		defer close(f.done)
		f.errs, f.err = a.many.PutMany(syncContext(ctx), data)
	}()
	return nil
}

// land waits for the batch in flight, if any, then releases its claims
// and wakes what waits for its objects.
func (a *admitter) land(ctx context.Context) error {
	f := a.flying
	if f == nil {
		return nil
	}
	<-f.done
	a.flying = nil
	for _, r := range f.batch {
		delete(a.pendingSet, r.c)
	}
	defer func() {
		for _, r := range f.batch {
			a.unclaim(r.c)
		}
	}()
	if f.err != nil {
		return fmt.Errorf("store %d objects: %w", len(f.batch), f.err)
	}
	stored := make([]cid.Cid, len(f.batch))
	for i, r := range f.batch {
		if f.errs[i] != nil {
			return fmt.Errorf("store %s: %w", r.c, f.errs[i])
		}
		a.stored++
		stored[i] = r.c
	}
	return a.wakeMany(ctx, stored)
}

// settle stores what is pending or in flight, and wakes what waits for
// it: then every object admitted so far is stored, deferred or dropped.
func (a *admitter) settle(ctx context.Context) error {
	if err := a.flush(ctx); err != nil {
		return err
	}
	return a.land(ctx)
}

// wakeMany is wake for objects stored together, with ManyObjects: the
// deferred objects waiting for any of them are checked again, those
// accepted stored together, and so on for what waits for those, up to
// maxWake objects.
func (a *admitter) wakeMany(ctx context.Context, stored []cid.Cid) error {
	woken := 0
	for len(stored) > 0 && woken < maxWake {
		var (
			next       []cid.Cid // stored in this round: what waits for them is next
			ready      []DeferredObject
			readyBytes int
		)
		store := func() error {
			if len(ready) == 0 {
				return nil
			}
			stored, err := a.putReady(ctx, ready)
			next = append(next, stored...)
			ready, readyBytes = nil, 0
			return err
		}
		// consider checks o again: o is in the DeferredStore (onDisk) or
		// was held in memory.
		consider := func(o DeferredObject, onDisk bool) error {
			switch v, cerr := a.check(ctx, o.Set, o.CID, o.Data); v {
			case Accept:
				ready = append(ready, o)
				if readyBytes += len(o.Data); len(ready) >= putBatch || readyBytes >= admitGroupBytes {
					return store()
				}
			case Reject:
				a.reject(o.CID, o.From, cerr)
				if !onDisk {
					a.unclaim(o.CID)
				} else if err := a.n.objs.Undefer(ctx, o.CID); err != nil {
					return fmt.Errorf("undefer %s: %w", o.CID, err)
				}
			default:
				if !onDisk && a.hold(o, cerr) {
					return nil // waits in memory for something else now
				}
				if _, err := a.keep(ctx, o, cerr, !onDisk); err != nil {
					return err
				}
				if !onDisk {
					a.unclaim(o.CID)
				}
			}
			return nil
		}
		seen := map[cid.Cid]struct{}{}
		for _, x := range stored {
			// What waits in memory for x first: it is not counted in
			// maxWake, which bounds the reads of the DeferredStore.
			for _, o := range a.waiting.take(x) {
				if err := consider(o, false); err != nil {
					return err
				}
			}
			if woken >= maxWake {
				break
			}
			var waiting []cid.Cid
			err := a.n.objs.Waiting(ctx, x, func(d cid.Cid) (bool, error) {
				waiting = append(waiting, d)
				return woken+len(waiting) < maxWake, nil
			})
			if err != nil {
				return fmt.Errorf("deferred objects waiting for %s: %w", x, err)
			}
			for _, d := range waiting {
				if _, dup := seen[d]; dup {
					continue
				}
				seen[d] = struct{}{}
				o, ok, err := a.n.objs.Deferred(ctx, d)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				woken++
				if err := consider(o, true); err != nil {
					return err
				}
			}
		}
		if err := store(); err != nil {
			return err
		}
		stored = next
	}
	return nil
}

func (a *admitter) put(ctx context.Context, c cid.Cid, data []byte) error {
	if _, err := a.n.objs.Put(syncContext(ctx), data); err != nil {
		return fmt.Errorf("store %s: %w", c, err)
	}
	a.stored++
	return nil
}

func (a *admitter) reject(c cid.Cid, from peer.ID, err error) {
	a.rejected++
	if from != "" {
		a.n.penalise(from)
	}
	a.n.log.Debug("sync object rejected", slog.String("cid", c.String()),
		slog.String("from", from.String()), slog.Any("err", err))
}

// keep defers o, which Check could not judge for cause, and queues the
// objects cause names as missing to be asked for. fresh marks an object
// just received (not one deferred before); changed reports whether what it
// waits for changed.
func (a *admitter) keep(ctx context.Context, o DeferredObject, cause error, fresh bool) (changed bool, err error) {
	missing := missingOf(cause)
	waits := missing[:min(len(missing), MaxWaits)]
	if !fresh && slices.EqualFunc(waits, o.Waits, cid.Cid.Equals) {
		a.wantDeps(missing)
		return false, nil // kept already, waiting for the same objects
	}
	o.Waits = waits
	kept, err := a.n.objs.Defer(ctx, o)
	if err != nil {
		return false, fmt.Errorf("defer %s: %w", o.CID, err)
	}
	if kept && fresh {
		a.deferred++
		a.n.stats.objectsDeferred.Add(1)
		if len(waits) == 0 && len(a.unwaited) < a.n.cfg.SyncMaxObjects {
			a.unwaited = append(a.unwaited, o.CID)
		}
	}
	a.n.log.Debug("sync object deferred", slog.String("cid", o.CID.String()), slog.Bool("kept", kept),
		slog.Int("waits", len(waits)), slog.Any("cause", cause))
	a.wantDeps(missing)
	return true, nil
}

// wantDeps queues the objects of missing to be asked of the initiator's
// peer, within the session's bound.
func (a *admitter) wantDeps(missing []cid.Cid) {
	if !a.initiator {
		return
	}
	for _, m := range missing {
		if len(a.depSeen) >= a.n.cfg.SyncMaxObjects {
			return
		}
		if _, ok := a.depSeen[m]; !ok {
			a.depSeen[m] = struct{}{}
			a.deps = append(a.deps, m)
		}
	}
}

// recheck checks a deferred object again: stored and forgotten when
// accepted, forgotten (its sender penalised) when rejected, kept with what
// it waits for now otherwise. changed reports whether it is no longer kept
// as it was.
func (a *admitter) recheck(ctx context.Context, o DeferredObject) (stored, changed bool, err error) {
	v, cerr := a.check(ctx, o.Set, o.CID, o.Data)
	switch v {
	case Accept:
		if err := a.put(ctx, o.CID, o.Data); err != nil {
			return false, false, err
		}
	case Reject:
		a.reject(o.CID, o.From, cerr)
	default:
		changed, err := a.keep(ctx, o, cerr, false)
		return false, changed, err
	}
	if err := a.n.objs.Undefer(ctx, o.CID); err != nil {
		return false, false, fmt.Errorf("undefer %s: %w", o.CID, err)
	}
	return v == Accept, true, nil
}

// wake checks again the deferred objects waiting for c, just stored, and
// those waiting for what that stores in turn, up to maxWake of them.
func (a *admitter) wake(ctx context.Context, c cid.Cid) error {
	queue := []cid.Cid{c}
	for woken := 0; len(queue) > 0 && woken < maxWake; {
		x := queue[0]
		queue = queue[1:]
		for woken < maxWake {
			var page []cid.Cid
			err := a.n.objs.Waiting(ctx, x, func(d cid.Cid) (bool, error) {
				page = append(page, d)
				return len(page) < wakePage, nil
			})
			if err != nil {
				return fmt.Errorf("deferred objects waiting for %s: %w", x, err)
			}
			changed := 0
			for _, d := range page {
				found, stored, ch, err := a.recheckCID(ctx, d)
				if err != nil {
					return err
				}
				if !found {
					continue
				}
				woken++
				if stored {
					queue = append(queue, d)
				}
				if ch {
					changed++
				}
			}
			if len(page) < wakePage || changed == 0 {
				break
			}
		}
	}
	return nil
}

// finish stores what is pending or in flight, then checks again, while
// that makes progress, the objects deferred in
// this session with nothing named to wait for (judged under a Datanet
// version that objects of the same session may have updated).
func (a *admitter) finish(ctx context.Context) error {
	if err := a.settle(ctx); err != nil {
		return err
	}
	if err := a.spill(ctx); err != nil {
		return err
	}
	for pass := 0; pass < 3 && a.stored > 0 && len(a.unwaited) > 0; pass++ {
		before := a.stored
		retry := a.unwaited
		a.unwaited = nil
		for _, c := range retry {
			found, stored, _, err := a.recheckCID(ctx, c)
			if err != nil {
				return err
			}
			if found && !stored {
				a.unwaited = append(a.unwaited, c)
			}
		}
		if a.stored == before {
			break
		}
	}
	return nil
}

// putReady stores objects Check accepted again (deferred on disk, which
// PutMany undefers, or held in memory, whose claims it releases) and
// returns their CIDs.
func (a *admitter) putReady(ctx context.Context, ready []DeferredObject) ([]cid.Cid, error) {
	data := make([][]byte, len(ready))
	for i, o := range ready {
		data[i] = o.Data
	}
	errs, err := a.many.PutMany(syncContext(ctx), data)
	if err != nil {
		return nil, fmt.Errorf("store %d objects: %w", len(ready), err)
	}
	stored := make([]cid.Cid, len(ready))
	for i, o := range ready {
		if errs[i] != nil {
			return nil, fmt.Errorf("store %s: %w", o.CID, errs[i])
		}
		a.stored++
		a.unclaim(o.CID) // if it was held in memory
		stored[i] = o.CID
	}
	return stored, nil
}

// spill checks again, once the session has stored what it fetched, the
// objects still held in memory: those accepted now are stored, which
// wakes what waits for them (held ones too), and so on while that stores
// something; the others go to the DeferredStore.
func (a *admitter) spill(ctx context.Context) error {
	for {
		var (
			ready []DeferredObject
			rest  []DeferredObject
			cause []error
		)
		for _, o := range a.waiting.all() {
			switch v, cerr := a.check(ctx, o.Set, o.CID, o.Data); v {
			case Accept:
				ready = append(ready, o)
			case Reject:
				a.reject(o.CID, o.From, cerr)
				a.unclaim(o.CID)
			default:
				rest, cause = append(rest, o), append(cause, cerr)
			}
		}
		for i, o := range rest {
			if len(ready) > 0 && a.hold(o, cause[i]) {
				continue // held again: what is stored below may wake it
			}
			if _, err := a.keep(ctx, o, cause[i], true); err != nil {
				return err
			}
			a.unclaim(o.CID)
		}
		if len(ready) == 0 {
			return nil
		}
		for len(ready) > 0 {
			n := min(len(ready), putBatch)
			stored, err := a.putReady(ctx, ready[:n])
			if err != nil {
				return err
			}
			ready = ready[n:]
			if err := a.wakeMany(ctx, stored); err != nil {
				return err
			}
		}
	}
}

// hashMatches reports whether data hashes to c's multihash.
func hashMatches(c cid.Cid, data []byte) bool {
	got, err := c.Prefix().Sum(data)
	return err == nil && got.Equals(c)
}
