package datanet

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/secp256k1/fp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// signedChecks returns per signatures by each of keys, over distinct
// digests, in the form objects hold them (V 27 or 28, low S).
func signedChecks(t testing.TB, rng *mrand.Rand, keys []*ecdsa.PrivateKey, per int) []sigCheck {
	t.Helper()
	var out []sigCheck
	for _, k := range keys {
		for range per {
			var c sigCheck
			for j := range c.hash {
				c.hash[j] = byte(rng.Uint32())
			}
			sig, err := crypto.Sign(c.hash[:], k)
			if err != nil {
				t.Fatal(err)
			}
			if c.sig, err = NormalizeSignature(sig); err != nil {
				t.Fatal(err)
			}
			c.want = crypto.PubkeyToAddress(k.PublicKey)
			out = append(out, c)
		}
	}
	return out
}

func testKeys(t testing.TB, n int) []*ecdsa.PrivateKey {
	t.Helper()
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		var err error
		if keys[i], err = crypto.GenerateKey(); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// offCurveR returns an r in range that is the x-coordinate of no point.
func offCurveR(t testing.TB) []byte {
	t.Helper()
	for x := uint64(1); ; x++ {
		var fx, y2, y fp.Element
		fx.SetUint64(x)
		y2.Square(&fx).Mul(&y2, &fx).Add(&y2, &curveB)
		if y.Sqrt(&y2) == nil {
			return common.LeftPadBytes(new(big.Int).SetUint64(x).Bytes(), 32)
		}
	}
}

// corrupt returns c with one thing wrong, of kind k.
func corrupt(t testing.TB, c sigCheck, k int, other common.Address) (sigCheck, string) {
	t.Helper()
	c.sig = append([]byte(nil), c.sig...)
	n, _ := curveOrder()
	switch k {
	case 0:
		c.sig[64] = 27 + 28 - c.sig[64]
		return c, "V flipped"
	case 1:
		r := new(big.Int).SetBytes(c.sig[:32])
		r.Add(r, big.NewInt(1)).FillBytes(c.sig[:32])
		return c, "R+1"
	case 2:
		s := new(big.Int).SetBytes(c.sig[32:64])
		s.Sub(s, big.NewInt(1)).FillBytes(c.sig[32:64])
		return c, "S-1"
	case 3:
		c.hash[7] ^= 1
		return c, "other digest"
	case 4:
		c.want = other
		return c, "another signer's key"
	case 5:
		c.want = common.Address{0xde, 0xad}
		return c, "unknown signer"
	case 6:
		s := new(big.Int).SetBytes(c.sig[32:64])
		s.Sub(n, s).FillBytes(c.sig[32:64])
		c.sig[64] = 27 + 28 - c.sig[64]
		return c, "high S twin"
	case 7:
		c.sig[64] = 29
		return c, "V 29"
	case 8:
		c.sig = c.sig[:64]
		return c, "64 bytes"
	case 9:
		clear(c.sig[:32])
		return c, "R zero"
	case 10:
		clear(c.sig[32:64])
		return c, "S zero"
	case 11:
		n.FillBytes(c.sig[:32])
		return c, "R = N"
	case 12:
		copy(c.sig[:32], offCurveR(t))
		return c, "R off the curve"
	}
	t.Fatalf("no corruption %d", k)
	return c, ""
}

const corruptions = 13

// sameVerdicts fails t unless verifyHashes said of every check what
// verifyHash says, error text included.
func sameVerdicts(t *testing.T, checks []sigCheck, errs []error) {
	t.Helper()
	for i, c := range checks {
		want := verifyHash(c.hash, c.sig, c.want)
		if (want == nil) != (errs[i] == nil) || (want != nil && want.Error() != errs[i].Error()) {
			t.Errorf("check %d: batch says %v, recovery says %v", i, errs[i], want)
		}
	}
}

func TestVerifyHashesMatchesVerifyHash(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	curators := testKeys(t, 3)
	lone := testKeys(t, 2)
	valid := append(signedChecks(t, rng, curators, 40), signedChecks(t, rng, lone, 2)...)
	other := crypto.PubkeyToAddress(curators[1].PublicKey)
	keys := &signerKeys{}

	t.Run("all valid", func(t *testing.T) {
		errs, st := verifyHashes(valid, keys)
		sameVerdicts(t, valid, errs)
		// one recovery per curator to learn its key, one per lone signature
		if st.failed || st.batched != 3*39 || st.recovered != 3+4 {
			t.Errorf("stats %+v, want 117 batched, 7 recovered, equation holding", st)
		}
		errs, st = verifyHashes(valid, keys) // the keys are known now
		sameVerdicts(t, valid, errs)
		if st.failed || st.batched != 3*40 || st.recovered != 4 {
			t.Errorf("second call: stats %+v, want 120 batched, 4 recovered", st)
		}
	})
	for k := range corruptions {
		bad, name := corrupt(t, valid[5], k, other)
		t.Run("one bad: "+name, func(t *testing.T) {
			checks := append([]sigCheck(nil), valid...)
			checks[5] = bad
			errs, st := verifyHashes(checks, keys)
			sameVerdicts(t, checks, errs)
			if errs[5] == nil {
				t.Fatalf("%s accepted", name)
			}
			for i, err := range errs {
				if i != 5 && err != nil {
					t.Errorf("check %d refused: %v", i, err)
				}
			}
			// a bad signature that reaches the equation must make it fail
			if st.batched == 3*40 && !st.failed {
				t.Errorf("%s went into the batch and the equation held", name)
			}
		})
	}
	t.Run("many bad, random", func(t *testing.T) {
		for round := range 20 {
			checks := append([]sigCheck(nil), valid...)
			for range rng.IntN(4) {
				i := rng.IntN(len(checks))
				checks[i], _ = corrupt(t, checks[i], rng.IntN(corruptions), crypto.PubkeyToAddress(curators[rng.IntN(3)].PublicKey))
			}
			rng.Shuffle(len(checks), func(i, j int) { checks[i], checks[j] = checks[j], checks[i] })
			errs, _ := verifyHashes(checks, &signerKeys{})
			sameVerdicts(t, checks, errs)
			if t.Failed() {
				t.Fatalf("round %d", round)
			}
		}
	})
	t.Run("two bad that cancel with equal weights", func(t *testing.T) {
		// Digests shifted by +d·s1 and -d·s2 leave the sum of the two
		// unweighted equations at zero: only the random weights catch it.
		n, _ := curveOrder()
		shift := func(c sigCheck, sign int64) sigCheck {
			e := new(big.Int).SetBytes(c.hash[:])
			d := new(big.Int).Mul(big.NewInt(987654321*sign), new(big.Int).SetBytes(c.sig[32:64]))
			e.Add(e, d).Mod(e, n).FillBytes(c.hash[:])
			return c
		}
		checks := append([]sigCheck(nil), valid...)
		checks[1], checks[2] = shift(checks[1], 1), shift(checks[2], -1)
		errs, st := verifyHashes(checks, keys)
		sameVerdicts(t, checks, errs)
		if !st.failed || errs[1] == nil || errs[2] == nil {
			t.Errorf("cancelling pair: stats %+v, errors %v, %v", st, errs[1], errs[2])
		}
	})
	t.Run("digests above the group order, duplicates", func(t *testing.T) {
		k := curators[0]
		var checks []sigCheck
		for i := range 6 {
			var c sigCheck
			for j := range c.hash {
				c.hash[j] = 0xff
			}
			c.hash[31] = byte(i) // all above n: recovery takes them mod n
			sig, err := crypto.Sign(c.hash[:], k)
			if err != nil {
				t.Fatal(err)
			}
			c.sig, _ = NormalizeSignature(sig)
			c.want = crypto.PubkeyToAddress(k.PublicKey)
			checks = append(checks, c, c) // each twice
		}
		errs, st := verifyHashes(checks, keys)
		sameVerdicts(t, checks, errs)
		if st.failed || st.batched != len(checks) {
			t.Errorf("stats %+v, want all %d batched and the equation holding", st, len(checks))
		}
		// a signature beside its twin with V flipped (the same R negated)
		twin, _ := corrupt(t, checks[0], 0, other)
		checks = append(checks, twin)
		errs, st = verifyHashes(checks, keys)
		sameVerdicts(t, checks, errs)
		if !st.failed || errs[len(checks)-1] == nil {
			t.Errorf("V-flipped twin: stats %+v, error %v", st, errs[len(checks)-1])
		}
	})
	t.Run("concurrent, shared keys", func(t *testing.T) {
		shared := &signerKeys{}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				checks := append([]sigCheck(nil), valid...)
				checks[g], _ = corrupt(t, checks[g], g, other)
				errs, _ := verifyHashes(checks, shared)
				for i, err := range errs {
					if (err == nil) != (i != g) {
						t.Errorf("goroutine %d, check %d: %v", g, i, err)
					}
				}
			})
		}
		wg.Wait()
	})
	t.Run("keys are bounded", func(t *testing.T) {
		var ks signerKeys
		pub := crypto.FromECDSAPub(&curators[0].PublicKey)
		for i := range signerKeysMax + 10 {
			ks.put(common.BigToAddress(big.NewInt(int64(i))), pub)
		}
		if len(ks.keys) != signerKeysMax {
			t.Errorf("%d keys held, bound %d", len(ks.keys), signerKeysMax)
		}
	})
}

