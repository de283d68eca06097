package datanet

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// EncodingVersion is the value of the "v" key of every object this package
// encodes and the only one it decodes.
const EncodingVersion = 1

// cborTagLink is the CBOR tag of an IPLD link.
const cborTagLink = 42

// codec holds the CBOR modes. They are immutable and safe for concurrent use.
type codec struct {
	enc  cbor.EncMode // DAG-CBOR
	dec  cbor.DecMode // strict: unknown and duplicate keys are errors
	head cbor.DecMode // reads "kind" and "v" of any map
}

// codecs builds the CBOR modes once; an error can only come from a bad
// option, which the tests would catch.
var codecs = sync.OnceValues(func() (*codec, error) {
	enc, err := cbor.EncOptions{
		Sort:          cbor.SortLengthFirst,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsEmpty,
		TagsMd:        cbor.TagsAllowed,
	}.EncMode()
	if err != nil {
		return nil, fmt.Errorf("datanet: cbor encoder: %w", err)
	}
	opts := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsAllowed,
		MaxNestedLevels:   16,
		MaxArrayElements:  MaxObjectSize,
		MaxMapPairs:       MaxObjectSize,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}
	dec, err := opts.DecMode()
	if err != nil {
		return nil, fmt.Errorf("datanet: cbor decoder: %w", err)
	}
	opts.ExtraReturnErrors = cbor.ExtraDecErrorNone
	head, err := opts.DecMode()
	if err != nil {
		return nil, fmt.Errorf("datanet: cbor decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec, head: head}, nil
})

// Decode decodes one object from its canonical encoding and checks its field
// rules. It rejects, with the error in parentheses: data longer than
// MaxObjectSize (ErrTooLarge); data that is not a CBOR map with a known
// "kind" (ErrMalformed, ErrUnknownKind) and "v" = EncodingVersion
// (ErrUnsupportedVersion); unknown, duplicate, missing or mistyped keys,
// trailing bytes (ErrMalformed); any encoding but the canonical one
// (ErrNonCanonical); and broken field rules (ErrInvalid). It doesn't verify
// the signature: call Verify.
func Decode(data []byte) (Object, error) {
	if len(data) > MaxObjectSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxObjectSize)
	}
	cd, err := codecs()
	if err != nil {
		return nil, err
	}
	var head struct {
		Kind string `cbor:"kind"`
		V    uint64 `cbor:"v"`
	}
	if err := cd.head.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// A new kind adds a case here, a wire type, an EIP-712 type in
	// eip712Types, and a Sign function.
	var obj Object
	switch head.Kind {
	case KindDatanet:
		obj, err = decodeWire(cd, data, head.V, (*datanetWire).object)
	case KindContribution:
		obj, err = decodeWire(cd, data, head.V, (*contributionWire).object)
	case KindVote:
		obj, err = decodeWire(cd, data, head.V, (*voteWire).object)
	case KindSnapshot:
		obj, err = decodeWire(cd, data, head.V, (*snapshotWire).object)
	case KindModel:
		obj, err = decodeWire(cd, data, head.V, (*modelWire).object)
	case KindAttribution:
		obj, err = decodeWire(cd, data, head.V, (*attributionWire).object)
	case KindRewardEpoch:
		obj, err = decodeWire(cd, data, head.V, (*epochWire).object)
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownKind, head.Kind)
	}
	if err != nil {
		return nil, err
	}
	if err := obj.Validate(); err != nil {
		return nil, err
	}
	w, err := obj.wire()
	var re []byte
	if err == nil {
		re, err = cd.enc.Marshal(w)
	}
	if err != nil || !bytes.Equal(re, data) {
		return nil, fmt.Errorf("%w: %s", ErrNonCanonical, head.Kind)
	}
	return obj, nil
}

// KindOf returns the "kind" of an object's encoding without decoding the
// rest, so a caller can skip objects it doesn't want. It checks nothing
// else: Decode does.
func KindOf(data []byte) (string, error) {
	cd, err := codecs()
	if err != nil {
		return "", err
	}
	var head struct {
		Kind string `cbor:"kind"`
	}
	if err := cd.head.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return head.Kind, nil
}

