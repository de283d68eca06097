package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/attribution"
	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
)

// IndexDir holds the attribution indexes in the repo.
const IndexDir = "index"

// Errors of the attribution API.
var (
	// ErrNotIndexed means a model's snapshots have no span index here yet.
	ErrNotIndexed = errors.New("daemon: snapshot not indexed")
	// ErrRecordMismatch means a record recomputed here differs from the
	// record as signed.
	ErrRecordMismatch = errors.New("daemon: attribution record does not recompute")
)

// indexer builds span indexes, one at a time: a build is disk- and
// CPU-bound, and two at once would only compete.
type indexer struct {
	store *attribution.Store
	mu    sync.Mutex // held for a build
}

// openIndexer opens the repo's index directory.
func (n *Node) openIndexer() (*indexer, error) {
	s, err := attribution.OpenStore(n.repo.Path(IndexDir))
	if err != nil {
		return nil, fmt.Errorf("open the attribution index: %w", err)
	}
	return &indexer{store: s}, nil
}

// snapshotDocs lists the contributions of snapshot s and the text files among
// them, to index.
func (n *Node) snapshotDocs(ctx context.Context, s *datanet.Snapshot) ([]cid.Cid, []attribution.Doc, error) {
	contributions := make([]cid.Cid, 0, s.Count)
	var docs []attribution.Doc
	err := n.registry.SnapshotEntries(ctx, s, func(e *datanet.SnapshotEntry) error {
		k, err := n.registry.Contribution(ctx, e.Contribution)
		if err != nil {
			return fmt.Errorf("contribution %s: %w", e.Contribution, err)
		}
		contributions = append(contributions, e.Contribution)
		for i, f := range k.Files {
			kind := f.Kind()
			if !attribution.Indexable(kind) {
				continue
			}
			docs = append(docs, attribution.Doc{
				Contribution: e.Contribution,
				File:         uint32(i),
				Kind:         kind,
				Size:         int64(f.Size),
				Open: func(ctx context.Context) (io.ReadCloser, error) {
					r, err := n.store.NewFileReader(ctx, f.Shards, int(k.ChunkSize), int64(f.Size))
					if err != nil {
						return nil, err
					}
					return io.NopCloser(r), nil
				},
			})
		}
		return nil
	})
	return contributions, docs, err
}

// IndexResult is the answer of attribution_index.
type IndexResult struct {
	Snapshot      string   `json:"snapshot"`
	Contributions int      `json:"contributions"`
	Segments      []string `json:"segments"`
	TextBytes     int64    `json:"text_bytes"`
	Fetched       int64    `json:"fetched_bytes,omitempty"`
	Took          string   `json:"took"`
}

