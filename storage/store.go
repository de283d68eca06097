package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Config configures a Store. Start from DefaultConfig.
type Config struct {
	// Dir is the Badger directory. It is created if missing. Ignored when
	// InMemory is set.
	Dir string
	// InMemory keeps everything in memory, for tests. Nothing survives
	// Close.
	InMemory bool
	// QuotaBytes is the maximum number of bytes of shard data stored,
	// counting the reservations of open add sessions. Objects do not count.
	// 0 means unlimited.
	QuotaBytes int64
	// Logger receives the store's logs and Badger's. nil discards them.
	Logger *slog.Logger
	// MappedMemory bounds the process's resident file-backed memory
	// (RssFile) before the store releases the pages of its memory-mapped
	// files (mapped.go); they stay in the kernel's page cache. 0 never
	// releases them; the kernel still reclaims them under memory pressure.
	// Linux only; ignored in memory.
	MappedMemory int64

	// vlogFileSize, if set, replaces valueLogFileSize: tests use small
	// files to make Badger rotate and rewrite them.
	vlogFileSize int64
	// memTableSize, if set, replaces Badger's default (64 MiB): tests use
	// small memtables to make Badger write tables while they write.
	memTableSize int64
}

// DefaultConfig returns the configuration of an on-disk store in dir with no
// quota and no logging.
func DefaultConfig(dir string) Config {
	return Config{Dir: dir}
}

func (cfg Config) validate() error {
	if !cfg.InMemory && cfg.Dir == "" {
		return errors.New("storage: config: Dir is required unless InMemory is set")
	}
	if cfg.QuotaBytes < 0 {
		return fmt.Errorf("storage: config: QuotaBytes is %d, want >= 0 (0 = unlimited)", cfg.QuotaBytes)
	}
	if cfg.MappedMemory < 0 {
		return fmt.Errorf("storage: config: MappedMemory is %d, want >= 0 (0 = never release)", cfg.MappedMemory)
	}
	return nil
}

// Badger tuning, chosen for a storage node on a small (2-core) machine whose
// data is mostly 1 MiB shards.
const (
	// valueThreshold sends every value of 128 bytes or more to the value log
	// and keeps only a pointer in the LSM tree (Badger's WiscKey design):
	// shards (at least MinChunkSize, 1 KiB, but a file's last), signed
	// objects (a vote is 256-290 bytes, a contribution 350-400) and a
	// contribution's index record (about 200 bytes with two counted votes,
	// rewritten at each vote) are written there once and never again by
	// compactions. What stays in the LSM tree is keys and small values: the
	// size and link records scanned by GC and Open, the index's entries, the
	// sync buckets. At 10^6 contributions a late join wrote 45 GB through
	// Badger with a threshold of 1 KiB (its compactions rewrote each inline
	// object some sixteen times), and spent a quarter of its CPU in the page
	// faults and msyncs of the tables they wrote; with 128 it wrote 22 GB
	// and took a fifth less time. A read of a value in the log costs one
	// more lookup: at 100k a cut right after a bulk build takes twice as
	// long; at 10^6 the cut took 52.9 s (50.2 before) and the verify 25.3
	// (31.8) (docs/benchmarks.md, "Badger's value threshold").
	valueThreshold = 128
	// valueLogFileSize is much smaller than Badger's 1 GiB default so that
	// value log GC, which rewrites one whole file at a time and never the
	// active one, can return space on stores of a few GiB; and because the
	// newest file, which Badger writes through its mapping, is the one
	// whose written pages the store cannot release (mapped.go): they count
	// in RSS until the file is full.
	valueLogFileSize = 64 << 20
	// blockCacheSize: a table block read outside the cache is a pread of
	// 4 KiB into a new buffer (third_party/README.md), which the cache
	// saves for blocks read again. It is Go heap, so it counts against the
	// daemon's runtime.memory_limit: keep it modest.
	blockCacheSize = 32 << 20
	// inMemoryValueThreshold is the largest ValueThreshold Badger accepts.
	// Without a value log, Badger refuses values above it (and panics on
	// values of exactly that size), so in memory shard bytes are split into
	// segments of inMemorySegment bytes; see schema.go.
	inMemoryValueThreshold = 1 << 20
	inMemorySegment        = 512 << 10
	// maxConflictRetries bounds retries of a transaction that lost a
	// conflict with a concurrent one.
	maxConflictRetries = 16
)

