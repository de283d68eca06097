package datanet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

// attesterKeyHex is Hardhat and Anvil account 5, the golden attester.
// Never use it for anything of value.
const attesterKeyHex = "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"

func attesterSigner(t testing.TB) Signer { return NewKeySigner(testKey(t, attesterKeyHex)) }

// The golden record's platform and staking addresses (Hardhat accounts 6
// and 7).
var (
	testPlatform = common.HexToAddress("0x976EA74026E726554dB657fA54763abd0C3a0aa9")
	testStakers  = common.HexToAddress("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955")
)

// goldenOutput is the model output the golden record attributes.
const goldenOutput = "Take 400 mg of ibuprofen every 6 hours with food."

func proofOf(labels ...string) []common.Hash {
	out := make([]common.Hash, len(labels))
	for i, l := range labels {
		out[i] = crypto.Keccak256Hash([]byte(l))
	}
	return out
}

// testRewards returns the golden reward parameters: 0.002 and 0.006 OPEN
// per 1000 tokens in and out, 0.001 OPEN to the platform, 20/10/70% to
// the model owner, the stakers and the contributors.
func testRewards() RewardParams {
	return RewardParams{
		RateIn:         big.NewInt(2e15),
		RateOut:        big.NewInt(6e15),
		PlatformFee:    big.NewInt(1e15),
		ModelOwnerBps:  2000,
		StakerBps:      1000,
		ContributorBps: 7000,
		Platform:       testPlatform,
		Stakers:        testStakers,
	}
}

// testAttribution returns the unsigned golden AttributionRecord: two spans
// of the output credited to the golden contribution of the golden snapshot
// of the golden model. Its proofs are placeholders (the golden
// contribution's root is too); Registry tests build real ones.
func testAttribution(t testing.TB) *AttributionRecord {
	t.Helper()
	c := signedContribution(t)
	a := c.Files[1] // data/a.txt: leaves 1 to 3
	// 120 tokens in, 12 out: Net = (120·0.002 + 12·0.006)/1000 OPEN.
	return &AttributionRecord{
		Model:      mustCID(t, signedModel(t)),
		Output:     rawCID(t, []byte(goldenOutput)),
		OutputSize: uint64(len(goldenOutput)),
		Params:     AttributionParams{MinSpanBytes: 12, MaxSpanCount: 1000, MaxOutputBytes: 1 << 16, Normalization: "openledger-text/1"},
		Spans: []AttributedSpan{
			{
				Start: 0, End: 27, Snapshot: mustCID(t, signedSnapshot(t)), Contribution: mustCID(t, c),
				Contributor: c.Contributor, File: 1, Offset: 1<<20 - 10, Length: 27, Count: 3, Weight: 27,
				Shards: []SpanShard{
					{Index: 1, Shard: a.Shards[0], Size: 1 << 20, Proof: proofOf("leaf 0", "node 23")},
					{Index: 2, Shard: a.Shards[1], Size: 1 << 20, Proof: proofOf("leaf 3", "node 01")},
				},
			},
			{
				Start: 28, End: 49, Snapshot: mustCID(t, signedSnapshot(t)), Contribution: mustCID(t, c),
				Contributor: c.Contributor, File: 1, Offset: 2<<20 + 1000, Length: 21, Count: 1, Weight: 63,
				Shards: []SpanShard{{Index: 3, Shard: a.Shards[2], Size: 1 << 19, Proof: proofOf("leaf 2", "node 01")}},
			},
		},
		Weights:    []Share{{Address: c.Contributor, Parts: WeightScale}},
		TokensIn:   120,
		TokensOut:  12,
		Rewards:    testRewards(),
		ModelOwner: trainerSigner(t).Address(),
		Payouts: []Payout{
			{Address: c.Contributor, Role: RoleContributor, Amount: big.NewInt(218_400_000_000_000)},
			{Address: trainerSigner(t).Address(), Role: RoleModelOwner, Amount: big.NewInt(62_400_000_000_000)},
			{Address: testPlatform, Role: RolePlatform, Amount: big.NewInt(1_000_000_000_000_000)},
			{Address: testStakers, Role: RoleStaker, Amount: big.NewInt(31_200_000_000_000)},
		},
		Created: 1767315600, // 2026-01-02T01:00:00Z
	}
}

