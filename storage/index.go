package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// The index key space holds the secondary indexes of this store's callers
// (the datanet registry's lists by status, time and kind), under the prefix
// x; keys and values are theirs. An index update can share the transaction
// of the object it indexes (PutObjectIndexed, Session.CommitIndexed), so a
// crash never leaves an object stored and not indexed, or the reverse. GC
// does not read or delete index keys: an index may name objects that GC
// has collected, and its readers skip those.

// IndexTxn reads, and in an update writes, the index key space within one
// Badger transaction. Keys given to it are relative to the index prefix.
// Values it returns are copies the caller may keep.
type IndexTxn struct {
	txn *badger.Txn
	// committed are the hooks of OnCommit, run once the transaction has
	// committed.
	committed []func()
}

// OnCommit runs fn once this transaction has committed, after the
// function that writes it has returned; never if it fails, and never in
// ViewIndex, which commits nothing. A transaction run again after a
// conflict starts with no hook: only the run that commits has its hooks
// run. Callers keep in memory what derives from
// their index (see the datanet registry's sync sums) with it; fn must be
// quick and must not start another transaction of this store that waits
// for the hook's own caller.
func (t *IndexTxn) OnCommit(fn func()) { t.committed = append(t.committed, fn) }

// updateIndexed runs fn in s.update with an IndexTxn of its transaction
// and then the OnCommit hooks of the run that committed.
func (s *Store) updateIndexed(fn func(txn *badger.Txn, itx *IndexTxn) error) error {
	var itx *IndexTxn
	err := s.update(func(txn *badger.Txn) error {
		itx = &IndexTxn{txn: txn}
		return fn(txn, itx)
	})
	if err != nil {
		return err
	}
	for _, h := range itx.committed {
		h()
	}
	return nil
}

func indexKey(key []byte) []byte {
	return append([]byte{prefixIndex}, key...)
}

// Get returns the value of key, or an error wrapping ErrNotFound.
func (t *IndexTxn) Get(key []byte) ([]byte, error) {
	item, err := t.txn.Get(indexKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("index key %x: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// Set sets key to value.
func (t *IndexTxn) Set(key, value []byte) error {
	return t.txn.Set(indexKey(key), value)
}

// Delete deletes key; deleting a missing key is not an error.
func (t *IndexTxn) Delete(key []byte) error {
	return t.txn.Delete(indexKey(key))
}

// Scan calls fn for the keys that start with prefix, in key order from
// the first key at or after start (start "" or nil: from the first), or in
// reverse order from the last key at or before start when reverse is set
// (start nil: from the last). It stops when fn returns false or an error.
// fn gets the key relative to the index prefix; key and value are valid
// only during the call.
func (t *IndexTxn) Scan(prefix, start []byte, reverse bool, fn func(key, value []byte) (bool, error)) error {
	full := indexKey(prefix)
	opts := badger.DefaultIteratorOptions
	opts.Prefix = full
	opts.Reverse = reverse
	opts.PrefetchValues = false
	it := t.txn.NewIterator(opts)
	defer it.Close()
	seek := indexKey(start)
	switch {
	case !reverse && bytes.Compare(seek, full) < 0:
		seek = full
	case reverse && (start == nil || !bytes.HasPrefix(seek, full)):
		// Seek in reverse lands on the last key <= seek: past every key
		// with the prefix.
		seek = append(bytes.Clone(full), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	}
	for it.Seek(seek); it.ValidForPrefix(full); it.Next() {
		item := it.Item()
		var more bool
		err := item.Value(func(v []byte) error {
			var err error
			more, err = fn(item.Key()[1:], v)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ViewIndex runs fn in a read-only transaction.
func (s *Store) ViewIndex(ctx context.Context, fn func(*IndexTxn) error) error {
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	defer s.end()
	return s.db.View(func(txn *badger.Txn) error { return fn(&IndexTxn{txn: txn}) })
}

// UpdateIndex runs fn in a read-write transaction and commits it. fn may
// run more than once (after a conflict with a concurrent transaction), so
// it must have no effect outside the transaction. A transaction holds a
// bounded number of writes (badger.ErrTxnTooBig): write large rebuilds in
// several calls.
func (s *Store) UpdateIndex(ctx context.Context, fn func(*IndexTxn) error) error {
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("update index: %w", err)
	}
	defer s.end()
	return s.updateIndexed(func(_ *badger.Txn, itx *IndexTxn) error { return fn(itx) })
}

// Object returns the bytes of object c as this transaction sees them (an
// object written earlier in it included), checked against c, or an error
// wrapping ErrNotFound.
func (t *IndexTxn) Object(c cid.Cid) ([]byte, error) {
	item, err := t.txn.Get(objectDataKey(c))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("object %s: %w", c, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	data, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	if err := checkStoredObject(c, data); err != nil {
		return nil, fmt.Errorf("object %s: %w", c, err)
	}
	return data, nil
}

// ObjectPut is one object of PutObjectsIndexed.
type ObjectPut struct {
	CID   cid.Cid
	Data  []byte
	Links []cid.Cid
	Pin   bool
	// KeptBy, if defined, is a link of Links to an object: GC keeps this
	// object while it keeps KeptBy, with no pin of its own (a vote is kept
	// while the contribution it votes on is). A record that names one
	// keeps it when stored again without.
	KeptBy cid.Cid
	// Unlisted are links of Links whose reverse key (b) is not written:
	// Backlinks of them does not list this object. A caller that lists
	// the objects linking to them in an index of its own (the registry
	// does for a Datanet's objects: its sync set) spares a key per object.
	// The record keeps every link.
	Unlisted []cid.Cid
}

// PutObjectsIndexed stores many objects and the index writes of fn in one
// transaction: all of them or none. fn may run more than once (see
// UpdateIndex). A transaction holds a bounded number of writes: it fails
// with an error wrapping badger.ErrTxnTooBig when they do not fit, and the
// caller writes fewer at a time.
func (s *Store) PutObjectsIndexed(ctx context.Context, puts []ObjectPut, fn func(*IndexTxn) error) error {
	if err := s.putObjects(ctx, puts, fn); err != nil {
		return fmt.Errorf("put %d objects: %w", len(puts), err)
	}
	return nil
}

// PutObjectIndexed is PutObject of p, pinning it too when p.Pin is set,
// with the index writes of fn in the same transaction: the object and its
// index entries are stored together or not at all. fn may run more than
// once (see UpdateIndex).
func (s *Store) PutObjectIndexed(ctx context.Context, p ObjectPut, fn func(*IndexTxn) error) error {
	if err := s.putObjects(ctx, []ObjectPut{p}, fn); err != nil {
		return fmt.Errorf("put object %s: %w", p.CID, err)
	}
	return nil
}

func (s *Store) putObjects(ctx context.Context, puts []ObjectPut, fn func(*IndexTxn) error) error {
	for _, p := range puts {
		if err := checkPut(p); err != nil {
			return err
		}
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.end()
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	return s.updateIndexed(func(txn *badger.Txn, itx *IndexTxn) error {
		for _, p := range puts {
			if err := putObject(txn, p); err != nil {
				return err
			}
			if p.Pin {
				if err := txn.Set(pinKey(p.CID), nil); err != nil {
					return err
				}
			}
		}
		if fn != nil {
			return fn(itx)
		}
		return nil
	})
}