// decodeWire strictly decodes data into a wire value W and converts it.
func decodeWire[W any, O Object](cd *codec, data []byte, v uint64, object func(*W) (O, error)) (Object, error) {
	if v != EncodingVersion {
		return nil, fmt.Errorf("%w %d", ErrUnsupportedVersion, v)
	}
	w := new(W)
	if err := cd.dec.Unmarshal(data, w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	obj, err := object(w)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return obj, nil
}

// DecodeDatanet decodes a Datanet as Decode does; other kinds fail with
// ErrWrongKind.
func DecodeDatanet(data []byte) (*Datanet, error) {
	return decodeAs[*Datanet](data)
}

// DecodeContribution decodes a Contribution as Decode does; other kinds fail
// with ErrWrongKind.
func DecodeContribution(data []byte) (*Contribution, error) {
	return decodeAs[*Contribution](data)
}

func decodeAs[O Object](data []byte) (O, error) {
	var zero O
	obj, err := Decode(data)
	if err != nil {
		return zero, err
	}
	o, ok := obj.(O)
	if !ok {
		return zero, fmt.Errorf("%w: got %s, want %s", ErrWrongKind, obj.Kind(), zero.Kind())
	}
	return o, nil
}

// ObjectCID returns the CID of an object's encoding: CIDv1, codec dag-cbor,
// sha2-256 (storage.ObjectCID is the one implementation). It doesn't check
// that data is an object. The error is always nil; it stays for callers.
func ObjectCID(data []byte) (cid.Cid, error) {
	return storage.ObjectCID(cid.DagCBOR, data), nil
}

// encode validates obj and returns its canonical encoding.
func encode(obj Object) ([]byte, error) {
	if err := obj.Validate(); err != nil {
		return nil, err
	}
	w, err := obj.wire()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, obj.Kind(), err)
	}
	cd, err := codecs()
	if err != nil {
		return nil, err
	}
	data, err := cd.enc.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("datanet: encode %s: %w", obj.Kind(), err)
	}
	if len(data) > MaxObjectSize {
		return nil, fmt.Errorf("%w: %s of %d bytes, at most %d", ErrTooLarge, obj.Kind(), len(data), MaxObjectSize)
	}
	return data, nil
}

func objectCID(obj Object) (cid.Cid, error) {
	data, err := encode(obj)
	if err != nil {
		return cid.Undef, err
	}
	return ObjectCID(data)
}

// Encode returns the canonical encoding of d.
func (d *Datanet) Encode() ([]byte, error) { return encode(d) }

// CID returns the CID of d's canonical encoding.
func (d *Datanet) CID() (cid.Cid, error) { return objectCID(d) }

// Encode returns the canonical encoding of c.
func (c *Contribution) Encode() ([]byte, error) { return encode(c) }

// CID returns the CID of c's canonical encoding.
func (c *Contribution) CID() (cid.Cid, error) { return objectCID(c) }

// Wire values: the Go shapes of the encodings. Their fields are the keys of
// the encoding; every key is always written.

type datanetWire struct {
	Kind                string        `cbor:"kind"`
	V                   uint64        `cbor:"v"`
	Name                string        `cbor:"name"`
	Description         string        `cbor:"description"`
	License             string        `cbor:"license"`
	Owner               []byte        `cbor:"owner"`
	ChainID             uint64        `cbor:"chain_id"`
	Kinds               []string      `cbor:"kinds"`
	MaxContributionSize uint64        `cbor:"max_contribution_size"`
	Curators            []curatorWire `cbor:"curators"`
	Quorum              uint64        `cbor:"quorum"`
	ThresholdBps        uint32        `cbor:"threshold_bps"`
	Window              uint64        `cbor:"window"`
	Seq                 uint64        `cbor:"seq"`
	Prev                *link         `cbor:"prev"`
	Created             int64         `cbor:"created"`
	Signature           []byte        `cbor:"signature"`
}

type curatorWire struct {
	Address []byte `cbor:"address"`
	Weight  uint64 `cbor:"weight"`
}

func (d *Datanet) wire() (any, error) {
	curators := make([]curatorWire, len(d.Curators))
	for i, c := range d.Curators {
		curators[i] = curatorWire{Address: c.Address.Bytes(), Weight: c.Weight}
	}
	w := &datanetWire{
		Kind:                KindDatanet,
		V:                   EncodingVersion,
		Name:                d.Name,
		Description:         d.Description,
		License:             d.License,
		Owner:               d.Owner.Bytes(),
		ChainID:             d.ChainID,
		Kinds:               d.Kinds,
		MaxContributionSize: d.MaxContributionSize,
		Curators:            curators,
		Quorum:              d.Quorum,
		ThresholdBps:        d.ThresholdBps,
		Window:              d.Window,
		Seq:                 d.Seq,
		Created:             d.Created,
		Signature:           d.Signature,
	}
	if d.Prev.Defined() {
		w.Prev = &link{d.Prev}
	}
	return w, nil
}

