package exchange

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/openledger/openledger/storage"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// Window is the number of shards in flight per peer: requests are
	// pipelined so a peer always has the next shards to send. At most
	// 256.
	Window int
	// StallTimeout drops a peer from a fetch when it sends nothing for
	// this long while shards are in flight there, or does not accept a
	// stream or a request within it.
	StallTimeout time.Duration
	// MaxAttempts bounds, per shard, the peers that may fail while the
	// shard is in flight there before the shard is given up.
	MaxAttempts int
	// MaxPeers bounds the providers one fetch talks to at once; when one
	// is dropped, the next provider in the list takes its place.
	MaxPeers int
	// MaxBadShards is how many shards whose bytes do not match their CID
	// a peer may send in one fetch before it is dropped from it and
	// disconnected. Each such shard is asked of the other peers, never of
	// that one again in the fetch, and reported to the OnBadPeer function:
	// a peer with one damaged copy still serves the rest.
	MaxBadShards int
	// PutConcurrency is the number of calls of put a fetch runs at once.
	// Verified shards wait for put in a bounded queue while the streams go
	// on; a store that batches concurrent writes (Badger does) is much
	// faster with several.
	PutConcurrency int
	// Logger receives dropped peers at Debug and bad peers at Warn; nil
	// discards them.
	Logger *slog.Logger
}

// DefaultClientConfig returns the default client configuration: a window
// of 16 shards, a 15 s stall timeout, 5 attempts per shard, 8 peers, 4 bad
// shards per peer and 4 puts at once.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{
		Window:         16,
		StallTimeout:   15 * time.Second,
		MaxAttempts:    5,
		MaxPeers:       8,
		MaxBadShards:   4,
		PutConcurrency: 4,
	}
}

func (cfg ClientConfig) validate() error {
	switch {
	case cfg.Window < 1 || cfg.Window > maxRequestCIDs:
		return fmt.Errorf("Window is %d, want 1 to %d", cfg.Window, maxRequestCIDs)
	case cfg.StallTimeout <= 0:
		return fmt.Errorf("StallTimeout is %v, want more than 0", cfg.StallTimeout)
	case cfg.MaxAttempts < 1:
		return fmt.Errorf("MaxAttempts is %d, want at least 1", cfg.MaxAttempts)
	case cfg.MaxPeers < 1:
		return fmt.Errorf("MaxPeers is %d, want at least 1", cfg.MaxPeers)
	case cfg.MaxBadShards < 1:
		return fmt.Errorf("MaxBadShards is %d, want at least 1", cfg.MaxBadShards)
	case cfg.PutConcurrency < 1:
		return fmt.Errorf("PutConcurrency is %d, want at least 1", cfg.PutConcurrency)
	}
	return nil
}

// Client fetches shards from the Servers of other peers.
type Client struct {
	h      host.Host
	cfg    ClientConfig
	cfgErr error // from validate; returned by every Fetch
	log    *slog.Logger

	badPeer atomic.Pointer[func(peer.ID, error)]

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool           // guarded by mu
	fetches sync.WaitGroup // running Fetch calls; Add under mu while !closed
	once    sync.Once
}

// NewClient returns a Client that opens streams from h. An invalid cfg (or
// a nil h) makes every Fetch fail with the reason.
func NewClient(h host.Host, cfg ClientConfig) *Client {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		h:      h,
		cfg:    cfg,
		log:    log.With(slog.String("protocol", ProtocolID)),
		ctx:    ctx,
		cancel: cancel,
	}
	if err := cfg.validate(); err != nil {
		c.cfgErr = fmt.Errorf("exchange: client config: %w", err)
	}
	if h == nil {
		c.cfgErr = errors.New("exchange: NewClient needs a host")
	}
	return c
}

// OnBadPeer sets the function told about each shard a peer sent whose
// bytes do not match its CID (an error wrapping ErrBadData that names the
// shard), and each peer that broke the wire format (ErrProtocol). A peer
// that broke the format, or sent ClientConfig.MaxBadShards bad shards, has
// already been dropped from the fetch and disconnected when fn is told.
// Set it before the first Fetch; fn is called from Fetch's goroutines and
// must not block for long.
func (c *Client) OnBadPeer(fn func(peer.ID, error)) {
	c.badPeer.Store(&fn)
}

