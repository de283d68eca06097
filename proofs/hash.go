package proofs

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
)

// Hash is a keccak256 digest: a leaf, an internal node or a root of a Merkle
// tree. Any [32]byte converts to it and back.
type Hash [32]byte

// String returns h as 0x-prefixed lower-case hex, as the JS library and
// Solidity tooling print a bytes32.
func (h Hash) String() string {
	return "0x" + hex.EncodeToString(h[:])
}

// MarshalText encodes h as String does, so JSON carries hashes as hex strings.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, 2+2*len(h))
	copy(out, "0x")
	hex.Encode(out[2:], h[:])
	return out, nil
}

// UnmarshalText decodes 64 hex digits, with or without a 0x prefix.
func (h *Hash) UnmarshalText(text []byte) error {
	parsed, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = parsed
	return nil
}

// ParseHash decodes 64 hex digits, with or without a 0x prefix.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := decodeHex(s)
	if err != nil {
		return h, fmt.Errorf("parse hash %q: %w", s, err)
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("parse hash %q: %d bytes, want %d", s, len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// decodeHex decodes hex digits with an optional 0x or 0X prefix.
func decodeHex(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	return hex.DecodeString(s)
}

// hasher computes keccak256 of leaves and node pairs, reusing one Keccak
// state. It is not safe for concurrent use.
type hasher struct {
	st  crypto.KeccakState
	buf [96]byte
}

func newHasher() *hasher {
	return &hasher{st: crypto.NewKeccakState()}
}

// node is OpenZeppelin's commutative node hash: keccak256 of a and b
// concatenated, the smaller (as a big-endian number) first.
func (h *hasher) node(a, b *Hash) Hash {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	copy(h.buf[:32], a[:])
	copy(h.buf[32:64], b[:])
	return h.sum(h.buf[:64])
}

// leaf is OpenZeppelin's standard leaf hash of an ABI encoding:
// keccak256(bytes.concat(keccak256(encoded))).
func (h *hasher) leaf(encoded []byte) Hash {
	inner := h.sum(encoded)
	copy(h.buf[:32], inner[:])
	return h.sum(h.buf[:32])
}

func (h *hasher) sum(data []byte) Hash {
	var out Hash
	h.st.Reset()
	h.st.Write(data)
	h.st.Read(h.buf[64:96])
	copy(out[:], h.buf[64:96])
	return out
}
