package proofs

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// DumpFormat is the format tag of the JSON dump of a StandardTree, as
// @openzeppelin/merkle-tree writes it.
const DumpFormat = "standard-v1"

// StandardTree is a Tree that also keeps its leaf values and their Solidity
// ABI encoding, like StandardMerkleTree of @openzeppelin/merkle-tree. It reads
// and writes that library's JSON dump. It is immutable and safe for
// concurrent use.
type StandardTree struct {
	*Tree
	encoding []string
	args     abi.Arguments
	values   [][]any // coerced to the abi packer's Go types
}

// NewStandardTree builds the tree of values, each leaf being
// LeafHash(leafEncoding, values[i]...), as StandardMerkleTree.of(values,
// leafEncoding) does. Leaf i is values[i].
func NewStandardTree(leafEncoding []string, values [][]any) (*StandardTree, error) {
	args, err := parseTypes(leafEncoding)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, ErrEmpty
	}
	st := &StandardTree{
		encoding: append([]string(nil), leafEncoding...),
		args:     args,
		values:   make([][]any, len(values)),
	}
	leaves := make([]Hash, len(values))
	h := newHasher()
	for i, v := range values {
		if len(v) != len(args) {
			return nil, fmt.Errorf("leaf %d: %w: %d values for %d types", i, ErrLeafEncoding, len(v), len(args))
		}
		c, err := coerceValues(args, v)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", i, err)
		}
		enc, err := args.Pack(c...)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w: %w", i, ErrLeafEncoding, err)
		}
		st.values[i] = c
		leaves[i] = h.leaf(enc)
	}
	t, err := NewTree(leaves)
	if err != nil {
		return nil, err
	}
	st.Tree = t
	return st, nil
}

// LeafEncoding returns the Solidity ABI types of a leaf's values.
func (t *StandardTree) LeafEncoding() []string {
	return append([]string(nil), t.encoding...)
}

// Value returns the values of the i-th leaf, as the Go types go-ethereum's abi
// package uses for them (*big.Int or a sized integer, common.Address, [N]byte,
// []byte, bool, string, and slices or arrays of these).
func (t *StandardTree) Value(i int) ([]any, error) {
	if i < 0 || i >= len(t.values) || t.Len() == 0 {
		return nil, fmt.Errorf("value %d of %d: %w", i, len(t.values), ErrIndex)
	}
	// Coercing again copies every *big.Int, slice and array, so the
	// caller cannot change the tree's values.
	return coerceValues(t.args, t.values[i])
}

// dump is the JSON form of a StandardMerkleTree, field for field.
type dump struct {
	Format       string      `json:"format"`
	LeafEncoding []string    `json:"leafEncoding"`
	Tree         []Hash      `json:"tree"`
	Values       []dumpValue `json:"values"`
}

type dumpValue struct {
	Value     []json.RawMessage `json:"value"`
	TreeIndex int               `json:"treeIndex"`
}

// Dump returns the tree as the JSON that tree.dump() of the JS library
// returns, indented as JSON.stringify(dump, null, 2) indents it, so that
// StandardMerkleTree.load reads it. Integers are written as decimal strings;
// addresses and byte strings as 0x-prefixed lower-case hex.
func (t *StandardTree) Dump() ([]byte, error) {
	if t.Len() == 0 {
		return nil, ErrEmpty
	}
	d := dump{
		Format:       DumpFormat,
		LeafEncoding: t.encoding,
		Tree:         t.nodes,
		Values:       make([]dumpValue, len(t.values)),
	}
	for i, v := range t.values {
		raw := make([]json.RawMessage, len(v))
		for k, x := range v {
			j, err := jsonValue(t.args[k].Type, reflect.ValueOf(x))
			if err != nil {
				return nil, fmt.Errorf("dump value %d of leaf %d: %w", k, i, err)
			}
			b, err := marshalJSON(j, "")
			if err != nil {
				return nil, fmt.Errorf("dump value %d of leaf %d: %w", k, i, err)
			}
			raw[k] = b
		}
		d.Values[i] = dumpValue{Value: raw, TreeIndex: t.pos[i]}
	}
	return marshalJSON(d, "  ")
}