// signedAttribution returns the golden AttributionRecord, signed by the
// attester.
func signedAttribution(t testing.TB) *AttributionRecord {
	t.Helper()
	r := testAttribution(t)
	if err := SignAttributionRecord(r, testChainID, attesterSigner(t)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAttributionRoundTrip(t *testing.T) {
	r := signedAttribution(t)
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeAttributionRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, r)
	}
	if err := back.Verify(); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"amount":"1000000000000000"`, `"rate_out":"6000000000000000"`, `"role":"model_owner"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON view lacks %s:\n%s", want, js)
		}
	}
	var fromJSON AttributionRecord
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if again := encodeObject(t, &fromJSON); !bytes.Equal(again, data) {
		t.Fatalf("JSON round trip changed the record:\n%s", js)
	}
	if _, err := DecodeAttributionRecord(encodeObject(t, signedModel(t))); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("DecodeAttributionRecord(model) = %v, want ErrWrongKind", err)
	}
	if k, err := KindOf(data); err != nil || k != KindAttribution {
		t.Fatalf("KindOf = %q, %v", k, err)
	}

	// No span: no weights, no contributor payout.
	r = testAttribution(t)
	r.Spans, r.Weights, r.Payouts = nil, nil, r.Payouts[1:]
	if err := SignAttributionRecord(r, testChainID, attesterSigner(t)); err != nil {
		t.Fatal(err)
	}
	back, err = DecodeAttributionRecord(encodeObject(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, r)
	}
}

func TestAttributionLinks(t *testing.T) {
	r := testAttribution(t)
	s, k := r.Spans[0].Snapshot, r.Spans[0].Contribution
	want := []cid.Cid{r.Model, r.Output, s, k}
	if got := r.Links(); !sameCIDs(got, want) {
		t.Fatalf("Links = %v\nwant %v", got, want)
	}
}