// Close makes running fetches return errors wrapping ErrClosed, waits for
// them, and makes later ones fail the same way. It is idempotent.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.cancel()
		c.fetches.Wait()
	})
	return nil
}

// Fetch gets every shard in want from providers, verifies each against its
// CID, and calls put with each verified shard, once per distinct CID.
//
// put is called concurrently, from up to ClientConfig.PutConcurrency
// goroutines, and must not keep data after it returns: the buffer is
// reused. If put fails, Fetch stops and returns its error; it returns only
// after every call of put has returned. have (nil for
// none) is asked once per shard before anything is fetched; shards it
// reports true for are skipped, so an interrupted fetch resumes. progress
// (may be nil) is called after each successful put with the shard's size,
// never concurrently.
//
// Each provider gets a share of the shards and a stream with up to
// ClientConfig.Window requests in flight; a provider that is done with its
// share takes shards from the others, and a shard whose provider did not
// deliver it goes to another. When no share is left, an idle provider may
// also ask for a shard in flight at a much slower one (endgame); the first
// verified copy is used and the other dropped. A shard whose bytes do not
// match is asked of the other providers and reported to the OnBadPeer
// function; nothing that does not match reaches put. A provider that sends
// ClientConfig.MaxBadShards of them, or breaks the wire format, is dropped
// and disconnected. A provider that answers "busy" is asked again after a
// pause, for up to ClientConfig.StallTimeout, while the others take its
// share.
//
// Fetch returns nil when every shard was handed to put. When providers have
// all answered or failed and shards are still missing, it returns a
// *FetchError listing them; it wraps ErrNotFound for shards that providers
// said they do not have. Every provider answers, fails or is dropped within
// ClientConfig.StallTimeout, so Fetch does not hang on one that has nothing.
// Only sha2-256 CIDs can be fetched: others make Fetch fail at once with
// ErrBadCID.
//
// A fetch holds at most min(MaxPeers, len(providers)) + 2*PutConcurrency
// shard buffers, whatever the number of shards.
func (c *Client) Fetch(ctx context.Context, want []cid.Cid, providers []peer.ID,
	have func(cid.Cid) bool, put func(cid.Cid, []byte) error, progress func(int64)) error {
	if c.cfgErr != nil {
		return c.cfgErr
	}
	if put == nil {
		return errors.New("exchange: fetch: put is nil")
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("fetch: %w", ErrClosed)
	}
	c.fetches.Add(1)
	c.mu.Unlock()
	defer c.fetches.Done()

	f := &fetch{c: c, put: put, progress: progress}
	seen := make(map[string]struct{}, len(want))
	for _, w := range want {
		digest, err := storage.Digest(w)
		if err != nil {
			return fmt.Errorf("fetch: %w: %w", ErrBadCID, err)
		}
		if _, ok := seen[w.KeyString()]; ok {
			continue
		}
		seen[w.KeyString()] = struct{}{}
		if have != nil && have(w) {
			continue
		}
		f.cids = append(f.cids, w)
		f.bins = append(f.bins, w.Bytes())
		f.digests = append(f.digests, digest)
	}
	if len(f.cids) == 0 {
		return nil
	}
	self := c.h.ID()
	known := make(map[peer.ID]struct{}, len(providers))
	for _, p := range providers {
		if _, ok := known[p]; ok || p == self || p == "" {
			continue
		}
		known[p] = struct{}{}
		f.peers = append(f.peers, p)
	}
	return f.run(ctx)
}

