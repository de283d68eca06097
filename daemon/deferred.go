package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/openledger/openledger/p2p"
	"github.com/openledger/openledger/storage"
)

// deferredStore is p2p's DeferredStore: the objects sync received and
// could not judge yet (a vote before its contribution, a contribution
// before its Datanet), kept on disk in the store's index key space until
// what they wait for arrives. It holds at most limit bytes, counted with
// an estimate of each entry's keys; to take a new object it drops the
// oldest ones, and it drops what has waited longer than ttl. A dropped
// object is learned again from a later reconciliation.
//
// Keys, under the index key space (storage.IndexTxn), all starting with
// 'w' (package datanet's prefixes are upper case and '#'):
//
//	w o <cid>              → record: uint64 arrival (Unix ns), cid(set),
//	                         bytes(from peer), uvarint(n) n×cid(waits),
//	                         then the object's bytes; cid and bytes are
//	                         uvarint(len) and the bytes (len 0: cid.Undef)
//	w t <arrival> <cid>    → empty: the objects by arrival, oldest first
//	w w <wait> <cid>       → empty: <cid> waits for <wait>
//	w b                    → uint64 big-endian: the bytes counted
type deferredStore struct {
	s     *storage.Store
	limit int64         // bytes counted at most
	ttl   time.Duration // longest wait
	now   func() time.Time
	// mu serialises the writes, which all read and write the byte count.
	mu sync.Mutex
	// count is the number of objects kept (once counted: counted), so
	// that forgetting an object is free while none is kept.
	count    atomic.Int64
	counted  sync.Once
	countErr error
	// names has every CID a record is kept under or waits for (filled
	// when counted), so that Deferred and Waiting read the store only for
	// the CIDs that may have an entry: most objects stored were never
	// deferred, and nothing waits for most.
	names *cidFilter
	// swept is when Defer last dropped what had waited too long, and
	// oldest the arrival time no record kept is older than (as far as
	// this process knows): Defer reads the time index only to make room or
	// once in a while to expire, and from oldest on, not over the
	// deletions before it.
	swept  time.Time // guarded by mu
	oldest int64     // guarded by mu
}

// Bounds of the deferred store.
const (
	// DefaultDeferredBytes bounds the bytes of deferred objects a node
	// keeps for sync (their records and keys counted).
	DefaultDeferredBytes = 64 << 20
	// DeferredTTL is how long a deferred object waits at most.
	DeferredTTL = time.Hour
	// maxDeferredObject: larger objects are not deferred (a Badger
	// transaction holds a bounded number of bytes); sync fetches them
	// again once what they need is here.
	maxDeferredObject = 4 << 20
	// deferKeyCost is what each key is counted for beyond its bytes
	// (Badger's per-entry overhead, roughly).
	deferKeyCost = 32
	// maxEvictions bounds the objects one Defer drops.
	maxEvictions = 1024
)

const (
	dfPrefix = 'w'
	dfObject = 'o'
	dfTime   = 't'
	dfWait   = 'w'
	dfBytes  = 'b'
)

func newDeferredStore(s *storage.Store, limit int64) *deferredStore {
	return &deferredStore{s: s, limit: limit, ttl: DeferredTTL, now: time.Now, names: newCIDFilter(limit)}
}

// cidFilter is a counting filter over CIDs in fixed memory: has(c) is
// true while c was added more times than removed, and sometimes
// otherwise (another CID shares its counter). A counter that reaches its
// top stays there. Its hash is seeded at random, so that peers cannot
// choose CIDs that share counters.
type cidFilter struct {
	seed   maphash.Seed
	mu     sync.Mutex
	counts []uint8 // guarded by mu
}

// newCIDFilter returns a filter sized for the records of a deferred
// store of limit bytes: a counter for every 16 bytes (a record costs more
// than 150), at least 2^16, a power of two.
func newCIDFilter(limit int64) *cidFilter {
	n := 1 << 16
	for int64(n) < limit/16 && n < 1<<26 {
		n <<= 1
	}
	return &cidFilter{seed: maphash.MakeSeed(), counts: make([]uint8, n)}
}

func (f *cidFilter) slot(c cid.Cid) uint64 {
	return maphash.String(f.seed, c.KeyString()) & uint64(len(f.counts)-1)
}

