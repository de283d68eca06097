package exchange

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/openledger/openledger/storage"
)

// ServiceName is the libp2p resource manager service the Server's streams
// are attached to, so the host can bound them all together (for example
// with rcmgr.PartialLimitConfig.Service).
const ServiceName = "openledger.exchange"

// Blockstore is what a Server serves shards from; *storage.Store is one.
type Blockstore interface {
	// GetShard returns the bytes of the shard c, or an error wrapping
	// storage.ErrNotFound when it is not stored. The Server does not
	// modify or keep the returned slice after writing it out.
	GetShard(ctx context.Context, c cid.Cid) ([]byte, error)
}

// ServerConfig configures a Server.
//
// Whatever its peers do, a Server holds at most MaxBytesInFlight bytes of
// shards, and MaxStreams streams, each with a few tens of KiB of buffers and
// requests (docs/benchmarks.md has the heap measured under 200 peers that
// ask and never read). Peer identities are free, so only these bounds over
// all peers, not the per-peer ones, bound the Server's memory.
type ServerConfig struct {
	// MaxStreamsPerPeer bounds the exchange streams one peer may have open
	// at once; a stream beyond it is answered "busy" and closed. A client
	// opens one stream per fetch, so this also bounds concurrent fetches.
	MaxStreamsPerPeer int
	// MaxStreams bounds the exchange streams open at once, over all
	// peers. A stream beyond it takes the place of the open stream that
	// has moved nothing for longest, if that one has moved nothing for
	// evictStalls times StallTimeout (it is reset); otherwise it is
	// answered "busy" and closed.
	MaxStreams int
	// MaxBytesInFlight bounds the shard bytes read from the Blockstore and
	// not yet sent, over all streams. A stream waits for room before it
	// reads a shard, in turn with the others. At least MaxShardSize.
	MaxBytesInFlight int64
	// StallTimeout is how long a stream may keep a shard of which its peer
	// accepts no byte. The stream then gives the shard's bytes back to
	// MaxBytesInFlight and keeps only the next stallPiece (16 KiB), which it
	// sends once the peer reads again; it then reads the shard again and
	// goes on. A peer that asks and does not read so holds almost nothing.
	StallTimeout time.Duration
	// MaxBytesPerSecondPerPeer bounds the bytes sent to one peer per
	// second, over all its streams; 0 means unlimited.
	MaxBytesPerSecondPerPeer int64
	// IdleTimeout resets a stream on which nothing moves, no request from
	// the client and no byte accepted by it, for this long.
	IdleTimeout time.Duration
	// Logger receives per-stream errors at Debug and storage faults at
	// Warn; nil discards them.
	Logger *slog.Logger
}

// DefaultServerConfig returns the default server configuration: 8 streams
// per peer and 1024 in all, 64 MiB of shards in flight, a 250 ms stall
// timeout, no byte rate limit, a one-minute idle timeout.
//
// The stall timeout is short because stalling costs an honest peer little
// (the shard is read again when it reads on) while the bytes a stalled
// stream holds make the others wait: 1024 new streams that never read hold
// the 64 MiB budget for about 1024 x 250 ms / 64 = 4 s.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		MaxStreamsPerPeer: 8,
		MaxStreams:        1024,
		MaxBytesInFlight:  64 << 20,
		StallTimeout:      250 * time.Millisecond,
		IdleTimeout:       time.Minute,
	}
}

func (cfg ServerConfig) validate() error {
	switch {
	case cfg.MaxStreamsPerPeer < 1:
		return fmt.Errorf("MaxStreamsPerPeer is %d, want at least 1", cfg.MaxStreamsPerPeer)
	case cfg.MaxStreams < 1:
		return fmt.Errorf("MaxStreams is %d, want at least 1", cfg.MaxStreams)
	case cfg.MaxBytesInFlight < MaxShardSize:
		return fmt.Errorf("MaxBytesInFlight is %d, want at least %d (the largest shard)", cfg.MaxBytesInFlight, MaxShardSize)
	case cfg.StallTimeout <= 0:
		return fmt.Errorf("StallTimeout is %v, want more than 0", cfg.StallTimeout)
	case cfg.MaxBytesPerSecondPerPeer < 0:
		return fmt.Errorf("MaxBytesPerSecondPerPeer is %d, want 0 (unlimited) or more", cfg.MaxBytesPerSecondPerPeer)
	case cfg.IdleTimeout <= 0:
		return fmt.Errorf("IdleTimeout is %v, want more than 0", cfg.IdleTimeout)
	}
	return nil
}