// fetch is one call of Client.Fetch: the shards, the peers, the schedule
// and the workers, one per active peer.
type fetch struct {
	c        *Client
	cids     []cid.Cid
	bins     [][]byte // binary CIDs, as sent and echoed on the wire
	digests  [][sha256.Size]byte
	peers    []peer.ID
	put      func(cid.Cid, []byte) error
	progress func(int64)

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	sched    *sched        // guarded by mu
	bad      []int         // guarded by mu: per peer, the shards it sent that did not match
	wake     chan struct{} // guarded by mu; closed and replaced when sched changes
	done     chan struct{} // closed once sched is finished
	finished bool          // guarded by mu; done is closed
	fatal    error         // guarded by mu; the first error that ends the fetch

	// Verified shards go from the workers to the putters through puts;
	// buffers holds the shard buffers, a fixed number of them, so the
	// memory of a fetch is bounded however slow put is.
	puts    chan putJob
	buffers chan []byte

	progressMu sync.Mutex
	workers    sync.WaitGroup
	putters    sync.WaitGroup
}

// putJob is a verified shard waiting for put.
type putJob struct {
	i    int
	data []byte
}

// errFetchDone cancels a fetch's context when it is over, resetting the
// streams still open.
var errFetchDone = errors.New("exchange: fetch done")

func (f *fetch) run(parent context.Context) error {
	cfg := f.c.cfg
	f.ctx, f.cancel = context.WithCancelCause(parent)
	defer f.cancel(errFetchDone)
	stop := context.AfterFunc(f.c.ctx, func() { f.cancel(ErrClosed) })
	defer stop()

	f.sched = newSched(len(f.cids), len(f.peers), cfg.Window, cfg.MaxAttempts, cfg.MaxPeers)
	f.bad = make([]int, len(f.peers))
	f.wake = make(chan struct{})
	f.done = make(chan struct{})
	// One buffer per worker being filled, and per putter and queue slot.
	f.puts = make(chan putJob, cfg.PutConcurrency)
	nbuf := min(cfg.MaxPeers, len(f.peers)) + 2*cfg.PutConcurrency
	f.buffers = make(chan []byte, nbuf)
	for range nbuf {
		f.buffers <- nil // allocated on first use
	}
	for range cfg.PutConcurrency {
		f.putters.Go(f.putter)
	}
	f.mu.Lock()
	f.changedLocked()
	f.mu.Unlock()

	select {
	case <-f.done:
	case <-f.ctx.Done():
	}
	f.cancel(errFetchDone)
	f.workers.Wait()
	close(f.puts)
	f.putters.Wait()

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fatal != nil {
		return f.fatal
	}
	if !f.sched.finished() {
		return fmt.Errorf("fetch: %w", context.Cause(f.ctx))
	}
	idx, errs := f.sched.failures()
	if len(idx) == 0 {
		return nil
	}
	fe := &FetchError{Shards: make([]ShardError, len(idx))}
	for k, i := range idx {
		fe.Shards[k] = ShardError{CID: f.cids[i], Err: errs[k]}
	}
	return fe
}

// changedLocked starts the workers the schedule asks for, wakes idle
// workers, and ends the fetch once the schedule is finished. f.mu is held.
func (f *fetch) changedLocked() {
	for _, p := range f.sched.takeStarts() {
		f.workers.Go(func() { f.worker(p) })
	}
	close(f.wake)
	f.wake = make(chan struct{})
	if f.sched.finished() && !f.finished {
		f.finished = true
		close(f.done)
	}
}

// failLocked ends the fetch with err unless it already ended with an error.
func (f *fetch) failLocked(err error) {
	if f.fatal == nil {
		f.fatal = err
	}
	f.cancel(err)
}

// worker fetches from peer p until the fetch is over or p is dropped. A
// busy peer is asked again after a pause, for up to StallTimeout in all.
func (f *fetch) worker(p int) {
	pid := f.peers[p]
	var err error
	for pause, waited := busyPause, time.Duration(0); ; pause = min(2*pause, maxBusyPause) {
		err = f.exchange(p)
		if err == nil || f.ctx.Err() != nil {
			return
		}
		if !errors.Is(err, ErrBusy) || waited+pause > f.c.cfg.StallTimeout {
			break
		}
		f.mu.Lock()
		f.sched.busy(p)
		f.changedLocked()
		f.mu.Unlock()
		if !f.sleep(pause) {
			return
		}
		waited += pause
	}
	log := f.c.log.With(slog.String("peer", pid.String()))
	if errors.Is(err, ErrBadData) || errors.Is(err, ErrProtocol) {
		log.Warn("dropping bad peer", slog.Any("err", err))
		_ = f.c.h.Network().ClosePeer(pid)
		f.c.reportBad(pid, err)
	} else {
		log.Debug("dropping peer from fetch", slog.Any("err", err))
	}
	f.mu.Lock()
	f.sched.dropped(p, fmt.Errorf("peer %s: %w", pid, err))
	f.changedLocked()
	f.mu.Unlock()
}

