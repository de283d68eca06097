package datanet

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
)

// curatorKeyHex is Hardhat and Anvil account 2. Never use it for anything
// of value.
const curatorKeyHex = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"

func curatorSigner(t testing.TB) Signer { return NewKeySigner(testKey(t, curatorKeyHex)) }

// testVote returns the unsigned golden Vote: the curator approves the golden
// Contribution, having changed their mind once.
func testVote(t testing.TB) *Vote {
	t.Helper()
	return &Vote{
		Datanet:      mustCID(t, signedDatanet(t)),
		Contribution: mustCID(t, signedContribution(t)),
		Curator:      curatorSigner(t).Address(),
		Decision:     Approve,
		Reason:       "Answers checked against the cited chapters.\nFormatting is clean.",
		Seq:          1,
		Created:      1767232800, // 2026-01-01T02:00:00Z
	}
}

// signedVote returns the golden Vote, signed.
func signedVote(t testing.TB) *Vote {
	t.Helper()
	v := testVote(t)
	if err := SignVote(v, testChainID, curatorSigner(t)); err != nil {
		t.Fatal(err)
	}
	return v
}

const voteTypedData = `{
  "types": {
    "EIP712Domain": [
      {"name": "name", "type": "string"},
      {"name": "version", "type": "string"},
      {"name": "chainId", "type": "uint256"}
    ],
    "Vote": [
      {"name": "datanet", "type": "string"},
      {"name": "contribution", "type": "string"},
      {"name": "curator", "type": "address"},
      {"name": "decision", "type": "string"},
      {"name": "reason", "type": "string"},
      {"name": "seq", "type": "uint64"},
      {"name": "created", "type": "uint64"}
    ]
  },
  "primaryType": "Vote",
  "domain": {"name": "openledger", "version": "1", "chainId": %d},
  "message": {
    "datanet": %q, "contribution": %q, "curator": %q, "decision": %q,
    "reason": %q, "seq": %d, "created": %d
  }
}`

func TestWalletSignedVoteVerifies(t *testing.T) {
	v := testVote(t)
	v.ChainID = testChainID
	doc := fmt.Sprintf(voteTypedData, testChainID, v.Datanet.String(), v.Contribution.String(),
		strings.ToLower(v.Curator.Hex()), "approve", v.Reason, v.Seq, v.Created)
	sig, hash := walletSign(t, doc, curatorKeyHex)

	if got, err := SigningHash(v); err != nil || !equalBytes(got[:], hash) {
		t.Fatalf("SigningHash = %x, %v; the wallet signed %x", got, err, hash)
	}
	v.Signature = sig
	if err := v.Verify(); err != nil {
		t.Fatalf("wallet signature does not verify: %v", err)
	}
	data, err := v.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeVote(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestVoteTypeString(t *testing.T) {
	td, err := TypedData(signedVote(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "Vote(string datanet,string contribution,address curator,string decision," +
		"string reason,uint64 seq,uint64 created)"
	if got := string(td.EncodeType(td.PrimaryType)); got != want {
		t.Errorf("type %s\nwant %s", got, want)
	}
}

func TestVoteValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Vote)
		ok     bool
	}{
		{"golden", func(*Vote) {}, true},
		{"reject without reason", func(v *Vote) { v.Decision, v.Reason = Reject, "" }, true},
		{"unsigned without chain ID", func(v *Vote) { v.Signature, v.ChainID = nil, 0 }, true},
		{"reason at limit", func(v *Vote) { v.Reason = strings.Repeat("x", MaxReasonLen) }, true},
		{"undefined datanet", func(v *Vote) { v.Datanet = cid.Undef }, false},
		{"datanet is a shard", func(v *Vote) { v.Datanet = rawCID(t, []byte("x")) }, false},
		{"contribution not sha2-256", func(v *Vote) { v.Contribution = sha3Shard(t) }, false},
		{"zero curator", func(v *Vote) { v.Curator = common.Address{} }, false},
		{"empty decision", func(v *Vote) { v.Decision = "" }, false},
		{"upper-case decision", func(v *Vote) { v.Decision = "Approve" }, false},
		{"abstain", func(v *Vote) { v.Decision = "abstain" }, false},
		{"reason too long", func(v *Vote) { v.Reason = strings.Repeat("x", MaxReasonLen+1) }, false},
		{"reason with control", func(v *Vote) { v.Reason = "ok\x00" }, false},
		{"reason not UTF-8", func(v *Vote) { v.Reason = "\xff" }, false},
		{"signed with chain ID 0", func(v *Vote) { v.ChainID = 0 }, false},
		{"zero created", func(v *Vote) { v.Created = 0 }, false},
		{"negative created", func(v *Vote) { v.Created = -1 }, false},
		{"short signature", func(v *Vote) { v.Signature = v.Signature[:64] }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := signedVote(t)
			tt.change(v)
			err := v.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Validate = %v, want ErrInvalid", err)
				}
				if _, err := v.Encode(); !errors.Is(err, ErrInvalid) {
					t.Fatalf("Encode = %v, want ErrInvalid", err)
				}
			}
		})
	}
}

