package exchange

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// benchServerEnv makes the test binary a shard server for
// BenchmarkFetchProcesses instead of running tests; its value is
// "security,muxer,shards".
const benchServerEnv = "EXCHANGE_BENCH_SERVER"

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hostOptions returns the transport options (base) and the other options
// of a host with the named security transport and yamux setting from
// securities and muxers; security "quic" is QUIC alone.
func hostOptions(security, muxer string) (base, opts []libp2p.Option, err error) {
	if security == "quic" {
		return quicOptions(), nil, nil
	}
	for _, s := range securities {
		if s.name == security {
			opts = append(opts, s.opt)
		}
	}
	for _, m := range muxers {
		if m.name == muxer {
			opts = append(opts, yamuxOption(m.set))
		}
	}
	if len(opts) != 2 {
		return nil, nil, fmt.Errorf("unknown security %q or muxer %q", security, muxer)
	}
	return tcpOptions(), opts, nil
}

// runBenchServer serves the first n bench shards until stdin ends. It
// prints "ready <multiaddr>/p2p/<id>", and answers each line "cpu" on
// stdin with the CPU time it has used, in nanoseconds.
func runBenchServer(spec string) error {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		return fmt.Errorf("bad %s %q", benchServerEnv, spec)
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return err
	}
	base, opts, err := hostOptions(parts[0], parts[1])
	if err != nil {
		return err
	}
	data, _ := testShards(n, benchShard)
	h, err := libp2p.New(append(base, opts...)...)
	if err != nil {
		return err
	}
	defer h.Close()
	srv, err := NewServer(h, newMemStore(data...), DefaultServerConfig())
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("ready %s/p2p/%s\n", h.Addrs()[0], h.ID())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "cpu" {
			fmt.Printf("%d\n", cpuTime())
		}
	}
	return nil
}

// benchChild is a server process started by BenchmarkFetchProcesses.
type benchChild struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	info peer.AddrInfo
}

func startBenchChild(b *testing.B, security, muxer string, n int) *benchChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d", benchServerEnv, security, muxer, n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &benchChild{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(func() {
		_ = c.in.Close()
		_ = c.cmd.Wait()
	})
	if !c.out.Scan() {
		b.Fatalf("bench server: no ready line: %v", c.out.Err())
	}
	addr, ok := strings.CutPrefix(c.out.Text(), "ready ")
	if !ok {
		b.Fatalf("bench server said %q", c.out.Text())
	}
	ma, err := multiaddr.NewMultiaddr(addr)
	if err != nil {
		b.Fatal(err)
	}
	info, err := peer.AddrInfoFromP2pAddr(ma)
	if err != nil {
		b.Fatal(err)
	}
	c.info = *info
	return c
}

func (c *benchChild) cpu(b *testing.B) time.Duration {
	if _, err := io.WriteString(c.in, "cpu\n"); err != nil {
		b.Fatal(err)
	}
	if !c.out.Scan() {
		b.Fatalf("bench server: %v", c.out.Err())
	}
	ns, err := strconv.ParseInt(c.out.Text(), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns)
}

// BenchmarkFetchProcesses fetches 1 MiB shards from server processes (this
// test binary started again) over loopback TCP: the deployment case, two
// processes on one machine. It reports the CPU time both sides spent per
// GiB.
func BenchmarkFetchProcesses(b *testing.B) {
	type variant struct {
		providers, mib  int
		security, muxer string
	}
	variants := []variant{
		{1, 1024, "tls", "default"},
		{1, 1024, "noise", "default"},
		{1, 1024, "tls", "msg=1MiB"},
		{1, 1024, "noise", "msg=1MiB"},
		{1, 1024, "quic", ""},
		{3, 1024, "tls", "default"},
	}
	for _, v := range variants {
		name := fmt.Sprintf("providers=%d/size=%dMiB/%s", v.providers, v.mib, v.security)
		if v.muxer != "" {
			name += "/" + v.muxer
		}
		b.Run(name, func(b *testing.B) {
			base, opts, err := hostOptions(v.security, v.muxer)
			if err != nil {
				b.Fatal(err)
			}
			client := newHostOn(b, base, opts...)
			children := make([]*benchChild, v.providers)
			ids := make([]peer.ID, v.providers)
			for i := range children {
				children[i] = startBenchChild(b, v.security, v.muxer, v.mib)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := client.Connect(ctx, children[i].info)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = children[i].info.ID
			}
			benchData() // made before the CPU clock starts
			cpu0 := cpuTime()
			for _, c := range children {
				cpu0 += c.cpu(b)
			}
			benchFetch(b, newClient(b, client, DefaultClientConfig()), v.mib, ids)
			b.StopTimer()
			cpu := cpuTime()
			for _, c := range children {
				cpu += c.cpu(b)
			}
			reportCPU(b, cpu-cpu0, int64(v.mib)*benchShard)
		})
	}
}

// reportCPU reports CPU seconds per GiB fetched, over all b.N iterations.
func reportCPU(b *testing.B, cpu time.Duration, bytesPerOp int64) {
	gib := float64(bytesPerOp) * float64(b.N) / (1 << 30)
	b.ReportMetric(cpu.Seconds()/gib, "cpu-s/GiB")
}
