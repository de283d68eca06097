package datanet

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// The bucket sums of the sync sets are kept in memory, not in the index
// (index version 4 on): they derive from the sets' keys (Y). Stored, they
// cost every object stored in a set two reads and two rewrites, and a
// read of a rewritten key walks every level of Badger's tree (each holds
// a version of it): about 10 µs a read at 10^6 objects, 7 % of a
// snapshot fetch's CPU, and two more keys per object through every
// compaction. A set's sums are summed from its keys the first time they
// are asked for (one scan of the keys: 1.2 s for the 3·10^6 objects of a
// Datanet of 10^6 contributions, 0.11 s for 3·10^5),
// kept up to date after that by every transaction that adds a key to the
// set (an OnCommit hook), and dropped, least recently used first, when
// more than maxLoadedSets sets are held. Keys are only ever added to a
// set; deletePrefix, the one place that deletes index keys wholesale,
// drops every set's sums.
//
// A set is summed in one read transaction, begun while r.indexMu is held
// for writing, as is the set's entry made: every transaction that stores
// an object holds it for reading until its hooks have run. So a key
// committed before the scan's snapshot had its hook run before the entry
// existed (a no-op), and is counted by the scan; a key committed after it
// is not seen by the scan, and its hook adds it, to pending while the
// scan runs.

// maxLoadedSets bounds the sets whose sums are held, 2.6 MB each.
const maxLoadedSets = 16

// setSums are the bucket sums of one sync set.
type setSums struct {
	coarse [256]SyncBucket
	fine   [1 << 16]SyncBucket
}

func (s *setSums) add(k [32]byte) {
	one := SyncBucket{Sum: k, Count: 1}
	s.coarse[k[0]] = s.coarse[k[0]].plus(one)
	b := uint16(k[0])<<8 | uint16(k[1])
	s.fine[b] = s.fine[b].plus(one)
}

func (b SyncBucket) plus(d SyncBucket) SyncBucket {
	return SyncBucket{Sum: add256(b.Sum, d.Sum), Count: b.Count + d.Count}
}

// summing is a set whose keys are being summed.
type summing struct {
	// pending are the keys added while the set is summed, which the scan
	// does not see.
	pending [][32]byte
	done    chan struct{} // closed when the scan has ended
	reset   bool          // set when the sums were dropped while summed
}

// syncSums holds the sums of the sync sets in use.
type syncSums struct {
	mu      sync.Mutex
	held    *simplelru.LRU[cid.Cid, *setSums] // guarded by mu; made on first use
	summing map[cid.Cid]*summing              // guarded by mu
}

// added records that key k was added to set by a transaction that has
// committed (its OnCommit hook).
func (ss *syncSums) added(set cid.Cid, k [32]byte) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if sm := ss.summing[set]; sm != nil {
		sm.pending = append(sm.pending, k)
	} else if s, ok := ss.lru().Peek(set); ok {
		s.add(k)
	} // else not held: the key is counted when the set is summed
}

// lru returns the held sums, made on first use. ss.mu is held.
func (ss *syncSums) lru() *simplelru.LRU[cid.Cid, *setSums] {
	if ss.held == nil {
		ss.held, _ = simplelru.NewLRU[cid.Cid, *setSums](maxLoadedSets, nil) // errs only on a size <= 0
		ss.summing = map[cid.Cid]*summing{}
	}
	return ss.held
}

// reset drops the sums of every set (keys were deleted). The scan of a
// set being summed may have seen the deleted keys: it is done again.
func (ss *syncSums) reset() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.lru().Purge()
	for set, sm := range ss.summing {
		sm.reset = true
		delete(ss.summing, set)
	}
}

// readSums calls fn with the sums of set, summed first if they are not
// held. fn runs with the sums' lock held and must not keep s. The caller
// must not hold r.indexMu.
func (r *Registry) readSums(ctx context.Context, set cid.Cid, fn func(s *setSums)) error {
	ss := &r.sums
	for {
		ss.mu.Lock()
		if s, ok := ss.lru().Get(set); ok {
			fn(s)
			ss.mu.Unlock()
			return nil
		}
		if sm := ss.summing[set]; sm != nil { // by another call
			ss.mu.Unlock()
			select {
			case <-sm.done:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ss.mu.Unlock()
		// The entry is made with r.indexMu held, so that the hooks of
		// every transaction committed before the scan's snapshot have
		// run (and found no entry).
		r.indexMu.Lock()
		var once sync.Once
		unlock := func() { once.Do(r.indexMu.Unlock) }
		ss.mu.Lock()
		if ss.summing[set] != nil || ss.lru().Contains(set) { // another call got there first
			ss.mu.Unlock()
			unlock()
			continue
		}
		sm := &summing{done: make(chan struct{})}
		ss.summing[set] = sm
		ss.mu.Unlock()
		sums, err := r.sumSet(ctx, set, unlock)
		unlock()
		ss.mu.Lock()
		close(sm.done)
		if ss.summing[set] == sm {
			delete(ss.summing, set)
		}
		switch {
		case err != nil:
			ss.mu.Unlock()
			return err
		case sm.reset:
			ss.mu.Unlock()
			continue // its keys changed while summed: again
		}
		for _, k := range sm.pending {
			sums.add(k)
		}
		ss.lru().Add(set, sums)
		fn(sums)
		ss.mu.Unlock()
		return nil
	}
}

// sumSet sums the keys of set in one read transaction, and calls unlock
// once the transaction's snapshot is taken.
func (r *Registry) sumSet(ctx context.Context, set cid.Cid, unlock func()) (*setSums, error) {
	sums := new(setSums)
	prefix := ixKey(ixSyncKey, set.Bytes())
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		unlock()
		return tx.Scan(prefix, nil, false, func(key, _ []byte) (bool, error) {
			if len(key) != len(prefix)+32 {
				return false, fmt.Errorf("%w: sync key %x", storage.ErrCorrupt, key)
			}
			sums.add([32]byte(key[len(prefix):]))
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sum the sync set of %s: %w", set, err)
	}
	return sums, nil
}
