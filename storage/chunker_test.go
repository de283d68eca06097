package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ipfs/go-cid"
)

func TestChunkBoundaries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		s := openStore(t, cfg)
		for _, chunkSize := range []int{MinChunkSize, 4096, DefaultChunkSize} {
			for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 5} {
				t.Run(fmt.Sprintf("chunk=%d/size=%d", chunkSize, size), func(t *testing.T) {
					checkChunkRoundTrip(t, s, randBytes(uint64(size), size), chunkSize)
				})
			}
		}
	})
}

func TestChunkMaxChunkSize(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		s := openStore(t, cfg)
		checkChunkRoundTrip(t, s, randBytes(5, 2*MaxChunkSize+3), MaxChunkSize)
	})
}

// checkChunkRoundTrip chunks data, commits it, and reads it back.
func checkChunkRoundTrip(t *testing.T, s *Store, data []byte, chunkSize int) {
	t.Helper()
	ctx := context.Background()
	ss := mustNewSession(t, s, int64(len(data)))
	var progressed int64
	calls := 0
	// A reader returning one byte at a time exercises the refilling of
	// chunk buffers from short reads.
	refs, err := ss.Chunk(ctx, iotest.HalfReader(bytes.NewReader(data)), chunkSize, func(n int64) {
		progressed += n
		calls++
	})
	if err != nil {
		t.Fatalf("Chunk: %v", err)
	}
	wantShards := max(1, (len(data)+chunkSize-1)/chunkSize)
	if len(refs) != wantShards || calls != wantShards {
		t.Fatalf("%d bytes gave %d shards and %d progress calls, want %d", len(data), len(refs), calls, wantShards)
	}
	if progressed != int64(len(data)) {
		t.Fatalf("progress summed to %d, want %d", progressed, len(data))
	}
	for i, ref := range refs {
		part := data[min(i*chunkSize, len(data)):min((i+1)*chunkSize, len(data))]
		if ref.Size != len(part) || !ref.CID.Equals(ShardCID(part)) {
			t.Fatalf("shard %d = %s (%d bytes), want %s (%d bytes)", i, ref.CID, ref.Size, ShardCID(part), len(part))
		}
	}
	if len(data) == 0 && !refs[0].CID.Equals(ShardCID(nil)) {
		t.Fatalf("empty input gave %s, want the empty raw leaf", refs[0].CID)
	}
	objData, obj := testObject(fmt.Sprintf("file-%d-%d", chunkSize, len(data)))
	if err := ss.Commit(ctx, obj, objData, cidsOf(refs), true); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	r, err := s.NewFileReader(ctx, cidsOf(refs), chunkSize, int64(len(data)))
	if err != nil {
		t.Fatalf("NewFileReader: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
}

func TestChunkErrors(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{InMemory: true})

	t.Run("chunk size", func(t *testing.T) {
		ss := mustNewSession(t, s, 0)
		defer ss.Abort()
		for _, n := range []int{0, MinChunkSize - 1, MaxChunkSize + 1} {
			_, err := ss.Chunk(ctx, strings.NewReader("x"), n, nil)
			wantErr(t, err, ErrChunkSize)
		}
	})
	t.Run("read error", func(t *testing.T) {
		ss := mustNewSession(t, s, 0)
		defer ss.Abort()
		boom := errors.New("boom")
		r := io.MultiReader(bytes.NewReader(randBytes(1, 3*MinChunkSize)), iotest.ErrReader(boom))
		_, err := ss.Chunk(ctx, r, MinChunkSize, nil)
		wantErr(t, err, boom)
	})
	t.Run("cancel", func(t *testing.T) {
		ss := mustNewSession(t, s, 0)
		defer ss.Abort()
		ctx, cancel := context.WithCancel(ctx)
		n := 0
		_, err := ss.Chunk(ctx, bytes.NewReader(randBytes(2, 64*MinChunkSize)), MinChunkSize, func(int64) {
			if n++; n == 3 {
				cancel()
			}
		})
		wantErr(t, err, context.Canceled)
	})
	t.Run("done session", func(t *testing.T) {
		ss := mustNewSession(t, s, 0)
		if err := ss.Abort(); err != nil {
			t.Fatal(err)
		}
		_, err := ss.Chunk(ctx, strings.NewReader("x"), MinChunkSize, nil)
		wantErr(t, err, ErrClosed)
	})
}

// storedFile chunks data with chunkSize into s and commits it pinned.
func storedFile(t *testing.T, s *Store, data []byte, chunkSize int) []cid.Cid {
	t.Helper()
	ctx := context.Background()
	ss := mustNewSession(t, s, 0)
	refs, err := ss.Chunk(ctx, bytes.NewReader(data), chunkSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	objData, obj := testObject(fmt.Sprintf("stored-%s", refs[0].CID))
	if err := ss.Commit(ctx, obj, objData, cidsOf(refs), true); err != nil {
		t.Fatal(err)
	}
	return cidsOf(refs)
}

func TestFileReaderSeek(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		const chunk = MinChunkSize
		data := randBytes(7, 5*chunk+123)
		shards := storedFile(t, s, data, chunk)
		r, err := s.NewFileReader(ctx, shards, chunk, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.NewReader(data)
		steps := []struct {
			offset int64
			whence int
			read   int
		}{
			{0, io.SeekStart, 10},
			{chunk - 5, io.SeekStart, 10},             // across the first boundary
			{2*chunk - 1, io.SeekStart, 2*chunk + 2},  // spans three shards
			{-3, io.SeekCurrent, 7},                   // back across a boundary
			{-123, io.SeekEnd, 500},                   // the short last shard, to EOF
			{0, io.SeekStart, 1},                      // back to the start
			{3 * chunk, io.SeekStart, chunk},          // exactly one shard
			{10, io.SeekEnd, 5},                       // past the end: EOF
			{int64(len(data)), io.SeekStart, 1},       // at the end: EOF
			{int64(len(data)) - 1, io.SeekStart, 100}, // the last byte
		}
		for i, st := range steps {
			gotOff, err1 := r.Seek(st.offset, st.whence)
			wantOff, err2 := want.Seek(st.offset, st.whence)
			if gotOff != wantOff || (err1 == nil) != (err2 == nil) {
				t.Fatalf("step %d: Seek = %d, %v; want %d, %v", i, gotOff, err1, wantOff, err2)
			}
			got := make([]byte, st.read)
			wantBuf := make([]byte, st.read)
			n1, err1 := io.ReadFull(r, got)
			n2, err2 := io.ReadFull(want, wantBuf)
			if n1 != n2 || !bytes.Equal(got[:n1], wantBuf[:n2]) || !errors.Is(err1, err2) {
				t.Fatalf("step %d: read %d bytes, %v; want %d, %v", i, n1, err1, n2, err2)
			}
		}
		if _, err := r.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("Seek to -1 succeeded")
		}
		if _, err := r.Seek(0, 42); err == nil {
			t.Fatal("Seek with a bad whence succeeded")
		}
	})
}

