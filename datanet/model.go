package datanet

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
)

// KindModel is the value of the "kind" key of an encoded ModelRecord.
const KindModel = "model"

// typeModel is the EIP-712 primary type of a ModelRecord.
const typeModel = "Model"

// Limits of a ModelRecord's field rules.
const (
	// MaxSnapshotsPerModel bounds ModelRecord.Snapshots; each costs about
	// 110 bytes of the encoding.
	MaxSnapshotsPerModel = 1024
	// MaxBaseModelLen bounds ModelRecord.Base in bytes.
	MaxBaseModelLen = 256
)

// ModelRecord is a model's lineage: the Datanet snapshots it was trained on
// and the artifacts it is made of (adapter weights and the like), signed by
// its owner, the trainer, whose address receives the model-owner pool of
// the rewards for the model's attributed inferences. Its artifacts are read
// as the files of a contribution are: GET /content/MODEL_CID/adapter.bin.
//
// Its EIP-712 type is
//
//	Model(string name,string base,address owner,uint32 snapshotCount,
//	      bytes32 snapshots,uint32 artifactCount,bytes32 artifacts,
//	      uint64 chunkSize,bytes32 metadata,uint64 created)
//
// where snapshots, artifacts and metadata are the keccak256 of the DAG-CBOR
// encodings of the "snapshots", "artifacts" and "metadata" values of the
// object's encoding.
type ModelRecord struct {
	Name string `cbor:"name" json:"name"` // 1 to MaxNameLen bytes, one line
	// Base names the base model fine-tuned, such as
	// "meta-llama/Llama-3.1-8B"; at most MaxBaseModelLen bytes, may be
	// empty.
	Base string `cbor:"base" json:"base"`
	// Snapshots are the Datanet versions the model was trained on, sorted
	// by the bytes of the snapshot CIDs, unique, 1 to MaxSnapshotsPerModel.
	Snapshots []ModelSnapshot `cbor:"snapshots" json:"snapshots"`
	// Artifacts are the model's files, with the rules of
	// Contribution.Files; may be empty.
	Artifacts []File `cbor:"artifacts" json:"artifacts"`
	// ChunkSize is the bytes per shard of the artifacts,
	// MinChunkSize..MaxChunkSize, or 0 when there are none.
	ChunkSize uint64 `cbor:"chunk_size" json:"chunk_size"`
	// Metadata holds free-form single-line keys and values, with the rules
	// of Contribution.Metadata.
	Metadata map[string]string `cbor:"metadata" json:"metadata"`
	Owner    common.Address    `cbor:"owner" json:"owner"`
	// ChainID is the chain ID of the model's Datanets, the EIP-712 domain
	// chain ID. Not 0 once signed.
	ChainID   uint64 `cbor:"chain_id" json:"chain_id"`
	Created   int64  `cbor:"created" json:"created"`     // unix seconds, > 0
	Signature []byte `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

// ModelSnapshot is one snapshot a model was trained on, with the ID of its
// Datanet.
type ModelSnapshot struct {
	Datanet  cid.Cid `cbor:"datanet" json:"datanet"`
	Snapshot cid.Cid `cbor:"snapshot" json:"snapshot"`
}

var _ Object = (*ModelRecord)(nil)

// Kind returns KindModel.
func (m *ModelRecord) Kind() string { return KindModel }

// Signer returns the owner.
func (m *ModelRecord) Signer() common.Address { return m.Owner }

// Datanets returns the IDs of the model's Datanets, each once, in the
// order of Snapshots.
func (m *ModelRecord) Datanets() []cid.Cid {
	var out []cid.Cid
	for _, s := range m.Snapshots {
		if !slices.ContainsFunc(out, s.Datanet.Equals) {
			out = append(out, s.Datanet)
		}
	}
	return out
}

// HasSnapshot reports whether the model lists the snapshot c.
func (m *ModelRecord) HasSnapshot(c cid.Cid) bool {
	_, ok := slices.BinarySearchFunc(m.Snapshots, c, func(s ModelSnapshot, c cid.Cid) int {
		return strings.Compare(s.Snapshot.KeyString(), c.KeyString())
	})
	return ok
}

// Links returns each Datanet ID once (so the model is in those Datanets'
// sets), each snapshot, and every shard of every artifact, in that order.
func (m *ModelRecord) Links() []cid.Cid {
	links := m.Datanets()
	for _, s := range m.Snapshots {
		links = append(links, s.Snapshot)
	}
	for _, f := range m.Artifacts {
		links = append(links, f.Shards...)
	}
	return links
}

func (m *ModelRecord) chainID() uint64 { return m.ChainID }

// Encode returns the canonical encoding of m.
func (m *ModelRecord) Encode() ([]byte, error) { return encode(m) }

// CID returns the CID of m's canonical encoding.
func (m *ModelRecord) CID() (cid.Cid, error) { return objectCID(m) }

// Verify checks that m.Signature is the owner's EIP-712 signature of m
// under m.ChainID.
func (m *ModelRecord) Verify() error { return verifyObject(m, m.Signature) }

// DecodeModel decodes a ModelRecord as Decode does; other kinds fail with
// ErrWrongKind.
func DecodeModel(data []byte) (*ModelRecord, error) {
	return decodeAs[*ModelRecord](data)
}

// SignModel signs m with signer under chainID, the chain ID of m's
// Datanets, as SignContribution does: m.Owner becomes signer's address if it
// is zero and must be it otherwise (ErrWrongSigner).
func SignModel(m *ModelRecord, chainID uint64, signer Signer) error {
	return signInDatanet(m, chainID, signer, func(m *ModelRecord) (*uint64, *common.Address, *[]byte) {
		return &m.ChainID, &m.Owner, &m.Signature
	})
}

// SortModelSnapshots sorts snapshots in the order ModelRecord.Snapshots
// takes.
func SortModelSnapshots(snapshots []ModelSnapshot) {
	slices.SortFunc(snapshots, func(a, b ModelSnapshot) int {
		return strings.Compare(a.Snapshot.KeyString(), b.Snapshot.KeyString())
	})
}

// Validate checks the field rules of a ModelRecord.
func (m *ModelRecord) Validate() error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("%w: model: %w", ErrInvalid, err)
	}
	return nil
}

func (m *ModelRecord) validate() error {
	if m.Name == "" {
		return errors.New("name is empty")
	}
	if err := checkText(m.Name, MaxNameLen, false); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := checkText(m.Base, MaxBaseModelLen, false); err != nil {
		return fmt.Errorf("base: %w", err)
	}
	switch {
	case len(m.Snapshots) == 0:
		return errors.New("no snapshots")
	case len(m.Snapshots) > MaxSnapshotsPerModel:
		return fmt.Errorf("%d snapshots, at most %d", len(m.Snapshots), MaxSnapshotsPerModel)
	}
	for i, s := range m.Snapshots {
		if err := checkObjectLink(s.Datanet); err != nil {
			return fmt.Errorf("snapshots[%d]: datanet: %w", i, err)
		}
		if err := checkObjectLink(s.Snapshot); err != nil {
			return fmt.Errorf("snapshots[%d]: snapshot: %w", i, err)
		}
		if i > 0 && strings.Compare(m.Snapshots[i-1].Snapshot.KeyString(), s.Snapshot.KeyString()) >= 0 {
			return fmt.Errorf("snapshots[%d] %s: snapshots must be sorted by CID bytes and unique", i, s.Snapshot)
		}
	}
	if len(m.Artifacts) == 0 {
		if m.ChunkSize != 0 {
			return fmt.Errorf("chunk size %d without artifacts, want 0", m.ChunkSize)
		}
	} else {
		if m.ChunkSize < MinChunkSize || m.ChunkSize > MaxChunkSize {
			return fmt.Errorf("chunk size %d not in [%d, %d]", m.ChunkSize, MinChunkSize, MaxChunkSize)
		}
		if _, err := checkFiles("artifacts", m.Artifacts, m.ChunkSize); err != nil {
			return err
		}
	}
	if err := checkMetadata(m.Metadata); err != nil {
		return err
	}
	if m.Owner == (common.Address{}) {
		return errors.New("owner is the zero address")
	}
	if m.ChainID == 0 && len(m.Signature) > 0 {
		return errors.New("signed with chain ID 0")
	}
	if m.Created <= 0 {
		return fmt.Errorf("created %d is not a positive unix time", m.Created)
	}
	return checkSignatureLen(m.Signature)
}

func modelEIP712Type() []apitypes.Type {
	return []apitypes.Type{
		{Name: "name", Type: "string"},
		{Name: "base", Type: "string"},
		{Name: "owner", Type: "address"},
		{Name: "snapshotCount", Type: "uint32"},
		{Name: "snapshots", Type: "bytes32"},
		{Name: "artifactCount", Type: "uint32"},
		{Name: "artifacts", Type: "bytes32"},
		{Name: "chunkSize", Type: "uint64"},
		{Name: "metadata", Type: "bytes32"},
		{Name: "created", Type: "uint64"},
	}
}

func (m *ModelRecord) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if m.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", m.Created)
	}
	if uint64(len(m.Snapshots)) > math.MaxUint32 || uint64(len(m.Artifacts)) > math.MaxUint32 {
		return "", nil, errors.New("too many snapshots or artifacts")
	}
	hashes, err := keccakOfValues(&m.Snapshots, &m.Artifacts, &m.Metadata)
	if err != nil {
		return "", nil, err
	}
	return typeModel, apitypes.TypedDataMessage{
		"name":          m.Name,
		"base":          m.Base,
		"owner":         m.Owner.Hex(),
		"snapshotCount": decimal(uint64(len(m.Snapshots))),
		"snapshots":     hashes[0],
		"artifactCount": decimal(uint64(len(m.Artifacts))),
		"artifacts":     hashes[1],
		"chunkSize":     decimal(m.ChunkSize),
		"metadata":      hashes[2],
		"created":       decimal(uint64(m.Created)),
	}, nil
}

// keccakOfValues returns, as 0x-hex, the keccak256 of the DAG-CBOR encoding
// of each value a pointer points to: how a big list is committed in a
// typed message.
func keccakOfValues(pointers ...any) ([]string, error) {
	out := make([]string, len(pointers))
	for i, p := range pointers {
		data, err := marshalCBOR(p)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", p, err)
		}
		out[i] = crypto.Keccak256Hash(data).Hex()
	}
	return out, nil
}

// MarshalJSON returns {"datanet": CID string, "snapshot": CID string}.
func (s ModelSnapshot) MarshalJSON() ([]byte, error) { return marshalJSON(&s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *ModelSnapshot) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, s) }

// MarshalJSON returns the JSON view of m.
func (m ModelRecord) MarshalJSON() ([]byte, error) { return marshalJSON(&m) }

// UnmarshalJSON reads the JSON view of a ModelRecord. It rejects unknown
// keys and another "kind"; it doesn't check field rules.
func (m *ModelRecord) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, m) }