// badgerOptions returns the Badger options for cfg.
//
// SyncWrites is off: a commit returns once its entries are copied into
// Badger's memory-mapped value log and memtable WAL, which the kernel writes
// back even if the process is killed (kill -9, OOM, panic): TestCrashKill9
// checks it. Only a kernel crash or power loss can lose or tear the last
// seconds of writes; every read rehashes, so a torn shard shows up as
// ErrCorrupt (and in Verify), never as wrong bytes. Syncing every commit
// would cost an fsync per add transaction.
func badgerOptions(cfg Config, log *slog.Logger) badger.Options {
	dir, threshold, fileSize := cfg.Dir, int64(valueThreshold), int64(valueLogFileSize)
	if cfg.vlogFileSize != 0 {
		fileSize = cfg.vlogFileSize
	}
	if cfg.InMemory {
		dir, threshold = "", inMemoryValueThreshold
	}
	opts := badger.DefaultOptions(dir)
	if cfg.memTableSize != 0 {
		opts = opts.WithMemTableSize(cfg.memTableSize)
	}
	return opts.
		WithInMemory(cfg.InMemory).
		WithLogger(badgerLogger{log: log}).
		WithSyncWrites(false).
		WithValueThreshold(threshold).
		WithValueLogFileSize(fileSize).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.None).
		WithBlockCacheSize(blockCacheSize).
		WithCompactL0OnClose(true).
		WithDetectConflicts(true).
		// Badger's expvar counters cost a map lookup by level name on
		// every read (2 % of a late join's CPU at 10^6); nothing reads
		// them: the node's metrics are its own (Prometheus).
		WithMetricsEnabled(false)
}

// Store is a content store backed by one Badger database. It is safe for
// concurrent use.
type Store struct {
	db       *badger.DB
	log      *slog.Logger
	quota    int64
	inMemory bool
	segment  int // 0 on disk; in memory, the size of shard segments

	// gcMu is held for writing by GC's mark and sweep and for reading by
	// every other write to Badger, so that GC sees one consistent graph and
	// can flush Badger (flushDeletions), which fails concurrent writes.
	// Never taken recursively.
	gcMu sync.RWMutex
	// gcRun lets one GC run at a time, including its value log phase.
	gcRun sync.Mutex
	// shardMu serializes, per multihash stripe, the decision "is this shard
	// stored / still referenced?" with the write or delete that follows.
	// Badger's conflict detection does not cover the prefix probes involved.
	shardMu [256]sync.Mutex

	mu       sync.Mutex
	used     int64 // guarded by mu: bytes of shard data stored
	reserved int64 // guarded by mu: unused reservations of open sessions

	// realDir is the store's directory as /proc/self/maps names it, when
	// its mapped pages can be released (mapped.go).
	realDir string
	// trims counts releases of mapped pages.
	trims atomic.Uint64

	// repairer is the Repairer set by SetRepairer, if any.
	repairer atomic.Pointer[Repairer]

	nextSID atomic.Uint64
	// deleted is set when shards or objects are deleted, and cleared when
	// GC has made Badger flush and compact the deletions.
	deleted atomic.Bool

	// life is canceled by Close, so long operations stop early.
	life     context.Context
	stopLife context.CancelFunc

	closeMu   sync.RWMutex
	closed    bool // guarded by closeMu
	ops       sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Open validates cfg, opens (or creates) the Badger database, rolls back the
// add sessions left open by a previous process, and computes the usage.
func Open(cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := badger.Open(badgerOptions(cfg, log))
	if err != nil {
		return nil, fmt.Errorf("storage: open badger in %q: %w", cfg.Dir, err)
	}
	life, stop := context.WithCancel(context.Background())
	s := &Store{
		db:       db,
		log:      log,
		quota:    cfg.QuotaBytes,
		inMemory: cfg.InMemory,
		life:     life,
		stopLife: stop,
	}
	if cfg.InMemory {
		s.segment = inMemorySegment
	}
	// Deletions of a previous process may not have been compacted.
	s.deleted.Store(true)
	if err := s.init(); err != nil {
		stop()
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close badger: %w", cerr))
		}
		return nil, fmt.Errorf("storage: open %q: %w", cfg.Dir, err)
	}
	if !cfg.InMemory && mappedSupported {
		if s.realDir, err = resolveDir(cfg.Dir); err != nil {
			log.Warn("mapped memory: cannot resolve the store's directory; its mapped pages are left to the kernel", slog.Any("err", err))
		}
	}
	if cfg.MappedMemory > 0 && s.realDir != "" {
		s.ops.Add(1) // ended by trimLoop; nothing can Close s yet
		go s.trimLoop(cfg.MappedMemory, trimInterval)
	}
	return s, nil
}

