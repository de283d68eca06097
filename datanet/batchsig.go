package datanet

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	mrand "math/rand/v2"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/secp256k1"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fp"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fr"
	"github.com/ethereum/go-ethereum/common"
)

// Checking many signatures at once.
//
// An object's signature is checked by recovering its signer's public key
// (verifyHash), about 45 µs on one core. Most signatures a node checks in
// bulk are by a few signers (a Datanet's curators sign every vote), and
// for a signer whose key Q is known there is a cheaper check of the same
// statement: for a signature (r, s, v) of digest e, with R the curve point
// of x-coordinate r and y-parity v, recovery yields
//
//	r⁻¹·(s·R − e·G)
//
// and this is Q exactly when R = u1·G + u2·Q with u1 = e/s and u2 = r/s.
// For signatures i = 1..k by signers j(i), taking random 128-bit a_i,
//
//	Σ a_i·R_i = (Σ a_i·u1_i)·G + Σ_j (Σ_{i: j(i)=j} a_i·u2_i)·Q_j
//
// holds when every signature is its signer's, and, when one is not, holds
// with probability at most 2⁻¹²⁷: the group has prime order, so for the
// other a fixed at most one value of a_i mod n makes the sum vanish, and
// the a_i are drawn after the signatures are fixed, from a generator
// seeded by crypto/rand. The left side is one multi-scalar multiplication
// (Pippenger's buckets, gnark-crypto's MultiExp, about 7 µs a point), the
// right one scalar multiplication per signer; decompressing R_i is a field
// square root (7 µs). That is about 15 µs a signature instead of 45, and
// the check is the same as recovery's, recovery byte included: R_i is
// rebuilt from r and v, so a signature with its V flipped fails as it
// fails recovery. When the equation does not hold, every signature of the
// batch is recovered on its own to find which fail and why: a batch
// holding a bad signature costs the batch and the recoveries, about 1.3
// times what recovery alone costs (one bad signature is enough to make a
// peer's snapshot cost that; bisecting would cut it, at more code).
//
// A signer's key is learned by recovering one of its signatures (keccak
// of the key is its address; nothing else fills signerKeys).

// sigCheck is one signature to check: sig, over hash, by want.
type sigCheck struct {
	hash [32]byte
	sig  []byte
	want common.Address
}

// batchMinPerSigner is how many signatures of one signer a batch must
// hold for them to be checked together: each signer in the equation costs
// a scalar multiplication (about 1.6 recoveries).
const batchMinPerSigner = 4

// signerKeysMax bounds signerKeys (about 150 bytes an entry). Many
// signers with batchMinPerSigner signatures each can push curators' keys
// out; each costs one recovery to learn again.
const signerKeysMax = 4096

// signerKeys remembers the public keys of signers whose signatures were
// recovered lately. Safe for concurrent use.
type signerKeys struct {
	mu   sync.RWMutex
	keys map[common.Address]secp256k1.G1Affine // guarded by mu
}

func (k *signerKeys) get(a common.Address) (secp256k1.G1Affine, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	q, ok := k.keys[a]
	return q, ok
}

// put remembers pub, an uncompressed public key (65 bytes) recovered from
// a signature by a, and returns it as a point.
func (k *signerKeys) put(a common.Address, pub []byte) (secp256k1.G1Affine, bool) {
	var q secp256k1.G1Affine
	if len(pub) != 65 || q.X.SetBytesCanonical(pub[1:33]) != nil || q.Y.SetBytesCanonical(pub[33:65]) != nil || !q.IsOnCurve() {
		return q, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[common.Address]secp256k1.G1Affine{}
	}
	if len(k.keys) >= signerKeysMax {
		for old := range k.keys { // forget one at random: map order
			delete(k.keys, old)
			break
		}
	}
	k.keys[a] = q
	return q, true
}

// batchStats says how verifyHashes checked its signatures.
type batchStats struct {
	batched   int  // signatures that went into the batch equation
	failed    bool // the equation did not hold (the batch was recovered one by one)
	recovered int  // signatures recovered one by one
}

