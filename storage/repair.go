package storage

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Repair of damaged shards. Every verified read rehashes the shard; a copy
// whose bytes do not match is dropped at once, so that the shard counts as
// missing: a fetch gets it again from peers, an add of the same bytes
// stores it again, and the Repairer, if one is set, is asked for a good
// copy before the read gives up. Storing a shard whose stored copy differs
// from the (verified) bytes being stored replaces the copy, so a re-add
// repairs even a damage that no read has found yet.

// errDamaged is ErrCorrupt for a shard whose bytes do not hash to its CID:
// the case a read drops and repairs.
var errDamaged = fmt.Errorf("%w: stored bytes do not hash to the cid", ErrCorrupt)

// A Repairer gets a good copy of shard c, whose damaged copy was just
// dropped, and stores it (with PutVerifiedShard). The daemon's fetches it
// from its peers.
type Repairer func(ctx context.Context, c cid.Cid) error

// SetRepairer sets the function that verified reads (GetShard, the file
// reader) call for a shard whose copy they found damaged and dropped; nil
// for none, and then such a read fails with ErrCorrupt. fn is called
// without any store lock held and may store shards.
func (s *Store) SetRepairer(fn Repairer) {
	if fn == nil {
		s.repairer.Store(nil)
		return
	}
	s.repairer.Store(&fn)
}

// DropDamagedShard deletes the stored copy of shard c if its bytes are
// missing, do not hash to c, or do not have the recorded size, and reports
// whether it did. The objects that link to the shard and the pins that
// name it are kept: the shard is then missing, as one not yet fetched is,
// and a fetch or an add stores it again.
func (s *Store) DropDamagedShard(ctx context.Context, c cid.Cid) (bool, error) {
	if !c.Defined() {
		return false, nil
	}
	if err := s.begin(ctx); err != nil {
		return false, fmt.Errorf("drop shard %s: %w", c, err)
	}
	defer s.end()
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	mh := c.Hash()
	mu := s.shardLock(mh)
	mu.Lock()
	defer mu.Unlock()

	var size int64
	dropped := false
	err := s.db.Update(func(txn *badger.Txn) error {
		var stored bool
		var err error
		if size, stored, err = shardSize(txn, mh); err != nil || !stored {
			return err
		}
		intact := false
		found, err := s.withShardData(txn, mh, func(v []byte) error {
			ok, err := hashMatches(mh, v)
			intact = ok && int64(len(v)) == size
			return err
		})
		if err != nil || (found && intact) {
			return err
		}
		if err := s.deleteShardData(txn.Delete, mh, size); err != nil {
			return err
		}
		dropped = true
		return txn.Delete(shardSizeKey(mh))
	})
	if err != nil {
		return false, fmt.Errorf("drop shard %s: %w", c, err)
	}
	if dropped {
		s.addUsed(-size)
		s.deleted.Store(true)
	}
	return dropped, nil
}

// repair handles shard c, found damaged by a read: it drops the bad copy
// and asks the Repairer for a good one. It returns nil when the caller
// should read again, else why the shard cannot be read (wrapping
// ErrCorrupt).
func (s *Store) repair(ctx context.Context, c cid.Cid) error {
	dropped, err := s.DropDamagedShard(ctx, c)
	if err != nil {
		return fmt.Errorf("%w (and dropping the damaged copy failed: %w)", errDamaged, err)
	}
	if dropped {
		s.log.Warn("dropped a damaged shard", slog.String("cid", c.String()))
	} else if has, err := s.HasShard(ctx, c); err != nil || has {
		return err // repaired meanwhile: read again
	}
	fn := s.repairer.Load()
	if fn == nil {
		return fmt.Errorf("%w: the damaged copy was dropped; add or fetch the shard again", errDamaged)
	}
	if err := (*fn)(ctx, c); err != nil {
		return fmt.Errorf("%w: the damaged copy was dropped and no good copy was found: %w", errDamaged, err)
	}
	s.log.Info("repaired a damaged shard", slog.String("cid", c.String()))
	return nil
}
