package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// ShardRef names one stored shard of a file and its size in bytes.
type ShardRef struct {
	CID  cid.Cid
	Size int
}

// Session is an add session: a multi-shard write that lands whole or not at
// all. Shards written through it are held by the session (GC keeps them)
// until Commit stores the object that links them, or Abort deletes those
// nothing else references. A session left open by a process that died is
// rolled back by the next Open.
//
// A Session is safe for concurrent use, but its operations run one at a
// time.
type Session struct {
	s  *Store
	id uint64

	mu   sync.Mutex // held for the whole of each operation
	done bool       // guarded by mu: committed or aborted

	remaining int64 // guarded by s.mu: reservation not yet used by new shards
}

// NewSession starts an add session and reserves reserve bytes of quota for
// it before anything is written; the error wraps ErrQuota if the usage,
// the open reservations and reserve together exceed the quota. New shards
// are charged to the reservation first. The session is recorded in the
// database, so it is rolled back if the process dies before Commit.
func (s *Store) NewSession(ctx context.Context, reserve int64) (*Session, error) {
	if reserve < 0 {
		return nil, fmt.Errorf("new session: reserve is %d, want >= 0", reserve)
	}
	if err := s.begin(ctx); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	defer s.end()
	ss := &Session{s: s, id: s.nextSID.Add(1)}
	if err := s.reserve(ss, reserve); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	rec := sessionRecord{reserve: reserve, created: time.Now().UnixNano()}
	s.gcMu.RLock()
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(sessionKey(ss.id), rec.encode())
	})
	s.gcMu.RUnlock()
	if err != nil {
		s.release(ss)
		return nil, fmt.Errorf("new session: record: %w", err)
	}
	s.log.Debug("add session started", slog.Uint64("session", ss.id), slog.Int64("reserve", reserve))
	return ss, nil
}

// lock locks ss for one operation and registers it with the store. The
// returned function undoes both.
func (ss *Session) lock(ctx context.Context) (func(), error) {
	if err := ss.s.begin(ctx); err != nil {
		return nil, err
	}
	ss.mu.Lock()
	if ss.done {
		ss.mu.Unlock()
		ss.s.end()
		return nil, fmt.Errorf("session %d is committed or aborted: %w", ss.id, ErrClosed)
	}
	return func() {
		ss.mu.Unlock()
		ss.s.end()
	}, nil
}

// PutShard stores data as a shard held by the session and returns its CID.
func (ss *Session) PutShard(ctx context.Context, data []byte) (cid.Cid, error) {
	if err := checkShardSize(len(data)); err != nil {
		return cid.Undef, fmt.Errorf("put shard: %w", err)
	}
	unlock, err := ss.lock(ctx)
	if err != nil {
		return cid.Undef, fmt.Errorf("put shard: %w", err)
	}
	defer unlock()
	mh := sha256Multihash(data)
	c := cid.NewCidV1(cid.Raw, mh)
	if err := ss.putShard(mh, data); err != nil {
		return cid.Undef, fmt.Errorf("put shard %s: %w", c, err)
	}
	return c, nil
}

// putShard stores one shard for the session; the caller holds ss.mu.
func (ss *Session) putShard(mh multihash.Multihash, data []byte) error {
	return ss.putShards([]chunk{{data: data, mh: mh}})
}

// putShards stores shards for the session in one transaction; the caller
// holds ss.mu.
func (ss *Session) putShards(batch []chunk) error {
	ss.s.gcMu.RLock()
	defer ss.s.gcMu.RUnlock()
	return ss.s.storeShards(batch, ss)
}

// Commit stores object c with its links, pins it if pin is set, and ends the
// session, all in one transaction: after a crash either all of it is there,
// or none of it and the session is rolled back. c must hash to data (else
// the error wraps ErrBadCID) and must not be raw. On error the session stays
// open, to be committed again or aborted. Without pin, the object and its
// shards are kept only while some pin reaches them (see GC).
//
// One transaction holds about 1 + (links) entries; Badger's limit is
// roughly 90,000 entries (a 90 GiB file in 1 MiB shards).
func (ss *Session) Commit(ctx context.Context, c cid.Cid, data []byte, links []cid.Cid, pin bool) error {
	return ss.CommitIndexed(ctx, ObjectPut{CID: c, Data: data, Links: links, Pin: pin}, nil)
}