func (w *datanetWire) object() (*Datanet, error) {
	owner, err := addressFrom(w.Owner)
	if err != nil {
		return nil, fmt.Errorf("owner: %w", err)
	}
	var curators []Curator
	for i, c := range w.Curators {
		a, err := addressFrom(c.Address)
		if err != nil {
			return nil, fmt.Errorf("curators[%d]: %w", i, err)
		}
		curators = append(curators, Curator{Address: a, Weight: c.Weight})
	}
	d := &Datanet{
		Name:                w.Name,
		Description:         w.Description,
		License:             w.License,
		Owner:               owner,
		ChainID:             w.ChainID,
		Kinds:               w.Kinds,
		MaxContributionSize: w.MaxContributionSize,
		Curators:            curators,
		Quorum:              w.Quorum,
		ThresholdBps:        w.ThresholdBps,
		Window:              w.Window,
		Seq:                 w.Seq,
		Created:             w.Created,
		Signature:           w.Signature,
	}
	if w.Prev != nil {
		d.Prev = w.Prev.c
	}
	return d, nil
}

type contributionWire struct {
	Kind        string            `cbor:"kind"`
	V           uint64            `cbor:"v"`
	Datanet     link              `cbor:"datanet"`
	Contributor []byte            `cbor:"contributor"`
	ChainID     uint64            `cbor:"chain_id"`
	Files       []fileWire        `cbor:"files"`
	Root        []byte            `cbor:"root"`
	Size        uint64            `cbor:"size"`
	ChunkSize   uint64            `cbor:"chunk_size"`
	License     string            `cbor:"license"`
	Metadata    map[string]string `cbor:"metadata"`
	Created     int64             `cbor:"created"`
	Signature   []byte            `cbor:"signature"`
}

type fileWire struct {
	Path   string `cbor:"path"`
	Size   uint64 `cbor:"size"`
	Shards []link `cbor:"shards"`
}

func (c *Contribution) wire() (any, error) {
	if !c.Datanet.Defined() {
		return nil, errors.New("datanet is undefined")
	}
	files, err := filesWire(c.Files)
	if err != nil {
		return nil, err
	}
	return &contributionWire{
		Kind:        KindContribution,
		V:           EncodingVersion,
		Datanet:     link{c.Datanet},
		Contributor: c.Contributor.Bytes(),
		ChainID:     c.ChainID,
		Files:       files,
		Root:        c.Root[:],
		Size:        c.Size,
		ChunkSize:   c.ChunkSize,
		License:     c.License,
		Metadata:    c.Metadata,
		Created:     c.Created,
		Signature:   c.Signature,
	}, nil
}

func filesWire(files []File) ([]fileWire, error) {
	out := make([]fileWire, len(files))
	for i, f := range files {
		shards := make([]link, len(f.Shards))
		for j, s := range f.Shards {
			if !s.Defined() {
				return nil, fmt.Errorf("files[%d]: shards[%d] is undefined", i, j)
			}
			shards[j] = link{s}
		}
		out[i] = fileWire{Path: f.Path, Size: f.Size, Shards: shards}
	}
	return out, nil
}

func (w *contributionWire) object() (*Contribution, error) {
	contributor, err := addressFrom(w.Contributor)
	if err != nil {
		return nil, fmt.Errorf("contributor: %w", err)
	}
	if len(w.Root) != 32 {
		return nil, fmt.Errorf("root of %d bytes, want 32", len(w.Root))
	}
	c := &Contribution{
		Datanet:     w.Datanet.c,
		Contributor: contributor,
		ChainID:     w.ChainID,
		Files:       make([]File, len(w.Files)),
		Size:        w.Size,
		ChunkSize:   w.ChunkSize,
		License:     w.License,
		Metadata:    w.Metadata,
		Created:     w.Created,
		Signature:   w.Signature,
	}
	copy(c.Root[:], w.Root)
	for i, f := range w.Files {
		shards := make([]cid.Cid, len(f.Shards))
		for j, s := range f.Shards {
			shards[j] = s.c
		}
		c.Files[i] = File{Path: f.Path, Size: f.Size, Shards: shards}
	}
	return c, nil
}

