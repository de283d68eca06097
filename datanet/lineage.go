package datanet

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// Errors of models and attribution records in the per-Datanet state. Check
// wraps them; test with errors.Is.
var (
	// ErrBadModelLink means a model record names a snapshot that is not of
	// the Datanet it gives, or an object that is not a snapshot.
	ErrBadModelLink = errors.New("datanet: model does not match its snapshots")
	// ErrBadAttributionLink means an attribution record does not match the
	// objects it names: a span in a snapshot the model doesn't list, a
	// contribution the snapshot doesn't hold, a proof that fails, another
	// contributor or model owner.
	ErrBadAttributionLink = errors.New("datanet: attribution record does not match its model")
)

// ModelRef is a stored model record with its CID.
type ModelRef struct {
	CID   cid.Cid
	Model *ModelRecord
}

// EpochRef is a stored reward epoch with its CID.
type EpochRef struct {
	CID   cid.Cid
	Epoch *RewardEpoch
}

// ModelSpec is what a caller chooses when registering a model; see
// RegisterModel.
type ModelSpec struct {
	Name      string
	Base      string
	Snapshots []ModelSnapshot // in any order
	Metadata  map[string]string
	// ChunkSize is the bytes per shard of the artifacts; unused without
	// artifacts.
	ChunkSize int
	// CheckFile, when set, is called with every artifact file found
	// before a byte is written; an error refuses the registration.
	CheckFile func(storage.InputFile) error
}

// RegisterModel chunks and stores the artifact files and directories at
// paths (none is fine), and signs, stores and pins a ModelRecord of spec
// owned by signer under chainID, the chain ID of its snapshots. The record
// is checked as Check would check it (every snapshot held, of its Datanet
// and chain) before a byte is written; the store then holds the artifacts
// and the record or, after any error, neither. Paths are recorded as Add
// records them.
func (r *Registry) RegisterModel(ctx context.Context, spec ModelSpec, paths []string, chainID uint64, signer Signer, now time.Time) (cid.Cid, *ModelRecord, error) {
	m := &ModelRecord{
		Name:      spec.Name,
		Base:      spec.Base,
		Snapshots: slices.Clone(spec.Snapshots),
		Metadata:  spec.Metadata,
		Owner:     signer.Address(),
		ChainID:   chainID,
		Created:   now.Unix(),
	}
	SortModelSnapshots(m.Snapshots)
	var files []storage.InputFile
	var total int64
	if len(paths) > 0 {
		if err := storage.CheckChunkSize(spec.ChunkSize); err != nil {
			return cid.Undef, nil, err
		}
		var err error
		if files, total, err = storage.ScanFiles(paths); err != nil {
			return cid.Undef, nil, err
		}
		if err := checkInputs(files, spec.CheckFile); err != nil {
			return cid.Undef, nil, err
		}
		m.ChunkSize = uint64(spec.ChunkSize)
		// A draft with the right number of shards, to check the field
		// rules and the links before writing.
		m.Artifacts = filesOf(files, nil)
		for i, f := range m.Artifacts {
			m.Artifacts[i].Shards = slices.Repeat([]cid.Cid{storage.ShardCID(nil)}, int(shardCount(f.Size, m.ChunkSize)))
		}
	}
	if err := m.Validate(); err != nil {
		return cid.Undef, nil, err
	}
	if err := r.checkModel(ctx, m); err != nil {
		return cid.Undef, nil, err
	}
	if len(files) == 0 {
		if err := SignModel(m, chainID, signer); err != nil {
			return cid.Undef, nil, err
		}
		ch, err := r.Submit(ctx, m)
		if err != nil {
			return cid.Undef, nil, err
		}
		return ch.CID, m, nil
	}
	sess, err := r.store.NewSession(ctx, total)
	if err != nil {
		return cid.Undef, nil, err
	}
	defer sess.Abort() // no-op after Commit
	shards, err := sess.AddFiles(ctx, files, spec.ChunkSize, nil)
	if err != nil {
		return cid.Undef, nil, err
	}
	m.Artifacts = filesOf(files, shards)
	if err := SignModel(m, chainID, signer); err != nil {
		return cid.Undef, nil, err
	}
	data, err := m.Encode()
	if err != nil {
		return cid.Undef, nil, err
	}
	c := storage.ObjectCID(cid.DagCBOR, data)
	err = r.putIndexed(ctx, c, m, m.Snapshots[0].Datanet, func(fn func(*storage.IndexTxn) error) error {
		return sess.CommitIndexed(ctx, objectPut(c, data, m, m.Snapshots[0].Datanet, true), fn)
	})
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("commit model: %w", err)
	}
	r.emit(&Checked{CID: c, Datanet: m.Snapshots[0].Datanet, Object: m}, true)
	return c, m, nil
}

