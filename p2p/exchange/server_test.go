package exchange

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// openRaw opens an exchange stream from h to p, reset when the test ends.
func openRaw(t *testing.T, h host.Host, p peer.ID) network.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, p, ProtocolID)
	if err != nil {
		t.Fatalf("NewStream: %v", err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	return s
}

func TestServerMalformedRequests(t *testing.T) {
	hello := cidOf([]byte("hello")).Bytes()
	frame := func(body ...[]byte) []byte {
		b := bytes.Join(body, nil)
		return append(appendUvarint(nil, uint64(len(b))), b...)
	}
	tests := []struct {
		name string
		send []byte
	}{
		{"oversize frame", appendUvarint(nil, maxRequestFrame+1)},
		{"huge length", appendUvarint(nil, 1<<62)},
		{"zero length", []byte{0}},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11)},
		{"non-minimal length", []byte{0x80 | 3, 0x00, 1, 1, 0}},
		{"no cids", frame([]byte{0})},
		{"too many cids", frame(appendUvarint(nil, maxRequestCIDs+1), bytes.Repeat(append([]byte{byte(len(hello))}, hello...), maxRequestCIDs+1))},
		{"empty cid", frame([]byte{1, 0})},
		{"oversize cid", frame([]byte{1}, appendUvarint(nil, maxCIDLen+1), make([]byte, maxCIDLen+1))},
		{"truncated cid", frame([]byte{1, byte(len(hello))}, hello[:10])},
		{"trailing bytes", frame([]byte{1, byte(len(hello))}, hello, []byte{7})},
		{"garbage cid", frame([]byte{1, 5}, []byte{0xff, 0xff, 0xff, 0xff, 0xff})},
		{"cid with trailing bytes", frame([]byte{1, byte(len(hello) + 1)}, hello, []byte{0})},
	}
	client := newHost(t)
	data, cids := testShards(4, 4<<10)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openRaw(t, client, ids[0])
			if _, err := s.Write(tt.send); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := io.ReadAll(s)
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("server answered %x and closed, want a reset", got)
			}
			if !errors.Is(err, network.ErrReset) {
				t.Errorf("read after a malformed request: %v, want a reset", err)
			}
		})
	}
	// The server is still fine.
	col := newCollector(t)
	if err := newClient(t, client, testConfig()).Fetch(testContext(t), cids, ids, nil, col.put, nil); err != nil {
		t.Fatalf("Fetch after malformed requests: %v", err)
	}
	col.check(cids)
}

func TestServerResponses(t *testing.T) {
	data, cids := testShards(2, 4<<10)
	client := newHost(t)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	absent := cidOf([]byte("absent"))
	s := openRaw(t, client, ids[0])
	// Two pipelined requests, then the end of the client's side.
	req := appendRequest(nil, [][]byte{cids[0].Bytes(), absent.Bytes()})
	req = appendRequest(req, [][]byte{cids[1].Bytes()})
	if _, err := s.Write(req); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("read responses: %v", err)
	}
	want := appendResponseHeader(nil, statusOK, cids[0].Bytes(), len(data[0]))
	want = append(want, data[0]...)
	want = appendResponseHeader(want, statusNotFound, absent.Bytes(), 0)
	want = appendResponseHeader(want, statusOK, cids[1].Bytes(), len(data[1]))
	want = append(want, data[1]...)
	if !bytes.Equal(got, want) {
		t.Errorf("responses differ: got %d bytes, want %d", len(got), len(want))
	}
}

func TestServerUnavailable(t *testing.T) {
	data, cids := testShards(10, 4<<10)
	client := newHost(t)
	errDisk := errors.New("disk on fire")
	failing := blockstoreFunc(func(context.Context, cid.Cid) ([]byte, error) { return nil, errDisk })
	_, ids := newProviders(t, client, DefaultServerConfig(), failing, newMemStore(data...))
	col := newCollector(t)
	if err := newClient(t, client, testConfig()).Fetch(testContext(t), cids, ids, nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	col.check(cids)

	// With only the failing server, the shards are missing, not "not
	// found", and the reason is given.
	err := newClient(t, client, testConfig()).Fetch(testContext(t), cids, ids[:1], nil, col.put, nil)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch from a failing server: %v, want an error that is not ErrNotFound", err)
	}
}

