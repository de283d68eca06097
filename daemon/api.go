package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

//go:generate go test -run TestRPCGenerated -update .

// apiNamespace is an API namespace and the value whose exported methods
// are its methods, named as go-ethereum's rpc package names them
// (namespace_method, first letter lower-cased).
type apiNamespace struct {
	ns   string
	impl any
}

// apis lists the API namespaces. rpc_gen.go is generated from it (go
// generate ./daemon): a service per namespace through which the JSON-RPC
// server calls each method (the permission table, then the error codes),
// and a method of the typed client API for each.
func (n *Node) apis() []apiNamespace {
	return []apiNamespace{
		{"node", &nodeAPI{n: n}},
		{"auth", &authAPI{n: n}},
		{"datanet", &datanetAPI{n: n}},
		{"content", &contentAPI{n: n}},
		{"repo", &repoAPI{n: n}},
		{"curation", &curationAPI{n: n}},
		{"snapshot", &snapshotAPI{n: n}},
		{"anchor", &anchorAPI{n: n}},
		{"proofs", &proofsAPI{n: n}},
		{"chain", &chainAPI{n: n}},
		{"model", &modelAPI{n: n}},
		{"attribution", &attributionAPI{n: n}},
		{"rewards", &rewardsAPI{n: n}},
		{"object", &objectAPI{n: n}},
	}
}

// Bounds of the JSON-RPC server, the same on every transport.
const (
	// rpcBodyLimit bounds the body of one HTTP request.
	rpcBodyLimit = 1 << 20
	// rpcBatchItems bounds the calls of one batch; a larger batch is
	// refused whole ("batch too large", code -32600).
	rpcBatchItems = 100
	// rpcBatchReplyBytes bounds the replies of one batch: once they pass
	// it, the batch's remaining calls are not run and answer "response too
	// large" (go-ethereum's code -32003).
	rpcBatchReplyBytes = 16 << 20
)

// Byte budgets of a page of a list that has a next cursor: a page holds at
// most its limit of items and stops early once past the budget (with at
// least one item), and next says where it goes on. Items of those lists
// multiply (files by their shards, entries by their votes), so a page of
// 1,000 could otherwise reach gigabytes.
const (
	// pageShards bounds the shard CIDs of a page of files (content_ls):
	// 65,536 CIDs are about 4 MiB of JSON.
	pageShards = 1 << 16
	// pageVotes bounds the votes of a page of snapshot entries
	// (snapshot_entries): 8,192 votes are about 4 MiB of JSON.
	pageVotes = 1 << 13
)

// newRPCServer registers the API namespaces on a new JSON-RPC server whose
// methods check the permission table with g. The same service code answers
// the unix socket, HTTP and in-process clients.
func (n *Node) newRPCServer(g guard) (*rpc.Server, error) {
	srv := rpc.NewServer()
	srv.SetHTTPBodyLimit(rpcBodyLimit)
	srv.SetBatchLimits(rpcBatchItems, rpcBatchReplyBytes)
	for _, a := range n.apis() {
		svc, err := service(a.impl, g)
		if err == nil {
			err = srv.RegisterName(a.ns, svc)
		}
		if err != nil {
			return nil, fmt.Errorf("register %s api: %w", a.ns, err)
		}
	}
	return srv, nil
}

// nodeAPI is the node_* namespace.
type nodeAPI struct {
	n *Node
}

// IDResult is the answer of node_id.
type IDResult struct {
	PeerID  string   `json:"peer_id"`
	Addrs   []string `json:"addrs"`
	Account string   `json:"account"`
	API     string   `json:"api,omitempty"`
	Version string   `json:"version"`
}

// Id returns the node's identities (node_id; the rpc package lower-cases
// only the first letter of a method name, so ID would be node_iD).
func (a *nodeAPI) Id(ctx context.Context) (*IDResult, error) {
	res := &IDResult{
		PeerID:  a.n.repo.Config.Identity.PeerID,
		Addrs:   []string{},
		Account: a.n.repo.Config.Identity.Account,
		Version: a.n.opts.Version,
	}
	if a.n.httpAddr != "" {
		res.API = "http://" + a.n.httpAddr
	}
	if a.n.net != nil {
		for _, ma := range a.n.net.p2p.Addrs() {
			res.Addrs = append(res.Addrs, ma.String())
		}
	}
	return res, nil
}