// TestFileReaderServeContent serves a file with http.ServeContent and checks
// range requests.
func TestFileReaderServeContent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, DefaultConfig(t.TempDir()))
	const chunk = 4096
	data := randBytes(8, 10*chunk+77)
	shards := storedFile(t, s, data, chunk)
	tests := []struct {
		rng        string
		status     int
		start, end int // of the expected body
	}{
		{"", http.StatusOK, 0, len(data)},
		{"bytes=0-99", http.StatusPartialContent, 0, 100},
		{"bytes=4000-12000", http.StatusPartialContent, 4000, 12001},
		{"bytes=-77", http.StatusPartialContent, len(data) - 77, len(data)},
		{fmt.Sprintf("bytes=%d-", 9*chunk), http.StatusPartialContent, 9 * chunk, len(data)},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			r, err := s.NewFileReader(ctx, shards, chunk, int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/content/x", nil)
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "x.bin", zeroTime, r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if !bytes.Equal(rec.Body.Bytes(), data[tt.start:tt.end]) {
				t.Fatalf("body of %d bytes differs from data[%d:%d]", rec.Body.Len(), tt.start, tt.end)
			}
		})
	}
}

func TestFileReaderErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		const chunk = MinChunkSize
		data := randBytes(9, 3*chunk+10)
		shards := storedFile(t, s, data, chunk)
		size := int64(len(data))

		bad := []struct {
			name   string
			shards []cid.Cid
			chunk  int
			size   int64
			target error
		}{
			{"too few shards", shards[:3], chunk, size, nil},
			{"too many shards", shards, chunk, 3 * chunk, nil},
			{"negative size", shards, chunk, -1, nil},
			{"chunk size", shards, 10, size, ErrChunkSize},
			{"missing shard", []cid.Cid{shards[0], ShardCID([]byte("gone")), shards[2], shards[3]}, chunk, size, ErrNotFound},
			{"undefined shard", []cid.Cid{shards[0], cid.Undef, shards[2], shards[3]}, chunk, size, ErrNotFound},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				_, err := s.NewFileReader(ctx, b.shards, b.chunk, b.size)
				if err == nil {
					t.Fatal("NewFileReader succeeded")
				}
				if b.target != nil {
					wantErr(t, err, b.target)
				}
			})
		}

		t.Run("empty file", func(t *testing.T) {
			for _, shards := range [][]cid.Cid{nil, storedFile(t, s, nil, chunk)} {
				r, err := s.NewFileReader(ctx, shards, chunk, 0)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := io.ReadAll(r); err != nil || len(got) != 0 {
					t.Fatalf("ReadAll = %d bytes, %v", len(got), err)
				}
			}
		})

		t.Run("wrong shard size", func(t *testing.T) {
			// A manifest that claims a short shard is full-size.
			short := mustPutShard(t, s, []byte("short"))
			r, err := s.NewFileReader(ctx, []cid.Cid{short, shards[3]}, chunk, chunk+10)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(r)
			wantErr(t, err, ErrCorrupt)
			if !strings.Contains(err.Error(), short.String()) {
				t.Fatalf("error %q does not name the shard", err)
			}
		})

		t.Run("corrupt shard", func(t *testing.T) {
			r, err := s.NewFileReader(ctx, shards, chunk, size)
			if err != nil {
				t.Fatal(err)
			}
			damaged := bytes.Clone(data[chunk : 2*chunk])
			damaged[0] ^= 0xff
			rawPut(t, s, shardDataKey(shards[1].Hash()), damaged)
			buf := make([]byte, chunk)
			if _, err := io.ReadFull(r, buf); err != nil {
				t.Fatalf("first shard: %v", err)
			}
			_, err = io.ReadFull(r, buf)
			wantErr(t, err, ErrCorrupt)
			if !strings.Contains(err.Error(), shards[1].String()) {
				t.Fatalf("error %q does not name the shard", err)
			}
		})
	})
}

// TestChunkDedup chunks a file of identical chunks: they are stored once and
// charged once, even when several land in one transaction.
func TestChunkDedup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		cfg.QuotaBytes = 2 * DefaultChunkSize
		s := openStore(t, cfg)
		data := bytes.Repeat([]byte{7}, 16*DefaultChunkSize)
		ss := mustNewSession(t, s, DefaultChunkSize)
		refs, err := ss.Chunk(ctx, bytes.NewReader(data), DefaultChunkSize, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			if !r.CID.Equals(refs[0].CID) {
				t.Fatalf("identical chunks gave %s and %s", r.CID, refs[0].CID)
			}
		}
		if used, reserved := s.Usage(); used != DefaultChunkSize || reserved != 0 {
			t.Fatalf("usage %d, reserved %d; want %d, 0", used, reserved, DefaultChunkSize)
		}
		if err := ss.Abort(); err != nil {
			t.Fatal(err)
		}
		mustHaveShard(t, s, refs[0].CID, false)
		checkUsage(t, s)
	})
}