// marshalJSON encodes v as JSON.stringify does: no HTML escaping, no trailing
// newline.
func marshalJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// jsonValue converts a coerced leaf value to its JSON form.
func jsonValue(t abi.Type, rv reflect.Value) (any, error) {
	switch t.T {
	case abi.IntTy, abi.UintTy:
		switch {
		case rv.Type() == bigIntType:
			return rv.Interface().(*big.Int).String(), nil
		case rv.CanInt():
			return big.NewInt(rv.Int()).String(), nil
		case rv.CanUint():
			return new(big.Int).SetUint64(rv.Uint()).String(), nil
		}
	case abi.BoolTy:
		return rv.Bool(), nil
	case abi.StringTy:
		return rv.String(), nil
	case abi.AddressTy, abi.FixedBytesTy, abi.BytesTy:
		return "0x" + hex.EncodeToString(byteSlice(rv)), nil
	case abi.SliceTy, abi.ArrayTy:
		out := make([]any, rv.Len())
		for i := range out {
			v, err := jsonValue(*t.Elem, rv.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot dump %s as %s", rv.Type(), t)
}

// LoadStandardTree reads a tree from the JSON of tree.dump() of the JS
// library (or of Dump), as StandardMerkleTree.load does, and checks it: every
// value hashes to its leaf, every internal node to its children, and every
// leaf holds exactly one value. A tree built without sorted leaves loads as it
// is. Integers may be JSON numbers or decimal or 0x-hex strings; addresses
// and byte strings 0x-hex strings.
func LoadStandardTree(data []byte) (*StandardTree, error) {
	var d dump
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDump, err)
	}
	if d.Format != DumpFormat {
		return nil, fmt.Errorf("%w: unknown format %q", ErrInvalidDump, d.Format)
	}
	if d.LeafEncoding == nil {
		return nil, fmt.Errorf("%w: no leaf encoding", ErrInvalidDump)
	}
	args, err := parseTypes(d.LeafEncoding)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDump, err)
	}
	n := len(d.Values)
	if n == 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDump, ErrEmpty)
	}
	if len(d.Tree) != 2*n-1 {
		return nil, fmt.Errorf("%w: %d nodes for %d values", ErrInvalidDump, len(d.Tree), n)
	}
	st := &StandardTree{
		Tree:     &Tree{nodes: d.Tree, pos: make([]int, n)},
		encoding: d.LeafEncoding,
		args:     args,
		values:   make([][]any, n),
	}
	used := make([]bool, n)
	h := newHasher()
	for i, dv := range d.Values {
		leaf := dv.TreeIndex - (n - 1)
		if leaf < 0 || leaf >= n {
			return nil, fmt.Errorf("%w: value %d at node %d, not a leaf", ErrInvalidDump, i, dv.TreeIndex)
		}
		if used[leaf] {
			return nil, fmt.Errorf("%w: value %d at node %d, which holds another value", ErrInvalidDump, i, dv.TreeIndex)
		}
		used[leaf] = true
		if len(dv.Value) != len(args) {
			return nil, fmt.Errorf("%w: value %d has %d fields for %d types", ErrInvalidDump, i, len(dv.Value), len(args))
		}
		vals := make([]any, len(args))
		for k, raw := range dv.Value {
			v, err := parseJSONValue(args[k].Type, raw)
			if err != nil {
				return nil, fmt.Errorf("%w: value %d field %d (%s): %w", ErrInvalidDump, i, k, args[k].Type, err)
			}
			vals[k] = v
		}
		c, err := coerceValues(args, vals)
		if err != nil {
			return nil, fmt.Errorf("%w: value %d: %w", ErrInvalidDump, i, err)
		}
		enc, err := args.Pack(c...)
		if err != nil {
			return nil, fmt.Errorf("%w: value %d: %w", ErrInvalidDump, i, err)
		}
		if got := h.leaf(enc); got != d.Tree[dv.TreeIndex] {
			return nil, fmt.Errorf("%w: value %d hashes to %s, node %d is %s", ErrInvalidDump, i, got, dv.TreeIndex, d.Tree[dv.TreeIndex])
		}
		st.values[i] = c
		st.pos[i] = dv.TreeIndex
	}
	for i := n - 2; i >= 0; i-- {
		if want := h.node(&d.Tree[2*i+1], &d.Tree[2*i+2]); d.Tree[i] != want {
			return nil, fmt.Errorf("%w: node %d is %s, its children hash to %s", ErrInvalidDump, i, d.Tree[i], want)
		}
	}
	return st, nil
}

// parseJSONValue converts the JSON form of a value of type t to a Go value
// that coerce accepts.
func parseJSONValue(t abi.Type, raw json.RawMessage) (any, error) {
	switch t.T {
	case abi.IntTy, abi.UintTy:
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		var s string
		switch v := v.(type) {
		case json.Number:
			s = v.String()
		case string:
			s = v
		default:
			return nil, fmt.Errorf("want a number or a string, got %s", raw)
		}
		x, ok := parseBig(s)
		if !ok {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return x, nil
	case abi.BoolTy:
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case abi.StringTy:
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case abi.AddressTy, abi.FixedBytesTy, abi.BytesTy:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := decodeHex(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
		if t.T == abi.AddressTy && len(b) != common.AddressLength {
			return nil, fmt.Errorf("%q is not an address", s)
		}
		return b, nil
	case abi.SliceTy, abi.ArrayTy:
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := parseJSONValue(*t.Elem, e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// parseBig parses a decimal or 0x-hex integer, optionally negative.
func parseBig(s string) (*big.Int, bool) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	base := 10
	if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
		base, digits = 16, digits[2:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return nil, false
	}
	x, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil, false
	}
	if neg {
		x.Neg(x)
	}
	return x, true
}
