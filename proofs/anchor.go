package proofs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/proofs/contracts"
)

// Errors of the anchorer, checked with errors.Is.
var (
	// ErrNotAnchored is returned for the proof of an item that is queued or
	// in a batch not yet anchored.
	ErrNotAnchored = errors.New("proofs: not anchored yet")

	// ErrUnknownItem is returned for the proof of an item never enqueued.
	ErrUnknownItem = errors.New("proofs: unknown item")

	// ErrAnchorMismatch is returned when an anchor proof does not match its
	// path or the chain.
	ErrAnchorMismatch = errors.New("proofs: anchor proof does not match")

	// ErrClosed is returned by an Anchorer after Close.
	ErrClosed = errors.New("proofs: anchorer closed")
)

// AnchorBackend is the chain connection of an Anchorer; ethclient.Client and
// the simulated backend's client implement it.
type AnchorBackend interface {
	bind.ContractBackend
	bind.DeployBackend
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
}

// AnchorConfig configures an Anchorer. Dir, Backend, Registry and Signer are
// required; zero values of the others take DefaultAnchorConfig's.
type AnchorConfig struct {
	// Dir is the directory of the anchorer's own Badger database.
	Dir string
	// Backend is the chain connection.
	Backend AnchorBackend
	// Registry is the address of the AnchorRegistry contract.
	Registry common.Address
	// Signer signs anchor transactions; its Context, NoSend and Nonce are
	// set per transaction.
	Signer *bind.TransactOpts
	// Interval is the longest time queued items wait for a batch.
	Interval time.Duration
	// MaxItems is the size at which a batch is cut without waiting for the
	// interval; at most MaxAnchorBatch.
	MaxItems int
	// Confirmations is how many blocks must follow the anchoring block before
	// proofs are recorded.
	Confirmations uint64
	// URI returns the uri argument of the anchor transaction for a batch
	// root; nil sends an empty uri.
	URI func(root Hash) string
	// PollInterval is how often the anchorer polls for a receipt.
	PollInterval time.Duration
	// ReceiptTimeout is how long a sent transaction may stay unmined before
	// the anchorer signs a new one (after checking the root is not anchored).
	ReceiptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff after a failed
	// chain call.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives Info for anchored batches and Warn for chain errors;
	// nil discards.
	Logger *slog.Logger
}

// MaxAnchorBatch is the largest MaxItems, which keeps a batch's Badger
// transactions well under Badger's limits.
const MaxAnchorBatch = 16384

// DefaultAnchorConfig returns the defaults: a batch every 30 s or 1,024
// items, no confirmations, receipts polled every second, a new transaction
// after 2 minutes unmined, backoff from 1 s to 1 min.
func DefaultAnchorConfig() AnchorConfig {
	return AnchorConfig{
		Interval:       30 * time.Second,
		MaxItems:       1024,
		PollInterval:   time.Second,
		ReceiptTimeout: 2 * time.Minute,
		MinBackoff:     time.Second,
		MaxBackoff:     time.Minute,
	}
}

func (c *AnchorConfig) fill() error {
	d := DefaultAnchorConfig()
	if c.Interval <= 0 {
		c.Interval = d.Interval
	}
	if c.MaxItems <= 0 {
		c.MaxItems = d.MaxItems
	}
	if c.PollInterval <= 0 {
		c.PollInterval = d.PollInterval
	}
	if c.ReceiptTimeout <= 0 {
		c.ReceiptTimeout = d.ReceiptTimeout
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = d.MinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Dir == "":
		return errors.New("anchor config: no Dir")
	case c.Backend == nil:
		return errors.New("anchor config: no Backend")
	case c.Registry == (common.Address{}):
		return errors.New("anchor config: no Registry")
	case c.Signer == nil:
		return errors.New("anchor config: no Signer")
	case c.MaxItems > MaxAnchorBatch:
		return fmt.Errorf("anchor config: MaxItems %d over %d", c.MaxItems, MaxAnchorBatch)
	case c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("anchor config: MaxBackoff %v under MinBackoff %v", c.MaxBackoff, c.MinBackoff)
	}
	return nil
}

// AnchorStatus is a snapshot of an Anchorer's counters.
type AnchorStatus struct {
	// Queued items wait for a batch.
	Queued int
	// InFlight items are in a batch not yet anchored.
	InFlight int
	// Anchored items have a proof.
	Anchored int
	// LastErr is the last chain error, nil once a batch is anchored after it.
	LastErr error
}