func TestAttributionValidate(t *testing.T) {
	shard := rawCID(t, []byte("shard"))
	obj := objectCIDOf(t, "object")
	other := common.HexToAddress("0x1111111111111111111111111111111111111111") // no role
	tests := []struct {
		name   string
		change func(r *AttributionRecord)
		ok     bool
	}{
		{"golden", func(r *AttributionRecord) {}, true},
		{"signed", func(r *AttributionRecord) { r.ChainID, r.Signature = testChainID, make([]byte, 65) }, true},
		{"unsigned draft without chain ID", func(r *AttributionRecord) { r.ChainID = 0 }, true},
		{"no spans", func(r *AttributionRecord) { r.Spans, r.Weights, r.Payouts = nil, nil, r.Payouts[1:] }, true},
		{"no payouts", func(r *AttributionRecord) { r.Payouts = nil }, true},
		{"zero fees", func(r *AttributionRecord) {
			r.Rewards.RateIn, r.Rewards.RateOut, r.Rewards.PlatformFee = new(big.Int), new(big.Int), new(big.Int)
		}, true},
		{"overlapping spans", func(r *AttributionRecord) { r.Spans[1].Start = 10 }, true},
		{"same start", func(r *AttributionRecord) { r.Spans[1].Start = 0 }, true},
		{"span ends at the end", func(r *AttributionRecord) { r.Spans[1].End = uint32(r.OutputSize) }, true},
		{"empty proofs", func(r *AttributionRecord) { r.Spans[1].Shards[0].Proof = nil }, true},
		{"longest proof", func(r *AttributionRecord) { r.Spans[0].ContributionProof = make([]common.Hash, MaxProofLen) }, true},
		{"two contributors", func(r *AttributionRecord) {
			r.Spans[1].Contributor = other
			r.Weights = []Share{{Address: r.Spans[0].Contributor, Parts: WeightScale / 4}, {Address: other, Parts: WeightScale - WeightScale/4}}
			SortShares(r.Weights)
		}, true},
		{"no platform", func(r *AttributionRecord) {
			r.Rewards.Platform, r.Payouts = common.Address{}, append(r.Payouts[:2:2], r.Payouts[3])
		}, true},

		{"undefined model", func(r *AttributionRecord) { r.Model = cid.Undef }, false},
		{"model is a shard", func(r *AttributionRecord) { r.Model = shard }, false},
		{"undefined output", func(r *AttributionRecord) { r.Output = cid.Undef }, false},
		{"output is an object", func(r *AttributionRecord) { r.Output = obj }, false},
		{"output is CIDv0", func(r *AttributionRecord) { r.Output = cid.NewCidV0(r.Output.Hash()) }, false},
		{"output over the limit", func(r *AttributionRecord) { r.Params.MaxOutputBytes = uint32(r.OutputSize) - 1 }, false},
		{"long normalization", func(r *AttributionRecord) { r.Params.Normalization = strings.Repeat("n", MaxNormalizationLen+1) }, false},
		{"newline in normalization", func(r *AttributionRecord) { r.Params.Normalization = "a\nb" }, false},
		{"empty span", func(r *AttributionRecord) { r.Spans[0].End = r.Spans[0].Start }, false},
		{"reversed span", func(r *AttributionRecord) { r.Spans[0].Start, r.Spans[0].End = 27, 20 }, false},
		{"span past the output", func(r *AttributionRecord) { r.Spans[1].End = uint32(r.OutputSize) + 1 }, false},
		{"unsorted spans", func(r *AttributionRecord) { r.Spans[0], r.Spans[1] = r.Spans[1], r.Spans[0] }, false},
		{"duplicate span", func(r *AttributionRecord) { r.Spans[1] = r.Spans[0] }, false},
		{"too many spans", func(r *AttributionRecord) {
			s := r.Spans[1]
			r.Spans = nil
			for i := range MaxSpans + 1 {
				s.Start, s.End = uint32(i), uint32(i)+1
				r.Spans = append(r.Spans, s)
			}
			r.OutputSize, r.Params.MaxOutputBytes = MaxSpans+1, MaxSpans+1
		}, false},
		{"too many span shards", func(r *AttributionRecord) {
			s := r.Spans[0]
			s.Shards = nil
			for i := range MaxSpanShards + 1 {
				s.Shards = append(s.Shards, SpanShard{Index: uint64(i), Shard: shard, Size: 1})
			}
			r.Spans[0] = s
		}, false},
		{"snapshot is a shard", func(r *AttributionRecord) { r.Spans[0].Snapshot = shard }, false},
		{"undefined contribution", func(r *AttributionRecord) { r.Spans[0].Contribution = cid.Undef }, false},
		{"zero contributor", func(r *AttributionRecord) { r.Spans[0].Contributor = common.Address{} }, false},
		{"no source bytes", func(r *AttributionRecord) { r.Spans[0].Length = 0 }, false},
		{"source overflows", func(r *AttributionRecord) { r.Spans[0].Offset = 1<<64 - 10 }, false},
		{"count 0", func(r *AttributionRecord) { r.Spans[0].Count = 0 }, false},
		{"no shards", func(r *AttributionRecord) { r.Spans[0].Shards = nil }, false},
		{"shard is an object", func(r *AttributionRecord) { r.Spans[0].Shards[0].Shard = obj }, false},
		{"undefined shard", func(r *AttributionRecord) { r.Spans[0].Shards[0].Shard = cid.Undef }, false},
		{"empty shard", func(r *AttributionRecord) { r.Spans[0].Shards[0].Size = 0 }, false},
		{"oversized shard", func(r *AttributionRecord) { r.Spans[0].Shards[0].Size = MaxChunkSize + 1 }, false},
		{"shards not consecutive", func(r *AttributionRecord) { r.Spans[0].Shards[1].Index = 3 }, false},
		{"shards reversed", func(r *AttributionRecord) {
			r.Spans[0].Shards[0], r.Spans[0].Shards[1] = r.Spans[0].Shards[1], r.Spans[0].Shards[0]
		}, false},
		{"long shard proof", func(r *AttributionRecord) { r.Spans[0].Shards[0].Proof = make([]common.Hash, MaxProofLen+1) }, false},
		{"long contribution proof", func(r *AttributionRecord) {
			r.Spans[0].ContributionProof = make([]common.Hash, MaxProofLen+1)
		}, false},
		{"spans without weights", func(r *AttributionRecord) { r.Weights, r.Payouts = nil, r.Payouts[1:] }, false},
		{"weights without spans", func(r *AttributionRecord) { r.Spans = nil }, false},
		{"weights short of the scale", func(r *AttributionRecord) { r.Weights[0].Parts-- }, false},
		{"weights over the scale", func(r *AttributionRecord) { r.Weights[0].Parts++ }, false},
		{"zero weight", func(r *AttributionRecord) {
			r.Weights = append(r.Weights, Share{Address: other})
			SortShares(r.Weights)
		}, false},
		{"weight overflows", func(r *AttributionRecord) {
			r.Spans[1].Contributor = other
			r.Weights = []Share{{Address: r.Spans[0].Contributor, Parts: 1<<64 - 1}, {Address: other, Parts: WeightScale + 1}}
			SortShares(r.Weights)
		}, false},
		{"duplicate weight", func(r *AttributionRecord) {
			w := r.Weights[0]
			w.Parts /= 2
			r.Weights = []Share{w, w}
		}, false},
		{"unsorted weights", func(r *AttributionRecord) {
			r.Spans[1].Contributor = other
			r.Weights = []Share{{Address: r.Spans[0].Contributor, Parts: WeightScale / 2}, {Address: other, Parts: WeightScale / 2}}
			SortShares(r.Weights)
			r.Weights[0], r.Weights[1] = r.Weights[1], r.Weights[0]
		}, false},
		{"weight of no span's contributor", func(r *AttributionRecord) { r.Weights[0].Address = other }, false},
		{"nil rate", func(r *AttributionRecord) { r.Rewards.RateIn = nil }, false},
		{"negative fee", func(r *AttributionRecord) { r.Rewards.PlatformFee = big.NewInt(-1) }, false},
		{"rate over 256 bits", func(r *AttributionRecord) { r.Rewards.RateOut = new(big.Int).Lsh(big.NewInt(1), 256) }, false},
		{"pools short of 100%", func(r *AttributionRecord) { r.Rewards.StakerBps-- }, false},
		{"pools over 100%", func(r *AttributionRecord) { r.Rewards.ContributorBps = MaxBps }, false},
		{"zero model owner", func(r *AttributionRecord) { r.ModelOwner = common.Address{} }, false},
		{"unknown role", func(r *AttributionRecord) { r.Payouts[3].Role = "curator" }, false},
		{"zero amount", func(r *AttributionRecord) { r.Payouts[0].Amount = new(big.Int) }, false},
		{"nil amount", func(r *AttributionRecord) { r.Payouts[0].Amount = nil }, false},
		{"negative amount", func(r *AttributionRecord) { r.Payouts[0].Amount = big.NewInt(-5) }, false},
		{"amount over 256 bits", func(r *AttributionRecord) { r.Payouts[0].Amount = new(big.Int).Lsh(big.NewInt(1), 256) }, false},
		{"payout to the zero address", func(r *AttributionRecord) {
			r.Rewards.Platform = common.Address{}
			r.Payouts[2].Address = common.Address{}
		}, false},
		{"unsorted payouts", func(r *AttributionRecord) { r.Payouts[0], r.Payouts[1] = r.Payouts[1], r.Payouts[0] }, false},
		{"duplicate payout", func(r *AttributionRecord) { r.Payouts[1] = r.Payouts[0] }, false},
		{"contributor payout without weight", func(r *AttributionRecord) { r.Payouts[0].Address = other }, false},
		{"model owner payout to another", func(r *AttributionRecord) { r.Payouts[1].Address = other }, false},
		{"platform payout to another", func(r *AttributionRecord) { r.Payouts[2].Address = other }, false},
		{"staker payout to another", func(r *AttributionRecord) { r.Payouts[3].Address = other }, false},
		{"zero attester", func(r *AttributionRecord) { r.Attester = common.Address{} }, false},
		{"signed without chain ID", func(r *AttributionRecord) { r.ChainID, r.Signature = 0, make([]byte, 65) }, false},
		{"zero created", func(r *AttributionRecord) { r.Created = 0 }, false},
		{"long signature", func(r *AttributionRecord) { r.Signature = make([]byte, 66) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testAttribution(t)
			r.Attester, r.ChainID = attesterSigner(t).Address(), testChainID
			tt.change(r)
			err := r.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, encErr := r.Encode(); (encErr == nil) != tt.ok {
				t.Errorf("Encode error %v, want error: %t", encErr, !tt.ok)
			}
		})
	}
}