// CommitIndexed is Commit of p with the index writes of fn in the commit's
// transaction (see PutObjectIndexed). fn may run more than once.
func (ss *Session) CommitIndexed(ctx context.Context, p ObjectPut, fn func(*IndexTxn) error) error {
	c, links, pin := p.CID, p.Links, p.Pin
	if err := checkPut(p); err != nil {
		return fmt.Errorf("commit session %d: %w", ss.id, err)
	}
	unlock, err := ss.lock(ctx)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	defer unlock()
	s := ss.s
	s.gcMu.RLock()
	err = s.updateIndexed(func(txn *badger.Txn, itx *IndexTxn) error {
		if err := putObject(txn, p); err != nil {
			return err
		}
		if pin {
			if err := txn.Set(pinKey(c), nil); err != nil {
				return err
			}
		}
		if fn != nil {
			if err := fn(itx); err != nil {
				return err
			}
		}
		return txn.Delete(sessionKey(ss.id))
	})
	s.gcMu.RUnlock()
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("commit session %d as %s: %d links do not fit in one transaction: %w", ss.id, c, len(links), err)
	}
	if err != nil {
		return fmt.Errorf("commit session %d as %s: %w", ss.id, c, err)
	}
	ss.done = true
	s.release(ss)
	// The object's links now hold the shards; drop the session's own
	// references. If this fails they only keep shards alive until the next
	// Open deletes them, so the commit stands.
	if _, _, err := s.rollback(ss.id, false); err != nil {
		s.log.Warn("drop references of committed session", slog.Uint64("session", ss.id), slog.Any("err", err))
	}
	s.log.Debug("add session committed", slog.Uint64("session", ss.id), slog.String("cid", c.String()))
	return nil
}

// Abort ends the session, deleting every shard it stored first that nothing
// else references (no object link, no pin, no other session). It is a no-op
// after Commit or Abort. If it fails, the session is still ended and its
// reservation released; its record stays in the database and the next Open
// finishes the rollback.
func (ss *Session) Abort() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.done {
		return nil
	}
	s := ss.s
	if err := s.begin(context.Background()); err != nil {
		// The record stays; the next Open rolls the session back.
		return fmt.Errorf("abort session %d: %w", ss.id, err)
	}
	defer s.end()
	ss.done = true
	s.release(ss)
	n, freed, err := s.rollback(ss.id, true)
	s.addUsed(-freed)
	if err != nil {
		return fmt.Errorf("abort session %d: %w", ss.id, err)
	}
	s.log.Debug("add session aborted", slog.Uint64("session", ss.id), slog.Int("shards_removed", n), slog.Int64("bytes_freed", freed))
	return nil
}

// heldShard is a shard a session holds, from its t key.
type heldShard struct {
	mh      multihash.Multihash
	created bool
}

// rollback drops session sid's shard references. With stale (the session
// did not commit), it also deletes each shard the session stored first that
// nothing else references, and finally the session record. It returns the
// shards deleted and their bytes; the caller adjusts the usage.
func (s *Store) rollback(sid uint64, stale bool) (removed int, freed int64, err error) {
	var held []heldShard
	err = s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, sessionShardPrefix(sid), func(item *badger.Item) error {
			_, mh, err := sessionShardFromKey(item.KeyCopy(nil))
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				held = append(held, heldShard{mh: mh, created: len(v) == 1 && v[0]&sessionCreatedShard != 0})
				return nil
			})
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("list shards: %w", err)
	}
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	if !stale {
		// The shards are referenced by the committed object now (or were
		// never this session's to delete): just drop the references. No
		// shard lock is needed: a concurrent rollback that probes these
		// keys sees either them or the object's references.
		wb := s.db.NewWriteBatch()
		defer wb.Cancel()
		for _, h := range held {
			if err := wb.Delete(sessionShardKey(sid, h.mh)); err != nil {
				return 0, 0, err
			}
			if err := wb.Delete(shardSessionKey(h.mh, sid)); err != nil {
				return 0, 0, err
			}
		}
		return 0, 0, wb.Flush()
	}
	for _, h := range held {
		n, err := s.releaseShard(sid, h)
		if err != nil {
			return removed, freed, fmt.Errorf("release shard %s: %w", cid.NewCidV1(cid.Raw, h.mh), err)
		}
		if n >= 0 {
			removed++
			freed += n
			s.deleted.Store(true)
		}
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Delete(sessionKey(sid))
	}); err != nil {
		return removed, freed, fmt.Errorf("delete session record: %w", err)
	}
	return removed, freed, nil
}