// indexSnapshot builds the span index of a snapshot, fetching the snapshot
// and its files first if they are not held. progress reports the bytes of
// text read.
func (n *Node) indexSnapshot(ctx context.Context, sc cid.Cid, progress func(done, total int64)) (*IndexResult, error) {
	if n.index == nil {
		return nil, fmt.Errorf("%w: the attribution index is not open", ErrClosed)
	}
	start := time.Now()
	if err := n.ensureObject(ctx, sc); err != nil {
		return nil, err
	}
	s, err := n.registry.Snapshot(ctx, sc)
	if err != nil {
		return nil, err
	}
	res := &IndexResult{Snapshot: sc.String(), Contributions: int(s.Count)}
	if n.net != nil {
		fr, err := n.fetch(ctx, sc.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("fetch the files of snapshot %s: %w", sc, err)
		}
		res.Fetched = fr.Bytes
	}
	contributions, docs, err := n.snapshotDocs(ctx, s)
	if err != nil {
		return nil, err
	}
	n.index.mu.Lock()
	defer n.index.mu.Unlock()
	m, err := n.index.store.Build(ctx, sc.String(), contributions, docs, attribution.BuildOptions{Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("index snapshot %s: %w", sc, err)
	}
	for _, seg := range m.Segments {
		res.Segments = append(res.Segments, seg.ID)
		res.TextBytes += seg.TextBytes
	}
	res.Took = time.Since(start).Round(time.Millisecond).String()
	n.log.Info("snapshot indexed", "snapshot", sc.String(), "contributions", len(contributions),
		"text_bytes", res.TextBytes, "segments", len(m.Segments), "took", res.Took)
	return res, nil
}

// autoIndex indexes a snapshot of a joined Datanet that arrived from the
// network, in the background. Builds queue behind each other.
func (n *Node) autoIndex(sc cid.Cid) {
	if n.index == nil || !n.repo.Config.Attribution.AutoIndex || n.index.store.Indexed(sc.String()) {
		return // sync may hand over a snapshot again
	}
	n.wg.Go(func() {
		if _, err := n.indexSnapshot(n.ctx, sc, nil); err != nil && n.ctx.Err() == nil {
			n.log.Warn("index an arrived snapshot; run openledger attribution index to retry",
				"snapshot", sc.String(), "err", err)
		}
	})
}

// modelInputs is what an attribution over a model reads: the model, its
// snapshots, the contributions in them with their ranks.
type modelInputs struct {
	cid       cid.Cid
	model     *datanet.ModelRecord
	snapshots map[cid.Cid]*datanet.SnapshotProofs
	members   []attribution.Member
	// holder is, for each contribution, the first of the model's
	// snapshots (in the model's order) that lists it.
	holder map[cid.Cid]cid.Cid
}

// loadModel reads a model and ranks the contributions of its snapshots by
// when they were first accepted, from each snapshot's evidence: an earlier
// acceptance is a lower rank (ties are broken by CID in the attribution
// package). Every node computes the same ranks from the same snapshots.
func (n *Node) loadModel(ctx context.Context, mc cid.Cid) (*modelInputs, error) {
	if err := n.ensureObject(ctx, mc); err != nil {
		return nil, fmt.Errorf("model %s: %w", mc, err)
	}
	m, err := n.registry.Model(ctx, mc)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", mc, err)
	}
	// Of each contribution, its head only: a snapshot may list a million.
	contributions := map[cid.Cid]datanet.ContributionSummary{}
	in := &modelInputs{cid: mc, model: m, snapshots: map[cid.Cid]*datanet.SnapshotProofs{}, holder: map[cid.Cid]cid.Cid{}}
	rank := map[cid.Cid]int64{}
	for _, ms := range m.Snapshots {
		s, err := n.registry.Snapshot(ctx, ms.Snapshot)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s of model %s: %w", ms.Snapshot, mc, err)
		}
		if in.snapshots[ms.Snapshot], err = n.registry.SnapshotTreeOf(ctx, s); err != nil {
			return nil, fmt.Errorf("snapshot %s of model %s: %w", ms.Snapshot, mc, err)
		}
		obj, err := n.registry.Object(ctx, s.Policy)
		if err != nil {
			return nil, fmt.Errorf("policy %s of snapshot %s: %w", s.Policy, ms.Snapshot, err)
		}
		d, ok := obj.(*datanet.Datanet)
		if !ok {
			return nil, fmt.Errorf("policy %s of snapshot %s: %w", s.Policy, ms.Snapshot, datanet.ErrWrongKind)
		}
		err = n.registry.SnapshotEntries(ctx, s, func(e *datanet.SnapshotEntry) error {
			k, seen := contributions[e.Contribution]
			if !seen {
				var err error
				if k, err = n.registry.ContributionHead(ctx, e.Contribution); err != nil {
					return fmt.Errorf("contribution %s: %w", e.Contribution, err)
				}
				contributions[e.Contribution] = k
				in.holder[e.Contribution] = ms.Snapshot
			}
			r, err := curation.Rank(d, s, k.Created, e)
			if err != nil {
				return err
			}
			if old, seen := rank[e.Contribution]; !seen || r < old {
				rank[e.Contribution] = r
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot %s of model %s: %w", ms.Snapshot, mc, err)
		}
	}
	for c, r := range rank {
		in.members = append(in.members, attribution.Member{Contribution: c, Contributor: contributions[c].Contributor, Rank: uint64(r)})
	}
	slices.SortFunc(in.members, func(a, b attribution.Member) int {
		return strings.Compare(a.Contribution.KeyString(), b.Contribution.KeyString())
	})
	return in, nil
}

// searcher opens the span index over a model's contributions.
func (n *Node) searcher(ctx context.Context, in *modelInputs) (*attribution.Searcher, error) {
	if n.index == nil {
		return nil, fmt.Errorf("%w: the attribution index is not open", ErrClosed)
	}
	s, err := n.index.store.Searcher(ctx, in.members)
	if err == nil {
		return s, nil
	}
	if nie, ok := errors.AsType[*attribution.NotIndexedError](err); ok {
		var missing []string
		seen := map[cid.Cid]bool{}
		for _, c := range nie.Missing {
			if h := in.holder[c]; !seen[h] {
				seen[h] = true
				missing = append(missing, h.String())
			}
		}
		slices.Sort(missing)
		return nil, fmt.Errorf("%w: model %s needs snapshot %s indexed (run openledger attribution index %s)",
			ErrNotIndexed, in.cid, strings.Join(missing, ", "), missing[0])
	}
	return nil, err
}

// computeRecord attributes output over a model, splits the fee, and has
// datanet.BuildAttributionRecord build the unsigned record. Attest and
// verify both call it (verify with a record's own parameters) and must get
// the same bytes.
func (n *Node) computeRecord(ctx context.Context, in *modelInputs, output []byte, p attribution.Params,
	rp rewards.Params, tokensIn, tokensOut uint64) (*datanet.AttributionRecord, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if err := rp.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	s, err := n.searcher(ctx, in)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	res, err := s.Attribute(ctx, output, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	payouts, err := rewards.Split(rp, tokensIn, tokensOut, in.model.Owner, res.Weights)
	if err != nil {
		return nil, err
	}
	ri := datanet.RecordInput{
		Model:       in.cid,
		ModelRecord: in.model,
		Output:      output,
		Params: datanet.AttributionParams{
			MinSpanBytes: p.MinSpanBytes, MaxSpanCount: p.MaxSpanCount, MaxOutputBytes: p.MaxOutputBytes,
			Normalization: attribution.Normalization,
		},
		TokensIn:      tokensIn,
		TokensOut:     tokensOut,
		Rewards:       rp,
		Snapshots:     in.snapshots,
		Contributions: map[cid.Cid]*datanet.Contribution{},
		Attester:      common.HexToAddress(n.repo.Config.Identity.Account),
		Created:       n.opts.Now().Unix(),
	}
	ri.Weights, ri.Payouts = res.Weights, payouts
	for _, sp := range res.Spans {
		if _, ok := ri.Contributions[sp.Contribution]; !ok {
			if ri.Contributions[sp.Contribution], err = n.registry.Contribution(ctx, sp.Contribution); err != nil {
				return nil, err
			}
		}
		ri.Spans = append(ri.Spans, datanet.AttributedSpan{
			Start: sp.Start, End: sp.End, Snapshot: in.holder[sp.Contribution], Contribution: sp.Contribution,
			Contributor: sp.Contributor, File: sp.File, Offset: sp.Offset, Length: sp.Length,
			Count: sp.Count, Weight: sp.Weight,
		})
	}
	return datanet.BuildAttributionRecord(ri)
}

// checkSpanSources reads every span's source bytes from the shards and
// checks they are the span's text. The span's proofs (shard in contribution,
// contribution in snapshot) were checked when the record was stored:
// Registry.Check does that for every record.
func (n *Node) checkSpanSources(ctx context.Context, r *datanet.AttributionRecord, output []byte) error {
	for i, sp := range r.Spans {
		k, err := n.registry.Contribution(ctx, sp.Contribution)
		if err != nil {
			return err
		}
		f := k.Files[sp.File]
		rd, err := n.store.NewFileReader(ctx, f.Shards, int(k.ChunkSize), int64(f.Size))
		if err != nil {
			return err
		}
		src := make([]byte, sp.Length)
		if _, err := rd.Seek(int64(sp.Offset), io.SeekStart); err != nil {
			return err
		}
		if _, err := io.ReadFull(rd, src); err != nil {
			return fmt.Errorf("span %d: read the source bytes: %w", i, err)
		}
		got := attribution.SourceText(f.Kind(), src)
		want := attribution.Normalize(nil, output[sp.Start:sp.End])
		if !bytes.Equal(got, want) {
			return fmt.Errorf("span %d: the source bytes of %s at %d are not the span's text", i, f.Path, sp.Offset)
		}
	}
	return nil
}

// hashOf is the sha256 of b.
func hashOf(b []byte) [32]byte { return sha256.Sum256(b) }