func TestSignAttributionRecord(t *testing.T) {
	t.Run("wrong signer", func(t *testing.T) {
		r := testAttribution(t)
		r.Attester = attesterSigner(t).Address()
		if err := SignAttributionRecord(r, testChainID, ownerSigner(t)); !errors.Is(err, ErrWrongSigner) {
			t.Fatalf("SignAttributionRecord by another account = %v, want ErrWrongSigner", err)
		}
		if r.Signature != nil {
			t.Fatal("a failed SignAttributionRecord changed the record")
		}
	})
	t.Run("sets the attester", func(t *testing.T) {
		r := signedAttribution(t)
		if r.Attester != attesterSigner(t).Address() || r.ChainID != testChainID {
			t.Fatalf("attester %s chain %d", r.Attester, r.ChainID)
		}
	})
	tamper := []struct {
		name   string
		change func(r *AttributionRecord)
	}{
		{"model", func(r *AttributionRecord) { r.Model = objectCIDOf(t, "x") }},
		{"output", func(r *AttributionRecord) { r.Output = rawCID(t, []byte("another output")) }},
		{"output size", func(r *AttributionRecord) { r.OutputSize++ }},
		{"min span", func(r *AttributionRecord) { r.Params.MinSpanBytes++ }},
		{"normalization", func(r *AttributionRecord) { r.Params.Normalization = "none" }},
		{"span offset", func(r *AttributionRecord) { r.Spans[0].Offset++ }},
		{"span weight", func(r *AttributionRecord) { r.Spans[1].Weight++ }},
		{"span proof", func(r *AttributionRecord) { r.Spans[0].Shards[0].Proof[0][0] ^= 1 }},
		{"span dropped", func(r *AttributionRecord) { r.Spans = r.Spans[:1] }},
		{"weight", func(r *AttributionRecord) { r.Weights[0].Parts-- }},
		{"tokens in", func(r *AttributionRecord) { r.TokensIn++ }},
		{"tokens out", func(r *AttributionRecord) { r.TokensOut++ }},
		{"rate", func(r *AttributionRecord) { r.Rewards.RateIn = big.NewInt(1) }},
		{"platform", func(r *AttributionRecord) { r.Rewards.Platform = common.Address{1} }},
		{"payout amount", func(r *AttributionRecord) { r.Payouts[0].Amount = big.NewInt(1) }},
		{"model owner", func(r *AttributionRecord) { r.ModelOwner = ownerSigner(t).Address() }},
		{"attester", func(r *AttributionRecord) { r.Attester = ownerSigner(t).Address() }},
		{"chain", func(r *AttributionRecord) { r.ChainID = 161201 }},
		{"created", func(r *AttributionRecord) { r.Created++ }},
	}
	for _, tt := range tamper {
		t.Run("tampered "+tt.name, func(t *testing.T) {
			r := signedAttribution(t)
			tt.change(r)
			if err := r.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestAttributionResult(t *testing.T) {
	r := signedAttribution(t)
	res, err := r.Result()
	if err != nil {
		t.Fatal(err)
	}
	// Another attester, at another time, computing the same.
	r2 := testAttribution(t)
	r2.Created += 3600
	if err := SignAttributionRecord(r2, testChainID, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	res2, err := r2.Result()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res, res2) {
		t.Fatal("records differing in attester and time have different results")
	}
	if bytes.Equal(encodeObject(t, r), encodeObject(t, r2)) {
		t.Fatal("the two records encode alike")
	}
	// The blanked fields are blank in it, the rest is the record's.
	m := entries(t, res)
	for k, want := range map[string]cbor.RawMessage{
		"attester":  cborOf(t, make([]byte, 20)),
		"created":   {0x00},
		"signature": {0x40},
	} {
		if !bytes.Equal(m[k], want) {
			t.Errorf("result %s = %x, want %x", k, m[k], want)
		}
	}
	full := entries(t, encodeObject(t, r))
	if len(m) != len(full) {
		t.Fatalf("result has %d keys, the record %d", len(m), len(full))
	}
	for k, v := range full {
		if k != "attester" && k != "created" && k != "signature" && !bytes.Equal(m[k], v) {
			t.Errorf("result %s differs from the record's", k)
		}
	}
	if _, err := Decode(res); !errors.Is(err, ErrInvalid) {
		t.Errorf("Decode(result) = %v, want ErrInvalid", err)
	}
	// Another weight is another result.
	r3 := signedAttribution(t)
	r3.Spans[1].Weight++
	if res3, err := r3.Result(); err != nil || bytes.Equal(res3, res) {
		t.Fatalf("a changed span weight gives the same result (%v)", err)
	}
	r3.Weights = nil
	if _, err := r3.Result(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Result of an invalid record = %v, want ErrInvalid", err)
	}
}

func TestAttributionDecodeRejects(t *testing.T) {
	data := encodeObject(t, signedAttribution(t))
	edit := func(key string, change func(v any) any) []byte {
		m := entries(t, data)
		var v any
		if err := cbor.Unmarshal(m[key], &v); err != nil {
			t.Fatal(err)
		}
		m[key] = cborOf(t, change(v))
		return encodeEntries(t, m, cbor.SortLengthFirst)
	}
	setIn := func(path ...any) func(value any) func(v any) any {
		return func(value any) func(v any) any {
			return func(v any) any {
				cur := v
				for i, p := range path {
					last := i == len(path)-1
					switch k := p.(type) {
					case string:
						mp := cur.(map[any]any)
						if last {
							mp[k] = value
						} else {
							cur = mp[k]
						}
					case int:
						l := cur.([]any)
						if last {
							l[k] = value
						} else {
							cur = l[k]
						}
					}
				}
				return v
			}
		}
	}
	amount := func(v any) []byte { return v.([]any)[0].(map[any]any)["amount"].([]byte) }
	var payouts any
	if err := cbor.Unmarshal(entries(t, data)["payouts"], &payouts); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"amount with a leading zero byte", edit("payouts", setIn(0, "amount")(append([]byte{0}, amount(payouts)...))), ErrNonCanonical},
		{"rate with a leading zero byte", edit("rewards", setIn("rate_in")([]byte{0x00, 0x07, 0x1a, 0xfd, 0x49, 0x8d, 0x00, 0x00})), ErrNonCanonical},
		{"zero as a zero byte", edit("rewards", setIn("platform_fee")([]byte{0})), ErrNonCanonical},
		{"amount as an integer", edit("payouts", setIn(0, "amount")(uint64(218_400_000_000_000))), ErrMalformed},
		{"short proof hash", edit("spans", setIn(0, "shards", 0, "proof", 0)(make([]byte, 31))), ErrMalformed},
		{"short contributor", edit("spans", setIn(0, "contributor")(make([]byte, 19))), ErrMalformed},
		{"unknown span key", edit("spans", setIn(0, "score")(uint64(1))), ErrMalformed},
		{"unknown rewards key", edit("rewards", setIn("burn_bps")(uint64(1))), ErrMalformed},
		{"negative start", edit("spans", setIn(0, "start")(int64(-1))), ErrMalformed},
		{"start over uint32", edit("spans", setIn(0, "start")(uint64(1)<<32)), ErrMalformed},
		{"output as a shard-less link", edit("output", func(any) any { return []byte{1} }), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := Decode(tt.data)
			if !errors.Is(err, tt.want) || obj != nil {
				t.Fatalf("Decode = %v, %v; want %v", obj, err, tt.want)
			}
		})
	}
	// Every key is required: a record without one is refused.
	for k := range entries(t, data) {
		t.Run("missing "+k, func(t *testing.T) {
			m := entries(t, data)
			delete(m, k)
			if obj, err := Decode(encodeEntries(t, m, cbor.SortLengthFirst)); err == nil || obj != nil {
				t.Fatalf("Decode without %q = %v, %v", k, obj, err)
			}
		})
	}
}

// TestObjectSizeBounds builds the largest objects the field rules allow and
// checks they encode within MaxObjectSize.
func TestObjectSizeBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds objects of many MiB")
	}
	big256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	longProof := make([]common.Hash, MaxProofLen)
	for i := range longProof {
		longProof[i] = common.Hash{0xff, byte(i)}
	}
	t.Run("attribution", func(t *testing.T) {
		r := testAttribution(t)
		r.OutputSize = 1<<32 - 1
		r.Params.MaxOutputBytes = 1<<32 - 1
		r.TokensIn, r.TokensOut = 1<<64-1, 1<<64-1
		r.Rewards.RateIn, r.Rewards.RateOut, r.Rewards.PlatformFee = big256, big256, big256
		r.Params.Normalization = strings.Repeat("n", MaxNormalizationLen)
		r.Spans, r.Weights, r.Payouts = nil, nil, nil
		for i := range MaxSpans {
			var who common.Address
			who[0], who[1], who[19] = 0xff, byte(i>>8), byte(i)
			s := AttributedSpan{
				Start: 1<<31 + uint32(i), End: 1<<32 - 1, Snapshot: objectCIDOf(t, "s"), Contribution: objectCIDOf(t, "c"),
				Contributor: who, File: 1<<32 - 1, Offset: 1 << 62, Length: 1 << 62, Count: 1<<64 - 1, Weight: 1<<64 - 1,
				ContributionProof: longProof,
			}
			for j := range MaxSpanShards / MaxSpans {
				s.Shards = append(s.Shards, SpanShard{Index: 1<<63 + uint64(j), Shard: rawCID(t, nil), Size: MaxChunkSize, Proof: longProof})
			}
			r.Spans = append(r.Spans, s)
			r.Weights = append(r.Weights, Share{Address: who, Parts: WeightScale / MaxSpans})
			r.Payouts = append(r.Payouts, Payout{Address: who, Role: RoleContributor, Amount: big256})
		}
		r.Weights[0].Parts += WeightScale % MaxSpans
		SortShares(r.Weights)
		r.Payouts = append(r.Payouts,
			Payout{Address: r.ModelOwner, Role: RoleModelOwner, Amount: big256},
			Payout{Address: testPlatform, Role: RolePlatform, Amount: big256},
			Payout{Address: testStakers, Role: RoleStaker, Amount: big256})
		if len(r.Payouts) != MaxPayouts {
			t.Fatalf("%d payouts, want MaxPayouts", len(r.Payouts))
		}
		r.Signature, r.ChainID, r.Attester = make([]byte, SignatureLen), 1<<64-1, attesterSigner(t).Address()
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("largest attribution record: %d bytes", len(data))
	})
	t.Run("reward epoch", func(t *testing.T) {
		e := testEpoch(t)
		e.Number, e.Prev = 1<<64-1, objectCIDOf(t, "prev")
		e.Records, e.Balances = nil, nil
		for i := range MaxEpochRecords {
			e.Records = append(e.Records, objectCIDOf(t, fmt.Sprint("record ", i)))
		}
		SortCIDs(e.Records)
		for i := range MaxBalances {
			var a common.Address
			a[0], a[1], a[2] = byte(i>>16), byte(i>>8), byte(i)
			a[19] = 1
			e.Balances = append(e.Balances, Balance{Address: a, Cumulative: big256})
		}
		e.Signature, e.ChainID, e.Poster = make([]byte, SignatureLen), 1<<64-1, ownerSigner(t).Address()
		data, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("largest reward epoch: %d bytes", len(data))
	})
	t.Run("model", func(t *testing.T) {
		m := testModel(t)
		m.Snapshots = nil
		for i := range MaxSnapshotsPerModel {
			m.Snapshots = append(m.Snapshots, ModelSnapshot{Datanet: objectCIDOf(t, fmt.Sprint("datanet ", i)), Snapshot: objectCIDOf(t, fmt.Sprint("snapshot ", i))})
		}
		SortModelSnapshots(m.Snapshots)
		m.Owner, m.Signature, m.ChainID = trainerSigner(t).Address(), make([]byte, SignatureLen), 1
		data, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("model of %d snapshots: %d bytes", MaxSnapshotsPerModel, len(data))
	})
}
