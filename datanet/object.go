package datanet

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// Object kinds, the value of the "kind" key of an encoded object.
const (
	KindDatanet      = "datanet"
	KindContribution = "contribution"
)

// Limits of the field rules. They bound what a peer can make a node store and
// hash, and keep every object printable.
const (
	// MaxObjectSize bounds an object's encoding. A shard link costs 41
	// bytes, so a Contribution lists up to about 400,000 shards: 400 GiB of
	// 1 MiB shards, 1.6 TiB of 4 MiB shards. Larger datasets are published
	// as several contributions.
	MaxObjectSize = 16 << 20

	MaxNameLen          = 128                   // bytes of Datanet.Name
	MaxDescriptionLen   = 8 << 10               // bytes of Datanet.Description
	MaxLicenseLen       = 256                   // bytes of a license (an SPDX expression or a URL)
	MaxKinds            = 64                    // entries of Datanet.Kinds
	MaxKindLen          = 16                    // bytes of one kind
	MaxPathLen          = 1024                  // bytes of File.Path
	MaxPathSegmentLen   = 255                   // bytes of one path segment
	MaxMetadataEntries  = 64                    // entries of Contribution.Metadata
	MaxMetadataKeyLen   = 64                    // bytes of a metadata key
	MaxMetadataValueLen = 1024                  // bytes of a metadata value
	MaxCurators         = 1024                  // entries of Datanet.Curators
	MaxBps              = 10000                 // 100% in basis points, the largest Datanet.ThresholdBps
	MaxWindow           = 100 * 365 * 24 * 3600 // seconds of Datanet.Window: 100 years
	MinChunkSize        = 1 << 10               // bytes of a shard, as the storage package reads them
	MaxChunkSize        = 4 << 20               // bytes of a shard
	SignatureLen        = 65                    // bytes of a signature, R||S||V
)

// Errors callers branch on. Returned errors wrap them with details; test
// with errors.Is.
var (
	// ErrInvalid means an object breaks a field rule (see Validate).
	ErrInvalid = errors.New("datanet: invalid object")
	// ErrMalformed means bytes are not an encoding of any object: bad CBOR,
	// wrong types, unknown or duplicate keys.
	ErrMalformed = errors.New("datanet: malformed encoding")
	// ErrNonCanonical means bytes decode but are not the one canonical
	// encoding of what they hold.
	ErrNonCanonical = errors.New("datanet: non-canonical encoding")
	// ErrUnknownKind means the "kind" key names no known object.
	ErrUnknownKind = errors.New("datanet: unknown object kind")
	// ErrUnsupportedVersion means the "v" key is not EncodingVersion.
	ErrUnsupportedVersion = errors.New("datanet: unsupported encoding version")
	// ErrTooLarge means an encoding exceeds MaxObjectSize.
	ErrTooLarge = errors.New("datanet: object too large")
	// ErrWrongKind means a valid object of another kind than the caller
	// expected.
	ErrWrongKind = errors.New("datanet: unexpected object kind")
	// ErrUnsigned means an object has no signature.
	ErrUnsigned = errors.New("datanet: object is not signed")
	// ErrBadSignature means a signature is malformed, malleable (high S,
	// V not 27 or 28), or made by another account than the object's signer.
	ErrBadSignature = errors.New("datanet: bad signature")
	// ErrWrongSigner means a Signer was asked to sign an object whose
	// author is another account.
	ErrWrongSigner = errors.New("datanet: signer is not the object's author")
	// ErrNotAdmitted means a contribution breaks its Datanet's rules.
	ErrNotAdmitted = errors.New("datanet: contribution not admitted")
)

