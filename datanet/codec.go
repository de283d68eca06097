package datanet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
)

// The codec: one encoder and one strict decoder of the canonical encoding,
// and one writer and one reader of the JSON view, for every object and its
// parts, driven by their Go structs. Each field carries its key in the
// encoding in a `cbor` tag and its key in the JSON view in a `json` tag;
// nothing else describes an object's shape. The option `cbor:",nullable"`
// makes an undefined link null (an absent prev) rather than an error. The
// option `json:",string"`, as in encoding/json, makes an integer a decimal
// string in the JSON view: every integer whose field rules let it pass
// 2^53 - 1 (weights, parts of 10^18), which JavaScript's numbers cannot
// hold; the reader takes it as a string or a number.
//
// Fields of the DAG-CBOR kinds are written as such (text, integers, byte
// strings, lists, maps of text to text, structs as maps), and the types of
// other packages an object holds have one form each:
//
//	Go type                   encoding                      JSON view
//	cid.Cid                   link (tag 42)                 CID string
//	common.Address, [20]byte  byte string of 20 bytes       EIP-55 hex
//	common.Hash, [32]byte     byte string of 32 bytes       0x-hex
//	[]byte                    byte string                   0x-hex
//	*big.Int                  amount: byte string, big-     decimal string
//	                          endian, no leading zero byte
//	*Vote (evidence)          byte string: the vote's       the vote's view
//	                          encoding
//
// Empty lists decode as nil. A missing key of a fixed-length byte string
// is malformed; other missing keys decode as their empty form would (an
// amount as 0, a struct as an empty map), and the canonical re-encoding in
// Decode refuses them (ErrNonCanonical) unless a field rule refuses the
// value first (ErrInvalid).

// codecKind is how a Go type is encoded.
type codecKind uint8

const (
	kText   codecKind = iota // string kinds
	kUint                    // unsigned integers
	kInt                     // signed integers
	kBytes                   // []byte
	kArray                   // [N]byte: an address (20), a hash (32)
	kLink                    // cid.Cid
	kAmount                  // *big.Int
	kVote                    // *Vote, as its encoding
	kList                    // []T
	kMap                     // map[string]string
	kStruct
)

// codecType describes one Go type to the codec.
type codecType struct {
	kind   codecKind
	goType reflect.Type
	size   int        // kArray: bytes; kUint: bits
	elem   *codecType // kList; kVote: Vote
	// kStruct: the fields in declaration order (the JSON view's order) and
	// in canonical key order (the encoding's).
	fields    []codecField
	canonical []codecField
	object    bool // an Object: "kind" (and "v" in the encoding) come with it
}

// codecField is one field of a struct, or a key an Object adds (index < 0).
type codecField struct {
	index    int // in the struct; fieldKind or fieldVersion
	key      string
	jsonKey  string
	nullable bool
	quoted   bool // json:",string": a decimal string in the JSON view
	t        *codecType
}

// Keys every Object's encoding has besides its fields.
const (
	fieldKind    = -1 // "kind": the Object's Kind
	fieldVersion = -2 // "v": EncodingVersion
)

var (
	bytesType   = &codecType{kind: kBytes, goType: reflect.TypeFor[[]byte]()}
	cidType     = reflect.TypeFor[cid.Cid]()
	bigType     = reflect.TypeFor[*big.Int]()
	votePtrType = reflect.TypeFor[*Vote]()
	objectType  = reflect.TypeFor[Object]()
	stringMap   = reflect.TypeFor[map[string]string]()
)

// codecTypes caches codecType by reflect.Type.
var codecTypes sync.Map

// typeOf returns the codecType of t, or an error if the codec cannot
// encode t: a field without a cbor or json tag, a type it doesn't know.
func typeOf(t reflect.Type) (*codecType, error) {
	if ct, ok := codecTypes.Load(t); ok {
		return ct.(*codecType), nil
	}
	ct, err := buildType(t)
	if err != nil {
		return nil, err
	}
	actual, _ := codecTypes.LoadOrStore(t, ct)
	return actual.(*codecType), nil
}

