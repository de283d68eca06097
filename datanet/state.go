package datanet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// Errors of the per-Datanet state. Check wraps them; test with errors.Is.
var (
	// ErrMissingObject means an object depends on one this node does not
	// hold (a contribution a vote is about, a previous version): it
	// cannot be judged yet.
	ErrMissingObject = errors.New("datanet: depends on an object not held here")
	// ErrBadUpdate means a Datanet update does not follow its previous
	// version: another owner or chain, a seq that is not one more.
	ErrBadUpdate = errors.New("datanet: bad datanet update")
	// ErrNotCurator means a vote's signer is not a curator of the Datanet's
	// current version.
	ErrNotCurator = errors.New("datanet: not a curator")
	// ErrOutsideWindow means a vote was created before its contribution or
	// after the contribution's voting window.
	ErrOutsideWindow = errors.New("datanet: vote outside the voting window")
	// ErrStaleVote means the curator already has a vote on the
	// contribution with this seq or a higher one.
	ErrStaleVote = errors.New("datanet: stale vote")
	// ErrFutureVote means a vote is dated later than now plus MaxClockSkew.
	ErrFutureVote = errors.New("datanet: vote from the future")
	// ErrBadSnapshotLink means a snapshot names a policy version or a
	// previous snapshot that is not of its Datanet, or a wrong version.
	ErrBadSnapshotLink = errors.New("datanet: snapshot does not follow its datanet")
	// ErrBadSnapshot means a snapshot's entries or evidence do not prove
	// it: a chunk that does not hold what its parent says, a duplicate
	// entry, a root or count that is not the entries', an entry its
	// evidence does not accept.
	ErrBadSnapshot = errors.New("datanet: snapshot not proven by its entries")
)

// MaxClockSkew is how far in the future a vote may be dated and still be
// taken: clocks of honest nodes differ by less.
const MaxClockSkew = 5 * time.Minute

// CannotJudgeYet reports whether err from Check means "cannot judge yet"
// (an object it depends on is missing, or a vote is dated ahead of this
// node's clock) or "no longer useful" (a stale vote), rather than "provably
// bad": the network layer ignores such an object instead of penalising its
// sender. A peer may rightly relay an old vote a moment after a newer one.
func CannotJudgeYet(err error) bool {
	if errors.Is(err, ErrWrongKind) {
		return false // a link to a held object of the wrong kind is provably bad
	}
	return errors.Is(err, ErrUnknownDatanet) || errors.Is(err, ErrMissingObject) ||
		errors.Is(err, ErrStaleVote) || errors.Is(err, ErrFutureVote)
}

// staleKey marks a context in which Check takes stale votes.
type staleKey struct{}

// AcceptingStale returns a context in which Check takes a vote that is older
// than one held (ErrStaleVote otherwise): sync uses it, since a set holding
// every valid vote converges, while gossip and local submissions need not
// spread superseded votes. The tally ignores them either way.
func AcceptingStale(ctx context.Context) context.Context {
	return context.WithValue(ctx, staleKey{}, true)
}

// DatanetVersion is one version of a Datanet with its CID.
type DatanetVersion struct {
	CID     cid.Cid
	Datanet *Datanet
}

// SnapshotRef is a stored snapshot with its CID.
type SnapshotRef struct {
	CID      cid.Cid
	Snapshot *Snapshot
}

// Head returns the current version of the Datanet with ID id: following
// the updates from the first version, at each step the version with seq
// one more whose prev is the current one, the lowest CID if the owner
// signed two. Every node holding the same updates finds the same head.
func (r *Registry) Head(ctx context.Context, id cid.Cid) (DatanetVersion, error) {
	r.mu.Lock()
	h, ok := r.heads[id]
	gen := r.headsGen
	r.mu.Unlock()
	if ok {
		return h, nil
	}
	first, err := r.datanetObject(ctx, id)
	if err != nil {
		return DatanetVersion{}, err
	}
	if first.Seq != 0 {
		return DatanetVersion{}, fmt.Errorf("%w: %s is version %d of a datanet, not its ID", ErrUnknownDatanet, id, first.Seq)
	}
	h = DatanetVersion{CID: id, Datanet: first}
	for {
		next, err := r.nextVersions(ctx, h)
		if err != nil {
			return DatanetVersion{}, err
		}
		if len(next) == 0 {
			break
		}
		h = next[0]
	}
	r.mu.Lock()
	if r.headsGen == gen { // no version was stored meanwhile
		r.heads[id] = h
	}
	r.mu.Unlock()
	return h, nil
}