// Object is a signed object of a Datanet. It is implemented by *Datanet,
// *Contribution, *Vote, *Snapshot, *ModelRecord, *AttributionRecord and
// *RewardEpoch only; Decode returns one of them.
type Object interface {
	// Kind is the object's kind, e.g. KindDatanet.
	Kind() string
	// Encode returns the canonical encoding. It fails with ErrInvalid if
	// the object breaks a field rule, so every encoding it returns decodes.
	Encode() ([]byte, error)
	// CID is the CID of the canonical encoding, signature included.
	CID() (cid.Cid, error)
	// Links lists the CIDs the object refers to, so a store can pin and a
	// peer can fetch what an object needs.
	Links() []cid.Cid
	// Signer is the account that must have signed the object.
	Signer() common.Address
	// Verify checks that the signature is a valid EIP-712 signature of the
	// object by Signer. It doesn't check field rules.
	Verify() error
	// Validate checks the field rules. An unsigned object is a draft: it
	// may lack a signature and a chain ID (the signing functions set it); a
	// signed one needs both, the signature SignatureLen bytes.
	Validate() error

	// chainID is the EIP-712 domain chain ID of the object.
	chainID() uint64
	// typedMessage is the EIP-712 primary type and message.
	typedMessage() (primaryType string, msg apitypes.TypedDataMessage, err error)
}

