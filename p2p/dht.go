package p2p

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	dhtpb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// DHTProtocolPrefix makes our Kademlia DHT a network of its own
// (/openledger/kad/1.0.0), apart from IPFS's.
const DHTProtocolPrefix = "/openledger"

const (
	// provideTimeout bounds one (re-)provide.
	provideTimeout = time.Minute
	// reprovideWorkers bounds the provides in flight during a re-provide.
	reprovideWorkers = 4
	// defaultMaxProviders is FindProviders' count when max <= 0.
	defaultMaxProviders = 20
)

// startDHT starts the DHT in server mode (unless configured otherwise).
//
// Provider records: kad-dht's provider manager keys each record as
// /providers/<base32 multihash>/<base32 peer ID> with the time it was
// added as value, buffers writes (256 at a time) and reads a key's
// records with a prefix query. With Config.ProviderStore they are on
// disk, so they survive a restart and a lookup costs a seek; its
// collector deletes records older than 48 hours every hour, and reads
// skip them before that.
//
// Address filtering: with a protocol prefix of our own the DHT applies no
// address or routing-table filter by default (only the IPFS "dual" DHT
// splits LAN from WAN), so peers on loopback and private networks are
// kept, which LAN deployments and tests rely on.
func (n *Node) startDHT() error {
	mode := dht.ModeServer
	if !n.cfg.DHTServer {
		mode = dht.ModeClient
	}
	opts := []dht.Option{
		dht.ProtocolPrefix(DHTProtocolPrefix),
		dht.Mode(mode),
		dht.OnRequestHook(n.onDHTRequest),
	}
	if len(n.bootstrap) > 0 {
		opts = append(opts, dht.BootstrapPeers(n.bootstrap...))
	}
	if n.cfg.ProviderStore != nil {
		opts = append(opts, dht.ProviderDatastore(n.cfg.ProviderStore))
	}
	d, err := dht.New(n.host, opts...)
	if err != nil {
		return fmt.Errorf("p2p: start dht: %w", err)
	}
	n.dht = d
	return nil
}

// onDHTRequest counts the provider records peers ask us to store.
func (n *Node) onDHTRequest(_ context.Context, _ network.Stream, req *dhtpb.Message) {
	if req.GetType() == dhtpb.Message_ADD_PROVIDER {
		n.stats.providerRecords.Add(1)
	}
}

// Provide announces on the DHT that this node provides c, and remembers c
// to re-provide it every ReprovideInterval until StopProviding. c must be
// an object CID (a Contribution, Snapshot, Model...), never a shard's:
// one record per dataset, not one per MiB (ErrShardCID). c is remembered
// even when the announcement fails (e.g. no DHT peers yet), so the next
// re-provide retries it.
func (n *Node) Provide(ctx context.Context, c cid.Cid) error {
	if !c.Defined() {
		return fmt.Errorf("p2p: provide: undefined cid")
	}
	if c.Type() == cid.Raw {
		return fmt.Errorf("provide %s: %w", c, ErrShardCID)
	}
	if err := n.enterStarted(); err != nil {
		return err
	}
	defer n.wg.Done()
	if n.cfg.ProvideKeys == nil {
		n.mu.Lock()
		n.provided[c] = struct{}{}
		n.mu.Unlock()
	}
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	if err := n.provide(ctx, c); err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return cerr
		}
		return fmt.Errorf("p2p: provide %s: %w", c, err)
	}
	return nil
}

func (n *Node) provide(ctx context.Context, c cid.Cid) error {
	n.stats.provides.Add(1)
	return n.dht.Provide(ctx, c, true)
}

// StopProviding forgets c: it is no longer re-provided, and its records
// expire from the DHT within 48h.
func (n *Node) StopProviding(c cid.Cid) {
	n.mu.Lock()
	delete(n.provided, c)
	n.mu.Unlock()
}

// FindProviders returns up to max peers (20 when max <= 0) that provide c,
// other than this node, looking for at most FindProvidersTimeout. It
// returns ErrNotFound when nobody does.
func (n *Node) FindProviders(ctx context.Context, c cid.Cid, max int) ([]peer.AddrInfo, error) {
	return n.FindProvidersWithin(ctx, c, max, 0)
}

