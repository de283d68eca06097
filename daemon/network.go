package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
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
	"github.com/openledger/openledger/storage/datastore"
)

// ErrOffline is returned for network work asked of a node that runs no
// network (a CLI command on a repo without a daemon).
var ErrOffline = errors.New("daemon: the network is not running (start `openledger daemon`)")

// providerNamespace is where the DHT's provider records live in the
// store's index key space (storage/datastore).
const providerNamespace = "/dht"

// JoinedFile lists the Datanets the node has joined, so it rejoins them
// after a restart.
const JoinedFile = "joined.json"

// netObjects is the Datanet registry as the network layer sees it: p2p
// decides nothing itself, it asks here. Sync reads the registry's sync
// index and keeps what it cannot judge yet in a deferredStore.
type netObjects struct {
	r *datanet.Registry
	// needs is told of an object that cannot be judged until objects it
	// names are held (a snapshot's chunks, a vote's contribution).
	needs func(data []byte, err error)
	*deferredStore
}

var _ p2p.ManyObjects = netObjects{}

func (o netObjects) Check(ctx context.Context, topic cid.Cid, data []byte) (cid.Cid, cid.Cid, p2p.Verdict, error) {
	if !topic.Defined() {
		return o.checkAnnounced(ctx, data)
	}
	fromSync := p2p.FromSync(ctx)
	if fromSync {
		ctx = datanet.AcceptingStale(ctx)
	}
	ch, err := o.r.Check(ctx, topic, data)
	switch {
	case err == nil:
		return ch.CID, ch.Datanet, p2p.Accept, nil
	case datanet.CannotJudgeYet(err):
		if o.needs != nil && len(datanet.MissingCIDs(err)) > 0 {
			o.needs(data, err)
		}
		return cid.Undef, cid.Undef, p2p.Ignore, err
	case fromSync && underHeldVersion(err):
		// A peer's set holds it, so a version of its Datanet this node
		// lacks may admit it: sync keeps it rather than penalise the peer.
		return cid.Undef, cid.Undef, p2p.Ignore, err
	default:
		return cid.Undef, cid.Undef, p2p.Reject, err
	}
}

// checkAnnounced judges an object gossiped on the announcements topic,
// where anyone can push Datanets made with throwaway keys: only Datanet
// objects belong there, and one is kept only when this node asked for its
// Datanet (holds a version of it: created, joined or fetched here). The
// rest is p2p.ErrUnwanted: not kept, not forwarded, its sender charged.
func (o netObjects) checkAnnounced(ctx context.Context, data []byte) (cid.Cid, cid.Cid, p2p.Verdict, error) {
	ch, err := o.r.Check(ctx, cid.Undef, data)
	switch {
	case datanet.CannotJudgeYet(err):
		// A later version of a Datanet not held: not asked for, and its
		// previous versions are not fetched on a stranger's word.
		return cid.Undef, cid.Undef, p2p.Ignore, fmt.Errorf("%w: %w", p2p.ErrUnwanted, err)
	case err != nil:
		return cid.Undef, cid.Undef, p2p.Reject, err
	}
	if _, ok := ch.Object.(*datanet.Datanet); !ok {
		return cid.Undef, cid.Undef, p2p.Reject, fmt.Errorf("%w: a %s on the announcements topic", datanet.ErrWrongTopic, ch.Object.Kind())
	}
	held, err := o.r.Has(ctx, ch.Datanet)
	switch {
	case err != nil:
		return cid.Undef, cid.Undef, p2p.Ignore, err
	case !held:
		return cid.Undef, cid.Undef, p2p.Ignore, fmt.Errorf("%w: datanet %s is not joined here", p2p.ErrUnwanted, ch.Datanet)
	}
	return ch.CID, ch.Datanet, p2p.Accept, nil
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

// Preverify is p2p.ManyObjects': the registry's.
func (o netObjects) Preverify(data [][]byte) { o.r.Preverify(data) }

// PutMany is p2p.ManyObjects': Put for a batch (datanet.Registry.PutMany).
func (o netObjects) PutMany(ctx context.Context, data [][]byte) ([]error, error) {
	if p2p.FromSync(ctx) {
		ctx = datanet.AcceptingStale(ctx)
	}
	res, err := o.r.PutMany(ctx, data)
	errs := make([]error, len(data))
	for i, r := range res {
		switch {
		case r.Err != nil:
			errs[i] = r.Err
		case r.Checked != nil:
			if uerr := o.Undefer(ctx, r.Checked.CID); uerr != nil && err == nil {
				err = uerr
			}
		}
	}
	return errs, err
}

func (o netObjects) Has(ctx context.Context, c cid.Cid) (bool, error) { return o.r.Has(ctx, c) }
func (o netObjects) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	return o.r.Get(ctx, c)
}

