package rewards_test

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// addr returns a fixed address named name, the same on every run.
func addr(name string) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("openledger rewards test " + name))[12:])
}

// hexAddr returns the address with the given hex digits.
func hexAddr(h string) common.Address {
	return common.HexToAddress(h)
}

// wei parses a decimal amount.
func wei(t testing.TB, s string) *big.Int {
	t.Helper()
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad amount %q", s)
	}
	return x
}

// newRand returns a generator seeded from the test's name, so a failure
// reproduces.
func newRand(t testing.TB) *rand.Rand {
	var seed uint64
	for _, c := range t.Name() {
		seed = seed*31 + uint64(c)
	}
	return rand.New(rand.NewPCG(seed, 0x5eed))
}

// randAddr returns a random non-zero address.
func randAddr(r *rand.Rand) common.Address {
	var a common.Address
	for a == (common.Address{}) {
		for i := range a {
			a[i] = byte(r.Uint32())
		}
	}
	return a
}

func sumBig(xs ...*big.Int) *big.Int {
	s := new(big.Int)
	for _, x := range xs {
		s.Add(s, x)
	}
	return s
}

// sameJSON reports whether a and b encode to the same JSON, which compares
// the values of big.Ints where reflect.DeepEqual compares their internals.
func sameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
