package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestConcurrent runs adds that share chunks, commits, aborts, pins, loose
// puts, GC, Verify and Stat at the same time, then checks that every pinned
// contribution is whole and the accounting is exact. Run it with -race.
func TestConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		const (
			chunk   = MinChunkSize
			workers = 6
			adds    = 12
		)
		common := make([][]byte, 6)
		for i := range common {
			common[i] = randBytes(uint64(1000+i), chunk)
		}
		type pinned struct {
			obj    cid.Cid
			shards []cid.Cid
			data   []byte
		}
		var (
			mu      sync.Mutex
			kept    []pinned
			done    atomic.Bool
			workErr = make(chan error, workers+1)
			wg      sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for i := range adds {
					// A file of shared and unique chunks, with a short tail.
					var file bytes.Buffer
					for range 1 + r.IntN(6) {
						if r.IntN(2) == 0 {
							file.Write(common[r.IntN(len(common))])
						} else {
							file.Write(randBytes(r.Uint64(), chunk))
						}
					}
					file.Write(randBytes(r.Uint64(), r.IntN(chunk)))
					data := file.Bytes()

					ss, err := s.NewSession(ctx, int64(len(data)))
					if err != nil {
						workErr <- err
						return
					}
					refs, err := ss.Chunk(ctx, bytes.NewReader(data), chunk, nil)
					if err != nil {
						workErr <- err
						return
					}
					objData, obj := testObject(fmt.Sprintf("w%d-%d", w, i))
					switch r.IntN(4) {
					case 0:
						err = ss.Abort()
					case 1:
						err = ss.Commit(ctx, obj, objData, cidsOf(refs), false)
					default:
						err = ss.Commit(ctx, obj, objData, cidsOf(refs), true)
						if err == nil {
							mu.Lock()
							kept = append(kept, pinned{obj, cidsOf(refs), data})
							mu.Unlock()
						}
					}
					if err != nil {
						workErr <- err
						return
					}
					if _, err := s.PutShard(ctx, common[r.IntN(len(common))]); err != nil {
						workErr <- err
						return
					}
				}
			})
		}
		var maint sync.WaitGroup
		maint.Go(func() {
			for !done.Load() {
				if _, err := s.GC(ctx); err != nil {
					workErr <- fmt.Errorf("GC: %w", err)
					return
				}
				if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) > 0 {
					workErr <- fmt.Errorf("Verify = %+v, %v", res, err)
					return
				}
				if _, err := s.Stat(ctx); err != nil {
					workErr <- fmt.Errorf("Stat: %w", err)
					return
				}
			}
		})
		wg.Wait()
		done.Store(true)
		maint.Wait()
		close(workErr)
		for err := range workErr {
			t.Fatal(err)
		}
		if _, reserved := s.Usage(); reserved != 0 {
			t.Fatalf("%d bytes still reserved", reserved)
		}
		if _, err := s.GC(ctx); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, s)
		if len(kept) == 0 {
			t.Fatal("no pinned contribution to check")
		}
		for _, p := range kept {
			// Links is a set: a file repeating a chunk links it once.
			links, err := s.Links(ctx, p.obj)
			if err != nil {
				t.Fatalf("pinned %s: %v", p.obj, err)
			}
			if want, _ := mergeLinks(nil, p.shards); !slices.EqualFunc(links, want, cid.Cid.Equals) {
				t.Fatalf("pinned %s: Links = %v, want %v", p.obj, links, want)
			}
			r, err := s.NewFileReader(ctx, p.shards, chunk, int64(len(p.data)))
			if err != nil {
				t.Fatalf("pinned %s: %v", p.obj, err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, p.data) {
				t.Fatalf("pinned %s: read back %d bytes, %v", p.obj, len(got), err)
			}
		}
		if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) > 0 {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
		for _, p := range []byte{prefixSession, prefixSessionShard, prefixShardSession} {
			if n := countPrefix(t, s, p); n != 0 {
				t.Fatalf("%d %q keys left", n, p)
			}
		}
	})
}

// TestCloseDuringWork closes the store while adds and GCs run: they must
// stop with ErrClosed (or finish), and Close must wait for them.
func TestCloseDuringWork(t *testing.T) {
	s, err := Open(DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	started := make(chan struct{}, 4)
	for i := range 4 {
		wg.Go(func() {
			ss, err := s.NewSession(ctx, 0)
			if err != nil {
				started <- struct{}{}
				return
			}
			_, err = ss.Chunk(ctx, bytes.NewReader(randBytes(uint64(i), 64<<20)), MinChunkSize, func(int64) {
				select {
				case started <- struct{}{}:
				default:
				}
			})
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Chunk during Close: %v", err)
			}
		})
	}
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
