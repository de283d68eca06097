package daemon

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// Bounds of an object fetch.
const (
	// maxFetchDepth bounds the chain of objects a fetch follows (a
	// snapshot's previous snapshots, a Datanet's versions).
	maxFetchDepth = 64
	// maxDeferredBytes bounds the objects of one level kept in memory
	// because they could not be stored yet (they need an object not stored
	// yet); past it only their CIDs are kept, and they are fetched again.
	maxDeferredBytes = 16 << 20
	// maxDeferredCIDs bounds those CIDs.
	maxDeferredCIDs = 1 << 20
	// maxSettleRounds bounds the rounds of fetching what deferred objects
	// report missing.
	maxSettleRounds = 8
	// findProvidersTimeout bounds the one provider lookup of a fetch.
	findProvidersTimeout = 20 * time.Second
	// providerGrace is how long a provider lookup goes on once it found
	// one provider.
	providerGrace = 200 * time.Millisecond
	// moreProvidersTimeout bounds the provider lookup of a fetch whose
	// root a connected peer had: more providers are welcome, not needed.
	moreProvidersTimeout = 2 * time.Second
	// maxConflictRetries bounds the retries of a Put that lost a
	// transaction conflict.
	maxConflictRetries = 16
	// fetchLogEvery is how often a long fetch logs its progress.
	fetchLogEvery = 5 * time.Second
)

// errTooManyDeferred ends a fetch whose objects mostly cannot be stored in
// the order they come: objectNeeds does not describe what they need.
var errTooManyDeferred = errors.New("too many objects wait for objects not fetched yet")

// objectFetch is one fetch of an object and of everything it needs stored
// before it (its Datanet, a snapshot's contributions, previous versions).
// The providers of the root are looked up once; every linked object is
// asked of them and of the peers of the root's Datanet, many at once
// (p2p.FetchObjects), level by level in dependency order, each level
// streamed from objectNeeds so that no level is held in memory.
type objectFetch struct {
	n     *Node
	root  cid.Cid
	peers []peer.ID // the root's providers, then the Datanet's topic peers, then the other connected peers
	nprov int       // how many of peers are the root's providers
	start time.Time

	objects, bytes atomic.Int64 // stored by this fetch
	logMu          sync.Mutex
	lastLog        time.Time // guarded by logMu
}

// deferredObject is an object fetched that could not be stored yet.
type deferredObject struct {
	c    cid.Cid
	data []byte
}

// fetchObject gets an object from the network with everything it needs
// (its Datanet, a snapshot's contributions...), and stores them all.
func (n *Node) fetchObject(ctx context.Context, c cid.Cid) error {
	_, err := n.fetchObjectGraph(ctx, c)
	return err
}

// fetchObjectGraph is fetchObject, returning the fetch for its peers and
// counts.
func (n *Node) fetchObjectGraph(ctx context.Context, root cid.Cid) (*objectFetch, error) {
	f := &objectFetch{n: n, root: root, start: time.Now()}
	// The root is asked of the connected peers while the DHT is asked who
	// provides it; when one of them has it, the lookup is cut short.
	connected := n.net.p2p.Host().Network().Peers()
	var data []byte
	if len(connected) > 0 {
		f.peers = connected
		data, _ = f.one(ctx, root)
	}
	wait := findProvidersTimeout
	if data != nil {
		wait = moreProvidersTimeout
	}
	f.peers = n.providers(ctx, root, wait)
	f.nprov = len(f.peers)
	for _, p := range connected {
		if !slices.Contains(f.peers, p) {
			f.peers = append(f.peers, p)
		}
	}
	if len(f.peers) == 0 {
		return f, fmt.Errorf("%w: no peer provides %s", storage.ErrNotFound, root)
	}
	if data == nil {
		var err error
		if data, err = f.one(ctx, root); err != nil {
			return f, err
		}
	}
	if obj, err := datanet.Decode(data); err == nil {
		f.preferTopicPeers(datanetOf(obj))
	}
	if err := f.settle(ctx, []deferredObject{{root, data}}, 0); err != nil {
		return f, err
	}
	if d := time.Since(f.start); d >= fetchLogEvery {
		n.log.Info("fetched objects", "root", root.String(), "objects", f.objects.Load(), "bytes", f.bytes.Load(),
			"took", d.Round(time.Millisecond))
	}
	return f, nil
}

// preferTopicPeers moves the connected peers of dn's topic ahead of the
// other connected peers (the root's providers stay first): they are the
// likeliest to hold the Datanet's objects.
func (f *objectFetch) preferTopicPeers(dn cid.Cid) {
	if !dn.Defined() {
		return
	}
	on := map[peer.ID]bool{}
	for _, p := range f.n.net.p2p.Peers() {
		if slices.ContainsFunc(p.Datanets, dn.Equals) {
			on[p.ID] = true
		}
	}
	rest := f.peers[f.nprov:]
	slices.SortStableFunc(rest, func(a, b peer.ID) int {
		switch {
		case on[a] == on[b]:
			return 0
		case on[a]:
			return -1
		}
		return 1
	})
}

