package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// backends are the configurations every suite test runs against: Badger on
// disk in t.TempDir and Badger in memory.
var backends = []struct {
	name string
	cfg  func(t *testing.T) Config
}{
	{"disk", func(t *testing.T) Config { return DefaultConfig(t.TempDir()) }},
	{"memory", func(*testing.T) Config { return Config{InMemory: true} }},
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, cfg Config)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.cfg(t)) })
	}
}

// openStore opens a store and closes it when the test ends.
func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// randBytes returns n pseudo-random bytes determined by seed.
func randBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// testObject returns the bytes and CID of a distinct small object.
func testObject(name string) ([]byte, cid.Cid) {
	data := []byte("object:" + name)
	return data, ObjectCID(cid.DagCBOR, data)
}

// rawPut writes key=value into the store's Badger DB directly, bypassing
// every check: the way tests damage data.
func rawPut(t *testing.T, s *Store, key, value []byte) {
	t.Helper()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
		t.Fatalf("raw put: %v", err)
	}
}

// countPrefix counts the keys under prefix.
func countPrefix(t *testing.T, s *Store, prefix byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, []byte{prefix}, func(*badger.Item) error {
			n++
			return nil
		})
	})
	if err != nil {
		t.Fatalf("count keys %q: %v", prefix, err)
	}
	return n
}

func mustPutShard(t *testing.T, s *Store, data []byte) cid.Cid {
	t.Helper()
	c, err := s.PutShard(context.Background(), data)
	if err != nil {
		t.Fatalf("PutShard: %v", err)
	}
	return c
}

func mustHaveShard(t *testing.T, s *Store, c cid.Cid, want bool) {
	t.Helper()
	ok, err := s.HasShard(context.Background(), c)
	if err != nil {
		t.Fatalf("HasShard(%s): %v", c, err)
	}
	if ok != want {
		t.Fatalf("HasShard(%s) = %v, want %v", c, ok, want)
	}
}

func mustNewSession(t *testing.T, s *Store, reserve int64) *Session {
	t.Helper()
	ss, err := s.NewSession(context.Background(), reserve)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return ss
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func cidsOf(refs []ShardRef) []cid.Cid {
	out := make([]cid.Cid, len(refs))
	for i, r := range refs {
		out[i] = r.CID
	}
	return out
}

// checkUsage checks that the in-memory usage matches the stored shards.
func checkUsage(t *testing.T, s *Store) {
	t.Helper()
	st, err := s.Stat(context.Background())
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	used, _ := s.Usage()
	if used != st.ShardBytes {
		t.Fatalf("usage %d, stored shard bytes %d", used, st.ShardBytes)
	}
}

// zeroTime is the modification time given to http.ServeContent: unknown.
var zeroTime time.Time

// dirSize returns the bytes allocated on disk by the files in dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