// Server answers shard requests from the Blockstore it was given.
type Server struct {
	h   host.Host
	bs  Blockstore
	cfg ServerConfig
	log *slog.Logger

	ctx    context.Context // cancelled by Close; resets open streams
	cancel context.CancelCauseFunc

	budget   *semaphore.Weighted // MaxBytesInFlight
	inFlight atomic.Int64        // bytes taken from budget
	peak     atomic.Int64        // the most inFlight has been
	stalls   atomic.Uint64
	evicted  atomic.Uint64
	busy     atomic.Uint64

	mu      sync.Mutex
	closed  bool                       // guarded by mu
	peers   map[peer.ID]*servingPeer   // guarded by mu
	streams map[*servedStream]struct{} // guarded by mu: those counted against MaxStreams
	wg      sync.WaitGroup             // stream handlers; Add under mu while !closed
	once    sync.Once
}

// servingPeer is the state shared by the streams of one peer.
type servingPeer struct {
	streams int           // guarded by Server.mu
	limiter *rate.Limiter // nil when unlimited
}

// servedStream is one stream being served (or refused).
type servedStream struct {
	str  network.Stream
	peer *servingPeer
	// ctx ends the stream (it is reset): Close, an eviction, a bad
	// request or a failed write cancels it, with the reason as cause.
	ctx      context.Context
	cancel   context.CancelCauseFunc
	admitted bool // guarded by Server.mu; counted in peer.streams
	// moved is when the stream last moved (unix ns): a request read, a
	// byte accepted by the peer, or the wait for the budget ended.
	moved atomic.Int64
	// waiting is set while the stream waits for the byte budget: it is
	// the server's turn to move, not the peer's.
	waiting atomic.Bool
	// buf holds response headers, small shards, and the piece kept while
	// the peer does not read; used by the writer only.
	buf []byte
}

func (st *servedStream) touch() { st.moved.Store(time.Now().UnixNano()) }

// errEvicted is the cause of a stream reset to make room for another.
var errEvicted = errors.New("exchange: stream evicted: it moved nothing while the server was at MaxStreams")

// NewServer returns a Server for bs and registers its handler for
// ProtocolID on h.
func NewServer(h host.Host, bs Blockstore, cfg ServerConfig) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("exchange: server config: %w", err)
	}
	if h == nil || bs == nil {
		return nil, errors.New("exchange: NewServer needs a host and a blockstore")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &Server{
		h:       h,
		bs:      bs,
		cfg:     cfg,
		log:     log.With(slog.String("protocol", ProtocolID)),
		ctx:     ctx,
		cancel:  cancel,
		budget:  semaphore.NewWeighted(cfg.MaxBytesInFlight),
		peers:   make(map[peer.ID]*servingPeer),
		streams: make(map[*servedStream]struct{}),
	}
	h.SetStreamHandler(ProtocolID, s.handle)
	return s, nil
}

// Close removes the stream handler, resets the streams being served and
// waits for their handlers to return. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.h.RemoveStreamHandler(ProtocolID)
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel(ErrClosed)
		s.wg.Wait()
	})
	return nil
}

// ServerStats is a snapshot of what a Server holds and has done.
type ServerStats struct {
	// Streams is the number of streams being served.
	Streams int
	// BytesInFlight is the shard bytes read and not yet sent, within
	// ServerConfig.MaxBytesInFlight; PeakBytesInFlight, the most it has
	// been.
	BytesInFlight, PeakBytesInFlight int64
	// Stalls counts the times a stream gave its shard back because its
	// peer accepted nothing for ServerConfig.StallTimeout.
	Stalls uint64
	// Evicted counts the streams reset to make room for a new one at
	// ServerConfig.MaxStreams; Busy, the streams refused.
	Evicted, Busy uint64
}

// Stats returns what the Server holds now and has done since it started.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	n := len(s.streams)
	s.mu.Unlock()
	return ServerStats{
		Streams:           n,
		BytesInFlight:     s.inFlight.Load(),
		PeakBytesInFlight: s.peak.Load(),
		Stalls:            s.stalls.Load(),
		Evicted:           s.evicted.Load(),
		Busy:              s.busy.Load(),
	}
}