// Connect dials a peer by multiaddr (ending in /p2p/<peer id>).
func (a *nodeAPI) Connect(ctx context.Context, addr string) (string, error) {
	if a.n.net == nil {
		return "", ErrOffline
	}
	id, err := a.n.net.p2p.Connect(ctx, addr)
	if err != nil {
		return "", fmt.Errorf("%w: connect %s: %w", errBadRequest, addr, err)
	}
	return id.String(), nil
}

// PeerView is a connected peer.
type PeerView struct {
	ID      string   `json:"id"`
	Addrs   []string `json:"addrs"`
	Latency string   `json:"latency,omitempty"`
}

// Peers lists connected peers.
func (a *nodeAPI) Peers(ctx context.Context) ([]PeerView, error) {
	if a.n.net == nil {
		return nil, ErrOffline
	}
	out := []PeerView{}
	for _, p := range a.n.net.p2p.Peers() {
		v := PeerView{ID: p.ID.String(), Addrs: p.Addrs}
		if p.Latency > 0 {
			v.Latency = p.Latency.Round(time.Microsecond).String()
		}
		out = append(out, v)
	}
	return out, nil
}

// Version returns the daemon's version.
func (a *nodeAPI) Version(ctx context.Context) (string, error) {
	return a.n.opts.Version, nil
}

// authAPI is the auth_* namespace.
type authAPI struct {
	n *Node
}

// CreateToken returns a bearer token with permission perm.
func (a *authAPI) CreateToken(ctx context.Context, perm string) (string, error) {
	p, err := ParsePerm(perm)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return a.n.auth.CreateToken(p)
}

// Rotate replaces keystore/api.secret with a new random secret: every
// token issued before is refused from the next request on. The unix socket
// and the in-process API need no token and keep working; make new tokens
// with auth_createToken.
func (a *authAPI) Rotate(ctx context.Context) error {
	if err := a.n.auth.Rotate(); err != nil {
		return err
	}
	a.n.log.Info("api secret rotated: every token issued before is revoked")
	return nil
}

// datanetAPI is the datanet_* namespace.
type datanetAPI struct {
	n *Node
}

// DatanetView is a Datanet with its ID, as the API shows it.
type DatanetView struct {
	ID string `json:"id"`
	*datanet.Datanet
}

// MarshalJSON puts the ID beside the Datanet's own JSON fields.
func (v DatanetView) MarshalJSON() ([]byte, error) {
	inner, err := json.Marshal(v.Datanet)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(inner, &m); err != nil {
		return nil, err
	}
	id, _ := json.Marshal(v.ID)
	m["id"] = id
	return json.Marshal(m)
}

// UnmarshalJSON splits the ID from the Datanet's fields.
func (v *DatanetView) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if err := json.Unmarshal(m["id"], &v.ID); err != nil {
		return fmt.Errorf("datanet view id: %w", err)
	}
	delete(m, "id")
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	v.Datanet = new(datanet.Datanet)
	return json.Unmarshal(rest, v.Datanet)
}

// Create signs and stores a new Datanet owned by the operator.
func (a *datanetAPI) Create(ctx context.Context, spec datanet.DatanetSpec) (*DatanetView, error) {
	signer, err := a.n.Signer()
	if err != nil {
		return nil, err
	}
	id, d, err := a.n.registry.CreateDatanet(ctx, spec, a.n.repo.Config.Chain.ID, signer, a.n.opts.Now())
	if err != nil {
		return nil, err
	}
	a.n.log.Info("datanet created", "id", id.String(), "name", d.Name)
	return &DatanetView{ID: id.String(), Datanet: d}, nil
}