// add counts every name of r: its CID and what it waits for.
func (f *cidFilter) add(r *deferredRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range r.names() {
		if i := f.slot(c); f.counts[i] < math.MaxUint8 {
			f.counts[i]++
		}
	}
}

// remove undoes add(r).
func (f *cidFilter) remove(r *deferredRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range r.names() {
		if i := f.slot(c); f.counts[i] > 0 && f.counts[i] < math.MaxUint8 {
			f.counts[i]--
		}
	}
}

func (f *cidFilter) has(c cid.Cid) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[f.slot(c)] > 0
}

func dfKey(kind byte, parts ...[]byte) []byte {
	k := []byte{dfPrefix, kind}
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be64(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }

// deferredRecord is an object kept, as stored.
type deferredRecord struct {
	p2p.DeferredObject
	arrival int64 // Unix ns
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func (r *deferredRecord) encode() []byte {
	b := make([]byte, 0, 8+64+len(r.Data))
	b = binary.BigEndian.AppendUint64(b, uint64(r.arrival))
	var set []byte
	if r.Set.Defined() {
		set = r.Set.Bytes()
	}
	b = appendBytes(b, set)
	b = appendBytes(b, []byte(r.From))
	b = binary.AppendUvarint(b, uint64(len(r.Waits)))
	for _, w := range r.Waits {
		b = appendBytes(b, w.Bytes())
	}
	return append(b, r.Data...)
}

var errBadRecord = fmt.Errorf("%w: deferred object record", storage.ErrCorrupt)

func decodeDeferred(c cid.Cid, b []byte) (*deferredRecord, error) {
	r := &deferredRecord{DeferredObject: p2p.DeferredObject{CID: c}}
	if len(b) < 8 {
		return nil, errBadRecord
	}
	r.arrival = int64(binary.BigEndian.Uint64(b))
	b = b[8:]
	field := func() ([]byte, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, false
		}
		v := b[w : w+int(n)]
		b = b[w+int(n):]
		return v, true
	}
	set, ok := field()
	if !ok {
		return nil, errBadRecord
	}
	if len(set) > 0 {
		var err error
		if r.Set, err = cid.Cast(set); err != nil {
			return nil, errBadRecord
		}
	}
	from, ok := field()
	if !ok {
		return nil, errBadRecord
	}
	r.From = peer.ID(from)
	n, w := binary.Uvarint(b)
	if w <= 0 || n > p2p.MaxWaits {
		return nil, errBadRecord
	}
	b = b[w:]
	for range n {
		v, ok := field()
		if !ok {
			return nil, errBadRecord
		}
		wc, err := cid.Cast(v)
		if err != nil {
			return nil, errBadRecord
		}
		r.Waits = append(r.Waits, wc)
	}
	r.Data = bytes.Clone(b)
	return r, nil
}

// cost is what r counts for: its record and keys.
func (r *deferredRecord) cost(rec []byte) int64 {
	c := len(r.CID.Bytes())
	n := (2 + c + len(rec) + deferKeyCost) + (2 + 8 + c + deferKeyCost)
	for _, w := range r.Waits {
		n += 2 + len(w.Bytes()) + c + deferKeyCost
	}
	return int64(n)
}

// names returns the CIDs r is kept under or waits for.
func (r *deferredRecord) names() []cid.Cid {
	return append([]cid.Cid{r.CID}, r.Waits...)
}

// keys returns the time and wait keys of r.
func (r *deferredRecord) keys() [][]byte {
	c := r.CID.Bytes()
	ks := [][]byte{dfKey(dfTime, be64(uint64(r.arrival)), c)}
	for _, w := range r.Waits {
		ks = append(ks, dfKey(dfWait, w.Bytes(), c))
	}
	return ks
}

func readCount(tx *storage.IndexTxn) (int64, error) {
	v, err := tx.Get(dfKey(dfBytes))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	case len(v) != 8:
		return 0, fmt.Errorf("%w: deferred byte count", storage.ErrCorrupt)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// get reads the record of c within tx, nil if none.
func getDeferred(tx *storage.IndexTxn, c cid.Cid) (*deferredRecord, []byte, error) {
	v, err := tx.Get(dfKey(dfObject, c.Bytes()))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	r, err := decodeDeferred(c, v)
	return r, v, err
}

// drop deletes r's keys within tx and returns what it counted for.
func dropDeferred(tx *storage.IndexTxn, r *deferredRecord, rec []byte) (int64, error) {
	if err := tx.Delete(dfKey(dfObject, r.CID.Bytes())); err != nil {
		return 0, err
	}
	for _, k := range r.keys() {
		if err := tx.Delete(k); err != nil {
			return 0, err
		}
	}
	return r.cost(rec), nil
}

// Defer keeps o, dropping what waited too long and, to make room, the
// oldest objects kept; it keeps nothing if o is stored.
func (d *deferredStore) Defer(ctx context.Context, o p2p.DeferredObject) (bool, error) {
	if len(o.Data) > maxDeferredObject || len(o.Waits) > p2p.MaxWaits {
		return false, nil
	}
	now := d.now()
	r := &deferredRecord{DeferredObject: o, arrival: now.UnixNano()}
	rec := r.encode()
	size := r.cost(rec)
	if size > d.limit {
		return false, nil
	}
	d.any(ctx) // count what is kept before changing it
	d.mu.Lock()
	defer d.mu.Unlock()
	// Stored meanwhile (another session, gossip)? Then there is nothing to
	// keep. Checked under mu: whoever stores it forgets it under mu after.
	if has, err := d.s.HasObject(ctx, o.CID); err != nil || has {
		return false, err
	}
	var (
		kept      bool
		delta     int64
		sweep     bool
		newOldest int64
		dropped   []*deferredRecord // the records the transaction deletes
	)
	d.names.add(r) // before it can be read: undone below if it is not kept
	err := d.s.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
		kept, sweep, newOldest, dropped = false, false, 0, dropped[:0]
		total, err := readCount(tx)
		if err != nil {
			return err
		}
		delta = 0
		old, oldRec, err := getDeferred(tx, o.CID)
		if err != nil {
			return err
		}
		if old != nil {
			freed, err := dropDeferred(tx, old, oldRec)
			if err != nil {
				return err
			}
			total -= freed
			delta--
			dropped = append(dropped, old)
		}
		// The oldest first: those past their time, then as many as the
		// new object needs room for.
		expired := now.Add(-d.ttl).UnixNano()
		if now.Sub(d.swept) < d.ttl/4 {
			expired = math.MinInt64 // not time to expire yet
		} else {
			sweep = true
		}
		need := total + size - d.limit
		if need <= 0 && !sweep {
			return d.keep(tx, o, r, rec, size, total, &kept, &delta)
		}
		type victim struct {
			key []byte
			r   *deferredRecord
			rec []byte
		}
		var victims []victim
		start := dfKey(dfTime, be64(uint64(d.oldest)))
		err = tx.Scan(dfKey(dfTime), start, false, func(key, _ []byte) (bool, error) {
			if len(key) < 2+8 {
				return false, fmt.Errorf("%w: deferred time key %x", storage.ErrCorrupt, key)
			}
			at := int64(binary.BigEndian.Uint64(key[2:]))
			if (at >= expired && need <= 0) || len(victims) >= maxEvictions {
				newOldest = at
				return false, nil
			}
			c, err := cid.Cast(key[2+8:])
			if err != nil {
				return false, fmt.Errorf("%w: deferred time key %x", storage.ErrCorrupt, key)
			}
			v, vRec, err := getDeferred(tx, c)
			if err != nil {
				return false, err
			}
			victims = append(victims, victim{bytes.Clone(key), v, vRec})
			if v != nil {
				need -= v.cost(vRec)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, v := range victims {
			if v.r == nil {
				// A time key without its record: drop it alone.
				if err := tx.Delete(v.key); err != nil {
					return err
				}
				continue
			}
			freed, err := dropDeferred(tx, v.r, v.rec)
			if err != nil {
				return err
			}
			total -= freed
			delta--
			dropped = append(dropped, v.r)
		}
		return d.keep(tx, o, r, rec, size, total, &kept, &delta)
	})
	if err != nil || !kept {
		d.names.remove(r)
	}
	if err != nil {
		return false, fmt.Errorf("defer %s: %w", o.CID, err)
	}
	for _, v := range dropped {
		d.names.remove(v)
	}
	if sweep {
		d.swept = now
	}
	if kept && r.arrival < d.oldest {
		newOldest = r.arrival // the clock went back: look from there
		d.oldest = r.arrival
	}
	if newOldest > d.oldest {
		d.oldest = newOldest
	}
	d.count.Add(delta)
	return kept, nil
}

// keep writes r (o, encoded as rec, counting size) within tx if it fits
// beside the total counted, and the new total.
func (d *deferredStore) keep(tx *storage.IndexTxn, o p2p.DeferredObject, r *deferredRecord, rec []byte, size, total int64, kept *bool, delta *int64) error {
	if total+size <= d.limit {
		if err := tx.Set(dfKey(dfObject, o.CID.Bytes()), rec); err != nil {
			return err
		}
		for _, k := range r.keys() {
			if err := tx.Set(k, nil); err != nil {
				return err
			}
		}
		total += size
		*kept = true
		*delta++
	}
	return tx.Set(dfKey(dfBytes), be64(uint64(max(total, 0))))
}

// any reports whether any object may be kept, counting them the first
// time (a failed count says yes).
func (d *deferredStore) any(ctx context.Context) bool {
	d.counted.Do(func() {
		var n int64
		d.countErr = d.s.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			prefix := dfKey(dfObject)
			return tx.Scan(prefix, nil, false, func(key, v []byte) (bool, error) {
				c, err := cid.Cast(key[len(prefix):])
				if err != nil {
					return false, fmt.Errorf("%w: deferred object key %x", storage.ErrCorrupt, key)
				}
				r, err := decodeDeferred(c, v)
				if err != nil {
					return false, err
				}
				d.names.add(r)
				n++
				return true, nil
			})
		})
		d.count.Add(n)
	})
	return d.count.Load() > 0 || d.countErr != nil
}

// mayHold reports whether a record may be kept under c or wait for c: it
// is false for most CIDs without a read.
func (d *deferredStore) mayHold(ctx context.Context, c cid.Cid) bool {
	return d.any(ctx) && (d.countErr != nil || d.names.has(c))
}

// Deferred returns the object kept under c, unless it has waited too long.
func (d *deferredStore) Deferred(ctx context.Context, c cid.Cid) (p2p.DeferredObject, bool, error) {
	if !d.mayHold(ctx, c) {
		return p2p.DeferredObject{}, false, nil
	}
	var r *deferredRecord
	err := d.s.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		var err error
		r, _, err = getDeferred(tx, c)
		return err
	})
	if err != nil || r == nil || d.now().Sub(time.Unix(0, r.arrival)) > d.ttl {
		return p2p.DeferredObject{}, false, err
	}
	return r.DeferredObject, true, nil
}