// admit registers a new stream of p. ok is false when the server is
// closed. Otherwise st.admitted says whether it may be served (else it is
// refused as busy), and victim, when not nil, is a stalled stream that
// gave up its place: the caller ends it.
func (s *Server) admit(p peer.ID, str network.Stream) (st, victim *servedStream, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, false
	}
	sp := s.peers[p]
	if sp == nil {
		sp = &servingPeer{}
		if r := s.cfg.MaxBytesPerSecondPerPeer; r > 0 {
			sp.limiter = rate.NewLimiter(rate.Limit(r), limiterBurst(r))
		}
		s.peers[p] = sp
	}
	s.wg.Add(1)
	st = &servedStream{str: str, peer: sp}
	st.ctx, st.cancel = context.WithCancelCause(s.ctx)
	st.touch()
	if sp.streams >= s.cfg.MaxStreamsPerPeer {
		return st, nil, true
	}
	if len(s.streams) >= s.cfg.MaxStreams {
		if victim = s.stalestLocked(); victim == nil {
			return st, nil, true
		}
		delete(s.streams, victim)
	}
	st.admitted = true
	sp.streams++
	s.streams[st] = struct{}{}
	return st, victim, true
}

// evictStalls is how many StallTimeouts a stream must have moved nothing
// for to be evicted for a new one at MaxStreams: longer than a stall, so
// that an honest stream whose client is briefly busy keeps its place.
const evictStalls = 4

// stalestLocked returns the stream that has moved nothing for longest, if
// that is evictStalls*StallTimeout or more, and is not waiting for the
// budget. s.mu is held.
func (s *Server) stalestLocked() *servedStream {
	var victim *servedStream
	oldest := time.Now().Add(-evictStalls * s.cfg.StallTimeout).UnixNano()
	for st := range s.streams {
		if m := st.moved.Load(); m <= oldest && !st.waiting.Load() {
			victim, oldest = st, m
		}
	}
	return victim
}

func (s *Server) release(p peer.ID, st *servedStream) {
	s.mu.Lock()
	if st.admitted {
		st.peer.streams--
		delete(s.streams, st)
	}
	if st.peer.streams == 0 && s.peers[p] == st.peer {
		delete(s.peers, p)
	}
	s.mu.Unlock()
	st.cancel(nil)
	s.wg.Done()
}

// limiterBurst is the token bucket size for a rate of r bytes per second,
// and the most a limited stream writes at once: a tenth of a second's worth,
// within [4 KiB, 1 MiB].
func limiterBurst(r int64) int { return int(min(max(r/10, 4<<10), 1<<20)) }

func (s *Server) handle(str network.Stream) {
	p := str.Conn().RemotePeer()
	st, victim, ok := s.admit(p, str)
	if !ok {
		_ = str.Reset()
		return
	}
	defer s.release(p, st)
	if victim != nil {
		s.evicted.Add(1)
		victim.cancel(errEvicted)
	}
	if err := str.Scope().SetService(ServiceName); err != nil {
		s.log.Debug("shard stream refused by the resource manager", slog.String("peer", p.String()), slog.Any("err", err))
		_ = str.Reset()
		return
	}
	reset := make(chan struct{})
	stop := context.AfterFunc(st.ctx, func() {
		_ = str.Reset()
		close(reset)
	})
	defer func() {
		if !stop() {
			<-reset // reset by Close, an eviction or a failure
		}
	}()
	if !st.admitted {
		s.busy.Add(1)
		_ = str.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if _, err := str.Write([]byte{statusBusy}); err != nil {
			_ = str.Reset()
			return
		}
		_ = str.Close()
		return
	}
	if err := s.serve(st); err != nil {
		s.log.Debug("shard stream ended", slog.String("peer", p.String()), slog.Any("err", err))
		_ = str.Reset()
		return
	}
	_ = str.Close()
}