func TestSignVote(t *testing.T) {
	t.Run("claims the curator", func(t *testing.T) {
		v := testVote(t)
		v.Curator = common.Address{}
		if err := SignVote(v, testChainID, curatorSigner(t)); err != nil {
			t.Fatal(err)
		}
		if v.Curator != curatorSigner(t).Address() || v.ChainID != testChainID {
			t.Fatalf("curator %s chain %d", v.Curator, v.ChainID)
		}
		if err := v.Verify(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("another curator", func(t *testing.T) {
		v := testVote(t)
		if err := SignVote(v, testChainID, ownerSigner(t)); !errors.Is(err, ErrWrongSigner) {
			t.Fatalf("SignVote = %v, want ErrWrongSigner", err)
		}
		if v.Signature != nil {
			t.Fatal("vote changed on failure")
		}
	})
	t.Run("another chain", func(t *testing.T) {
		v := testVote(t)
		v.ChainID = 161201
		if err := SignVote(v, testChainID, curatorSigner(t)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SignVote = %v, want ErrInvalid", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		v := testVote(t)
		v.Decision = "maybe"
		if err := SignVote(v, testChainID, curatorSigner(t)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SignVote = %v, want ErrInvalid", err)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		if err := testVote(t).Verify(); !errors.Is(err, ErrUnsigned) {
			t.Fatalf("Verify = %v, want ErrUnsigned", err)
		}
	})
}

func TestTamperedVoteFails(t *testing.T) {
	other := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	tests := []struct {
		name   string
		change func(*Vote)
	}{
		{"datanet", func(v *Vote) { v.Datanet = v.Contribution }},
		{"contribution", func(v *Vote) { v.Contribution = c0(t) }},
		{"curator", func(v *Vote) { v.Curator = other }},
		{"decision", func(v *Vote) { v.Decision = Reject }},
		{"reason", func(v *Vote) { v.Reason += "!" }},
		{"seq", func(v *Vote) { v.Seq++ }},
		{"created", func(v *Vote) { v.Created++ }},
		{"chain ID", func(v *Vote) { v.ChainID = 161201 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := signedVote(t)
			tt.change(v)
			if err := v.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
	t.Run("flipped bits", func(t *testing.T) {
		v := signedVote(t)
		for i := range v.Signature {
			v.Signature[i] ^= 0x01
			if err := v.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Errorf("byte %d flipped: Verify = %v, want ErrBadSignature", i, err)
			}
			v.Signature[i] ^= 0x01
		}
	})
}

func TestVoteLinks(t *testing.T) {
	v := signedVote(t)
	links := v.Links()
	if len(links) != 2 || !links[0].Equals(v.Datanet) || !links[1].Equals(v.Contribution) {
		t.Fatalf("Links = %v", links)
	}
}

func TestDecodeVoteWrongKind(t *testing.T) {
	data, err := signedContribution(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeVote(data); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("DecodeVote of a contribution = %v, want ErrWrongKind", err)
	}
	data, err = signedVote(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeContribution(data); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("DecodeContribution of a vote = %v, want ErrWrongKind", err)
	}
}

// BenchmarkVerifyVote measures signature verifications per second on one
// core: EIP-712 hashing and public key recovery.
func BenchmarkVerifyVote(b *testing.B) {
	v := signedVote(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// TestVoteFromTypedData: the document TypedDataJSON gives a wallet comes
// back as the same vote, and the wallet's signature verifies on it; a
// document with another type or a changed field does not.
func TestVoteFromTypedData(t *testing.T) {
	want := testVote(t)
	want.ChainID = testChainID
	doc, err := TypedDataJSON(want)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := walletSign(t, string(doc), curatorKeyHex)
	got, err := VoteFromTypedData(doc)
	if err != nil {
		t.Fatal(err)
	}
	got.Signature = sig
	if err := got.Verify(); err != nil {
		t.Fatalf("wallet signature on the read-back vote: %v", err)
	}
	want.Signature = sig
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
	// Integers as JSON numbers, as some tools write them.
	numeric := strings.Replace(string(doc), `"seq": "1"`, `"seq": 1`, 1)
	if numeric == string(doc) {
		t.Fatal("test document has no seq string to replace")
	}
	if _, err := VoteFromTypedData([]byte(numeric)); err != nil {
		t.Fatalf("numeric seq: %v", err)
	}
	for name, edit := range map[string][2]string{
		"other primary type": {`"primaryType": "Vote"`, `"primaryType": "Datanet"`},
		"other field type":   {`"type": "uint64"`, `"type": "uint256"`},
		"other domain":       {`"name": "openledger"`, `"name": "other"`},
		"bad decision":       {`"decision": "approve"`, `"decision": "maybe"`},
	} {
		bad := strings.Replace(string(doc), edit[0], edit[1], 1)
		if bad == string(doc) {
			t.Fatalf("%s: nothing replaced", name)
		}
		if _, err := VoteFromTypedData([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
