package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
)

// Update signs and publishes the next version of a Datanet (owner only):
// description, kinds, limits, curators and the voting policy.
func (a *datanetAPI) Update(ctx context.Context, id string, u datanet.DatanetUpdate) (*DatanetView, error) {
	c, err := parseCID(id)
	if err != nil {
		return nil, err
	}
	signer, err := a.n.Signer()
	if err != nil {
		return nil, err
	}
	v, err := a.n.registry.UpdateDatanet(ctx, c, u, signer, a.n.opts.Now())
	if err != nil {
		return nil, err
	}
	a.n.log.Info("datanet updated", "id", id, "version", v.Datanet.Seq, "cid", v.CID.String())
	return &DatanetView{ID: id, Datanet: v.Datanet}, nil
}

// curationAPI is the curation_* namespace.
type curationAPI struct {
	n *Node
}

// VoteArgs name a vote: the contribution, the decision and a reason.
type VoteArgs struct {
	Contribution string `json:"contribution"`
	Decision     string `json:"decision"` // "approve" or "reject"
	Reason       string `json:"reason,omitempty"`
	// Curator is the account that will sign (curation_typedData only);
	// the operator's by default.
	Curator string `json:"curator,omitempty"`
}

// VoteResult is a vote the node took, with the contribution's tally after it.
type VoteResult struct {
	CID   string        `json:"cid"`
	Vote  *datanet.Vote `json:"vote"`
	Tally *TallyView    `json:"tally"`
}

// TallyView is the verdict on a contribution and the votes behind it.
// Weights (approve, reject, cast, quorum, total_weight) are sums of
// curator weights, any uint64: decimal strings in JSON, as the Datanet's
// are.
type TallyView struct {
	Contribution string             `json:"contribution"`
	Datanet      string             `json:"datanet"`
	Status       curation.Status    `json:"status"`
	Approve      uint64             `json:"approve,string"`
	Reject       uint64             `json:"reject,string"`
	Cast         uint64             `json:"cast,string"`
	Quorum       uint64             `json:"quorum,string"`
	ThresholdBps uint32             `json:"threshold_bps"`
	TotalWeight  uint64             `json:"total_weight,string"`
	Created      time.Time          `json:"created"`
	WindowEnds   *time.Time         `json:"window_ends,omitempty"`
	Counted      []*datanet.Vote    `json:"counted"`
	Ignored      []curation.Ignored `json:"ignored"`
}

