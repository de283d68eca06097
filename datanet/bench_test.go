package datanet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/openledger/openledger/storage"
)

var benchSizes = []int64{64 << 20, 1 << 30}

// benchFile writes size pseudo-random bytes (no dedup possible) to a file.
func benchFile(b *testing.B, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "input.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{byte(size)})
	if _, err := io.CopyN(f, rng, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkAdd is `openledger add` of one file without the RPC: read, chunk
// into 1 MiB shards, hash, store in Badger under a session, build the Merkle
// tree, sign and commit the contribution. Each iteration uses a fresh store.
func BenchmarkAdd(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			in := benchFile(b, size)
			signer := contributorSigner(b)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "store")
				store, err := storage.Open(storage.DefaultConfig(dir))
				if err != nil {
					b.Fatal(err)
				}
				r := newRegistryOn(b, store)
				dn, _, err := r.CreateDatanet(context.Background(), DatanetSpec{Name: "bench"}, 1337, ownerSigner(b), testNow)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, _, err := r.Add(context.Background(), []string{in}, AddOptions{Datanet: dn, ChunkSize: storage.DefaultChunkSize}, signer, testNow); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := store.Close(); err != nil {
					b.Fatal(err)
				}
				os.RemoveAll(dir)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkAddBaseline measures the physical limits BenchmarkAdd is set
// against, on the same file in the same run: sha256 over the bytes as they
// are read, and a plain copy into a new file (write and close, no fsync).
func BenchmarkAddBaseline(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("sha256/size=%d", size), func(b *testing.B) {
			in := benchFile(b, size)
			buf := make([]byte, 1<<20)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				f, err := os.Open(in)
				if err != nil {
					b.Fatal(err)
				}
				h := sha256.New()
				if _, err := io.CopyBuffer(h, f, buf); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		b.Run(fmt.Sprintf("filewrite/size=%d", size), func(b *testing.B) {
			in := benchFile(b, size)
			out := filepath.Join(b.TempDir(), "copy.bin")
			buf := make([]byte, 1<<20)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				src, err := os.Open(in)
				if err != nil {
					b.Fatal(err)
				}
				dst, err := os.Create(out)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(struct{ io.Writer }{dst}, src, buf); err != nil {
					b.Fatal(err)
				}
				src.Close()
				if err := dst.Close(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.Remove(out)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkCheckVote is the gossip validator's work for a vote, on a real
// store: strict decode, signature, the Datanet's head (cached), the
// contribution, and the curator's earlier votes (held: 0 or 100 others on
// the same contribution).
func BenchmarkCheckVote(b *testing.B) {
	for _, held := range []int{0, 100} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			ctx := context.Background()
			f := newStateFixture(b)
			for i := range held {
				v := signedVoteOn(b, f.id, f.k, ownerSigner(b), Approve, uint64(i), stateVoted)
				if _, err := f.r.Submit(ctx, v); err != nil {
					b.Fatal(err)
				}
			}
			data := encodeObject(b, signedVoteOn(b, f.id, f.k, curatorSigner(b), Approve, 0, stateVoted))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.r.Check(ctx, f.id, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "votes/s")
		})
	}
}
