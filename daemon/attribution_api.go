package daemon

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/attribution"
	"github.com/openledger/openledger/datanet"
)

// modelAPI is the model_* namespace: model lineage records.
type modelAPI struct {
	n *Node
}

// RegisterModelArgs are the arguments of model_register.
type RegisterModelArgs struct {
	Name      string   `json:"name"`
	Base      string   `json:"base,omitempty"`
	Snapshots []string `json:"snapshots"`
	// Artifacts are absolute paths on the daemon's machine (adapters,
	// weights), stored as content so anyone can fetch them by the model's
	// CID; they are read as content_add's paths are.
	Artifacts []string          `json:"artifacts,omitempty"`
	ChunkSize int               `json:"chunk_size,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// ModelView summarises a model record.
type ModelView struct {
	CID       string              `json:"cid"`
	Name      string              `json:"name"`
	Base      string              `json:"base,omitempty"`
	Owner     string              `json:"owner"`
	Snapshots []ModelSnapshotView `json:"snapshots"`
	Artifacts []FileView          `json:"artifacts"`
	Metadata  map[string]string   `json:"metadata,omitempty"`
	Created   time.Time           `json:"created"`
	// Records counts the attribution records of the model held here.
	Records int `json:"records"`
}

// ModelSnapshotView is one snapshot a model was trained on.
type ModelSnapshotView struct {
	Datanet  string `json:"datanet"`
	Snapshot string `json:"snapshot"`
	// Indexed says whether this node has the snapshot's span index.
	Indexed bool `json:"indexed"`
}

func (n *Node) modelView(ctx context.Context, c cid.Cid, m *datanet.ModelRecord) (ModelView, error) {
	v := ModelView{
		CID: c.String(), Name: m.Name, Base: m.Base, Owner: m.Owner.Hex(), Metadata: m.Metadata,
		Artifacts: fileViews(m.Artifacts), Created: time.Unix(m.Created, 0).UTC(),
	}
	for _, s := range m.Snapshots {
		sv := ModelSnapshotView{Datanet: s.Datanet.String(), Snapshot: s.Snapshot.String()}
		if n.index != nil {
			sv.Indexed = n.index.store.Indexed(s.Snapshot.String())
		}
		v.Snapshots = append(v.Snapshots, sv)
	}
	recs, err := n.registry.AttributionRecords(ctx, c)
	if err != nil {
		return v, err
	}
	v.Records = len(recs)
	return v, nil
}

// Register signs a model record: its name, base model, the snapshots it
// was trained on and its artifacts (stored as content). The record is
// stored, gossiped on the topic of its first Datanet, provided and anchored.
// Artifacts are read as content_add reads its paths.
func (a *modelAPI) Register(ctx context.Context, args RegisterModelArgs) (*ModelView, error) {
	pol, err := a.n.readPolicy(callerPerm(ctx))
	if err != nil {
		return nil, err
	}
	return a.n.registerModel(ctx, pol, args)
}

func (n *Node) registerModel(ctx context.Context, pol *readPolicy, args RegisterModelArgs) (*ModelView, error) {
	if len(args.Snapshots) == 0 {
		return nil, fmt.Errorf("%w: a model names at least one snapshot it was trained on", errBadRequest)
	}
	for _, p := range args.Artifacts {
		if err := pol.checkPath(p); err != nil {
			return nil, fmt.Errorf("artifact: %w", err)
		}
	}
	spec := datanet.ModelSpec{Name: args.Name, Base: args.Base, Metadata: args.Metadata, ChunkSize: args.ChunkSize,
		CheckFile: pol.checkFile}
	if spec.ChunkSize == 0 {
		spec.ChunkSize = n.repo.Config.Storage.ChunkSize
	}
	var chainID uint64
	for _, s := range args.Snapshots {
		sc, err := parseCID(s)
		if err != nil {
			return nil, err
		}
		if err := n.ensureObject(ctx, sc); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", sc, err)
		}
		snap, err := n.registry.Snapshot(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", sc, err)
		}
		if chainID != 0 && snap.ChainID != chainID {
			return nil, fmt.Errorf("%w: snapshot %s is on chain %d, the others on %d", errBadRequest, sc, snap.ChainID, chainID)
		}
		chainID = snap.ChainID
		spec.Snapshots = append(spec.Snapshots, datanet.ModelSnapshot{Datanet: snap.Datanet, Snapshot: sc})
	}
	signer, err := n.Signer()
	if err != nil {
		return nil, err
	}
	c, m, err := n.registry.RegisterModel(ctx, spec, args.Artifacts, chainID, signer, n.opts.Now())
	if err != nil {
		return nil, err
	}
	n.log.Info("model registered", "cid", c.String(), "name", m.Name, "snapshots", len(m.Snapshots), "artifacts", len(m.Artifacts))
	v, err := n.modelView(ctx, c, m)
	return &v, err
}

// Show returns a model record, fetching it from the network if need be.
func (a *modelAPI) Show(ctx context.Context, model string) (*ModelView, error) {
	mc, err := parseCID(model)
	if err != nil {
		return nil, err
	}
	if err := a.n.ensureObject(ctx, mc); err != nil {
		return nil, err
	}
	m, err := a.n.registry.Model(ctx, mc)
	if err != nil {
		return nil, err
	}
	v, err := a.n.modelView(ctx, mc, m)
	return &v, err
}

// List returns a page of the model records held here, in CID byte order;
// page.After is the previous page's last CID.
func (a *modelAPI) List(ctx context.Context, page *PageArgs) ([]ModelView, error) {
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	ids, err := a.n.registry.ObjectsOfKind(ctx, datanet.KindModel, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ModelView, 0, len(ids))
	for _, c := range ids {
		m, err := a.n.registry.Model(ctx, c)
		if datanet.IsNotFound(err) {
			continue // collected
		}
		if err != nil {
			return nil, err
		}
		v, err := a.n.modelView(ctx, c, m)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// attributionAPI is the attribution_* namespace: span indexes, attribution
// of model outputs, and their records.
type attributionAPI struct {
	n *Node
}

// Index builds the span index of a snapshot, fetching the snapshot and its
// files first if they are not held.
func (a *attributionAPI) Index(ctx context.Context, snapshot string) (*IndexResult, error) {
	sc, err := parseCID(snapshot)
	if err != nil {
		return nil, err
	}
	res, err := a.n.indexSnapshot(ctx, sc, nil)
	return res, err
}

// IndexEvent is a notification of attribution_subscribe("indexProgress"):
// progress in bytes of text read, then one final event with Result or
// Error.
type IndexEvent struct {
	Done   int64        `json:"done"`
	Total  int64        `json:"total"`
	Result *IndexResult `json:"result,omitempty"`
	Error  *EventErr    `json:"error,omitempty"`
}

// IndexProgress is attribution_index with progress events.
func (a *attributionAPI) IndexProgress(ctx context.Context, snapshot string) (*rpc.Subscription, error) {
	sc, err := parseCID(snapshot)
	if err != nil {
		return nil, err
	}
	return a.n.subscribeWork(ctx, func(ctx context.Context, notify func(any)) {
		var last time.Time
		res, err := a.n.indexSnapshot(ctx, sc, func(done, total int64) {
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || done == total {
				last = now
				notify(IndexEvent{Done: done, Total: total})
			}
		})
		final := IndexEvent{Result: res}
		if err != nil {
			final.Error = eventErr(err)
		} else {
			final.Done, final.Total = res.TextBytes, res.TextBytes
		}
		notify(final)
	})
}

// AttributeArgs are the arguments of attribution_attribute.
type AttributeArgs struct {
	Model string `json:"model"`
	// Output is the model's output text.
	Output string `json:"output"`
	// TokensIn and TokensOut are the inference's token counts; TokensOut
	// 0 estimates it as ceil(bytes / 4), the usual rule for BPE
	// tokenizers.
	TokensIn  uint64 `json:"tokens_in,omitempty"`
	TokensOut uint64 `json:"tokens_out,omitempty"`
}

// AttributionView is a record with what a person reads: the span texts.
type AttributionView struct {
	CID    string                     `json:"cid"`
	Record *datanet.AttributionRecord `json:"record"`
	// Texts are the output's text of each span, in the record's order.
	Texts []string `json:"texts"`
}

// Attribute attributes a model's output: the maximal spans that occur
// verbatim in the model's snapshots, credited to the earliest accepted
// contribution holding each, the weights per contributor, and the fee's
// payouts. It signs the record, stores it (and the output), provides it and
// anchors it.
func (a *attributionAPI) Attribute(ctx context.Context, args AttributeArgs) (*AttributionView, error) {
	v, err := a.n.attribute(ctx, args)
	return v, err
}

func (n *Node) attribute(ctx context.Context, args AttributeArgs) (*AttributionView, error) {
	mc, err := parseCID(args.Model)
	if err != nil {
		return nil, err
	}
	output := []byte(args.Output)
	p := n.repo.Config.Attribution.params()
	if len(output) > int(p.MaxOutputBytes) {
		return nil, fmt.Errorf("%w: output of %d bytes, at most %d (attribution.max_output_bytes)", errBadRequest, len(output), p.MaxOutputBytes)
	}
	if len(bytes.TrimSpace(output)) == 0 {
		return nil, fmt.Errorf("%w: the output is empty", errBadRequest)
	}
	rp, err := n.repo.Config.Rewards.params()
	if err != nil {
		return nil, err
	}
	in, err := n.loadModel(ctx, mc)
	if err != nil {
		return nil, err
	}
	tokensOut := args.TokensOut
	if tokensOut == 0 {
		tokensOut = uint64(len(output)+3) / 4
	}
	r, err := n.computeRecord(ctx, in, output, p, rp, args.TokensIn, tokensOut)
	if err != nil {
		return nil, err
	}
	signer, err := n.Signer()
	if err != nil {
		return nil, err
	}
	if err := datanet.SignAttributionRecord(r, r.ChainID, signer); err != nil {
		return nil, err
	}
	ch, err := n.registry.SubmitAttribution(ctx, r, output)
	if err != nil {
		return nil, err
	}
	n.log.Info("output attributed", "record", ch.CID.String(), "model", mc.String(), "spans", len(r.Spans), "contributors", len(r.Weights))
	return recordView(ch.CID, r, output), nil
}

func recordView(c cid.Cid, r *datanet.AttributionRecord, output []byte) *AttributionView {
	v := &AttributionView{CID: c.String(), Record: r, Texts: make([]string, len(r.Spans))}
	for i, s := range r.Spans {
		if int(s.End) <= len(output) {
			v.Texts[i] = string(output[s.Start:s.End])
		}
	}
	return v
}

// Get returns an attribution record with its span texts, fetching it and
// its output from the network if need be.
func (a *attributionAPI) Get(ctx context.Context, record string) (*AttributionView, error) {
	rc, err := parseCID(record)
	if err != nil {
		return nil, err
	}
	r, output, err := a.n.recordAndOutput(ctx, rc)
	if err != nil {
		return nil, err
	}
	return recordView(rc, r, output), nil
}

// Records lists a page of the CIDs of the attribution records of a model
// held here, or of every model for "", in CID byte order; page.After is
// the previous page's last CID.
func (a *attributionAPI) Records(ctx context.Context, model string, page *PageArgs) ([]string, error) {
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	var ids []cid.Cid
	if model == "" {
		ids, err = a.n.registry.ObjectsOfKind(ctx, datanet.KindAttribution, after, limit)
	} else {
		var mc cid.Cid
		if mc, err = parseCID(model); err != nil {
			return nil, err
		}
		ids, err = a.n.registry.AttributionRecordsPage(ctx, mc, after, datanet.PageLimit(limit))
	}
	if err != nil {
		return nil, err
	}
	return cidStrings(ids), nil
}

// recordAndOutput reads a record and its output, fetching either if it is
// not held.
func (n *Node) recordAndOutput(ctx context.Context, rc cid.Cid) (*datanet.AttributionRecord, []byte, error) {
	if err := n.ensureObject(ctx, rc); err != nil {
		return nil, nil, err
	}
	r, err := n.registry.AttributionRecord(ctx, rc)
	if err != nil {
		return nil, nil, err
	}
	has, err := n.store.HasShard(ctx, r.Output)
	if err != nil {
		return nil, nil, err
	}
	if !has {
		if n.net == nil {
			return nil, nil, fmt.Errorf("%w: the output %s of record %s is not stored here", ErrOffline, r.Output, rc)
		}
		if _, err := n.fetch(ctx, r.Output.String(), nil); err != nil {
			return nil, nil, fmt.Errorf("fetch the output of record %s: %w", rc, err)
		}
	}
	output, err := n.store.GetShard(ctx, r.Output)
	if err != nil {
		return nil, nil, err
	}
	return r, output, nil
}

// VerifyResult is the answer of attribution_verify.
type AttributionVerdict struct {
	CID string `json:"cid"`
	OK  bool   `json:"ok"`
	// Result is the sha256 of the record's deterministic part as
	// recomputed here.
	Result string `json:"result"`
	// Indexed lists the snapshots this node had to index first.
	Indexed []string `json:"indexed,omitempty"`
	Checked string   `json:"checked"`
	Problem string   `json:"problem,omitempty"`
}

// Verify recomputes an attribution record on this node from the model's
// snapshots, the shards and the span index (built first if missing) with
// the record's own parameters, and compares the result byte for byte; it
// also checks every span's proofs and source bytes.
func (a *attributionAPI) Verify(ctx context.Context, record string) (*AttributionVerdict, error) {
	rc, err := parseCID(record)
	if err != nil {
		return nil, err
	}
	v, err := a.n.verifyRecord(ctx, rc)
	return v, err
}

func (n *Node) verifyRecord(ctx context.Context, rc cid.Cid) (*AttributionVerdict, error) {
	r, output, err := n.recordAndOutput(ctx, rc)
	if err != nil {
		return nil, err
	}
	in, err := n.loadModel(ctx, r.Model)
	if err != nil {
		return nil, err
	}
	out := &AttributionVerdict{CID: rc.String(),
		Checked: fmt.Sprintf("attester's signature and every span's shard and snapshot proofs (when stored), %d spans recomputed from the index with their source bytes read from the shards, %d payouts", len(r.Spans), len(r.Payouts))}
	if _, err := n.searcher(ctx, in); err != nil {
		// Build what is missing: verifying is recomputing.
		for _, s := range in.model.Snapshots {
			if n.index.store.Indexed(s.Snapshot.String()) {
				continue
			}
			if _, err := n.indexSnapshot(ctx, s.Snapshot, nil); err != nil {
				return nil, err
			}
			out.Indexed = append(out.Indexed, s.Snapshot.String())
		}
	}
	if r.Params.Normalization != attribution.Normalization {
		out.Problem = fmt.Sprintf("normalization %q, this node implements %q", r.Params.Normalization, attribution.Normalization)
		return out, nil
	}
	p := attribution.Params{MinSpanBytes: r.Params.MinSpanBytes, MaxSpanCount: r.Params.MaxSpanCount, MaxOutputBytes: r.Params.MaxOutputBytes}
	again, err := n.computeRecord(ctx, in, output, p, r.Rewards, r.TokensIn, r.TokensOut)
	if err != nil {
		return nil, err
	}
	mine, err := again.Result()
	if err != nil {
		return nil, err
	}
	theirs, err := r.Result()
	if err != nil {
		return nil, err
	}
	out.Result = fmt.Sprintf("%x", hashOf(mine))
	if !bytes.Equal(mine, theirs) {
		out.Problem = describeMismatch(r, again)
		return out, nil
	}
	if err := n.checkSpanSources(ctx, r, output); err != nil {
		out.Problem = err.Error()
		return out, nil
	}
	out.OK = true
	return out, nil
}

// describeMismatch says where a recomputed record differs from the signed
// one.
func describeMismatch(signed, again *datanet.AttributionRecord) string {
	var diffs []string
	if len(signed.Spans) != len(again.Spans) {
		diffs = append(diffs, fmt.Sprintf("%d spans, recomputed %d", len(signed.Spans), len(again.Spans)))
	}
	if !slices.Equal(signed.Weights, again.Weights) {
		diffs = append(diffs, "weights differ")
	}
	if len(signed.Payouts) != len(again.Payouts) {
		diffs = append(diffs, fmt.Sprintf("%d payouts, recomputed %d", len(signed.Payouts), len(again.Payouts)))
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "the encodings differ")
	}
	return ErrRecordMismatch.Error() + ": " + strings.Join(diffs, "; ")
}
