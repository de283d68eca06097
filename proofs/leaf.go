package proofs

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// LeafHash returns OpenZeppelin's standard leaf hash of values:
// keccak256(bytes.concat(keccak256(abi.encode(values...)))), as
// standardLeafHash in @openzeppelin/merkle-tree computes it. types are the
// Solidity ABI type names of the values, one per value.
//
// Supported types are uintN and intN (any Go integer, *big.Int or big.Int,
// range-checked), address (common.Address, [20]byte or a 20-byte []byte),
// bytesN ([N]byte of any named array type, or an N-byte []byte), bytes
// ([]byte), bool, string, and fixed or dynamic arrays of these (T[k], T[]) as
// Go slices or arrays. Tuples are not supported. Values that do not fit their
// type are an error (ErrLeafEncoding), never silently truncated.
func LeafHash(types []string, values ...any) (Hash, error) {
	args, err := parseTypes(types)
	if err != nil {
		return Hash{}, err
	}
	enc, err := encodeLeaf(args, values)
	if err != nil {
		return Hash{}, err
	}
	return newHasher().leaf(enc), nil
}

// ShardLeaf returns the leaf of the index-th shard of a contribution, with
// its sha256 digest and its size in bytes:
// LeafHash([]string{"uint256", "bytes32", "uint256"}, index, digest, size).
func ShardLeaf(index uint64, digest [32]byte, size uint64) Hash {
	var enc [96]byte
	binary.BigEndian.PutUint64(enc[24:32], index)
	copy(enc[32:64], digest[:])
	binary.BigEndian.PutUint64(enc[88:96], size)
	return newHasher().leaf(enc[:])
}

// ClaimLeaf returns the leaf of a cumulative reward claim, the total amount
// (in the token's smallest unit) ever owed to account:
// LeafHash([]string{"address", "uint256"}, account, amount). amount must be
// in [0, 2^256).
func ClaimLeaf(account [20]byte, amount *big.Int) (Hash, error) {
	if amount == nil || amount.Sign() < 0 || amount.BitLen() > 256 {
		return Hash{}, fmt.Errorf("%w: claim amount %v is not a uint256", ErrLeafEncoding, amount)
	}
	var enc [64]byte
	copy(enc[12:32], account[:])
	amount.FillBytes(enc[32:64])
	return newHasher().leaf(enc[:]), nil
}

// parseTypes parses Solidity ABI type names into the argument list of
// abi.encode.
func parseTypes(types []string) (abi.Arguments, error) {
	args := make(abi.Arguments, len(types))
	for i, name := range types {
		if err := checkTypeName(name); err != nil {
			return nil, fmt.Errorf("%w: type %d %q: %w", ErrLeafEncoding, i, name, err)
		}
		t, err := abi.NewType(name, "", nil)
		if err != nil {
			return nil, fmt.Errorf("%w: type %d %q: %w", ErrLeafEncoding, i, name, err)
		}
		if err := checkSupported(t); err != nil {
			return nil, fmt.Errorf("%w: type %d %q: %w", ErrLeafEncoding, i, name, err)
		}
		args[i] = abi.Argument{Type: t}
	}
	return args, nil
}