// Anchorer anchors items in batches: it keeps a persistent queue, cuts a
// batch every Interval or MaxItems items, anchors the batch's Merkle root with
// one transaction, and records each item's AnchorProof. A crash or a chain
// outage loses nothing and never anchors a root twice: before sending, it
// checks whether the root is already anchored. Its methods are safe for
// concurrent use.
type Anchorer struct {
	cfg      AnchorConfig
	db       *badger.DB
	registry *contracts.AnchorRegistry

	kick      chan struct{} // wakes the loop; buffered 1
	done      chan struct{} // closed by Close
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error

	chainID uint64 // owned by the loop goroutine; 0 until read

	mu sync.Mutex // serializes Badger writes
	// guarded by mu:
	nextSeq   uint64
	nextBatch uint64
	queued    int
	inFlight  int
	anchored  int
	pending   map[uint64]uint64 // unanchored batch → its MinSeq
	flushTo   uint64            // cut even a small batch while the first queued seq is below
	lastErr   error
	changed   chan struct{} // closed and replaced on every change of state
	closed    bool
}

// OpenAnchorer opens the anchorer's database at cfg.Dir. It does not touch
// the chain; Start begins anchoring, including batches left unanchored by a
// previous run.
func OpenAnchorer(cfg AnchorConfig) (*Anchorer, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	registry, err := contracts.NewAnchorRegistry(cfg.Registry, cfg.Backend)
	if err != nil {
		return nil, fmt.Errorf("bind anchor registry %s: %w", cfg.Registry, err)
	}
	db, err := badger.Open(badger.DefaultOptions(cfg.Dir).WithLogger(nil))
	if err != nil {
		return nil, fmt.Errorf("open anchor queue %s: %w", cfg.Dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Anchorer{
		cfg:      cfg,
		db:       db,
		registry: registry,
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		pending:  make(map[uint64]uint64),
		changed:  make(chan struct{}),
	}
	if err := db.View(a.loadLocked); err != nil {
		cancel()
		return nil, errors.Join(fmt.Errorf("load anchor queue %s: %w", cfg.Dir, err), db.Close())
	}
	return a, nil
}

// loadLocked reads the counters from the database.
func (a *Anchorer) loadLocked(txn *badger.Txn) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = prefixQueue
	it := txn.NewIterator(opts)
	for it.Rewind(); it.Valid(); it.Next() {
		a.queued++
		a.nextSeq = max(a.nextSeq, bigEndian(it.Item().Key()[len(prefixQueue):])+1)
	}
	it.Close()

	opts.Prefix = prefixBatch
	it = txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		n := bigEndian(it.Item().Key()[len(prefixBatch):])
		a.nextBatch = n + 1
		b, err := getBatch(txn, n)
		if err != nil {
			return err
		}
		if b.State != batchAnchored {
			a.pending[n] = b.MinSeq
			a.inFlight += int(b.ItemCount)
			a.nextSeq = max(a.nextSeq, b.MaxSeq+1)
		}
	}
	anchored, err := getU64(txn, keyAnchored)
	if err != nil {
		return err
	}
	a.anchored = int(anchored)
	return nil
}

func bigEndian(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// Start starts anchoring in the background until Close. ctx is not kept:
// the background work ends with Close.
func (a *Anchorer) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return ErrClosed
	}
	a.startOnce.Do(func() { a.wg.Go(a.run) })
	return nil
}

// Close stops anchoring and closes the database. Items queued or in flight
// stay in the database for the next run. Close is idempotent.
func (a *Anchorer) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		a.mu.Unlock()
		close(a.done)
		a.cancel()
		a.wg.Wait()
		if err := a.db.Close(); err != nil {
			a.closeErr = fmt.Errorf("close anchor queue: %w", err)
		}
	})
	return a.closeErr
}

