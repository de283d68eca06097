package datanet

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

// testDistributor is the golden RewardsDistributor address (the first
// contract Hardhat account 0 deploys).
var testDistributor = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")

// testEpoch returns the unsigned golden RewardEpoch: epoch 2, summing the
// golden attribution record and another.
func testEpoch(t testing.TB) *RewardEpoch {
	t.Helper()
	records := []cid.Cid{mustCID(t, signedAttribution(t)), objectCIDOf(t, "another attribution record")}
	SortCIDs(records)
	balances := []Balance{
		{Address: contributorSigner(t).Address(), Cumulative: big.NewInt(436_800_000_000_000)},
		{Address: trainerSigner(t).Address(), Cumulative: big.NewInt(124_800_000_000_000)},
		{Address: testPlatform, Cumulative: big.NewInt(2_000_000_000_000_000)},
		{Address: testStakers, Cumulative: new(big.Int).Lsh(big.NewInt(1), 255)},
	}
	SortBalances(balances)
	return &RewardEpoch{
		Number:      2,
		Prev:        objectCIDOf(t, "epoch 1"),
		Records:     records,
		Balances:    balances,
		Root:        crypto.Keccak256Hash([]byte("golden claims root")),
		Distributor: testDistributor,
		Created:     1767398400, // 2026-01-03T00:00:00Z
	}
}