// checkModel checks that every snapshot a model names is held, is a
// snapshot of the Datanet the model gives for it, and is on the model's
// chain. It reads of each snapshot only those fields.
func (r *Registry) checkModel(ctx context.Context, m *ModelRecord) error {
	for i, ms := range m.Snapshots {
		var s struct {
			Kind    string `cbor:"kind"`
			Datanet link   `cbor:"datanet"`
			ChainID uint64 `cbor:"chain_id"`
		}
		err := r.readHead(ctx, ms.Snapshot, KindSnapshot, &s, &s.Kind)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return missingObject("snapshot", ms.Snapshot)
		case errors.Is(err, ErrWrongKind):
			return fmt.Errorf("%w: snapshots[%d]: %w", ErrBadModelLink, i, err)
		case err != nil:
			return err
		case !s.Datanet.c.Equals(ms.Datanet):
			return fmt.Errorf("%w: snapshot %s is of datanet %s, not %s", ErrBadModelLink, ms.Snapshot, s.Datanet.c, ms.Datanet)
		case s.ChainID != m.ChainID:
			return fmt.Errorf("%w: model signed under chain ID %d, snapshot %s under %d", ErrNotAdmitted, m.ChainID, ms.Snapshot, s.ChainID)
		}
	}
	return nil
}

// readHead reads some top-level fields of the stored object c into v (a
// pointer to a struct with cbor tags, kind among them) without decoding
// the rest, and checks that the object is of the kind want (ErrWrongKind).
// Stored objects passed Check, so they are canonical and valid.
func (r *Registry) readHead(ctx context.Context, c cid.Cid, want string, v any, kind *string) error {
	data, err := r.store.GetObject(ctx, c)
	if err != nil {
		return err
	}
	cd, err := codecs()
	if err != nil {
		return err
	}
	if err := cd.head.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: object %s: %w", ErrMalformed, c, err)
	}
	if *kind != want {
		return fmt.Errorf("%w: %s is a %s, not a %s", ErrWrongKind, c, *kind, want)
	}
	return nil
}

// snapshotRoot reads a stored snapshot's root.
func (r *Registry) snapshotRoot(ctx context.Context, c cid.Cid) ([32]byte, error) {
	var s struct {
		Kind string `cbor:"kind"`
		Root []byte `cbor:"root"`
	}
	if err := r.readHead(ctx, c, KindSnapshot, &s, &s.Kind); err != nil {
		return [32]byte{}, err
	}
	if len(s.Root) != 32 {
		return [32]byte{}, fmt.Errorf("%w: snapshot %s: root of %d bytes", ErrMalformed, c, len(s.Root))
	}
	return [32]byte(s.Root), nil
}

// checkAttribution checks an attribution record against its model, which
// must be held, and returns the model: the topic is one of the model's
// Datanets (or undefined), the chain and the model owner are the model's,
// every span is in a snapshot the model lists and credits a contribution
// of that snapshot by its contributor, and the span's proofs lead to the
// snapshot's root. It doesn't recompute the attribution.
func (r *Registry) checkAttribution(ctx context.Context, topic cid.Cid, a *AttributionRecord) (*ModelRecord, error) {
	m, err := r.Model(ctx, a.Model)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, missingObject("model", a.Model)
	case errors.Is(err, ErrWrongKind):
		return nil, fmt.Errorf("%w: %w", ErrBadAttributionLink, err)
	case err != nil:
		return nil, err
	}
	if topic.Defined() && !slices.ContainsFunc(m.Datanets(), topic.Equals) {
		return nil, fmt.Errorf("%w: attribution of model %s on the topic of %s", ErrWrongTopic, a.Model, topic)
	}
	if a.ChainID != m.ChainID {
		return nil, fmt.Errorf("%w: attribution signed under chain ID %d, the model's is %d", ErrNotAdmitted, a.ChainID, m.ChainID)
	}
	if a.ModelOwner != m.Owner {
		return nil, fmt.Errorf("%w: model owner %s, the model's is %s", ErrBadAttributionLink, a.ModelOwner, m.Owner)
	}
	snapshots := map[cid.Cid][32]byte{}
	contributions := map[cid.Cid]contributionHeadFields{}
	for i, s := range a.Spans {
		if !m.HasSnapshot(s.Snapshot) {
			return nil, fmt.Errorf("%w: spans[%d]: snapshot %s is not one of the model's", ErrBadAttributionLink, i, s.Snapshot)
		}
		root, ok := snapshots[s.Snapshot]
		if !ok {
			root, err = r.snapshotRoot(ctx, s.Snapshot)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				return nil, missingObject("snapshot", s.Snapshot)
			case errors.Is(err, ErrWrongKind):
				return nil, fmt.Errorf("%w: spans[%d]: %w", ErrBadAttributionLink, i, err)
			case err != nil:
				return nil, err
			}
			snapshots[s.Snapshot] = root
		}
		k, ok := contributions[s.Contribution]
		if !ok {
			if k, err = r.contributionOf(ctx, s.Contribution); err != nil {
				return nil, err
			}
			contributions[s.Contribution] = k
		}
		if err := checkSpanProofs(root, [32]byte(k.Root), &s); err != nil {
			return nil, fmt.Errorf("%w: spans[%d]: %w", ErrBadAttributionLink, i, err)
		}
		if k.Contributor != s.Contributor {
			return nil, fmt.Errorf("%w: spans[%d]: contribution %s is by %s, not %s", ErrBadAttributionLink, i, s.Contribution, k.Contributor, s.Contributor)
		}
	}
	return m, nil
}