// Versions returns every version of the Datanet held here, first version
// first, forks included.
func (r *Registry) Versions(ctx context.Context, id cid.Cid) ([]DatanetVersion, error) {
	first, err := r.datanetObject(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []DatanetVersion{{CID: id, Datanet: first}}
	for i := 0; i < len(out); i++ {
		next, err := r.nextVersions(ctx, out[i])
		if err != nil {
			return nil, err
		}
		out = append(out, next...)
	}
	return out, nil
}

// nextVersions returns the stored updates of v (seq one more, prev v, same
// owner and chain), lowest CID first, from the index of versions by prev.
func (r *Registry) nextVersions(ctx context.Context, v DatanetVersion) ([]DatanetVersion, error) {
	var ids []cid.Cid
	prefix := ixKey(ixUpdates, v.CID.Bytes())
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan(prefix, nil, false, func(key, _ []byte) (bool, error) {
			c, err := cid.Cast(key[len(prefix):])
			if err != nil {
				return false, fmt.Errorf("%w: version index entry: %w", storage.ErrCorrupt, err)
			}
			ids = append(ids, c)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	var out []DatanetVersion
	for _, c := range ids { // in CID byte order
		d, err := r.datanetObject(ctx, c)
		if missing(err) {
			continue // collected
		}
		if err != nil {
			return nil, err
		}
		if d.Prev.Equals(v.CID) && followsVersion(d, v.Datanet) == nil {
			out = append(out, DatanetVersion{CID: c, Datanet: d})
		}
	}
	return out, nil
}

// followsVersion checks that d may follow prev.
func followsVersion(d, prev *Datanet) error {
	switch {
	case d.Seq != prev.Seq+1:
		return fmt.Errorf("%w: seq %d after version %d", ErrBadUpdate, d.Seq, prev.Seq)
	case d.Owner != prev.Owner:
		return fmt.Errorf("%w: signed by %s, the datanet's owner is %s", ErrBadUpdate, d.Owner, prev.Owner)
	case d.ChainID != prev.ChainID:
		return fmt.Errorf("%w: chain ID %d, the datanet's is %d", ErrBadUpdate, d.ChainID, prev.ChainID)
	case d.Created < prev.Created:
		return fmt.Errorf("%w: created %d, before its previous version (%d)", ErrBadUpdate, d.Created, prev.Created)
	}
	return nil
}

// members calls fn, in CID byte order, for each stored object of kind kind
// ("" for any) that links to target and is listed by backlink (not the
// objects of a Datanet's set by their link to it: see unlisted and
// setMembers). It decodes only objects of that kind.
func (r *Registry) members(ctx context.Context, target cid.Cid, kind string, fn func(cid.Cid, Object) error) error {
	return r.store.ForEachBacklink(ctx, target, func(c cid.Cid) error {
		return r.decodeMember(ctx, c, kind, fn)
	})
}

// setMembers calls fn, in sync key order, for each stored object of kind
// kind ("" for any) in the sync set of the Datanet dn: its versions and
// the contributions, votes, snapshots and model records of it held here.
func (r *Registry) setMembers(ctx context.Context, dn cid.Cid, kind string, fn func(cid.Cid, Object) error) error {
	return r.SyncKeys(ctx, dn, [32]byte{}, 0, func(_ [32]byte, c cid.Cid) (bool, error) {
		return true, r.decodeMember(ctx, c, kind, fn)
	})
}

// decodeMember calls fn with object c decoded, unless it is not of kind
// kind ("" for any) or not held any more.
func (r *Registry) decodeMember(ctx context.Context, c cid.Cid, kind string, fn func(cid.Cid, Object) error) error {
	data, err := r.store.GetObject(ctx, c)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // collected meanwhile
	}
	if err != nil {
		return err
	}
	if kind != "" {
		if k, err := KindOf(data); err != nil || k != kind {
			return nil
		}
	}
	obj, err := Decode(data)
	if err != nil {
		return fmt.Errorf("decode object %s: %w", c, err)
	}
	return fn(c, obj)
}

// datanetObject loads the Datanet object stored at c.
func (r *Registry) datanetObject(ctx context.Context, c cid.Cid) (*Datanet, error) {
	obj, err := r.Object(ctx, c)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &MissingError{What: "datanet", CIDs: []cid.Cid{c}, datanet: true}
	}
	if err != nil {
		return nil, err
	}
	d, ok := obj.(*Datanet)
	if !ok {
		// Held, and provably not a Datanet: not "cannot judge yet".
		return nil, fmt.Errorf("%w: %w: %s is a %s, not a datanet", ErrUnknownDatanet, ErrWrongKind, c, obj.Kind())
	}
	return d, nil
}

// missing reports whether err means an object is not held here (rather
// than held and of another kind).
func missing(err error) bool {
	return (errors.Is(err, ErrUnknownDatanet) || errors.Is(err, storage.ErrNotFound)) && !errors.Is(err, ErrWrongKind)
}

// datanetID returns the ID of the Datanet whose version v is, walking prev
// links back to the first version, and checking each step.
func (r *Registry) datanetID(ctx context.Context, c cid.Cid, v *Datanet) (cid.Cid, error) {
	for v.Seq > 0 {
		prev, err := r.datanetObject(ctx, v.Prev)
		if missing(err) {
			return cid.Undef, missingObject(fmt.Sprintf("version %d of the datanet", v.Seq-1), v.Prev)
		}
		if err != nil {
			return cid.Undef, fmt.Errorf("%w: prev: %w", ErrBadUpdate, err)
		}
		if err := followsVersion(v, prev); err != nil {
			return cid.Undef, err
		}
		c, v = v.Prev, prev
	}
	return c, nil
}

// DatanetUpdate is a change of a Datanet's description or policy; nil
// fields are kept.
type DatanetUpdate struct {
	Name                *string   `json:"name,omitempty"`
	Description         *string   `json:"description,omitempty"`
	License             *string   `json:"license,omitempty"`
	Kinds               *[]string `json:"kinds,omitempty"`
	MaxContributionSize *uint64   `json:"max_contribution_size,omitempty"`
	// SetCurators adds curators or changes their weights.
	SetCurators []Curator `json:"set_curators,omitempty"`
	// RemoveCurators removes curators; their votes stop counting.
	RemoveCurators []common.Address `json:"remove_curators,omitempty"`
	Quorum         *uint64          `json:"quorum,omitempty"`
	ThresholdBps   *uint32          `json:"threshold_bps,omitempty"`
	Window         *uint64          `json:"window,omitempty"` // seconds
}

// UpdateDatanet signs, checks, stores and pins the next version of the
// Datanet id: its head with u applied, Seq one more, Prev the head. Only
// the owner can sign it (ErrWrongSigner).
func (r *Registry) UpdateDatanet(ctx context.Context, id cid.Cid, u DatanetUpdate, signer Signer, now time.Time) (DatanetVersion, error) {
	// One update at a time: two built on the same head would fork.
	r.updateMu.Lock()
	defer r.updateMu.Unlock()
	head, err := r.Head(ctx, id)
	if err != nil {
		return DatanetVersion{}, err
	}
	if head.Datanet.Owner != signer.Address() {
		return DatanetVersion{}, fmt.Errorf("%w: only the owner %s updates datanet %s", ErrWrongSigner, head.Datanet.Owner, id)
	}
	d := *head.Datanet
	d.Signature = nil
	d.Seq++
	d.Prev = head.CID
	d.Created = max(now.Unix(), head.Datanet.Created)
	applyString(&d.Name, u.Name)
	applyString(&d.Description, u.Description)
	applyString(&d.License, u.License)
	if u.Kinds != nil {
		d.Kinds = normalizeKinds(*u.Kinds)
	}
	if u.MaxContributionSize != nil {
		d.MaxContributionSize = *u.MaxContributionSize
	}
	weights := make(map[common.Address]uint64, len(d.Curators))
	for _, c := range d.Curators {
		weights[c.Address] = c.Weight
	}
	for _, c := range u.SetCurators {
		weights[c.Address] = c.Weight
	}
	for _, a := range u.RemoveCurators {
		if _, ok := weights[a]; !ok {
			return DatanetVersion{}, fmt.Errorf("%w: %s is not a curator of %s", ErrInvalid, a, id)
		}
		delete(weights, a)
	}
	d.Curators = d.Curators[:0:0]
	for a, w := range weights {
		d.Curators = append(d.Curators, Curator{Address: a, Weight: w})
	}
	SortCurators(d.Curators)
	if u.Quorum != nil {
		d.Quorum = *u.Quorum
	}
	if u.ThresholdBps != nil {
		d.ThresholdBps = *u.ThresholdBps
	}
	if u.Window != nil {
		d.Window = *u.Window
	}
	if err := SignDatanet(&d, signer); err != nil {
		return DatanetVersion{}, err
	}
	ch, err := r.Submit(ctx, &d)
	if err != nil {
		return DatanetVersion{}, err
	}
	return DatanetVersion{CID: ch.CID, Datanet: &d}, nil
}

func applyString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// normalizeKinds lower-cases kinds, drops dots and spaces, sorts and
// removes duplicates.
func normalizeKinds(in []string) []string {
	kinds := make([]string, 0, len(in))
	for _, k := range in {
		if k = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(k), ".")); k != "" {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return slices.Compact(kinds)
}

// Submit checks a signed object made on this node (an update, a vote, a
// snapshot) as Check does for one from the network, then stores and pins
// it. It returns what Check returns.
func (r *Registry) Submit(ctx context.Context, obj Object) (*Checked, error) {
	data, err := obj.Encode()
	if err != nil {
		return nil, err
	}
	ch, err := r.Check(ctx, cid.Undef, data)
	if err != nil {
		return nil, err
	}
	if _, err := r.put(ctx, ch.Object, ch.Datanet, true); err != nil {
		return nil, err
	}
	r.emit(ch, true)
	return ch, nil
}

// Votes returns the stored votes on a contribution, in CID byte order.
func (r *Registry) Votes(ctx context.Context, contribution cid.Cid) ([]*Vote, error) {
	var out []*Vote
	err := r.members(ctx, contribution, KindVote, func(_ cid.Cid, obj Object) error {
		out = append(out, obj.(*Vote))
		return nil
	})
	return out, err
}

// NextVoteSeq returns the seq for curator's next vote on contribution: one
// more than the highest held, 0 for a first vote.
func (r *Registry) NextVoteSeq(ctx context.Context, contribution cid.Cid, curator common.Address) (uint64, error) {
	votes, err := r.Votes(ctx, contribution)
	if err != nil {
		return 0, err
	}
	var next uint64
	for _, v := range votes {
		if v.Curator == curator && v.Seq >= next {
			next = v.Seq + 1
		}
	}
	return next, nil
}

// State is what a node holds of one Datanet: its current version, its
// contributions, the votes on them, and its snapshots.
type State struct {
	ID            cid.Cid
	Head          DatanetVersion
	Contributions map[cid.Cid]*Contribution
	Votes         []*Vote       // by CID bytes
	Snapshots     []SnapshotRef // by version, then CID bytes
}

// State loads everything this node holds of the Datanet id.
func (r *Registry) State(ctx context.Context, id cid.Cid) (*State, error) {
	head, err := r.Head(ctx, id)
	if err != nil {
		return nil, err
	}
	st := &State{ID: id, Head: head, Contributions: map[cid.Cid]*Contribution{}}
	type heldVote struct {
		c cid.Cid
		v *Vote
	}
	var votes []heldVote
	err = r.setMembers(ctx, id, "", func(c cid.Cid, obj Object) error {
		switch o := obj.(type) {
		case *Contribution:
			st.Contributions[c] = o
		case *Vote:
			votes = append(votes, heldVote{c, o})
		case *Snapshot:
			st.Snapshots = append(st.Snapshots, SnapshotRef{CID: c, Snapshot: o})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(votes, func(a, b heldVote) int { return bytes.Compare(a.c.Bytes(), b.c.Bytes()) })
	for _, v := range votes {
		st.Votes = append(st.Votes, v.v)
	}
	sortSnapshots(st.Snapshots)
	return st, nil
}

// Snapshots lists the snapshots of the Datanet id held here, by version,
// then CID bytes.
func (r *Registry) Snapshots(ctx context.Context, id cid.Cid) ([]SnapshotRef, error) {
	var out []SnapshotRef
	after := cid.Undef
	for {
		page, err := r.SnapshotsPage(ctx, id, after, MaxPage, false)
		if err != nil || len(page) == 0 {
			return out, err
		}
		out = append(out, page...)
		after = page[len(page)-1].CID
	}
}

func sortSnapshots(s []SnapshotRef) {
	slices.SortStableFunc(s, func(a, b SnapshotRef) int {
		if a.Snapshot.Version != b.Snapshot.Version {
			if a.Snapshot.Version < b.Snapshot.Version {
				return -1
			}
			return 1
		}
		return strings.Compare(a.CID.KeyString(), b.CID.KeyString())
	})
}

// Snapshot loads the snapshot stored at c.
func (r *Registry) Snapshot(ctx context.Context, c cid.Cid) (*Snapshot, error) {
	obj, err := r.Object(ctx, c)
	if err != nil {
		return nil, err
	}
	s, ok := obj.(*Snapshot)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a %s, not a snapshot", ErrWrongKind, c, obj.Kind())
	}
	return s, nil
}

// Contribution loads the contribution stored at c.
func (r *Registry) Contribution(ctx context.Context, c cid.Cid) (*Contribution, error) {
	obj, err := r.Object(ctx, c)
	if err != nil {
		return nil, err
	}
	k, ok := obj.(*Contribution)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a %s, not a contribution", ErrWrongKind, c, obj.Kind())
	}
	return k, nil
}

// checkVote checks a vote against its Datanet's current version and the
// votes held: the curator's weight, the chain, the contribution and its
// window, the clock, and the seq.
func (r *Registry) checkVote(ctx context.Context, c cid.Cid, v *Vote) error {
	head, err := r.Head(ctx, v.Datanet)
	if err != nil {
		return err
	}
	d := head.Datanet
	if v.ChainID != d.ChainID {
		return fmt.Errorf("%w: vote signed under chain ID %d, the datanet's is %d", ErrNotAdmitted, v.ChainID, d.ChainID)
	}
	// First as if the vote opened its contribution's window, which only
	// the curator rule can fail: a stranger's vote is refused even while
	// its contribution is missing, rather than kept for later.
	if err := r.rules.AdmitVote(d, v.Created, v); err != nil {
		return err
	}
	stale := ctx.Value(staleKey{}) != nil
	k, rec, err := r.contributionHead(ctx, v.Contribution, !stale)
	if errors.Is(err, storage.ErrNotFound) {
		return missingObject("contribution", v.Contribution)
	}
	if err != nil {
		return err
	}
	if !k.Datanet.c.Equals(v.Datanet) {
		return fmt.Errorf("%w: contribution %s belongs to datanet %s", ErrNotAdmitted, v.Contribution, k.Datanet.c)
	}
	if err := r.rules.AdmitVote(d, k.Created, v); err != nil {
		return err
	}
	if now := r.now(); time.Unix(v.Created, 0).After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: created %s, now is %s", ErrFutureVote, unixUTC(v.Created), now.UTC().Format(time.RFC3339))
	}
	if stale {
		return nil
	}
	// The curator's vote the tally counts on this contribution (its
	// latest admitted), named by the contribution's index record, decoded
	// only as far as kind, curator and seq (stored objects passed Check
	// when they came in): one read however many votes the contribution
	// holds. A later vote of the curator's that the tally does not count
	// is not looked for: the check only spares storing votes that cannot
	// change the tally. A contribution without a record (in the batch
	// being stored, or not indexed) has no counted vote.
	if rec == nil {
		return nil
	}
	i := slices.IndexFunc(rec.Counted, func(x countedRef) bool { return x.Curator == v.Curator })
	if i < 0 {
		return nil
	}
	oc := rec.Counted[i].Vote
	if oc.Equals(c) {
		return nil // the same vote again
	}
	data, err := r.store.GetObject(ctx, oc)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var old struct {
		Kind     string `cbor:"kind"`
		Curator  []byte `cbor:"curator"`
		Decision string `cbor:"decision"`
		Seq      uint64 `cbor:"seq"`
	}
	cd, err := codecs()
	if err != nil {
		return err
	}
	if err := cd.head.Unmarshal(data, &old); err != nil || old.Kind != KindVote {
		return nil
	}
	if !bytes.Equal(old.Curator, v.Curator[:]) || old.Seq < v.Seq {
		return nil
	}
	return fmt.Errorf("%w: %s already voted %s with seq %d on %s; vote again with seq %d",
		ErrStaleVote, v.Curator, old.Decision, old.Seq, v.Contribution, old.Seq+1)
}

// contributionFields are the fields of a stored contribution a vote is
// checked against.
type contributionFields struct {
	Kind    string `cbor:"kind"`
	Datanet link   `cbor:"datanet"`
	Created int64  `cbor:"created"`
}

// contributionHead reads a stored contribution's Datanet and creation time
// without decoding its file list, which may hold a million shard links:
// from the contribution's index record (returned too) when there is one,
// else from the object (one in the batch being stored, or not indexed).
// Unless counted (the caller wants the record's counted votes, which
// change), a contribution whose record was read lately is answered from
// memory: its Datanet and time are facts of its CID, and a record once
// written is not deleted.
func (r *Registry) contributionHead(ctx context.Context, c cid.Cid, counted bool) (*contributionFields, *contribRecord, error) {
	if !counted {
		if k, ok := r.contribHeads.Get(c); ok {
			return &k, nil, nil
		}
	}
	data, ok := pendingObject(ctx, c)
	if !ok {
		var rec *contribRecord
		err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			x, err := contribRecordOf(tx, c)
			rec = &x
			return err
		})
		switch {
		case err == nil:
			k := contributionFields{Kind: KindContribution, Datanet: link{rec.Datanet}, Created: rec.Created}
			r.contribHeads.Add(c, k)
			return &k, rec, nil
		case !errors.Is(err, storage.ErrNotFound):
			return nil, nil, err
		}
		if data, err = r.store.GetObject(ctx, c); err != nil {
			return nil, nil, err
		}
	}
	cd, err := codecs()
	if err != nil {
		return nil, nil, err
	}
	var k contributionFields
	if err := cd.head.Unmarshal(data, &k); err != nil {
		return nil, nil, fmt.Errorf("%w: object %s: %w", ErrMalformed, c, err)
	}
	if k.Kind != KindContribution {
		return nil, nil, fmt.Errorf("%w: %w: %s is a %s, not a contribution", ErrNotAdmitted, ErrWrongKind, c, k.Kind)
	}
	return &k, nil, nil
}