// releaseShard drops session sid's reference to one shard and, if the
// session stored it first and nothing else references it, deletes the
// shard. It returns the deleted shard's size, or -1 if none was deleted.
// The caller holds s.gcMu for reading.
func (s *Store) releaseShard(sid uint64, h heldShard) (int64, error) {
	mu := s.shardLock(h.mh)
	mu.Lock()
	defer mu.Unlock()
	var size int64
	err := s.update(func(txn *badger.Txn) error {
		size = -1
		if h.created {
			referenced, err := shardReferenced(txn, h.mh, sid)
			if err != nil {
				return err
			}
			if !referenced {
				n, stored, err := shardSize(txn, h.mh)
				if err != nil {
					return err
				}
				if stored {
					if err := s.deleteShardData(txn.Delete, h.mh, n); err != nil {
						return err
					}
					if err := txn.Delete(shardSizeKey(h.mh)); err != nil {
						return err
					}
					size = n
				}
			}
		}
		if err := txn.Delete(sessionShardKey(sid, h.mh)); err != nil {
			return err
		}
		return txn.Delete(shardSessionKey(h.mh, sid))
	})
	return size, err
}

// shardReferenced reports whether anything but session self keeps shard mh:
// an object's link, a pin, or another session.
func shardReferenced(txn *badger.Txn, mh []byte, self uint64) (bool, error) {
	if ok, err := hasPrefix(txn, shardRefPrefix(mh), nil); err != nil || ok {
		return ok, err
	}
	if ok, err := exists(txn, shardPinKey(mh)); err != nil || ok {
		return ok, err
	}
	var bad error
	ok, err := hasPrefix(txn, shardSessionPrefix(mh), func(k []byte) bool {
		sid, err := sidFromShardSessionKey(k)
		if err != nil {
			bad = err
			return false
		}
		return sid == self
	})
	if bad != nil {
		return false, bad
	}
	return ok, err
}

// recoverSessions rolls back every session recorded in the database (the
// repo has one opener at a time, so they all belong to a dead process) and
// drops the leftover references of sessions that committed just before a
// crash. It runs in Open, before usage is computed.
func (s *Store) recoverSessions() error {
	stale := make(map[uint64]sessionRecord)
	var sids []uint64
	err := s.db.View(func(txn *badger.Txn) error {
		err := iterate(txn, []byte{prefixSession}, func(item *badger.Item) error {
			sid, err := sessionFromKey(item.Key())
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				rec, err := decodeSessionRecord(v)
				stale[sid] = rec
				sids = append(sids, sid)
				return err
			})
		})
		if err != nil {
			return err
		}
		return iterate(txn, []byte{prefixSessionShard}, func(item *badger.Item) error {
			sid, _, err := sessionShardFromKey(item.Key())
			if err != nil {
				return err
			}
			if len(sids) == 0 || sids[len(sids)-1] != sid {
				sids = append(sids, sid)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	slices.Sort(sids)
	sids = slices.Compact(sids)
	for _, sid := range sids {
		rec, isStale := stale[sid]
		removed, freed, err := s.rollback(sid, isStale)
		if err != nil {
			return fmt.Errorf("session %d: %w", sid, err)
		}
		if isStale {
			s.log.Info("rolled back add session left open by a previous process",
				slog.Uint64("session", sid),
				slog.Time("started", time.Unix(0, rec.created)),
				slog.Int("shards_removed", removed),
				slog.Int64("bytes_freed", freed))
		}
	}
	if len(sids) > 0 {
		s.nextSID.Store(sids[len(sids)-1])
	}
	return nil
}