// Enqueue queues the item id with its leaf (see ObjectLeaf) for anchoring. An
// item already queued, in flight or anchored is not queued again; enqueuing
// it with another leaf is an error.
func (a *Anchorer) Enqueue(ctx context.Context, id []byte, leaf Hash) error {
	if len(id) == 0 || len(id) > maxIDLen {
		return fmt.Errorf("enqueue: item id of %d bytes, want 1 to %d", len(id), maxIDLen)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	added := false
	err := a.db.Update(func(txn *badger.Txn) error {
		ik := key(prefixItem, id)
		it, err := txn.Get(ik)
		if err == nil {
			return it.Value(func(v []byte) error {
				_, _, old, _, err := parseItem(v)
				if err != nil {
					return err
				}
				if old != leaf {
					return fmt.Errorf("item %x has leaf %s, not %s", id, old, leaf)
				}
				return nil
			})
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		seq := a.nextSeq
		if err := txn.Set(key(prefixQueue, u64(seq)), append(leaf[:], id...)); err != nil {
			return err
		}
		added = true
		return txn.Set(ik, itemValue(itemQueued, seq, leaf, nil))
	})
	if err != nil {
		return fmt.Errorf("enqueue %x: %w", id, err)
	}
	if added {
		a.nextSeq++
		a.queued++
		if a.queued >= a.cfg.MaxItems {
			a.wake()
		}
	}
	return nil
}

// wake wakes the loop without blocking.
func (a *Anchorer) wake() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// changedLocked tells waiters that the state changed.
func (a *Anchorer) changedLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// Flush cuts a batch of what is queued now, without waiting for the interval,
// and waits until every item queued before the call is anchored, or ctx ends.
// It needs Start to make progress.
func (a *Anchorer) Flush(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	upTo := a.nextSeq
	a.flushTo = max(a.flushTo, upTo)
	a.mu.Unlock()
	a.wake()
	for {
		a.mu.Lock()
		ok, err := a.flushedLocked(upTo)
		ch := a.changed
		a.mu.Unlock()
		if err != nil || ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("flush anchor queue: %w", ctx.Err())
		case <-a.done:
			return ErrClosed
		}
	}
}

// flushedLocked reports whether every item queued with a seq below upTo is
// anchored.
func (a *Anchorer) flushedLocked(upTo uint64) (bool, error) {
	for _, minSeq := range a.pending {
		if minSeq < upTo {
			return false, nil
		}
	}
	first, ok, err := a.firstQueuedLocked()
	return !ok || first >= upTo, err
}

// firstQueuedLocked returns the seq of the oldest queued item.
func (a *Anchorer) firstQueuedLocked() (seq uint64, ok bool, err error) {
	err = a.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = prefixQueue
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Rewind()
		if it.Valid() {
			seq, ok = bigEndian(it.Item().Key()[len(prefixQueue):]), true
		}
		return nil
	})
	return seq, ok, err
}

// Status returns the anchorer's counters.
func (a *Anchorer) Status() AnchorStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return AnchorStatus{Queued: a.queued, InFlight: a.inFlight, Anchored: a.anchored, LastErr: a.lastErr}
}

// Proof returns the anchor proof of item id: ErrNotAnchored while it is
// queued or in flight, ErrUnknownItem if it was never enqueued.
func (a *Anchorer) Proof(id []byte) (*AnchorProof, error) {
	p := &AnchorProof{ID: bytes.Clone(id)}
	err := a.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key(prefixItem, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrUnknownItem
		}
		if err != nil {
			return err
		}
		var state byte
		var n uint64
		err = it.Value(func(v []byte) error {
			state, n, p.Leaf, p.Path, err = parseItem(v)
			return err
		})
		if err != nil {
			return err
		}
		if state != itemAnchored {
			return ErrNotAnchored
		}
		b, err := getBatch(txn, n)
		if err != nil {
			return err
		}
		p.Root, p.ItemCount, p.ChainID, p.Contract = b.Root, b.OnChainCount, b.ChainID, b.Contract
		p.TxHash, p.BlockNumber = b.TxHash, b.BlockNumber
		return nil
	})
	if err != nil {
		if errors.Is(err, badger.ErrDBClosed) {
			err = ErrClosed
		}
		return nil, fmt.Errorf("anchor proof of %x: %w", id, err)
	}
	if p.Path == nil {
		p.Path = []Hash{}
	}
	return p, nil
}

// setErr records the last chain error.
func (a *Anchorer) setErr(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastErr = err
	a.changedLocked()
}

