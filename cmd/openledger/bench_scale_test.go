package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
// OPENLEDGER_DAEMON_SCALE (default 10000; e.g. 1000000);
// OPENLEDGER_DAEMON_MAPPED sets storage.mapped_memory (default: the
// config's default; "0" leaves mapped pages to the kernel);
// OPENLEDGER_DAEMON_SOURCE names a directory that keeps the built repo's
// store: built there if missing, copied from there otherwise, so that
// runs compare from the same state without building again;
// OPENLEDGER_DAEMON_CGROUP names a memory cgroup (v1 or v2) to start the
// daemon in, after dropping the kernel's page cache so that the pages the
// daemon reads are charged to it (root only); its peak usage is reported.
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
	if v, ok := os.LookupEnv("OPENLEDGER_DAEMON_MAPPED"); ok {
		repo, err := daemon.OpenRepo(c.repo)
		if err != nil {
			b.Fatal(err)
		}
		repo.Config.Storage.MappedMemory = v
		err = errors.Join(repo.SaveConfig(), repo.Close())
		if err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	store := filepath.Join(c.repo, daemon.DatastoreDir)
	source := os.Getenv("OPENLEDGER_DAEMON_SOURCE")
	if _, err := os.Stat(source); source != "" && err == nil {
		if out, err := exec.Command("cp", "-a", source, store).CombinedOutput(); err != nil {
			b.Fatalf("copy %s: %v\n%s", source, err, out)
		}
		b.Logf("copied the store from %s in %s", source, time.Since(t0).Round(time.Second))
	} else {
		net := buildRepo(b, c.repo, size)
		b.Logf("built %d contributions (%d objects) in %s", size, net.Objects, time.Since(t0).Round(time.Second))
		if source != "" {
			if out, err := exec.Command("cp", "-a", store, source).CombinedOutput(); err != nil {
				b.Fatalf("keep the store in %s: %v\n%s", source, err, out)
			}
		}
	}
	for b.Loop() {
		cgroup := os.Getenv("OPENLEDGER_DAEMON_CGROUP")
		if cgroup != "" {
			if out, err := exec.Command("sh", "-c", "sync && echo 3 > /proc/sys/vm/drop_caches").CombinedOutput(); err != nil {
				b.Fatalf("drop caches: %v\n%s", err, out)
			}
		}
		_, proc := c.startDaemon("--offline")
		pid := proc.Process.Pid
		if cgroup != "" {
			// The daemon's first moments (opening the store) run outside it.
			if err := os.WriteFile(filepath.Join(cgroup, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		client, err := rpc.Dial(filepath.Join(c.repo, daemon.IPCFile))
		if err != nil {
			b.Fatal(err)
		}
		api := daemon.NewAPI(client)
		ctx := context.Background()
		dns, err := api.DatanetList(ctx, nil)
		if err != nil || len(dns) != 1 {
			b.Fatalf("datanet_list: %d Datanets, %v; want the one built", len(dns), err)
		}
		id := dns[0].ID
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

		// The peaks of each kind of memory through the cut and the verify,
		// sampled every 50 ms (VmHWM is the peak of their sum).
		var peak memory
		stopSampling := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				m, _ := readMemory(pid) // zero once the daemon is gone
				peak.anonMiB, peak.fileMiB = max(peak.anonMiB, m.anonMiB), max(peak.fileMiB, m.fileMiB)
				select {
				case <-stopSampling:
					return
				case <-tick.C:
				}
			}
		}()
		t := time.Now()
		st0 := procStat(b, pid)
		snap, err := api.SnapshotCut(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t).Seconds(), "cut-s")
		st1 := procStat(b, pid)
		b.ReportMetric(st1.cpuS-st0.cpuS, "cut-cpu-s")
		b.ReportMetric(st1.minflt-st0.minflt, "cut-minflt")
		t = time.Now()
		verdict, err := api.SnapshotVerify(ctx, snap.CID)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t).Seconds(), "verify-s")
		if !verdict.OK {
			b.Fatalf("snapshot verify: %+v", verdict)
		}
		close(stopSampling)
		<-sampled
		b.ReportMetric(peak.anonMiB, "peak-anon-MiB")
		b.ReportMetric(peak.fileMiB, "peak-file-MiB")
		if cgroup != "" {
			for _, name := range []string{"memory.max_usage_in_bytes", "memory.peak"} {
				if v, err := os.ReadFile(filepath.Join(cgroup, name)); err == nil {
					n, _ := strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
					b.ReportMetric(n/(1<<20), "cgroup-peak-MiB")
				}
			}
		}
		after := procMemory(b, pid)
		b.ReportMetric(after.anonMiB, "after-anon-MiB")
		b.ReportMetric(after.peakMiB, "peak-rss-MiB")
		b.ReportMetric(after.fileMiB, "after-file-MiB")
		// At rest: the store checks its mapped memory every second
		// (storage/mapped.go); docs/benchmarks.md reports RSS 20 s on.
		time.Sleep(20 * time.Second)
		rest := procMemory(b, pid)
		b.ReportMetric(rest.anonMiB+rest.fileMiB, "rest-rss-MiB")
		client.Close()
		if log, err := os.ReadFile(c.daemonLog); err == nil {
			b.ReportMetric(float64(strings.Count(string(log), "mapped memory released")), "releases")
		}
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
	m, err := readMemory(pid)
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	return m
}

func readMemory(pid int) (memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
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
	return m, nil
}

// stat is a process's CPU time and minor page faults so far.
type stat struct{ cpuS, minflt float64 }

// procStat reads /proc/PID/stat: minflt is field 10, utime and stime
// fields 14 and 15, in clock ticks (100 a second on Linux).
func procStat(b *testing.B, pid int) stat {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	num := func(field int) float64 {
		v, _ := strconv.ParseFloat(f[field-3], 64)
		return v
	}
	return stat{cpuS: (num(14) + num(15)) / 100, minflt: num(10)}
}
