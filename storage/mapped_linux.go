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
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// mappedSupported tells whether this platform can release mapped pages.
const mappedSupported = true

// fileRSS returns the process's resident file-backed memory in bytes.
func fileRSS() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return statusField(data, "RssFile:")
}

// statusField returns the size in bytes of a "Name:   N kB" line of
// /proc/PID/status.
func statusField(status []byte, name string) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected line %q", name, bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s: not in /proc/self/status", name)
}

// mapping is one line of /proc/self/maps naming a file.
type mapping struct {
	start, end uintptr
	path       string
}

// parseMapping parses a line of /proc/PID/maps:
//
//	7f2c5a000000-7f2c5e000000 r--s 00000000 fd:01 1234567    /repo/000001.vlog
//
// path is empty for an anonymous mapping; ok is false for a line that is
// not a mapping.
func parseMapping(line string) (m mapping, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return mapping{}, false
	}
	lo, hi, found := strings.Cut(f[0], "-")
	if !found {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return mapping{}, false
	}
	// A path with a run of spaces comes out altered and matches no store
	// file, which only means that mapping is left alone.
	m = mapping{start: uintptr(start), end: uintptr(end)}
	if len(f) > 5 {
		m.path = strings.Join(f[5:], " ")
	}
	return m, true
}

// storeFile tells which of the store's files p is: a table or a value log
// file of dir, and its number. ok is false for anything else, including a
// file deleted while mapped.
func storeFile(dir, p string) (id uint64, vlog, ok bool) {
	if filepath.Dir(p) != dir {
		return 0, false, false
	}
	name := filepath.Base(p)
	num, ext, found := strings.Cut(name, ".")
	if !found || (ext != "sst" && ext != "vlog") {
		return 0, false, false
	}
	id, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, false, false
	}
	return id, ext == "vlog", true
}

// storeMapping is a mapping of one of the store's tables or value log
// files.
type storeMapping struct {
	mapping
	id      uint64 // the file's number
	log     bool   // a value log file, else a table
	deleted bool   // the file was deleted while mapped
}

// storeMappings lists this process's mappings of the tables and value log
// files in dir, from /proc/self/maps.
func storeMappings(dir string) ([]storeMapping, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []storeMapping
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		m, ok := parseMapping(sc.Text())
		if !ok {
			continue
		}
		p, deleted := strings.CutSuffix(m.path, " (deleted)")
		if id, log, ok := storeFile(dir, p); ok {
			out = append(out, storeMapping{mapping: m, id: id, log: log, deleted: deleted})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /proc/self/maps: %w", err)
	}
	return out, nil
}

// trimMapped releases the resident pages of the store's tables and of its
// value log files but the newest; see mapped.go for why each range it
// releases stays the file's mapping until it is done.
func (s *Store) trimMapped() (TrimResult, error) {
	if s.inMemory || s.realDir == "" {
		return TrimResult{}, errors.New("storage: no mapped files to release")
	}
	if err := s.begin(context.Background()); err != nil {
		return TrimResult{}, err
	}
	defer s.end()
	var res TrimResult
	var err error
	if res.RSSBefore, err = fileRSS(); err != nil {
		return res, err
	}
	// Value log files are released only when no value log GC runs: it is
	// the one thing that deletes them.
	vlogs := s.gcRun.TryLock()
	if vlogs {
		defer s.gcRun.Unlock()
	}
	before := tableIDs(s.db.Tables())
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	// The iterator holds a reference to every table in the tree, so none of
	// them is unmapped before it closes, and it counts as an active
	// iterator, so value log deletions wait too.
	it := txn.NewIterator(badger.IteratorOptions{})
	defer it.Close()
	held := make(map[uint64]bool, len(before))
	for id := range tableIDs(s.db.Tables()) {
		if before[id] {
			held[id] = true
		}
	}

	maps, err := storeMappings(s.realDir)
	if err != nil {
		return res, err
	}
	var newest uint64
	for _, m := range maps {
		if m.log && !m.deleted {
			newest = max(newest, m.id)
		}
	}
	var release []mapping
	for _, m := range maps {
		switch {
		case m.deleted:
		case !m.log && held[m.id], m.log && vlogs && m.id < newest:
			release = append(release, m.mapping)
		}
	}
	for _, m := range release {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return res, fmt.Errorf("madvise %s: %w", m.path, errno)
		}
		res.Files++
		res.Mapped += int64(m.end - m.start)
	}
	res.RSSAfter, err = fileRSS()
	return res, err
}

// tableIDs returns the set of table IDs in infos.
func tableIDs(infos []badger.TableInfo) map[uint64]bool {
	ids := make(map[uint64]bool, len(infos))
	for _, t := range infos {
		ids[t.ID] = true
	}
	return ids
}

// resolveDir returns dir as the kernel names it in /proc/self/maps: absolute,
// with every symbolic link resolved.
func resolveDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}