func addressFrom(b []byte) (common.Address, error) {
	if len(b) != common.AddressLength {
		return common.Address{}, fmt.Errorf("%d bytes, want %d", len(b), common.AddressLength)
	}
	return common.BytesToAddress(b), nil
}

// bigBytes is a non-negative big integer as the encoding holds it: a byte
// string, big-endian, without leading zero bytes; zero (or nil) is the
// empty byte string. Validate rejects negative values before encoding.
func bigBytes(x *big.Int) []byte {
	if x == nil {
		return []byte{}
	}
	return x.Bytes()
}

// bigFrom reads what bigBytes writes. Leading zero bytes are accepted here
// and rejected by Decode's canonical re-encoding (ErrNonCanonical).
func bigFrom(b []byte) *big.Int {
	if len(b) == 0 {
		return new(big.Int)
	}
	return new(big.Int).SetBytes(b)
}

// checkUint256 checks that x is set, not negative and below 2^256, as an
// amount paid on chain must be.
func checkUint256(x *big.Int) error {
	switch {
	case x == nil:
		return errors.New("missing")
	case x.Sign() < 0:
		return fmt.Errorf("%s is negative", x)
	case x.BitLen() > 256:
		return fmt.Errorf("%d bits, at most 256", x.BitLen())
	}
	return nil
}

// link is a CID as DAG-CBOR writes it: tag 42 around a byte string holding
// 0x00 (the identity multibase prefix) and the binary CID.
type link struct{ c cid.Cid }

// MarshalCBOR implements cbor.Marshaler.
func (l link) MarshalCBOR() ([]byte, error) {
	if !l.c.Defined() {
		return nil, errors.New("undefined CID")
	}
	b := l.c.Bytes()
	out := make([]byte, 0, 2+9+1+len(b))
	out = appendHead(out, 6, cborTagLink)
	out = appendHead(out, 2, uint64(1+len(b)))
	out = append(out, 0)
	return append(out, b...), nil
}

// UnmarshalCBOR implements cbor.Unmarshaler. data is one well-formed item.
func (l *link) UnmarshalCBOR(data []byte) error {
	major, tag, n, err := readHead(data)
	if err != nil {
		return err
	}
	if major != 6 || tag != cborTagLink {
		return errors.New("link: want tag 42")
	}
	data = data[n:]
	major, size, n, err := readHead(data)
	if err != nil {
		return err
	}
	if major != 2 {
		return errors.New("link: tag 42 must hold a byte string")
	}
	data = data[n:]
	if uint64(len(data)) != size || size == 0 || data[0] != 0 {
		return errors.New("link: want 0x00 followed by a binary CID")
	}
	c, err := cid.Cast(data[1:])
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	l.c = c
	return nil
}

// appendHead appends the shortest CBOR head of the major type with argument
// n.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), n)
	}
}

// readHead reads a CBOR head, requiring the shortest form, and returns the
// major type, the argument and the head's length.
func readHead(b []byte) (major byte, arg uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, 0, errors.New("link: truncated")
	}
	major, info := b[0]>>5, b[0]&0x1f
	switch {
	case info < 24:
		return major, uint64(info), 1, nil
	case info <= 27:
		n = 1 << (info - 24)
		if len(b) < 1+n {
			return 0, 0, 0, errors.New("link: truncated")
		}
		for _, x := range b[1 : 1+n] {
			arg = arg<<8 | uint64(x)
		}
		if (info == 24 && arg < 24) || (info > 24 && arg < 1<<(8*(n/2))) {
			return 0, 0, 0, errors.New("link: non-minimal head")
		}
		return major, arg, 1 + n, nil
	default:
		return 0, 0, 0, errors.New("link: indefinite length")
	}
}

// JSON views. They are for people and tools (the CLI, the RPC), not the
// canonical form: the same keys as the encoding, with addresses, roots and
// signatures as 0x-hex and CIDs as strings.

type datanetJSON struct {
	Kind                string        `json:"kind"`
	Name                string        `json:"name"`
	Description         string        `json:"description"`
	License             string        `json:"license"`
	Owner               jsonAddress   `json:"owner"`
	ChainID             uint64        `json:"chain_id"`
	Kinds               []string      `json:"kinds"`
	MaxContributionSize uint64        `json:"max_contribution_size"`
	Curators            []curatorJSON `json:"curators"`
	Quorum              uint64        `json:"quorum"`
	ThresholdBps        uint32        `json:"threshold_bps"`
	Window              uint64        `json:"window"`
	Seq                 uint64        `json:"seq"`
	Prev                *string       `json:"prev"`
	Created             int64         `json:"created"`
	Signature           hexutil.Bytes `json:"signature"`
}

