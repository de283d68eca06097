package datanet

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// SyncBucketRange calls fn, in bucket order, with the non-empty buckets b
// of dn's sync set with from <= b < to (see SyncBuckets), reading only
// those.
func (r *Registry) SyncBucketRange(ctx context.Context, dn cid.Cid, from, to int, fn func(bucket uint16, b SyncBucket) error) error {
	from = max(from, 0)
	to = min(to, 1<<16)
	if from >= to {
		return nil
	}
	prefix := ixKey(ixSyncBucket, dn.Bytes())
	return r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, syncBucketKey(dn, uint16(from)), false, func(key, v []byte) (bool, error) {
			if len(key) != len(prefix)+2 {
				return false, fmt.Errorf("%w: sync bucket key %x", storage.ErrCorrupt, key)
			}
			bucket := binary.BigEndian.Uint16(key[len(prefix):])
			if int(bucket) >= to {
				return false, nil
			}
			b, err := decodeBucket(v)
			if err != nil {
				return false, err
			}
			return true, fn(bucket, b)
		})
	})
}