func (o netObjects) SyncBuckets(ctx context.Context, dn cid.Cid, level, from, to int, fn func(int, [32]byte, uint64) error) error {
	return o.r.SyncBucketRange(ctx, dn, level, from, to, func(b int, sb datanet.SyncBucket) error {
		return fn(b, sb.Sum, sb.Count)
	})
}

func (o netObjects) SyncKeys(ctx context.Context, dn cid.Cid, from [32]byte, within int, fn func([32]byte, cid.Cid) (bool, error)) error {
	return o.r.SyncKeys(ctx, dn, from, within, fn)
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
	badPeers map[peer.ID]badPeer // guarded by mu: peers that sent bad shard bytes
}

// badPeer is the record of a peer the shard exchange reported.
type badPeer struct {
	score float64   // what the reports cost it, down to badPeerFloor
	last  time.Time // the last report
}

// A peer the shard exchange reports is scored down in gossip until an hour
// after the last report: by badShardScore for each shard that did not match
// (one damaged copy is not malice; a peer that keeps sending them soon
// crosses the gossip threshold, -500), and to badPeerFloor, the publish
// threshold, at once for breaking the wire format.
const (
	badPeerPenalty = time.Hour
	badShardScore  = -100
	badPeerFloor   = -1000
)

func (nw *network) appScore(p peer.ID) float64 {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if b, ok := nw.badPeers[p]; ok {
		if time.Since(b.last) < badPeerPenalty {
			return b.score
		}
		delete(nw.badPeers, p)
	}
	return 0
}

// reportBad scores p down for what the shard exchange reported (err wraps
// exchange.ErrBadData or exchange.ErrProtocol).
func (nw *network) reportBad(p peer.ID, err error) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	b := nw.badPeers[p]
	if time.Since(b.last) >= badPeerPenalty {
		b.score = 0
	}
	b.score = max(b.score+badShardScore, badPeerFloor)
	if errors.Is(err, exchange.ErrProtocol) {
		b.score = badPeerFloor
	}
	b.last = time.Now()
	nw.badPeers[p] = b
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
	nw := &network{badPeers: map[peer.ID]badPeer{}}
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
	pcfg.ProvideKeys = n.provideKeys
	if pcfg.ProviderStore, err = datastore.New(n.store, providerNamespace); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	pcfg.Logger = n.log.With("component", "p2p")
	pn, err := p2p.New(pcfg, netObjects{
		r:             n.registry,
		needs:         n.needDependencies,
		deferredStore: newDeferredStore(n.store, DefaultDeferredBytes),
	})
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
	cfg.Exchange.apply(&scfg)
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
		nw.reportBad(p, err)
		n.metrics.badPeers.Inc()
		n.log.Warn("peer sent bad shard bytes or broke the protocol; scored down", "peer", p.String(), "err", err)
	})
	n.net = nw
	n.store.SetRepairer(n.refetchShard)
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

// providedKinds are the kinds of objects this node announces on the DHT:
// what peers fetch by CID (datanet.Checked.Provided).
var providedKinds = []string{datanet.KindDatanet, datanet.KindContribution, datanet.KindSnapshot,
	datanet.KindModel, datanet.KindAttribution, datanet.KindRewardEpoch}

