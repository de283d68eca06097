package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// PutShard stores data as a shard and returns its CID (see ShardCID). It is
// idempotent; only a shard not already stored counts against the quota. If
// the stored copy is damaged, it is replaced, so storing a good copy again
// repairs a fault found by Verify (every way of storing a shard does).
//
// A shard stored this way is kept only while an object links to it, a pin
// names it or a session holds it: otherwise the next GC removes it. Use a
// Session to write shards for an object not yet stored.
func (s *Store) PutShard(ctx context.Context, data []byte) (cid.Cid, error) {
	if err := checkShardSize(len(data)); err != nil {
		return cid.Undef, fmt.Errorf("put shard: %w", err)
	}
	if err := s.begin(ctx); err != nil {
		return cid.Undef, fmt.Errorf("put shard: %w", err)
	}
	defer s.end()
	mh := sha256Multihash(data)
	c := cid.NewCidV1(cid.Raw, mh)
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	if err := s.storeShard(mh, data, nil); err != nil {
		return cid.Undef, fmt.Errorf("put shard %s: %w", c, err)
	}
	return c, nil
}

// storeShard stores data under its multihash mh unless an intact copy is
// already stored, charging new bytes to ss (nil for none), and records that
// ss holds the shard. data must hash to mh (the caller has hashed or
// verified it), so a stored copy is intact when it equals data: a damaged
// one is replaced. The caller holds s.gcMu for reading.
func (s *Store) storeShard(mh multihash.Multihash, data []byte, ss *Session) error {
	return s.storeShards([]chunk{{data: data, mh: mh}}, ss)
}

// storeShards is storeShard for several shards in one transaction: all are
// stored or none. The batch must fit in one transaction (see
// chunkBatchBytes).
func (s *Store) storeShards(batch []chunk, ss *Session) error {
	unlock := s.lockShards(batch)
	defer unlock()

	txn := s.db.NewTransaction(true)
	defer txn.Discard()

	// Usage changes to undo if the transaction does not commit.
	type charge struct {
		n, taken int64
		repair   bool
	}
	var charges []charge
	undo := func() {
		for _, c := range charges {
			if c.repair {
				s.addUsed(-c.n)
			} else {
				s.refund(ss, c.n, c.taken)
			}
		}
	}
	for _, c := range batch {
		// Earlier shards of the batch are visible here as pending writes,
		// so a shard repeated within a batch is charged once.
		oldSize, stored, err := shardSize(txn, c.mh)
		if err != nil {
			undo()
			return err
		}
		write := !stored
		if stored {
			// Comparing is cheaper than hashing, and as sure: data
			// hashes to c.mh.
			same, err := s.shardEquals(txn, c.mh, c.data)
			if err != nil {
				undo()
				return err
			}
			write = !same
		}
		n := int64(len(c.data))
		switch {
		case !write:
		case stored:
			// A repair: usage moves by the size difference, if any,
			// without a quota check, since the shard was already paid for.
			s.addUsed(n - oldSize)
			charges = append(charges, charge{n: n - oldSize, repair: true})
		default:
			taken, err := s.charge(ss, n)
			if err != nil {
				undo()
				return err
			}
			charges = append(charges, charge{n: n, taken: taken})
		}
		if !write {
			oldSize = 0
		}
		if err := s.stageShard(txn, c.mh, c.data, write, !stored, oldSize, ss); err != nil {
			undo()
			return err
		}
	}
	if err := txn.Commit(); err != nil {
		undo()
		return err
	}
	return nil
}

// lockShards locks the stripes of the batch's shards, in stripe order so
// that concurrent batches cannot deadlock, and returns the unlock function.
func (s *Store) lockShards(batch []chunk) func() {
	if len(batch) == 1 {
		mu := s.shardLock(batch[0].mh)
		mu.Lock()
		return mu.Unlock
	}
	var stripes [len(s.shardMu)]bool
	for _, c := range batch {
		stripes[c.mh[len(c.mh)-1]] = true
	}
	for i, ok := range stripes {
		if ok {
			s.shardMu[i].Lock()
		}
	}
	return func() {
		for i, ok := range stripes {
			if ok {
				s.shardMu[i].Unlock()
			}
		}
	}
}