// Waiting calls fn with the objects kept that wait for c.
func (d *deferredStore) Waiting(ctx context.Context, c cid.Cid, fn func(cid.Cid) (bool, error)) error {
	if !d.mayHold(ctx, c) {
		return nil
	}
	prefix := dfKey(dfWait, c.Bytes())
	return d.s.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, nil, false, func(key, _ []byte) (bool, error) {
			w, err := cid.Cast(key[len(prefix):])
			if err != nil {
				return false, fmt.Errorf("%w: deferred wait key %x", storage.ErrCorrupt, key)
			}
			return fn(w)
		})
	})
}

// Undefer forgets the object kept under c.
func (d *deferredStore) Undefer(ctx context.Context, c cid.Cid) error {
	if _, ok, err := d.Deferred(ctx, c); err != nil || !ok {
		return err // most objects stored were never deferred: no read, no write
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var dropped *deferredRecord
	err := d.s.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
		dropped = nil
		r, rec, err := getDeferred(tx, c)
		if err != nil || r == nil {
			return err
		}
		dropped = r
		total, err := readCount(tx)
		if err != nil {
			return err
		}
		freed, err := dropDeferred(tx, r, rec)
		if err != nil {
			return err
		}
		return tx.Set(dfKey(dfBytes), be64(uint64(max(total-freed, 0))))
	})
	if err == nil && dropped != nil {
		d.count.Add(-1)
		d.names.remove(dropped)
	}
	return err
}

// bytes returns the bytes counted.
func (d *deferredStore) bytes(ctx context.Context) (int64, error) {
	var n int64
	err := d.s.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		var err error
		n, err = readCount(tx)
		return err
	})
	return n, err
}