func buildType(t reflect.Type) (*codecType, error) {
	ct := &codecType{goType: t}
	switch {
	case t == cidType:
		ct.kind = kLink
	case t == bigType:
		ct.kind = kAmount
	case t == votePtrType:
		elem, err := typeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		ct.kind, ct.elem = kVote, elem
	case t == stringMap:
		ct.kind = kMap
	case t.Kind() == reflect.String:
		ct.kind = kText
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		ct.kind, ct.size = kUint, t.Bits()
	case t.Kind() == reflect.Int64:
		ct.kind = kInt
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		ct.kind = kBytes
	case t.Kind() == reflect.Array && t.Elem().Kind() == reflect.Uint8:
		ct.kind, ct.size = kArray, t.Len()
	case t.Kind() == reflect.Slice:
		elem, err := typeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		ct.kind, ct.elem = kList, elem
	case t.Kind() == reflect.Struct:
		ct.kind = kStruct
		if err := ct.buildFields(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("datanet: codec: type %s is not encodable", t)
	}
	return ct, nil
}

func (ct *codecType) buildFields() error {
	t := ct.goType
	for i := range t.NumField() {
		f := t.Field(i)
		key, opt, _ := strings.Cut(f.Tag.Get("cbor"), ",")
		jsonKey, jsonOpt, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "" || jsonKey == "" || !f.IsExported() {
			return fmt.Errorf("datanet: codec: field %s.%s needs cbor and json tags", t, f.Name)
		}
		ft, err := typeOf(f.Type)
		if err != nil {
			return err
		}
		nullable := opt == "nullable"
		if nullable && ft.kind != kLink {
			return fmt.Errorf("datanet: codec: field %s.%s: only a link is nullable", t, f.Name)
		}
		quoted := jsonOpt == "string"
		if quoted && ft.kind != kUint && ft.kind != kInt {
			return fmt.Errorf("datanet: codec: field %s.%s: only an integer is a JSON string", t, f.Name)
		}
		ct.fields = append(ct.fields, codecField{index: i, key: key, jsonKey: jsonKey, nullable: nullable, quoted: quoted, t: ft})
	}
	ct.canonical = slices.Clone(ct.fields)
	if ct.object = reflect.PointerTo(t).Implements(objectType); ct.object {
		ct.canonical = append(ct.canonical,
			codecField{index: fieldKind, key: "kind"},
			codecField{index: fieldVersion, key: "v"})
	}
	// DAG-CBOR orders map keys by length, then bytewise.
	slices.SortFunc(ct.canonical, func(a, b codecField) int { return compareKeys(a.key, b.key) })
	if len(ct.canonical) > 64 {
		return fmt.Errorf("datanet: codec: %s has more than 64 fields", t)
	}
	return nil
}

// compareKeys orders text keys as DAG-CBOR sorts them: length first, then
// bytewise.
func compareKeys(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// valueOf returns the addressable value p (a pointer) points to, with its
// codecType.
func valueOf(p any) (reflect.Value, *codecType, error) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return reflect.Value{}, nil, fmt.Errorf("datanet: codec: want a non-nil pointer, got %T", p)
	}
	ct, err := typeOf(v.Type().Elem())
	return v.Elem(), ct, err
}

// marshalCBOR returns the DAG-CBOR encoding of *p, without checking field
// rules.
func marshalCBOR(p any) ([]byte, error) {
	v, ct, err := valueOf(p)
	if err != nil {
		return nil, err
	}
	return appendCBOR(make([]byte, 0, 512), v, ct)
}

