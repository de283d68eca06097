package datanet

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/storage"
)

// KindAttribution is the value of the "kind" key of an encoded
// AttributionRecord.
const KindAttribution = "attribution"

// typeAttribution is the EIP-712 primary type of an AttributionRecord.
const typeAttribution = "Attribution"

// WeightScale is one whole in AttributionRecord.Weights: the Parts of the
// weights sum to exactly WeightScale (10^18, as one OPEN is 10^18 wei).
const WeightScale = rewards.Scale

// Payout roles: which pool of an inference's fee a payout comes from.
const (
	RoleContributor = rewards.RoleContributor // the contributor pool, split by Weights
	RoleModelOwner  = rewards.RoleModelOwner  // the model-owner pool, to ModelOwner
	RolePlatform    = rewards.RolePlatform    // the platform fee, to Rewards.Platform
	RoleStaker      = rewards.RoleStaker      // the staker pool, to Rewards.Stakers
)

// Limits of an AttributionRecord's field rules. Together they keep the
// largest record (every list full, every proof MaxProofLen long) at about
// 12.5 MiB, under MaxObjectSize.
const (
	// MaxSpans bounds AttributionRecord.Spans. A span costs at most about
	// 1.1 KiB of the encoding without its shards.
	MaxSpans = 4096
	// MaxSpanShards bounds the SpanShards of all spans of a record
	// together (two a span on average); one costs at most about 900
	// bytes.
	MaxSpanShards = 2 * MaxSpans
	// MaxProofLen bounds a Merkle proof (AttributedSpan.ContributionProof,
	// SpanShard.Proof) in hashes: a tree of 2^24 leaves, more than the
	// shards or contributions any object under MaxObjectSize can list.
	MaxProofLen = 24
	// MaxPayouts bounds AttributionRecord.Payouts: one per weighted
	// contributor, the model owner, the stakers and the platform.
	MaxPayouts = MaxSpans + 3
	// MaxNormalizationLen bounds AttributionParams.Normalization in bytes.
	MaxNormalizationLen = 64
)

