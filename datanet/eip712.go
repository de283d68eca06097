package datanet

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common/hexutil"
	gmath "github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// The EIP-712 domain of every object: {name: DomainName, version:
// DomainVersion, chainId: the Datanet's ChainID}.
const (
	DomainName    = "openledger"
	DomainVersion = "1"
)

// EIP-712 primary types.
const (
	typeDatanet      = "Datanet"
	typeContribution = "Contribution"
	typeCurator      = "Curator"
)

// eip712Types returns the type definitions a wallet needs for primaryType.
// A fresh map every call: callers may keep or change it.
func eip712Types(primaryType string) apitypes.Types {
	types := apitypes.Types{
		"EIP712Domain": {
			{Name: "name", Type: "string"},
			{Name: "version", Type: "string"},
			{Name: "chainId", Type: "uint256"},
		},
	}
	switch primaryType {
	case typeDatanet:
		types[typeDatanet] = []apitypes.Type{
			{Name: "name", Type: "string"},
			{Name: "description", Type: "string"},
			{Name: "license", Type: "string"},
			{Name: "owner", Type: "address"},
			{Name: "kinds", Type: "string[]"},
			{Name: "maxContributionSize", Type: "uint64"},
			{Name: "curators", Type: "Curator[]"},
			{Name: "quorum", Type: "uint64"},
			{Name: "thresholdBps", Type: "uint32"},
			{Name: "window", Type: "uint64"},
			{Name: "seq", Type: "uint64"},
			{Name: "prev", Type: "string"},
			{Name: "created", Type: "uint64"},
		}
		types[typeCurator] = []apitypes.Type{
			{Name: "account", Type: "address"},
			{Name: "weight", Type: "uint64"},
		}
	case typeContribution:
		types[typeContribution] = []apitypes.Type{
			{Name: "datanet", Type: "string"},
			{Name: "contributor", Type: "address"},
			{Name: "root", Type: "bytes32"},
			{Name: "size", Type: "uint64"},
			{Name: "chunkSize", Type: "uint64"},
			{Name: "fileCount", Type: "uint32"},
			{Name: "files", Type: "bytes32"},
			{Name: "license", Type: "string"},
			{Name: "metadata", Type: "bytes32"},
			{Name: "created", Type: "uint64"},
		}
	case typeVote:
		types[typeVote] = voteEIP712Type()
	case typeSnapshot:
		types[typeSnapshot] = snapshotEIP712Type()
	case typeModel:
		types[typeModel] = modelEIP712Type()
	case typeAttribution:
		types[typeAttribution] = attributionEIP712Type()
	case typeRewardEpoch:
		types[typeRewardEpoch] = rewardEpochEIP712Type()
	}
	return types
}

// TypedData returns the EIP-712 typed data of obj, exactly what
// eth_signTypedData_v4 takes, under obj's chain ID. The signature field is
// not part of it. Integers are decimal strings, addresses checksummed hex,
// bytes32 0x-hex. See TypedDataJSON for the JSON a wallet or
// `cast wallet sign --data` reads.
func TypedData(obj Object) (apitypes.TypedData, error) {
	primary, msg, err := obj.typedMessage()
	if err != nil {
		return apitypes.TypedData{}, fmt.Errorf("datanet: typed data of %s: %w", obj.Kind(), err)
	}
	return apitypes.TypedData{
		Types:       eip712Types(primary),
		PrimaryType: primary,
		Domain: apitypes.TypedDataDomain{
			Name:    DomainName,
			Version: DomainVersion,
			ChainId: (*gmath.HexOrDecimal256)(new(big.Int).SetUint64(obj.chainID())),
		},
		Message: msg,
	}, nil
}