// provideKeys streams what this node provides, for p2p's re-provide: the
// stored objects of providedKinds, a page of the registry's kind index at a
// time, so no set of a million CIDs is kept in memory.
func (n *Node) provideKeys(ctx context.Context) iter.Seq2[cid.Cid, error] {
	return func(yield func(cid.Cid, error) bool) {
		for _, kind := range providedKinds {
			after := cid.Undef
			for {
				page, err := n.registry.ObjectsOfKind(ctx, kind, after, datanet.MaxPage)
				if err != nil {
					yield(cid.Undef, err)
					return
				}
				if len(page) == 0 {
					break
				}
				for _, c := range page {
					if has, err := n.registry.Has(ctx, c); err != nil {
						yield(cid.Undef, err)
						return
					} else if has && !yield(c, nil) { // GC may have collected it
						return
					}
				}
				after = page[len(page)-1]
			}
		}
	}
}

// provideStored announces what this node provides after a start, and so
// keeps its records alive (other nodes drop them 48 hours after they were
// last announced); p2p re-provides on its timer from then on.
func (n *Node) provideStored() {
	if err := n.net.p2p.Reprovide(n.ctx); err != nil && n.ctx.Err() == nil {
		n.log.Warn("provide the stored objects", "err", err)
	}
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

// candidates are the peers worth asking for c: DHT providers first (the
// first nprov), then every connected peer (a shard has no provider record
// of its own). It makes one provider lookup: a fetch calls it once, for
// its root.
func (n *Node) candidates(ctx context.Context, c cid.Cid) (out []peer.ID, nprov int) {
	out = n.providers(ctx, c, findProvidersTimeout)
	nprov = len(out)
	for _, p := range n.net.p2p.Host().Network().Peers() {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nprov
}

// providers looks up the providers of c on the DHT for at most wait, and
// no longer than providerGrace after the first was found.
func (n *Node) providers(ctx context.Context, c cid.Cid, wait time.Duration) []peer.ID {
	if c.Prefix().Codec == cid.Raw {
		return nil
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	provs, err := n.net.p2p.FindProvidersWithin(fctx, c, 20, providerGrace)
	cancel()
	if err != nil {
		n.log.Debug("find providers", "cid", c.String(), "err", err)
	}
	var out []peer.ID
	for _, p := range provs {
		if p.ID != n.net.p2p.ID() {
			n.net.p2p.Host().Peerstore().AddAddrs(p.ID, p.Addrs, time.Hour)
			out = append(out, p.ID)
		}
	}
	return out
}

// FetchResult is the answer of content_fetch.
type FetchResult struct {
	CID     string `json:"cid"`
	Objects int    `json:"objects"` // signed objects fetched and stored (a snapshot's contributions...)
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
	res := &FetchResult{CID: root.String()}
	var peers []peer.ID // the root's providers and connected peers, once looked up
	if root.Prefix().Codec != cid.Raw {
		has, err := n.registry.Has(ctx, root)
		if err != nil {
			return nil, err
		}
		if !has {
			if n.net == nil {
				return nil, fmt.Errorf("%w: %s is not stored here", ErrOffline, root)
			}
			of, err := n.fetchObjectGraph(ctx, root)
			if err != nil {
				return nil, err
			}
			peers = of.peers
			res.Objects = int(of.objects.Load())
		}
	}
	start := time.Now()
	var mu sync.Mutex // put and progress may be called from several goroutines
	var total int64   // bytes of the missing shards seen so far
	// The shards a batch at a time: a snapshot of a million contributions
	// is walked, never listed in memory.
	for batch, err := range n.shardBatches(ctx, root, path) {
		if err != nil {
			return res, err
		}
		res.Shards += len(batch)
		var missing []cid.Cid
		for _, s := range batch {
			ok, err := n.store.HasShard(ctx, s.c)
			if err != nil {
				return res, err
			}
			if !ok {
				missing = append(missing, s.c)
				total += s.size
			}
		}
		if len(missing) == 0 {
			continue
		}
		if n.net == nil {
			return res, fmt.Errorf("%w: shards of %s are not stored here (%s the first)", ErrOffline, root, missing[0])
		}
		if peers == nil {
			if peers, _ = n.candidates(ctx, root); len(peers) == 0 {
				return res, fmt.Errorf("%w: no peer to fetch %s from", storage.ErrNotFound, root)
			}
		}
		// missing holds only shards not stored: no have() check is needed.
		err := n.net.client.Fetch(ctx, missing, peers, nil,
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
	}
	if res.Fetched == 0 {
		return res, nil
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

// shardRef is a shard to fetch with its size (0 when unknown: a bare
// shard).
type shardRef struct {
	c    cid.Cid
	size int64
}

// shardBatchSize is how many contributions of a snapshot a fetch resolves
// at once.
const shardBatchSize = 256

// shardBatches yields the shards a content path names, each once, in
// batches: for a whole snapshot one batch per shardBatchSize contributions
// of its entry tree, else one batch (what the path resolves to: one file of
// a large dataset is fetched alone).
func (n *Node) shardBatches(ctx context.Context, root cid.Cid, path string) iter.Seq2[[]shardRef, error] {
	return func(yield func([]shardRef, error) bool) {
		if root.Prefix().Codec == cid.Raw {
			yield([]shardRef{{c: root}}, nil)
			return
		}
		_, sub, err := datanet.ParsePath(path)
		if err != nil {
			yield(nil, err)
			return
		}
		if sub == "" {
			if s, err := n.registry.Snapshot(ctx, root); err == nil {
				n.snapshotShardBatches(ctx, s, yield)
				return
			}
		}
		resolved, err := n.registry.Resolve(ctx, path)
		if err != nil {
			yield(nil, err)
			return
		}
		yield(resolvedShards(resolved, map[cid.Cid]bool{}), nil)
	}
}

// snapshotShardBatches yields the shards of a snapshot's contributions,
// shardBatchSize contributions at a time. A shard repeated across
// contributions is fetched once per batch at most (Fetch skips what is
// stored by then).
func (n *Node) snapshotShardBatches(ctx context.Context, s *datanet.Snapshot, yield func([]shardRef, error) bool) {
	var batch []cid.Cid
	flush := func() bool {
		seen := map[cid.Cid]bool{}
		var out []shardRef
		for _, k := range batch {
			res, err := n.registry.Resolve(ctx, k.String())
			if err != nil {
				return yield(nil, fmt.Errorf("contribution %s: %w", k, err))
			}
			out = append(out, resolvedShards(res, seen)...)
		}
		batch = batch[:0]
		return yield(out, nil)
	}
	errStop := errors.New("stop")
	err := n.registry.SnapshotEntries(ctx, s, func(e *datanet.SnapshotEntry) error {
		batch = append(batch, e.Contribution)
		if len(batch) == shardBatchSize && !flush() {
			return errStop
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
	case err != nil:
		yield(nil, err)
	case len(batch) > 0:
		flush()
	}
}

// resolvedShards lists the shards of a resolved path not in seen, with
// their sizes, adding them to seen.
func resolvedShards(resolved *datanet.Resolved, seen map[cid.Cid]bool) []shardRef {
	parts := resolved.Parts
	if parts == nil {
		parts = []*datanet.Resolved{resolved}
	}
	var out []shardRef
	for _, part := range parts {
		files := part.Files
		if part.File != nil {
			files = []datanet.File{*part.File}
		}
		for _, f := range files {
			for i, s := range f.Shards {
				if !seen[s] { // a shard repeated in a contribution is fetched once
					seen[s] = true
					out = append(out, shardRef{c: s, size: int64(f.ShardSize(i, uint64(part.ChunkSize)))})
				}
			}
		}
	}
	return out
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
