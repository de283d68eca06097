package atomicfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openledger/openledger/internal/atomicfile"
)

// onlyFile checks that dir holds exactly the file name: no temporary file
// is left beside it.
func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Fatalf("%s holds %q, want only %q", dir, names, name)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer than the first"), []byte("3"), {}} {
		if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
		onlyFile(t, dir, "config.toml")
	}
}

// TestWriteFileReadersSeeWholeFiles replaces a file over and over while
// readers read it: each read is one whole version, never a mix or a part.
func TestWriteFileReadersSeeWholeFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "joined.json")
	a, b := bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 32<<10)
	if err := atomicfile.WriteFile(path, a, 0o600); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				got, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("read while replacing: %v", err)
					return
				}
				if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					t.Errorf("read %d bytes that are neither version", len(got))
					return
				}
			}
		})
	}
	for i := range 50 {
		data := a
		if i%2 == 0 {
			data = b
		}
		if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
			t.Error(err)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	onlyFile(t, dir, "joined.json")
}

func TestWriteFileErrors(t *testing.T) {
	t.Run("no directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
			t.Fatal("wrote into a directory that does not exist")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Fatalf("%s holds %d entries after a failed write, want none", dir, len(entries))
		}
	})
	t.Run("rename fails", func(t *testing.T) {
		// path is a directory that is not empty: the temporary file is
		// written, the rename over path fails, and the file must go.
		dir := t.TempDir()
		path := filepath.Join(dir, "target")
		if err := os.MkdirAll(filepath.Join(path, "child"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.WriteFile(path, []byte("x"), 0o600); err == nil {
			t.Fatal("replaced a directory")
		}
		onlyFile(t, dir, "target")
		if _, err := os.Stat(filepath.Join(path, "child")); err != nil {
			t.Fatalf("the directory was changed: %v", err)
		}
	})
}

func TestWriteFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	for _, tc := range []struct {
		name string
		old  os.FileMode // 0: no file before
		perm os.FileMode
	}{
		{"new file", 0, 0o600},
		{"new readable file", 0, 0o644},
		{"replaces a readable file", 0o644, 0o600},
		{"replaces a private file", 0o600, 0o640},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if tc.old != 0 {
				if err := os.WriteFile(path, []byte("old"), tc.old); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.old); err != nil {
					t.Fatal(err)
				}
			}
			if err := atomicfile.WriteFile(path, []byte("new"), tc.perm); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// The umask may only take bits away.
			if got := fi.Mode().Perm(); got&^tc.perm != 0 || got&0o600 != 0o600 {
				t.Errorf("mode %v, want %v less the umask", got, tc.perm)
			}
		})
	}
}

func TestSyncDir(t *testing.T) {
	if err := atomicfile.SyncDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if err := atomicfile.SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
			t.Fatal("synced a directory that does not exist")
		}
	}
}
