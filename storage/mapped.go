package storage

import (
	"log/slog"
	"time"
)

// Badger maps its tables (.sst) and value log files (.vlog) into memory
// (mmap, MAP_SHARED) and reads them there; Badger v4 has no option to read
// them with pread instead (dgraph-io/badger#2255). Every page a read touches
// then stays mapped, and counts in the process's RSS as file-backed memory
// (RssFile), until the kernel reclaims it under memory pressure. After a
// pass over a store of a million contributions (a snapshot cut, a verify, a
// join) that is the whole store: 3.6 GiB of RSS for 0.5 GiB the daemon
// allocates.
//
// With Config.MappedMemory set, the store checks the process's RssFile every
// second and, above the bound, releases the mapped pages of its files with
// madvise(MADV_DONTNEED). For a shared file mapping that only drops the
// process's page table entries: the pages stay in the kernel's page cache,
// a later read maps them again with a minor fault, and nothing is lost
// (dirty pages stay dirty in the cache). The memory is then accounted as a
// pread-based store's would be: page cache, not RSS.
//
// Releasing a range that is no longer the file's mapping would zero whatever
// was mapped there since, so trimMapped (mapped_linux.go) releases only
// mappings that cannot go away while it works:
//   - tables held by a Badger iterator it opens (a table is unmapped only
//     when its last reference is dropped), and only those listed by
//     DB.Tables both before and after the iterator was opened, which were
//     therefore in the tree when it was;
//   - value log files other than the newest (the one being written, which
//     Badger truncates and remaps when it is full), and only while trimMapped
//     holds gcRun, since value log GC is the one path that deletes value
//     log files and it defers deletions while an iterator is open.
//
// The memtables' write-ahead logs (.mem) are left alone: there are at most
// a few of 64 MiB, and they are rewritten as they fill.

// trimInterval is how often the store compares RssFile with the bound.
const trimInterval = time.Second

// TrimResult reports one release of mapped pages.
type TrimResult struct {
	// Files is the number of mapped files whose pages were released.
	Files int
	// Mapped is the size of their mappings, resident or not.
	Mapped int64
	// RSSBefore and RSSAfter are the process's file-backed RSS around the
	// release (RssFile in /proc/self/status).
	RSSBefore, RSSAfter int64
}

// trimLoop releases the store's mapped pages each time the process's
// file-backed RSS is above budget, until the store closes. It is started by
// Open and counted as an operation, so Close waits for it.
func (s *Store) trimLoop(budget int64, every time.Duration) {
	defer s.end()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-t.C:
		}
		rss, err := fileRSS()
		if err != nil {
			s.log.Warn("mapped memory: cannot read RssFile; no longer releasing mapped pages", slog.Any("err", err))
			return
		}
		if rss <= budget {
			continue
		}
		start := time.Now()
		res, err := s.trimMapped()
		if err != nil {
			s.log.Warn("mapped memory: release failed", slog.Any("err", err))
			continue
		}
		s.trims.Add(1)
		s.log.Debug("mapped memory released",
			slog.Int("files", res.Files),
			slog.Int64("rss_file_before", res.RSSBefore),
			slog.Int64("rss_file_after", res.RSSAfter),
			slog.Duration("took", time.Since(start)))
	}
}

// MappedTrims returns how many times the store has released its mapped
// pages since it opened.
func (s *Store) MappedTrims() uint64 { return s.trims.Load() }