// one fetches the bytes of one object, verified against c.
func (f *objectFetch) one(ctx context.Context, c cid.Cid) ([]byte, error) {
	var data []byte
	_, err := f.n.net.p2p.FetchObjects(ctx, slices.Values([]cid.Cid{c}), f.peers, func(_ cid.Cid, d []byte) error {
		data = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetch object %s: %w", c, err)
	}
	return data, nil
}

// put stores one object fetched. Objects come from a fetch asked for by
// CID, so a vote superseded by a newer one is taken too (as sync does).
//
// Objects of one Datanet stored at once write the same index keys (its
// counts), so Badger may refuse a transaction more often than the store
// retries it (badger.ErrConflict): it is tried again.
func (f *objectFetch) put(ctx context.Context, data []byte) error {
	ctx = datanet.AcceptingStale(ctx)
	c := storage.ObjectCID(cid.DagCBOR, data)
	_, err := f.n.registry.PutFetched(ctx, c, data) // a snapshot's chunks too
	for attempt := 0; errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries; attempt++ {
		f.n.metrics.fetchConflicts.Inc()
		_, err = f.n.registry.PutFetched(ctx, c, data)
	}
	if err != nil {
		return err
	}
	f.stored(data)
	return nil
}

// putMany stores objects fetched, as put does each, and returns each one's
// error (nil when stored). The error is a storage failure that stopped it.
func (f *objectFetch) putMany(ctx context.Context, data [][]byte) ([]error, error) {
	ctx = datanet.AcceptingStale(ctx)
	errs := make([]error, len(data))
	todo := make([]int, len(data))
	for i := range todo {
		todo[i] = i
	}
	for attempt := 0; len(todo) > 0; attempt++ {
		batch := make([][]byte, len(todo))
		for j, i := range todo {
			batch[j] = data[i]
		}
		res, err := f.n.registry.PutMany(ctx, batch)
		if err != nil && (!errors.Is(err, badger.ErrConflict) || attempt >= maxConflictRetries) {
			return nil, err
		}
		var again []int
		for j, r := range res {
			i := todo[j]
			switch {
			case r.Checked != nil:
				f.stored(data[i])
			case r.Err != nil:
				errs[i] = r.Err
			default:
				again = append(again, i) // not reached before the conflict
			}
		}
		if err != nil {
			f.n.metrics.fetchConflicts.Inc()
		}
		todo = again
	}
	return errs, nil
}

// stored counts an object stored by this fetch and logs the progress of a
// long one.
func (f *objectFetch) stored(data []byte) {
	f.objects.Add(1)
	f.bytes.Add(int64(len(data)))
	f.n.metrics.fetchedObjects.Inc()
	f.n.metrics.fetchedObjectBytes.Add(float64(len(data)))
	f.logMu.Lock()
	defer f.logMu.Unlock()
	if now := time.Now(); now.Sub(f.lastLog) >= fetchLogEvery {
		if !f.lastLog.IsZero() {
			f.n.log.Info("fetching objects", "root", f.root.String(), "objects", f.objects.Load(),
				"per_second", int(float64(f.objects.Load())/now.Sub(f.start).Seconds()))
		}
		f.lastLog = now
	}
}

// Bounds of the batches a fetch stores at once (registry.PutMany).
const (
	putBatchObjects = 256
	putBatchBytes   = 4 << 20
)

// level fetches and stores the objects need yields that are not stored
// yet, many at once and in any order; those that cannot be stored yet are
// settled once the rest is in.
func (f *objectFetch) level(ctx context.Context, need iter.Seq2[cid.Cid, error], depth int) error {
	var (
		seqErr     error
		mu         sync.Mutex
		later      []deferredObject // guarded by mu
		laterBytes int              // guarded by mu
		refetch    []cid.Cid        // guarded by mu
	)
	want := func(yield func(cid.Cid) bool) {
		for c, err := range need {
			if err == nil && c.Prefix().Codec == cid.Raw {
				continue // shards are the exchange's
			}
			var has bool
			if err == nil {
				has, err = f.n.registry.Has(ctx, c)
			}
			if err != nil {
				seqErr = err
				return
			}
			if !has && !yield(c) {
				return
			}
		}
	}
	// What cannot be stored yet is kept for settle (in memory up to
	// maxDeferredBytes, then as CIDs to fetch again).
	keep := func(c cid.Cid, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case laterBytes+len(data) <= maxDeferredBytes:
			later = append(later, deferredObject{c, data})
			laterBytes += len(data)
		case len(refetch) < maxDeferredCIDs:
			refetch = append(refetch, c)
		default:
			return fmt.Errorf("store %s: %w (%d)", c, errTooManyDeferred, len(later)+len(refetch))
		}
		return nil
	}
	// Objects are stored a batch at a time, each batch by the goroutine
	// that fills it while the others go on fetching.
	var (
		bmu      sync.Mutex
		buf      []deferredObject // guarded by bmu
		bufBytes int              // guarded by bmu
	)
	flush := func(batch []deferredObject) error {
		if len(batch) == 0 {
			return nil
		}
		data := make([][]byte, len(batch))
		for i, o := range batch {
			data[i] = o.data
		}
		errs, err := f.putMany(ctx, data)
		if err != nil {
			return fmt.Errorf("store %d objects: %w", len(batch), err)
		}
		for i, err := range errs {
			switch {
			case err == nil:
			case !datanet.CannotJudgeYet(err):
				return fmt.Errorf("store %s: %w", batch[i].c, err)
			default:
				if err := keep(batch[i].c, batch[i].data); err != nil {
					return err
				}
			}
		}
		return nil
	}
	_, err := f.n.net.p2p.FetchObjects(ctx, want, f.peers, func(c cid.Cid, data []byte) error {
		bmu.Lock()
		buf = append(buf, deferredObject{c, data})
		bufBytes += len(data)
		var batch []deferredObject
		if len(buf) >= putBatchObjects || bufBytes >= putBatchBytes {
			batch, buf, bufBytes = buf, nil, 0
		}
		bmu.Unlock()
		return flush(batch)
	})
	if err == nil {
		err = flush(buf) // FetchObjects has returned: no callback runs
	}
	// FetchObjects has waited for want's goroutine: seqErr is set.
	if seqErr != nil {
		return fmt.Errorf("list objects to fetch: %w", seqErr)
	}
	if err != nil {
		return err
	}
	if err := f.settle(ctx, later, depth); err != nil {
		return err
	}
	if len(refetch) > 0 {
		return f.level(ctx, cidValues(refetch), depth+1)
	}
	return nil
}

