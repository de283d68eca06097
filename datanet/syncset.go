package datanet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// The sync set of a Datanet (what IDs lists: its versions, contributions,
// votes, snapshots, and the models trained on its snapshots) is indexed in
// the order the sync protocol reconciles it, by SyncKey, with the sum and
// count of the keys of each bucket at two levels: the 256 buckets named by
// a key's first byte, and the 65,536 named by its first two bytes. A
// range's fingerprint is a sum and a count, so the sync protocol answers
// any range from at most 256 sums of the first level, 2×255 of the second
// and the keys of at most two buckets it cuts through, without holding the
// set in memory and whatever the size of the set.
//
//	Y <datanet> <key>    → CID bytes of the object whose SyncKey is <key>
//	Z <datanet> <bucket> → 32-byte sum (mod 2^256, big-endian) then uint64
//	                       big-endian count of the keys of the bucket (the
//	                       key's first two bytes)
//	X <datanet> <bucket> → the same for the bucket named by the key's first
//	                       byte (the index's version 2 on)

// SyncKey is an object's place in its set's sync order: sha256 of its
// binary CID.
func SyncKey(c cid.Cid) [32]byte { return sha256.Sum256(c.Bytes()) }

const (
	ixSyncKey    = 'Y'
	ixSyncBucket = 'Z'
	ixSyncCoarse = 'X'
)

// The levels of a sync set's buckets (SyncBucketRange): a bucket of
// SyncCoarse is named by a key's first byte, one of SyncFine by its first
// two.
const (
	SyncCoarse = 1
	SyncFine   = 2
)

// SyncBucket is the sum mod 2^256 and the count of the keys of one bucket.
type SyncBucket struct {
	Sum   [32]byte
	Count uint64
}

func syncKeyKey(set cid.Cid, k [32]byte) []byte { return ixKey(ixSyncKey, set.Bytes(), k[:]) }

func syncBucketKey(set cid.Cid, b uint16) []byte {
	return ixKey(ixSyncBucket, set.Bytes(), binary.BigEndian.AppendUint16(nil, b))
}

func syncCoarseKey(set cid.Cid, b uint8) []byte { return ixKey(ixSyncCoarse, set.Bytes(), []byte{b}) }

// syncSets returns the sets obj belongs to, stored as c in set (what
// Check found): a model belongs to each of its Datanets'.
func syncSets(c cid.Cid, obj Object, set cid.Cid) []cid.Cid {
	switch o := obj.(type) {
	case *Datanet:
		if o.Seq == 0 {
			return []cid.Cid{c}
		}
		return []cid.Cid{set}
	case *Contribution:
		return []cid.Cid{o.Datanet}
	case *Vote:
		return []cid.Cid{o.Datanet}
	case *Snapshot:
		return []cid.Cid{o.Datanet}
	case *ModelRecord:
		return o.Datanets()
	}
	return nil
}

// addToSyncSets writes c's sync entries in every set it belongs to; the
// caller writes each object once (see indexer's once).
func addToSyncSets(tx *storage.IndexTxn, c cid.Cid, sets []cid.Cid) error {
	k := SyncKey(c)
	for _, set := range sets {
		if !set.Defined() {
			continue
		}
		if err := tx.Set(syncKeyKey(set, k), c.Bytes()); err != nil {
			return err
		}
		one := SyncBucket{Sum: k, Count: 1}
		if err := addToBucket(tx, syncBucketKey(set, binary.BigEndian.Uint16(k[:2])), one); err != nil {
			return err
		}
		if err := addToBucket(tx, syncCoarseKey(set, k[0]), one); err != nil {
			return err
		}
	}
	return nil
}

// addToBucket adds d to the bucket stored at key.
func addToBucket(tx *storage.IndexTxn, key []byte, d SyncBucket) error {
	var b SyncBucket
	v, err := tx.Get(key)
	switch {
	case err == nil:
		if b, err = decodeBucket(v); err != nil {
			return err
		}
	case !IsNotFound(err):
		return err
	}
	b.Sum = add256(b.Sum, d.Sum)
	b.Count += d.Count
	return tx.Set(key, b.encode())
}

