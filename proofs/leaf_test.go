package proofs

import (
	"crypto/sha256"
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

var shardTypes = []string{"uint256", "bytes32", "uint256"}

func TestLeafHashGoTypes(t *testing.T) {
	digest := sha256.Sum256([]byte("shard"))
	want := ShardLeaf(3, digest, 1<<20)
	type myDigest [32]byte
	type myInt int16
	tests := []struct {
		name   string
		values []any
	}{
		{"uint64", []any{uint64(3), digest, uint64(1 << 20)}},
		{"int", []any{3, digest, 1 << 20}},
		{"named", []any{myInt(3), myDigest(digest), uint32(1 << 20)}},
		{"big", []any{big.NewInt(3), Hash(digest), *big.NewInt(1 << 20)}},
		{"pointers", []any{new(uint8(3)), &digest, new(int64(1 << 20))}},
		{"byte slice", []any{uint16(3), digest[:], uint(1 << 20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LeafHash(shardTypes, tt.values...)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("LeafHash = %s, ShardLeaf = %s", got, want)
			}
		})
	}
}

func TestClaimLeaf(t *testing.T) {
	account := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	amount, _ := new(big.Int).SetString("1000000000000000000", 10)
	got, err := ClaimLeaf(account, amount)
	if err != nil {
		t.Fatal(err)
	}
	want, err := LeafHash([]string{"address", "uint256"}, account, amount)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("ClaimLeaf = %s, LeafHash = %s", got, want)
	}
	for _, bad := range []*big.Int{nil, big.NewInt(-1), new(big.Int).Lsh(big.NewInt(1), 256)} {
		if _, err := ClaimLeaf(account, bad); !errors.Is(err, ErrLeafEncoding) {
			t.Errorf("ClaimLeaf(%v) error = %v, want ErrLeafEncoding", bad, err)
		}
	}
}

func TestLeafHashErrors(t *testing.T) {
	twoTo256 := new(big.Int).Lsh(big.NewInt(1), 256)
	var nilBig *big.Int
	tests := []struct {
		name   string
		types  []string
		values []any
	}{
		{"unknown type", []string{"uint7"}, []any{1}},
		{"not a type", []string{"wibble"}, []any{1}},
		{"tuple", []string{"(uint256,address)"}, []any{1}},
		{"uint without size", []string{"uint"}, []any{1}},
		{"uint264", []string{"uint264"}, []any{1}},
		{"leading zero size", []string{"uint08"}, []any{1}},
		{"bytes33", []string{"bytes33"}, []any{[33]byte{}}},
		{"zero-length array", []string{"uint8[0]"}, []any{[0]uint8{}}},
		{"leading zero length", []string{"uint8[01]"}, []any{[1]uint8{}}},
		{"junk after array", []string{"uint8[1]x"}, []any{[1]uint8{}}},
		{"unbalanced", []string{"uint8[1"}, []any{[1]uint8{}}},
		{"function", []string{"function"}, []any{[24]byte{}}},
		{"too few values", shardTypes, []any{1, [32]byte{}}},
		{"too many values", []string{"bool"}, []any{true, false}},
		{"uint8 overflow", []string{"uint8"}, []any{256}},
		{"uint negative", []string{"uint256"}, []any{-1}},
		{"uint256 overflow", []string{"uint256"}, []any{twoTo256}},
		{"int8 underflow", []string{"int8"}, []any{-129}},
		{"int8 overflow", []string{"int8"}, []any{big.NewInt(128)}},
		{"int64 from huge uint", []string{"int64"}, []any{uint64(math.MaxUint64)}},
		{"nil", []string{"uint256"}, []any{nil}},
		{"nil big", []string{"uint256"}, []any{nilBig}},
		{"string as uint", []string{"uint256"}, []any{"1"}},
		{"int as string", []string{"string"}, []any{65}},
		{"short address", []string{"address"}, []any{[19]byte{}}},
		{"hash as address", []string{"address"}, []any{Hash{}}},
		{"short bytes32", []string{"bytes32"}, []any{make([]byte, 31)}},
		{"bytes32 as bytes4", []string{"bytes4"}, []any{[32]byte{}}},
		{"array length", []string{"uint8[2]"}, []any{[]uint8{1, 2, 3}}},
		{"array element", []string{"uint8[]"}, []any{[]int{1, 300}}},
		{"scalar as array", []string{"uint8[]"}, []any{1}},
		{"bool as uint", []string{"uint256"}, []any{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := LeafHash(tt.types, tt.values...)
			if !errors.Is(err, ErrLeafEncoding) {
				t.Errorf("LeafHash(%v, %v) = %s, %v; want ErrLeafEncoding", tt.types, tt.values, h, err)
			}
		})
	}
}

func TestLeafHashBounds(t *testing.T) {
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	min256 := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255))
	tests := []struct {
		name   string
		types  []string
		values []any
	}{
		{"uint8 max", []string{"uint8"}, []any{255}},
		{"int8 min", []string{"int8"}, []any{-128}},
		{"uint256 max", []string{"uint256"}, []any{max256}},
		{"int256 min", []string{"int256"}, []any{min256}},
		{"uint24", []string{"uint24"}, []any{1<<24 - 1}},
		{"arrays", []string{"uint8[2]", "bytes4[]", "string[]"}, []any{[2]int{1, 2}, [][4]byte{{1}}, []string{"a"}}},
		{"empty dynamic", []string{"bytes", "string", "uint256[]"}, []any{[]byte{}, "", []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LeafHash(tt.types, tt.values...); err != nil {
				t.Errorf("LeafHash(%v, %v): %v", tt.types, tt.values, err)
			}
		})
	}
}

func TestContributionLeaf(t *testing.T) {
	var digest, root [32]byte
	for i := range digest {
		digest[i], root[i] = byte(i), byte(255-i)
	}
	want, err := LeafHash([]string{"bytes32", "bytes32"}, digest, root)
	if err != nil {
		t.Fatal(err)
	}
	if got := ContributionLeaf(digest, root); got != want {
		t.Fatalf("ContributionLeaf = %s, LeafHash = %s", got, want)
	}
}
