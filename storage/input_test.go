package storage

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/ipfs/go-cid"
)

// writeFiles writes files to a new directory and returns it.
func writeFiles(t *testing.T, files fstest.MapFS) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, files); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestScanFiles(t *testing.T) {
	root := writeFiles(t, fstest.MapFS{
		"d/b.txt":     {Data: []byte("bb")},
		"d/sub/a.txt": {Data: []byte("a")},
		"top.csv":     {Data: []byte("x,y")},
		"other/b.txt": {Data: []byte("other")},
	})
	in := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(root, filepath.FromSlash(n)))
		}
		return out
	}
	files, total, err := ScanFiles(in("top.csv", "d"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		if !filepath.IsAbs(f.Path) {
			t.Errorf("%s: path %s is not absolute", f.Name, f.Path)
		}
	}
	if want := []string{"d/b.txt", "d/sub/a.txt", "top.csv"}; !slices.Equal(names, want) || total != 6 {
		t.Fatalf("ScanFiles = %v, %d bytes; want %v, 6 bytes", names, total, want)
	}

	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "top.csv"), filepath.Join(root, "link.csv")); err != nil {
		t.Fatal(err)
	}
	refused := map[string][]string{
		"no paths":        nil,
		"missing":         in("nope"),
		"empty directory": in("empty"),
		"symlink":         in("link.csv"),
		"same name twice": in("d/b.txt", "other/b.txt"),
	}
	if runtime.GOOS != "windows" {
		sock := filepath.Join(t.TempDir(), "s")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		refused["special file"] = []string{sock}
	}
	for name, paths := range refused {
		if _, _, err := ScanFiles(paths); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: ScanFiles = %v, want ErrBadInput", name, err)
		}
	}
}

func TestAddFiles(t *testing.T) {
	ctx := context.Background()
	big := randBytes(7, 2*MinChunkSize+5)
	root := writeFiles(t, fstest.MapFS{"big.bin": {Data: big}, "empty.txt": {}})
	files, total, err := ScanFiles([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, Config{InMemory: true})
	ss := mustNewSession(t, s, total)
	defer ss.Abort()
	var progress int64
	shards, err := ss.AddFiles(ctx, files, MinChunkSize, func(n int64) { progress += n })
	if err != nil {
		t.Fatal(err)
	}
	want := [][]cid.Cid{
		{ShardCID(big[:MinChunkSize]), ShardCID(big[MinChunkSize : 2*MinChunkSize]), ShardCID(big[2*MinChunkSize:])},
		{ShardCID(nil)},
	}
	if len(shards) != len(want) || progress != total {
		t.Fatalf("AddFiles: %d files, progress %d; want %d files, %d", len(shards), progress, len(want), total)
	}
	for i := range want {
		var got []cid.Cid
		for _, ref := range shards[i] {
			got = append(got, ref.CID)
		}
		if !slices.EqualFunc(got, want[i], func(a, b cid.Cid) bool { return a.Equals(b) }) {
			t.Errorf("%s: shards %v, want %v", files[i].Name, got, want[i])
		}
	}

	// A file that changed or went away since the scan is refused.
	if err := os.WriteFile(filepath.Join(root, "empty.txt"), []byte("now longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.AddFiles(ctx, files[1:], MinChunkSize, nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("grown file: %v, want ErrBadInput", err)
	}
	// Another file of the same size put at the path (a rename, a link) is
	// refused too: what is read is what was found.
	other := filepath.Join(t.TempDir(), "other.bin")
	if err := os.WriteFile(other, randBytes(8, len(big)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, filepath.Join(root, "big.bin")); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.AddFiles(ctx, files[:1], MinChunkSize, nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("another file at the path: %v, want ErrBadInput", err)
	}
	if err := os.Remove(filepath.Join(root, "big.bin")); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.AddFiles(ctx, files[:1], MinChunkSize, nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("removed file: %v, want ErrBadInput", err)
	}
}
