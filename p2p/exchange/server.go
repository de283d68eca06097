package exchange

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
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
type ServerConfig struct {
	// MaxStreamsPerPeer bounds the exchange streams one peer may have open
	// at once; a stream beyond it is answered "busy" and closed. A client
	// opens one stream per fetch, so this also bounds concurrent fetches.
	MaxStreamsPerPeer int
	// MaxBytesPerSecondPerPeer bounds the bytes sent to one peer per
	// second, over all its streams; 0 means unlimited.
	MaxBytesPerSecondPerPeer int64
	// IdleTimeout resets a stream on which the client sends no request, or
	// accepts no bytes, for this long.
	IdleTimeout time.Duration
	// Logger receives per-stream errors at Debug and storage faults at
	// Warn; nil discards them.
	Logger *slog.Logger
}

// DefaultServerConfig returns the default server configuration: 8 streams
// per peer, no byte rate limit, a one-minute idle timeout.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		MaxStreamsPerPeer: 8,
		IdleTimeout:       time.Minute,
	}
}

func (cfg ServerConfig) validate() error {
	switch {
	case cfg.MaxStreamsPerPeer < 1:
		return fmt.Errorf("MaxStreamsPerPeer is %d, want at least 1", cfg.MaxStreamsPerPeer)
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
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool                     // guarded by mu
	peers  map[peer.ID]*servingPeer // guarded by mu
	wg     sync.WaitGroup           // stream handlers; Add under mu while !closed
	once   sync.Once
}

// servingPeer is the state shared by the streams of one peer.
type servingPeer struct {
	streams int           // guarded by Server.mu
	limiter *rate.Limiter // nil when unlimited
}

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
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		h:      h,
		bs:     bs,
		cfg:    cfg,
		log:    log.With(slog.String("protocol", ProtocolID)),
		ctx:    ctx,
		cancel: cancel,
		peers:  make(map[peer.ID]*servingPeer),
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
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// acquire registers a stream of p. ok is false when the server is closed;
// busy is true when p already has MaxStreamsPerPeer streams.
func (s *Server) acquire(p peer.ID) (sp *servingPeer, ok, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, false
	}
	sp = s.peers[p]
	if sp == nil {
		sp = &servingPeer{}
		if r := s.cfg.MaxBytesPerSecondPerPeer; r > 0 {
			sp.limiter = rate.NewLimiter(rate.Limit(r), limiterBurst(r))
		}
		s.peers[p] = sp
	}
	s.wg.Add(1)
	if sp.streams >= s.cfg.MaxStreamsPerPeer {
		return sp, true, true
	}
	sp.streams++
	return sp, true, false
}

func (s *Server) release(p peer.ID, sp *servingPeer, counted bool) {
	s.mu.Lock()
	if counted {
		sp.streams--
		if sp.streams == 0 && s.peers[p] == sp {
			delete(s.peers, p)
		}
	}
	s.mu.Unlock()
	s.wg.Done()
}

// limiterBurst is the token bucket size for a rate of r bytes per second,
// and the most a limited stream writes at once: a tenth of a second's worth,
// within [4 KiB, 1 MiB].
func limiterBurst(r int64) int { return int(min(max(r/10, 4<<10), 1<<20)) }

func (s *Server) handle(str network.Stream) {
	p := str.Conn().RemotePeer()
	sp, ok, busy := s.acquire(p)
	if !ok {
		_ = str.Reset()
		return
	}
	defer s.release(p, sp, !busy)
	if err := str.Scope().SetService(ServiceName); err != nil {
		s.log.Debug("shard stream refused by the resource manager", slog.String("peer", p.String()), slog.Any("err", err))
		_ = str.Reset()
		return
	}
	reset := make(chan struct{})
	stop := context.AfterFunc(s.ctx, func() {
		_ = str.Reset()
		close(reset)
	})
	defer func() {
		if !stop() {
			<-reset // reset by Close
		}
	}()
	if busy {
		_ = str.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if _, err := str.Write([]byte{statusBusy}); err != nil {
			_ = str.Reset()
			return
		}
		_ = str.Close()
		return
	}
	if err := s.serve(str, sp); err != nil {
		s.log.Debug("shard stream ended", slog.String("peer", p.String()), slog.Any("err", err))
		_ = str.Reset()
		return
	}
	_ = str.Close()
}