// TestVerifyHashesLarge checks a batch big enough for MultiExp's
// batch-affine buckets (above 4,096 points), good and with one bad.
func TestVerifyHashesLarge(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	ks := testKeys(t, 2)
	checks := signedChecks(t, rng, ks, 2500)
	keys := &signerKeys{}
	errs, st := verifyHashes(checks, keys)
	if st.failed || st.batched != len(checks)-2 {
		t.Fatalf("stats %+v, want %d batched and the equation holding", st, len(checks)-2)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	checks[4000], _ = corrupt(t, checks[4000], 0, common.Address{})
	errs, st = verifyHashes(checks, keys)
	if !st.failed || errs[4000] == nil {
		t.Fatalf("one bad in 5,000: stats %+v, error %v", st, errs[4000])
	}
	for i, err := range errs {
		if i != 4000 && err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
}

// FuzzVerifyHashes changes one byte of one of twelve signatures (or of its
// digest) and checks that the batch says what recovery says of each.
func FuzzVerifyHashes(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	valid := signedChecks(f, rng, testKeys(f, 2), 6)
	keys := &signerKeys{}
	f.Add(uint8(0), uint8(64), byte(28))
	f.Add(uint8(3), uint8(0), byte(0))
	f.Add(uint8(7), uint8(40), byte(0xff))
	f.Add(uint8(11), uint8(70), byte(1))
	f.Fuzz(func(t *testing.T, which, pos uint8, val byte) {
		checks := append([]sigCheck(nil), valid...)
		c := &checks[int(which)%len(checks)]
		if p := int(pos) % (SignatureLen + 32); p < SignatureLen {
			c.sig = append([]byte(nil), c.sig...)
			c.sig[p] = val
		} else {
			c.hash[p-SignatureLen] = val
		}
		errs, _ := verifyHashes(checks, keys)
		sameVerdicts(t, checks, errs)
	})
}

// BenchmarkVerifyHashes checks n signatures by a few signers on one
// goroutine: one recovery each, against the batch equation.
func BenchmarkVerifyHashes(b *testing.B) {
	rng := mrand.New(mrand.NewPCG(5, 6))
	for _, sz := range []struct{ n, signers int }{{64, 1}, {128, 1}, {256, 1}, {2048, 1}, {2048, 3}, {2048, 16}} {
		checks := signedChecks(b, rng, testKeys(b, sz.signers), sz.n/sz.signers)
		b.Run(fmt.Sprintf("n=%d/signers=%d/recover", sz.n, sz.signers), func(b *testing.B) {
			for b.Loop() {
				for _, c := range checks {
					if err := verifyHash(c.hash, c.sig, c.want); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(checks)), "ns/sig")
		})
		b.Run(fmt.Sprintf("n=%d/signers=%d/batch", sz.n, sz.signers), func(b *testing.B) {
			keys := &signerKeys{}
			b.ReportAllocs()
			for b.Loop() {
				errs, st := verifyHashes(checks, keys)
				if st.failed {
					b.Fatal("equation failed")
				}
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(checks)), "ns/sig")
		})
	}
}
