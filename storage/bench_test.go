package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
)

// benchSizes are the input sizes of the throughput benchmarks.
var benchSizes = []int{1 << 20, 64 << 20, 1 << 30}

func sizeName(n int) string { return fmt.Sprintf("size=%d", n) }

// salt makes the chunks of data differ from those of earlier iterations, so
// every iteration stores new shards rather than finding them stored.
func salt(data []byte, iter uint64) {
	for off := 0; off+8 <= len(data); off += DefaultChunkSize {
		binary.LittleEndian.PutUint64(data[off:], iter)
	}
}

// BenchmarkAdd chunks and stores data from memory into a store on disk
// (b.TempDir) and commits it, as `openledger add` does.
func BenchmarkAdd(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) { benchmarkAdd(b, size, false) })
	}
}

// BenchmarkAddSync is BenchmarkAdd followed by an fsync of Badger's files,
// for comparison with BenchmarkFileWrite's fsync=true.
func BenchmarkAddSync(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) { benchmarkAdd(b, size, true) })
	}
}

func benchmarkAdd(b *testing.B, size int, sync bool) {
	ctx := context.Background()
	data := randBytes(1, size)
	s := openStore(b, DefaultConfig(b.TempDir()))
	var iter uint64
	add := func() {
		iter++
		salt(data, iter)
		ss, err := s.NewSession(ctx, int64(size))
		if err != nil {
			b.Fatal(err)
		}
		refs, err := ss.Chunk(ctx, bytes.NewReader(data), DefaultChunkSize, nil)
		if err != nil {
			b.Fatal(err)
		}
		objData, obj := testObject(fmt.Sprintf("bench-%d", iter))
		if err := ss.Commit(ctx, obj, objData, cidsOf(refs), true); err != nil {
			b.Fatal(err)
		}
		if sync {
			if err := s.db.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		add()
	}
}

// BenchmarkSHA256 hashes the same bytes in 1 MiB chunks: the hashing part of
// an add.
func BenchmarkSHA256(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			data := randBytes(1, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for off := 0; off < len(data); off += DefaultChunkSize {
					sha256.Sum256(data[off:min(off+DefaultChunkSize, len(data))])
				}
			}
		})
	}
}

// BenchmarkFileWrite writes the same bytes to a plain file in 1 MiB writes
// and closes it, with and without fsync: the floor for an add.
func BenchmarkFileWrite(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("fsync=%v/%s", fsync, sizeName(size)), func(b *testing.B) {
				data := randBytes(1, size)
				dir := b.TempDir()
				var iter int
				write := func() {
					iter++
					f, err := os.Create(filepath.Join(dir, fmt.Sprint(iter)))
					if err != nil {
						b.Fatal(err)
					}
					for off := 0; off < len(data); off += DefaultChunkSize {
						if _, err := f.Write(data[off:min(off+DefaultChunkSize, len(data))]); err != nil {
							b.Fatal(err)
						}
					}
					if fsync {
						if err := f.Sync(); err != nil {
							b.Fatal(err)
						}
					}
					if err := f.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					write()
				}
			})
		}
	}
}

// BenchmarkGetShard reads and verifies 1 MiB shards from a store on disk.
func BenchmarkGetShard(b *testing.B) {
	ctx := context.Background()
	s := openStore(b, DefaultConfig(b.TempDir()))
	shards := make([]cid.Cid, 64)
	for i := range shards {
		c, err := s.PutShard(ctx, randBytes(uint64(i), DefaultChunkSize))
		if err != nil {
			b.Fatal(err)
		}
		shards[i] = c
	}
	b.SetBytes(DefaultChunkSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.GetShard(ctx, shards[i%len(shards)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFileRead streams a stored file through NewFileReader in 32 KiB
// reads, as http.ServeContent does.
func BenchmarkFileRead(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			ctx := context.Background()
			s := openStore(b, DefaultConfig(b.TempDir()))
			ss, err := s.NewSession(ctx, 0)
			if err != nil {
				b.Fatal(err)
			}
			refs, err := ss.Chunk(ctx, bytes.NewReader(randBytes(1, size)), DefaultChunkSize, nil)
			if err != nil {
				b.Fatal(err)
			}
			objData, obj := testObject("read")
			if err := ss.Commit(ctx, obj, objData, cidsOf(refs), true); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 32<<10)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				r, err := s.NewFileReader(ctx, cidsOf(refs), DefaultChunkSize, int64(size))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
