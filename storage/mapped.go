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
// second (less often during bulk work: trimInterval) and, above the bound,
// releases the mapped pages of its files with
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
// a few of 64 MiB, and they are rewritten as they fill. The store never
// calls DB.DropAll, which deletes value log files outside value log GC.
// TestBadgerKeepsMappingsWhileIterating checks the Badger behaviours this
// relies on, so an upgrade that changes them fails there.

// trimInterval is how often the store compares RssFile with the bound.
// While a bulk read or write is under way (a cut, a verify, a fetch), the
// pages come back within a second of each release, and releasing them
// every second only costs the work faults and page-table updates (about
// 15 % of a snapshot fetch at 10^6): the store then checks half as often
// each time it finds itself above the bound again, down to once every
// trimBackoff intervals, and every interval again once it is below.
const (
	trimInterval = time.Second
	trimBackoff  = 16
)

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
// file-backed RSS is above budget, until the store closes, checking every
// interval or less often while it stays above (nextTrim). It is started by
// Open and counted as an operation, so Close waits for it.
func (s *Store) trimLoop(budget int64, every time.Duration) {
	defer s.end()
	t := time.NewTimer(every)
	defer t.Stop()
	wait, above := every, false
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
		var release bool
		release, above, wait = nextTrim(rss, budget, above, wait, every)
		if release {
			s.releaseMapped()
		}
		t.Reset(wait)
	}
}

// nextTrim decides, at a check that found rss bytes of file-backed RSS,
// whether to release the mapped pages, and when to check next: above
// tells whether the last check released them, wait is the time since it.
// Above the bound it releases; if the last check released too, the pages
// came back within wait, so it doubles wait, up to trimBackoff times every.
// At or below the bound it checks again after every.
func nextTrim(rss, budget int64, above bool, wait, every time.Duration) (release, nowAbove bool, next time.Duration) {
	switch {
	case rss <= budget:
		return false, false, every
	case above:
		return true, true, min(2*wait, trimBackoff*every)
	default:
		return true, true, every
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
