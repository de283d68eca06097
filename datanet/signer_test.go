package datanet

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// funcSigner is a Signer whose signatures a test controls.
type funcSigner struct {
	addr common.Address
	sign func(hash [32]byte) ([]byte, error)
}

func (s funcSigner) Address() common.Address                { return s.addr }
func (s funcSigner) SignHash(hash [32]byte) ([]byte, error) { return s.sign(hash) }

// highS returns the malleable twin of a canonical signature: S' = N-S, V
// flipped. It recovers the same signer.
func highS(sig []byte) []byte {
	n, _ := curveOrder()
	out := bytes.Clone(sig)
	s := new(big.Int).SetBytes(out[32:64])
	s.Sub(n, s).FillBytes(out[32:64])
	switch out[64] {
	case 0, 1:
		out[64] ^= 1
	default:
		out[64] = 27 + 28 - out[64]
	}
	return out
}

func TestSignDatanet(t *testing.T) {
	owner := ownerSigner(t)
	t.Run("sets the owner", func(t *testing.T) {
		d := testDatanet(t)
		d.Owner = common.Address{}
		if err := SignDatanet(d, owner); err != nil {
			t.Fatal(err)
		}
		if d.Owner != owner.Address() {
			t.Fatalf("owner %s, want %s", d.Owner, owner.Address())
		}
		if err := d.Verify(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("re-signing gives the same signature", func(t *testing.T) {
		d := signedDatanet(t)
		first := d.Signature
		if err := SignDatanet(d, owner); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, d.Signature) {
			t.Fatal("signature changed (RFC 6979 signatures are deterministic)")
		}
	})
	t.Run("wrong signer", func(t *testing.T) {
		d := testDatanet(t)
		before := *d
		err := SignDatanet(d, contributorSigner(t))
		if !errors.Is(err, ErrWrongSigner) {
			t.Fatalf("SignDatanet = %v, want ErrWrongSigner", err)
		}
		if d.Signature != nil || d.Owner != before.Owner {
			t.Fatal("a failed SignDatanet changed the datanet")
		}
	})
	t.Run("invalid", func(t *testing.T) {
		d := testDatanet(t)
		d.Name, d.Owner = "", common.Address{}
		if err := SignDatanet(d, owner); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SignDatanet = %v, want ErrInvalid", err)
		}
		if d.Signature != nil || d.Owner != (common.Address{}) {
			t.Fatal("a failed SignDatanet changed the datanet")
		}
	})
	t.Run("nil", func(t *testing.T) {
		if err := SignDatanet(nil, owner); err == nil {
			t.Fatal("signed a nil datanet")
		}
		if err := SignDatanet(testDatanet(t), nil); err == nil {
			t.Fatal("signed with a nil signer")
		}
	})
}

func TestSignContribution(t *testing.T) {
	contributor := contributorSigner(t)
	t.Run("sets chain ID and contributor", func(t *testing.T) {
		c := testContribution(t)
		c.Contributor = common.Address{}
		if err := SignContribution(c, 161201, contributor); err != nil {
			t.Fatal(err)
		}
		if c.ChainID != 161201 || c.Contributor != contributor.Address() {
			t.Fatalf("chain ID %d, contributor %s", c.ChainID, c.Contributor)
		}
		if err := c.Verify(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("other chain ID", func(t *testing.T) {
		c := testContribution(t)
		c.ChainID = 161201
		if err := SignContribution(c, testChainID, contributor); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SignContribution = %v, want ErrInvalid", err)
		}
		if c.Signature != nil || c.ChainID != 161201 {
			t.Fatal("a failed SignContribution changed the contribution")
		}
	})
	t.Run("wrong signer", func(t *testing.T) {
		c := testContribution(t)
		if err := SignContribution(c, testChainID, ownerSigner(t)); !errors.Is(err, ErrWrongSigner) {
			t.Fatalf("SignContribution = %v, want ErrWrongSigner", err)
		}
		if c.Signature != nil || c.ChainID != 0 {
			t.Fatal("a failed SignContribution changed the contribution")
		}
	})
}

func TestSignNormalizesExternalSignatures(t *testing.T) {
	key := testKey(t, ownerKeyHex)
	want := signedDatanet(t).Signature
	tests := []struct {
		name string
		sign func(hash [32]byte) ([]byte, error)
	}{
		{"V 0 or 1", func(hash [32]byte) ([]byte, error) { return crypto.Sign(hash[:], key) }},
		{"high S", func(hash [32]byte) ([]byte, error) {
			sig, err := crypto.Sign(hash[:], key)
			sig[64] += 27
			return highS(sig), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDatanet(t)
			s := funcSigner{addr: crypto.PubkeyToAddress(key.PublicKey), sign: tt.sign}
			if err := SignDatanet(d, s); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.Signature, want) {
				t.Fatalf("signature %x, want %x", d.Signature, want)
			}
		})
	}
}

func TestSignRejectsBadSigners(t *testing.T) {
	other := testKey(t, contributorKeyHex)
	owner := ownerSigner(t).Address()
	tests := []struct {
		name string
		sign func(hash [32]byte) ([]byte, error)
	}{
		{"error", func([32]byte) ([]byte, error) { return nil, errors.New("user rejected the request") }},
		{"short", func([32]byte) ([]byte, error) { return make([]byte, 64), nil }},
		{"zero", func([32]byte) ([]byte, error) { return make([]byte, 65), nil }},
		{"another key", func(hash [32]byte) ([]byte, error) {
			sig, err := crypto.Sign(hash[:], other)
			sig[64] += 27
			return sig, err
		}},
		{"another hash", func(hash [32]byte) ([]byte, error) {
			return NewKeySigner(testKey(t, ownerKeyHex)).SignHash([32]byte{1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDatanet(t)
			if err := SignDatanet(d, funcSigner{addr: owner, sign: tt.sign}); err == nil {
				t.Fatal("SignDatanet accepted a bad signature")
			}
			if d.Signature != nil {
				t.Fatal("a failed SignDatanet set a signature")
			}
		})
	}
}

func TestKeySignerWithoutKey(t *testing.T) {
	s := NewKeySigner(nil)
	if s.Address() != (common.Address{}) {
		t.Errorf("address %s, want zero", s.Address())
	}
	if _, err := s.SignHash([32]byte{}); err == nil {
		t.Error("signed without a key")
	}
}

func TestVerifyRejects(t *testing.T) {
	signed := signedDatanet(t).Signature
	tests := []struct {
		name string
		sig  []byte
		want error
	}{
		{"unsigned", nil, ErrUnsigned},
		{"short", signed[:64], ErrBadSignature},
		{"long", append(bytes.Clone(signed), 0), ErrBadSignature},
		{"V 0 or 1", append(bytes.Clone(signed[:64]), signed[64]-27), ErrBadSignature},
		{"V 29", append(bytes.Clone(signed[:64]), 29), ErrBadSignature},
		{"high S", highS(signed), ErrBadSignature},
		{"zero R", append(make([]byte, 32), signed[32:]...), ErrBadSignature},
		{"R = N", append(crypto.S256().Params().N.FillBytes(make([]byte, 32)), signed[32:]...), ErrBadSignature},
		{"zero S", append(append(bytes.Clone(signed[:32]), make([]byte, 32)...), signed[64]), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := signedDatanet(t)
			d.Signature = tt.sig
			err := d.Verify()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestNormalizeSignature(t *testing.T) {
	canonical := signedDatanet(t).Signature
	tests := []struct {
		name string
		sig  []byte
		ok   bool
	}{
		{"canonical", canonical, true},
		{"V 0 or 1", append(bytes.Clone(canonical[:64]), canonical[64]-27), true},
		{"high S", highS(canonical), true},
		{"high S with V 0 or 1", func() []byte { s := highS(canonical); s[64] -= 27; return s }(), true},
		{"V 2", append(bytes.Clone(canonical[:64]), 2), false},
		{"V 29", append(bytes.Clone(canonical[:64]), 29), false},
		{"short", canonical[:64], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := bytes.Clone(tt.sig)
			got, err := NormalizeSignature(tt.sig)
			if !bytes.Equal(tt.sig, before) {
				t.Fatal("NormalizeSignature changed its argument")
			}
			if !tt.ok {
				if !errors.Is(err, ErrBadSignature) {
					t.Fatalf("NormalizeSignature = %x, %v; want ErrBadSignature", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, canonical) {
				t.Fatalf("NormalizeSignature = %x, %v; want %x", got, err, canonical)
			}
		})
	}
}

func BenchmarkVerifyDatanet(b *testing.B) {
	d := signedDatanet(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Verify(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

func BenchmarkVerifyContribution(b *testing.B) {
	for _, n := range []int{1, 1024, 65536} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			c := bigContribution(b, n)
			data, err := c.Encode()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Verify(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
		})
	}
}
