package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/atomicfile"
	"github.com/openledger/openledger/p2p"
	"github.com/openledger/openledger/p2p/exchange"
	"github.com/openledger/openledger/storage"
)

// ErrOffline is returned for network work asked of a node that runs no
// network (a CLI command on a repo without a daemon).
var ErrOffline = errors.New("daemon: the network is not running (start `openledger daemon`)")

// JoinedFile lists the Datanets the node has joined, so it rejoins them
// after a restart.
const JoinedFile = "joined.json"

// netObjects is the Datanet registry as the network layer sees it: p2p
// decides nothing itself, it asks here. Sync reads the registry's sync
// index and keeps what it cannot judge yet in a deferredStore.
type netObjects struct {
	r *datanet.Registry
	*deferredStore
}

func (o netObjects) Check(ctx context.Context, topic cid.Cid, data []byte) (cid.Cid, cid.Cid, p2p.Verdict, error) {
	fromSync := p2p.FromSync(ctx)
	if fromSync {
		ctx = datanet.AcceptingStale(ctx)
	}
	ch, err := o.r.Check(ctx, topic, data)
	switch {
	case err == nil:
		return ch.CID, ch.Datanet, p2p.Accept, nil
	case datanet.CannotJudgeYet(err):
		return cid.Undef, cid.Undef, p2p.Ignore, err
	case fromSync && underHeldVersion(err):
		// A peer's set holds it, so a version of its Datanet this node
		// lacks may admit it: sync keeps it rather than penalise the peer.
		return cid.Undef, cid.Undef, p2p.Ignore, err
	default:
		return cid.Undef, cid.Undef, p2p.Reject, err
	}
}

// underHeldVersion reports whether err refuses an object under the
// version of its Datanet held here (its curators, window, kinds or size
// limit), which a later version may change.
func underHeldVersion(err error) bool {
	return errors.Is(err, datanet.ErrNotCurator) || errors.Is(err, datanet.ErrOutsideWindow) ||
		errors.Is(err, datanet.ErrNotAdmitted)
}

func (o netObjects) Put(ctx context.Context, data []byte) (cid.Cid, error) {
	if p2p.FromSync(ctx) {
		ctx = datanet.AcceptingStale(ctx)
	}
	ch, err := o.r.Put(ctx, data)
	if err != nil {
		return cid.Undef, err
	}
	// Stored, however it came (gossip, a push, a fetch): no longer
	// deferred, if it was.
	if err := o.Undefer(ctx, ch.CID); err != nil {
		return cid.Undef, err
	}
	return ch.CID, nil
}

func (o netObjects) Has(ctx context.Context, c cid.Cid) (bool, error) { return o.r.Has(ctx, c) }
func (o netObjects) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	return o.r.Get(ctx, c)
}

func (o netObjects) SyncBuckets(ctx context.Context, dn cid.Cid, from, to int, fn func(int, [32]byte, uint64) error) error {
	return o.r.SyncBucketRange(ctx, dn, from, to, func(b uint16, sb datanet.SyncBucket) error {
		return fn(int(b), sb.Sum, sb.Count)
	})
}

func (o netObjects) SyncKeys(ctx context.Context, dn cid.Cid, from [32]byte, fn func([32]byte, cid.Cid) (bool, error)) error {
	return o.r.SyncKeys(ctx, dn, from, fn)
}

// Datanets lists the Datanets held, from the index.
func (o netObjects) Datanets(ctx context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	err := o.r.DatanetIDs(ctx, func(c cid.Cid) (bool, error) {
		has, err := o.r.Has(ctx, c) // the index may name a collected one
		if has {
			out = append(out, c)
		}
		return true, err
	})
	return out, err
}

// servedShards is what the shard exchange serves from: stored bytes as they
// are, without rehashing, since every receiver verifies what it gets (see
// storage.Store.ReadShardUnverified).
type servedShards struct{ s *storage.Store }

func (b servedShards) GetShard(ctx context.Context, c cid.Cid) ([]byte, error) {
	return b.s.ReadShardUnverified(ctx, c)
}

// network is the running network side of a node.
type network struct {
	p2p    *p2p.Node
	server *exchange.Server
	client *exchange.Client

	mu       sync.Mutex
	badPeers map[peer.ID]time.Time // guarded by mu: peers that sent bad shard bytes
}

// badPeerPenalty is how long a peer that sent bad bytes is scored down.
const badPeerPenalty = time.Hour

func (nw *network) appScore(p peer.ID) float64 {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if t, ok := nw.badPeers[p]; ok {
		if time.Since(t) < badPeerPenalty {
			return -1000
		}
		delete(nw.badPeers, p)
	}
	return 0
}

