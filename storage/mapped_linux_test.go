//go:build linux

package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// residentFiles returns the resident bytes of each file of dir mapped by
// this process, from /proc/self/smaps, by base name.
func residentFiles(t testing.TB, dir string) map[string]int64 {
	t.Helper()
	real, err := resolveDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := parseMapping(line); ok {
			cur = ""
			if filepath.Dir(m.path) == real {
				cur = filepath.Base(m.path)
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && cur != "" {
			n, err := statusField([]byte("Rss:"+rest), "Rss:")
			if err != nil {
				t.Fatal(err)
			}
			out[cur] += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sumResident sums the resident bytes of the tables and value log files in
// res, leaving out the newest value log file (the one being written).
func sumResident(res map[string]int64) (tables, logs int64) {
	newest := uint64(0)
	for name := range res {
		if id, isLog, ok := storeFile("/", "/"+name); ok && isLog {
			newest = max(newest, id)
		}
	}
	for name, n := range res {
		id, isLog, ok := storeFile("/", "/"+name)
		switch {
		case !ok:
		case !isLog:
			tables += n
		case id < newest:
			logs += n
		}
	}
	return tables, logs
}

// storeFiles lists the tables and value log files in dir.
func storeFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		if _, _, ok := storeFile("/", "/"+e.Name()); ok {
			out[e.Name()] = true
		}
	}
	return out
}

// deletedSince counts the tables and value log files of start that are no
// longer in dir.
func deletedSince(t *testing.T, dir string, start map[string]bool) (tables, logs int) {
	t.Helper()
	now := storeFiles(t, dir)
	for name := range start {
		if !now[name] {
			if _, isLog, _ := storeFile("/", "/"+name); isLog {
				logs++
			} else {
				tables++
			}
		}
	}
	return tables, logs
}

func TestParseMapping(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
		want mapping
	}{
		{"7f2c5a000000-7f2c5e000000 r--s 00000000 fd:01 1234567                    /repo/datastore/000001.vlog",
			true, mapping{0x7f2c5a000000, 0x7f2c5e000000, "/repo/datastore/000001.vlog"}},
		{"7f2c5a000000-7f2c5a001000 rw-s 00000000 fd:01 99 /a dir/with space/000002.sst",
			true, mapping{0x7f2c5a000000, 0x7f2c5a001000, "/a dir/with space/000002.sst"}},
		{"c000000000-c004000000 rw-p 00000000 00:00 0 ", true, mapping{0xc000000000, 0xc004000000, ""}},
		{"VmFlags: rd wr sh mr mw me ms sd", false, mapping{}},
		{"Rss:                 860 kB", false, mapping{}},
		{"7ffd1c9d4000-7ffd1c9f5000 rw-p 00000000 00:00 0                          [stack]", true,
			mapping{0x7ffd1c9d4000, 0x7ffd1c9f5000, "[stack]"}},
		{"zz-7f r--s 0 0 0 /x/000001.sst", false, mapping{}},
		{"7f-7e r--s 0 0 0 /x/000001.sst", false, mapping{}},
		{"", false, mapping{}},
	} {
		got, ok := parseMapping(tc.line)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseMapping(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		path   string
		id     uint64
		isLog  bool
		wantOK bool
	}{
		{"/repo/ds/000012.sst", 12, false, true},
		{"/repo/ds/000003.vlog", 3, true, true},
		{"/repo/ds/00001.mem", 0, false, false},
		{"/repo/ds/000012.sst (deleted)", 0, false, false},
		{"/repo/ds/MANIFEST", 0, false, false},
		{"/repo/ds/DISCARD", 0, false, false},
		{"/repo/other/000012.sst", 0, false, false},
		{"/repo/ds/sub/000012.sst", 0, false, false},
		{"/repo/ds/x.sst", 0, false, false},
	} {
		id, isLog, ok := storeFile("/repo/ds", tc.path)
		if id != tc.id || isLog != tc.isLog || ok != tc.wantOK {
			t.Errorf("storeFile(%q) = %d, %v, %v; want %d, %v, %v", tc.path, id, isLog, ok, tc.id, tc.isLog, tc.wantOK)
		}
	}
}

func TestStatusField(t *testing.T) {
	status := []byte("Name:\ttest\nVmRSS:\t  20480 kB\nRssAnon:\t   8000 kB\nRssFile:\t  12480 kB\n")
	if n, err := statusField(status, "RssFile:"); err != nil || n != 12480<<10 {
		t.Errorf("RssFile = %d, %v; want %d", n, err, 12480<<10)
	}
	if _, err := statusField(status, "RssShmem:"); err == nil {
		t.Error("a missing field gave no error")
	}
	if _, err := statusField([]byte("RssFile: 12 MB\n"), "RssFile:"); err == nil {
		t.Error("a field in MB gave no error")
	}
	if n, err := fileRSS(); err != nil || n <= 0 {
		t.Errorf("fileRSS() = %d, %v", n, err)
	}
}

// mappedFixture fills a store in dir with n shards of size bytes (in the
// value log) and n small pinned objects (in the tables), closes it so its
// memtables go to tables and reopens it with cfg, so that every file but a
// new value log file is one trimMapped may release.
func mappedFixture(t *testing.T, cfg Config, n, size int) (*Store, []cid.Cid, []cid.Cid) {
	t.Helper()
	first := cfg
	first.MappedMemory = 0
	s, err := Open(first)
	if err != nil {
		t.Fatal(err)
	}
	shards, objects := writeMapped(t, s, n, size)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openStore(t, cfg), shards, objects
}

// writeMapped writes n shards of size bytes and n small pinned objects
// ("mapped i", as readAll reads them) into s.
func writeMapped(t *testing.T, s *Store, n, size int) (shards, objects []cid.Cid) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		sess := mustNewSession(t, s, int64(size))
		sc, err := sess.PutShard(ctx, randBytes(uint64(i), size))
		if err != nil {
			t.Fatal(err)
		}
		data, c := testObject(fmt.Sprintf("mapped %d", i))
		if err := sess.CommitIndexed(ctx, ObjectPut{CID: c, Data: data, Links: []cid.Cid{sc}, Pin: true}, nil); err != nil {
			t.Fatal(err)
		}
		shards, objects = append(shards, sc), append(objects, c)
	}
	return shards, objects
}