// checkSnapshot checks that a snapshot's policy version and previous
// snapshot are held and belong to its Datanet, then verifies its entries
// (verifySnapshot), trusting the signatures of evidence votes this node
// holds (they were checked when stored) and the leaves it shares with the
// previous snapshot under the same policy (they were checked with it).
func (r *Registry) checkSnapshot(ctx context.Context, s *Snapshot) error {
	head, err := r.Head(ctx, s.Datanet)
	if err != nil {
		return err
	}
	if s.ChainID != head.Datanet.ChainID {
		return fmt.Errorf("%w: snapshot signed under chain ID %d, the datanet's is %d", ErrNotAdmitted, s.ChainID, head.Datanet.ChainID)
	}
	policy, prev, err := r.snapshotLinks(ctx, s)
	if err != nil {
		return err
	}
	_, err = r.verifySnapshot(ctx, s, policy, prev, false)
	return err
}

// snapshotLinks returns the policy version a snapshot names and its
// previous snapshot (nil for version 1), checking they are held and of its
// Datanet.
func (r *Registry) snapshotLinks(ctx context.Context, s *Snapshot) (*Datanet, *Snapshot, error) {
	policy, err := r.datanetObject(ctx, s.Policy)
	if missing(err) {
		return nil, nil, missingObject("policy version", s.Policy)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: policy: %w", ErrBadSnapshotLink, err)
	}
	id, err := r.datanetID(ctx, s.Policy, policy)
	if err != nil {
		return nil, nil, err
	}
	if !id.Equals(s.Datanet) {
		return nil, nil, fmt.Errorf("%w: policy %s is a version of datanet %s", ErrBadSnapshotLink, s.Policy, id)
	}
	if policy.ChainID != s.ChainID {
		return nil, nil, fmt.Errorf("%w: signed under chain ID %d, the policy's is %d", ErrBadSnapshotLink, s.ChainID, policy.ChainID)
	}
	if !s.Prev.Defined() {
		return policy, nil, nil
	}
	prev, err := r.Snapshot(ctx, s.Prev)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil, missingObject("previous snapshot", s.Prev)
	case err != nil:
		return nil, nil, fmt.Errorf("%w: prev: %w", ErrBadSnapshotLink, err)
	case !prev.Datanet.Equals(s.Datanet) || prev.Version+1 != s.Version:
		return nil, nil, fmt.Errorf("%w: version %d follows version %d of datanet %s", ErrBadSnapshotLink, s.Version, prev.Version, prev.Datanet)
	}
	return policy, prev, nil
}

// forgetHeads drops the cached heads after a new version is stored.
func (r *Registry) forgetHeads() {
	r.mu.Lock()
	clear(r.heads)
	r.headsGen++
	r.mu.Unlock()
}

func unixUTC(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }
