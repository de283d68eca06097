package datanet

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// KindSnapshot is the value of the "kind" key of an encoded Snapshot.
const KindSnapshot = "snapshot"

// typeSnapshot is the EIP-712 primary type of a Snapshot.
const typeSnapshot = "Snapshot"

// ErrEmptySnapshot means a snapshot would hold no contribution.
var ErrEmptySnapshot = errors.New("datanet: no accepted contribution to snapshot")

// Snapshot is a version of a Datanet: the contributions accepted at a cut,
// with the votes that accepted them as evidence, so anyone holding the
// snapshot, its entry tree, its policy version and its contributions can
// recheck every inclusion. Trainers fetch a snapshot by its CID. Anyone may
// cut one; the cutter signs it.
//
// The object stays small whatever the Datanet's size: it commits to its
// entries by Root (their Merkle root, what span proofs check) and by
// Entries, the CID of the root of a tree of SnapshotChunk objects holding
// the entries and their evidence votes, each chunk well under the gossip
// limit, fetched and checked by CID like content.
//
// Its EIP-712 type is
//
//	Snapshot(string datanet,string policy,uint64 version,string prev,
//	         bytes32 root,uint64 contributionCount,uint64 voteCount,
//	         string entries,address cutter,uint64 created)
//
// where datanet, policy, prev and entries are CIDs in base32 ("" for no
// prev).
type Snapshot struct {
	Datanet cid.Cid `cbor:"datanet" json:"datanet"` // the Datanet ID
	// Policy is the CID of the Datanet version whose policy decided: the
	// head of the Datanet at the cut.
	Policy cid.Cid `cbor:"policy" json:"policy"`
	// Version is 1 for the first snapshot of a Datanet, and Prev's
	// Version + 1 after that.
	Version uint64  `cbor:"version" json:"version"`
	Prev    cid.Cid `cbor:"prev,nullable" json:"prev"` // the previous snapshot, cid.Undef for version 1
	// Root is the Merkle root over the entries (see SnapshotRoot), in
	// any order: the tree sorts its leaves.
	Root [32]byte `cbor:"root" json:"root"`
	// Count is the number of entries (contributions), at least one, and
	// Votes the number of evidence votes in them.
	Count uint64 `cbor:"count" json:"count"`
	Votes uint64 `cbor:"votes" json:"votes"`
	// Entries is the root chunk of the entry tree.
	Entries cid.Cid        `cbor:"entries" json:"entries"`
	Cutter  common.Address `cbor:"cutter" json:"cutter"`
	// ChainID is the Datanet's ChainID. Not 0 once signed.
	ChainID uint64 `cbor:"chain_id" json:"chain_id"`
	// Created is the time of the cut in unix seconds: the tally's "now".
	Created   int64  `cbor:"created" json:"created"`
	Signature []byte `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

// SnapshotEntry is one contribution of a Snapshot: its CID, its Merkle root
// over its shards, and the votes that counted in its tally (the latest vote
// of each curator who voted), sorted by curator address, one per curator.
type SnapshotEntry struct {
	Contribution cid.Cid     `cbor:"contribution" json:"contribution"`
	Root         common.Hash `cbor:"root" json:"root"`
	Votes        []*Vote     `cbor:"votes" json:"votes"`
}

// MarshalJSON returns {"contribution": CID string, "root": 0x-hex, "votes": [...]}.
func (e SnapshotEntry) MarshalJSON() ([]byte, error) { return marshalJSON(&e) }

// UnmarshalJSON reads what MarshalJSON writes.
func (e *SnapshotEntry) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, e) }

var _ Object = (*Snapshot)(nil)

// Kind returns KindSnapshot.
func (s *Snapshot) Kind() string { return KindSnapshot }

// Signer returns the cutter.
func (s *Snapshot) Signer() common.Address { return s.Cutter }

// Links returns the Datanet ID, the policy version (if it is not the ID),
// the previous snapshot (if any) and the entry tree, so pinning a snapshot
// keeps its whole version (the tree links the contributions).
func (s *Snapshot) Links() []cid.Cid {
	links := make([]cid.Cid, 0, 4)
	links = append(links, s.Datanet)
	if s.Policy.Defined() && !s.Policy.Equals(s.Datanet) {
		links = append(links, s.Policy)
	}
	if s.Prev.Defined() {
		links = append(links, s.Prev)
	}
	if s.Entries.Defined() {
		links = append(links, s.Entries)
	}
	return links
}

func (s *Snapshot) chainID() uint64 { return s.ChainID }

// Encode returns the canonical encoding of s.
func (s *Snapshot) Encode() ([]byte, error) { return encode(s) }

// CID returns the CID of s's canonical encoding.
func (s *Snapshot) CID() (cid.Cid, error) { return objectCID(s) }

// Verify checks that s.Signature is the cutter's EIP-712 signature of s
// under s.ChainID. It doesn't verify the entries and their evidence; the
// registry does (Registry.VerifySnapshot).
func (s *Snapshot) Verify() error { return verifyObject(s, s.Signature) }

// DecodeSnapshot decodes a Snapshot as Decode does; other kinds fail with
// ErrWrongKind.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	return decodeAs[*Snapshot](data)
}

// SignSnapshot signs s with signer under chainID, the chain ID of s's
// Datanet, as SignVote does for a vote: s.Cutter becomes signer's address
// if it is zero and must be it otherwise.
func SignSnapshot(s *Snapshot, chainID uint64, signer Signer) error {
	return signInDatanet(s, chainID, signer, func(s *Snapshot) (*uint64, *common.Address, *[]byte) {
		return &s.ChainID, &s.Cutter, &s.Signature
	})
}

// SnapshotRoot returns the Merkle root over entries, in their order: an
// OpenZeppelin StandardMerkleTree whose leaves are
// proofs.ContributionLeaf(sha256 digest of the contribution's CID, its
// root). It fails with ErrEmptySnapshot for no entries.
func SnapshotRoot(entries []SnapshotEntry) ([32]byte, error) {
	tree, err := SnapshotTree(entries)
	if err != nil {
		return [32]byte{}, err
	}
	return tree.Root(), nil
}

// SnapshotTree returns the Merkle tree whose root SnapshotRoot returns:
// leaf i is entry i's, so tree.Proof(i) proves entry i.
func SnapshotTree(entries []SnapshotEntry) (*proofs.Tree, error) {
	if len(entries) == 0 {
		return nil, ErrEmptySnapshot
	}
	leaves := make([]proofs.Hash, len(entries))
	for i, e := range entries {
		digest, err := objectDigest(e.Contribution)
		if err != nil {
			return nil, fmt.Errorf("contributions[%d]: %w", i, err)
		}
		leaves[i] = proofs.ContributionLeaf(digest, [32]byte(e.Root))
	}
	return proofs.NewTree(leaves)
}

// Tree returns the Merkle tree of c's shards whose root is c.Root when c is
// intact: leaf i is proofs.ShardLeaf(i, digest, size) of the i-th shard,
// counting across files in order, each shard ChunkSize bytes but a file's
// last.
func (c *Contribution) Tree() (*proofs.Tree, error) {
	var leaves []proofs.Hash
	for _, f := range c.Files {
		for j, s := range f.Shards {
			digest, err := ShardDigest(s)
			if err != nil {
				return nil, fmt.Errorf("file %q: %w", f.Path, err)
			}
			leaves = append(leaves, proofs.ShardLeaf(uint64(len(leaves)), digest, f.ShardSize(j, c.ChunkSize)))
		}
	}
	return proofs.NewTree(leaves)
}

// objectDigest returns the sha2-256 digest of an object CID, checking
// that it is one.
func objectDigest(c cid.Cid) ([32]byte, error) {
	if err := checkObjectLink(c); err != nil {
		return [32]byte{}, err
	}
	return storage.Digest(c)
}

// Validate checks the field rules of a Snapshot: links well formed, a
// version that follows its prev, at least one entry, and a cutter. The
// entries are checked against Root, Count and Votes when the tree is read
// (Registry.VerifySnapshot).
func (s *Snapshot) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("%w: snapshot: %w", ErrInvalid, err)
	}
	return nil
}

func (s *Snapshot) validate() error {
	if err := checkObjectLink(s.Datanet); err != nil {
		return fmt.Errorf("datanet: %w", err)
	}
	if err := checkObjectLink(s.Policy); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if err := checkObjectLink(s.Entries); err != nil {
		return fmt.Errorf("entries: %w", err)
	}
	switch {
	case s.Version == 0:
		return errors.New("version 0; the first is 1")
	case s.Version == 1 && s.Prev.Defined():
		return errors.New("version 1 has a prev")
	case s.Version > 1 && !s.Prev.Defined():
		return fmt.Errorf("version %d has no prev", s.Version)
	case s.Prev.Defined():
		if err := checkObjectLink(s.Prev); err != nil {
			return fmt.Errorf("prev: %w", err)
		}
	}
	switch {
	case s.Count == 0:
		return ErrEmptySnapshot
	case s.Count > MaxSnapshotEntries:
		return fmt.Errorf("%d entries, at most %d", s.Count, uint64(MaxSnapshotEntries))
	case s.Votes < s.Count:
		return fmt.Errorf("%d evidence votes for %d entries: each needs one at least", s.Votes, s.Count)
	case s.Votes > s.Count*MaxEntryVotes:
		return fmt.Errorf("%d evidence votes for %d entries, at most %d each", s.Votes, s.Count, MaxEntryVotes)
	case s.Cutter == (common.Address{}):
		return errors.New("cutter is the zero address")
	case s.ChainID == 0 && len(s.Signature) > 0:
		return errors.New("signed with chain ID 0")
	case s.Created <= 0:
		return fmt.Errorf("created %d is not a positive unix time", s.Created)
	}
	return checkSignatureLen(s.Signature)
}

func snapshotEIP712Type() []apitypes.Type {
	return []apitypes.Type{
		{Name: "datanet", Type: "string"},
		{Name: "policy", Type: "string"},
		{Name: "version", Type: "uint64"},
		{Name: "prev", Type: "string"},
		{Name: "root", Type: "bytes32"},
		{Name: "contributionCount", Type: "uint64"},
		{Name: "voteCount", Type: "uint64"},
		{Name: "entries", Type: "string"},
		{Name: "cutter", Type: "address"},
		{Name: "created", Type: "uint64"},
	}
}

func (s *Snapshot) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if !s.Datanet.Defined() || !s.Policy.Defined() || !s.Entries.Defined() {
		return "", nil, errors.New("datanet, policy or entries is undefined")
	}
	if s.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", s.Created)
	}
	prev := ""
	if s.Prev.Defined() {
		prev = s.Prev.String()
	}
	return typeSnapshot, apitypes.TypedDataMessage{
		"datanet":           s.Datanet.String(),
		"policy":            s.Policy.String(),
		"version":           decimal(s.Version),
		"prev":              prev,
		"root":              hexutil.Encode(s.Root[:]),
		"contributionCount": decimal(s.Count),
		"voteCount":         decimal(s.Votes),
		"entries":           s.Entries.String(),
		"cutter":            s.Cutter.Hex(),
		"created":           decimal(uint64(s.Created)),
	}, nil
}

// MarshalJSON returns the JSON view of s.
func (s Snapshot) MarshalJSON() ([]byte, error) { return marshalJSON(&s) }

// UnmarshalJSON reads the JSON view of a Snapshot. It rejects unknown keys
// and another "kind"; it doesn't check field rules.
func (s *Snapshot) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, s) }