// checkTypeName accepts the canonical Solidity ABI names of the types
// LeafHash supports; go-ethereum's abi.NewType alone accepts names such as
// "uint7" or "(uint256,address)" and misreads them.
func checkTypeName(name string) error {
	base, dims, _ := strings.Cut(name, "[")
	if dims != "" {
		dims = "[" + dims
	}
	for dims != "" {
		end := strings.IndexByte(dims, ']')
		if end < 0 {
			return fmt.Errorf("unbalanced brackets")
		}
		if size := dims[1:end]; size != "" {
			n, err := strconv.Atoi(size)
			if err != nil || n <= 0 || strconv.Itoa(n) != size {
				return fmt.Errorf("bad array length %q", size)
			}
		}
		dims = dims[end+1:]
		if dims != "" && dims[0] != '[' {
			return fmt.Errorf("junk after array length")
		}
	}
	switch base {
	case "address", "bool", "string", "bytes":
		return nil
	}
	for _, p := range []struct {
		prefix   string
		min, max int
		step     int
	}{{"uint", 8, 256, 8}, {"int", 8, 256, 8}, {"bytes", 1, 32, 1}} {
		bits, ok := strings.CutPrefix(base, p.prefix)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(bits)
		if err != nil || strconv.Itoa(n) != bits || n < p.min || n > p.max || n%p.step != 0 {
			return fmt.Errorf("bad size %q", bits)
		}
		return nil
	}
	return fmt.Errorf("unsupported type")
}

func checkSupported(t abi.Type) error {
	switch t.T {
	case abi.IntTy, abi.UintTy, abi.BoolTy, abi.StringTy, abi.AddressTy, abi.FixedBytesTy, abi.BytesTy:
		return nil
	case abi.SliceTy, abi.ArrayTy:
		return checkSupported(*t.Elem)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
}

// encodeLeaf is abi.encode(values...) for the types of args.
func encodeLeaf(args abi.Arguments, values []any) ([]byte, error) {
	if len(values) != len(args) {
		return nil, fmt.Errorf("%w: %d values for %d types", ErrLeafEncoding, len(values), len(args))
	}
	coerced, err := coerceValues(args, values)
	if err != nil {
		return nil, err
	}
	enc, err := args.Pack(coerced...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLeafEncoding, err)
	}
	return enc, nil
}

// coerceValues converts values to the exact Go types go-ethereum's abi
// packer expects for args, checking ranges the packer does not check.
func coerceValues(args abi.Arguments, values []any) ([]any, error) {
	out := make([]any, len(values))
	for i, v := range values {
		c, err := coerce(args[i].Type, v)
		if err != nil {
			return nil, fmt.Errorf("%w: value %d (%s): %w", ErrLeafEncoding, i, args[i].Type, err)
		}
		out[i] = c
	}
	return out, nil
}

var bigIntType = reflect.TypeFor[*big.Int]()

// coerce converts v to t.GetType(), the Go type the abi packer wants for t.
func coerce(t abi.Type, v any) (any, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil, fmt.Errorf("nil value")
	}
	// Dereference pointers, except *big.Int which the integer case reads.
	for rv.Kind() == reflect.Pointer && rv.Type() != bigIntType {
		if rv.IsNil() {
			return nil, fmt.Errorf("nil %s", rv.Type())
		}
		rv = rv.Elem()
	}
	switch t.T {
	case abi.IntTy, abi.UintTy:
		return coerceInt(t, rv)
	case abi.BoolTy:
		if rv.Kind() != reflect.Bool {
			return nil, fmt.Errorf("cannot use %s as bool", rv.Type())
		}
		return rv.Bool(), nil
	case abi.StringTy:
		if rv.Kind() != reflect.String {
			return nil, fmt.Errorf("cannot use %s as string", rv.Type())
		}
		return rv.String(), nil
	case abi.AddressTy:
		b, err := fixedBytes(rv, common.AddressLength)
		if err != nil {
			return nil, err
		}
		return common.BytesToAddress(b), nil
	case abi.FixedBytesTy:
		b, err := fixedBytes(rv, t.Size)
		if err != nil {
			return nil, err
		}
		out := reflect.New(t.GetType()).Elem()
		reflect.Copy(out, reflect.ValueOf(b))
		return out.Interface(), nil
	case abi.BytesTy:
		if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() != reflect.Uint8 {
			return nil, fmt.Errorf("cannot use %s as bytes", rv.Type())
		}
		return byteSlice(rv), nil
	case abi.SliceTy, abi.ArrayTy:
		return coerceList(t, rv)
	default:
		return nil, fmt.Errorf("unsupported type %s", t)
	}
}