// startNetwork builds and starts the libp2p host, the DHT, gossip, sync and
// the shard exchange, and rejoins the Datanets joined before.
func (n *Node) startNetwork() error {
	cfg := n.repo.Config.P2P
	sk, err := n.repo.LoadIdentity()
	if err != nil {
		return err
	}
	reprovide, err := cfg.reprovide()
	if err != nil {
		return err
	}
	upload, err := cfg.uploadPerPeer()
	if err != nil {
		return err
	}
	nw := &network{badPeers: map[peer.ID]time.Time{}}
	pcfg := p2p.DefaultConfig()
	pcfg.Identity = sk
	pcfg.ListenAddrs = cfg.Listen
	if len(n.opts.Listen) > 0 {
		pcfg.ListenAddrs = n.opts.Listen
	}
	pcfg.Bootstrap = cfg.Bootstrap
	pcfg.MDNS = cfg.MDNS
	pcfg.NATPortMap = cfg.NATPortMap
	pcfg.ConnLow, pcfg.ConnHigh = cfg.ConnLow, cfg.ConnHigh
	pcfg.ReprovideInterval = reprovide
	pcfg.Gater = n.opts.Gater
	if n.opts.SyncInterval > 0 {
		pcfg.SyncInterval = n.opts.SyncInterval
	}
	pcfg.AppScore = nw.appScore
	pcfg.Logger = n.log.With("component", "p2p")
	pn, err := p2p.New(pcfg, netObjects{r: n.registry, deferredStore: newDeferredStore(n.store, DefaultDeferredBytes)})
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	if err := pn.Start(n.ctx); err != nil {
		pn.Close()
		return fmt.Errorf("network: %w", err)
	}
	nw.p2p = pn
	scfg := exchange.DefaultServerConfig()
	scfg.MaxBytesPerSecondPerPeer = upload
	scfg.Logger = n.log.With("component", "exchange")
	if nw.server, err = exchange.NewServer(pn.Host(), servedShards{n.store}, scfg); err != nil {
		pn.Close()
		return fmt.Errorf("shard exchange: %w", err)
	}
	ccfg := exchange.DefaultClientConfig()
	ccfg.Logger = scfg.Logger
	// Deeper than the package default: with Badger on both ends a
	// 32-shard window and 8 concurrent puts keep the store's single writer
	// busy (1 GiB between two daemons: 304-364 -> 354-416 MB/s).
	ccfg.Window, ccfg.PutConcurrency = 32, 8
	nw.client = exchange.NewClient(pn.Host(), ccfg)
	nw.client.OnBadPeer(func(p peer.ID, err error) {
		nw.mu.Lock()
		nw.badPeers[p] = time.Now()
		nw.mu.Unlock()
		n.metrics.badPeers.Inc()
		n.log.Warn("peer sent bad shard bytes; dropped and scored down", "peer", p.String(), "err", err)
	})
	n.net = nw
	joined, err := n.loadJoined()
	if err != nil {
		return err
	}
	for _, dn := range joined {
		if err := pn.Join(n.ctx, dn); err != nil {
			return fmt.Errorf("rejoin datanet %s: %w", dn, err)
		}
	}
	n.log.Info("network up", "peer_id", pn.ID().String(), "addrs", fmt.Sprint(pn.Addrs()), "datanets", len(joined))
	n.wg.Go(n.provideStored)
	return nil
}

// provideStored announces every pinned object on the DHT after a start: the
// DHT keeps provider records in memory only, so a restarted node would
// otherwise vanish from the providers of what it stores until it re-added
// it. p2p re-provides them on its timer from then on.
func (n *Node) provideStored() {
	pins, err := n.store.Pins(n.ctx)
	if err != nil {
		n.log.Warn("list pins to provide", "err", err)
		return
	}
	var count int
	for _, c := range pins {
		if c.Prefix().Codec == cid.Raw {
			continue // shards have no provider records
		}
		ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		err := n.net.p2p.Provide(ctx, c)
		cancel()
		if n.ctx.Err() != nil {
			return
		}
		if err != nil {
			n.log.Debug("provide at start", "cid", c.String(), "err", err)
			continue
		}
		count++
	}
	n.log.Debug("provided stored objects", "count", count)
}

func (nw *network) close() error {
	var errs []error
	if nw.client != nil {
		errs = append(errs, nw.client.Close())
	}
	if nw.server != nil {
		errs = append(errs, nw.server.Close())
	}
	errs = append(errs, nw.p2p.Close())
	return errors.Join(errs...)
}