// FindProvidersWithin is FindProviders that stops looking grace after the
// first provider was found (grace <= 0: it does not): a fetch wants a few
// providers soon rather than all of them once the lookup has asked every
// peer it can reach, some of which may be slow or gone.
func (n *Node) FindProvidersWithin(ctx context.Context, c cid.Cid, max int, grace time.Duration) ([]peer.AddrInfo, error) {
	if !c.Defined() {
		return nil, fmt.Errorf("p2p: find providers: undefined cid")
	}
	if max <= 0 {
		max = defaultMaxProviders
	}
	if err := n.enterStarted(); err != nil {
		return nil, err
	}
	defer n.wg.Done()
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, n.cfg.FindProvidersTimeout)
	defer cancelT()
	var out []peer.AddrInfo
	var graceC <-chan time.Time
	// Ask for one more than max: this node may be among the providers.
	found := n.dht.FindProvidersAsync(ctx, c, max+1)
lookup:
	for {
		select {
		case ai, ok := <-found:
			if !ok {
				break lookup
			}
			if ai.ID != n.host.ID() && len(out) < max {
				out = append(out, ai)
				if graceC == nil && grace > 0 {
					t := time.NewTimer(grace)
					defer t.Stop()
					graceC = t.C
				}
			}
		case <-graceC:
			break lookup
		}
	}
	cancelT()
	for range found {
		// FindProvidersAsync closes the channel once it has seen ctx end.
	}
	if len(out) > 0 {
		return out, nil
	}
	if err := context.Cause(ctx); errors.Is(err, ErrClosed) {
		return nil, err
	}
	return nil, fmt.Errorf("providers of %s: %w", c, ErrNotFound)
}

// reprovideLoop re-announces everything provided every ReprovideInterval.
func (n *Node) reprovideLoop() {
	t := time.NewTicker(n.cfg.ReprovideInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			n.reprovide()
		}
	}
}

// Reprovide announces again, now, everything this node provides, with a
// few provides in flight; it returns when done or when ctx ends.
func (n *Node) Reprovide(ctx context.Context) error {
	if err := n.enterStarted(); err != nil {
		return err
	}
	defer n.wg.Done()
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	return n.reprovideWith(ctx)
}

func (n *Node) reprovide() {
	if err := n.reprovideWith(n.ctx); err != nil && n.ctx.Err() == nil {
		n.log.Warn("reprovide", slog.Any("err", err))
	}
}

// reprovideWith provides every key of ProvideKeys, or of the set Provide
// kept, reprovideWorkers at a time.
func (n *Node) reprovideWith(ctx context.Context) error {
	keys := n.cfg.ProvideKeys
	if keys == nil {
		n.mu.Lock()
		cids := make([]cid.Cid, 0, len(n.provided))
		for c := range n.provided {
			cids = append(cids, c)
		}
		n.mu.Unlock()
		keys = func(context.Context) iter.Seq2[cid.Cid, error] {
			return func(yield func(cid.Cid, error) bool) {
				for _, c := range cids {
					if !yield(c, nil) {
						return
					}
				}
			}
		}
	}
	work := make(chan cid.Cid)
	var wg sync.WaitGroup
	var failed, total atomic.Int64
	for range reprovideWorkers {
		wg.Go(func() {
			for c := range work {
				pctx, cancel := context.WithTimeout(ctx, provideTimeout)
				err := n.provide(pctx, c)
				cancel()
				if err != nil {
					failed.Add(1)
					n.log.Debug("reprovide failed", slog.String("cid", c.String()), slog.Any("err", err))
				}
			}
		})
	}
	var err error
feed:
	for c, kerr := range keys(ctx) {
		if kerr != nil {
			err = kerr
			break
		}
		select {
		case work <- c:
			total.Add(1)
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	n.reprovided.Store(total.Load())
	n.log.Info("reprovided", slog.Int64("records", total.Load()), slog.Int64("failed", failed.Load()))
	return err
}