// draftVote builds the unsigned vote of args by curator, with the next seq.
func (a *curationAPI) draftVote(ctx context.Context, args VoteArgs, curator common.Address) (*datanet.Vote, *datanet.Datanet, error) {
	c, err := parseCID(args.Contribution)
	if err != nil {
		return nil, nil, err
	}
	k, err := a.n.registry.Contribution(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	d, err := a.n.registry.Datanet(ctx, k.Datanet)
	if err != nil {
		return nil, nil, err
	}
	dec := datanet.Decision(strings.ToLower(args.Decision))
	if dec != datanet.Approve && dec != datanet.Reject {
		return nil, nil, fmt.Errorf("%w: decision %q, want approve or reject", errBadRequest, args.Decision)
	}
	if d.CuratorWeight(curator) == 0 {
		return nil, nil, fmt.Errorf("%w: %s does not curate datanet %s", datanet.ErrNotCurator, curator, k.Datanet)
	}
	seq, err := a.n.registry.NextVoteSeq(ctx, c, curator)
	if err != nil {
		return nil, nil, err
	}
	v := &datanet.Vote{
		Datanet: k.Datanet, Contribution: c, Curator: curator, Decision: dec,
		Reason: args.Reason, Seq: seq, ChainID: d.ChainID, Created: a.n.opts.Now().Unix(),
	}
	if err := v.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return v, d, nil
}

// Vote signs a vote with the operator's account, stores it and gossips it.
func (a *curationAPI) Vote(ctx context.Context, args VoteArgs) (*VoteResult, error) {
	signer, err := a.n.Signer()
	if err != nil {
		return nil, err
	}
	v, d, err := a.draftVote(ctx, args, signer.Address())
	if err != nil {
		return nil, err
	}
	if err := datanet.SignVote(v, d.ChainID, signer); err != nil {
		return nil, err
	}
	return a.submit(ctx, v)
}

// TypedData returns the EIP-712 document of a vote, exactly what
// eth_signTypedData_v4 takes, for a curator to sign in a wallet and send
// back with curation_submitVote.
func (a *curationAPI) TypedData(ctx context.Context, args VoteArgs) (json.RawMessage, error) {
	curator := common.HexToAddress(a.n.repo.Config.Identity.Account)
	if args.Curator != "" {
		if !common.IsHexAddress(args.Curator) {
			return nil, fmt.Errorf("%w: curator %q is not an address", errBadRequest, args.Curator)
		}
		curator = common.HexToAddress(args.Curator)
	}
	v, _, err := a.draftVote(ctx, args, curator)
	if err != nil {
		return nil, err
	}
	doc, err := datanet.TypedDataJSON(v)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// SubmitArgs are a vote signed elsewhere: the typed data that was signed
// and the 65-byte signature (V 0/1 or 27/28).
type SubmitArgs struct {
	TypedData json.RawMessage `json:"typed_data"`
	Signature hexutil.Bytes   `json:"signature"`
}

// SubmitVote takes a vote signed outside the node (a wallet, a hardware
// key, `cast wallet sign --data`): the signer is recovered from the
// signature and must be the curator the typed data names.
func (a *curationAPI) SubmitVote(ctx context.Context, args SubmitArgs) (*VoteResult, error) {
	v, err := datanet.VoteFromTypedData(args.TypedData)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	sig, err := datanet.NormalizeSignature(args.Signature)
	if err != nil {
		return nil, err
	}
	v.Signature = sig
	if err := v.Verify(); err != nil {
		return nil, err
	}
	return a.submit(ctx, v)
}

// submit checks, stores and gossips a signed vote and tallies after it.
func (a *curationAPI) submit(ctx context.Context, v *datanet.Vote) (*VoteResult, error) {
	ch, err := a.n.registry.Submit(ctx, v)
	if err != nil {
		return nil, err
	}
	a.n.log.Info("vote", "contribution", v.Contribution.String(), "curator", v.Curator.Hex(),
		"decision", string(v.Decision), "seq", v.Seq)
	t, err := a.n.tally(ctx, v.Contribution)
	if err != nil {
		return nil, err
	}
	return &VoteResult{CID: ch.CID.String(), Vote: v, Tally: t}, nil
}

// tally runs the curation tally of one contribution now.
func (n *Node) tally(ctx context.Context, c cid.Cid) (*TallyView, error) {
	k, err := n.registry.Contribution(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := n.registry.Datanet(ctx, k.Datanet)
	if err != nil {
		return nil, err
	}
	votes, err := n.registry.Votes(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := curation.Tally(curation.PolicyOf(d), c, time.Unix(k.Created, 0), votes, n.opts.Now())
	if err != nil {
		return nil, err
	}
	return tallyView(d, k, r), nil
}

func tallyView(d *datanet.Datanet, k *datanet.Contribution, r curation.Result) *TallyView {
	t := &TallyView{
		Contribution: r.Contribution.String(), Datanet: k.Datanet.String(), Status: r.Status,
		Approve: r.Approve, Reject: r.Reject, Cast: r.Cast, Quorum: d.Quorum, ThresholdBps: d.ThresholdBps,
		Created: time.Unix(k.Created, 0).UTC(), Counted: r.Counted, Ignored: r.Ignored,
	}
	for _, c := range d.Curators {
		t.TotalWeight += c.Weight
	}
	if d.Window > 0 {
		end := time.Unix(k.Created+int64(d.Window), 0).UTC()
		t.WindowEnds = &end
	}
	if t.Counted == nil {
		t.Counted = []*datanet.Vote{}
	}
	if t.Ignored == nil {
		t.Ignored = []curation.Ignored{}
	}
	return t
}

// Show returns the status of a contribution and its votes.
func (a *curationAPI) Show(ctx context.Context, contribution string) (*TallyView, error) {
	c, err := parseCID(contribution)
	if err != nil {
		return nil, err
	}
	t, err := a.n.tally(ctx, c)
	return t, err
}

// PendingItem is a contribution awaiting a decision, with a preview.
type PendingItem struct {
	Tally       *TallyView    `json:"tally"`
	Contributor string        `json:"contributor"`
	Size        uint64        `json:"size"`
	Files       []FilePreview `json:"files"`
	// Repeats is the share of the contribution's bytes (by shard) already
	// in accepted contributions, 0 to 1.
	Repeats float64 `json:"repeats"`
}

// FilePreview is one file of a pending contribution.
type FilePreview struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Size uint64 `json:"size"`
	// Head holds the first lines of a text file held here.
	Head string `json:"head,omitempty"`
	// Local says whether the file's bytes are on this node.
	Local bool `json:"local"`
}

// Preview bounds: files shown per contribution, lines and bytes per file.
const (
	previewFiles = 8
	previewLines = 5
	previewBytes = 1024
)

// Pending lists a page of the contributions of a Datanet still awaiting a
// decision, oldest first, with a preview of each. It reads a page of the
// index and the objects of that page only.
func (a *curationAPI) Pending(ctx context.Context, id string, page *PageArgs) ([]PendingItem, error) {
	dn, err := parseCID(id)
	if err != nil {
		return nil, err
	}
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	refs, err := a.n.registry.ContributionsByStatus(ctx, dn, datanet.Pending, after, limit)
	if err != nil {
		return nil, err
	}
	head, err := a.n.registry.Datanet(ctx, dn)
	if err != nil {
		return nil, err
	}
	policy, now := curation.PolicyOf(head), a.n.opts.Now()
	out := make([]PendingItem, 0, len(refs))
	for _, ref := range refs {
		k, err := a.n.registry.Contribution(ctx, ref.CID)
		if err != nil {
			return nil, err
		}
		votes, err := a.n.registry.Votes(ctx, ref.CID)
		if err != nil {
			return nil, err
		}
		r, err := curation.Tally(policy, ref.CID, time.Unix(k.Created, 0), votes, now)
		if err != nil {
			return nil, err
		}
		item := PendingItem{
			Tally: tallyView(head, k, r), Contributor: k.Contributor.Hex(), Size: k.Size,
			Files: []FilePreview{},
		}
		for _, f := range k.Files[:min(len(k.Files), previewFiles)] {
			item.Files = append(item.Files, a.n.previewFile(ctx, k, f))
		}
		if item.Repeats, err = a.n.repeats(ctx, dn, ref.CID, k); err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}

// maxHoldersChecked bounds the holders of one shard repeats looks at: a
// shard in thousands of contributions (an empty file, a common licence
// text) is judged by the first ones.
const maxHoldersChecked = 64

// repeats is the share of k's bytes in shards that an accepted contribution
// of dn also holds (curation.Repeats), from the store's index of shard
// holders and the registry's index of statuses.
func (n *Node) repeats(ctx context.Context, dn, kc cid.Cid, k *datanet.Contribution) (float64, error) {
	errStop := errors.New("stop")
	var ferr error
	share := curation.Repeats(k, func(shard cid.Cid) bool {
		found, seen := false, 0
		err := n.store.ForEachBacklink(ctx, shard, func(holder cid.Cid) error {
			if seen++; seen > maxHoldersChecked {
				return errStop
			}
			if holder.Equals(kc) {
				return nil
			}
			ref, err := n.registry.ContributionRef(ctx, holder)
			if datanet.IsNotFound(err) {
				return nil // another kind of object, or collected
			}
			if err != nil {
				return err
			}
			if ref.Status == datanet.Accepted && ref.Datanet.Equals(dn) {
				found = true
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) && ferr == nil {
			ferr = err
		}
		return found
	})
	return share, ferr
}

// textKinds are the file kinds previewed as text.
var textKinds = map[string]bool{"txt": true, "md": true, "csv": true, "tsv": true, "json": true, "jsonl": true, "xml": true, "yaml": true, "yml": true, "html": true}

// previewFile reads the first lines of a text file if its first shard is
// held here.
func (n *Node) previewFile(ctx context.Context, k *datanet.Contribution, f datanet.File) FilePreview {
	p := FilePreview{Path: f.Path, Kind: f.Kind(), Size: f.Size}
	if len(f.Shards) == 0 {
		return p
	}
	has, err := n.store.HasShard(ctx, f.Shards[0])
	if err != nil || !has {
		return p
	}
	p.Local = true
	if !textKinds[p.Kind] {
		return p
	}
	r, err := n.store.NewFileReader(ctx, f.Shards, int(k.ChunkSize), int64(f.Size))
	if err != nil {
		return p
	}
	p.Head = headLines(io.LimitReader(r, previewBytes))
	return p
}

// headLines returns up to previewLines lines of r, valid UTF-8.
func headLines(r io.Reader) string {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, previewBytes), previewBytes)
	var lines []string
	for len(lines) < previewLines && sc.Scan() {
		lines = append(lines, strings.ToValidUTF8(sc.Text(), "\uFFFD"))
	}
	s := strings.Join(lines, "\n")
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s
}

// StatusResult counts a Datanet's contributions by status.
type StatusResult struct {
	Datanet       string         `json:"datanet"`
	Version       uint64         `json:"version"`
	Curators      int            `json:"curators"`
	Contributions int            `json:"contributions"`
	Counts        map[string]int `json:"counts"`
	Votes         int            `json:"votes"`
	Snapshots     int            `json:"snapshots"`
	// Latest is the CID of the newest snapshot held, if any.
	Latest string `json:"latest,omitempty"`
}

// Status counts a Datanet's contributions by status, its votes and its
// snapshots, from the index: its time does not grow with the Datanet.
func (a *curationAPI) Status(ctx context.Context, id string) (*StatusResult, error) {
	dn, err := parseCID(id)
	if err != nil {
		return nil, err
	}
	head, err := a.n.registry.Head(ctx, dn)
	if err != nil {
		return nil, err
	}
	c, err := a.n.registry.Counts(ctx, dn)
	if err != nil {
		return nil, err
	}
	out := &StatusResult{
		Datanet: id, Version: head.Datanet.Seq, Curators: len(head.Datanet.Curators),
		Contributions: int(c.Contributions()), Counts: map[string]int{}, Votes: int(c.Votes), Snapshots: int(c.Snapshots),
	}
	for _, s := range []datanet.Status{datanet.Pending, datanet.Accepted, datanet.Rejected, datanet.Expired} {
		out.Counts[s.String()] = int(c.ByStatus(s))
	}
	latest, err := a.n.registry.SnapshotsPage(ctx, dn, cid.Undef, 1, true)
	if err != nil {
		return nil, err
	}
	if len(latest) > 0 {
		out.Latest = latest[0].CID.String()
	}
	return out, nil
}

// snapshotAPI is the snapshot_* namespace.
type snapshotAPI struct {
	n *Node
}

// SnapshotView summarises a snapshot.
type SnapshotView struct {
	CID           string `json:"cid"`
	Datanet       string `json:"datanet"`
	Version       uint64 `json:"version"`
	Prev          string `json:"prev,omitempty"`
	Root          string `json:"root"`
	Contributions int    `json:"contributions"`
	Votes         int    `json:"votes"`
	// Entries is the CID of the root chunk of the snapshot's entry tree.
	Entries string `json:"entries"`
	// Size is the bytes of the contributions, given by a cut.
	Size uint64 `json:"size,omitempty"`
	// Reused and Written count the leaf chunks a cut took from the
	// previous snapshot and wrote anew.
	Reused  int       `json:"reused_chunks,omitempty"`
	Written int       `json:"written_chunks,omitempty"`
	Cutter  string    `json:"cutter"`
	Created time.Time `json:"created"`
}

func snapshotView(c cid.Cid, s *datanet.Snapshot) SnapshotView {
	v := SnapshotView{
		CID: c.String(), Datanet: s.Datanet.String(), Version: s.Version, Root: hexutil.Encode(s.Root[:]),
		Contributions: int(s.Count), Votes: int(s.Votes), Entries: s.Entries.String(), Cutter: s.Cutter.Hex(),
		Created: time.Unix(s.Created, 0).UTC(),
	}
	if s.Prev.Defined() {
		v.Prev = s.Prev.String()
	}
	return v
}

// Cut signs a snapshot of the contributions of a Datanet accepted now, with
// their votes as evidence, stores it, gossips it and provides it.
func (a *snapshotAPI) Cut(ctx context.Context, id string) (*SnapshotView, error) {
	dn, err := parseCID(id)
	if err != nil {
		return nil, err
	}
	signer, err := a.n.Signer()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	s, sc, stats, err := a.n.registry.CutSnapshot(ctx, dn, signer, a.n.opts.Now())
	if err != nil {
		return nil, err
	}
	a.n.log.Info("snapshot cut", "datanet", id, "version", s.Version, "cid", sc.String(),
		"contributions", s.Count, "reused_chunks", stats.Reused, "written_chunks", stats.Written,
		"took", time.Since(start).Round(time.Millisecond))
	v := snapshotView(sc, s)
	v.Size, v.Reused, v.Written = stats.Size, stats.Reused, stats.Written
	return &v, nil
}

// List returns a page of the snapshots of a Datanet held here, oldest
// version first.
func (a *snapshotAPI) List(ctx context.Context, id string, page *PageArgs) ([]SnapshotView, error) {
	dn, err := parseCID(id)
	if err != nil {
		return nil, err
	}
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	if _, err := a.n.registry.Head(ctx, dn); err != nil {
		return nil, err
	}
	refs, err := a.n.registry.SnapshotsPage(ctx, dn, after, limit, false)
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotView, 0, len(refs))
	for _, r := range refs {
		out = append(out, snapshotView(r.CID, r.Snapshot))
	}
	return out, nil
}

// Get returns a snapshot object, fetching it if it is not held. Its
// entries are read a page at a time with Entries.
func (a *snapshotAPI) Get(ctx context.Context, c string) (*datanet.Snapshot, error) {
	sc, err := parseCID(c)
	if err != nil {
		return nil, err
	}
	if err := a.n.ensureObject(ctx, sc); err != nil {
		return nil, err
	}
	return a.n.registry.Snapshot(ctx, sc)
}

// EntriesPage is a page of a snapshot's entries.
type EntriesPage struct {
	Snapshot string                  `json:"snapshot"`
	Entries  []datanet.SnapshotEntry `json:"entries"`
	// Next, when entries go on past this page, is the After of the next
	// page: the ordinal of its first entry.
	Next string `json:"next,omitempty"`
}

// Entries returns a page of a snapshot's entries, in the order of its
// entry tree: each contribution with its root and the votes that accepted
// it. page.After is the previous page's Next (an ordinal): the tree's
// counts lead to it without reading what lies before.
func (a *snapshotAPI) Entries(ctx context.Context, c string, page *PageArgs) (*EntriesPage, error) {
	sc, err := parseCID(c)
	if err != nil {
		return nil, err
	}
	var from uint64
	limit := datanet.PageLimit(0)
	if page != nil {
		if page.Limit < 0 {
			return nil, fmt.Errorf("%w: limit %d", errBadRequest, page.Limit)
		}
		limit = datanet.PageLimit(page.Limit)
		if page.After != "" {
			if from, err = strconv.ParseUint(page.After, 10, 64); err != nil {
				return nil, fmt.Errorf("%w: cursor %q is not an ordinal (a page's next)", errBadRequest, page.After)
			}
		}
	}
	if err := a.n.ensureObject(ctx, sc); err != nil {
		return nil, err
	}
	s, err := a.n.registry.Snapshot(ctx, sc)
	if err != nil {
		return nil, err
	}
	out := &EntriesPage{Snapshot: c, Entries: []datanet.SnapshotEntry{}}
	errFull := errors.New("page full")
	votes := 0
	err = a.n.registry.SnapshotEntriesFrom(ctx, s, from, func(o uint64, e *datanet.SnapshotEntry) error {
		if len(out.Entries) == limit || votes >= pageVotes {
			out.Next = strconv.FormatUint(o, 10)
			return errFull
		}
		votes += len(e.Votes)
		out.Entries = append(out.Entries, *e)
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, err
	}
	return out, nil
}

// SnapshotVerdict is the answer of snapshot_verify.
type SnapshotVerdict struct {
	SnapshotView
	OK       bool   `json:"ok"`
	Policy   string `json:"policy"`
	Checked  string `json:"checked"`
	Problems string `json:"problem,omitempty"`
}

// Verify rechecks a snapshot from itself, its policy version and its
// contributions: every signature, every contribution's votes against the
// policy, and the Merkle root. It fetches what is not held here. A snapshot
// that fails is reported with OK false and the reason.
func (a *snapshotAPI) Verify(ctx context.Context, c string) (*SnapshotVerdict, error) {
	sc, err := parseCID(c)
	if err != nil {
		return nil, err
	}
	data, err := a.n.registry.Get(ctx, sc)
	if datanet.IsNotFound(err) && a.n.net != nil {
		// Fetch it (and what it links) through the same checks as gossip:
		// a snapshot that fails them is not stored.
		err = a.n.fetchObject(ctx, sc)
		if err == nil {
			data, err = a.n.registry.Get(ctx, sc)
		}
	}
	if err != nil {
		return nil, err
	}
	s, err := datanet.DecodeSnapshot(data)
	if err != nil {
		return nil, err
	}
	out := &SnapshotVerdict{SnapshotView: snapshotView(sc, s), Policy: s.Policy.String()}
	start := time.Now()
	rep, err := a.n.registry.VerifySnapshot(ctx, s)
	for round := 0; datanet.CannotJudgeYet(err) && a.n.net != nil && round < maxFetchDepth; round++ {
		// Fetch what it needs (chunks, contributions), then again.
		if ferr := a.n.fetchMissing(ctx, sc, datanet.MissingCIDs(err)); ferr != nil {
			return nil, fmt.Errorf("%w; fetching: %w", err, ferr)
		}
		rep, err = a.n.registry.VerifySnapshot(ctx, s)
	}
	out.Checked = fmt.Sprintf("cutter and %d vote signatures, %d chunks, %d contributions against policy %s, Merkle root (%s)",
		rep.Signatures, rep.Leaves, rep.Entries, s.Policy, time.Since(start).Round(time.Millisecond))
	switch {
	case datanet.CannotJudgeYet(err):
		return nil, err
	case err != nil:
		out.Problems = err.Error()
	default:
		out.OK = true
	}
	return out, nil
}

// ensureObject fetches object c from the network if it is not held.
func (n *Node) ensureObject(ctx context.Context, c cid.Cid) error {
	has, err := n.registry.Has(ctx, c)
	if err != nil || has {
		return err
	}
	if n.net == nil {
		return fmt.Errorf("%w: %s is not stored here", ErrOffline, c)
	}
	return n.fetchObject(ctx, c)
}
