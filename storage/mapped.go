package storage

import (
	"log/slog"
	"time"
)

// Badger maps its tables (.sst) and value log files (.vlog) into memory
// (mmap, MAP_SHARED) and writes them through those mappings. Upstream it
// reads them there too; the copy the store builds with reads them with
// pread(2) (third_party/README.md), so reads map nothing. What Badger writes
// still stays mapped, and counts in the process's RSS as file-backed memory
// (RssFile), until the kernel reclaims it under memory pressure: every
// table a compaction writes and every value log file written, about as
// much as the store holds after a late join at 10^6 contributions.
//
// With Config.MappedMemory set, the store checks the process's RssFile every
// second (trimInterval) and, above the bound, releases the mapped pages of
// its files with madvise(MADV_DONTNEED). For a shared file mapping that only
// drops the process's page table entries: the pages stay in the kernel's
// page cache (dirty pages stay dirty there), and nothing is lost. Pages
// written once are not mapped again, so a release costs only itself: 0.2 ms
// over a store of 10^5 objects with nothing to release, 1.8 ms with 40 MiB.
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
// a few of 64 MiB, and they are rewritten as they fill. So is the newest
// value log file, which is why those files are small (valueLogFileSize). The
// store never calls DB.DropAll, which deletes value log files outside value
// log GC. TestBadgerKeepsMappingsWhileIterating checks the Badger behaviours
// this relies on, so an upgrade that changes them fails there.

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
// file-backed RSS is above budget, checking every interval, until the store
// closes. It is started by Open and counted as an operation, so Close waits
// for it.
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
		if rss > budget {
			s.releaseMapped()
		}
	}
}

// releaseMapped runs trimMapped and logs how it went.
func (s *Store) releaseMapped() {
	start := time.Now()
	res, err := s.trimMapped()
	if err != nil {
		s.log.Warn("mapped memory: release failed", slog.Any("err", err))
		return
	}
	s.trims.Add(1)
	s.log.Debug("mapped memory released",
		slog.Int("files", res.Files),
		slog.Int64("rss_file_before", res.RSSBefore),
		slog.Int64("rss_file_after", res.RSSAfter),
		slog.Duration("took", time.Since(start)))
}

// MappedTrims returns how many times the store has released its mapped
// pages since it opened.
func (s *Store) MappedTrims() uint64 { return s.trims.Load() }