func (n *Node) loadJoined() ([]cid.Cid, error) {
	data, err := os.ReadFile(n.repo.Path(JoinedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", JoinedFile, err)
	}
	var ids []string
	if err := json.Unmarshal(data, &ids); err != nil {
		return nil, fmt.Errorf("parse %s: %w", JoinedFile, err)
	}
	out := make([]cid.Cid, 0, len(ids))
	for _, s := range ids {
		c, err := cid.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", JoinedFile, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func (n *Node) saveJoined(ids []cid.Cid) error {
	strs := make([]string, len(ids))
	for i, c := range ids {
		strs[i] = c.String()
	}
	slices.Sort(strs)
	data, err := json.MarshalIndent(slices.Compact(strs), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(n.repo.Path(JoinedFile), append(data, '\n'), 0o600)
}

// join fetches a Datanet's object if it is not held, subscribes to its
// topic, syncs it, and remembers it. With the Datanet held first, the
// objects sync brings can be judged as they arrive; if no peer has it yet
// the node joins anyway, and sync fetches it before the objects that need
// it.
func (n *Node) join(ctx context.Context, dn cid.Cid) error {
	if n.net == nil {
		return ErrOffline
	}
	if slices.ContainsFunc(n.net.p2p.Joined(), dn.Equals) {
		return nil // every vote made here joins its Datanet: skip the file write
	}
	has, err := n.registry.Has(ctx, dn)
	if err != nil {
		return err
	}
	if !has {
		fctx, cancel := context.WithTimeout(ctx, joinFetchTimeout)
		err := n.fetchObject(fctx, dn)
		cancel()
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			n.log.Warn("join: the datanet object could not be fetched yet; sync brings it when a peer has it",
				"datanet", dn.String(), "err", err)
		}
	}
	n.joinMu.Lock()
	defer n.joinMu.Unlock()
	if slices.ContainsFunc(n.net.p2p.Joined(), dn.Equals) {
		return nil
	}
	if err := n.net.p2p.Join(ctx, dn); err != nil {
		return err
	}
	return n.saveJoined(n.net.p2p.Joined())
}

// joinFetchTimeout bounds join's fetch of the Datanet object.
const joinFetchTimeout = 30 * time.Second

func (n *Node) leave(dn cid.Cid) error {
	if n.net == nil {
		return ErrOffline
	}
	n.joinMu.Lock()
	defer n.joinMu.Unlock()
	if err := n.net.p2p.Leave(dn); err != nil {
		return err
	}
	return n.saveJoined(n.net.p2p.Joined())
}

// fetchObject gets an object from the network, with the Datanet it needs to
// be checked against, and stores both.
func (n *Node) fetchObject(ctx context.Context, c cid.Cid) error {
	return n.fetchObjectDepth(ctx, c, 0)
}

func (n *Node) fetchObjectDepth(ctx context.Context, c cid.Cid, depth int) error {
	peers := n.candidates(ctx, c)
	if len(peers) == 0 {
		return fmt.Errorf("%w: no peer provides %s", storage.ErrNotFound, c)
	}
	data, err := n.net.p2p.FetchObject(ctx, c, peers)
	if err != nil {
		return fmt.Errorf("fetch object %s: %w", c, err)
	}
	_, err = n.registry.Put(ctx, data)
	if !datanet.CannotJudgeYet(err) || depth >= maxFetchDepth {
		return err
	}
	// It needs objects this node lacks (its Datanet, the contributions of a
	// snapshot, a previous version): fetch the ones it links, then retry.
	obj, derr := datanet.Decode(data)
	if derr != nil {
		return err
	}
	for _, l := range obj.Links() {
		if l.Prefix().Codec == cid.Raw {
			continue
		}
		if has, herr := n.registry.Has(ctx, l); herr != nil || has {
			continue
		}
		if ferr := n.fetchObjectDepth(ctx, l, depth+1); ferr != nil {
			return fmt.Errorf("fetch %s, which %s links: %w", l, c, ferr)
		}
	}
	_, err = n.registry.Put(ctx, data)
	return err
}

// maxFetchDepth bounds the chain of objects fetchObject follows (a
// snapshot's previous snapshots, a Datanet's versions).
const maxFetchDepth = 64

// candidates are the peers worth asking for c: DHT providers first, then
// every connected peer (a shard has no provider record of its own).
func (n *Node) candidates(ctx context.Context, c cid.Cid) []peer.ID {
	var out []peer.ID
	if c.Prefix().Codec != cid.Raw {
		fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		provs, err := n.net.p2p.FindProviders(fctx, c, 20)
		cancel()
		if err != nil {
			n.log.Debug("find providers", "cid", c.String(), "err", err)
		}
		for _, p := range provs {
			if p.ID != n.net.p2p.ID() {
				n.net.p2p.Host().Peerstore().AddAddrs(p.ID, p.Addrs, time.Hour)
				out = append(out, p.ID)
			}
		}
	}
	for _, p := range n.net.p2p.Host().Network().Peers() {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// FetchResult is the answer of content_fetch.
type FetchResult struct {
	CID     string `json:"cid"`
	Shards  int    `json:"shards"`
	Fetched int    `json:"fetched"`
	Bytes   int64  `json:"bytes"`
}

// fetch makes everything under a content path local: the object (and its
// Datanet) and every shard, from several providers at once, each verified.
// What is already stored is not fetched again, so an interrupted fetch
// resumes. A node that fetched a contribution provides it.
func (n *Node) fetch(ctx context.Context, path string, progress func(done, total int64)) (*FetchResult, error) {
	root, sub, err := datanet.ParsePath(path)
	if err != nil {
		return nil, err
	}
	sizes := map[cid.Cid]int64{} // known shard sizes; a bare shard's is unknown
	var shards []cid.Cid
	if root.Prefix().Codec == cid.Raw {
		shards = []cid.Cid{root}
	} else {
		has, err := n.registry.Has(ctx, root)
		if err != nil {
			return nil, err
		}
		if !has {
			if n.net == nil {
				return nil, fmt.Errorf("%w: %s is not stored here", ErrOffline, root)
			}
			if err := n.fetchObject(ctx, root); err != nil {
				return nil, err
			}
		}
		// Only what the path names: one file of a large dataset is
		// fetched alone.
		resolved, err := n.registry.Resolve(ctx, path)
		if err != nil {
			return nil, err
		}
		parts := resolved.Parts // a snapshot: each contribution has its chunk size
		if parts == nil {
			parts = []*datanet.Resolved{resolved}
		}
		for _, part := range parts {
			files := part.Files
			if part.File != nil {
				files = []datanet.File{*part.File}
			}
			chunk := int64(part.ChunkSize)
			for _, f := range files {
				for i, s := range f.Shards {
					size := chunk
					if i == len(f.Shards)-1 {
						size = int64(f.Size) - chunk*int64(len(f.Shards)-1)
					}
					sizes[s] = size
				}
				shards = append(shards, f.Shards...)
			}
		}
	}
	res := &FetchResult{CID: root.String(), Shards: len(shards)}
	var missing []cid.Cid
	var total int64
	seen := make(map[cid.Cid]bool, len(shards))
	for _, s := range shards {
		if seen[s] {
			continue // a shard repeated in the contribution is fetched once
		}
		seen[s] = true
		ok, err := n.store.HasShard(ctx, s)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, s)
			total += sizes[s]
		}
	}
	if len(missing) == 0 {
		return res, nil
	}
	if n.net == nil {
		return nil, fmt.Errorf("%w: %d of %d shards of %s are not stored here", ErrOffline, len(missing), len(shards), root)
	}
	peers := n.candidates(ctx, root)
	if len(peers) == 0 {
		return nil, fmt.Errorf("%w: no peer to fetch %s from", storage.ErrNotFound, root)
	}
	start := time.Now()
	var mu sync.Mutex // put and progress may be called from several goroutines
	// missing holds only shards not stored: no have() check is needed.
	err = n.net.client.Fetch(ctx, missing, peers, nil,
		func(c cid.Cid, data []byte) error {
			// The exchange has checked data against c: no second hash.
			if err := n.store.PutVerifiedShard(ctx, c, data); err != nil {
				return err
			}
			mu.Lock()
			res.Fetched++
			mu.Unlock()
			return nil
		},
		func(b int64) {
			n.metrics.fetchedBytes.Add(float64(b))
			mu.Lock()
			res.Bytes += b
			done := res.Bytes
			mu.Unlock()
			if progress != nil {
				progress(done, max(total, done))
			}
		})
	if err != nil {
		return res, fmt.Errorf("fetch %s: %w", root, err)
	}
	n.log.Info("fetched", "cid", root.String(), "shards", res.Fetched, "bytes", res.Bytes,
		"took", time.Since(start).Round(time.Millisecond))
	// Provide only what this node now holds whole: a fetch of one file of
	// a contribution does not make it a provider of the contribution.
	if root.Prefix().Codec != cid.Raw && sub == "" {
		n.announceProvide(root)
	}
	return res, nil
}

// announceProvide provides c on the DHT in the background.
func (n *Node) announceProvide(c cid.Cid) {
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(n.ctx, 2*time.Minute)
		defer cancel()
		if err := n.net.p2p.Provide(ctx, c); err != nil && n.ctx.Err() == nil {
			n.log.Warn("provide failed; it is retried on the reprovide timer", "cid", c.String(), "err", err)
		}
	})
}