// addCoarseBuckets writes the first level of every sync set's buckets
// from the second: what an index of version 1 lacks. It sums each
// first-level bucket whole before it writes it, a batch of them at a time,
// so a run cut short is simply run again.
func (r *Registry) addCoarseBuckets(ctx context.Context) error {
	type coarse struct {
		key []byte
		b   SyncBucket
	}
	var (
		batch []coarse
		cur   *coarse
	)
	flush := func() error {
		err := r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
			for _, c := range batch {
				if err := tx.Set(c.key, c.b.encode()); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan([]byte{ixSyncBucket}, nil, false, func(key, v []byte) (bool, error) {
			// Z <set> <two bytes>: the set's key with the first byte.
			if len(key) < 4 {
				return false, fmt.Errorf("%w: sync bucket key %x", storage.ErrCorrupt, key)
			}
			b, err := decodeBucket(v)
			if err != nil {
				return false, err
			}
			ck := append([]byte{ixSyncCoarse}, key[1:len(key)-1]...)
			if cur == nil || !bytes.Equal(cur.key, ck) {
				if len(batch) >= rebuildBatch {
					if err := flush(); err != nil {
						return false, err
					}
				}
				batch = append(batch, coarse{key: ck})
				cur = &batch[len(batch)-1]
			}
			cur.b.Sum = add256(cur.b.Sum, b.Sum)
			cur.b.Count += b.Count
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return flush()
}

// encode is the stored form of b, as decodeBucket reads it.
func (b SyncBucket) encode() []byte { return append(b.Sum[:], be64(b.Count)...) }

func decodeBucket(v []byte) (SyncBucket, error) {
	var b SyncBucket
	if len(v) != 40 {
		return b, fmt.Errorf("%w: sync bucket of %d bytes", storage.ErrCorrupt, len(v))
	}
	copy(b.Sum[:], v)
	b.Count = binary.BigEndian.Uint64(v[32:])
	return b, nil
}

// add256 returns a+b mod 2^256, both big-endian.
func add256(a, b [32]byte) [32]byte {
	var out [32]byte
	var carry uint64
	for i := 24; i >= 0; i -= 8 {
		var s uint64
		s, carry = bits.Add64(binary.BigEndian.Uint64(a[i:]), binary.BigEndian.Uint64(b[i:]), carry)
		binary.BigEndian.PutUint64(out[i:], s)
	}
	return out
}

// SyncBuckets calls fn with every non-empty bucket of dn's sync set, by
// bucket number (a key's first two bytes).
func (r *Registry) SyncBuckets(ctx context.Context, dn cid.Cid, fn func(bucket uint16, b SyncBucket) error) error {
	prefix := ixKey(ixSyncBucket, dn.Bytes())
	return r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, nil, false, func(key, v []byte) (bool, error) {
			b, err := decodeBucket(v)
			if err != nil {
				return false, err
			}
			if len(key) != len(prefix)+2 {
				return false, fmt.Errorf("%w: sync bucket key %x", storage.ErrCorrupt, key)
			}
			return true, fn(binary.BigEndian.Uint16(key[len(prefix):]), b)
		})
	})
}

// SyncKeys calls fn, in key order, with the objects of dn's sync set whose
// SyncKey is at or above from, until fn returns false.
func (r *Registry) SyncKeys(ctx context.Context, dn cid.Cid, from [32]byte, fn func(key [32]byte, c cid.Cid) (bool, error)) error {
	prefix := ixKey(ixSyncKey, dn.Bytes())
	return r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, syncKeyKey(dn, from), false, func(key, v []byte) (bool, error) {
			var k [32]byte
			if len(key) != len(prefix)+32 {
				return false, fmt.Errorf("%w: sync key %x", storage.ErrCorrupt, key)
			}
			copy(k[:], key[len(prefix):])
			c, err := cid.Cast(v)
			if err != nil {
				return false, fmt.Errorf("%w: sync entry: %w", storage.ErrCorrupt, err)
			}
			return fn(k, c)
		})
	})
}