// stageShard adds to txn the writes of storeShard. oldSize is the size of
// the copy being replaced, if any.
func (s *Store) stageShard(txn *badger.Txn, mh multihash.Multihash, data []byte, write, created bool, oldSize int64, ss *Session) error {
	if write {
		if oldSize > 0 {
			if err := s.deleteShardData(txn.Delete, mh, oldSize); err != nil {
				return err
			}
		}
		if err := s.setShardData(txn, mh, data); err != nil {
			return err
		}
		if err := txn.Set(shardSizeKey(mh), encodeSize(len(data))); err != nil {
			return err
		}
	}
	if ss == nil {
		return nil
	}
	tk := sessionShardKey(ss.id, mh)
	held, err := exists(txn, tk)
	if err != nil || held {
		// Keep the flags of the first write of this shard in this session.
		return err
	}
	var flags byte
	if created {
		flags = sessionCreatedShard
	}
	if err := txn.Set(tk, []byte{flags}); err != nil {
		return err
	}
	return txn.Set(shardSessionKey(mh, ss.id), nil)
}

// setShardData stages the bytes of shard mh: one value on disk, segments in
// memory.
func (s *Store) setShardData(txn *badger.Txn, mh []byte, data []byte) error {
	if s.segment == 0 || len(data) <= s.segment {
		return txn.Set(shardDataKey(mh), data)
	}
	for i, off := 0, 0; off < len(data); i, off = i+1, off+s.segment {
		if err := txn.Set(shardSegmentKey(mh, i), data[off:min(off+s.segment, len(data))]); err != nil {
			return err
		}
	}
	return nil
}

// deleteShardData deletes with del the bytes of shard mh of the given size.
func (s *Store) deleteShardData(del func(key []byte) error, mh []byte, size int64) error {
	if err := del(shardDataKey(mh)); err != nil {
		return err
	}
	if s.segment == 0 {
		return nil
	}
	for i := 1; int64(i)*int64(s.segment) < size; i++ {
		if err := del(shardSegmentKey(mh, i)); err != nil {
			return err
		}
	}
	return nil
}

// readShardData copies the bytes of shard mh into dst (reusing its
// capacity). found is false if the shard is not stored.
func (s *Store) readShardData(txn *badger.Txn, mh []byte, dst []byte) (data []byte, found bool, err error) {
	item, err := txn.Get(shardDataKey(mh))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if data, err = item.ValueCopy(dst); err != nil || s.segment == 0 {
		return data, err == nil, err
	}
	size, _, err := shardSize(txn, mh)
	if err != nil {
		return nil, false, err
	}
	for i := 1; int64(len(data)) < size; i++ {
		item, err := txn.Get(shardSegmentKey(mh, i))
		if errors.Is(err, badger.ErrKeyNotFound) {
			break // short: the hash check will fail
		}
		if err != nil {
			return nil, false, err
		}
		if err := item.Value(func(v []byte) error {
			data = append(data, v...)
			return nil
		}); err != nil {
			return nil, false, err
		}
	}
	return data, true, nil
}

// withShardData calls fn with the bytes of shard mh, which fn must not keep
// (on disk they are the value log's memory), or returns false if the shard
// is not stored.
func (s *Store) withShardData(txn *badger.Txn, mh []byte, fn func(v []byte) error) (bool, error) {
	if s.segment != 0 {
		data, found, err := s.readShardData(txn, mh, nil)
		if err != nil || !found {
			return found, err
		}
		return true, fn(data)
	}
	item, err := txn.Get(shardDataKey(mh))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(fn)
}

// shardSize returns the recorded size of the shard mh and whether it is
// stored.
func shardSize(txn *badger.Txn, mh []byte) (int64, bool, error) {
	item, err := txn.Get(shardSizeKey(mh))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var n int64
	err = item.Value(func(v []byte) error {
		n, err = decodeSize(v)
		return err
	})
	return n, err == nil, err
}

