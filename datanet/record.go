package datanet

import (
	"bytes"
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// Kind is the file's kind: its extension, lower case, without the dot
// ("csv" for "data/Train.CSV"); "" when it has none.
func (f File) Kind() string { return extKind(f.Path) }

// ShardSize is the size of shard j of f in a contribution of chunk-byte
// shards: chunk, but the last shard holds the rest.
func (f File) ShardSize(j int, chunk uint64) uint64 {
	if j == len(f.Shards)-1 {
		return f.Size - chunk*uint64(len(f.Shards)-1)
	}
	return chunk
}

// RecordInput is what an attribution record is built from: the model, the
// output, the spans the search located with their weights, the fee's
// payouts, and the objects the spans' proofs come from.
type RecordInput struct {
	Model       cid.Cid
	ModelRecord *ModelRecord
	Output      []byte
	Params      AttributionParams
	TokensIn    uint64
	TokensOut   uint64
	Rewards     RewardParams
	// Spans are the located spans, Start through Weight set; the builder
	// adds their shard and snapshot proofs.
	Spans   []AttributedSpan
	Weights []Share
	Payouts []Payout
	// Snapshots and Contributions hold, by CID, the proofs of every
	// snapshot and every contribution the spans name.
	Snapshots     map[cid.Cid]*SnapshotProofs
	Contributions map[cid.Cid]*Contribution
	Attester      common.Address
	Created       int64
}

// BuildAttributionRecord builds the unsigned record of in: the record's
// fields, and for each span the shards its source bytes lie in with their
// proofs against the contribution's root and the contribution's proof
// against the snapshot's root. It is deterministic: every node given the
// same input builds the same record, so a verifier rebuilds a record from
// its own parameters and compares the bytes of Result. A contribution whose
// shards do not hash to its root fails with storage.ErrCorrupt.
func BuildAttributionRecord(in RecordInput) (*AttributionRecord, error) {
	if in.ModelRecord == nil {
		return nil, fmt.Errorf("%w: attribution record without a model", ErrInvalid)
	}
	r := &AttributionRecord{
		Model:      in.Model,
		Output:     storage.ShardCID(in.Output),
		OutputSize: uint64(len(in.Output)),
		Params:     in.Params,
		Weights:    in.Weights,
		TokensIn:   in.TokensIn,
		TokensOut:  in.TokensOut,
		Rewards:    in.Rewards,
		ModelOwner: in.ModelRecord.Owner,
		Payouts:    in.Payouts,
		Attester:   in.Attester,
		ChainID:    in.ModelRecord.ChainID,
		Created:    in.Created,
	}
	trees := map[cid.Cid]*contributionTree{}
	for _, sp := range in.Spans {
		t, ok := trees[sp.Contribution]
		if !ok {
			k := in.Contributions[sp.Contribution]
			if k == nil {
				return nil, fmt.Errorf("span at %d of the output: contribution %s not given", sp.Start, sp.Contribution)
			}
			var err error
			if t, err = newContributionTree(sp.Contribution, k); err != nil {
				return nil, err
			}
			trees[sp.Contribution] = t
		}
		var err error
		if sp.Shards, err = t.spanShards(sp.File, sp.Offset, sp.Length); err != nil {
			return nil, fmt.Errorf("span at %d of the output: %w", sp.Start, err)
		}
		sproofs := in.Snapshots[sp.Snapshot]
		if sproofs == nil {
			return nil, fmt.Errorf("span at %d of the output: snapshot %s not given", sp.Start, sp.Snapshot)
		}
		if sp.ContributionProof, err = sproofs.Proof(sp.Contribution); err != nil {
			return nil, fmt.Errorf("span at %d of the output: snapshot %s: %w", sp.Start, sp.Snapshot, err)
		}
		r.Spans = append(r.Spans, sp)
	}
	return r, nil
}

// contributionTree is a contribution's Merkle tree over its shards, with
// where each file's shards start among the leaves.
type contributionTree struct {
	k     *Contribution
	tree  *proofs.Tree
	first []uint64 // leaf index of each file's first shard
}

func newContributionTree(c cid.Cid, k *Contribution) (*contributionTree, error) {
	t := &contributionTree{k: k, first: make([]uint64, len(k.Files))}
	var leaves uint64
	for i, f := range k.Files {
		t.first[i] = leaves
		leaves += uint64(len(f.Shards))
	}
	var err error
	if t.tree, err = k.Tree(); err != nil {
		return nil, err
	}
	if t.tree.Root() != proofs.Hash(k.Root) {
		return nil, fmt.Errorf("%w: contribution %s: its shards do not hash to its root", storage.ErrCorrupt, c)
	}
	return t, nil
}

// spanShards lists the shards the source bytes [offset, offset+length) of a
// file lie in, with their proofs against the contribution's root.
func (t *contributionTree) spanShards(file uint32, offset, length uint64) ([]SpanShard, error) {
	if int(file) >= len(t.k.Files) {
		return nil, fmt.Errorf("file %d of a contribution of %d files", file, len(t.k.Files))
	}
	f := t.k.Files[file]
	if length == 0 || offset+length > f.Size {
		return nil, fmt.Errorf("source bytes [%d, %d) outside file %q of %d bytes", offset, offset+length, f.Path, f.Size)
	}
	chunk := t.k.ChunkSize
	var out []SpanShard
	for j := offset / chunk; j <= (offset+length-1)/chunk; j++ {
		leaf := t.first[file] + j
		proof, err := t.tree.Proof(int(leaf))
		if err != nil {
			return nil, err
		}
		out = append(out, SpanShard{
			Index: leaf, Shard: f.Shards[j], Size: f.ShardSize(int(j), chunk), Proof: commonHashes(proof),
		})
	}
	return out, nil
}

func commonHashes(p []proofs.Hash) []common.Hash {
	out := make([]common.Hash, len(p))
	for i, h := range p {
		out[i] = common.Hash(h)
	}
	return out
}

// AnchorLeaf is the leaf an object with CID c is anchored as:
// proofs.ObjectLeaf of the sha2-256 digest the CID holds.
func AnchorLeaf(c cid.Cid) (proofs.Hash, error) {
	digest, err := storage.Digest(c)
	if err != nil {
		return proofs.Hash{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return proofs.ObjectLeaf(digest), nil
}

// ProofLeaf is the leaf an anchor proof of an object must carry: the
// AnchorLeaf of the CID its ID holds. Check the proof with
// p.Check(ctx, client, leaf).
func ProofLeaf(p *proofs.AnchorProof) (proofs.Hash, error) {
	id, err := cid.Cast(p.ID)
	if err != nil {
		return proofs.Hash{}, fmt.Errorf("%w: the proof's id is not a CID: %w", ErrInvalid, err)
	}
	return AnchorLeaf(id)
}

// SubmitAttribution checks a signed attribution record made on this node as
// Check checks one from the network, then stores and pins it with its
// output, a raw shard whose CID the record names, in one add session: the
// store holds both or neither.
func (r *Registry) SubmitAttribution(ctx context.Context, rec *AttributionRecord, output []byte) (*Checked, error) {
	data, err := rec.Encode()
	if err != nil {
		return nil, err
	}
	ch, err := r.Check(ctx, cid.Undef, data)
	if err != nil {
		return nil, err
	}
	sess, err := r.store.NewSession(ctx, int64(len(output)))
	if err != nil {
		return nil, err
	}
	defer sess.Abort() // no-op after Commit
	refs, err := sess.Chunk(ctx, bytes.NewReader(output), MaxChunkSize, nil)
	if err != nil {
		return nil, err
	}
	if len(refs) != 1 || !refs[0].CID.Equals(rec.Output) {
		return nil, fmt.Errorf("%w: the output stored as %d shards, want its one raw CID %s", ErrInvalid, len(refs), rec.Output)
	}
	err = r.putIndexed(ctx, ch.CID, rec, ch.Datanet, func(fn func(*storage.IndexTxn) error) error {
		return sess.CommitIndexed(ctx, objectPut(ch.CID, data, rec, ch.Datanet, true), fn)
	})
	if err != nil {
		return nil, err
	}
	r.emit(ch, true)
	return ch, nil
}