type curatorJSON struct {
	Address jsonAddress `json:"address"`
	Weight  uint64      `json:"weight"`
}

// MarshalJSON returns the JSON view of d.
func (d Datanet) MarshalJSON() ([]byte, error) {
	curators := make([]curatorJSON, len(d.Curators))
	for i, c := range d.Curators {
		curators[i] = curatorJSON{Address: jsonAddress(c.Address), Weight: c.Weight}
	}
	j := datanetJSON{
		Curators:            curators,
		Quorum:              d.Quorum,
		ThresholdBps:        d.ThresholdBps,
		Window:              d.Window,
		Kind:                KindDatanet,
		Name:                d.Name,
		Description:         d.Description,
		License:             d.License,
		Owner:               jsonAddress(d.Owner),
		ChainID:             d.ChainID,
		Kinds:               d.Kinds,
		MaxContributionSize: d.MaxContributionSize,
		Seq:                 d.Seq,
		Created:             d.Created,
		Signature:           d.Signature,
	}
	if j.Kinds == nil {
		j.Kinds = []string{}
	}
	if d.Prev.Defined() {
		s := d.Prev.String()
		j.Prev = &s
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the JSON view of a Datanet. It rejects unknown keys
// and another "kind"; it doesn't check field rules.
func (d *Datanet) UnmarshalJSON(data []byte) error {
	var j datanetJSON
	if err := unmarshalJSONStrict(data, &j, KindDatanet, &j.Kind); err != nil {
		return err
	}
	prev := cid.Undef
	if j.Prev != nil {
		var err error
		if prev, err = cid.Decode(*j.Prev); err != nil {
			return fmt.Errorf("datanet: json: prev: %w", err)
		}
	}
	var curators []Curator
	for _, c := range j.Curators {
		curators = append(curators, Curator{Address: common.Address(c.Address), Weight: c.Weight})
	}
	*d = Datanet{
		Curators:            curators,
		Quorum:              j.Quorum,
		ThresholdBps:        j.ThresholdBps,
		Window:              j.Window,
		Name:                j.Name,
		Description:         j.Description,
		License:             j.License,
		Owner:               common.Address(j.Owner),
		ChainID:             j.ChainID,
		Kinds:               j.Kinds,
		MaxContributionSize: j.MaxContributionSize,
		Seq:                 j.Seq,
		Prev:                prev,
		Created:             j.Created,
		Signature:           j.Signature,
	}
	return nil
}

type contributionJSON struct {
	Kind        string            `json:"kind"`
	Datanet     string            `json:"datanet"`
	Contributor jsonAddress       `json:"contributor"`
	ChainID     uint64            `json:"chain_id"`
	Files       []File            `json:"files"`
	Root        common.Hash       `json:"root"`
	Size        uint64            `json:"size"`
	ChunkSize   uint64            `json:"chunk_size"`
	License     string            `json:"license"`
	Metadata    map[string]string `json:"metadata"`
	Created     int64             `json:"created"`
	Signature   hexutil.Bytes     `json:"signature"`
}

// MarshalJSON returns the JSON view of c.
func (c Contribution) MarshalJSON() ([]byte, error) {
	j := contributionJSON{
		Kind:        KindContribution,
		Contributor: jsonAddress(c.Contributor),
		ChainID:     c.ChainID,
		Files:       c.Files,
		Root:        c.Root,
		Size:        c.Size,
		ChunkSize:   c.ChunkSize,
		License:     c.License,
		Metadata:    c.Metadata,
		Created:     c.Created,
		Signature:   c.Signature,
	}
	if c.Datanet.Defined() {
		j.Datanet = c.Datanet.String()
	}
	if j.Files == nil {
		j.Files = []File{}
	}
	if j.Metadata == nil {
		j.Metadata = map[string]string{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the JSON view of a Contribution. It rejects unknown
// keys and another "kind"; it doesn't check field rules.
func (c *Contribution) UnmarshalJSON(data []byte) error {
	var j contributionJSON
	if err := unmarshalJSONStrict(data, &j, KindContribution, &j.Kind); err != nil {
		return err
	}
	dn, err := cid.Decode(j.Datanet)
	if err != nil {
		return fmt.Errorf("datanet: json: datanet: %w", err)
	}
	*c = Contribution{
		Datanet:     dn,
		Contributor: common.Address(j.Contributor),
		ChainID:     j.ChainID,
		Files:       j.Files,
		Root:        j.Root,
		Size:        j.Size,
		ChunkSize:   j.ChunkSize,
		License:     j.License,
		Metadata:    j.Metadata,
		Created:     j.Created,
		Signature:   j.Signature,
	}
	return nil
}

type fileJSON struct {
	Path   string   `json:"path"`
	Size   uint64   `json:"size"`
	Shards []string `json:"shards"`
}

// MarshalJSON returns the JSON view of f, with shard CIDs as strings.
func (f File) MarshalJSON() ([]byte, error) {
	j := fileJSON{Path: f.Path, Size: f.Size, Shards: make([]string, len(f.Shards))}
	for i, s := range f.Shards {
		if s.Defined() {
			j.Shards[i] = s.String()
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the JSON view of a File.
func (f *File) UnmarshalJSON(data []byte) error {
	var j fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("datanet: json: file: %w", err)
	}
	shards := make([]cid.Cid, len(j.Shards))
	for i, s := range j.Shards {
		c, err := cid.Decode(s)
		if err != nil {
			return fmt.Errorf("datanet: json: file %q: shards[%d]: %w", j.Path, i, err)
		}
		shards[i] = c
	}
	*f = File{Path: j.Path, Size: j.Size, Shards: shards}
	return nil
}

// jsonAddress is an address in the JSON view: EIP-55 checksummed hex out,
// any 0x-hex in.
type jsonAddress common.Address

func (a jsonAddress) MarshalText() ([]byte, error) {
	return []byte(common.Address(a).Hex()), nil
}

func (a *jsonAddress) UnmarshalText(text []byte) error {
	return (*common.Address)(a).UnmarshalText(text)
}

// jsonCID is a link in the JSON view: its String form; "" reads as an
// error, so a required link cannot go missing.
type jsonCID cid.Cid

func (c jsonCID) MarshalText() ([]byte, error) {
	if !cid.Cid(c).Defined() {
		return []byte{}, nil
	}
	return []byte(cid.Cid(c).String()), nil
}

func (c *jsonCID) UnmarshalText(text []byte) error {
	d, err := cid.Decode(string(text))
	if err != nil {
		return fmt.Errorf("cid %q: %w", text, err)
	}
	*c = jsonCID(d)
	return nil
}

// optionalCID returns c in the JSON view, nil (null) if it is undefined.
func optionalCID(c cid.Cid) *jsonCID {
	if !c.Defined() {
		return nil
	}
	j := jsonCID(c)
	return &j
}

// fromOptional reads back what optionalCID writes.
func fromOptional(c *jsonCID) cid.Cid {
	if c == nil {
		return cid.Undef
	}
	return cid.Cid(*c)
}

// jsonCIDs converts links to the JSON view, [] for none.
func jsonCIDs(cs []cid.Cid) []jsonCID {
	out := make([]jsonCID, len(cs))
	for i, c := range cs {
		out[i] = jsonCID(c)
	}
	return out
}

// fromJSONCIDs reads back what jsonCIDs writes.
func fromJSONCIDs(js []jsonCID) []cid.Cid {
	if js == nil {
		return nil
	}
	out := make([]cid.Cid, len(js))
	for i, c := range js {
		out[i] = cid.Cid(c)
	}
	return out
}

// jsonBig is a big integer in the JSON view: a decimal string, since a
// JSON number loses precision beyond 2^53 in JavaScript. nil writes "0".
type jsonBig struct{ x *big.Int }

func (b jsonBig) MarshalText() ([]byte, error) {
	if b.x == nil {
		return []byte("0"), nil
	}
	return b.x.Append(nil, 10), nil
}

func (b *jsonBig) UnmarshalText(text []byte) error {
	x, ok := new(big.Int).SetString(string(text), 10)
	if !ok {
		return fmt.Errorf("integer %q is not a decimal number", text)
	}
	b.x = x
	return nil
}

// unmarshalPartStrict reads the JSON view of a part of an object (an entry
// of a list), rejecting unknown keys.
func unmarshalPartStrict(data []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("datanet: json: %s: %w", what, err)
	}
	return nil
}

func unmarshalJSONStrict(data []byte, v any, kind string, got *string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("datanet: json: %s: %w", kind, err)
	}
	if *got != kind {
		return fmt.Errorf("%w: json kind %q, want %q", ErrWrongKind, *got, kind)
	}
	return nil
}