// cut cuts a batch of up to MaxItems queued items, if there are MaxItems of
// them, or due is set, or a Flush is waiting for them. It returns nil when
// there is no batch to cut.
func (a *Anchorer) cut(due bool) (*anchorBatch, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.queued == 0 {
		return nil, nil
	}
	var b *anchorBatch
	err := a.db.Update(func(txn *badger.Txn) error {
		var items []batchItem
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefixQueue
		it := txn.NewIterator(opts)
		for it.Rewind(); it.Valid() && len(items) < a.cfg.MaxItems; it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			if len(v) < 32 {
				it.Close()
				return fmt.Errorf("queue entry of %d bytes", len(v))
			}
			items = append(items, batchItem{
				seq:  bigEndian(it.Item().Key()[len(prefixQueue):]),
				leaf: Hash(v[:32]),
				id:   v[32:],
			})
		}
		it.Close()
		if len(items) == 0 || !(due || len(items) == a.cfg.MaxItems || items[0].seq < a.flushTo) {
			return nil
		}
		leaves := make([]Hash, len(items))
		for i, it := range items {
			leaves[i] = it.leaf
		}
		tree, err := NewTree(leaves)
		if err != nil {
			return err
		}
		b = &anchorBatch{
			Number:    a.nextBatch,
			Root:      tree.Root(),
			ItemCount: uint64(len(items)),
			MinSeq:    items[0].seq,
			MaxSeq:    items[len(items)-1].seq,
			State:     batchCut,
		}
		if err := putBatch(txn, b); err != nil {
			return err
		}
		if err := txn.Set(key(prefixItems, u64(b.Number)), encodeItems(items)); err != nil {
			return err
		}
		for _, it := range items {
			if err := txn.Delete(key(prefixQueue, u64(it.seq))); err != nil {
				return err
			}
			if err := txn.Set(key(prefixItem, it.id), itemValue(itemBatched, b.Number, it.leaf, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cut anchor batch: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	a.nextBatch++
	a.queued -= int(b.ItemCount)
	a.inFlight += int(b.ItemCount)
	a.pending[b.Number] = b.MinSeq
	a.changedLocked()
	a.cfg.Logger.Debug("cut anchor batch", slog.Uint64("batch", b.Number), slog.Uint64("items", b.ItemCount), slog.String("root", b.Root.String()))
	return b, nil
}

// saveBatch stores b's header.
func (a *Anchorer) saveBatch(b *anchorBatch) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.db.Update(func(txn *badger.Txn) error { return putBatch(txn, b) }); err != nil {
		return fmt.Errorf("save anchor batch %d: %w", b.Number, err)
	}
	return nil
}

// record stores the proofs of b's items, anchored in txHash at block.
func (a *Anchorer) record(b *anchorBatch, txHash common.Hash, block, onChainCount uint64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.db.Update(func(txn *badger.Txn) error {
		items, err := getBatchItems(txn, b.Number)
		if err != nil {
			return err
		}
		leaves := make([]Hash, len(items))
		for i, it := range items {
			leaves[i] = it.leaf
		}
		tree, err := NewTree(leaves)
		if err != nil {
			return err
		}
		if tree.Root() != b.Root {
			return fmt.Errorf("items of batch %d hash to %s, not %s", b.Number, tree.Root(), b.Root)
		}
		for i, it := range items {
			path, err := tree.Proof(i)
			if err != nil {
				return err
			}
			if err := txn.Set(key(prefixItem, it.id), itemValue(itemAnchored, b.Number, it.leaf, path)); err != nil {
				return err
			}
		}
		anchored, err := getU64(txn, keyAnchored)
		if err != nil {
			return err
		}
		if err := txn.Set(keyAnchored, u64(anchored+uint64(len(items)))); err != nil {
			return err
		}
		nb := *b
		nb.State, nb.TxHash, nb.BlockNumber, nb.OnChainCount = batchAnchored, txHash, block, onChainCount
		nb.ChainID, nb.Contract = a.chainID, a.cfg.Registry
		nb.RawTx = nil
		return putBatch(txn, &nb)
	})
	if err != nil {
		return fmt.Errorf("record anchor batch %d: %w", b.Number, err)
	}
	b.State = batchAnchored
	a.inFlight -= int(b.ItemCount)
	a.anchored += int(b.ItemCount)
	delete(a.pending, b.Number)
	a.lastErr = nil
	a.changedLocked()
	return nil
}

// sleep waits d or until Close; it reports false on Close.
func (a *Anchorer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.ctx.Done():
		return false
	}
}

// nextBackoff doubles d up to the configured maximum.
func (a *Anchorer) nextBackoff(d time.Duration) time.Duration {
	if d > math.MaxInt64/2 {
		return a.cfg.MaxBackoff
	}
	return min(2*d, a.cfg.MaxBackoff)
}