// Datanet is one version of a Datanet: a curated dataset with its owner and
// rules. The CID of the first version (Seq 0) is the Datanet's ID; an update
// is a new version with Seq one more and Prev the CID of the version it
// replaces, signed by the owner.
//
// Its EIP-712 type is
//
//	Datanet(string name,string description,string license,address owner,
//	        string[] kinds,uint64 maxContributionSize,Curator[] curators,
//	        uint64 quorum,uint32 thresholdBps,uint64 window,uint64 seq,
//	        string prev,uint64 created)
//	Curator(address account,uint64 weight)
//
// where prev is the CIDv1 of the previous version in base32 (its String
// form), or "" for the first version, so a wallet shows the whole policy.
type Datanet struct {
	Name        string         `cbor:"name" json:"name"`
	Description string         `cbor:"description" json:"description"` // may span lines
	License     string         `cbor:"license" json:"license"`         // an SPDX expression or a URL; may be empty
	Owner       common.Address `cbor:"owner" json:"owner"`
	// ChainID is the EIP-712 domain chain ID of everything in this Datanet
	// (1612 for the OPEN mainnet, 161201 for its testnet). Not 0 once
	// signed.
	ChainID uint64 `cbor:"chain_id" json:"chain_id"`
	// Kinds lists the accepted file kinds (lower-case file name extensions
	// such as "txt", "md", "csv", "jsonl"), sorted, unique; empty means any.
	Kinds []string `cbor:"kinds" json:"kinds"`
	// MaxContributionSize bounds Contribution.Size in bytes; 0 = no limit.
	MaxContributionSize uint64 `cbor:"max_contribution_size" json:"max_contribution_size"`
	// Curators are the accounts whose votes decide on contributions, with
	// their weights: sorted by address, unique, each weight > 0, at least
	// one, at most MaxCurators. The curation package reads the policy
	// (Curators, Quorum, ThresholdBps, Window) and runs the tally.
	Curators []Curator `cbor:"curators" json:"curators"`
	// Quorum is the weight of votes that must be cast on a contribution
	// for a decision: 1 up to the total curator weight.
	Quorum uint64 `cbor:"quorum" json:"quorum,string"`
	// ThresholdBps is the share of the cast weight that must approve, in
	// basis points: 1 to MaxBps (5000 is half).
	ThresholdBps uint32 `cbor:"threshold_bps" json:"threshold_bps"`
	// Window is how many seconds after a contribution's creation votes on
	// it are taken, at most MaxWindow; 0 means no deadline.
	Window    uint64  `cbor:"window" json:"window"`
	Seq       uint64  `cbor:"seq" json:"seq"`             // 0 for the first version
	Prev      cid.Cid `cbor:"prev,nullable" json:"prev"`  // cid.Undef for the first version
	Created   int64   `cbor:"created" json:"created"`     // unix seconds, > 0
	Signature []byte  `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

// Curator is a curator of a Datanet and the weight of its votes. Weights
// are any uint64 (a stake in wei, say), so the JSON view gives the weight
// as a decimal string; the readers also take a number.
type Curator struct {
	Address common.Address `cbor:"address" json:"address"`
	Weight  uint64         `cbor:"weight" json:"weight,string"`
}

// CuratorWeight returns the weight of a's votes, 0 if a is not a curator.
func (d *Datanet) CuratorWeight(a common.Address) uint64 {
	i, ok := slices.BinarySearchFunc(d.Curators, a, func(c Curator, a common.Address) int {
		return bytes.Compare(c.Address[:], a[:])
	})
	if !ok {
		return 0
	}
	return d.Curators[i].Weight
}

// File is one file of a Contribution: a clean relative slash path and the
// shards its bytes are cut into, in order.
type File struct {
	// Path is relative, slash-separated and clean: no leading or trailing
	// "/", no empty, "." or ".." segments, no backslashes or control
	// characters.
	Path string `cbor:"path" json:"path"`
	Size uint64 `cbor:"size" json:"size"` // bytes
	// Shards are CIDv1 raw sha2-256, ceil(Size/ChunkSize) of them, or one
	// (the empty block) for an empty file.
	Shards []cid.Cid `cbor:"shards" json:"shards"`
}

// Contribution is a set of files a contributor offers to a Datanet, signed by
// the contributor.
//
// Its EIP-712 type is
//
//	Contribution(string datanet,address contributor,bytes32 root,
//	             uint64 size,uint64 chunkSize,uint32 fileCount,
//	             bytes32 files,string license,bytes32 metadata,
//	             uint64 created)
//
// where datanet is the Datanet ID in base32 (its String form), files is the
// keccak256 of the DAG-CBOR encoding of Files (the "files" value of the
// object's encoding) and metadata is the keccak256 of the DAG-CBOR encoding
// of Metadata (an empty map encodes as 0xa0). A wallet shows the small fields;
// the file list, which may hold a million shard CIDs, is committed by hash.
type Contribution struct {
	Datanet     cid.Cid        `cbor:"datanet" json:"datanet"` // the Datanet ID (CID of its first version)
	Contributor common.Address `cbor:"contributor" json:"contributor"`
	// ChainID is the Datanet's ChainID, the EIP-712 domain chain ID the
	// contribution is signed under. SignContribution sets it; a node
	// accepts the contribution only if it equals its Datanet's
	// (Datanet.Admits).
	ChainID uint64 `cbor:"chain_id" json:"chain_id"`
	// Files are sorted by Path (bytewise), unique, and no path is a
	// directory of another.
	Files []File `cbor:"files" json:"files"`
	// Root is the Merkle root over all shards of all files in file order
	// (see the proofs package).
	Root      [32]byte `cbor:"root" json:"root"`
	Size      uint64   `cbor:"size" json:"size"`             // sum of the file sizes
	ChunkSize uint64   `cbor:"chunk_size" json:"chunk_size"` // bytes per shard, MinChunkSize..MaxChunkSize
	License   string   `cbor:"license" json:"license"`       // an SPDX expression or a URL; may be empty
	// Metadata holds free-form single-line keys and values, such as
	// "language" or "source".
	Metadata  map[string]string `cbor:"metadata" json:"metadata"`
	Created   int64             `cbor:"created" json:"created"`     // unix seconds, > 0
	Signature []byte            `cbor:"signature" json:"signature"` // 65 bytes R||S||V, V in {27, 28}; nil until signed
}

var (
	_ Object = (*Datanet)(nil)
	_ Object = (*Contribution)(nil)
)

// Kind returns KindDatanet.
func (d *Datanet) Kind() string { return KindDatanet }

// Signer returns the owner.
func (d *Datanet) Signer() common.Address { return d.Owner }

// Links returns Prev if it is defined.
func (d *Datanet) Links() []cid.Cid {
	if !d.Prev.Defined() {
		return nil
	}
	return []cid.Cid{d.Prev}
}

func (d *Datanet) chainID() uint64 { return d.ChainID }

// Validate checks the field rules of a Datanet.
func (d *Datanet) Validate() error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("%w: datanet: %w", ErrInvalid, err)
	}
	return nil
}

func (d *Datanet) validate() error {
	if d.Name == "" {
		return errors.New("name is empty")
	}
	if err := checkText(d.Name, MaxNameLen, false); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := checkText(d.Description, MaxDescriptionLen, true); err != nil {
		return fmt.Errorf("description: %w", err)
	}
	if err := checkText(d.License, MaxLicenseLen, false); err != nil {
		return fmt.Errorf("license: %w", err)
	}
	if d.Owner == (common.Address{}) {
		return errors.New("owner is the zero address")
	}
	if d.ChainID == 0 && len(d.Signature) > 0 {
		return errors.New("signed with chain ID 0")
	}
	if len(d.Kinds) > MaxKinds {
		return fmt.Errorf("%d kinds, at most %d", len(d.Kinds), MaxKinds)
	}
	for i, k := range d.Kinds {
		if err := checkKind(k); err != nil {
			return fmt.Errorf("kinds[%d]: %w", i, err)
		}
		if i > 0 && d.Kinds[i-1] >= k {
			return fmt.Errorf("kinds[%d] %q: kinds must be sorted and unique", i, k)
		}
	}
	if err := d.validatePolicy(); err != nil {
		return err
	}
	switch {
	case d.Seq == 0 && d.Prev.Defined():
		return errors.New("first version (seq 0) has a prev")
	case d.Seq > 0 && !d.Prev.Defined():
		return fmt.Errorf("version %d has no prev", d.Seq)
	case d.Prev.Defined():
		if err := checkObjectLink(d.Prev); err != nil {
			return fmt.Errorf("prev: %w", err)
		}
	}
	if d.Created <= 0 {
		return fmt.Errorf("created %d is not a positive unix time", d.Created)
	}
	return checkSignatureLen(d.Signature)
}

// validatePolicy checks the curator set and the voting rules.
func (d *Datanet) validatePolicy() error {
	switch {
	case len(d.Curators) == 0:
		return errors.New("no curators")
	case len(d.Curators) > MaxCurators:
		return fmt.Errorf("%d curators, at most %d", len(d.Curators), MaxCurators)
	}
	var total uint64
	for i, c := range d.Curators {
		switch {
		case c.Address == (common.Address{}):
			return fmt.Errorf("curators[%d] is the zero address", i)
		case c.Weight == 0:
			return fmt.Errorf("curator %s has weight 0", c.Address)
		case i > 0 && bytes.Compare(d.Curators[i-1].Address[:], c.Address[:]) >= 0:
			return fmt.Errorf("curators[%d] %s: curators must be sorted by address and unique", i, c.Address)
		}
		var carry uint64
		if total, carry = bits.Add64(total, c.Weight, 0); carry != 0 {
			return errors.New("total curator weight overflows uint64")
		}
	}
	switch {
	case d.Quorum == 0:
		return errors.New("quorum is 0")
	case d.Quorum > total:
		return fmt.Errorf("quorum %d exceeds the total curator weight %d", d.Quorum, total)
	case d.ThresholdBps == 0 || d.ThresholdBps > MaxBps:
		return fmt.Errorf("threshold %d bps not in [1, %d]", d.ThresholdBps, MaxBps)
	case d.Window > MaxWindow:
		return fmt.Errorf("window of %d s, at most %d", d.Window, uint64(MaxWindow))
	}
	return nil
}

// Kind returns KindContribution.
func (c *Contribution) Kind() string { return KindContribution }

// Signer returns the contributor.
func (c *Contribution) Signer() common.Address { return c.Contributor }

// Links returns the Datanet ID followed by every shard of every file, in
// order.
func (c *Contribution) Links() []cid.Cid {
	n := 1
	for _, f := range c.Files {
		n += len(f.Shards)
	}
	links := make([]cid.Cid, 0, n)
	links = append(links, c.Datanet)
	for _, f := range c.Files {
		links = append(links, f.Shards...)
	}
	return links
}

func (c *Contribution) chainID() uint64 { return c.ChainID }

// Validate checks the field rules of a Contribution: paths clean, sorted and
// unique; each file has ceil(Size/ChunkSize) shards (one for an empty file);
// Size is the sum of the file sizes; and so on.
func (c *Contribution) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: contribution: %w", ErrInvalid, err)
	}
	return nil
}

func (c *Contribution) validate() error {
	if !c.Datanet.Defined() {
		return errors.New("datanet is undefined")
	}
	if err := checkObjectLink(c.Datanet); err != nil {
		return fmt.Errorf("datanet: %w", err)
	}
	if c.Contributor == (common.Address{}) {
		return errors.New("contributor is the zero address")
	}
	if c.ChainID == 0 && len(c.Signature) > 0 {
		return errors.New("signed with chain ID 0")
	}
	if c.ChunkSize < MinChunkSize || c.ChunkSize > MaxChunkSize {
		return fmt.Errorf("chunk size %d not in [%d, %d]", c.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if len(c.Files) == 0 {
		return errors.New("no files")
	}
	total, err := checkFiles("files", c.Files, c.ChunkSize)
	if err != nil {
		return err
	}
	if c.Size != total {
		return fmt.Errorf("size %d is not the sum of file sizes %d", c.Size, total)
	}
	if c.Root == ([32]byte{}) {
		return errors.New("root is zero")
	}
	if err := checkText(c.License, MaxLicenseLen, false); err != nil {
		return fmt.Errorf("license: %w", err)
	}
	if err := checkMetadata(c.Metadata); err != nil {
		return err
	}
	if c.Created <= 0 {
		return fmt.Errorf("created %d is not a positive unix time", c.Created)
	}
	return checkSignatureLen(c.Signature)
}

// Admits checks that c meets d's rules: c is signed under d's chain ID, its
// size is within d.MaxContributionSize, and every file's kind (its
// extension, lower case, without the dot) is one of d.Kinds. It fails with ErrNotAdmitted. It checks neither that c.Datanet is
// d's ID (only the caller knows the ID of a later version) nor signatures nor
// field rules (see Verify and Validate). Licenses are not compared.
func (d *Datanet) Admits(c *Contribution) error {
	if c.ChainID != d.ChainID {
		return fmt.Errorf("%w: chain ID %d, datanet's is %d", ErrNotAdmitted, c.ChainID, d.ChainID)
	}
	if d.MaxContributionSize > 0 && c.Size > d.MaxContributionSize {
		return fmt.Errorf("%w: size %d exceeds the datanet's limit %d", ErrNotAdmitted, c.Size, d.MaxContributionSize)
	}
	if len(d.Kinds) == 0 {
		return nil
	}
	for _, f := range c.Files {
		k := extKind(f.Path)
		if k == "" || !slices.Contains(d.Kinds, k) {
			return fmt.Errorf("%w: file %q of kind %q, datanet accepts %s",
				ErrNotAdmitted, f.Path, k, strings.Join(d.Kinds, ", "))
		}
	}
	return nil
}

// extKind is the kind of a file named p: its extension, lower case, without
// the dot ("csv" for "data/Train.CSV"); "" when it has none.
func extKind(p string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(p), "."))
}

// shardCount is the number of shards of a file of size bytes: one for an
// empty file (the empty block), ceil(size/chunk) otherwise.
func shardCount(size, chunk uint64) uint64 {
	if size == 0 {
		return 1
	}
	return (size-1)/chunk + 1
}

// checkText checks that s is valid UTF-8 of at most max bytes without
// control characters (but newlines and tabs if multiline).
func checkText(s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("%d bytes, at most %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("control character %U", r)
		}
	}
	return nil
}

// checkKind checks that k is 1..MaxKindLen lower-case letters and digits.
func checkKind(k string) error {
	if k == "" || len(k) > MaxKindLen {
		return fmt.Errorf("kind %q: want 1 to %d characters", k, MaxKindLen)
	}
	for i := 0; i < len(k); i++ {
		if b := k[i]; (b < 'a' || b > 'z') && (b < '0' || b > '9') {
			return fmt.Errorf("kind %q: want lower-case letters and digits", k)
		}
	}
	return nil
}

// checkPath checks that p is a clean relative slash path that is safe to
// create under a directory on any common file system.
func checkPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if len(p) > MaxPathLen {
		return fmt.Errorf("path of %d bytes, at most %d", len(p), MaxPathLen)
	}
	if !utf8.ValidString(p) {
		return errors.New("path is not valid UTF-8")
	}
	if p[0] == '/' {
		return errors.New("absolute path")
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			return errors.New("empty path segment")
		case seg == "." || seg == "..":
			return fmt.Errorf("%q segment", seg)
		case len(seg) > MaxPathSegmentLen:
			return fmt.Errorf("segment of %d bytes, at most %d", len(seg), MaxPathSegmentLen)
		}
		for _, r := range seg {
			if r == '\\' || unicode.IsControl(r) {
				return fmt.Errorf("character %U not allowed in a path", r)
			}
		}
	}
	return nil
}

// checkFiles checks a file list (a contribution's files, a model's
// artifacts) cut in chunks of chunk bytes: paths clean, sorted by path,
// unique, none a directory of another; each file with ceil(Size/chunk)
// shards (one for an empty file), every shard a raw CID. name is the
// field's name in errors. It returns the total size.
func checkFiles(name string, files []File, chunk uint64) (uint64, error) {
	if uint64(len(files)) > math.MaxUint32 {
		return 0, fmt.Errorf("%d %s, at most %d", len(files), name, uint64(math.MaxUint32))
	}
	var total uint64
	for i, f := range files {
		if err := checkPath(f.Path); err != nil {
			return 0, fmt.Errorf("%s[%d] %q: %w", name, i, f.Path, err)
		}
		if i > 0 && files[i-1].Path >= f.Path {
			return 0, fmt.Errorf("%s[%d] %q: %s must be sorted by path and unique", name, i, f.Path, name)
		}
		if want := shardCount(f.Size, chunk); uint64(len(f.Shards)) != want {
			return 0, fmt.Errorf("%s[%d] %q: %d shards, want %d for %d bytes in chunks of %d",
				name, i, f.Path, len(f.Shards), want, f.Size, chunk)
		}
		for j, s := range f.Shards {
			if err := checkShardLink(s); err != nil {
				return 0, fmt.Errorf("%s[%d] %q: shards[%d]: %w", name, i, f.Path, j, err)
			}
		}
		if total+f.Size < total {
			return 0, errors.New("total size overflows uint64")
		}
		total += f.Size
	}
	if err := checkDirConflicts(files); err != nil {
		return 0, err
	}
	return total, nil
}

// checkMetadata checks free-form metadata: at most MaxMetadataEntries
// single-line entries, keys non-empty.
func checkMetadata(m map[string]string) error {
	if len(m) > MaxMetadataEntries {
		return fmt.Errorf("%d metadata entries, at most %d", len(m), MaxMetadataEntries)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) { // sorted: the same error on every node
		v := m[k]
		if k == "" {
			return errors.New("metadata: empty key")
		}
		if err := checkText(k, MaxMetadataKeyLen, false); err != nil {
			return fmt.Errorf("metadata key %q: %w", k, err)
		}
		if err := checkText(v, MaxMetadataValueLen, false); err != nil {
			return fmt.Errorf("metadata[%q]: %w", k, err)
		}
	}
	return nil
}

// checkDirConflicts rejects a path that is also a directory of another
// path ("a" and "a/b"): such a contribution cannot be written to disk.
func checkDirConflicts(files []File) error {
	paths := make(map[string]struct{}, len(files))
	for _, f := range files {
		paths[f.Path] = struct{}{}
	}
	for _, f := range files {
		for i := strings.IndexByte(f.Path, '/'); i >= 0; {
			if _, ok := paths[f.Path[:i]]; ok {
				return fmt.Errorf("path %q is a file and a directory of %q", f.Path[:i], f.Path)
			}
			j := strings.IndexByte(f.Path[i+1:], '/')
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return nil
}

// checkObjectLink checks that c names a signed object: CIDv1 dag-cbor
// sha2-256.
func checkObjectLink(c cid.Cid) error {
	return checkLink(c, cid.DagCBOR, "dag-cbor")
}

// checkShardLink checks that c names a shard: CIDv1 raw sha2-256.
func checkShardLink(c cid.Cid) error {
	return checkLink(c, cid.Raw, "raw")
}

func checkLink(c cid.Cid, codec uint64, codecName string) error {
	if !c.Defined() {
		return errors.New("undefined CID")
	}
	p := c.Prefix()
	if p.Version != 1 || p.Codec != codec || p.MhType != multihash.SHA2_256 || p.MhLength != 32 {
		return fmt.Errorf("CID %s: want CIDv1 %s sha2-256", c, codecName)
	}
	return nil
}

func checkSignatureLen(sig []byte) error {
	if len(sig) != 0 && len(sig) != SignatureLen {
		return fmt.Errorf("signature of %d bytes, want %d", len(sig), SignatureLen)
	}
	return nil
}
