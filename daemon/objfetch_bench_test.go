package daemon

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/openledger/openledger/internal/benchprof"
)

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// freshPeer starts a networked node with an empty repo, connected to to;
// stop closes it.
func freshPeer(tb testing.TB, to testPeer) (p testPeer, stop func()) {
	tb.Helper()
	n, _, stopNode := startTestNode(tb, nil, Options{Version: "test"})
	p = testPeer{n: n, rpc: n.InProc()}
	var id IDResult
	if err := to.rpc.Call(&id, "node_id"); err != nil {
		tb.Fatal(err)
	}
	if _, err := n.net.p2p.Connect(context.Background(), id.Addrs[0]); err != nil {
		tb.Fatal(err)
	}
	return p, func() {
		p.rpc.Close()
		stopNode()
	}
}

// BenchmarkFetchSnapshot: a fresh node fetches a snapshot of size
// contributions from the node that cut it (one process, loopback TCP):
// one provider lookup, then the Datanet, the contributions and the
// snapshot and its chunks, each checked and stored. cpu-s/op is the CPU
// of both nodes. size=100000 runs only with OPENLEDGER_BIG=1 and
// size=1000000 only with OPENLEDGER_BIG=2 (building it takes minutes).
func BenchmarkFetchSnapshot(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000, 1000000} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			if n > 10_000 && os.Getenv("OPENLEDGER_BIG") == "" {
				b.Skip("set OPENLEDGER_BIG=1")
			}
			if n > 100_000 && os.Getenv("OPENLEDGER_BIG") != "2" {
				b.Skip("set OPENLEDGER_BIG=2")
			}
			src := newTestNet(b, 1)[0]
			data := buildCurated(b, src.n, n)
			snap := cutSnapshot(b, src, data.dn)
			benchFetch(b, src, func(p testPeer) (*objectFetch, error) {
				return p.n.fetchObjectGraph(context.Background(), snap)
			})
		})
	}
}

// BenchmarkFetchObjects: a fresh node fetches a Datanet of size
// contributions and 2×size votes from another by the format-independent
// part of a snapshot fetch (levels: the Datanet, the contributions, the
// votes), each checked and stored.
func BenchmarkFetchObjects(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			src := newTestNet(b, 1)[0]
			data := buildCurated(b, src.n, n)
			benchFetch(b, src, func(p testPeer) (*objectFetch, error) {
				ctx := context.Background()
				f := &objectFetch{n: p.n, root: data.dn, start: time.Now()}
				f.peers, f.nprov = p.n.candidates(ctx, data.dn)
				for _, l := range [][]cid.Cid{{data.dn}, data.contribs, data.votes} {
					if err := f.level(ctx, cidValues(l), 0); err != nil {
						return f, err
					}
				}
				return f, nil
			})
		})
	}
}

func benchFetch(b *testing.B, src testPeer, fetch func(testPeer) (*objectFetch, error)) {
	b.ReportAllocs()
	var objects, bytes int64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		p, stop := freshPeer(b, src)
		b.StartTimer()
		cpu0 := cpuTime(b)
		stopProfile := benchprof.Start(b, os.Getenv("OPENLEDGER_FETCH_PROFILE")) // the fetch alone, not the building of the data
		f, err := fetch(p)
		stopProfile()
		cpu += cpuTime(b) - cpu0
		if err != nil {
			b.Fatal(err)
		}
		objects += f.objects.Load()
		bytes += f.bytes.Load()
		b.StopTimer()
		stop()
		b.StartTimer()
	}
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