// readAhead is how many looked-up shards may wait for the writer: the next
// shards are read from the store while the current one is on the wire.
const readAhead = 4

// answer is one looked-up response waiting to be written.
type answer struct {
	cb     []byte // the CID as requested
	status byte
	data   []byte
	err    error // a request that breaks the protocol, or the server closing
}

// serve answers the requests on str until the client closes its side. It
// runs in two stages, so store reads overlap network writes: lookups reads
// request frames and looks the shards up, serve writes the answers in order.
func (s *Server) serve(str network.Stream, sp *servingPeer) error {
	answers := make(chan answer, readAhead)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.lookups(str, answers, done) })
	err := s.writeAnswers(str, sp, answers)
	if err != nil {
		// Unblock the reader if it waits for a frame, then wait for it.
		_ = str.Reset()
	}
	close(done)
	wg.Wait()
	return err
}

// writeAnswers sends the answers in order until the reader is done.
func (s *Server) writeAnswers(str network.Stream, sp *servingPeer, answers <-chan answer) error {
	hdr := make([]byte, 0, maxResponseHeader+smallShard)
	for a := range answers {
		if a.err != nil {
			return a.err
		}
		hdr = appendResponseHeader(hdr[:0], a.status, a.cb, len(a.data))
		if err := s.write(str, sp, hdr, a.data); err != nil {
			return fmt.Errorf("send shard: %w", err)
		}
	}
	return nil
}

// lookups reads request frames from str and queues an answer for every CID,
// in order. It closes answers at the end of the client's requests or after
// queueing an error, and gives up when done is closed.
func (s *Server) lookups(str network.Stream, answers chan<- answer, done <-chan struct{}) {
	defer close(answers)
	send := func(a answer) bool {
		select {
		case answers <- a:
			return true
		case <-done:
			return false
		}
	}
	br := bufio.NewReaderSize(str, 4<<10)
	var frame []byte
	var cids [][]byte
	for {
		_ = str.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		var err error
		frame, err = readRequestFrame(br, frame)
		if err == io.EOF {
			return
		}
		if err == nil {
			cids, err = decodeRequest(frame, cids)
		}
		if err != nil {
			send(answer{err: fmt.Errorf("read request: %w", err)})
			return
		}
		for _, cb := range cids {
			c, err := parseCID(cb)
			if err != nil {
				send(answer{err: fmt.Errorf("read request: %w", err)})
				return
			}
			status, data, err := s.lookup(c)
			// cb points into frame, which the next read reuses.
			if !send(answer{cb: slices.Clone(cb), status: status, data: data, err: err}) || err != nil {
				return
			}
		}
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

// write sends a response header and its data, within the peer's byte rate.
func (s *Server) write(str network.Stream, sp *servingPeer, hdr, data []byte) error {
	if sp.limiter != nil {
		return s.writeLimited(str, sp.limiter, hdr, data)
	}
	_ = str.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
	if len(data) <= smallShard {
		// One write for header and data: one muxer frame, one record.
		hdr = append(hdr, data...)
		_, err := str.Write(hdr)
		return err
	}
	if _, err := str.Write(hdr); err != nil {
		return err
	}
	_, err := str.Write(data)
	return err
}

// smallShard is the largest shard copied after its header to be written at
// once.
const smallShard = 16 << 10

func (s *Server) writeLimited(str network.Stream, lim *rate.Limiter, parts ...[]byte) error {
	for _, b := range parts {
		for len(b) > 0 {
			n := min(len(b), lim.Burst())
			if err := lim.WaitN(s.ctx, n); err != nil {
				return fmt.Errorf("rate limit: %w", err)
			}
			_ = str.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
			if _, err := str.Write(b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	return nil
}
