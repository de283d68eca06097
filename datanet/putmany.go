package datanet

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// putManyBatch bounds the objects PutMany writes in one transaction: about
// fifteen keys each, well inside Badger's bound on a transaction, and
// large enough that the transaction's fixed cost and the Datanet's count
// keys are paid once for many objects.
const putManyBatch = 256

// PutResult is what PutMany did with one object.
type PutResult struct {
	Checked *Checked // the object stored; nil when Err is set
	Err     error    // why it was not stored, as PutFetched would fail
}

// PutMany is PutFetched for many objects at once: what a fetch or a sync
// session received. Each object is checked as Put checks it, in the order
// given, against the state with every object before it stored (so a vote
// may follow its contribution in data), and those that pass are stored and
// told to Config.Stored in that order. It costs much less per object than
// PutFetched: signatures are verified on every core before the checks, and
// the objects and their index entries are written a batch at a time, in
// one transaction each.
//
// The results match data one to one. The error is a storage failure that
// stopped the call: objects whose result has no Checked and no Err were
// not looked at.
func (r *Registry) PutMany(ctx context.Context, data [][]byte) ([]PutResult, error) {
	res := make([]PutResult, len(data))
	items, ready := r.prepareAhead(data)
	w := &manyWriter{r: r, ctx: ctx, res: res, pending: map[cid.Cid][]byte{}}
	// A vote is checked against its contribution in the batch, not
	// written yet, as if it were stored.
	ctx = context.WithValue(ctx, pendingKey{}, w.pending)
	for i := range items {
		ready(i)
		it := &items[i]
		if it.err != nil {
			res[i].Err = it.err
			continue
		}
		if ch, ok := it.obj.(*SnapshotChunk); ok {
			// As PutFetched: a chunk is asked for by CID, checked for its
			// own rules when decoded, and indexed by nothing.
			w.add(i, it, &Checked{CID: it.c, Object: ch}, false)
			continue
		}
		ch, err := r.checkIn(ctx, cid.Undef, it.c, it.obj)
		if err != nil && CannotJudgeYet(err) && w.holds(MissingCIDs(err)) {
			// It needs an object this call has not written yet.
			if err := w.flush(); err != nil {
				return res, err
			}
			ch, err = r.checkIn(ctx, cid.Undef, it.c, it.obj)
		}
		if err != nil {
			res[i].Err = err
			continue
		}
		if _, ok := it.obj.(*Datanet); ok {
			// A new version changes what every later object is judged
			// by, and may decide the Datanet again: stored alone, as Put
			// stores it.
			if err := w.flush(); err != nil {
				return res, err
			}
			if _, err := r.put(ctx, it.obj, ch.Datanet, true); err != nil {
				res[i].Err = err
				continue
			}
			res[i].Checked = ch
			r.emit(ch, false)
			continue
		}
		w.add(i, it, ch, true)
		if len(w.batch) >= putManyBatch {
			if err := w.flush(); err != nil {
				return res, err
			}
		}
	}
	return res, w.flush()
}

// Preverify verifies on every core the signatures of the objects in data
// and remembers those that pass (see Check), so that checking them next
// costs no signature. It judges nothing: an object that fails is failed
// again, with its reason, by the Check that follows. Give it at most a few
// thousand objects at a time: what it remembers is bounded.
func (r *Registry) Preverify(data [][]byte) {
	_, ready := r.prepareAhead(data)
	for i := range data {
		ready(i)
	}
}

// prepared is an object of PutMany decoded, its CID computed and its
// signature verified.
type prepared struct {
	c    cid.Cid
	data []byte
	obj  Object
	err  error
}

// prepareGroup is how many objects prepareAhead hands a worker at once:
// their signatures are checked together (verifyObjects), which pays from
// a few signatures by one signer and more with more.
const prepareGroup = 128

// prepareAhead decodes and verifies data on every core, in the
// background, in order; ready(i) waits until item i is done. It lets the
// caller check and write the first objects while the next are verified.
func (r *Registry) prepareAhead(data [][]byte) (items []prepared, ready func(i int)) {
	items = make([]prepared, len(data))
	groups := (len(data) + prepareGroup - 1) / prepareGroup
	done := make([]chan struct{}, groups)
	for g := range done {
		done[g] = make(chan struct{})
	}
	var next atomic.Int64
	for range min(groups, runtime.GOMAXPROCS(0)) {
		go func() {
			for g := int(next.Add(1)) - 1; g < groups; g = int(next.Add(1)) - 1 {
				r.prepareBatch(items[g*prepareGroup:min(len(data), (g+1)*prepareGroup)], data[g*prepareGroup:])
				close(done[g])
			}
		}()
	}
	return items, func(i int) { <-done[i/prepareGroup] }
}

