package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/bignet"
	"github.com/openledger/openledger/storage"
)

// BenchmarkDaemonAtScale runs a real `openledger daemon` over a repo that
// holds a Datanet of size contributions and 2·size votes (built into its
// store in process, by bignet, before the daemon starts), and measures what
// an operator sees: the daemon's memory once it has started and warmed its
// index, the interactive reads through the JSON-RPC, and a snapshot cut
// and verify through the RPC with the memory they take. Sizes come from
// OPENLEDGER_DAEMON_SCALE (default 10000; e.g. 1000000).
func BenchmarkDaemonAtScale(b *testing.B) {
	size := 10_000
	if s := os.Getenv("OPENLEDGER_DAEMON_SCALE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	c := newCLI(b)
	t0 := time.Now()
	net := buildRepo(b, c.repo, size)
	b.Logf("built %d contributions (%d objects) in %s", size, net.Objects, time.Since(t0).Round(time.Second))
	for b.Loop() {
		_, proc := c.startDaemon("--offline")
		pid := proc.Process.Pid
		client, err := rpc.Dial(filepath.Join(c.repo, daemon.IPCFile))
		if err != nil {
			b.Fatal(err)
		}
		api := daemon.NewAPI(client)
		ctx := context.Background()
		id := net.ID.String()
		time.Sleep(5 * time.Second) // warmIndex runs in the background at start
		started := procMemory(b, pid)
		b.ReportMetric(started.anonMiB, "start-anon-MiB")
		b.ReportMetric(started.fileMiB, "start-file-MiB")

		timed := func(name string, fn func() error) {
			best := time.Duration(1 << 62)
			for range 5 {
				t := time.Now()
				if err := fn(); err != nil {
					b.Fatalf("%s: %v", name, err)
				}
				best = min(best, time.Since(t))
			}
			b.ReportMetric(float64(best.Microseconds())/1000, name+"-ms")
		}
		timed("show", func() error { _, err := api.DatanetShow(ctx, id, nil); return err })
		timed("status", func() error { _, err := api.CurationStatus(ctx, id); return err })
		timed("pending", func() error { _, err := api.CurationPending(ctx, id, nil); return err })
		timed("list", func() error { _, err := api.DatanetList(ctx, nil); return err })
		reads := procMemory(b, pid)
		b.ReportMetric(reads.anonMiB, "reads-anon-MiB")

		t := time.Now()
		snap, err := api.SnapshotCut(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t).Seconds(), "cut-s")
		t = time.Now()
		verdict, err := api.SnapshotVerify(ctx, snap.CID)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t).Seconds(), "verify-s")
		if !verdict.OK {
			b.Fatalf("snapshot verify: %+v", verdict)
		}
		after := procMemory(b, pid)
		b.ReportMetric(after.anonMiB, "after-anon-MiB")
		b.ReportMetric(after.peakMiB, "peak-rss-MiB")
		b.ReportMetric(after.fileMiB, "after-file-MiB")
		client.Close()
	}
}

// buildRepo stores a bignet Datanet of size contributions in the store of
// the repo at dir, as received from the network.
func buildRepo(b *testing.B, dir string, size int) *bignet.Net {
	b.Helper()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(dir, daemon.DatastoreDir)))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	reg, err := datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}})
	if err != nil {
		b.Fatal(err)
	}
	return bignet.Build(b, reg, size, bignet.Options{Seed: 1})
}

// memory is a process's resident memory, in MiB: anonymous (heap, stacks,
// Badger's caches and tables' indexes), file-backed (Badger's memory-mapped
// tables and value log: page cache the kernel reclaims under pressure), and
// the peak of both.
type memory struct {
	anonMiB, fileMiB, peakMiB float64
}

func procMemory(b *testing.B, pid int) memory {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	var m memory
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "RssAnon:":
			m.anonMiB = kb / 1024
		case "RssFile:":
			m.fileMiB = kb / 1024
		case "VmHWM:":
			m.peakMiB = kb / 1024
		}
	}
	return m
}