// serve answers the requests on st until the client closes its side. It
// runs in two stages: readRequests reads request frames as they come and
// queues the CIDs, and serve answers them in order.
func (s *Server) serve(st *servedStream) error {
	reqs := make(chan cid.Cid, maxRequestCIDs)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(reqs)
		if err := s.readRequests(st, reqs); err != nil {
			st.cancel(err) // resets the stream: the answers stop
		}
	})
	var err error
	for r := range reqs {
		if err = s.answer(st, r); err != nil {
			st.cancel(err) // unblocks the reader
			break
		}
	}
	wg.Wait()
	if cause := context.Cause(st.ctx); cause != nil {
		return cause
	}
	return err
}

// readRequests reads request frames from st and queues every CID, in order,
// until the client closes its side (it returns nil) or breaks the protocol.
// It never waits for the answers, so the client's requests never pile up
// in the muxer: a client may have at most maxRequestCIDs shards asked for
// and not answered, and one that asks for more breaks the protocol.
func (s *Server) readRequests(st *servedStream, reqs chan<- cid.Cid) error {
	br := bufio.NewReaderSize(st.str, 4<<10)
	var frame []byte
	var cids [][]byte
	for {
		if err := s.awaitRequest(st, br); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
		_ = st.str.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		var err error
		frame, err = readRequestFrame(br, frame)
		if err == nil {
			cids, err = decodeRequest(frame, cids)
		}
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		st.touch()
		for _, cb := range cids {
			c, err := parseCID(cb)
			if err != nil {
				return fmt.Errorf("read request: %w", err)
			}
			select {
			case reqs <- c:
			default:
				return fmt.Errorf("%w: more than %d shards asked for and not answered", ErrProtocol, maxRequestCIDs+1)
			}
		}
	}
}

// awaitRequest waits for the first byte of the next request frame. It gives
// up, with a timeout error, when the stream has moved nothing either way for
// IdleTimeout: a client that waits for its answers sends nothing meanwhile.
func (s *Server) awaitRequest(st *servedStream, br *bufio.Reader) error {
	for {
		idle := time.Unix(0, st.moved.Load()).Add(s.cfg.IdleTimeout)
		_ = st.str.SetReadDeadline(idle)
		_, err := br.Peek(1)
		if err == nil || !isTimeout(err) {
			return err
		}
		if !time.Unix(0, st.moved.Load()).Add(s.cfg.IdleTimeout).After(time.Now()) {
			return err
		}
	}
}

// stallPiece is the most of a response a stream keeps while its peer
// accepts nothing (see ServerConfig.StallTimeout).
const stallPiece = 16 << 10

// smallShard is the largest shard copied after its header to be written at
// once.
const smallShard = stallPiece

// answer sends the response for c. The shard is read under the byte budget
// and given back once sent, or as soon as the peer stalls.
func (s *Server) answer(st *servedStream, c cid.Cid) error {
	status, data, err := s.load(st, c)
	if err != nil {
		return err
	}
	held := int64(len(data)) // budget taken for data
	defer func() { s.give(held) }()
	size := len(data)
	if st.buf == nil {
		st.buf = make([]byte, 0, maxResponseHeader+smallShard)
	}
	// The response as one or two parts: header and data, or both in
	// st.buf (one muxer frame, one record) for a small shard.
	var parts [2][]byte
	build := func(data []byte) {
		hdr := appendResponseHeader(st.buf[:0], status, c.KeyString(), len(data)) // the CID as requested (parseCID)
		if len(data) <= smallShard {
			parts = [2][]byte{append(hdr, data...), nil}
			s.give(held) // copied
			held = 0
		} else {
			parts = [2][]byte{hdr, data}
		}
	}
	build(data)
	total := len(parts[0]) + len(parts[1])
	for off := 0; off < total; {
		b := parts[0]
		if off < len(b) {
			b = b[off:]
		} else {
			b = parts[1][off-len(b):]
		}
		n, err := s.writeSome(st, b[:min(len(b), writePiece)], s.cfg.StallTimeout)
		off += n
		if err == nil {
			continue
		}
		if !isTimeout(err) {
			return fmt.Errorf("send shard %s: %w", c, err)
		}
		// The peer accepted less than a piece in StallTimeout: give the
		// shard back and keep the next bytes only, until it reads again.
		if b = b[n:]; len(b) == 0 {
			continue
		}
		s.stalls.Add(1)
		piece := append(st.buf[:0], b[:min(len(b), stallPiece)]...)
		parts, data = [2][]byte{}, nil
		s.give(held)
		held = 0
		if err := s.writeFull(st, piece, s.cfg.IdleTimeout); err != nil {
			return fmt.Errorf("send shard %s: %w", c, err)
		}
		if off += len(piece); off == total {
			break
		}
		again, fresh, err := s.load(st, c)
		held = int64(len(fresh))
		if err != nil {
			return err
		}
		if again != status || len(fresh) != size {
			return fmt.Errorf("shard %s changed while it was being sent", c)
		}
		build(fresh)
	}
	return nil
}

