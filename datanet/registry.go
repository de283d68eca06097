package datanet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

var (
	// ErrUnknownDatanet is returned for a Datanet ID this node does not hold.
	ErrUnknownDatanet = errors.New("datanet: unknown datanet")
	// ErrNoSuchPath is returned when a path does not name a file or directory of a contribution.
	ErrNoSuchPath = errors.New("datanet: no such path")
	// ErrBadInput is returned for files that cannot be added (missing,
	// unreadable, special); it is storage.ErrBadInput, which reads them.
	ErrBadInput = storage.ErrBadInput
)

// Registry is the node's view of Datanets and their contributions: signed
// objects kept in the content store. It does no I/O beyond the store and the
// files it is asked to add.
type Registry struct {
	store    *storage.Store
	rules    Rules
	now      func() time.Time
	onStored func(Stored)

	// indexMu is held for reading by every index write of a stored object
	// and every read of lists and counts, and for writing by a rebuild.
	indexMu sync.RWMutex
	// setMu serialises the index writes of one Datanet (a stripe per
	// hash of its ID): they all update its counts, and Badger would make
	// writers racing for them retry their whole transaction.
	setMu    [64]sync.Mutex
	mu       sync.Mutex
	heads    map[cid.Cid]DatanetVersion // Head's cache, dropped when a version is stored
	floors   map[cid.Cid]pendingFloor   // see pendingFloor
	headsGen uint64                     // counts drops, so a Head racing a drop doesn't cache
	updateMu sync.Mutex                 // serialises UpdateDatanet
	// verified holds the CIDs of objects whose signature and field rules
	// Check verified lately: what depends on the bytes alone is not
	// verified again when the same bytes come back (Check, then Put, as
	// gossip and sync do), and a CID names the bytes.
	verified *lru.Cache[cid.Cid, struct{}]
	// decoded holds small objects verified lately, decoded: a sync
	// decodes what it receives to verify it (Preverify), to check it
	// (Check) and to store it (PutMany), and the last two take it from
	// here. Objects are not changed once decoded, so they are shared.
	decoded *lru.Cache[cid.Cid, Object]
	// contribHeads holds the Datanet and time of contributions whose
	// index record a vote's check read lately (contributionHead): a sync
	// checks each vote twice (Check, then PutMany), and a vote that
	// waited for its contribution is checked once it is stored.
	contribHeads *lru.Cache[cid.Cid, contributionFields]
	// signerKeys holds signers' public keys, for signatures checked
	// together (verifyObjects).
	signerKeys signerKeys
	// sums holds the bucket sums of the sync sets in use (syncsums.go).
	sums syncSums
}

// verifiedCacheSize bounds Registry.verified (about 100 bytes an entry).
const verifiedCacheSize = 1 << 14

// decodedCacheSize bounds Registry.decoded, which keeps only objects of
// at most decodedMaxBytes (a vote, a contribution of a few files): a few
// MiB, about the objects of two sessions' groups.
const (
	decodedCacheSize = 1 << 12
	decodedMaxBytes  = 2 << 10
)

// contribHeadsSize bounds Registry.contribHeads (about 150 bytes an
// entry): a few sessions' batches of votes.
const contribHeadsSize = 1 << 14

// Rules are the curation rules the registry admits votes and snapshots by.
// Their home is package curation (curation.Rules), which imports this one,
// so the daemon passes them in through Config; the tally runs the same code.
type Rules interface {
	// AdmitVote checks that v could count under the Datanet version d for
	// a contribution created at created (Unix seconds): its signer is a
	// curator of d and it is dated inside the contribution's voting
	// window. It fails with an error wrapping ErrNotCurator or
	// ErrOutsideWindow.
	AdmitVote(d *Datanet, created int64, v *Vote) error
	// VerifyEntry checks that the evidence of entry e of snapshot s
	// accepts its contribution k under the Datanet version policy at the
	// cut, and that k is of s's Datanet, has e's root and is admitted by
	// policy. Signatures are the caller's to check. It fails with an error
	// wrapping ErrBadSnapshot.
	VerifyEntry(policy *Datanet, s *Snapshot, k *Contribution, e *SnapshotEntry) error
	// Tally decides contribution (created at created, Unix seconds) under
	// the Datanet version d from votes as of now: its status, the counted
	// weights and the counted votes. Votes may be repeated, superseded or
	// not count; the tally sorts them out.
	Tally(d *Datanet, contribution cid.Cid, created int64, votes []*Vote, now time.Time) (TallyState, error)
}

