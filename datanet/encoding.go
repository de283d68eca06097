package datanet

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"sync"

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
	obj, kind, err := decodeFields(data, false)
	if err != nil {
		return nil, err
	}
	if err := obj.Validate(); err != nil {
		return nil, err
	}
	if re, err := marshalCBOR(obj); err != nil || !bytes.Equal(re, data) {
		return nil, fmt.Errorf("%w: %s", ErrNonCanonical, kind)
	}
	return obj, nil
}

// decodeStored decodes an object read from this node's store. Its bytes
// passed Decode when they were stored, and the store checks on every read
// that they hash to the CID they are stored under, so the field rules and
// the canonical form are not checked again: what a hot path (a cut, a
// check of a snapshot, the index) saves on each of a million objects.
func decodeStored(data []byte) (Object, error) {
	obj, _, err := decodeFields(data, true)
	return obj, err
}

// walkHead reads "kind" and "v" of an object's encoding, walking the
// top-level keys until it has both. The head decoder would walk the whole
// map into a struct (for a snapshot chunk, every vote in it), which was
// half of the decoding of a stored object, and of a received one. Any
// bytes may be given (it is bounded by them): what it does not check, the
// full decode does.
// ok is false on anything but a definite map with a text kind and an
// unsigned v, each once before the other is found; the caller then asks
// the head decoder, which says what is wrong. What follows the two keys is
// left to the full decode (well-formedness included).
func walkHead(data []byte) (kind string, v uint64, ok bool) {
	major, pairs, n, err := readAnyHead(data)
	if err != nil || major != 5 {
		return "", 0, false
	}
	d := &cborDecoder{data: data}
	off := n
	var haveKind, haveV bool
	for range pairs {
		major, klen, n, err := readAnyHead(data[off:])
		if err != nil || major != 3 || klen > uint64(len(data)-off-n) {
			return "", 0, false
		}
		key := data[off+n : off+n+int(klen)]
		off += n + int(klen)
		switch string(key) {
		case "kind":
			major, vlen, n, err := readAnyHead(data[off:])
			if haveKind || err != nil || major != 3 || vlen > uint64(len(data)-off-n) {
				return "", 0, false
			}
			kind, haveKind = string(data[off+n:off+n+int(vlen)]), true
			off += n + int(vlen)
		case "v":
			major, arg, n, err := readAnyHead(data[off:])
			if haveV || err != nil || major != 0 {
				return "", 0, false
			}
			v, haveV = arg, true
			off += n
		default:
			if off, err = d.skip(off); err != nil {
				return "", 0, false
			}
		}
		if haveKind && haveV {
			return kind, v, true
		}
	}
	return "", 0, false
}

// decodeFields reads an object's kind and version, then its fields into a
// new object of that kind; stored skips the checks decodeStored explains.
func decodeFields(data []byte, stored bool) (Object, string, error) {
	cd, err := codecs()
	if err != nil {
		return nil, "", err
	}
	var head struct {
		Kind string `cbor:"kind"`
		V    uint64 `cbor:"v"`
	}
	// The keys are walked to "kind" and "v" only: the full decode that
	// follows checks the rest (and Decode that the bytes are canonical,
	// "kind" and "v" included). The head decoder, which walks the whole
	// map and allocates for what it skips, is asked only to say what is
	// wrong with a head walkHead cannot read.
	var ok bool
	head.Kind, head.V, ok = walkHead(data)
	if !ok {
		if err := cd.head.Unmarshal(data, &head); err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	// A new kind adds a case to newObject, an EIP-712 type in
	// eip712Types, and a Sign function.
	obj, err := newObject(head.Kind)
	if err != nil {
		return nil, "", err
	}
	if head.V != EncodingVersion {
		return nil, "", fmt.Errorf("%w %d", ErrUnsupportedVersion, head.V)
	}
	if err := unmarshalWith(cd, data, obj, stored); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrMalformed, head.Kind, err)
	}
	return obj, head.Kind, nil
}

// newObject returns a new, empty object of kind.
func newObject(kind string) (Object, error) {
	switch kind {
	case KindDatanet:
		return new(Datanet), nil
	case KindContribution:
		return new(Contribution), nil
	case KindVote:
		return new(Vote), nil
	case KindSnapshot:
		return new(Snapshot), nil
	case KindSnapshotChunk:
		return new(SnapshotChunk), nil
	case KindModel:
		return new(ModelRecord), nil
	case KindAttribution:
		return new(AttributionRecord), nil
	case KindRewardEpoch:
		return new(RewardEpoch), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKind, kind)
}

// KindOf returns the "kind" of an object's encoding without decoding the
// rest, so a caller can skip objects it doesn't want. It checks nothing
// else: Decode does.
func KindOf(data []byte) (string, error) {
	if kind, _, ok := walkHead(data); ok {
		return kind, nil
	}
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
	data, err := marshalCBOR(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, obj.Kind(), err)
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

// The JSON views are for people and tools (the CLI, the RPC), not the
// canonical form: the keys of the encoding, with addresses, roots and
// signatures as 0x-hex, CIDs as strings and amounts as decimal strings
// (see the codec).

// MarshalJSON returns the JSON view of d.
func (d Datanet) MarshalJSON() ([]byte, error) { return marshalJSON(&d) }

// UnmarshalJSON reads the JSON view of a Datanet. It rejects unknown keys
// and another "kind"; it doesn't check field rules.
func (d *Datanet) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, d) }

// MarshalJSON returns the JSON view of c.
func (c Contribution) MarshalJSON() ([]byte, error) { return marshalJSON(&c) }

// UnmarshalJSON reads the JSON view of a Contribution. It rejects unknown
// keys and another "kind"; it doesn't check field rules.
func (c *Contribution) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, c) }

// MarshalJSON returns the JSON view of f, with shard CIDs as strings.
func (f File) MarshalJSON() ([]byte, error) { return marshalJSON(&f) }

// UnmarshalJSON reads the JSON view of a File.
func (f *File) UnmarshalJSON(data []byte) error { return unmarshalJSON(data, f) }