// TypedDataJSON returns obj's typed data as JSON for eth_signTypedData_v4.
// Unlike json.Marshal of apitypes.TypedData it writes the domain's chainId
// as a number and leaves out the empty verifyingContract and salt, which
// some wallets and tools reject.
func TypedDataJSON(obj Object) ([]byte, error) {
	td, err := TypedData(obj)
	if err != nil {
		return nil, err
	}
	type domain struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		ChainID uint64 `json:"chainId"`
	}
	return json.MarshalIndent(struct {
		Types       apitypes.Types            `json:"types"`
		PrimaryType string                    `json:"primaryType"`
		Domain      domain                    `json:"domain"`
		Message     apitypes.TypedDataMessage `json:"message"`
	}{
		Types:       td.Types,
		PrimaryType: td.PrimaryType,
		Domain:      domain{Name: td.Domain.Name, Version: td.Domain.Version, ChainID: obj.chainID()},
		Message:     td.Message,
	}, "", "  ")
}

// SigningHash returns the EIP-712 digest of obj that its signer signs:
// keccak256("\x19\x01" || domainSeparator || hashStruct(message)), as
// apitypes.TypedDataAndHash computes it.
func SigningHash(obj Object) ([32]byte, error) {
	switch o := obj.(type) {
	case *Vote:
		return voteSigningHash(o)
	case *Contribution:
		return contributionSigningHash(o)
	}
	td, err := TypedData(obj)
	if err != nil {
		return [32]byte{}, err
	}
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return [32]byte{}, fmt.Errorf("datanet: signing hash of %s: %w", obj.Kind(), err)
	}
	return [32]byte(hash), nil
}

func (d *Datanet) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if d.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", d.Created)
	}
	kinds := make([]any, len(d.Kinds))
	for i, k := range d.Kinds {
		kinds[i] = k
	}
	prev := ""
	if d.Prev.Defined() {
		prev = d.Prev.String()
	}
	// Plain maps: apitypes takes the items of a struct array only as
	// map[string]any.
	curators := make([]any, len(d.Curators))
	for i, c := range d.Curators {
		curators[i] = map[string]any{"account": c.Address.Hex(), "weight": decimal(c.Weight)}
	}
	return typeDatanet, apitypes.TypedDataMessage{
		"name":                d.Name,
		"description":         d.Description,
		"license":             d.License,
		"owner":               d.Owner.Hex(),
		"kinds":               kinds,
		"maxContributionSize": decimal(d.MaxContributionSize),
		"curators":            curators,
		"quorum":              decimal(d.Quorum),
		"thresholdBps":        decimal(uint64(d.ThresholdBps)),
		"window":              decimal(d.Window),
		"seq":                 decimal(d.Seq),
		"prev":                prev,
		"created":             decimal(uint64(d.Created)),
	}, nil
}

func (c *Contribution) typedMessage() (string, apitypes.TypedDataMessage, error) {
	if !c.Datanet.Defined() {
		return "", nil, fmt.Errorf("datanet is undefined")
	}
	if c.Created < 0 {
		return "", nil, fmt.Errorf("negative created %d", c.Created)
	}
	if uint64(len(c.Files)) > math.MaxUint32 {
		return "", nil, fmt.Errorf("%d files do not fit uint32", len(c.Files))
	}
	hashes, err := keccakOfValues(&c.Files, &c.Metadata)
	if err != nil {
		return "", nil, err
	}
	return typeContribution, apitypes.TypedDataMessage{
		"datanet":     c.Datanet.String(),
		"contributor": c.Contributor.Hex(),
		"root":        hexutil.Encode(c.Root[:]),
		"size":        decimal(c.Size),
		"chunkSize":   decimal(c.ChunkSize),
		"fileCount":   decimal(uint64(len(c.Files))),
		"files":       hashes[0],
		"license":     c.License,
		"metadata":    hashes[1],
		"created":     decimal(uint64(c.Created)),
	}, nil
}

// decimal formats an integer as wallets take it: a decimal string, exact
// beyond the 2^53 a JSON number holds in JavaScript.
func decimal(n uint64) string { return strconv.FormatUint(n, 10) }