// AttributionRecord is the attribution of one model output: the spans of
// the output found verbatim in the model's training snapshots, the weight
// of each contributor, and the payouts of the inference's fee. It is signed
// by the attester, the node that computed it; anyone holding the model's
// snapshots and their shards recomputes it (see Result for the part two
// nodes must agree on byte for byte). Each span carries its proofs: its
// shards are in its contribution's Merkle root, which is in its snapshot's.
//
// Its EIP-712 type is
//
//	Attribution(string model,bytes32 output,uint64 outputSize,
//	            uint32 spanCount,bytes32 spans,bytes32 weights,
//	            bytes32 params,uint64 tokensIn,uint64 tokensOut,
//	            bytes32 payouts,address modelOwner,address attester,
//	            uint64 created)
//
// where model is the model's CID in base32, output the sha2-256 digest of
// the output (the digest of Output), spans, weights and payouts the
// keccak256 of the DAG-CBOR encodings of the "spans", "weights" and
// "payouts" values of the object's encoding, and params the keccak256 of
// the DAG-CBOR encoding of the map {"params": …, "rewards": …} holding the
// "params" and "rewards" values.
type AttributionRecord struct {
	Model cid.Cid `cbor:"model" json:"model"` // the ModelRecord that produced the output
	// Output is the CID of the output bytes: CIDv1 raw sha2-256, so it is
	// both the output's hash and fetchable as a shard.
	Output     cid.Cid           `cbor:"output" json:"output"`
	OutputSize uint64            `cbor:"output_size" json:"output_size"` // bytes, at most Params.MaxOutputBytes
	Params     AttributionParams `cbor:"params" json:"params"`
	// Spans are sorted by (Start, End), unique, at most MaxSpans.
	Spans []AttributedSpan `cbor:"spans" json:"spans"`
	// Weights are the contributors' shares of the contributor pool: sorted
	// by address, unique, each Parts > 0 and the Parts summing to exactly
	// WeightScale; each address is the Contributor of a span. Empty if and
	// only if there is no span.
	Weights   []Share      `cbor:"weights" json:"weights"`
	TokensIn  uint64       `cbor:"tokens_in" json:"tokens_in"`   // tokens of the prompt
	TokensOut uint64       `cbor:"tokens_out" json:"tokens_out"` // tokens of the output
	Rewards   RewardParams `cbor:"rewards" json:"rewards"`
	// ModelOwner is the model's Owner, paid the model-owner pool.
	ModelOwner common.Address `cbor:"model_owner" json:"model_owner"`
	// Payouts are sorted by role then address, one per (role, address),
	// each Amount > 0: contributors of Weights, ModelOwner,
	// Rewards.Stakers and Rewards.Platform in their roles.
	Payouts  []Payout       `cbor:"payouts" json:"payouts"`
	Attester common.Address `cbor:"attester" json:"attester"`
	// ChainID is the model's ChainID. Not 0 once signed.
	ChainID   uint64 `cbor:"chain_id" json:"chain_id"`
	Created   int64  `cbor:"created" json:"created"`     // unix seconds, > 0
	Signature []byte `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

// AttributionParams are the parameters of the span search (the attribution
// package documents their meaning). They are part of the record so a
// recomputation uses the same ones.
type AttributionParams struct {
	MinSpanBytes uint32 `cbor:"min_span_bytes" json:"min_span_bytes"`
	MaxSpanCount uint32 `cbor:"max_span_count" json:"max_span_count"`
	// MaxOutputBytes is the longest output attributed; OutputSize is at
	// most this.
	MaxOutputBytes uint32 `cbor:"max_output_bytes" json:"max_output_bytes"`
	// Normalization names how text is normalized before matching, at most
	// MaxNormalizationLen bytes, one line; may be empty.
	Normalization string `cbor:"normalization" json:"normalization"`
}

// AttributedSpan is one span of the output found verbatim in a
// contribution of a snapshot, with the proofs that tie its source bytes to
// the snapshot's root.
type AttributedSpan struct {
	// Start and End delimit the span in the output: Start < End <=
	// OutputSize.
	Start        uint32         `cbor:"start" json:"start"`
	End          uint32         `cbor:"end" json:"end"`
	Snapshot     cid.Cid        `cbor:"snapshot" json:"snapshot"`         // one of the model's snapshots
	Contribution cid.Cid        `cbor:"contribution" json:"contribution"` // a contribution of Snapshot, credited with the span
	Contributor  common.Address `cbor:"contributor" json:"contributor"`
	File         uint32         `cbor:"file" json:"file"` // index of the file in Contribution.Files
	// Offset and Length are the source bytes in that file; Length > 0.
	Offset uint64 `cbor:"offset" json:"offset"`
	Length uint64 `cbor:"length" json:"length"`
	Count  uint64 `cbor:"count" json:"count"` // occurrences in the indexed data, >= 1
	Weight uint64 `cbor:"weight" json:"weight"`
	// Shards are the shards the source bytes lie in, one per shard, at
	// consecutive leaf indices; at least one.
	Shards []SpanShard `cbor:"shards" json:"shards"`
	// ContributionProof is the Merkle proof of the contribution's leaf
	// (proofs.ContributionLeaf) in the snapshot's Root.
	ContributionProof []common.Hash `cbor:"contribution_proof" json:"contribution_proof"`
}

// SpanShard is a shard holding source bytes of a span, with the Merkle
// proof of its leaf (proofs.ShardLeaf(Index, digest, Size)) in the
// contribution's Root.
type SpanShard struct {
	// Index is the shard's leaf index in the contribution's Merkle tree,
	// counting across files.
	Index uint64        `cbor:"index" json:"index"`
	Shard cid.Cid       `cbor:"shard" json:"shard"` // CIDv1 raw sha2-256
	Size  uint64        `cbor:"size" json:"size"`   // bytes, 1 to MaxChunkSize
	Proof []common.Hash `cbor:"proof" json:"proof"`
}

// Share is an account's part of a whole, in units of 1/WeightScale: the
// rewards package's, which computes the weights.
type Share = rewards.Share

// RewardParams are the fee and split parameters an inference was paid
// under, as OpenLedger describes them: fee = TokensIn/1000·RateIn +
// TokensOut/1000·RateOut + PlatformFee, the net fee split into the pools by
// the basis points, which sum to MaxBps. Amounts are in the token's
// smallest unit, not negative, < 2^256. They are the rewards package's
// Params, which split the fee.
type RewardParams = rewards.Params

// Payout is an amount owed to an account for one inference, in one of the
// Role constants; Amount > 0, < 2^256. It is the rewards package's, which
// computes the payouts.
type Payout = rewards.Payout

var _ Object = (*AttributionRecord)(nil)

// Kind returns KindAttribution.
func (r *AttributionRecord) Kind() string { return KindAttribution }

// Signer returns the attester.
func (r *AttributionRecord) Signer() common.Address { return r.Attester }

// Links returns the model, the output (a raw CID, as a contribution's
// shards are), and each distinct snapshot and contribution of the spans in
// their order of first appearance.
func (r *AttributionRecord) Links() []cid.Cid {
	links := []cid.Cid{r.Model, r.Output}
	seen := make(map[cid.Cid]struct{}, 2*len(r.Spans))
	for _, s := range r.Spans {
		for _, c := range []cid.Cid{s.Snapshot, s.Contribution} {
			if _, ok := seen[c]; !ok {
				seen[c] = struct{}{}
				links = append(links, c)
			}
		}
	}
	return links
}

func (r *AttributionRecord) chainID() uint64 { return r.ChainID }

// Encode returns the canonical encoding of r.
func (r *AttributionRecord) Encode() ([]byte, error) { return encode(r) }

// CID returns the CID of r's canonical encoding.
func (r *AttributionRecord) CID() (cid.Cid, error) { return objectCID(r) }

// Verify checks that r.Signature is the attester's EIP-712 signature of r
// under r.ChainID. It doesn't check the spans' proofs: Registry.Check does.
func (r *AttributionRecord) Verify() error { return verifyObject(r, r.Signature) }

// Result returns the deterministic part of r: its canonical encoding with
// Attester the zero address, Created 0 and Signature empty. Two nodes that
// attribute the same output of the same model with the same parameters
// must get the same Result byte for byte, whoever signs and whenever; a
// recomputation is compared with it. Result fails with ErrInvalid if r
// breaks a field rule. Its bytes are not an object: Decode rejects them.
func (r *AttributionRecord) Result() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	cp := *r
	cp.Attester, cp.Created, cp.Signature = common.Address{}, 0, nil
	data, err := marshalCBOR(&cp)
	if err != nil {
		return nil, fmt.Errorf("%w: attribution: %w", ErrInvalid, err)
	}
	return data, nil
}

// DecodeAttributionRecord decodes an AttributionRecord as Decode does;
// other kinds fail with ErrWrongKind.
func DecodeAttributionRecord(data []byte) (*AttributionRecord, error) {
	return decodeAs[*AttributionRecord](data)
}

// SignAttributionRecord signs r with signer under chainID, the chain ID of
// r's model, as SignContribution does: r.Attester becomes signer's address
// if it is zero and must be it otherwise (ErrWrongSigner).
func SignAttributionRecord(r *AttributionRecord, chainID uint64, signer Signer) error {
	return signInDatanet(r, chainID, signer, func(r *AttributionRecord) (*uint64, *common.Address, *[]byte) {
		return &r.ChainID, &r.Attester, &r.Signature
	})
}

// CompareSpans orders spans as AttributionRecord.Spans takes them: by
// Start, then End.
func CompareSpans(a, b AttributedSpan) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	return cmp.Compare(a.End, b.End)
}

// SortShares sorts shares by address, the order AttributionRecord.Weights
// takes.
func SortShares(shares []Share) {
	slices.SortFunc(shares, func(a, b Share) int { return bytes.Compare(a.Address[:], b.Address[:]) })
}

// ComparePayouts orders payouts as AttributionRecord.Payouts takes them:
// by role, then address.
func ComparePayouts(a, b Payout) int {
	if c := strings.Compare(a.Role, b.Role); c != 0 {
		return c
	}
	return bytes.Compare(a.Address[:], b.Address[:])
}

// Validate checks the field rules of an AttributionRecord: links well
// formed, spans within the output and sorted, weights summing to
// WeightScale, payouts sorted and to the accounts of their roles, bounds.
// It doesn't check that the spans are in the model's snapshots, nor the
// proofs, nor the arithmetic of the payouts.
func (r *AttributionRecord) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("%w: attribution: %w", ErrInvalid, err)
	}
	return nil
}

func (r *AttributionRecord) validate() error {
	if err := checkObjectLink(r.Model); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if err := checkShardLink(r.Output); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := checkText(r.Params.Normalization, MaxNormalizationLen, false); err != nil {
		return fmt.Errorf("params: normalization: %w", err)
	}
	if r.OutputSize > uint64(r.Params.MaxOutputBytes) {
		return fmt.Errorf("output of %d bytes, params allow at most %d", r.OutputSize, r.Params.MaxOutputBytes)
	}
	if err := r.validateSpans(); err != nil {
		return err
	}
	if err := r.validateWeights(); err != nil {
		return err
	}
	if err := validateRewards(&r.Rewards); err != nil {
		return fmt.Errorf("rewards: %w", err)
	}
	if r.ModelOwner == (common.Address{}) {
		return errors.New("model owner is the zero address")
	}
	if err := r.validatePayouts(); err != nil {
		return err
	}
	if r.Attester == (common.Address{}) {
		return errors.New("attester is the zero address")
	}
	if r.ChainID == 0 && len(r.Signature) > 0 {
		return errors.New("signed with chain ID 0")
	}
	if r.Created <= 0 {
		return fmt.Errorf("created %d is not a positive unix time", r.Created)
	}
	return checkSignatureLen(r.Signature)
}

func (r *AttributionRecord) validateSpans() error {
	if len(r.Spans) > MaxSpans {
		return fmt.Errorf("%d spans, at most %d", len(r.Spans), MaxSpans)
	}
	shards := 0
	for i, s := range r.Spans {
		if err := s.validate(r.OutputSize); err != nil {
			return fmt.Errorf("spans[%d]: %w", i, err)
		}
		if i > 0 && CompareSpans(r.Spans[i-1], s) >= 0 {
			return fmt.Errorf("spans[%d] [%d, %d): spans must be sorted by start and end, and unique", i, s.Start, s.End)
		}
		if shards += len(s.Shards); shards > MaxSpanShards {
			return fmt.Errorf("more than %d span shards", MaxSpanShards)
		}
	}
	return nil
}

func (s *AttributedSpan) validate(outputSize uint64) error {
	switch {
	case s.Start >= s.End:
		return fmt.Errorf("start %d is not before end %d", s.Start, s.End)
	case uint64(s.End) > outputSize:
		return fmt.Errorf("end %d is past the output's %d bytes", s.End, outputSize)
	}
	if err := checkObjectLink(s.Snapshot); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := checkObjectLink(s.Contribution); err != nil {
		return fmt.Errorf("contribution: %w", err)
	}
	switch {
	case s.Contributor == (common.Address{}):
		return errors.New("contributor is the zero address")
	case s.Length == 0:
		return errors.New("no source bytes (length 0)")
	case s.Offset+s.Length < s.Offset:
		return errors.New("offset + length overflows uint64")
	case s.Count == 0:
		return errors.New("count 0: the span occurs nowhere")
	case len(s.Shards) == 0:
		return errors.New("no shards")
	case len(s.ContributionProof) > MaxProofLen:
		return fmt.Errorf("contribution proof of %d hashes, at most %d", len(s.ContributionProof), MaxProofLen)
	}
	for j, sh := range s.Shards {
		if err := checkShardLink(sh.Shard); err != nil {
			return fmt.Errorf("shards[%d]: %w", j, err)
		}
		switch {
		case sh.Size == 0 || sh.Size > MaxChunkSize:
			return fmt.Errorf("shards[%d]: size %d not in [1, %d]", j, sh.Size, MaxChunkSize)
		case len(sh.Proof) > MaxProofLen:
			return fmt.Errorf("shards[%d]: proof of %d hashes, at most %d", j, len(sh.Proof), MaxProofLen)
		case j > 0 && sh.Index != s.Shards[j-1].Index+1:
			return fmt.Errorf("shards[%d]: index %d does not follow %d; a span's shards are consecutive", j, sh.Index, s.Shards[j-1].Index)
		}
	}
	return nil
}

func (r *AttributionRecord) validateWeights() error {
	if len(r.Spans) == 0 {
		if len(r.Weights) > 0 {
			return errors.New("weights without spans")
		}
		return nil
	}
	if len(r.Weights) == 0 {
		return errors.New("spans without weights")
	}
	contributors := make(map[common.Address]struct{}, len(r.Spans))
	for _, s := range r.Spans {
		contributors[s.Contributor] = struct{}{}
	}
	var total uint64
	for i, w := range r.Weights {
		switch {
		case w.Parts == 0:
			return fmt.Errorf("weights[%d] %s: 0 parts", i, w.Address)
		case i > 0 && bytes.Compare(r.Weights[i-1].Address[:], w.Address[:]) >= 0:
			return fmt.Errorf("weights[%d] %s: weights must be sorted by address and unique", i, w.Address)
		case w.Parts > WeightScale-total:
			return fmt.Errorf("weights sum to more than %d", WeightScale)
		}
		if _, ok := contributors[w.Address]; !ok {
			return fmt.Errorf("weights[%d] %s is not the contributor of a span", i, w.Address)
		}
		total += w.Parts
	}
	if total != WeightScale {
		return fmt.Errorf("weights sum to %d, want %d", total, WeightScale)
	}
	return nil
}

func validateRewards(p *RewardParams) error {
	for _, f := range []struct {
		name string
		x    *big.Int
	}{{"rate_in", p.RateIn}, {"rate_out", p.RateOut}, {"platform_fee", p.PlatformFee}} {
		if err := checkUint256(f.x); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if sum := uint64(p.ModelOwnerBps) + uint64(p.StakerBps) + uint64(p.ContributorBps); sum != MaxBps {
		return fmt.Errorf("pool shares sum to %d bps, want %d", sum, MaxBps)
	}
	return nil
}

func (r *AttributionRecord) validatePayouts() error {
	if len(r.Payouts) > MaxPayouts {
		return fmt.Errorf("%d payouts, at most %d", len(r.Payouts), MaxPayouts)
	}
	for i, p := range r.Payouts {
		if p.Address == (common.Address{}) {
			return fmt.Errorf("payouts[%d] is to the zero address", i)
		}
		if err := checkUint256(p.Amount); err != nil {
			return fmt.Errorf("payouts[%d]: amount: %w", i, err)
		}
		if p.Amount.Sign() == 0 {
			return fmt.Errorf("payouts[%d]: amount is 0", i)
		}
		var want common.Address
		switch p.Role {
		case RoleContributor:
			if _, ok := r.weight(p.Address); !ok {
				return fmt.Errorf("payouts[%d]: contributor %s has no weight", i, p.Address)
			}
			want = p.Address
		case RoleModelOwner:
			want = r.ModelOwner
		case RoleStaker:
			want = r.Rewards.Stakers
		case RolePlatform:
			want = r.Rewards.Platform
		default:
			return fmt.Errorf("payouts[%d]: role %q, want %s, %s, %s or %s", i, p.Role,
				RoleContributor, RoleModelOwner, RolePlatform, RoleStaker)
		}
		if p.Address != want {
			return fmt.Errorf("payouts[%d]: %s paid as %s, which is %s", i, p.Address, p.Role, want)
		}
		if i > 0 && ComparePayouts(r.Payouts[i-1], p) >= 0 {
			return fmt.Errorf("payouts[%d]: payouts must be sorted by role and address, one per (role, address)", i)
		}
	}
	return nil
}

// weight returns the parts of a's weight.
func (r *AttributionRecord) weight(a common.Address) (uint64, bool) {
	for _, w := range r.Weights {
		if w.Address == a {
			return w.Parts, true
		}
	}
	return 0, false
}

func attributionEIP712Type() []apitypes.Type {
	return []apitypes.Type{
		{Name: "model", Type: "string"},
		{Name: "output", Type: "bytes32"},
		{Name: "outputSize", Type: "uint64"},
		{Name: "spanCount", Type: "uint32"},
		{Name: "spans", Type: "bytes32"},
		{Name: "weights", Type: "bytes32"},
		{Name: "params", Type: "bytes32"},
		{Name: "tokensIn", Type: "uint64"},
		{Name: "tokensOut", Type: "uint64"},
		{Name: "payouts", Type: "bytes32"},
		{Name: "modelOwner", Type: "address"},
		{Name: "attester", Type: "address"},
		{Name: "created", Type: "uint64"},
	}
}

func (r *AttributionRecord) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if r.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", r.Created)
	}
	if uint64(len(r.Spans)) > math.MaxUint32 {
		return "", nil, fmt.Errorf("%d spans do not fit uint32", len(r.Spans))
	}
	if !r.Model.Defined() {
		return "", nil, errors.New("model is undefined")
	}
	output, err := ShardDigest(r.Output)
	if err != nil {
		return "", nil, fmt.Errorf("output: %w", err)
	}
	params := struct {
		Params  AttributionParams `cbor:"params" json:"params"`
		Rewards RewardParams      `cbor:"rewards" json:"rewards"`
	}{r.Params, r.Rewards}
	hashes, err := keccakOfValues(&r.Spans, &r.Weights, &params, &r.Payouts)
	if err != nil {
		return "", nil, err
	}
	return typeAttribution, apitypes.TypedDataMessage{
		"model":      r.Model.String(),
		"output":     hexutil.Encode(output[:]),
		"outputSize": decimal(r.OutputSize),
		"spanCount":  decimal(uint64(len(r.Spans))),
		"spans":      hashes[0],
		"weights":    hashes[1],
		"params":     hashes[2],
		"tokensIn":   decimal(r.TokensIn),
		"tokensOut":  decimal(r.TokensOut),
		"payouts":    hashes[3],
		"modelOwner": r.ModelOwner.Hex(),
		"attester":   r.Attester.Hex(),
		"created":    decimal(uint64(r.Created)),
	}, nil
}

// ShardDigest returns the sha2-256 digest of a raw CID (a shard, an
// output), checking that it is one.
func ShardDigest(c cid.Cid) ([32]byte, error) {
	if err := checkShardLink(c); err != nil {
		return [32]byte{}, err
	}
	return storage.Digest(c)
}

// MarshalJSON returns the JSON view of s: the shard as a CID string, the
// proof as 0x-hex hashes.
func (s SpanShard) MarshalJSON() ([]byte, error) { return marshalJSON(&s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *SpanShard) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, s) }

// MarshalJSON returns the JSON view of s, with the keys of the encoding.
func (s AttributedSpan) MarshalJSON() ([]byte, error) { return marshalJSON(&s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *AttributedSpan) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, s) }

// MarshalJSON returns the JSON view of p, with the keys of the encoding.
func (p AttributionParams) MarshalJSON() ([]byte, error) { return marshalJSON(&p) }

// UnmarshalJSON reads what MarshalJSON writes.
func (p *AttributionParams) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, p) }

// MarshalJSON returns the JSON view of r.
func (r AttributionRecord) MarshalJSON() ([]byte, error) { return marshalJSON(&r) }

// UnmarshalJSON reads the JSON view of an AttributionRecord. It rejects
// unknown keys and another "kind"; it doesn't check field rules.
func (r *AttributionRecord) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, r) }
