package datanet

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// SyncBucketRange calls fn, in bucket order, with the non-empty buckets b
// of dn's sync set at level (SyncCoarse: 256 buckets by a key's first
// byte; SyncFine: 65,536 by its first two) with from <= b < to, reading
// only those.
func (r *Registry) SyncBucketRange(ctx context.Context, dn cid.Cid, level, from, to int, fn func(bucket int, b SyncBucket) error) error {
	ix := byte(ixSyncCoarse)
	switch level {
	case SyncCoarse:
	case SyncFine:
		ix = ixSyncBucket
	default:
		return fmt.Errorf("datanet: sync bucket level %d", level)
	}
	prefix := ixKey(ix, dn.Bytes())
	from = max(from, 0)
	to = min(to, 1<<(8*level))
	if from >= to {
		return nil
	}
	start := binary.BigEndian.AppendUint16(nil, uint16(from))[2-level:]
	return r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, ixKey(ix, dn.Bytes(), start), false, func(key, v []byte) (bool, error) {
			if len(key) != len(prefix)+level {
				return false, fmt.Errorf("%w: sync bucket key %x", storage.ErrCorrupt, key)
			}
			bucket := int(key[len(prefix)])
			if level == SyncFine {
				bucket = int(binary.BigEndian.Uint16(key[len(prefix):]))
			}
			if bucket >= to {
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