// signedEpoch returns the golden RewardEpoch, signed by the owner as
// poster.
func signedEpoch(t testing.TB) *RewardEpoch {
	t.Helper()
	e := testEpoch(t)
	if err := SignRewardEpoch(e, testChainID, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRewardEpochRoundTrip(t *testing.T) {
	e := signedEpoch(t)
	if err := e.Verify(); err != nil {
		t.Fatal(err)
	}
	data, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeRewardEpoch(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, e)
	}
	js, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"cumulative":"` + new(big.Int).Lsh(big.NewInt(1), 255).String() + `"`; !strings.Contains(string(js), want) {
		t.Errorf("JSON view lacks %s:\n%s", want, js)
	}
	var fromJSON RewardEpoch
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if again := encodeObject(t, &fromJSON); !bytes.Equal(again, data) {
		t.Fatalf("JSON round trip changed the epoch:\n%s", js)
	}
	if k, err := KindOf(data); err != nil || k != KindRewardEpoch {
		t.Fatalf("KindOf = %q, %v", k, err)
	}
	if _, err := DecodeRewardEpoch(encodeObject(t, signedModel(t))); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("DecodeRewardEpoch(model) = %v, want ErrWrongKind", err)
	}
	if links := e.Links(); !sameCIDs(links, append([]cid.Cid{e.Prev}, e.Records...)) {
		t.Fatalf("Links = %v", links)
	}

	// The first epoch, summing no record: no prev.
	first := testEpoch(t)
	first.Number, first.Prev, first.Records = 1, cid.Undef, nil
	if err := SignRewardEpoch(first, testChainID, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	back, err = DecodeRewardEpoch(encodeObject(t, first))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, first) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, first)
	}
	if len(first.Links()) != 0 {
		t.Fatalf("first epoch links %v", first.Links())
	}
	if js, err := json.Marshal(first); err != nil || !strings.Contains(string(js), `"prev":null`) {
		t.Fatalf("JSON of the first epoch: %s %v", js, err)
	}
}

func TestRewardEpochValidate(t *testing.T) {
	shard := rawCID(t, []byte("shard"))
	tests := []struct {
		name   string
		change func(e *RewardEpoch)
		ok     bool
	}{
		{"golden", func(e *RewardEpoch) {}, true},
		{"signed", func(e *RewardEpoch) { e.Signature = make([]byte, 65) }, true},
		{"first", func(e *RewardEpoch) { e.Number, e.Prev = 1, cid.Undef }, true},
		{"no records", func(e *RewardEpoch) { e.Records = nil }, true},
		{"largest amount", func(e *RewardEpoch) {
			e.Balances[0].Cumulative = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
		}, true},

		{"number 0", func(e *RewardEpoch) { e.Number, e.Prev = 0, cid.Undef }, false},
		{"first with prev", func(e *RewardEpoch) { e.Number = 1 }, false},
		{"later without prev", func(e *RewardEpoch) { e.Prev = cid.Undef }, false},
		{"prev is a shard", func(e *RewardEpoch) { e.Prev = shard }, false},
		{"record is a shard", func(e *RewardEpoch) { e.Records[0] = shard }, false},
		{"undefined record", func(e *RewardEpoch) { e.Records[0] = cid.Undef }, false},
		{"unsorted records", func(e *RewardEpoch) { e.Records[0], e.Records[1] = e.Records[1], e.Records[0] }, false},
		{"duplicate record", func(e *RewardEpoch) { e.Records[1] = e.Records[0] }, false},
		{"too many records", func(e *RewardEpoch) {
			e.Records = make([]cid.Cid, MaxEpochRecords+1)
			for i := range e.Records {
				e.Records[i] = e.Prev
			}
		}, false},
		{"no balances", func(e *RewardEpoch) { e.Balances = nil }, false},
		{"too many balances", func(e *RewardEpoch) {
			e.Balances = make([]Balance, MaxBalances+1)
			for i := range e.Balances {
				e.Balances[i] = e.Balances[0]
			}
		}, false},
		{"zero address", func(e *RewardEpoch) { e.Balances[0].Address = common.Address{} }, false},
		{"zero balance", func(e *RewardEpoch) { e.Balances[0].Cumulative = new(big.Int) }, false},
		{"nil balance", func(e *RewardEpoch) { e.Balances[0].Cumulative = nil }, false},
		{"negative balance", func(e *RewardEpoch) { e.Balances[0].Cumulative = big.NewInt(-1) }, false},
		{"balance over 256 bits", func(e *RewardEpoch) { e.Balances[0].Cumulative = new(big.Int).Lsh(big.NewInt(1), 256) }, false},
		{"unsorted balances", func(e *RewardEpoch) { e.Balances[0], e.Balances[1] = e.Balances[1], e.Balances[0] }, false},
		{"duplicate balance", func(e *RewardEpoch) { e.Balances[1].Address = e.Balances[0].Address }, false},
		{"zero root", func(e *RewardEpoch) { e.Root = [32]byte{} }, false},
		{"zero distributor", func(e *RewardEpoch) { e.Distributor = common.Address{} }, false},
		{"zero poster", func(e *RewardEpoch) { e.Poster = common.Address{} }, false},
		{"signed without chain ID", func(e *RewardEpoch) { e.ChainID, e.Signature = 0, make([]byte, 65) }, false},
		{"zero created", func(e *RewardEpoch) { e.Created = 0 }, false},
		{"short signature", func(e *RewardEpoch) { e.Signature = make([]byte, 1) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEpoch(t)
			e.Poster, e.ChainID = ownerSigner(t).Address(), testChainID
			tt.change(e)
			err := e.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, encErr := e.Encode(); (encErr == nil) != tt.ok {
				t.Errorf("Encode error %v, want error: %t", encErr, !tt.ok)
			}
		})
	}
}

func TestSignRewardEpoch(t *testing.T) {
	e := testEpoch(t)
	e.Poster = ownerSigner(t).Address()
	if err := SignRewardEpoch(e, testChainID, contributorSigner(t)); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("SignRewardEpoch by another account = %v, want ErrWrongSigner", err)
	}
	if e.Signature != nil {
		t.Fatal("a failed SignRewardEpoch changed the epoch")
	}
	tamper := []struct {
		name   string
		change func(e *RewardEpoch)
	}{
		{"number", func(e *RewardEpoch) { e.Number++ }},
		{"prev", func(e *RewardEpoch) { e.Prev = e.Records[0] }},
		{"record dropped", func(e *RewardEpoch) { e.Records = e.Records[1:] }},
		{"balance", func(e *RewardEpoch) { e.Balances[0].Cumulative = big.NewInt(1) }},
		{"root", func(e *RewardEpoch) { e.Root[31] ^= 1 }},
		{"distributor", func(e *RewardEpoch) { e.Distributor = testPlatform }},
		{"poster", func(e *RewardEpoch) { e.Poster = trainerSigner(t).Address() }},
		{"chain", func(e *RewardEpoch) { e.ChainID = 161201 }},
		{"created", func(e *RewardEpoch) { e.Created++ }},
	}
	for _, tt := range tamper {
		t.Run("tampered "+tt.name, func(t *testing.T) {
			e := signedEpoch(t)
			tt.change(e)
			if err := e.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestRewardEpochDecodeRejects(t *testing.T) {
	data := encodeObject(t, signedEpoch(t))
	var balances []map[string]cbor.RawMessage
	if err := cbor.Unmarshal(entries(t, data)["balances"], &balances); err != nil {
		t.Fatal(err)
	}
	var amount []byte
	if err := cbor.Unmarshal(balances[0]["cumulative"], &amount); err != nil {
		t.Fatal(err)
	}
	withBalance := func(v cbor.RawMessage) []byte {
		bs := make([]map[string]cbor.RawMessage, len(balances))
		for i, b := range balances {
			bs[i] = map[string]cbor.RawMessage{"address": b["address"], "cumulative": b["cumulative"]}
		}
		bs[0]["cumulative"] = v
		m := entries(t, data)
		m["balances"] = cborOf(t, bs)
		return encodeEntries(t, m, cbor.SortLengthFirst)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"cumulative with a leading zero byte", withBalance(cborOf(t, append([]byte{0}, amount...))), ErrNonCanonical},
		{"cumulative as an integer", withBalance(cborOf(t, uint64(436_800_000_000_000))), ErrMalformed},
		{"cumulative as a bignum tag", withBalance(append([]byte{0xc2}, cborOf(t, amount)...)), ErrNonCanonical},
		{"cumulative as text", withBalance(cborOf(t, "436800000000000")), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := Decode(tt.data)
			if !errors.Is(err, tt.want) || obj != nil {
				t.Fatalf("Decode = %v, %v; want %v", obj, err, tt.want)
			}
		})
	}
}