// byteSlice copies a slice or array of any byte type to a []byte.
func byteSlice(rv reflect.Value) []byte {
	b := make([]byte, rv.Len())
	for i := range b {
		b[i] = byte(rv.Index(i).Uint())
	}
	return b
}

// fixedBytes returns the bytes of an n-byte array or slice.
func fixedBytes(rv reflect.Value, n int) ([]byte, error) {
	k := rv.Kind()
	if (k != reflect.Array && k != reflect.Slice) || rv.Type().Elem().Kind() != reflect.Uint8 {
		return nil, fmt.Errorf("cannot use %s as %d bytes", rv.Type(), n)
	}
	if rv.Len() != n {
		return nil, fmt.Errorf("%d bytes, want %d", rv.Len(), n)
	}
	return byteSlice(rv), nil
}

// coerceInt converts an integer of any Go type to t's Go type, checking that
// it is in t's range.
func coerceInt(t abi.Type, rv reflect.Value) (any, error) {
	var x *big.Int
	switch {
	case rv.Type() == bigIntType:
		if rv.IsNil() {
			return nil, fmt.Errorf("nil *big.Int")
		}
		x = new(big.Int).Set(rv.Interface().(*big.Int))
	case rv.Type() == bigIntType.Elem():
		b := rv.Interface().(big.Int)
		x = new(big.Int).Set(&b)
	case rv.CanInt():
		x = big.NewInt(rv.Int())
	case rv.CanUint():
		x = new(big.Int).SetUint64(rv.Uint())
	default:
		return nil, fmt.Errorf("cannot use %s as %s", rv.Type(), t)
	}
	if t.T == abi.UintTy {
		if x.Sign() < 0 || x.BitLen() > t.Size {
			return nil, fmt.Errorf("%s out of range of %s", x, t)
		}
	} else {
		limit := new(big.Int).Lsh(big.NewInt(1), uint(t.Size-1))
		if x.Cmp(limit) >= 0 || x.Cmp(limit.Neg(limit)) < 0 {
			return nil, fmt.Errorf("%s out of range of %s", x, t)
		}
	}
	goType := t.GetType()
	if goType == bigIntType {
		return x, nil
	}
	out := reflect.New(goType).Elem()
	if t.T == abi.UintTy {
		out.SetUint(x.Uint64())
	} else {
		out.SetInt(x.Int64())
	}
	return out.Interface(), nil
}

// coerceList converts a Go slice or array to t's Go slice or array type,
// element by element.
func coerceList(t abi.Type, rv reflect.Value) (any, error) {
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("cannot use %s as %s", rv.Type(), t)
	}
	n := rv.Len()
	if t.T == abi.ArrayTy && n != t.Size {
		return nil, fmt.Errorf("%d elements, want %d", n, t.Size)
	}
	// Check every element before making the result, whose type may be large
	// if a nested fixed length is.
	elems := make([]any, n)
	for i := range n {
		c, err := coerce(*t.Elem, rv.Index(i).Interface())
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		elems[i] = c
	}
	var out reflect.Value
	if t.T == abi.ArrayTy {
		out = reflect.New(t.GetType()).Elem()
	} else {
		out = reflect.MakeSlice(t.GetType(), n, n)
	}
	for i, c := range elems {
		out.Index(i).Set(reflect.ValueOf(c))
	}
	return out.Interface(), nil
}

// ContributionLeaf returns the leaf of a contribution in a snapshot: the
// sha256 digest of the contribution's object encoding (the digest of its
// CID) and its Merkle root over its shards:
// LeafHash([]string{"bytes32", "bytes32"}, cidDigest, root).
func ContributionLeaf(cidDigest, root [32]byte) Hash {
	var enc [64]byte
	copy(enc[:32], cidDigest[:])
	copy(enc[32:], root[:])
	return newHasher().leaf(enc[:])
}