// The pauses before asking a busy peer again: doubling from busyPause to
// maxBusyPause.
const (
	busyPause    = 100 * time.Millisecond
	maxBusyPause = time.Second
)

// sleep waits for d, or until the fetch is over (it then returns false).
func (f *fetch) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-f.done:
	case <-f.ctx.Done():
	}
	return false
}

// reportBad tells the OnBadPeer function, if any, about p.
func (c *Client) reportBad(p peer.ID, err error) {
	if fn := c.badPeer.Load(); fn != nil && *fn != nil {
		(*fn)(p, err)
	}
}

// idlePoll is how often a worker with nothing to do looks again for a
// shard to take from a slow peer, when no delivery woke it before.
const idlePoll = 100 * time.Millisecond

// exchange runs one stream to peer p: it keeps up to Window requests in
// flight, reads the responses in order, verifies each shard and hands it to
// put. It returns nil when the fetch is over, and why p failed otherwise.
func (f *fetch) exchange(p int) (err error) {
	cfg := f.c.cfg
	pid := f.peers[p]
	octx, cancel := context.WithTimeout(f.ctx, cfg.StallTimeout)
	str, err := f.c.h.NewStream(octx, pid, ProtocolID)
	cancel()
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	var pending []int // shards requested and not yet answered, in order
	reset := make(chan struct{})
	stop := context.AfterFunc(f.ctx, func() {
		_ = str.Reset()
		close(reset)
	})
	defer func() {
		if !stop() {
			<-reset // reset when the fetch ended
			return
		}
		if err != nil || len(pending) > 0 {
			_ = str.Reset()
		} else {
			_ = str.Close()
		}
	}()

	sr := &stallReader{s: str, timeout: cfg.StallTimeout}
	br := bufio.NewReaderSize(sr, 32<<10)
	var (
		req  []byte
		bins [][]byte
		data []byte // a buffer from f.buffers, or nil
	)
	defer func() {
		if data != nil {
			f.buffers <- data // never blocks: it has room for every buffer
		}
	}()
	for {
		f.mu.Lock()
		if f.sched.finished() {
			f.mu.Unlock()
			return nil
		}
		n0 := len(pending)
		now := time.Now()
		for {
			i, ok := f.sched.next(p, now)
			if !ok {
				break
			}
			pending = append(pending, i)
		}
		wake := f.wake
		f.mu.Unlock()

		if len(pending) > n0 {
			req = req[:0]
			for lo := n0; lo < len(pending); lo += maxRequestCIDs {
				bins = bins[:0]
				for _, i := range pending[lo:min(lo+maxRequestCIDs, len(pending))] {
					bins = append(bins, f.bins[i])
				}
				req = appendRequest(req, bins)
			}
			_ = str.SetWriteDeadline(time.Now().Add(cfg.StallTimeout))
			if _, err := str.Write(req); err != nil {
				return fmt.Errorf("send request: %w", stallError(err, cfg.StallTimeout))
			}
		}
		if len(pending) == 0 {
			t := time.NewTimer(idlePoll)
			select {
			case <-wake:
			case <-t.C:
			case <-f.ctx.Done():
			}
			t.Stop()
			continue
		}

		i := pending[0]
		status, size, err := readResponseHeader(br, f.bins[i])
		if err != nil {
			return fmt.Errorf("read response for %s: %w", f.cids[i], stallError(err, cfg.StallTimeout))
		}
		if status != statusOK {
			var cause error // nil: not found
			if status == statusUnavailable {
				cause = fmt.Errorf("peer %s could not read it", pid)
			}
			f.mu.Lock()
			err := f.sched.refused(p, i, time.Now(), cause)
			f.changedLocked()
			f.mu.Unlock()
			if err != nil {
				return err
			}
			pending = pending[1:]
			continue
		}
		if data == nil {
			select {
			case data = <-f.buffers:
			case <-f.ctx.Done():
				return nil
			}
		}
		if cap(data) < size {
			data = make([]byte, size)
		}
		data = data[:size]
		if _, err := io.ReadFull(br, data); err != nil {
			return fmt.Errorf("read shard %s: %w", f.cids[i], stallError(err, cfg.StallTimeout))
		}
		if sha256.Sum256(data) != f.digests[i] {
			// Distrust p for this shard only: the others ask for it.
			bad := fmt.Errorf("%w: shard %s", ErrBadData, f.cids[i])
			f.mu.Lock()
			f.bad[p]++
			n := f.bad[p]
			err := f.sched.refused(p, i, time.Now(), fmt.Errorf("peer %s: %w", pid, bad))
			f.changedLocked()
			f.mu.Unlock()
			if err != nil {
				return err
			}
			pending = pending[1:]
			if n >= cfg.MaxBadShards {
				return fmt.Errorf("%d bad shards, the last: %w", n, bad)
			}
			f.c.log.Warn("peer sent a bad shard; asking others for it", slog.String("peer", pid.String()), slog.Any("err", bad))
			f.c.reportBad(pid, bad)
			continue
		}
		f.mu.Lock()
		first, err := f.sched.delivered(p, i, time.Now())
		f.changedLocked()
		f.mu.Unlock()
		if err != nil {
			return err
		}
		pending = pending[1:]
		if !first {
			continue // a second copy: keep data for the next shard
		}
		job := putJob{i: i, data: data}
		data = nil
		select {
		case f.puts <- job:
		case <-f.ctx.Done():
			if f.failed() {
				f.buffers <- job.data
				return nil
			}
			// The fetch finished (this shard may well have been the
			// last): the putters drain f.puts until every worker is
			// done, so this send does not block for long.
			f.puts <- job
		}
	}
}