// verifyHashes checks every signature of checks as verifyHash does and
// returns, for each, what verifyHash returns: nil, or the same error.
// Signatures of a signer with at least batchMinPerSigner of them are
// checked together (see above); keys remembers signers' keys between
// calls. Callers run it on one goroutine per batch; gnark's MultiExp
// spreads its windows over goroutines of its own.
func verifyHashes(checks []sigCheck, keys *signerKeys) ([]error, batchStats) {
	errs := make([]error, len(checks))
	var st batchStats
	one := func(i int) ([]byte, error) { // for checks whose form passed
		st.recovered++
		return recoverFormed(checks[i].hash, checks[i].sig, checks[i].want)
	}
	bySigner := map[common.Address][]int{}
	var order []common.Address
	for i := range checks {
		if errs[i] = checkSignatureForm(checks[i].sig); errs[i] != nil {
			continue
		}
		w := checks[i].want
		if _, ok := bySigner[w]; !ok {
			order = append(order, w)
		}
		bySigner[w] = append(bySigner[w], i)
	}
	var b sigBatch
	for _, w := range order {
		idx := bySigner[w]
		if len(idx) < batchMinPerSigner {
			for _, i := range idx {
				_, errs[i] = one(i)
			}
			continue
		}
		q, ok := keys.get(w)
		for !ok && len(idx) > 0 { // learn the key from the first signature that is w's
			i := idx[0]
			idx = idx[1:]
			var pub []byte
			if pub, errs[i] = one(i); errs[i] == nil {
				q, ok = keys.put(w, pub)
			}
		}
		if !ok {
			for _, i := range idx {
				_, errs[i] = one(i)
			}
			continue
		}
		signer := len(b.keys)
		b.keys = append(b.keys, q)
		for _, i := range idx {
			if !b.add(i, signer, &checks[i]) {
				_, errs[i] = one(i) // R is not on the curve: recovery says so
			}
		}
	}
	st.batched = len(b.items)
	if len(b.items) == 0 || b.holds() {
		return errs, st
	}
	st.failed = true
	for _, it := range b.items {
		_, errs[it.i] = one(it.i)
	}
	return errs, st
}

// sigBatch is the right-hand and left-hand sides of the batch equation,
// gathered a signature at a time.
type sigBatch struct {
	keys   []secp256k1.G1Affine // Q_j
	items  []batchItem
	points []secp256k1.G1Affine // R_i
}

type batchItem struct {
	i       int // index in checks
	signer  int // index in keys
	e, r, s fr.Element
}

// curveB is b of secp256k1's y² = x³ + b.
var curveB = fp.NewElement(7)

// add puts the signature of c, by keys[signer], in the batch. It returns
// false when its r is not the x-coordinate of a point of the curve.
func (b *sigBatch) add(i, signer int, c *sigCheck) bool {
	var R secp256k1.G1Affine
	// r < n < p (checkSignatureForm), so r is a field element as it is.
	if R.X.SetBytesCanonical(c.sig[:32]) != nil {
		return false
	}
	var y2 fp.Element
	y2.Square(&R.X).Mul(&y2, &R.X).Add(&y2, &curveB)
	if R.Y.Sqrt(&y2) == nil {
		return false
	}
	if odd := c.sig[64] == 28; (R.Y.Bits()[0]&1 == 1) != odd {
		R.Y.Neg(&R.Y)
	}
	it := batchItem{i: i, signer: signer}
	it.e.SetBytes(c.hash[:]) // the digest mod n, as recovery takes it
	if it.r.SetBytesCanonical(c.sig[:32]) != nil || it.s.SetBytesCanonical(c.sig[32:64]) != nil {
		return false // cannot happen after checkSignatureForm
	}
	b.items = append(b.items, it)
	b.points = append(b.points, R)
	return true
}

// holds reports whether the batch equation holds for random weights.
func (b *sigBatch) holds() bool {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return false // no randomness, no batch: every signature is recovered
	}
	rng := mrand.NewChaCha8(seed)
	ss := make([]fr.Element, len(b.items))
	for k := range b.items {
		ss[k] = b.items[k].s
	}
	inv := fr.BatchInvert(ss) // s ≠ 0 (checkSignatureForm)
	weights := make([]fr.Element, len(b.items))
	var u1 fr.Element
	u2 := make([]fr.Element, len(b.keys))
	var buf [fr.Bytes]byte
	for k := range b.items {
		it := &b.items[k]
		// a in [2^127, 2^128): never zero, 127 random bits
		binary.BigEndian.PutUint64(buf[16:24], rng.Uint64()|1<<63)
		binary.BigEndian.PutUint64(buf[24:32], rng.Uint64())
		weights[k].SetBytes(buf[:])
		var t, x fr.Element
		t.Mul(&weights[k], &inv[k]) // a/s
		x.Mul(&t, &it.e)
		u1.Add(&u1, &x)
		x.Mul(&t, &it.r)
		u2[it.signer].Add(&u2[it.signer], &x)
	}
	var lhs secp256k1.G1Jac
	if _, err := lhs.MultiExp(b.points, weights, ecc.MultiExpConfig{NbTasks: 1}); err != nil {
		return false
	}
	var rhs, term secp256k1.G1Jac
	var s1, s2 big.Int
	rhs.JointScalarMultiplicationBase(&b.keys[0], u1.BigInt(&s1), u2[0].BigInt(&s2))
	for j := 1; j < len(b.keys); j++ {
		var q secp256k1.G1Jac
		q.FromAffine(&b.keys[j])
		term.ScalarMultiplication(&q, u2[j].BigInt(&s2))
		rhs.AddAssign(&term)
	}
	return lhs.Equal(&rhs)
}
