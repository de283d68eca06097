package datanet

import (
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
//
// The buckets' sums are held in memory (syncsums.go). Index versions 1 to
// 3 stored them too, under Z <datanet> <two bytes> and (2 and 3)
// X <datanet> <byte>: a 32-byte sum then a uint64 count, big-endian; the
// upgrade to version 4 deletes them.

// SyncKey is an object's place in its set's sync order: sha256 of its
// binary CID.
func SyncKey(c cid.Cid) [32]byte { return sha256.Sum256(c.Bytes()) }

const (
	ixSyncKey = 'Y'
	// The prefixes of the buckets of index versions 1 to 3.
	ixSyncBucketV3 = 'Z'
	ixSyncCoarseV3 = 'X'
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

// objectPut is the store's write of obj, stored as c in set with its index
// entries, pinned if pin. A vote is kept while the contribution it votes
// on is (storage.ObjectPut.KeptBy) instead: no pin key for two in three
// objects of a Datanet, and unpinning a contribution lets GC take its
// votes with it. Its links to its sets are unlisted.
func objectPut(c cid.Cid, data []byte, obj Object, set cid.Cid, pin bool) storage.ObjectPut {
	p := storage.ObjectPut{CID: c, Data: data, Links: obj.Links(), Pin: pin, Unlisted: unlisted(c, obj, set)}
	if v, ok := obj.(*Vote); ok {
		p.Pin, p.KeptBy = false, v.Contribution
	}
	return p
}

// unlisted returns the links of obj the store is not to list by backlink
// (storage.ObjectPut.Unlisted): the sets it is in (syncSets), which list
// it themselves. A Datanet's own versions stay listed.
func unlisted(c cid.Cid, obj Object, set cid.Cid) []cid.Cid {
	if _, ok := obj.(*Datanet); ok {
		return nil
	}
	return syncSets(c, obj, set)
}

// addToSyncSets writes c's sync entries in every set it belongs to, and
// adds its key to the sets' sums once tx has committed; the caller writes
// each object once (see indexer's once).
func (r *Registry) addToSyncSets(tx *storage.IndexTxn, c cid.Cid, sets []cid.Cid) error {
	k := SyncKey(c)
	for _, set := range sets {
		if !set.Defined() {
			continue
		}
		if err := tx.Set(syncKeyKey(set, k), c.Bytes()); err != nil {
			return err
		}
		tx.OnCommit(func() { r.sums.added(set, k) })
	}
	return nil
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
	return r.SyncBucketRange(ctx, dn, SyncFine, 0, 1<<16, func(b int, sb SyncBucket) error {
		return fn(uint16(b), sb)
	})
}

// SyncKeys calls fn, in key order, with the objects of dn's sync set whose
// SyncKey is at or above from and begins with from's first within bytes
// (0: any), until fn returns false. The scan's prefix is that part of the
// key: Badger then takes from each level only the tables that may hold
// it, not every table of the set (a read of one bucket's keys at 10^6
// objects).
func (r *Registry) SyncKeys(ctx context.Context, dn cid.Cid, from [32]byte, within int, fn func(key [32]byte, c cid.Cid) (bool, error)) error {
	set := ixKey(ixSyncKey, dn.Bytes())
	prefix := ixKey(ixSyncKey, dn.Bytes(), from[:min(max(within, 0), len(from))])
	return r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, syncKeyKey(dn, from), false, func(key, v []byte) (bool, error) {
			var k [32]byte
			if len(key) != len(set)+32 {
				return false, fmt.Errorf("%w: sync key %x", storage.ErrCorrupt, key)
			}
			copy(k[:], key[len(set):])
			c, err := cid.Cast(v)
			if err != nil {
				return false, fmt.Errorf("%w: sync entry: %w", storage.ErrCorrupt, err)
			}
			return fn(k, c)
		})
	})
}