func (s *Store) init() error {
	if err := s.checkVersion(); err != nil {
		return err
	}
	if err := s.recoverSessions(); err != nil {
		return fmt.Errorf("roll back stale sessions: %w", err)
	}
	used, err := s.scanUsage()
	if err != nil {
		return fmt.Errorf("compute usage: %w", err)
	}
	s.used = used
	return nil
}

// scanUsage sums the sizes of all stored shards.
func (s *Store) scanUsage() (int64, error) {
	var used int64
	err := s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, []byte{prefixShardSize}, func(item *badger.Item) error {
			return item.Value(func(v []byte) error {
				n, err := decodeSize(v)
				used += n
				return err
			})
		})
	})
	return used, err
}

// Close closes the store. Operations in flight are told to stop and waited
// for; open sessions are left in the database and rolled back by the next
// Open. Close is idempotent and returns the same error every time.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		s.stopLife()
		s.ops.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("storage: close badger: %w", err))
		}
	})
	return s.closeErr
}

// begin registers an operation, so Close waits for it, or returns ErrClosed.
// Every successful begin is paired with end.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.ops.Add(1)
	return nil
}

func (s *Store) end() { s.ops.Done() }

// opContext returns ctx, also canceled with cause ErrClosed when the store
// closes. The returned function releases it.
func (s *Store) opContext(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(s.life, func() { cancel(ErrClosed) })
	return ctx, func() {
		stop()
		cancel(nil)
	}
}

// ctxErr returns why ctx is done: ErrClosed if the store closed, else the
// context's error. It returns nil while ctx is live.
func ctxErr(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrClosed) {
		return ErrClosed
	}
	return ctx.Err()
}

// update runs fn in a read-write transaction and commits it, running it
// again when it loses a conflict with a concurrent transaction. fn must not
// have side effects outside the transaction.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	for attempt := 0; ; attempt++ {
		err := s.db.Update(fn)
		if errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		return err
	}
}

// shardLock returns the mutex of mh's stripe.
func (s *Store) shardLock(mh []byte) *sync.Mutex {
	return &s.shardMu[mh[len(mh)-1]]
}

// iterate calls fn for every item whose key starts with prefix, in key
// order. Values are not prefetched; fn reads those it needs.
func iterate(txn *badger.Txn, prefix []byte, fn func(item *badger.Item) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		if err := fn(it.Item()); err != nil {
			return err
		}
	}
	return nil
}

// errStop ends an iteration early without error.
var errStop = errors.New("stop iteration")

// hasPrefix reports whether any key starts with prefix, ignoring keys for
// which skip returns true (skip may be nil).
func hasPrefix(txn *badger.Txn, prefix []byte, skip func(k []byte) bool) (bool, error) {
	found := false
	err := iterate(txn, prefix, func(item *badger.Item) error {
		if skip != nil && skip(item.Key()) {
			return nil
		}
		found = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	return found, nil
}

// exists reports whether key is stored.
func exists(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	default:
		return false, err
	}
}

// badgerLogger sends Badger's logs to slog. Badger's Info messages
// (compactions, table flushes) are operator noise, so they go to Debug.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any)   { l.output(slog.LevelError, f, a) }
func (l badgerLogger) Warningf(f string, a ...any) { l.output(slog.LevelWarn, f, a) }
func (l badgerLogger) Infof(f string, a ...any)    { l.output(slog.LevelDebug, f, a) }
func (l badgerLogger) Debugf(f string, a ...any)   { l.output(slog.LevelDebug, f, a) }

func (l badgerLogger) output(level slog.Level, f string, a []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(f, a...)), slog.String("component", "badger"))
}

// checkShardSize returns an error wrapping ErrChunkSize if a shard of n
// bytes is larger than MaxChunkSize.
func checkShardSize(n int) error {
	if n > MaxChunkSize {
		return fmt.Errorf("%w: a shard of %d bytes is more than %d", ErrChunkSize, n, MaxChunkSize)
	}
	return nil
}
