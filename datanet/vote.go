package datanet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
)

// KindVote is the value of the "kind" key of an encoded Vote.
const KindVote = "vote"

// MaxReasonLen bounds Vote.Reason in bytes.
const MaxReasonLen = 1024

// typeVote is the EIP-712 primary type of a Vote.
const typeVote = "Vote"

// Decision is a curator's verdict on a contribution.
type Decision string

// The decisions a Vote can carry.
const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
)

// Vote is a curator's signed verdict on one contribution to a Datanet. A
// curator may vote again on the same contribution with a higher Seq; the
// vote with the highest Seq is the one that counts (see the curation
// package). A Vote is only about its contribution: whether the curator may
// vote, and with what weight, is the Datanet's policy.
//
// Its EIP-712 type is
//
//	Vote(string datanet,string contribution,address curator,string decision,
//	     string reason,uint64 seq,uint64 created)
//
// where datanet and contribution are CIDs in base32 (their String form) and
// decision is "approve" or "reject", so a wallet shows all of it.
type Vote struct {
	Datanet      cid.Cid        `cbor:"datanet" json:"datanet"`           // the Datanet ID (CID of its first version)
	Contribution cid.Cid        `cbor:"contribution" json:"contribution"` // the CID of the contribution voted on
	Curator      common.Address `cbor:"curator" json:"curator"`
	Decision     Decision       `cbor:"decision" json:"decision"`
	// Reason is free text for people, possibly empty, at most MaxReasonLen
	// bytes; it may span lines.
	Reason string `cbor:"reason" json:"reason"`
	// Seq orders the votes of one curator on one contribution: 0 for the
	// first, one more (or any higher number) for each change of mind.
	Seq uint64 `cbor:"seq" json:"seq"`
	// ChainID is the Datanet's ChainID, the EIP-712 domain chain ID the vote
	// is signed under. SignVote sets it. Not 0 once signed.
	ChainID   uint64 `cbor:"chain_id" json:"chain_id"`
	Created   int64  `cbor:"created" json:"created"`     // unix seconds, > 0
	Signature []byte `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

var _ Object = (*Vote)(nil)

// Kind returns KindVote.
func (v *Vote) Kind() string { return KindVote }

// Signer returns the curator.
func (v *Vote) Signer() common.Address { return v.Curator }

// Links returns the Datanet ID and the contribution, in that order.
func (v *Vote) Links() []cid.Cid { return []cid.Cid{v.Datanet, v.Contribution} }

func (v *Vote) chainID() uint64 { return v.ChainID }

// Approves reports whether the vote approves its contribution.
func (v *Vote) Approves() bool { return v.Decision == Approve }

// Validate checks the field rules of a Vote.
func (v *Vote) Validate() error {
	if err := v.validate(); err != nil {
		return fmt.Errorf("%w: vote: %w", ErrInvalid, err)
	}
	return nil
}

func (v *Vote) validate() error {
	if err := checkObjectLink(v.Datanet); err != nil {
		return fmt.Errorf("datanet: %w", err)
	}
	if err := checkObjectLink(v.Contribution); err != nil {
		return fmt.Errorf("contribution: %w", err)
	}
	if v.Curator == (common.Address{}) {
		return errors.New("curator is the zero address")
	}
	if v.Decision != Approve && v.Decision != Reject {
		return fmt.Errorf("decision %q, want %q or %q", v.Decision, Approve, Reject)
	}
	if err := checkText(v.Reason, MaxReasonLen, true); err != nil {
		return fmt.Errorf("reason: %w", err)
	}
	if v.ChainID == 0 && len(v.Signature) > 0 {
		return errors.New("signed with chain ID 0")
	}
	if v.Created <= 0 {
		return fmt.Errorf("created %d is not a positive unix time", v.Created)
	}
	return checkSignatureLen(v.Signature)
}

// Encode returns the canonical encoding of v.
func (v *Vote) Encode() ([]byte, error) { return encode(v) }

// CID returns the CID of v's canonical encoding.
func (v *Vote) CID() (cid.Cid, error) { return objectCID(v) }

// Verify checks that v.Signature is the curator's EIP-712 signature of v
// under v.ChainID.
func (v *Vote) Verify() error { return verifyObject(v, v.Signature) }

// DecodeVote decodes a Vote as Decode does; other kinds fail with
// ErrWrongKind.
func DecodeVote(data []byte) (*Vote, error) {
	return decodeAs[*Vote](data)
}

// SignVote signs v with s under chainID, the chain ID of v's Datanet, which
// it records in v.ChainID (ErrInvalid if v.ChainID is set to another). If
// v.Curator is the zero address it becomes s.Address(); otherwise it must
// be s.Address() (ErrWrongSigner). v must pass Validate. On success
// v.Signature holds the normalized signature; on failure v is unchanged.
func SignVote(v *Vote, chainID uint64, s Signer) error {
	return signInDatanet(v, chainID, s, func(v *Vote) (*uint64, *common.Address, *[]byte) {
		return &v.ChainID, &v.Curator, &v.Signature
	})
}

// voteEIP712Type is the field list of the Vote EIP-712 type.
func voteEIP712Type() []apitypes.Type {
	return []apitypes.Type{
		{Name: "datanet", Type: "string"},
		{Name: "contribution", Type: "string"},
		{Name: "curator", Type: "address"},
		{Name: "decision", Type: "string"},
		{Name: "reason", Type: "string"},
		{Name: "seq", Type: "uint64"},
		{Name: "created", Type: "uint64"},
	}
}

func (v *Vote) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if !v.Datanet.Defined() || !v.Contribution.Defined() {
		return "", nil, errors.New("datanet or contribution is undefined")
	}
	if v.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", v.Created)
	}
	return typeVote, apitypes.TypedDataMessage{
		"datanet":      v.Datanet.String(),
		"contribution": v.Contribution.String(),
		"curator":      v.Curator.Hex(),
		"decision":     string(v.Decision),
		"reason":       v.Reason,
		"seq":          decimal(v.Seq),
		"created":      decimal(uint64(v.Created)),
	}, nil
}

// MarshalJSON returns the JSON view of v.
func (v Vote) MarshalJSON() ([]byte, error) { return marshalJSON(&v) }

// UnmarshalJSON reads the JSON view of a Vote. It rejects unknown keys and
// another "kind"; it doesn't check field rules.
func (v *Vote) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, v) }

// VoteFromTypedData reads back a Vote from the EIP-712 JSON document a
// wallet signed (TypedDataJSON's output, with integers as strings or
// numbers). The document must be exactly a Vote's typed data under the
// openledger domain: the rebuilt vote's signing hash must equal the
// document's, so a changed type or an extra field fails. The signature is
// not part of the document; the caller sets it.
func VoteFromTypedData(doc []byte) (*Vote, error) {
	var d struct {
		PrimaryType string `json:"primaryType"`
		Domain      struct {
			Name    string   `json:"name"`
			Version string   `json:"version"`
			ChainID flexUint `json:"chainId"`
		} `json:"domain"`
		Message struct {
			Datanet      string   `json:"datanet"`
			Contribution string   `json:"contribution"`
			Curator      string   `json:"curator"`
			Decision     string   `json:"decision"`
			Reason       string   `json:"reason"`
			Seq          flexUint `json:"seq"`
			Created      flexUint `json:"created"`
		} `json:"message"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("typed data: %w", err)
	}
	switch {
	case d.PrimaryType != typeVote:
		return nil, fmt.Errorf("typed data: primary type %q, want %q", d.PrimaryType, typeVote)
	case d.Domain.Name != DomainName || d.Domain.Version != DomainVersion:
		return nil, fmt.Errorf("typed data: domain %q version %q, want %q version %q", d.Domain.Name, d.Domain.Version, DomainName, DomainVersion)
	case !common.IsHexAddress(d.Message.Curator):
		return nil, fmt.Errorf("typed data: curator %q is not an address", d.Message.Curator)
	case d.Message.Created > math.MaxInt64:
		return nil, fmt.Errorf("typed data: created %d out of range", d.Message.Created)
	}
	dn, err := cid.Decode(d.Message.Datanet)
	if err != nil {
		return nil, fmt.Errorf("typed data: datanet: %w", err)
	}
	contrib, err := cid.Decode(d.Message.Contribution)
	if err != nil {
		return nil, fmt.Errorf("typed data: contribution: %w", err)
	}
	v := &Vote{
		Datanet: dn, Contribution: contrib, Curator: common.HexToAddress(d.Message.Curator),
		Decision: Decision(d.Message.Decision), Reason: d.Message.Reason, Seq: uint64(d.Message.Seq),
		ChainID: uint64(d.Domain.ChainID), Created: int64(d.Message.Created),
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	var td apitypes.TypedData
	if err := json.Unmarshal(doc, &td); err != nil {
		return nil, fmt.Errorf("typed data: %w", err)
	}
	theirs, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return nil, fmt.Errorf("typed data: %w", err)
	}
	ours, err := SigningHash(v)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(theirs, ours[:]) {
		return nil, errors.New("typed data is not an openledger vote: its types or fields differ from a Vote's")
	}
	return v, nil
}

// flexUint reads a uint64 from a JSON number or a decimal string, as
// wallets and tools write EIP-712 integers either way.
type flexUint uint64

func (u *flexUint) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*u = flexUint(n)
	return nil
}