func TestServerMaxStreamsPerPeer(t *testing.T) {
	data, cids := testShards(4, 4<<10)
	client := newHost(t)
	cfg := DefaultServerConfig()
	cfg.MaxStreamsPerPeer = 2
	_, ids := newProviders(t, client, cfg, newMemStore(data...))

	// Two streams that are being served: each has had an answer.
	for range cfg.MaxStreamsPerPeer {
		s := openRaw(t, client, ids[0])
		if _, err := s.Write(appendRequest(nil, [][]byte{cids[0].Bytes()})); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readResponseHeader(bufio.NewReader(s), cids[0].Bytes()); err != nil {
			t.Fatalf("response on an allowed stream: %v", err)
		}
	}
	// The next one is refused.
	s := openRaw(t, client, ids[0])
	if _, err := s.Write(appendRequest(nil, [][]byte{cids[0].Bytes()})); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, []byte{statusBusy}) {
		t.Errorf("third stream got %x, %v; want BUSY and EOF", got, err)
	}
	// So is a fetch, which gives up on the peer without a bad word.
	c := newClient(t, client, testConfig())
	c.OnBadPeer(func(p peer.ID, err error) { t.Errorf("busy peer reported bad: %v", err) })
	err = c.Fetch(testContext(t), cids, ids, nil, newCollector(t).put, nil)
	if !errors.Is(err, ErrBusy) {
		t.Errorf("Fetch from a busy peer: %v, want an error wrapping ErrBusy", err)
	}
}

func TestServerRateLimit(t *testing.T) {
	const rate = 1 << 20
	data, cids := testShards(12, 64<<10) // 768 KiB: at least 0.6 s beyond the burst
	client := newHost(t)
	cfg := DefaultServerConfig()
	cfg.MaxBytesPerSecondPerPeer = rate
	_, ids := newProviders(t, client, cfg, newMemStore(data...))
	col := newCollector(t)
	start := time.Now()
	if err := newClient(t, client, testConfig()).Fetch(testContext(t), cids, ids, nil, col.put, nil); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	took := time.Since(start)
	col.check(cids)
	total := int64(len(cids)) * 64 << 10
	if least := time.Duration(float64(total-int64(limiterBurst(rate))) / rate * float64(time.Second)); took < least {
		t.Errorf("fetched %d bytes in %v at %d bytes/s: want at least %v", total, took, rate, least)
	}
}

func TestServerClose(t *testing.T) {
	data, cids := testShards(64, 16<<10)
	client := newHost(t)
	cfg := DefaultServerConfig()
	cfg.MaxBytesPerSecondPerPeer = 64 << 10
	ps, ids := newProviders(t, client, cfg, newMemStore(data...))
	c := newClient(t, client, testConfig())
	errc := make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	go func() {
		errc <- c.Fetch(testContext(t), cids, ids, nil, func(cid.Cid, []byte) error {
			once.Do(func() { close(started) })
			return nil
		}, nil)
	}()
	<-started
	if err := ps[0].srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := ps[0].srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := <-errc; err == nil {
		t.Errorf("Fetch from a server closed midway succeeded")
	}
	if _, err := NewServer(ps[0].h, newMemStore(), ServerConfig{}); err == nil {
		t.Errorf("NewServer with a zero config succeeded")
	}
}

