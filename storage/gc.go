package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// GCResult reports what a GC removed. BytesFreed counts shard and object
// bytes; the disk space comes back as Badger rewrites its value log.
type GCResult struct {
	ShardsRemoved, ObjectsRemoved int
	BytesFreed                    int64
}

// vlogDiscardRatio is the fraction of a value log file that must be garbage
// for value log GC to rewrite it.
const vlogDiscardRatio = 0.5

// GC removes every shard and object that is not reachable through declared
// links from a pin or from an object whose keeper is reachable
// (ObjectPut.KeptBy), and not held by an open session, then compacts
// Badger and rewrites value log files that are mostly garbage.
//
// Mark and sweep hold off writers (puts, commits, pins) until the sweep is
// done; reads go on. One GC runs at a time. ctx cancels it between steps;
// what was swept by then stays swept and is reported.
func (s *Store) GC(ctx context.Context) (GCResult, error) {
	if err := s.begin(ctx); err != nil {
		return GCResult{}, fmt.Errorf("gc: %w", err)
	}
	defer s.end()
	ctx, release := s.opContext(ctx)
	defer release()
	s.gcRun.Lock()
	defer s.gcRun.Unlock()

	start := time.Now()
	res, err := s.markAndSweep(ctx)
	s.addUsed(-res.shardBytes)
	if err != nil {
		return res.GCResult, fmt.Errorf("gc: %w", err)
	}
	if err := s.compact(ctx); err != nil {
		return res.GCResult, fmt.Errorf("gc: %w", err)
	}
	s.log.Info("gc done",
		slog.Int("shards_removed", res.ShardsRemoved),
		slog.Int("objects_removed", res.ObjectsRemoved),
		slog.Int64("bytes_freed", res.BytesFreed),
		slog.Duration("took", time.Since(start)))
	return res.GCResult, nil
}

type sweepResult struct {
	GCResult
	shardBytes int64
}

// markAndSweep deletes unreachable shards and objects under the GC lock.
func (s *Store) markAndSweep(ctx context.Context) (sweepResult, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	var (
		res          sweepResult
		deadShards   []multihash.Multihash
		deadObjects  []cid.Cid
		deadRefs     [][]byte
		shardBytes   []int64
		objectBytes  int64
		markedShards = make(map[string]struct{})
	)
	err := s.db.View(func(txn *badger.Txn) error {
		marked, err := s.mark(ctx, txn, markedShards)
		if err != nil {
			return err
		}
		// Sweep shards by their size records.
		err = iterate(txn, []byte{prefixShardSize}, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			if _, ok := markedShards[string(item.Key()[1:])]; ok {
				return nil
			}
			mh, _, err := multihashFromKey(item.KeyCopy(nil)[1:])
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				n, err := decodeSize(v)
				deadShards = append(deadShards, mh)
				shardBytes = append(shardBytes, n)
				return err
			})
		})
		if err != nil {
			return err
		}
		// Sweep objects by their records, with their r and b keys.
		return iterate(txn, []byte{prefixObjectRecord}, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			if _, ok := marked[string(item.Key()[1:])]; ok {
				return nil
			}
			c, err := cidFromKey(item.Key())
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				rec, err := decodeObjectRecord(v)
				if err != nil {
					return err
				}
				for _, l := range rec.links {
					deadRefs = append(deadRefs, linkKey(l, c))
				}
				deadObjects = append(deadObjects, c)
				objectBytes += rec.size
				return nil
			})
		})
	})
	if err != nil {
		return res, fmt.Errorf("mark: %w", err)
	}

	// Delete in an order that a crash can interrupt anywhere: data and
	// references before the records the sweep finds things by, so an
	// interrupted sweep is finished by the next one; and objects' bytes
	// before their references, so that an object stored again after a
	// crash gets its references back (see putObject).
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, c := range deadObjects {
		if err := wb.Delete(objectDataKey(c)); err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
	}
	for _, k := range deadRefs {
		if err := wb.Delete(k); err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
	}
	for _, c := range deadObjects {
		if err := wb.Delete(objectRecordKey(c)); err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
	}
	for i, mh := range deadShards {
		if err := s.deleteShardData(wb.Delete, mh, shardBytes[i]); err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		if err := wb.Delete(shardSizeKey(mh)); err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		res.shardBytes += shardBytes[i]
	}
	if err := wb.Flush(); err != nil {
		// Part of the batch may have landed: count again.
		res.shardBytes = 0
		err = fmt.Errorf("sweep: %w", err)
		used, serr := s.scanUsage()
		if serr != nil {
			return res, errors.Join(err, fmt.Errorf("recount usage: %w", serr))
		}
		s.mu.Lock()
		s.used = used
		s.mu.Unlock()
		return res, err
	}
	res.ShardsRemoved = len(deadShards)
	res.ObjectsRemoved = len(deadObjects)
	res.BytesFreed = res.shardBytes + objectBytes
	if res.ShardsRemoved+res.ObjectsRemoved > 0 {
		s.deleted.Store(true)
	}
	if s.deleted.Swap(false) {
		if err := s.flushDeletions(); err != nil {
			s.deleted.Store(true)
			return res, err
		}
	}
	return res, nil
}