// checkSpanProofs checks that a span's contribution proof leads from the
// contribution's leaf (its CID's digest and its root) to the snapshot's
// root, which proves the contribution is in the snapshot, and that each
// shard's proof leads from the shard's leaf to the contribution's root.
func checkSpanProofs(snapRoot, root [32]byte, s *AttributedSpan) error {
	digest, err := objectDigest(s.Contribution)
	if err != nil {
		return err
	}
	if !proofs.Verify(snapRoot, proofs.ContributionLeaf(digest, root), proofHashes(s.ContributionProof)) {
		return fmt.Errorf("contribution proof of %s does not lead to the root of snapshot %s", s.Contribution, s.Snapshot)
	}
	for j, sh := range s.Shards {
		digest, err := ShardDigest(sh.Shard)
		if err != nil {
			return fmt.Errorf("shards[%d]: %w", j, err)
		}
		if !proofs.Verify(root, proofs.ShardLeaf(sh.Index, digest, sh.Size), proofHashes(sh.Proof)) {
			return fmt.Errorf("shards[%d]: proof of shard %d (%s) does not lead to the root of contribution %s", j, sh.Index, sh.Shard, s.Contribution)
		}
	}
	return nil
}

func proofHashes(hs []common.Hash) []proofs.Hash {
	out := make([]proofs.Hash, len(hs))
	for i, h := range hs {
		out[i] = proofs.Hash(h)
	}
	return out
}

// contributionHeadFields are the fields of a contribution a span is
// checked against.
type contributionHeadFields struct {
	Contributor common.Address
	Root        common.Hash
	Created     int64
}

// ContributionSummary is what a contribution is to its readers that need
// not its files: its contributor, root and creation time.
type ContributionSummary = contributionHeadFields

// ContributionHead reads a stored contribution's contributor, root and
// creation time without decoding its file list (which may name a million
// shards).
func (r *Registry) ContributionHead(ctx context.Context, c cid.Cid) (ContributionSummary, error) {
	return r.contributionOf(ctx, c)
}

// contributionOf reads a stored contribution's contributor and root
// without decoding its file list.
func (r *Registry) contributionOf(ctx context.Context, c cid.Cid) (contributionHeadFields, error) {
	var k struct {
		Kind        string `cbor:"kind"`
		Contributor []byte `cbor:"contributor"`
		Root        []byte `cbor:"root"`
		Created     int64  `cbor:"created"`
	}
	err := r.readHead(ctx, c, KindContribution, &k, &k.Kind)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return contributionHeadFields{}, missingObject("contribution", c)
	case errors.Is(err, ErrWrongKind):
		return contributionHeadFields{}, fmt.Errorf("%w: %w", ErrBadAttributionLink, err)
	case err != nil:
		return contributionHeadFields{}, err
	}
	if len(k.Contributor) != common.AddressLength || len(k.Root) != 32 {
		return contributionHeadFields{}, fmt.Errorf("%w: contribution %s: contributor of %d bytes, root of %d", ErrMalformed, c, len(k.Contributor), len(k.Root))
	}
	return contributionHeadFields{Contributor: common.Address(k.Contributor), Root: common.Hash(k.Root), Created: k.Created}, nil
}