// TestServerStallGivesBack: a stream whose peer stops reading gives its
// shard back to the budget, and sends the rest, byte for byte, once the
// peer reads again.
func TestServerStallGivesBack(t *testing.T) {
	data, cids := testShards(4, 1<<20)
	client := newHost(t)
	cfg := DefaultServerConfig()
	cfg.StallTimeout = 50 * time.Millisecond
	ps, ids := newProviders(t, client, cfg, newMemStore(data...))
	srv := ps[0].srv
	s := openRaw(t, client, ids[0])
	bins := make([][]byte, len(cids))
	for i, c := range cids {
		bins[i] = c.Bytes()
	}
	if _, err := s.Write(appendRequest(nil, bins)); err != nil {
		t.Fatal(err)
	}
	// Read nothing until the server has stalled and given the shard back.
	waitStats(t, srv, func(st ServerStats) bool { return st.Stalls > 0 && st.BytesInFlight == 0 })
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("read responses: %v", err)
	}
	var want []byte
	for i := range data {
		want = appendResponseHeader(want, statusOK, cids[i].Bytes(), len(data[i]))
		want = append(want, data[i]...)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("responses after a stall differ: got %d bytes, want %d", len(got), len(want))
	}
	// One stream holds at most one shard, and reserves room for the
	// largest while it reads one.
	if st := srv.Stats(); st.PeakBytesInFlight > MaxShardSize || st.BytesInFlight != 0 {
		t.Errorf("stats after the stream: %+v; want at most one shard in flight at a time, none now", st)
	}
}

// TestServerTooManyRequests: a client may not have more than
// maxRequestCIDs shards asked for and unanswered; the server reads
// requests as they come, so that they never pile up in the muxer.
func TestServerTooManyRequests(t *testing.T) {
	data, cids := testShards(1, 1<<20)
	client := newHost(t)
	_, ids := newProviders(t, client, DefaultServerConfig(), newMemStore(data...))
	s := openRaw(t, client, ids[0])
	bins := make([][]byte, maxRequestCIDs)
	for i := range bins {
		bins[i] = cids[0].Bytes()
	}
	req := appendRequest(nil, bins)
	for range 3 {
		if _, err := s.Write(req); err != nil {
			break // reset already
		}
	}
	_, err := io.Copy(io.Discard, s)
	if !errors.Is(err, network.ErrReset) {
		t.Errorf("read after %d unanswered requests: %v, want a reset", 3*maxRequestCIDs, err)
	}
}

// TestServerEvictsStalled: at MaxStreams, a new stream takes the place of
// one that has moved nothing for a while; if none has, it is refused.
func TestServerEvictsStalled(t *testing.T) {
	data, cids := testShards(4, 1<<20)
	client := newHost(t)
	cfg := DefaultServerConfig()
	cfg.MaxStreams = 2
	cfg.StallTimeout = 50 * time.Millisecond
	ps, ids := newProviders(t, client, cfg, newMemStore(data...))
	req := appendRequest(nil, [][]byte{cids[0].Bytes(), cids[1].Bytes()})
	var stalled []network.Stream
	for range cfg.MaxStreams {
		s := openRaw(t, client, ids[0])
		if _, err := s.Write(req); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, s)
	}
	waitStats(t, ps[0].srv, func(st ServerStats) bool { return st.Streams == cfg.MaxStreams })
	// At once, both have just moved: the next is refused.
	s := openRaw(t, client, ids[0])
	if _, err := s.Write(req); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(s); err != nil || !bytes.Equal(got, []byte{statusBusy}) {
		t.Errorf("stream beyond MaxStreams got %d bytes, %v; want BUSY", len(got), err)
	}
	// Once they have stalled for long enough, a fetch gets in.
	time.Sleep(evictStalls*cfg.StallTimeout + 100*time.Millisecond)
	col := newCollector(t)
	if err := newClient(t, client, testConfig()).Fetch(testContext(t), cids, ids, nil, col.put, nil); err != nil {
		t.Fatalf("Fetch with MaxStreams stalled streams open: %v", err)
	}
	col.check(cids)
	if st := ps[0].srv.Stats(); st.Evicted == 0 || st.Busy == 0 {
		t.Errorf("stats %+v, want an eviction and a refusal", st)
	}
	reset := 0
	for _, s := range stalled {
		_ = s.SetReadDeadline(time.Now().Add(time.Second)) // the other is still served
		if _, err := io.Copy(io.Discard, s); errors.Is(err, network.ErrReset) {
			reset++
		}
	}
	if reset == 0 {
		t.Errorf("no stalled stream was reset")
	}
}

// waitStats waits until srv's stats satisfy cond.
func waitStats(t *testing.T, srv *Server, cond func(ServerStats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st := srv.Stats(); !cond(st); st = srv.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("server stats never got there: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