// load reads c from the blockstore under the byte budget: it waits for
// room for the largest shard, reads, and gives back what the shard does
// not use.
func (s *Server) load(st *servedStream, c cid.Cid) (status byte, data []byte, err error) {
	if err := s.take(st, MaxShardSize); err != nil {
		return 0, nil, err
	}
	status, data, err = s.lookup(c)
	s.give(MaxShardSize - int64(len(data)))
	return status, data, err
}

// take takes n bytes from the budget, waiting in turn, for at most
// IdleTimeout, while others hold it.
func (s *Server) take(st *servedStream, n int64) error {
	if !s.budget.TryAcquire(n) {
		st.waiting.Store(true)
		ctx, cancel := context.WithTimeout(st.ctx, s.cfg.IdleTimeout)
		err := s.budget.Acquire(ctx, n)
		cancel()
		st.touch()
		st.waiting.Store(false)
		if err != nil {
			return fmt.Errorf("wait for the serving budget: %w", err)
		}
	}
	v := s.inFlight.Add(n)
	for p := s.peak.Load(); v > p && !s.peak.CompareAndSwap(p, v); p = s.peak.Load() {
	}
	return nil
}

// give returns n bytes to the budget.
func (s *Server) give(n int64) {
	if n > 0 {
		s.inFlight.Add(-n)
		s.budget.Release(n)
	}
}

// lookup reads c from the blockstore and says how to answer for it. It
// fails only when the server is closing.
func (s *Server) lookup(c cid.Cid) (status byte, data []byte, err error) {
	data, err = s.bs.GetShard(s.ctx, c)
	switch {
	case err == nil && len(data) > MaxShardSize:
		s.log.Warn("stored shard is too large to send", slog.String("cid", c.String()), slog.Int("size", len(data)))
		return statusUnavailable, nil, nil
	case err == nil:
		return statusOK, data, nil
	case errors.Is(err, storage.ErrNotFound):
		return statusNotFound, nil, nil
	case s.ctx.Err() != nil:
		return 0, nil, ErrClosed
	default:
		s.log.Warn("cannot read shard to send", slog.String("cid", c.String()), slog.Any("err", err))
		return statusUnavailable, nil, nil
	}
}

// writePiece is the most answer writes at once: a peer that accepts less
// than this in StallTimeout has stalled. It is the muxer's largest frame
// (yamux's default), so pieces cost no extra frames; a shard is read again
// at most once per piece for a peer slower than writePiece per
// StallTimeout (256 KiB/s).
const writePiece = 64 << 10

// writeSome writes a prefix of b to st within timeout: all of b, unless the
// peer's byte rate limit cuts it to one burst or the peer stops reading.
func (s *Server) writeSome(st *servedStream, b []byte, timeout time.Duration) (int, error) {
	if lim := st.peer.limiter; lim != nil {
		b = b[:min(len(b), lim.Burst())]
		if err := lim.WaitN(st.ctx, len(b)); err != nil {
			return 0, fmt.Errorf("rate limit: %w", err)
		}
	}
	_ = st.str.SetWriteDeadline(time.Now().Add(timeout))
	n, err := st.str.Write(b)
	if n > 0 {
		st.touch()
	}
	return n, err
}

// writeFull writes all of b to st, failing when the peer accepts nothing
// for timeout.
func (s *Server) writeFull(st *servedStream, b []byte, timeout time.Duration) error {
	for len(b) > 0 {
		n, err := s.writeSome(st, b, timeout)
		b = b[n:]
		if err != nil && (n == 0 || !isTimeout(err)) {
			return err
		}
	}
	return nil
}

// isTimeout reports whether err is a deadline passing (muxers return
// net.Errors that say so).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