// objectOf loads the stored object c as an O; another kind fails with
// ErrWrongKind.
func objectOf[O Object](ctx context.Context, r *Registry, c cid.Cid) (O, error) {
	var zero O
	obj, err := r.Object(ctx, c)
	if err != nil {
		return zero, err
	}
	o, ok := obj.(O)
	if !ok {
		return zero, fmt.Errorf("%w: %s is a %s, not a %s", ErrWrongKind, c, obj.Kind(), zero.Kind())
	}
	return o, nil
}

// Model loads the model record stored at c.
func (r *Registry) Model(ctx context.Context, c cid.Cid) (*ModelRecord, error) {
	return objectOf[*ModelRecord](ctx, r, c)
}

// AttributionRecord loads the attribution record stored at c.
func (r *Registry) AttributionRecord(ctx context.Context, c cid.Cid) (*AttributionRecord, error) {
	return objectOf[*AttributionRecord](ctx, r, c)
}

// RewardEpoch loads the reward epoch stored at c.
func (r *Registry) RewardEpoch(ctx context.Context, c cid.Cid) (*RewardEpoch, error) {
	return objectOf[*RewardEpoch](ctx, r, c)
}

// Models lists the model records held here, oldest first (by Created,
// then CID bytes).
func (r *Registry) Models(ctx context.Context) ([]ModelRef, error) {
	var out []ModelRef
	err := forEachOfKind(ctx, r, KindModel, func(c cid.Cid, m *ModelRecord) error {
		out = append(out, ModelRef{CID: c, Model: m})
		return nil
	})
	slices.SortFunc(out, func(a, b ModelRef) int {
		if c := cmp.Compare(a.Model.Created, b.Model.Created); c != 0 {
			return c
		}
		return strings.Compare(a.CID.KeyString(), b.CID.KeyString())
	})
	return out, err
}

// AttributionRecords lists the attribution records of a model held here,
// in CID byte order. It reads the reverse link index, and of each record
// only its kind and model.
func (r *Registry) AttributionRecords(ctx context.Context, model cid.Cid) ([]cid.Cid, error) {
	return r.AttributionRecordsPage(ctx, model, cid.Undef, math.MaxInt)
}

// AttributionRecordsPage lists up to limit attribution records of a model
// held here, in CID byte order, starting after the CID after (cid.Undef:
// from the first).
func (r *Registry) AttributionRecordsPage(ctx context.Context, model, after cid.Cid, limit int) ([]cid.Cid, error) {
	cd, err := codecs()
	if err != nil {
		return nil, err
	}
	var out []cid.Cid
	errFull := errors.New("page full")
	err = r.store.ForEachBacklink(ctx, model, func(c cid.Cid) error {
		if after.Defined() && bytes.Compare(c.Bytes(), after.Bytes()) <= 0 {
			return nil
		}
		if len(out) == limit {
			return errFull
		}
		data, err := r.store.GetObject(ctx, c)
		if errors.Is(err, storage.ErrNotFound) {
			return nil // collected meanwhile
		}
		if err != nil {
			return err
		}
		if k, err := KindOf(data); err != nil || k != KindAttribution {
			return nil
		}
		var head struct {
			Model link `cbor:"model"`
		}
		if err := cd.head.Unmarshal(data, &head); err != nil {
			return fmt.Errorf("%w: object %s: %w", ErrMalformed, c, err)
		}
		if head.Model.c.Equals(model) {
			out = append(out, c)
		}
		return nil
	})
	if errors.Is(err, errFull) {
		err = nil
	}
	return out, err
}

// AllAttributionRecords lists every attribution record held here, in CID
// byte order, from the index of objects by kind.
func (r *Registry) AllAttributionRecords(ctx context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	after := cid.Undef
	for {
		ids, err := r.ObjectsOfKind(ctx, KindAttribution, after, MaxPage)
		if err != nil || len(ids) == 0 {
			return out, err
		}
		out = append(out, ids...)
		after = ids[len(ids)-1]
	}
}

// RewardEpochs lists the reward epochs held here by Number, then CID
// bytes. Epochs of every distributor and chain are listed; callers filter.
func (r *Registry) RewardEpochs(ctx context.Context) ([]EpochRef, error) {
	var out []EpochRef
	err := forEachOfKind(ctx, r, KindRewardEpoch, func(c cid.Cid, e *RewardEpoch) error {
		out = append(out, EpochRef{CID: c, Epoch: e})
		return nil
	})
	slices.SortFunc(out, func(a, b EpochRef) int {
		if c := cmp.Compare(a.Epoch.Number, b.Epoch.Number); c != 0 {
			return c
		}
		return bytes.Compare(a.CID.Bytes(), b.CID.Bytes())
	})
	return out, err
}