func appendCBOR(b []byte, v reflect.Value, ct *codecType) ([]byte, error) {
	switch ct.kind {
	case kText:
		s := v.String()
		return append(appendHead(b, 3, uint64(len(s))), s...), nil
	case kUint:
		return appendHead(b, 0, v.Uint()), nil
	case kInt:
		n := v.Int()
		if n < 0 {
			return appendHead(b, 1, uint64(-1-n)), nil
		}
		return appendHead(b, 0, uint64(n)), nil
	case kBytes, kArray:
		bs := v.Bytes()
		return append(appendHead(b, 2, uint64(len(bs))), bs...), nil
	case kLink:
		return appendLink(b, *v.Addr().Interface().(*cid.Cid))
	case kAmount:
		bs := bigBytes(v.Interface().(*big.Int))
		return append(appendHead(b, 2, uint64(len(bs))), bs...), nil
	case kVote:
		vote := v.Interface().(*Vote)
		if vote == nil {
			return nil, errors.New("missing vote")
		}
		data, err := vote.Encode()
		if err != nil {
			return nil, err
		}
		return append(appendHead(b, 2, uint64(len(data))), data...), nil
	case kList:
		n := v.Len()
		b = appendHead(b, 4, uint64(n))
		for i := range n {
			start := len(b)
			var err error
			if b, err = appendCBOR(b, v.Index(i), ct.elem); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if i == 0 { // room for the rest, if they are like the first
				b = slices.Grow(b, (n-1)*(len(b)-start))
			}
		}
		return b, nil
	case kMap:
		m := v.Interface().(map[string]string)
		b = appendHead(b, 5, uint64(len(m)))
		for _, k := range slices.SortedFunc(maps.Keys(m), compareKeys) {
			b = append(appendHead(b, 3, uint64(len(k))), k...)
			b = append(appendHead(b, 3, uint64(len(m[k]))), m[k]...)
		}
		return b, nil
	case kStruct:
		b = appendHead(b, 5, uint64(len(ct.canonical)))
		for _, f := range ct.canonical {
			b = append(appendHead(b, 3, uint64(len(f.key))), f.key...)
			var err error
			switch f.index {
			case fieldKind:
				kind := v.Addr().Interface().(Object).Kind()
				b = append(appendHead(b, 3, uint64(len(kind))), kind...)
			case fieldVersion:
				b = appendHead(b, 0, EncodingVersion)
			default:
				fv := v.Field(f.index)
				if f.nullable && !fv.Addr().Interface().(*cid.Cid).Defined() {
					b = append(b, 0xf6) // null
				} else if b, err = appendCBOR(b, fv, f.t); err != nil {
					return nil, fieldError(f.key, f, err)
				}
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("datanet: codec: cannot encode %s", ct.goType)
}

// fieldError prefixes err with the key of the field f it is about:
// "files[2]: …" after a list's index, "root: …" otherwise.
func fieldError(key string, f codecField, err error) error {
	if f.t != nil && f.t.kind == kList {
		return fmt.Errorf("%s%w", key, err)
	}
	return fmt.Errorf("%s: %w", key, err)
}

// appendLink appends c as DAG-CBOR writes a link: tag 42 around a byte
// string holding 0x00 (the identity multibase prefix) and the binary CID.
func appendLink(b []byte, c cid.Cid) ([]byte, error) {
	if !c.Defined() {
		return nil, errors.New("undefined CID")
	}
	bin := c.KeyString()
	b = appendHead(b, 6, cborTagLink)
	b = appendHead(b, 2, uint64(1+len(bin)))
	return append(append(b, 0), bin...), nil
}

// parseLink reads one item that must be a link as appendLink writes it,
// heads in their shortest form.
func parseLink(data []byte) (cid.Cid, error) {
	major, tag, n, err := readHead(data)
	if err != nil {
		return cid.Undef, fmt.Errorf("link: %w", err)
	}
	if major != 6 || tag != cborTagLink {
		return cid.Undef, errors.New("link: want tag 42")
	}
	data = data[n:]
	major, size, n, err := readHead(data)
	if err != nil {
		return cid.Undef, fmt.Errorf("link: %w", err)
	}
	if major != 2 {
		return cid.Undef, errors.New("link: tag 42 must hold a byte string")
	}
	data = data[n:]
	if uint64(len(data)) != size || size == 0 || data[0] != 0 {
		return cid.Undef, errors.New("link: want 0x00 followed by a binary CID")
	}
	c, err := cid.Cast(data[1:])
	if err != nil {
		return cid.Undef, fmt.Errorf("link: %w", err)
	}
	return c, nil
}

// link is a CID that encodes itself as a link, for the partial reads of
// stored objects with the head decoder.
type link struct{ c cid.Cid }

// MarshalCBOR implements cbor.Marshaler.
func (l link) MarshalCBOR() ([]byte, error) { return appendLink(nil, l.c) }

// UnmarshalCBOR implements cbor.Unmarshaler. data is one well-formed item.
func (l *link) UnmarshalCBOR(data []byte) error {
	c, err := parseLink(data)
	if err != nil {
		return err
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
	major, arg, n, err = readAnyHead(b)
	if err == nil && !minimalHead(arg, n) {
		return 0, 0, 0, errors.New("non-minimal head")
	}
	return major, arg, n, err
}

// minimalHead reports whether a head of n bytes is the shortest for arg.
func minimalHead(arg uint64, n int) bool {
	return n == 1 || (n == 2 && arg >= 24) || (n > 2 && arg >= 1<<(8*((n-1)/2)))
}

// readAnyHead reads a CBOR head of definite length, in any form.
func readAnyHead(b []byte) (major byte, arg uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, 0, errors.New("truncated")
	}
	major, info := b[0]>>5, b[0]&0x1f
	switch {
	case info < 24:
		return major, uint64(info), 1, nil
	case info <= 27:
		n = 1 << (info - 24)
		if len(b) < 1+n {
			return 0, 0, 0, errors.New("truncated")
		}
		for _, x := range b[1 : 1+n] {
			arg = arg<<8 | uint64(x)
		}
		return major, arg, 1 + n, nil
	default:
		return 0, 0, 0, errors.New("indefinite length")
	}
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

// cborDecoder reads a well-formed encoding into Go values by their
// codecTypes. Leaves in their plain forms are read here; anything else (a
// tag, a bignum, null, a long head) goes to the strict decoder, which reads
// it as it always has and leaves the refusal of non-canonical forms to
// Decode's re-encoding.
type cborDecoder struct {
	data []byte
	cd   *codec
	// stored marks bytes read from this node's store (decodeStored):
	// inner votes are decoded without their field rules checked again.
	stored bool
}

// unmarshalWith decodes data, one object's encoding, into the Object obj.
// The kind and version keys are skipped: decodeFields has read them.
// stored (bytes from this node's store) decodes embedded votes with
// decodeStored, not Decode.
func unmarshalWith(cd *codec, data []byte, obj Object, stored bool) error {
	if err := cd.dec.Wellformed(data); err != nil {
		return err
	}
	v, ct, err := valueOf(obj)
	if err != nil {
		return err
	}
	d := &cborDecoder{data: data, cd: cd, stored: stored}
	_, err = d.value(0, v, ct)
	return err
}

// skip returns the offset after the item at off.
func (d *cborDecoder) skip(off int) (int, error) {
	major, arg, n, err := readAnyHead(d.data[off:])
	if err != nil {
		return 0, err
	}
	off += n
	var items uint64
	switch major {
	case 2, 3:
		if arg > uint64(len(d.data)-off) {
			return 0, errors.New("truncated")
		}
		return off + int(arg), nil
	case 4:
		items = arg
	case 5:
		items = 2 * arg
	case 6:
		items = 1
	}
	for range items {
		if off, err = d.skip(off); err != nil {
			return 0, err
		}
	}
	return off, nil
}

// strict decodes the item at off with the strict decoder into v.
func (d *cborDecoder) strict(off int, v reflect.Value) (int, error) {
	end, err := d.skip(off)
	if err != nil {
		return 0, err
	}
	return end, d.cd.dec.Unmarshal(d.data[off:end], v.Addr().Interface())
}

// container reads the head of a list (major 4) or map (5) at off, after
// any tags; null or undefined read as empty. It returns the items and the
// offset of the first.
func (d *cborDecoder) container(off int, major byte) (uint64, int, error) {
	for {
		m, arg, n, err := readAnyHead(d.data[off:])
		switch {
		case err != nil:
			return 0, 0, err
		case m == 6:
			off += n
			continue
		case m == major:
			return arg, off + n, nil
		case m == 7 && (arg == 22 || arg == 23):
			return 0, off + n, nil
		case major == 4:
			return 0, 0, errors.New("want a list")
		default:
			return 0, 0, errors.New("want a map")
		}
	}
}

func (d *cborDecoder) value(off int, v reflect.Value, ct *codecType) (int, error) {
	major, arg, n, err := readAnyHead(d.data[off:])
	if err != nil {
		return 0, err
	}
	switch ct.kind {
	case kText:
		if end := off + n + int(arg); major == 3 && arg <= uint64(len(d.data)-off-n) && utf8.Valid(d.data[off+n:end]) {
			v.SetString(string(d.data[off+n : end]))
			return end, nil
		}
	case kUint:
		if major == 0 && (ct.size == 64 || arg < 1<<ct.size) {
			v.SetUint(arg)
			return off + n, nil
		}
	case kInt:
		if major == 0 && arg <= math.MaxInt64 {
			v.SetInt(int64(arg))
			return off + n, nil
		}
	case kBytes:
		if end := off + n + int(arg); major == 2 && arg <= uint64(len(d.data)-off-n) {
			v.SetBytes(slices.Clone(d.data[off+n : end]))
			return end, nil
		}
	case kArray:
		if end := off + n + int(arg); major == 2 && arg == uint64(ct.size) && arg <= uint64(len(d.data)-off-n) {
			reflect.Copy(v, reflect.ValueOf(d.data[off+n:end]))
			return end, nil
		}
		var b []byte
		end, err := d.strict(off, reflect.ValueOf(&b).Elem())
		if err != nil {
			return 0, err
		}
		if len(b) != ct.size {
			return 0, fmt.Errorf("%d bytes, want %d", len(b), ct.size)
		}
		reflect.Copy(v, reflect.ValueOf(b))
		return end, nil
	case kLink:
		end, err := d.skip(off)
		if err != nil {
			return 0, err
		}
		c, err := parseLink(d.data[off:end])
		if err != nil {
			return 0, err
		}
		v.Set(reflect.ValueOf(c))
		return end, nil
	case kAmount, kVote:
		var b []byte
		end, err := d.value(off, reflect.ValueOf(&b).Elem(), bytesType)
		if err != nil {
			return 0, err
		}
		if ct.kind == kAmount {
			v.Set(reflect.ValueOf(new(big.Int).SetBytes(b)))
			return end, nil
		}
		var vote *Vote
		if d.stored {
			obj, err := decodeStored(b)
			if err != nil {
				return 0, err
			}
			var ok bool
			if vote, ok = obj.(*Vote); !ok {
				return 0, fmt.Errorf("%w: a %s where a vote goes", ErrWrongKind, obj.Kind())
			}
		} else if vote, err = DecodeVote(b); err != nil {
			return 0, err
		}
		v.Set(reflect.ValueOf(vote))
		return end, nil
	case kList:
		items, off, err := d.container(off, 4)
		if err != nil {
			return 0, err
		}
		if items == 0 {
			v.SetZero()
			return off, nil
		}
		if items > uint64(len(d.data)) {
			return 0, errors.New("truncated")
		}
		v.Set(reflect.MakeSlice(ct.goType, int(items), int(items)))
		for i := range int(items) {
			if off, err = d.value(off, v.Index(i), ct.elem); err != nil {
				return 0, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return off, nil
	case kStruct:
		return d.fields(off, v, ct)
	}
	return d.strict(off, v)
}

// fields reads a map into the struct v: every key one of its fields (or,
// for an Object, "kind" or "v"), none twice; missing keys as
// decodeMissing sets them.
func (d *cborDecoder) fields(off int, v reflect.Value, ct *codecType) (int, error) {
	pairs, off, err := d.container(off, 5)
	if err != nil {
		return 0, err
	}
	var seen uint64
	for range pairs {
		major, size, n, err := readAnyHead(d.data[off:])
		if err != nil {
			return 0, err
		}
		if major != 3 || size > uint64(len(d.data)-off-n) {
			return 0, errors.New("map key is not text")
		}
		key := d.data[off+n : off+n+int(size)]
		off += n + int(size)
		i := slices.IndexFunc(ct.canonical, func(f codecField) bool { return f.key == string(key) })
		if i < 0 {
			return 0, fmt.Errorf("unknown key %q", key)
		}
		if seen&(1<<i) != 0 {
			return 0, fmt.Errorf("duplicate key %q", key)
		}
		seen |= 1 << i
		f := ct.canonical[i]
		if f.index < 0 {
			off, err = d.skip(off)
		} else if f.nullable && (d.data[off] == 0xf6 || d.data[off] == 0xf7) {
			v.Field(f.index).SetZero()
			off++
		} else {
			off, err = d.value(off, v.Field(f.index), f.t)
		}
		if err != nil {
			return 0, fieldError(f.key, f, err)
		}
	}
	for i, f := range ct.canonical {
		if seen&(1<<i) == 0 && f.index >= 0 {
			if err := decodeMissing(v.Field(f.index), f.t); err != nil {
				return 0, fmt.Errorf("missing key: %w", fieldError(f.key, f, err))
			}
		}
	}
	return off, nil
}

// decodeMissing sets v, whose key is missing, as its empty form decodes:
// an amount as 0, a struct as an empty map; a fixed-length byte string is
// an error.
func decodeMissing(v reflect.Value, ct *codecType) error {
	switch ct.kind {
	case kArray:
		return fmt.Errorf("0 bytes, want %d", ct.size)
	case kAmount:
		v.Set(reflect.ValueOf(new(big.Int)))
	case kStruct:
		for _, f := range ct.fields {
			if err := decodeMissing(v.Field(f.index), f.t); err != nil {
				return fieldError(f.key, f, err)
			}
		}
	}
	return nil
}
