package datanet

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// TestSyncSumsWhileStoring: a set's sums summed again and again (dropped,
// then read) while objects are stored in it, from two goroutines, end
// equal to the sums of its keys: a key whose transaction commits while
// the set is summed is counted once, whether or not the scan saw it.
func TestSyncSumsWhileStoring(t *testing.T) {
	ctx := context.Background()
	f := newStateFixture(t)
	var (
		wg      sync.WaitGroup
		stored  atomic.Int64
		writers sync.WaitGroup
	)
	for w := range 2 {
		writers.Go(func() {
			for i := range 60 {
				k := memContribution(t, f.id, contributorSigner(t), stateContributed.Add(time.Duration(i+1)*time.Minute), 1000*w+i)
				if _, err := f.r.Submit(ctx, k); err != nil {
					t.Errorf("Submit: %v", err)
					return
				}
				stored.Add(1)
			}
		})
	}
	done := make(chan struct{})
	var summed int
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			f.r.sums.reset()
			if err := f.r.SyncBucketRange(ctx, f.id, SyncCoarse, 0, 256, func(int, SyncBucket) error { return nil }); err != nil {
				t.Errorf("SyncBucketRange: %v", err)
				return
			}
			summed++
		}
	})
	writers.Wait()
	close(done)
	wg.Wait()
	if stored.Load() != 120 || summed < 2 {
		t.Fatalf("%d stored, the set summed %d times", stored.Load(), summed)
	}
	checkSyncSet(t, f.r, f.id)
}

// TestSyncSumsEvicted: with more sets in use than are held, the sums of
// each set read, evicted, read again and updated since stay those of its
// keys.
func TestSyncSumsEvicted(t *testing.T) {
	ctx := context.Background()
	r, _ := newTestRegistry(t)
	r.now = func() time.Time { return stateClock }
	var sets []cid.Cid
	for i := range maxLoadedSets + 3 {
		id, _, err := r.CreateDatanet(ctx, DatanetSpec{Name: fmt.Sprint("set", i)}, testChainID, ownerSigner(t), stateCreated)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, id)
	}
	for round := range 3 {
		for i, id := range sets {
			mustSubmit(t, r, memContribution(t, id, contributorSigner(t), stateContributed, 100*round+i))
			checkSyncSet(t, r, id)
		}
	}
	r.sums.mu.Lock()
	held := r.sums.lru().Len()
	r.sums.mu.Unlock()
	if held != maxLoadedSets {
		t.Fatalf("%d sets held, want %d", held, maxLoadedSets)
	}
}