// shardEquals reports whether the shard mh is stored with the bytes data.
func (s *Store) shardEquals(txn *badger.Txn, mh multihash.Multihash, data []byte) (bool, error) {
	var same bool
	found, err := s.withShardData(txn, mh, func(v []byte) error {
		same = bytes.Equal(v, data)
		return nil
	})
	return found && same, err
}

// GetShard returns the shard with c's multihash, after checking that it
// hashes to c. A damaged copy is dropped and, with a Repairer, replaced by
// a good one (see SetRepairer); if it cannot be, the error wraps
// ErrCorrupt and names c. A missing shard gives one wrapping ErrNotFound.
func (s *Store) GetShard(ctx context.Context, c cid.Cid) ([]byte, error) {
	data, err := s.getShard(ctx, c)
	if errors.Is(err, errDamaged) {
		if err = s.repair(ctx, c); err == nil {
			data, err = s.getShard(ctx, c)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("get shard %s: %w", c, err)
	}
	return data, nil
}

func (s *Store) getShard(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.end()
	var data []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		data, err = s.readShard(txn, c, nil)
		return err
	})
	return data, err
}

// ReadShardUnverified returns the stored bytes of shard c without rehashing
// them. It is for serving peers, who verify every shard they receive (Kubo
// serves blocks the same way unless HashOnRead is set): a damaged copy costs
// the receiver a retry elsewhere, never a wrong byte, and spares the server
// a sha256 pass over everything it uploads. Everything else reads with
// GetShard, which verifies.
func (s *Store) ReadShardUnverified(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, fmt.Errorf("read shard %s: %w", c, err)
	}
	defer s.end()
	var data []byte
	err := s.db.View(func(txn *badger.Txn) error {
		if !c.Defined() {
			return ErrNotFound
		}
		d, found, err := s.readShardData(txn, c.Hash(), nil)
		if err == nil && !found {
			err = ErrNotFound
		}
		data = d
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read shard %s: %w", c, err)
	}
	return data, nil
}

// PutVerifiedShard stores data as the shard c without hashing it again: the
// caller has just checked that data hashes to c, as the shard exchange does
// for every shard it receives. c must be a CIDv1 raw sha2-256 CID.
func (s *Store) PutVerifiedShard(ctx context.Context, c cid.Cid, data []byte) error {
	if p := c.Prefix(); p.Codec != cid.Raw || p.MhType != multihash.SHA2_256 {
		return fmt.Errorf("put shard %s: %w: not a raw sha2-256 CID", c, ErrBadCID)
	}
	if err := checkShardSize(len(data)); err != nil {
		return fmt.Errorf("put shard: %w", err)
	}
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("put shard: %w", err)
	}
	defer s.end()
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	if err := s.storeShard(c.Hash(), data, nil); err != nil {
		return fmt.Errorf("put shard %s: %w", c, err)
	}
	return nil
}

// readShard reads the shard named by c into dst (reusing its capacity) and
// checks its hash: a mismatch is errDamaged.
func (s *Store) readShard(txn *badger.Txn, c cid.Cid, dst []byte) ([]byte, error) {
	if !c.Defined() {
		return nil, ErrNotFound
	}
	mh := c.Hash()
	data, found, err := s.readShardData(txn, mh, dst)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ErrNotFound
	}
	ok, err := hashMatches(mh, data)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errDamaged
	}
	return data, nil
}

// HasShard reports whether a shard with c's multihash is stored. It does not
// read or check the shard's bytes.
func (s *Store) HasShard(ctx context.Context, c cid.Cid) (bool, error) {
	if !c.Defined() {
		return false, nil
	}
	if err := s.begin(ctx); err != nil {
		return false, fmt.Errorf("has shard %s: %w", c, err)
	}
	defer s.end()
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = exists(txn, shardDataKey(c.Hash()))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("has shard %s: %w", c, err)
	}
	return ok, nil
}