// settle stores objects fetched that could not be stored yet: it stores
// again those whose needs arrived since, fetches what the others need (as
// objectNeeds says for the first round, as Put reports missing after
// that) and tries again, while that makes progress.
func (f *objectFetch) settle(ctx context.Context, pending []deferredObject, depth int) error {
	for round := 0; len(pending) > 0; round++ {
		var (
			still   []deferredObject
			lastErr error
			missing = map[cid.Cid]struct{}{}
		)
		for _, o := range pending {
			err := f.put(ctx, o.data)
			switch {
			case err == nil:
				continue
			case !datanet.CannotJudgeYet(err):
				return fmt.Errorf("store %s: %w", o.c, err)
			}
			still, lastErr = append(still, o), err
			if round > 0 {
				for _, m := range datanet.MissingCIDs(err) {
					missing[m] = struct{}{}
				}
			}
		}
		if len(still) == 0 {
			return nil
		}
		stuck := round > 0 && len(missing) == 0
		if stuck || round >= maxSettleRounds || depth >= maxFetchDepth {
			return fmt.Errorf("store %s: %w", still[0].c, lastErr)
		}
		levels := []iter.Seq2[cid.Cid, error]{cidValues(sortedKeys(missing))}
		if round == 0 {
			levels = needsOf(ctx, f.n.registry, still)
		}
		for _, l := range levels {
			if err := f.level(ctx, l, depth+1); err != nil {
				return err
			}
		}
		pending = still
	}
	return nil
}

// needsOf returns the levels of what objects need: objectNeeds' levels for
// one object, one level of all their needs (each once) for several.
func needsOf(ctx context.Context, r *datanet.Registry, objs []deferredObject) []iter.Seq2[cid.Cid, error] {
	decoded := make([]datanet.Object, 0, len(objs))
	for _, o := range objs {
		if obj, err := datanet.Decode(o.data); err == nil {
			decoded = append(decoded, obj)
		}
	}
	if len(decoded) == 1 {
		return objectNeeds(ctx, r, decoded[0])
	}
	all := map[cid.Cid]struct{}{}
	for _, obj := range decoded {
		for _, l := range objectNeeds(ctx, r, obj) {
			for c, err := range l {
				if err != nil {
					return []iter.Seq2[cid.Cid, error]{errSeq(err)}
				}
				all[c] = struct{}{}
			}
		}
	}
	return []iter.Seq2[cid.Cid, error]{cidValues(sortedKeys(all))}
}

func sortedKeys(m map[cid.Cid]struct{}) []cid.Cid {
	out := make([]cid.Cid, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b cid.Cid) int { return strings.Compare(a.KeyString(), b.KeyString()) })
	return out
}

// cidValues yields cs without error.
func cidValues(cs []cid.Cid) iter.Seq2[cid.Cid, error] {
	return func(yield func(cid.Cid, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// errSeq yields err alone.
func errSeq(err error) iter.Seq2[cid.Cid, error] {
	return func(yield func(cid.Cid, error) bool) { yield(cid.Undef, err) }
}