// Join subscribes to a Datanet's topic and syncs its objects from peers;
// the node rejoins it after a restart.
func (a *datanetAPI) Join(ctx context.Context, id string) error {
	c, err := parseCID(id)
	if err != nil {
		return err
	}
	return a.n.join(ctx, c)
}

// Leave unsubscribes from a Datanet's topic; what is stored stays.
func (a *datanetAPI) Leave(ctx context.Context, id string) error {
	c, err := parseCID(id)
	if err != nil {
		return err
	}
	return a.n.leave(c)
}

// Joined lists the Datanets the node has joined.
func (a *datanetAPI) Joined(ctx context.Context) ([]string, error) {
	if a.n.net == nil {
		return nil, ErrOffline
	}
	out := []string{}
	for _, c := range a.n.net.p2p.Joined() {
		out = append(out, c.String())
	}
	return out, nil
}

// PageArgs selects a page of a list: the items after the one named After
// (its CID, as the previous page's last item gives it; "" for the first
// page), at most Limit of them (0 for 100; at most 1000).
type PageArgs struct {
	After string `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// cursor parses the page's After; cid.Undef for the first page.
func (p *PageArgs) cursor() (cid.Cid, int, error) {
	if p == nil {
		return cid.Undef, 0, nil
	}
	if p.Limit < 0 {
		return cid.Undef, 0, fmt.Errorf("%w: limit %d", errBadRequest, p.Limit)
	}
	if p.After == "" {
		return cid.Undef, p.Limit, nil
	}
	c, err := parseCID(p.After)
	return c, p.Limit, err
}

// List returns a page of the Datanets held here, oldest first, each at its
// current version.
func (a *datanetAPI) List(ctx context.Context, page *PageArgs) ([]DatanetView, error) {
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	entries, err := a.n.registry.DatanetsPage(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DatanetView, 0, len(entries))
	for _, e := range entries {
		out = append(out, DatanetView{ID: e.ID.String(), Datanet: e.Datanet})
	}
	return out, nil
}

// DatanetDetail is a Datanet with its counts and a page of its
// contributions.
type DatanetDetail struct {
	Datanet DatanetView    `json:"datanet"`
	Counts  datanet.Counts `json:"counts"`
	// Contributions are a page of the contributions held, oldest first.
	Contributions []ContributionInfo `json:"contributions"`
}

// ContributionInfo summarises a contribution as the index holds it;
// Approve and Reject are sums of curator weights, decimal strings in JSON.
type ContributionInfo struct {
	CID     string         `json:"cid"`
	Status  datanet.Status `json:"status"`
	Size    uint64         `json:"size"`
	Approve uint64         `json:"approve,string"`
	Reject  uint64         `json:"reject,string"`
	Created time.Time      `json:"created"`
}

// Show returns a Datanet at its current version, its counts, and a page of
// its contributions (oldest first). It reads the index: its time does not
// grow with the Datanet.
func (a *datanetAPI) Show(ctx context.Context, id string, page *PageArgs) (*DatanetDetail, error) {
	c, err := parseCID(id)
	if err != nil {
		return nil, err
	}
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	d, err := a.n.registry.Datanet(ctx, c)
	if err != nil {
		return nil, err
	}
	counts, err := a.n.registry.Counts(ctx, c)
	if err != nil {
		return nil, err
	}
	refs, err := a.n.registry.ContributionsPage(ctx, c, nil, after, limit)
	if err != nil {
		return nil, err
	}
	out := &DatanetDetail{Datanet: DatanetView{ID: id, Datanet: d}, Counts: counts, Contributions: []ContributionInfo{}}
	for _, r := range refs {
		out.Contributions = append(out.Contributions, contributionInfo(r))
	}
	return out, nil
}

func contributionInfo(r datanet.ContributionRef) ContributionInfo {
	return ContributionInfo{CID: r.CID.String(), Status: r.Status, Size: r.Size, Approve: r.Approve,
		Reject: r.Reject, Created: time.Unix(r.Created, 0).UTC()}
}

func parseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %q is not a CID: %w", errBadRequest, s, err)
	}
	return c, nil
}

// contentAPI is the content_* namespace.
type contentAPI struct {
	n *Node
}

// AddArgs are the arguments of content_add.
type AddArgs struct {
	// Paths are absolute paths of files and directories on the daemon's
	// machine; the daemon reads them with its own permissions, never
	// inside its repo, and for a caller below admin only under config
	// api.add_roots.
	Paths     []string          `json:"paths"`
	Datanet   string            `json:"datanet"`
	ChunkSize int               `json:"chunk_size,omitempty"`
	License   string            `json:"license,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// AddResult is the answer of content_add.
type AddResult struct {
	CID   string     `json:"cid"`
	Root  string     `json:"root"`
	Size  uint64     `json:"size"`
	Files []FileView `json:"files"`
}

// FileView is a file of a contribution.
type FileView struct {
	Path   string   `json:"path"`
	Size   uint64   `json:"size"`
	Shards []string `json:"shards"`
}

// AddEvent is a notification of the content addProgress subscription: progress,
// then exactly one final event with Result or Error.
type AddEvent struct {
	Done   int64      `json:"done"`
	Total  int64      `json:"total"`
	Result *AddResult `json:"result,omitempty"`
	Error  *EventErr  `json:"error,omitempty"`
}

// EventErr is an error carried in a subscription event.
type EventErr struct {
	Code    int    `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Add adds files to a Datanet as one signed contribution. The daemon reads
// the paths with its own permissions, never inside its repo, and for a
// caller below admin only under config api.add_roots.
func (a *contentAPI) Add(ctx context.Context, args AddArgs) (*AddResult, error) {
	pol, err := a.n.readPolicy(callerPerm(ctx))
	if err != nil {
		return nil, err
	}
	return a.n.add(ctx, pol, args, nil)
}

// AddProgress is content_add with progress: subscribe with
// content_subscribe("addProgress", args). Unsubscribing or dropping the
// connection aborts the add, and nothing of it is kept.
func (a *contentAPI) AddProgress(ctx context.Context, args AddArgs) (*rpc.Subscription, error) {
	pol, err := a.n.readPolicy(callerPerm(ctx))
	if err != nil {
		return nil, err
	}
	return a.n.subscribeWork(ctx, func(ctx context.Context, notify func(any)) {
		var last time.Time
		res, err := a.n.add(ctx, pol, args, func(done, total int64) {
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || done == total {
				last = now
				notify(AddEvent{Done: done, Total: total})
			}
		})
		final := AddEvent{Result: res}
		if err != nil {
			final.Error = eventErr(err)
		} else {
			final.Done, final.Total = int64(res.Size), int64(res.Size)
		}
		notify(final)
	})
}

// subscribeWork runs work in the background for a subscription: work's
// context ends when the client unsubscribes or disconnects, or the node
// closes; notify sends an event to the subscriber.
func (n *Node) subscribeWork(ctx context.Context, work func(ctx context.Context, notify func(any))) (*rpc.Subscription, error) {
	notifier, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, rpc.ErrNotificationsUnsupported
	}
	sub := notifier.CreateSubscription()
	n.wg.Go(func() {
		ctx, cancel := context.WithCancel(n.ctx)
		defer cancel()
		go func() {
			select {
			case <-sub.Err():
				cancel()
			case <-ctx.Done():
			}
		}()
		work(ctx, func(ev any) { notifier.Notify(sub.ID, ev) })
	})
	return sub, nil
}

func eventErr(err error) *EventErr {
	e := coded(err)
	return &EventErr{Code: e.code, Name: e.name, Message: e.Error()}
}

func (n *Node) add(ctx context.Context, pol *readPolicy, args AddArgs, progress func(done, total int64)) (*AddResult, error) {
	dn, err := parseCID(args.Datanet)
	if err != nil {
		return nil, err
	}
	for _, p := range args.Paths {
		if err := pol.checkPath(p); err != nil {
			return nil, err
		}
	}
	signer, err := n.Signer()
	if err != nil {
		return nil, err
	}
	chunk := args.ChunkSize
	if chunk == 0 {
		chunk = n.repo.Config.Storage.ChunkSize
	}
	start := time.Now()
	c, k, err := n.registry.Add(ctx, args.Paths, datanet.AddOptions{
		Datanet: dn, ChunkSize: chunk, License: args.License, Metadata: args.Metadata, Progress: progress,
		CheckFile: pol.checkFile,
	}, signer, n.opts.Now())
	if err != nil {
		n.metrics.addErrors.Inc()
		return nil, err
	}
	n.metrics.adds.Inc()
	n.metrics.addBytes.Add(float64(k.Size))
	n.log.Info("contribution added", "cid", c.String(), "datanet", dn.String(), "files", len(k.Files),
		"bytes", k.Size, "took", time.Since(start).Round(time.Millisecond))
	return contributionResult(c, k), nil
}

func contributionResult(c cid.Cid, k *datanet.Contribution) *AddResult {
	res := &AddResult{CID: c.String(), Root: hexutil.Encode(k.Root[:]), Size: k.Size, Files: fileViews(k.Files)}
	return res
}

func fileViews(files []datanet.File) []FileView {
	out := make([]FileView, 0, len(files))
	for _, f := range files {
		v := FileView{Path: f.Path, Size: f.Size, Shards: make([]string, len(f.Shards))}
		for i, s := range f.Shards {
			v.Shards[i] = s.String()
		}
		out = append(out, v)
	}
	return out
}

// LsResult is the answer of content_ls.
type LsResult struct {
	CID   string     `json:"cid"`
	Path  string     `json:"path,omitempty"`
	Kind  string     `json:"kind"`
	Size  uint64     `json:"size"`
	Files []FileView `json:"files,omitempty"`
	// Next, when the files go on past this page, is the After of the next
	// page (the path of this page's last file).
	Next string `json:"next,omitempty"`
	// Object is the object's JSON view for objects that are not contributions.
	Object json.RawMessage `json:"object,omitempty"`
}

// Ls describes what a content path names: the files of a contribution or
// directory (a page of them, in their order: page.After is the path of the
// previous page's last file), a file, a shard, or another signed object.
func (a *contentAPI) Ls(ctx context.Context, path string, page *PageArgs) (*LsResult, error) {
	return a.n.ls(ctx, path, page)
}

// ls answers content_ls and the HTTP listing of a directory: a whole
// snapshot is listed a page at a time from its entry tree (lsSnapshot),
// anything else resolved and paged (lsResult).
func (n *Node) ls(ctx context.Context, path string, page *PageArgs) (*LsResult, error) {
	root, _, err := datanet.ParsePath(path)
	if err != nil {
		return nil, err
	}
	if n.isSnapshotRoot(ctx, path) {
		s, err := n.registry.Snapshot(ctx, root)
		if err != nil {
			return nil, err
		}
		return n.lsSnapshot(ctx, root, s, page)
	}
	res, err := n.registry.Resolve(ctx, path)
	if err != nil {
		return nil, err
	}
	return lsResult(res, page)
}

// lsSnapshot lists a page of the files of a snapshot's contributions, each
// as CONTRIBUTION/path, in the order of its entries. The cursor (After,
// Next) is "@ENTRY/FILE": the ordinal of an entry and the index of a file
// in it, so a page deep in a million entries reads only its chunks.
func (n *Node) lsSnapshot(ctx context.Context, sc cid.Cid, s *datanet.Snapshot, page *PageArgs) (*LsResult, error) {
	out := &LsResult{CID: sc.String(), Kind: datanet.ResolvedDirectory, Files: []FileView{}}
	limit := datanet.PageLimit(0)
	var from, fileFrom uint64
	if page != nil {
		if page.Limit < 0 {
			return nil, fmt.Errorf("%w: limit %d", errBadRequest, page.Limit)
		}
		limit = datanet.PageLimit(page.Limit)
		if page.After != "" {
			if _, err := fmt.Sscanf(page.After, "@%d/%d", &from, &fileFrom); err != nil {
				return nil, fmt.Errorf("%w: cursor %q of a snapshot listing is not @ENTRY/FILE (a page's next)", errBadRequest, page.After)
			}
		}
	}
	errFull := errors.New("page full")
	shards := 0
	err := n.registry.SnapshotEntriesFrom(ctx, s, from, func(o uint64, e *datanet.SnapshotEntry) error {
		k, err := n.registry.Contribution(ctx, e.Contribution)
		if err != nil {
			return fmt.Errorf("contribution %s of snapshot %s: %w", e.Contribution, sc, err)
		}
		first := uint64(0)
		if o == from {
			first = fileFrom
		}
		for i := first; i < uint64(len(k.Files)); i++ {
			if len(out.Files) == limit || shards >= pageShards {
				out.Next = fmt.Sprintf("@%d/%d", o, i)
				return errFull
			}
			f := k.Files[i]
			shards += len(f.Shards)
			f.Path = e.Contribution.String() + "/" + f.Path
			out.Files = append(out.Files, fileViews([]datanet.File{f})...)
			out.Size += f.Size
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, err
	}
	return out, nil
}

func lsResult(res *datanet.Resolved, page *PageArgs) (*LsResult, error) {
	out := &LsResult{CID: res.CID.String(), Path: res.Path, Kind: res.Kind}
	switch res.Kind {
	case datanet.ResolvedShard, datanet.ResolvedFile:
		out.Size = res.File.Size
		out.Files = fileViews([]datanet.File{*res.File})
		out.Files[0].Path = res.Path
	case datanet.ResolvedDirectory:
		for _, f := range res.Files {
			out.Size += f.Size
		}
		files, limit := res.Files, datanet.PageLimit(0)
		if page != nil {
			if page.Limit < 0 {
				return nil, fmt.Errorf("%w: limit %d", errBadRequest, page.Limit)
			}
			limit = datanet.PageLimit(page.Limit)
			if page.After != "" {
				i := slices.IndexFunc(files, func(f datanet.File) bool { return f.Path == page.After })
				if i < 0 {
					return nil, fmt.Errorf("%w: cursor %q is not a file of %s", errBadRequest, page.After, res.CID)
				}
				files = files[i+1:]
			}
		}
		end, shards := 0, 0
		for end < len(files) && end < limit && (end == 0 || shards < pageShards) {
			shards += len(files[end].Shards)
			end++
		}
		out.Files = fileViews(files[:end])
		if end < len(files) {
			out.Next = files[end-1].Path
		}
	default:
		obj, err := json.Marshal(res.Object)
		if err != nil {
			return nil, err
		}
		out.Object = obj
	}
	return out, nil
}

// ProviderView is a peer that provides a CID.
type ProviderView struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

// Providers finds the peers that provide a CID on the DHT.
func (a *contentAPI) Providers(ctx context.Context, c string) ([]ProviderView, error) {
	if a.n.net == nil {
		return nil, ErrOffline
	}
	id, err := parseCID(c)
	if err != nil {
		return nil, err
	}
	provs, err := a.n.net.p2p.FindProviders(ctx, id, 100)
	if err != nil {
		return nil, err
	}
	out := []ProviderView{}
	for _, p := range provs {
		v := ProviderView{ID: p.ID.String(), Addrs: []string{}}
		for _, ma := range p.Addrs {
			v.Addrs = append(v.Addrs, ma.String())
		}
		out = append(out, v)
	}
	return out, nil
}

// Fetch makes a content path local: the object and every shard, from peers,
// verified. What is already stored is not fetched again.
func (a *contentAPI) Fetch(ctx context.Context, path string) (*FetchResult, error) {
	res, err := a.n.fetch(ctx, path, nil)
	return res, err
}

// FetchEvent is a notification of the content fetchProgress subscription:
// progress, then one final event with Result or Error.
type FetchEvent struct {
	Done   int64        `json:"done"`
	Total  int64        `json:"total"`
	Result *FetchResult `json:"result,omitempty"`
	Error  *EventErr    `json:"error,omitempty"`
}

// FetchProgress is content_fetch with progress: subscribe with
// content_subscribe("fetchProgress", path). Unsubscribing stops the fetch;
// what was fetched is kept, so a new fetch resumes.
func (a *contentAPI) FetchProgress(ctx context.Context, path string) (*rpc.Subscription, error) {
	return a.n.subscribeWork(ctx, func(ctx context.Context, notify func(any)) {
		var last time.Time
		res, err := a.n.fetch(ctx, path, func(done, total int64) {
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || done == total {
				last = now
				notify(FetchEvent{Done: done, Total: total})
			}
		})
		final := FetchEvent{Result: res}
		if err != nil {
			final.Result, final.Error = nil, eventErr(err)
		} else {
			final.Done, final.Total = res.Bytes, res.Bytes
		}
		notify(final)
	})
}

// Pin pins an object or shard and everything it links to.
func (a *contentAPI) Pin(ctx context.Context, c string) error {
	id, err := parseCID(c)
	if err != nil {
		return err
	}
	return a.n.store.Pin(ctx, id)
}

// Unpin removes a pin; repo_gc then frees what nothing else pins.
func (a *contentAPI) Unpin(ctx context.Context, c string) error {
	id, err := parseCID(c)
	if err != nil {
		return err
	}
	return a.n.store.Unpin(ctx, id)
}

// Pins lists a page of the pinned CIDs, in CID byte order; page.After is
// the previous page's last CID.
func (a *contentAPI) Pins(ctx context.Context, page *PageArgs) ([]string, error) {
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	pins, err := a.n.store.PinsPage(ctx, after, datanet.PageLimit(limit))
	if err != nil {
		return nil, err
	}
	return cidStrings(pins), nil
}

func cidStrings(cs []cid.Cid) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// repoAPI is the repo_* namespace: maintenance of the node's store.
type repoAPI struct {
	n *Node
}

// StatResult is the answer of repo_stat.
type StatResult struct {
	Shards      int   `json:"shards"`
	ShardBytes  int64 `json:"shard_bytes"`
	Objects     int   `json:"objects"`
	ObjectBytes int64 `json:"object_bytes"`
	Pins        int   `json:"pins"`
	QuotaBytes  int64 `json:"quota_bytes"`
	LSMBytes    int64 `json:"lsm_bytes"`
	VLogBytes   int64 `json:"vlog_bytes"`
}

// Stat returns store statistics.
func (a *repoAPI) Stat(ctx context.Context) (*StatResult, error) {
	st, err := a.n.store.Stat(ctx)
	if err != nil {
		return nil, err
	}
	return &StatResult{
		Shards: st.Shards, ShardBytes: st.ShardBytes, Objects: st.Objects, ObjectBytes: st.ObjectBytes,
		Pins: st.Pins, QuotaBytes: st.QuotaBytes, LSMBytes: st.LSMBytes, VLogBytes: st.VLogBytes,
	}, nil
}

// GCResult is the answer of repo_gc.
type GCResult struct {
	ShardsRemoved  int   `json:"shards_removed"`
	ObjectsRemoved int   `json:"objects_removed"`
	BytesFreed     int64 `json:"bytes_freed"`
}

// Gc removes what no pin reaches and compacts the value log (repo_gc).
func (a *repoAPI) Gc(ctx context.Context) (*GCResult, error) {
	res, err := a.n.store.GC(ctx)
	if err != nil {
		return nil, err
	}
	a.n.log.Info("repo gc", "shards", res.ShardsRemoved, "objects", res.ObjectsRemoved, "bytes", res.BytesFreed)
	return &GCResult{ShardsRemoved: res.ShardsRemoved, ObjectsRemoved: res.ObjectsRemoved, BytesFreed: res.BytesFreed}, nil
}

// errBadRequest marks an argument the API cannot use.
var errBadRequest = errors.New("bad request")