// putter hands verified shards to put until the workers are done, and
// reports progress.
func (f *fetch) putter() {
	for job := range f.puts {
		if f.failed() {
			f.buffers <- job.data
			continue
		}
		err := f.put(f.cids[job.i], job.data)
		n := len(job.data)
		f.buffers <- job.data
		if err != nil {
			f.mu.Lock()
			f.failLocked(fmt.Errorf("fetch: put shard %s: %w", f.cids[job.i], err))
			f.mu.Unlock()
			continue
		}
		if f.progress != nil {
			f.progressMu.Lock()
			f.progress(int64(n))
			f.progressMu.Unlock()
		}
	}
}

// failed reports whether the fetch ended other than by finishing: put
// failed, the caller's context is done or the Client closed. Shards that
// still wait for put are then dropped.
func (f *fetch) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fatal != nil || (f.ctx.Err() != nil && context.Cause(f.ctx) != errFetchDone)
}

// stallReader reads from a stream with a read deadline StallTimeout ahead,
// moved forward as reads go on. Moving a deadline costs a lock in the
// muxer, so it is moved at most every timeout/8: a peer is dropped after
// between 7/8 of the timeout and the timeout without a byte.
type stallReader struct {
	s       network.Stream
	timeout time.Duration
	refresh time.Time // when to move the deadline next
}

func (r *stallReader) Read(p []byte) (int, error) {
	if now := time.Now(); !now.Before(r.refresh) {
		_ = r.s.SetReadDeadline(now.Add(r.timeout))
		r.refresh = now.Add(r.timeout / 8)
	}
	return r.s.Read(p)
}

// stallError turns a deadline error into one wrapping ErrStalled.
func stallError(err error, timeout time.Duration) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: nothing for %v: %w", ErrStalled, timeout, err)
	}
	return err
}
