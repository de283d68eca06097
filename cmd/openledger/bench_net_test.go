package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/daemon"
)

const benchFetchSize = 1 << 30

// benchInput writes size pseudo-random bytes to a file.
func benchInput(b *testing.B, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "random.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{42}), size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkFetchDaemons fetches 1 GiB of random bytes between two
// `openledger daemon` processes over loopback TCP: the provider added it, the
// fetcher runs content_fetch (find the object, fetch every shard, verify,
// store). Each iteration uses a fresh fetching daemon.
func BenchmarkFetchDaemons(b *testing.B) {
	in := benchInput(b, benchFetchSize)
	provider := newCLI(b)
	provider.startDaemon("--listen", "/ip4/127.0.0.1/tcp/0")
	var pid daemon.IDResult
	provider.json(&pid, "id")
	var dn struct{ ID string }
	provider.json(&dn, "datanet", "create", "bench")
	var added addJSON
	provider.json(&added, "add", in, "--datanet", dn.ID)

	b.SetBytes(benchFetchSize)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fetcher := newCLI(b)
		_, proc := fetcher.startDaemon("--listen", "/ip4/127.0.0.1/tcp/0")
		fetcher.ok("connect", pid.Addrs[0])
		client, err := rpc.Dial(filepath.Join(fetcher.repo, daemon.IPCFile))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var res daemon.FetchResult
		if err := client.CallContext(context.Background(), &res, "content_fetch", added.CID); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if res.Bytes != benchFetchSize {
			b.Fatalf("fetched %d bytes", res.Bytes)
		}
		client.Close()
		proc.Process.Kill()
		proc.Wait()
		b.StartTimer()
	}
}

// BenchmarkRawTCPLoopback copies the same bytes from the same file over a
// loopback TCP connection, the physical limit BenchmarkFetchDaemons is set
// against.
func BenchmarkRawTCPLoopback(b *testing.B) {
	in := benchInput(b, benchFetchSize)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	b.SetBytes(benchFetchSize)
	b.ReportAllocs()
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer conn.Close()
			n, err := io.Copy(io.Discard, conn)
			if err == nil && n != benchFetchSize {
				err = fmt.Errorf("received %d bytes", n)
			}
			done <- err
		}()
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(conn, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		conn.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
