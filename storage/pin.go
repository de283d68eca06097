package storage

import (
	"context"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Pin pins c recursively: GC keeps c and everything reachable from it
// through declared links. A raw-codec c names a shard, any other c an
// object; the error wraps ErrNotFound if that shard or object is not stored.
// Pinning twice is the same as pinning once.
func (s *Store) Pin(ctx context.Context, c cid.Cid) error {
	if !c.Defined() {
		return fmt.Errorf("pin: %w: undefined cid", ErrNotFound)
	}
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("pin %s: %w", c, err)
	}
	defer s.end()
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	target := objectRecordKey(c)
	if c.Type() == cid.Raw {
		// Serialize with a session rollback that may delete the shard.
		mu := s.shardLock(c.Hash())
		mu.Lock()
		defer mu.Unlock()
		target = shardDataKey(c.Hash())
	}
	err := s.update(func(txn *badger.Txn) error {
		ok, err := exists(txn, target)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		return txn.Set(pinKey(c), nil)
	})
	if err != nil {
		return fmt.Errorf("pin %s: %w", c, err)
	}
	return nil
}

// Unpin removes the pin of c; the error wraps ErrNotFound if c is not
// pinned. The content stays until GC finds it unreachable.
func (s *Store) Unpin(ctx context.Context, c cid.Cid) error {
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("unpin %s: %w", c, err)
	}
	defer s.end()
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	err := s.update(func(txn *badger.Txn) error {
		ok, err := exists(txn, pinKey(c))
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		return txn.Delete(pinKey(c))
	})
	if err != nil {
		return fmt.Errorf("unpin %s: %w", c, err)
	}
	return nil
}

// Pins returns the pinned CIDs in byte order.
func (s *Store) Pins(ctx context.Context) ([]cid.Cid, error) {
	return s.PinsPage(ctx, cid.Undef, math.MaxInt)
}

// PinsPage returns up to limit pinned CIDs in byte order, starting after
// the CID after (cid.Undef: from the first): a page reads only its keys.
func (s *Store) PinsPage(ctx context.Context, after cid.Cid, limit int) ([]cid.Cid, error) {
	if err := s.begin(ctx); err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	defer s.end()
	prefix := []byte{prefixPin}
	start := prefix
	if after.Defined() {
		start = append(pinKey(after), 0)
	}
	var pins []cid.Cid
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = prefix, false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(start); it.ValidForPrefix(prefix) && len(pins) < limit; it.Next() {
			c, err := cidFromKey(it.Item().Key())
			if err != nil {
				return err
			}
			pins = append(pins, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	return pins, nil
}

// IsPinned reports whether c itself is pinned (is a root). Content that is
// only reachable from a pin is kept by GC but is not reported as pinned.
func (s *Store) IsPinned(ctx context.Context, c cid.Cid) (bool, error) {
	if !c.Defined() {
		return false, nil
	}
	if err := s.begin(ctx); err != nil {
		return false, fmt.Errorf("is pinned %s: %w", c, err)
	}
	defer s.end()
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = exists(txn, pinKey(c))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("is pinned %s: %w", c, err)
	}
	return ok, nil
}
