package storage

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Fault is one shard or object that failed Verify. Its Error names it.
type Fault struct {
	CID  cid.Cid
	Kind string // "shard" or "object"
	Err  error  // wraps ErrCorrupt or ErrNotFound
}

func (f Fault) Error() string { return fmt.Sprintf("%s %s: %v", f.Kind, f.CID, f.Err) }

// Fault kinds.
const (
	FaultShard  = "shard"
	FaultObject = "object"
)

// VerifyResult reports what Verify checked and what it found wrong.
type VerifyResult struct {
	Shards, Objects int
	Bytes           int64
	Faults          []Fault
}

// Verify rehashes every stored shard and object and reports, in Faults, each
// one whose bytes do not match its CID (ErrCorrupt) or whose bytes are
// missing (ErrNotFound). A shard's CID is reported in its CIDv1 raw form.
// progress, if not nil, is called with the bytes of each item checked. The
// returned error is for Verify itself failing (ctx, I/O), not for faults.
func (s *Store) Verify(ctx context.Context, progress func(bytes int64)) (VerifyResult, error) {
	var res VerifyResult
	if err := s.begin(ctx); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer s.end()
	ctx, release := s.opContext(ctx)
	defer release()
	report := func(n int64) {
		res.Bytes += n
		if progress != nil {
			progress(n)
		}
	}
	err := s.db.View(func(txn *badger.Txn) error {
		err := iterate(txn, []byte{prefixShardSize}, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			mh, _, err := multihashFromKey(item.KeyCopy(nil)[1:])
			if err != nil {
				return err
			}
			c := cid.NewCidV1(cid.Raw, mh)
			var size int64
			if err := item.Value(func(v []byte) error {
				size, err = decodeSize(v)
				return err
			}); err != nil {
				return err
			}
			res.Shards++
			var ok bool
			var n int
			found, err := s.withShardData(txn, mh, func(v []byte) error {
				n = len(v)
				var err error
				ok, err = hashMatches(mh, v)
				return err
			})
			if err != nil {
				return fmt.Errorf("shard %s: %w", c, err)
			}
			if !found {
				res.Faults = append(res.Faults, Fault{CID: c, Kind: FaultShard, Err: ErrNotFound})
				return nil
			}
			switch {
			case !ok:
				res.Faults = append(res.Faults, Fault{CID: c, Kind: FaultShard, Err: ErrCorrupt})
			case int64(n) != size:
				res.Faults = append(res.Faults, Fault{CID: c, Kind: FaultShard,
					Err: fmt.Errorf("%w: size record says %d bytes, data has %d", ErrCorrupt, size, n)})
			}
			report(int64(n))
			return nil
		})
		if err != nil {
			return err
		}
		return iterate(txn, []byte{prefixObjectData}, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			c, err := cidFromKey(item.Key())
			if err != nil {
				return err
			}
			res.Objects++
			var ok bool
			var n int
			if err := item.Value(func(v []byte) error {
				n = len(v)
				ok, err = hashMatches(c.Hash(), v)
				return err
			}); err != nil {
				return fmt.Errorf("object %s: %w", c, err)
			}
			if !ok {
				res.Faults = append(res.Faults, Fault{CID: c, Kind: FaultObject, Err: ErrCorrupt})
			}
			report(int64(n))
			return nil
		})
	})
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	return res, nil
}

// Stat describes the store's contents. LSMBytes and VLogBytes are Badger's
// on-disk sizes, refreshed by Badger about once a minute (0 in memory).
type Stat struct {
	Shards, Objects, Pins   int
	ShardBytes, ObjectBytes int64
	QuotaBytes              int64
	LSMBytes, VLogBytes     int64
}

// Stat counts the stored shards, objects and pins and their bytes.
func (s *Store) Stat(ctx context.Context) (Stat, error) {
	st := Stat{QuotaBytes: s.quota}
	if err := s.begin(ctx); err != nil {
		return st, fmt.Errorf("stat: %w", err)
	}
	defer s.end()
	err := s.db.View(func(txn *badger.Txn) error {
		err := iterate(txn, []byte{prefixShardSize}, func(item *badger.Item) error {
			return item.Value(func(v []byte) error {
				n, err := decodeSize(v)
				st.Shards++
				st.ShardBytes += n
				return err
			})
		})
		if err != nil {
			return err
		}
		err = iterate(txn, []byte{prefixObjectRecord}, func(item *badger.Item) error {
			return item.Value(func(v []byte) error {
				rec, err := decodeObjectRecord(v)
				st.Objects++
				st.ObjectBytes += rec.size
				return err
			})
		})
		if err != nil {
			return err
		}
		return iterate(txn, []byte{prefixPin}, func(*badger.Item) error {
			st.Pins++
			return nil
		})
	})
	if err != nil {
		return st, fmt.Errorf("stat: %w", err)
	}
	st.LSMBytes, st.VLogBytes = s.db.Size()
	return st, nil
}

// Unwrap returns f.Err, so errors.Is(f, ErrCorrupt) works.
func (f Fault) Unwrap() error { return f.Err }