// readAll reads every shard (which rehashes it) and object and checks the
// objects' bytes.
func readAll(t *testing.T, s *Store, shards, objects []cid.Cid) {
	t.Helper()
	ctx := context.Background()
	for i, c := range shards {
		if _, err := s.GetShard(ctx, c); err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	for i, c := range objects {
		got, err := s.GetObject(ctx, c)
		want, _ := testObject(fmt.Sprintf("mapped %d", i))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("object %d: %q, %v", i, got, err)
		}
	}
}

// TestTrimMapped checks both halves of keeping mapped pages out of RSS:
// Badger writes its tables and value log files through their mappings, so
// what it wrote is resident until trimMapped releases it; and it reads them
// with pread(2), not through the mappings (third_party/badger/PATCHES.md),
// so reading everything maps nothing again. Without the patch the last
// check fails.
func TestTrimMapped(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.vlogFileSize = 1 << 20 // several files, so some are not the newest
	cfg.memTableSize = 1 << 20 // memtables written to tables while writing
	s := openStore(t, cfg)
	shards, objects := writeMapped(t, s, 2000, 4096)
	tables, logs := sumResident(residentFiles(t, dir))
	if tables == 0 || logs < 4<<20 {
		t.Fatalf("after writing: tables %d, value logs %d bytes resident; the fixture is too small to test", tables, logs)
	}

	res, err := s.trimMapped()
	if err != nil {
		t.Fatal(err)
	}
	if res.Files == 0 || res.Mapped < logs {
		t.Errorf("trimMapped = %+v: released less than was resident (%d bytes of value logs)", res, logs)
	}
	if res.RSSAfter >= res.RSSBefore-logs/2 {
		t.Errorf("RssFile %d -> %d: it did not fall by the value logs' %d bytes", res.RSSBefore, res.RSSAfter, logs)
	}
	tables2, logs2 := sumResident(residentFiles(t, dir))
	// Badger may write a table in between (a compaction), so this asks
	// for most, not all.
	if tables2 > tables/4 || logs2 > logs/16 {
		t.Errorf("resident after trimMapped: tables %d (was %d), value logs %d (was %d)", tables2, tables, logs2, logs)
	}

	// Everything reads back, and reading maps no page.
	readAll(t, s, shards, objects)
	if tables3, logs3 := sumResident(residentFiles(t, dir)); tables3 > tables2+(256<<10) || logs3 > logs2 {
		t.Errorf("reading everything made resident %d bytes of tables (was %d) and %d of value logs (was %d): Badger reads through its mappings", tables3, tables2, logs3, logs2)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.trimMapped(); err == nil {
		t.Error("trimMapped on a closed store: no error")
	}
}

func TestTrimMappedInMemory(t *testing.T) {
	s := openStore(t, Config{InMemory: true, MappedMemory: 1})
	if _, err := s.trimMapped(); err == nil {
		t.Error("trimMapped in memory: no error")
	}
	if err := (Config{Dir: "x", MappedMemory: -1}).validate(); err == nil {
		t.Error("a negative MappedMemory is accepted")
	}
}

// TestTrimLoop opens a store whose bound any process is above, so it
// releases its pages every second, and checks that it does and that Close
// stops it (TestMain checks for leaked goroutines).
func TestTrimLoop(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.vlogFileSize = 1 << 20
	cfg.MappedMemory = 1
	s, shards, objects := mappedFixture(t, cfg, 1000, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for s.MappedTrims() < 2 && time.Now().Before(deadline) {
		readAll(t, s, shards, objects)
		time.Sleep(100 * time.Millisecond)
	}
	if n := s.MappedTrims(); n < 2 {
		t.Fatalf("%d releases in 10 s with a bound of 1 byte, want one a second", n)
	}
	readAll(t, s, shards, objects)
}

// TestTrimMappedRace releases mapped pages in a loop while writers add and
// drop content, GC deletes it (its sweep compacts the tree, deleting tables,
// and its value log GC deletes value log files) and readers read: the
// mappings trimMapped releases must stay the files' until it is done, or
// the process would lose memory that is not the files' (and crash or read
// wrong bytes). Run with -race in CI.
func TestTrimMappedRace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.vlogFileSize = 1 << 20
	s, shards, objects := mappedFixture(t, cfg, 500, 4096)
	startFiles := storeFiles(t, dir)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var trims, gcs, written int
	fail := make(chan error, 4)
	report := func(err error) {
		select {
		case fail <- err:
		default:
		}
	}
	// loop runs step until stop is closed or it fails.
	loop := func(step func() error) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := step(); err != nil {
					report(err)
					return
				}
			}
		})
	}
	loop(func() error { // loose shards, which GC deletes
		_, err := s.PutShard(ctx, randBytes(uint64(1<<32+written), 8192))
		written++
		return err
	})
	loop(func() error {
		_, err := s.GC(ctx)
		gcs++
		time.Sleep(20 * time.Millisecond) // let the writer write
		return err
	})
	loop(func() error {
		_, err := s.trimMapped()
		trims++
		return err
	})
	loop(func() error {
		for i, c := range objects {
			got, err := s.GetObject(ctx, c)
			want, _ := testObject(fmt.Sprintf("mapped %d", i))
			if err != nil || !bytes.Equal(got, want) {
				return fmt.Errorf("object %d: %q, %v", i, got, err)
			}
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	close(fail)
	for err := range fail {
		t.Fatal(err)
	}
	t.Logf("%d releases, %d GCs, %d loose shards written and collected", trims, gcs, written)
	if trims < 10 || gcs < 2 {
		t.Fatalf("%d releases and %d GCs in 3 s: too few to test anything", trims, gcs)
	}
	// The run must have deleted mapped files of both kinds, or it tested
	// nothing.
	if tables, logs := deletedSince(t, dir, startFiles); tables == 0 || logs == 0 {
		t.Fatalf("deleted %d tables and %d value log files of those there at the start, want some of each", tables, logs)
	}
	readAll(t, s, shards, objects)
	if res, err := s.Verify(ctx, nil); err != nil || len(res.Faults) != 0 {
		t.Fatalf("Verify: %+v, %v", res, err)
	}
}

// BenchmarkTrimMapped measures, over a store of n objects of 300 bytes
// (in the value log) reopened so that its tree is in tables: one release of
// the store's mapped pages (trim; reads map none, so this is the cost of
// the pass itself, the one a loop above its bound pays every second), and
// a pass reading every object (read; each a table lookup and a pread of the
// value).
func BenchmarkTrimMapped(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000, 100000} {
		dir := b.TempDir()
		s, err := Open(DefaultConfig(dir))
		if err != nil {
			b.Fatal(err)
		}
		cids := make([]cid.Cid, n)
		var puts []ObjectPut
		for i := range n {
			data := randBytes(uint64(i), 300)
			cids[i] = ObjectCID(cid.DagCBOR, data)
			puts = append(puts, ObjectPut{CID: cids[i], Data: data, Pin: true})
			if len(puts) == 512 || i == n-1 {
				if err := s.PutObjectsIndexed(ctx, puts, nil); err != nil {
					b.Fatal(err)
				}
				puts = puts[:0]
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		s = openStore(b, DefaultConfig(dir))
		readAll := func(b *testing.B) {
			for _, c := range cids {
				if _, err := s.GetObject(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(fmt.Sprintf("size=%d/trim", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.trimMapped(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/read", n), func(b *testing.B) {
			for b.Loop() {
				readAll(b)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// mappedRanges returns the address ranges of dir's tables and value log
// files mapped by this process, by start address, including files deleted
// while mapped.
func mappedRanges(t *testing.T, dir string) map[uintptr]mapping {
	t.Helper()
	real, err := resolveDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := storeMappings(real)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uintptr]mapping{}
	for _, m := range maps {
		out[m.start] = m.mapping
	}
	return out
}

// TestBadgerKeepsMappingsWhileIterating checks what trimMapped relies on in
// Badger (mapped.go): while an iterator is open, compactions delete tables
// and value log GC rewrites value log files, but none of them is unmapped
// before the iterator closes. A Badger upgrade that changes this fails here.
func TestBadgerKeepsMappingsWhileIterating(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.vlogFileSize = 1 << 20
	s, _, objects := mappedFixture(t, cfg, 500, 4096)
	// Garbage: loose shards filling value log files, and half the objects
	// unpinned. The sweep deletes it and compacts the deletions, which
	// gives value log GC its counts; GC's value log phase is left for the
	// iterator's lifetime, as are more writes and a compaction.
	for i := range 600 {
		if _, err := s.PutShard(ctx, randBytes(uint64(1<<40+i), 4096)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range objects[:250] {
		if err := s.Unpin(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s.gcRun.Lock()
	defer s.gcRun.Unlock()
	if _, err := s.markAndSweep(ctx); err != nil {
		t.Fatal(err)
	}
	startFiles := storeFiles(t, dir)
	before := mappedRanges(t, dir)

	txn := s.db.NewTransaction(false)
	it := txn.NewIterator(badger.IteratorOptions{})
	rewrites := 0
	for {
		err := s.db.RunValueLogGC(vlogDiscardRatio)
		if err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) {
				t.Fatal(err)
			}
			break
		}
		rewrites++
	}
	for i := range 2000 {
		rawPut(t, s, []byte(fmt.Sprintf("zz-filler-%d", i)), []byte("x"))
	}
	s.gcMu.Lock()
	err := s.flushDeletions()
	s.gcMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	during := mappedRanges(t, dir)
	for start, m := range before {
		if got, ok := during[start]; !ok || got.end != m.end {
			t.Errorf("%s was unmapped (or remapped) while an iterator was open", m.path)
		}
	}
	it.Close()
	txn.Discard()

	tables, logs := deletedSince(t, dir, startFiles)
	if tables == 0 || logs == 0 {
		t.Fatalf("%d value log rewrites; deleted %d tables and %d value log files, want some of each", rewrites, tables, logs)
	}
	after := mappedRanges(t, dir)
	gone := 0
	for start := range before {
		if _, ok := after[start]; !ok {
			gone++
		}
	}
	if gone < tables+logs {
		t.Errorf("%d mappings went away once the iterator closed, want the %d files deleted", gone, tables+logs)
	}
}
