package daemon

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/openledger/openledger/datanet"
	"golang.org/x/sync/errgroup"
)

// BenchmarkFetchInProcess fetches 256 MiB between two nodes in this process
// over loopback: the daemon's fetch path (exchange client, verification,
// store) without process boundaries, for profiling.
func BenchmarkFetchInProcess(b *testing.B) {
	const size = 256 << 20
	in := filepath.Join(b.TempDir(), "in.bin")
	f, _ := os.Create(in)
	io.CopyN(f, rand.NewChaCha8([32]byte{7}), size)
	f.Close()
	t := &testing.T{}
	_ = t
	provider := benchNode(b)
	pc := provider.InProc()
	defer pc.Close()
	var dn DatanetView
	if err := pc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	var added AddResult
	if err := pc.Call(&added, "content_add", AddArgs{Paths: []string{in}, Datanet: dn.ID}); err != nil {
		b.Fatal(err)
	}
	var id IDResult
	pc.Call(&id, "node_id")
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fetcher := benchNode(b)
		fc := fetcher.InProc()
		if err := fc.Call(nil, "node_connect", id.Addrs[0]); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var res FetchResult
		if err := fc.CallContext(context.Background(), &res, "content_fetch", added.CID); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		fc.Close()
		b.StartTimer()
	}
}

func benchNode(b *testing.B) *Node {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "repo")
	cfg, _ := ProfileConfig("test")
	cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	if _, err := InitRepo(dir, InitOptions{Config: &cfg}); err != nil {
		b.Fatal(err)
	}
	repo, err := OpenRepo(dir)
	if err != nil {
		b.Fatal(err)
	}
	n, err := NewNode(repo, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close(); repo.Close() })
	return n
}

// BenchmarkRPCIngest adds small contributions and votes on them through the
// node's JSON-RPC (the in-process client), with 16 requests in flight: the
// path a client that feeds a Datanet takes, store, index and post-store
// loop included. It reports adds/s and votes/s.
func BenchmarkRPCIngest(b *testing.B) {
	const n, inFlight = 2000, 16
	dir := b.TempDir()
	var paths []string
	for i := range n {
		p := filepath.Join(dir, "c"+strconv.Itoa(i)+".txt")
		if err := os.WriteFile(p, []byte("contribution number "+strconv.Itoa(i)), 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	for b.Loop() {
		b.StopTimer()
		node := benchNode(b)
		c := node.InProc()
		var dn DatanetView
		if err := c.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "ingest"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cids := make([]string, n)
		run := func(what string, call func(i int) error) float64 {
			start := time.Now()
			var g errgroup.Group
			g.SetLimit(inFlight)
			for i := range n {
				g.Go(func() error { return call(i) })
			}
			if err := g.Wait(); err != nil {
				b.Fatalf("%s: %v", what, err)
			}
			return float64(n) / time.Since(start).Seconds()
		}
		adds := run("add", func(i int) error {
			var res AddResult
			err := c.Call(&res, "content_add", AddArgs{Paths: []string{paths[i]}, Datanet: dn.ID})
			cids[i] = res.CID
			return err
		})
		votes := run("vote", func(i int) error {
			return c.Call(nil, "curation_vote", VoteArgs{Contribution: cids[i], Decision: "approve"})
		})
		b.StopTimer()
		b.ReportMetric(adds, "adds/s")
		b.ReportMetric(votes, "votes/s")
		c.Close()
		b.StartTimer()
	}
}