// flushDeletions makes Badger flush its memtable and compact level 0, so the
// deletions just made meet the entries they delete and Badger counts the
// value log bytes they free; value log GC picks files by that count alone.
// Our memtable holds only keys and value pointers (a few hundred bytes per
// shard), so without this it would flush only after ~100 GiB of new data
// and the space would stay taken until a restart.
//
// Badger has no "flush" call; DropPrefix is documented to flush all
// memtables and compact level 0 into the base level. It is given a marker
// key written just before, so it drops nothing else. DropPrefix makes
// concurrent writes fail rather than wait, so the caller holds s.gcMu for
// writing: every write of this package holds it for reading.
func (s *Store) flushDeletions() error {
	if s.inMemory {
		return nil
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(flushMarkerKey(), nil)
	}); err != nil {
		return fmt.Errorf("flush: write marker: %w", err)
	}
	if err := s.db.DropPrefix(flushMarkerKey()); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// mark returns the set of reachable objects (by CID bytes) and fills
// shards with the reachable shards (by multihash bytes). Roots are the pins
// and the shards held by open sessions; an object kept by a marked one
// (ObjectPut.KeptBy) is marked with what it reaches.
func (s *Store) mark(ctx context.Context, txn *badger.Txn, shards map[string]struct{}) (map[string]struct{}, error) {
	objects := make(map[string]struct{})
	var queue []cid.Cid
	visit := func(c cid.Cid) {
		if c.Type() == cid.Raw {
			shards[string(c.Hash())] = struct{}{}
			return
		}
		if _, ok := objects[c.KeyString()]; !ok {
			objects[c.KeyString()] = struct{}{}
			queue = append(queue, c)
		}
	}
	err := iterate(txn, []byte{prefixPin}, func(item *badger.Item) error {
		c, err := cidFromKey(item.Key())
		if err != nil {
			return err
		}
		visit(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = iterate(txn, []byte{prefixShardSession}, func(item *badger.Item) error {
		mh, _, err := multihashFromKey(item.Key()[1:])
		if err != nil {
			return err
		}
		shards[string(mh)] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// follow marks what the queued objects link to.
	follow := func() error {
		for len(queue) > 0 {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			c := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			rec, stored, err := readObjectRecord(txn, c)
			if err != nil {
				return fmt.Errorf("object %s: %w", c, err)
			}
			if !stored {
				continue // pinned or linked, but not held locally
			}
			for _, l := range rec.links {
				visit(l)
			}
		}
		return nil
	}
	if err := follow(); err != nil {
		return nil, err
	}
	// Then the objects whose keeper is marked (ObjectPut.KeptBy), a pass
	// over the records at a time until a pass marks none (the second, when
	// no kept object keeps another).
	for {
		before := len(objects)
		err := iterate(txn, []byte{prefixObjectRecord}, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			if _, ok := objects[string(item.Key()[1:])]; ok {
				return nil
			}
			return item.Value(func(v []byte) error {
				rec, err := decodeObjectRecord(v)
				if err != nil {
					return err
				}
				by, ok := rec.keptByOf()
				if !ok {
					return nil
				}
				if _, marked := objects[by.KeyString()]; marked {
					objects[string(item.Key()[1:])] = struct{}{}
					for _, l := range rec.links {
						visit(l) // as follow would, without reading rec again
					}
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		if err := follow(); err != nil {
			return nil, err
		}
		if len(objects) == before {
			return objects, nil
		}
	}
}

// compact runs Badger's maintenance after a sweep: Flatten, when the LSM
// tree spans several levels, so that deletions meet the entries they delete
// at every level; then value log GC until no file is worth rewriting.
func (s *Store) compact(ctx context.Context) error {
	if s.inMemory {
		return nil
	}
	if s.lsmLevelsInUse() > 1 {
		if err := s.db.Flatten(2); err != nil {
			return fmt.Errorf("flatten: %w", err)
		}
	}
	for {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		err := s.db.RunValueLogGC(vlogDiscardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return nil
		default:
			return fmt.Errorf("value log gc: %w", err)
		}
	}
}

// lsmLevelsInUse counts the LSM levels holding tables.
func (s *Store) lsmLevelsInUse() int {
	n := 0
	for _, l := range s.db.Levels() {
		if l.NumTables > 0 {
			n++
		}
	}
	return n
}
