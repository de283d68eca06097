package datanet

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// SyncBucketRange calls fn, in bucket order, with the non-empty buckets b
// of dn's sync set at level (SyncCoarse: 256 buckets by a key's first
// byte; SyncFine: 65,536 by its first two) with from <= b < to, from the
// sums held in memory (summed from the set's keys when not held).
func (r *Registry) SyncBucketRange(ctx context.Context, dn cid.Cid, level, from, to int, fn func(bucket int, b SyncBucket) error) error {
	if level != SyncCoarse && level != SyncFine {
		return fmt.Errorf("datanet: sync bucket level %d", level)
	}
	from = max(from, 0)
	to = min(to, 1<<(8*level))
	if from >= to {
		return nil
	}
	// Copied under the sums' lock, then given to fn without it.
	type bucket struct {
		at int
		b  SyncBucket
	}
	var out []bucket
	err := r.readSums(ctx, dn, func(s *setSums) {
		buckets := s.fine[from:to]
		if level == SyncCoarse {
			buckets = s.coarse[from:to]
		}
		for i, b := range buckets {
			if b.Count > 0 {
				out = append(out, bucket{from + i, b})
			}
		}
	})
	if err != nil {
		return err
	}
	for _, b := range out {
		if err := fn(b.at, b.b); err != nil {
			return err
		}
	}
	return nil
}