// prepareBatch decodes data into items (one each), computes their CIDs,
// and verifies together the signatures not verified lately.
func (r *Registry) prepareBatch(items []prepared, data [][]byte) {
	var objs []Object
	var sigs [][]byte
	var at []int
	for i := range items {
		it := &items[i]
		if !r.decodePrepared(it, data[i]) {
			continue
		}
		if sig, ok := objectSignature(it.obj); ok {
			objs, sigs, at = append(objs, it.obj), append(sigs, sig), append(at, i)
		} else if it.err = it.obj.Verify(); it.err == nil {
			r.rememberVerified(it.c, it.obj, len(it.data))
		}
	}
	for k, err := range r.verifyObjects(objs, sigs) {
		it := &items[at[k]]
		if it.err = err; err == nil {
			r.rememberVerified(it.c, it.obj, len(it.data))
		}
	}
}

// decodePrepared decodes data into it and computes its CID. It reports
// whether the signature is still to be verified.
func (r *Registry) decodePrepared(it *prepared, data []byte) bool {
	it.data = data
	if it.c, it.err = ObjectCID(data); it.err != nil {
		return false
	}
	if obj, ok := r.decoded.Get(it.c); ok {
		it.obj = obj // decoded and verified lately
		return false
	}
	if k, err := KindOf(data); err == nil && k == KindSnapshotChunk {
		it.obj, it.err = DecodeSnapshotChunk(data)
		return false
	}
	if it.obj, it.err = Decode(data); it.err != nil {
		return false
	}
	if r.verified.Contains(it.c) {
		r.rememberVerified(it.c, it.obj, len(data))
		return false
	}
	return true
}

// manyWriter collects the objects of PutMany that passed their checks and
// writes them a batch at a time.
type manyWriter struct {
	r       *Registry
	ctx     context.Context
	res     []PutResult
	batch   []manyItem
	pending map[cid.Cid][]byte // the objects of batch by CID
}

// pendingKey marks the context of the checks of PutMany: its value is
// manyWriter.pending.
type pendingKey struct{}

// pendingObject returns the bytes of object c if a PutMany whose check
// runs in ctx is about to write it.
func pendingObject(ctx context.Context, c cid.Cid) ([]byte, bool) {
	m, _ := ctx.Value(pendingKey{}).(map[cid.Cid][]byte)
	data, ok := m[c]
	return data, ok
}

type manyItem struct {
	i       int // index in res
	it      *prepared
	ch      *Checked
	indexed bool // has index entries and a Stored event (not a chunk)
}

func (w *manyWriter) add(i int, it *prepared, ch *Checked, indexed bool) {
	w.batch = append(w.batch, manyItem{i, it, ch, indexed})
	w.pending[it.c] = it.data
}

// holds reports whether one of cs waits in the batch.
func (w *manyWriter) holds(cs []cid.Cid) bool {
	return slices.ContainsFunc(cs, func(c cid.Cid) bool {
		_, ok := w.pending[c]
		return ok
	})
}

// flush writes the batch and tells Config.Stored of its objects.
func (w *manyWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	batch := w.batch
	w.batch = nil
	clear(w.pending)
	if err := w.r.writeMany(w.ctx, batch); err != nil {
		return err
	}
	for _, m := range batch {
		w.res[m.i].Checked = m.ch
		if m.indexed {
			w.r.emit(m.ch, false)
		}
	}
	return nil
}

// writeMany stores batch and its index entries in one transaction, or in
// halves when Badger finds it too big.
func (r *Registry) writeMany(ctx context.Context, batch []manyItem) error {
	err := r.writeTxn(ctx, batch)
	if errors.Is(err, badger.ErrTxnTooBig) && len(batch) > 1 {
		half := len(batch) / 2
		if err := r.writeMany(ctx, batch[:half]); err != nil {
			return err
		}
		return r.writeMany(ctx, batch[half:])
	}
	return err
}

func (r *Registry) writeTxn(ctx context.Context, batch []manyItem) error {
	r.indexMu.RLock()
	defer r.indexMu.RUnlock()
	puts := make([]storage.ObjectPut, len(batch))
	var fns []func(*storage.IndexTxn) error
	var stripes []int
	for j, m := range batch {
		if !m.indexed {
			puts[j] = storage.ObjectPut{CID: m.it.c, Data: m.it.data, Links: m.it.obj.Links()}
			continue
		}
		puts[j] = objectPut(m.it.c, m.it.data, m.it.obj, m.ch.Datanet, true)
		fn, err := r.indexer(ctx, m.it.c, m.it.obj, m.ch.Datanet)
		if err != nil {
			return fmt.Errorf("store %s %s: %w", m.it.obj.Kind(), m.it.c, err)
		}
		fns = append(fns, fn)
		stripes = append(stripes, r.stripe(m.ch.Datanet, m.it.c))
	}
	// The stripes of every Datanet written, in one order, so that two
	// writers never wait for each other.
	slices.Sort(stripes)
	for _, s := range slices.Compact(stripes) {
		r.setMu[s].Lock()
		defer r.setMu[s].Unlock()
	}
	return r.store.PutObjectsIndexed(ctx, puts, func(tx *storage.IndexTxn) error {
		for _, fn := range fns {
			if err := fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
}
