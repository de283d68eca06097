package datanet

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/openledger/openledger/internal/benchprof"
)

// scaleSizes are the Datanet sizes of BenchmarkScale: contributions, each
// with two votes. OPENLEDGER_SCALE overrides them (e.g. "1000,10000,100000").
func scaleSizes() []int {
	sizes := []int{1000, 10000}
	if s := os.Getenv("OPENLEDGER_SCALE"); s != "" {
		sizes = nil
		for _, f := range splitComma(s) {
			n, err := strconv.Atoi(f)
			if err == nil && n > 0 {
				sizes = append(sizes, n)
			}
		}
	}
	return sizes
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// scaleWorld is a registry holding a Datanet of n contributions, each
// accepted by two of its three curators (owner weight 2, curator 1,
// quorum 2).
type scaleWorld struct {
	r     *Registry
	id    cid.Cid
	ks    []cid.Cid
	build time.Duration // adding the contributions and votes
	adds  time.Duration // of which the contributions
}

// bulkScale is the size above which newScaleWorld builds in bulk
// (OPENLEDGER_SCALE_BULK=1 for every size).
const bulkScale = 100_000

func newScaleWorld(b *testing.B, n int) *scaleWorld {
	b.Helper()
	if n > bulkScale || os.Getenv("OPENLEDGER_SCALE_BULK") != "" {
		return newScaleWorldBulk(b, n)
	}
	f := newStateFixture(b)
	f.r.now = func() time.Time { return stateClock }
	w := &scaleWorld{r: f.r, id: f.id}
	start := time.Now()
	for i := range n {
		w.ks = append(w.ks, mustSubmit(b, f.r, memContribution(b, f.id, contributorSigner(b), stateContributed, i)))
	}
	w.adds = time.Since(start)
	for _, k := range w.ks {
		mustSubmit(b, f.r, signedVoteOn(b, f.id, k, ownerSigner(b), Approve, 0, stateVoted))
		mustSubmit(b, f.r, signedVoteOn(b, f.id, k, curatorSigner(b), Approve, 0, stateVoted))
	}
	w.build = time.Since(start)
	return w
}

// newScaleWorldBulk is newScaleWorld for 10^6: the objects are signed on
// every core, a chunk at a time, while the previous chunk is stored by
// Registry.PutMany (checked and indexed as received from the network).
// build and adds are then the whole build.
func newScaleWorldBulk(b *testing.B, n int) *scaleWorld {
	b.Helper()
	f := newStateFixture(b)
	f.r.now = func() time.Time { return stateClock }
	w := &scaleWorld{r: f.r, id: f.id}
	owner, curator, contributor := ownerSigner(b), curatorSigner(b), contributorSigner(b)
	const chunk = 4096
	type signed struct {
		data [][]byte
		ks   []cid.Cid
	}
	chunks := make(chan signed, 1)
	go func() {
		defer close(chunks)
		for lo := 0; lo < n; lo += chunk {
			hi := min(n, lo+chunk)
			out := signed{data: make([][]byte, 3*(hi-lo)), ks: make([]cid.Cid, hi-lo)}
			parallel(hi-lo, func(j int) {
				k := memContribution(b, f.id, contributor, stateContributed, lo+j)
				data, err := k.Encode()
				if err != nil {
					panic(err)
				}
				kc, _ := ObjectCID(data)
				out.ks[j] = kc
				out.data[3*j] = data
				out.data[3*j+1], _ = signedVoteOn(b, f.id, kc, owner, Approve, 0, stateVoted).Encode()
				out.data[3*j+2], _ = signedVoteOn(b, f.id, kc, curator, Approve, 0, stateVoted).Encode()
			})
			chunks <- out
		}
	}()
	start := time.Now()
	ctx := context.Background()
	for c := range chunks {
		res, err := f.r.PutMany(ctx, c.data)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		w.ks = append(w.ks, c.ks...)
	}
	w.build = time.Since(start)
	w.adds = w.build
	return w
}

// heapMB is the live heap after a GC, in MiB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkScale measures, on Datanets of 1k and 10k contributions with 2
// votes each (OPENLEDGER_SCALE for others), what issue 11 sets goals for:
// ingest through the registry, the interactive reads, a cut from scratch,
// an incremental cut after 1% more contributions, and the full and the
// gossip-path verification. Each sub-benchmark reports its figures as
// metrics; run with -benchtime=1x.
func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	for _, n := range scaleSizes() {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			for b.Loop() {
				w := newScaleWorld(b, n)
				if w.adds == w.build {
					b.ReportMetric(float64(3*n)/w.build.Seconds(), "bulk-objects/s")
				} else {
					b.ReportMetric(float64(n)/w.adds.Seconds(), "adds/s")
					b.ReportMetric(float64(2*n)/(w.build-w.adds).Seconds(), "votes/s")
				}

				t := time.Now()
				if _, err := w.r.Counts(ctx, w.id); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(time.Since(t).Microseconds())/1000, "counts-ms")
				t = time.Now()
				if _, err := w.r.ContributionsByStatus(ctx, w.id, Accepted, cid.Undef, DefaultPage); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(time.Since(t).Microseconds())/1000, "page-ms")
				t = time.Now()
				if _, err := w.r.DatanetsPage(ctx, cid.Undef, DefaultPage); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(time.Since(t).Microseconds())/1000, "list-ms")

				before := heapMB()
				stopProfile := benchprof.Start(b, os.Getenv("OPENLEDGER_CUT_PROFILE"))
				t = time.Now()
				s, _, stats, err := w.r.CutSnapshot(ctx, w.id, ownerSigner(b), stateClock)
				stopProfile()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(t).Seconds(), "cut-s")
				b.ReportMetric(float64(stats.Leaves), "leaves")

				stopProfile = benchprof.Start(b, os.Getenv("OPENLEDGER_VERIFY_PROFILE"))
				t = time.Now()
				rep, err := w.r.VerifySnapshot(ctx, s)
				stopProfile()
				if err != nil || rep.Entries != uint64(n) {
					b.Fatalf("VerifySnapshot = %+v %v", rep, err)
				}
				b.ReportMetric(time.Since(t).Seconds(), "verify-s")

				// 1% more contributions, accepted; an incremental cut.
				extra := max(n/100, 1)
				for i := range extra {
					k := mustSubmit(b, w.r, memContribution(b, w.id, contributorSigner(b), stateContributed, n+i))
					mustSubmit(b, w.r, signedVoteOn(b, w.id, k, ownerSigner(b), Approve, 0, stateVoted))
					mustSubmit(b, w.r, signedVoteOn(b, w.id, k, curatorSigner(b), Approve, 0, stateVoted))
				}
				t = time.Now()
				s2, _, stats2, err := w.r.CutSnapshot(ctx, w.id, ownerSigner(b), stateClock.Add(time.Minute))
				if err != nil || s2.Count != uint64(n+extra) {
					b.Fatalf("incremental cut: %+v %v", s2, err)
				}
				b.ReportMetric(time.Since(t).Seconds(), "cut2-s")
				b.ReportMetric(float64(stats2.Reused), "reused")
				b.ReportMetric(heapMB()-before, "heap-MiB")
			}
		})
	}
}

// parallel calls fn(i) for every i in [0, n), on every core.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}