// Config is what a Registry is built with.
type Config struct {
	// Rules decide which votes and snapshots are admitted; required
	// (curation.Rules{}).
	Rules Rules
	// Now is the clock votes dated in the future are judged by (see
	// MaxClockSkew); nil means time.Now.
	Now func() time.Time
	// Stored, if set, is told of every object the registry stores, made
	// here or received, before the storing call returns: the one place a
	// node reacts to a new object (anchor, gossip, provide, index), so no
	// kind can miss a step. It runs in the storing goroutine and must not
	// block for long.
	Stored func(Stored)
}

// Stored is an object the registry has just stored.
type Stored struct {
	*Checked
	// Local is true for an object made on this node (CreateDatanet, Add,
	// RegisterModel, Submit, SubmitAttribution), false for one received
	// from the network or fetched (Put).
	Local bool
}

// NewRegistry returns a registry over store. It fails without Rules: a
// registry that admitted votes and snapshots unchecked would keep objects
// every other node refuses.
func NewRegistry(store *storage.Store, cfg Config) (*Registry, error) {
	if store == nil {
		return nil, errors.New("datanet: new registry: no store")
	}
	if cfg.Rules == nil {
		return nil, errors.New("datanet: new registry: no curation rules (Config.Rules)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	verified, err := lru.New[cid.Cid, struct{}](verifiedCacheSize)
	if err != nil {
		return nil, err
	}
	contribHeads, err := lru.New[cid.Cid, contributionFields](contribHeadsSize)
	if err != nil {
		return nil, err
	}
	decoded, err := lru.New[cid.Cid, Object](decodedCacheSize)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: store, rules: cfg.Rules, now: cfg.Now, onStored: cfg.Stored,
		heads: map[cid.Cid]DatanetVersion{}, floors: map[cid.Cid]pendingFloor{}, verified: verified,
		contribHeads: contribHeads, decoded: decoded}
	if err := r.buildIndex(context.Background()); err != nil {
		return nil, fmt.Errorf("datanet: build the index: %w", err)
	}
	return r, nil
}

// DatanetSpec is what a caller chooses when creating a Datanet.
type DatanetSpec struct {
	Name                string   `json:"name"`
	Description         string   `json:"description,omitempty"`
	License             string   `json:"license,omitempty"`
	Kinds               []string `json:"kinds,omitempty"`
	MaxContributionSize uint64   `json:"max_contribution_size,omitempty"`
	// Curators default to the owner alone, with weight 1.
	Curators []Curator `json:"curators,omitempty"`
	// Quorum defaults to a majority of the total curator weight.
	Quorum uint64 `json:"quorum,omitempty"`
	// ThresholdBps defaults to DefaultThresholdBps.
	ThresholdBps uint32 `json:"threshold_bps,omitempty"`
	// Window is in seconds; 0 means no deadline.
	Window uint64 `json:"window,omitempty"`
}

// DefaultThresholdBps is the approval threshold of a Datanet created
// without one: more than half of the cast weight.
const DefaultThresholdBps = 5001

// Policy fills in the policy defaults of spec for a Datanet owned by owner:
// the curators sorted by address (the owner alone if none), the quorum (a
// majority of the total weight) and the threshold (DefaultThresholdBps).
// It doesn't validate the result.
func (spec DatanetSpec) policy(owner common.Address) (curators []Curator, quorum uint64, bps uint32) {
	curators = slices.Clone(spec.Curators)
	if len(curators) == 0 {
		curators = []Curator{{Address: owner, Weight: 1}}
	}
	SortCurators(curators)
	quorum, bps = spec.Quorum, spec.ThresholdBps
	if quorum == 0 {
		var total uint64
		for _, c := range curators {
			total += c.Weight
		}
		quorum = total/2 + 1
	}
	if bps == 0 {
		bps = DefaultThresholdBps
	}
	return curators, quorum, bps
}

// SortCurators sorts cs by address, the order Datanet.Curators takes.
func SortCurators(cs []Curator) {
	slices.SortFunc(cs, func(a, b Curator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
}

// CreateDatanet signs, stores and pins a new Datanet owned by signer.
func (r *Registry) CreateDatanet(ctx context.Context, spec DatanetSpec, chainID uint64, signer Signer, now time.Time) (cid.Cid, *Datanet, error) {
	kinds := normalizeKinds(spec.Kinds)
	curators, quorum, bps := spec.policy(signer.Address())
	d := &Datanet{
		Curators:            curators,
		Quorum:              quorum,
		ThresholdBps:        bps,
		Window:              spec.Window,
		Name:                spec.Name,
		Description:         spec.Description,
		License:             spec.License,
		Owner:               signer.Address(),
		ChainID:             chainID,
		Kinds:               kinds,
		MaxContributionSize: spec.MaxContributionSize,
		Created:             now.Unix(),
	}
	if err := d.Validate(); err != nil {
		return cid.Undef, nil, err
	}
	if err := SignDatanet(d, signer); err != nil {
		return cid.Undef, nil, err
	}
	c, err := r.put(ctx, d, cid.Undef, true)
	if err != nil {
		return cid.Undef, nil, err
	}
	r.emit(&Checked{CID: c, Datanet: c, Object: d}, true)
	return c, d, nil
}

// emit tells Config.Stored of an object just stored.
func (r *Registry) emit(ch *Checked, local bool) {
	if r.onStored != nil {
		r.onStored(Stored{Checked: ch, Local: local})
	}
}

// put stores a verified object of the set of the Datanet set, with its
// index entries, and optionally pins it. After a new version of a Datanet
// it decides the Datanet's contributions again if the policy changed.
func (r *Registry) put(ctx context.Context, obj Object, set cid.Cid, pin bool) (cid.Cid, error) {
	data, err := obj.Encode()
	if err != nil {
		return cid.Undef, err
	}
	c := storage.ObjectCID(cid.DagCBOR, data)
	if err := r.putIndexed(ctx, c, obj, set, func(fn func(*storage.IndexTxn) error) error {
		return r.store.PutObjectIndexed(ctx, objectPut(c, data, obj, set, pin), fn)
	}); err != nil {
		return cid.Undef, fmt.Errorf("store %s %s: %w", obj.Kind(), c, err)
	}
	return c, nil
}

// putIndexed runs write, which stores object c in one transaction with the
// index writes it is given, then does what a new Datanet version needs.
func (r *Registry) putIndexed(ctx context.Context, c cid.Cid, obj Object, set cid.Cid, write func(func(*storage.IndexTxn) error) error) error {
	err := func() error {
		r.indexMu.RLock()
		defer r.indexMu.RUnlock()
		fn, err := r.indexer(ctx, c, obj, set)
		if err != nil {
			return err
		}
		unlock := r.lockSet(set, c)
		defer unlock()
		return write(fn)
	}()
	if err != nil {
		return err
	}
	if d, ok := obj.(*Datanet); ok && d.Seq > 0 {
		r.forgetHeads()
		if set.Defined() {
			return r.rebuildIfStale(ctx, set)
		}
	}
	return nil
}

// lockSet takes the write stripe of the Datanet set (of c when set is
// undefined: a new Datanet's own) and returns its release.
func (r *Registry) lockSet(set, c cid.Cid) func() {
	mu := &r.setMu[r.stripe(set, c)]
	mu.Lock()
	return mu.Unlock
}

// stripe returns the index in setMu of the Datanet set (of c when set is
// undefined).
func (r *Registry) stripe(set, c cid.Cid) int {
	if !set.Defined() {
		set = c
	}
	b := set.Bytes()
	return int(b[len(b)-1]) % len(r.setMu)
}

// Object loads and decodes any stored signed object.
func (r *Registry) Object(ctx context.Context, c cid.Cid) (Object, error) {
	data, err := r.store.GetObject(ctx, c)
	if err != nil {
		return nil, err
	}
	obj, err := decodeStored(data)
	if err != nil {
		return nil, fmt.Errorf("decode object %s: %w", c, err)
	}
	return obj, nil
}

// Datanet returns the current version (see Head) of the Datanet with the
// given ID.
func (r *Registry) Datanet(ctx context.Context, id cid.Cid) (*Datanet, error) {
	h, err := r.Head(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.Datanet, nil
}

// DatanetEntry is a Datanet with its ID.
type DatanetEntry struct {
	ID      cid.Cid
	Datanet *Datanet
}

// ContributionEntry is a Contribution with its CID.
type ContributionEntry struct {
	CID          cid.Cid
	Contribution *Contribution
}

// Datanets lists every Datanet held by this node, oldest first, each at
// its current version (DatanetsPage a page at a time).
func (r *Registry) Datanets(ctx context.Context) ([]DatanetEntry, error) {
	var out []DatanetEntry
	after := cid.Undef
	for {
		page, err := r.DatanetsPage(ctx, after, MaxPage)
		if err != nil || len(page) == 0 {
			return out, err
		}
		out = append(out, page...)
		after = page[len(page)-1].ID
	}
}

// Contributions lists the contributions to a Datanet held by this node,
// oldest first.
func (r *Registry) Contributions(ctx context.Context, datanetID cid.Cid) ([]ContributionEntry, error) {
	var out []ContributionEntry
	cs, err := r.contributionsOf(ctx, datanetID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		err := r.decodeMember(ctx, c, KindContribution, func(c cid.Cid, obj Object) error {
			if k := obj.(*Contribution); k.Datanet.Equals(datanetID) {
				out = append(out, ContributionEntry{CID: c, Contribution: k})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b ContributionEntry) int {
		if a.Contribution.Created != b.Contribution.Created {
			return int(a.Contribution.Created - b.Contribution.Created)
		}
		return strings.Compare(a.CID.KeyString(), b.CID.KeyString())
	})
	return out, err
}

// AddOptions configures Add.
type AddOptions struct {
	Datanet   cid.Cid
	ChunkSize int
	License   string // defaults to the Datanet's license
	Metadata  map[string]string
	// Progress, when set, is called with the bytes stored so far and the total.
	Progress func(done, total int64)
	// CheckFile, when set, is called with every file found under the
	// paths before a byte is written; an error refuses the add.
	CheckFile func(storage.InputFile) error
}

// Add chunks and stores the files and directories at paths, and signs,
// stores and pins a Contribution listing them. Every input is checked before
// the first byte is written; the store then holds the whole contribution or,
// after any error or a crash, nothing of it.
func (r *Registry) Add(ctx context.Context, paths []string, opts AddOptions, signer Signer, now time.Time) (cid.Cid, *Contribution, error) {
	d, err := r.Datanet(ctx, opts.Datanet)
	if err != nil {
		return cid.Undef, nil, err
	}
	if err := storage.CheckChunkSize(opts.ChunkSize); err != nil {
		return cid.Undef, nil, err
	}
	files, total, err := storage.ScanFiles(paths)
	if err != nil {
		return cid.Undef, nil, err
	}
	if err := checkInputs(files, opts.CheckFile); err != nil {
		return cid.Undef, nil, err
	}
	// The Datanet's rules are checked on a draft before a byte is written.
	draft := &Contribution{ChainID: d.ChainID, Size: uint64(total), Files: filesOf(files, nil)}
	if err := d.Admits(draft); err != nil {
		return cid.Undef, nil, err
	}
	sess, err := r.store.NewSession(ctx, total)
	if err != nil {
		return cid.Undef, nil, err
	}
	defer sess.Abort() // no-op after Commit

	var done int64
	progress := func(n int64) {
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	contribution := &Contribution{
		Datanet:     opts.Datanet,
		Contributor: signer.Address(),
		Size:        uint64(total),
		ChunkSize:   uint64(opts.ChunkSize),
		License:     opts.License,
		Metadata:    opts.Metadata,
		Created:     now.Unix(),
	}
	if contribution.License == "" {
		contribution.License = d.License
	}
	shards, err := sess.AddFiles(ctx, files, opts.ChunkSize, progress)
	if err != nil {
		return cid.Undef, nil, err
	}
	contribution.Files = filesOf(files, shards)
	tree, err := contribution.Tree()
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("merkle tree of the shards: %w", err)
	}
	contribution.Root = tree.Root()
	if err := contribution.Validate(); err != nil {
		return cid.Undef, nil, err
	}
	if err := SignContribution(contribution, d.ChainID, signer); err != nil {
		return cid.Undef, nil, err
	}
	data, err := contribution.Encode()
	if err != nil {
		return cid.Undef, nil, err
	}
	c := storage.ObjectCID(cid.DagCBOR, data)
	err = r.putIndexed(ctx, c, contribution, opts.Datanet, func(fn func(*storage.IndexTxn) error) error {
		return sess.CommitIndexed(ctx, objectPut(c, data, contribution, opts.Datanet, true), fn)
	})
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("commit contribution: %w", err)
	}
	r.emit(&Checked{CID: c, Datanet: opts.Datanet, Object: contribution}, true)
	return c, contribution, nil
}

// checkInputs calls check (if set) with each file.
func checkInputs(files []storage.InputFile, check func(storage.InputFile) error) error {
	if check == nil {
		return nil
	}
	for _, f := range files {
		if err := check(f); err != nil {
			return err
		}
	}
	return nil
}

// filesOf lists added files as a contribution or a model records them,
// with the shards of each (none if shards is nil).
func filesOf(files []storage.InputFile, shards [][]storage.ShardRef) []File {
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = File{Path: f.Name, Size: uint64(f.Size)}
		if shards != nil {
			out[i].Shards = make([]cid.Cid, len(shards[i]))
			for j, ref := range shards[i] {
				out[i].Shards[j] = ref.CID
			}
		}
	}
	return out
}
