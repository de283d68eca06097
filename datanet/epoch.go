package datanet

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
	"github.com/openledger/openledger/attribution/rewards"
)

// KindRewardEpoch is the value of the "kind" key of an encoded
// RewardEpoch.
const KindRewardEpoch = "reward_epoch"

// typeRewardEpoch is the EIP-712 primary type of a RewardEpoch.
const typeRewardEpoch = "RewardEpoch"

// Limits of a RewardEpoch's field rules. A record link costs 42 bytes of
// the encoding and a balance at most 75, so a full epoch is about 15 MiB,
// under MaxObjectSize.
const (
	MaxEpochRecords = 1 << 17 // entries of RewardEpoch.Records
	MaxBalances     = 1 << 17 // entries of RewardEpoch.Balances
)

// RewardEpoch is the state of the rewards after an epoch: the attribution
// records summed in it and the cumulative amount owed to each account since
// the first epoch, whose Merkle root the poster posts to the
// RewardsDistributor contract for claims. The rewards package computes the
// balances and the root; anyone holding the records recomputes them, so a
// poster cannot silently mis-pay.
//
// Its EIP-712 type is
//
//	RewardEpoch(uint64 number,string prev,uint32 recordCount,
//	            bytes32 records,uint32 balanceCount,bytes32 balances,
//	            bytes32 root,address distributor,address poster,
//	            uint64 created)
//
// where prev is the previous epoch's CID in base32 ("" for the first), and
// records and balances the keccak256 of the DAG-CBOR encodings of the
// "records" and "balances" values of the object's encoding.
type RewardEpoch struct {
	Number uint64  `cbor:"number" json:"number"`      // 1 for the first epoch
	Prev   cid.Cid `cbor:"prev,nullable" json:"prev"` // the previous epoch; cid.Undef if and only if Number is 1
	// Records are the attribution records summed in this epoch, sorted by
	// CID bytes, unique, at most MaxEpochRecords; may be empty.
	Records []cid.Cid `cbor:"records" json:"records"`
	// Balances are the cumulative amounts owed, sorted by address, unique,
	// each > 0; 1 to MaxBalances.
	Balances []Balance `cbor:"balances" json:"balances"`
	// Root is the Merkle root of the claims over Balances (the rewards
	// package defines the tree); not zero.
	Root [32]byte `cbor:"root" json:"root"`
	// Distributor is the RewardsDistributor contract the root is posted
	// to.
	Distributor common.Address `cbor:"distributor" json:"distributor"`
	Poster      common.Address `cbor:"poster" json:"poster"`
	// ChainID is the chain the root is posted on, the EIP-712 domain chain
	// ID. Not 0 once signed.
	ChainID   uint64 `cbor:"chain_id" json:"chain_id"`
	Created   int64  `cbor:"created" json:"created"`     // unix seconds, > 0
	Signature []byte `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

// Balance is the cumulative amount owed to an account, in the token's
// smallest unit; Cumulative > 0, < 2^256. It is the rewards package's,
// which computes the balances.
type Balance = rewards.Balance

var _ Object = (*RewardEpoch)(nil)

// Kind returns KindRewardEpoch.
func (e *RewardEpoch) Kind() string { return KindRewardEpoch }

// Signer returns the poster.
func (e *RewardEpoch) Signer() common.Address { return e.Poster }

// Links returns the previous epoch (if any) and the records.
func (e *RewardEpoch) Links() []cid.Cid {
	links := make([]cid.Cid, 0, 1+len(e.Records))
	if e.Prev.Defined() {
		links = append(links, e.Prev)
	}
	return append(links, e.Records...)
}

func (e *RewardEpoch) chainID() uint64 { return e.ChainID }

// Encode returns the canonical encoding of e.
func (e *RewardEpoch) Encode() ([]byte, error) { return encode(e) }

// CID returns the CID of e's canonical encoding.
func (e *RewardEpoch) CID() (cid.Cid, error) { return objectCID(e) }

// Verify checks that e.Signature is the poster's EIP-712 signature of e
// under e.ChainID. It doesn't recompute the balances or the root.
func (e *RewardEpoch) Verify() error { return verifyObject(e, e.Signature) }

// DecodeRewardEpoch decodes a RewardEpoch as Decode does; other kinds fail
// with ErrWrongKind.
func DecodeRewardEpoch(data []byte) (*RewardEpoch, error) {
	return decodeAs[*RewardEpoch](data)
}

// SignRewardEpoch signs e with signer under chainID, the chain ID of the
// chain its root is posted on, as SignContribution does: e.Poster becomes
// signer's address if it is zero and must be it otherwise
// (ErrWrongSigner).
func SignRewardEpoch(e *RewardEpoch, chainID uint64, signer Signer) error {
	return signInDatanet(e, chainID, signer, func(e *RewardEpoch) (*uint64, *common.Address, *[]byte) {
		return &e.ChainID, &e.Poster, &e.Signature
	})
}

// SortCIDs sorts CIDs by their bytes, the order RewardEpoch.Records takes.
func SortCIDs(cs []cid.Cid) {
	slices.SortFunc(cs, func(a, b cid.Cid) int { return strings.Compare(a.KeyString(), b.KeyString()) })
}

// SortBalances sorts balances by address, the order RewardEpoch.Balances
// takes.
func SortBalances(balances []Balance) {
	slices.SortFunc(balances, func(a, b Balance) int { return bytes.Compare(a.Address[:], b.Address[:]) })
}

// Validate checks the field rules of a RewardEpoch. It doesn't recompute
// the balances or the root: the rewards package does.
func (e *RewardEpoch) Validate() error {
	if err := e.validate(); err != nil {
		return fmt.Errorf("%w: reward epoch: %w", ErrInvalid, err)
	}
	return nil
}

func (e *RewardEpoch) validate() error {
	switch {
	case e.Number == 0:
		return errors.New("number 0; the first is 1")
	case e.Number == 1 && e.Prev.Defined():
		return errors.New("epoch 1 has a prev")
	case e.Number > 1 && !e.Prev.Defined():
		return fmt.Errorf("epoch %d has no prev", e.Number)
	case e.Prev.Defined():
		if err := checkObjectLink(e.Prev); err != nil {
			return fmt.Errorf("prev: %w", err)
		}
	}
	if len(e.Records) > MaxEpochRecords {
		return fmt.Errorf("%d records, at most %d", len(e.Records), MaxEpochRecords)
	}
	for i, c := range e.Records {
		if err := checkObjectLink(c); err != nil {
			return fmt.Errorf("records[%d]: %w", i, err)
		}
		if i > 0 && strings.Compare(e.Records[i-1].KeyString(), c.KeyString()) >= 0 {
			return fmt.Errorf("records[%d] %s: records must be sorted by CID bytes and unique", i, c)
		}
	}
	switch {
	case len(e.Balances) == 0:
		return errors.New("no balances")
	case len(e.Balances) > MaxBalances:
		return fmt.Errorf("%d balances, at most %d", len(e.Balances), MaxBalances)
	}
	for i, b := range e.Balances {
		if b.Address == (common.Address{}) {
			return fmt.Errorf("balances[%d] is the zero address", i)
		}
		if err := checkUint256(b.Cumulative); err != nil {
			return fmt.Errorf("balances[%d] %s: %w", i, b.Address, err)
		}
		if b.Cumulative.Sign() == 0 {
			return fmt.Errorf("balances[%d] %s: cumulative amount is 0", i, b.Address)
		}
		if i > 0 && bytes.Compare(e.Balances[i-1].Address[:], b.Address[:]) >= 0 {
			return fmt.Errorf("balances[%d] %s: balances must be sorted by address and unique", i, b.Address)
		}
	}
	switch {
	case e.Root == ([32]byte{}):
		return errors.New("root is zero")
	case e.Distributor == (common.Address{}):
		return errors.New("distributor is the zero address")
	case e.Poster == (common.Address{}):
		return errors.New("poster is the zero address")
	case e.ChainID == 0 && len(e.Signature) > 0:
		return errors.New("signed with chain ID 0")
	case e.Created <= 0:
		return fmt.Errorf("created %d is not a positive unix time", e.Created)
	}
	return checkSignatureLen(e.Signature)
}

func rewardEpochEIP712Type() []apitypes.Type {
	return []apitypes.Type{
		{Name: "number", Type: "uint64"},
		{Name: "prev", Type: "string"},
		{Name: "recordCount", Type: "uint32"},
		{Name: "records", Type: "bytes32"},
		{Name: "balanceCount", Type: "uint32"},
		{Name: "balances", Type: "bytes32"},
		{Name: "root", Type: "bytes32"},
		{Name: "distributor", Type: "address"},
		{Name: "poster", Type: "address"},
		{Name: "created", Type: "uint64"},
	}
}

func (e *RewardEpoch) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if e.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", e.Created)
	}
	if len(e.Records) > MaxEpochRecords || len(e.Balances) > MaxBalances {
		return "", nil, errors.New("too many records or balances")
	}
	hashes, err := keccakOfValues(&e.Records, &e.Balances)
	if err != nil {
		return "", nil, err
	}
	prev := ""
	if e.Prev.Defined() {
		prev = e.Prev.String()
	}
	return typeRewardEpoch, apitypes.TypedDataMessage{
		"number":       decimal(e.Number),
		"prev":         prev,
		"recordCount":  decimal(uint64(len(e.Records))),
		"records":      hashes[0],
		"balanceCount": decimal(uint64(len(e.Balances))),
		"balances":     hashes[1],
		"root":         hexutil.Encode(e.Root[:]),
		"distributor":  e.Distributor.Hex(),
		"poster":       e.Poster.Hex(),
		"created":      decimal(uint64(e.Created)),
	}, nil
}

// MarshalJSON returns the JSON view of e.
func (e RewardEpoch) MarshalJSON() ([]byte, error) { return marshalJSON(&e) }

// UnmarshalJSON reads the JSON view of a RewardEpoch. It rejects unknown
// keys and another "kind"; it doesn't check field rules.
func (e *RewardEpoch) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, e) }
