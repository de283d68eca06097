package datanet

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Signer signs EIP-712 digests for one Ethereum account: a key in memory
// (NewKeySigner), a keystore account, a hardware wallet or a remote signer.
type Signer interface {
	// Address is the signing account.
	Address() common.Address
	// SignHash signs a 32-byte digest and returns a 65-byte signature
	// R||S||V with V in {27, 28} (0 and 1 and a high S are accepted and
	// normalized by SignDatanet and SignContribution).
	SignHash(hash [32]byte) ([]byte, error)
}

// NewKeySigner returns a Signer holding key.
func NewKeySigner(key *ecdsa.PrivateKey) Signer {
	s := &keySigner{key: key}
	if key != nil {
		s.addr = crypto.PubkeyToAddress(key.PublicKey)
	}
	return s
}

type keySigner struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

func (s *keySigner) Address() common.Address { return s.addr }

func (s *keySigner) SignHash(hash [32]byte) ([]byte, error) {
	if s.key == nil {
		return nil, errors.New("datanet: key signer has no key")
	}
	sig, err := crypto.Sign(hash[:], s.key)
	if err != nil {
		return nil, fmt.Errorf("datanet: sign: %w", err)
	}
	sig[64] += 27
	return sig, nil
}

// SignDatanet signs d with s. If d.Owner is the zero address it becomes
// s.Address(); otherwise it must be s.Address() (ErrWrongSigner). d must
// pass Validate. On success d.Signature holds the normalized signature; on
// failure d is unchanged.
func SignDatanet(d *Datanet, s Signer) error {
	if d == nil || s == nil {
		return errors.New("datanet: sign datanet: nil datanet or signer")
	}
	cp := *d
	if err := claimAuthor(&cp.Owner, s.Address()); err != nil {
		return err
	}
	sig, err := signObject(&cp, s)
	if err != nil {
		return err
	}
	cp.Signature = sig
	*d = cp
	return nil
}

// SignContribution signs c with s under chainID, the chain ID of c's
// Datanet, which it records in c.ChainID (ErrInvalid if c.ChainID is set to
// another). If c.Contributor is the zero address it becomes s.Address();
// otherwise it must be s.Address() (ErrWrongSigner). c must pass Validate.
// On success c.Signature holds the normalized signature; on failure c is
// unchanged.
func SignContribution(c *Contribution, chainID uint64, s Signer) error {
	return signInDatanet(c, chainID, s, func(c *Contribution) (*uint64, *common.Address, *[]byte) {
		return &c.ChainID, &c.Contributor, &c.Signature
	})
}

// signInDatanet signs a copy of obj, an object bound to its Datanet's chain
// ID, and stores the copy in obj on success. fields points at the copy's
// chain ID, author and signature.
func signInDatanet[T any, P interface {
	*T
	Object
}](obj P, chainID uint64, s Signer, fields func(P) (chain *uint64, author *common.Address, sig *[]byte)) error {
	if obj == nil || s == nil {
		return errors.New("datanet: sign: nil object or signer")
	}
	cp := P(new(T))
	*cp = *obj
	chain, author, sigField := fields(cp)
	if *chain != 0 && *chain != chainID {
		return fmt.Errorf("%w: %s: chain ID %d, signing under %d", ErrInvalid, cp.Kind(), *chain, chainID)
	}
	*chain = chainID
	if err := claimAuthor(author, s.Address()); err != nil {
		return err
	}
	sig, err := signObject(cp, s)
	if err != nil {
		return err
	}
	*sigField = sig
	*obj = *cp
	return nil
}

func claimAuthor(author *common.Address, signer common.Address) error {
	if *author == (common.Address{}) {
		*author = signer
		return nil
	}
	if *author != signer {
		return fmt.Errorf("%w: author %s, signer %s", ErrWrongSigner, *author, signer)
	}
	return nil
}

// signObject validates obj and returns s's signature of it, normalized and
// checked.
func signObject(obj Object, s Signer) ([]byte, error) {
	if err := obj.Validate(); err != nil {
		return nil, err
	}
	hash, err := SigningHash(obj)
	if err != nil {
		return nil, err
	}
	sig, err := s.SignHash(hash)
	if err != nil {
		return nil, fmt.Errorf("datanet: sign %s: %w", obj.Kind(), err)
	}
	if sig, err = NormalizeSignature(sig); err != nil {
		return nil, fmt.Errorf("datanet: sign %s: %w", obj.Kind(), err)
	}
	if err := verifyHash(hash, sig, obj.Signer()); err != nil {
		return nil, fmt.Errorf("datanet: sign %s: signer %s: %w", obj.Kind(), s.Address(), err)
	}
	return sig, nil
}

// Verify checks that d.Signature is the owner's EIP-712 signature of d.
func (d *Datanet) Verify() error { return verifyObject(d, d.Signature) }

// Verify checks that c.Signature is the contributor's EIP-712 signature of
// c under c.ChainID.
func (c *Contribution) Verify() error { return verifyObject(c, c.Signature) }

func verifyObject(obj Object, sig []byte) error {
	c, err := signatureCheck(obj, sig)
	if err != nil {
		return err
	}
	if err := verifyHash(c.hash, c.sig, c.want); err != nil {
		return fmt.Errorf("verify %s: %w", obj.Kind(), err)
	}
	return nil
}

// signatureCheck returns what checking sig as obj's signature takes.
func signatureCheck(obj Object, sig []byte) (sigCheck, error) {
	if len(sig) == 0 {
		return sigCheck{}, fmt.Errorf("verify %s: %w", obj.Kind(), ErrUnsigned)
	}
	hash, err := SigningHash(obj)
	if err != nil {
		return sigCheck{}, err
	}
	return sigCheck{hash: hash, sig: sig, want: obj.Signer()}, nil
}

// objectSignature returns the signature obj's Verify checks, for the kinds
// verifyObject verifies; ok is false for any other.
func objectSignature(obj Object) (sig []byte, ok bool) {
	switch o := obj.(type) {
	case *Vote:
		return o.Signature, true
	case *Contribution:
		return o.Signature, true
	case *Datanet:
		return o.Signature, true
	case *Snapshot:
		return o.Signature, true
	case *ModelRecord:
		return o.Signature, true
	case *AttributionRecord:
		return o.Signature, true
	case *RewardEpoch:
		return o.Signature, true
	}
	return nil, false
}

// verifyObjects verifies sigs[i] as objs[i]'s signature, as verifyObject
// does, and returns what it would return for each. The signatures are
// checked together (verifyHashes): give it hundreds at a time, mostly by
// few signers, from one goroutine each.
func (r *Registry) verifyObjects(objs []Object, sigs [][]byte) []error {
	errs := make([]error, len(objs))
	checks := make([]sigCheck, 0, len(objs))
	at := make([]int, 0, len(objs))
	for i, obj := range objs {
		c, err := signatureCheck(obj, sigs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		checks = append(checks, c)
		at = append(at, i)
	}
	res, _ := verifyHashes(checks, &r.signerKeys)
	for k, err := range res {
		if err != nil {
			errs[at[k]] = fmt.Errorf("verify %s: %w", objs[at[k]].Kind(), err)
		}
	}
	return errs
}

// secp256k1 group order and its half: an S above the half is the malleable
// twin of a valid signature.
func curveOrder() (n, halfN *big.Int) {
	n = crypto.S256().Params().N
	return n, new(big.Int).Rsh(n, 1)
}

// verifyHash checks that sig is a canonical signature (65 bytes, V in {27,
// 28}, low S) of hash by want.
func verifyHash(hash [32]byte, sig []byte, want common.Address) error {
	_, err := recoverSigner(hash, sig, want)
	return err
}

// checkSignatureForm checks what verifyHash asks of sig before any curve
// arithmetic: 65 bytes, V in {27, 28}, R and S in range, low S.
func checkSignatureForm(sig []byte) error {
	if len(sig) != SignatureLen {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadSignature, len(sig), SignatureLen)
	}
	v := sig[64]
	if v != 27 && v != 28 {
		return fmt.Errorf("%w: V is %d, want 27 or 28", ErrBadSignature, v)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if _, halfN := curveOrder(); s.Cmp(halfN) > 0 {
		return fmt.Errorf("%w: high S (malleable)", ErrBadSignature)
	}
	if !crypto.ValidateSignatureValues(v-27, r, s, true) {
		return fmt.Errorf("%w: R or S out of range", ErrBadSignature)
	}
	return nil
}

// recoverSigner does what verifyHash does and returns the public key it
// recovered (65 bytes, uncompressed), which is want's.
func recoverSigner(hash [32]byte, sig []byte, want common.Address) ([]byte, error) {
	if err := checkSignatureForm(sig); err != nil {
		return nil, err
	}
	return recoverFormed(hash, sig, want)
}

// recoverFormed is recoverSigner for a sig that passed checkSignatureForm.
func recoverFormed(hash [32]byte, sig []byte, want common.Address) ([]byte, error) {
	var rsv [SignatureLen]byte
	copy(rsv[:], sig)
	rsv[64] = sig[64] - 27
	pub, err := crypto.Ecrecover(hash[:], rsv[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	var got common.Address
	copy(got[:], crypto.Keccak256(pub[1:])[12:])
	if got != want {
		return nil, fmt.Errorf("%w: signed by %s, want %s", ErrBadSignature, got, want)
	}
	return pub, nil
}

// NormalizeSignature returns sig in the one form objects hold: V 0 or 1
// becomes 27 or 28, and a high S becomes N-S with V flipped (the same
// signer, the twin signature). Use it on signatures from wallets before
// storing them in an object. It fails with ErrBadSignature if sig is not 65
// bytes or V is not 0, 1, 27 or 28.
func NormalizeSignature(sig []byte) ([]byte, error) {
	if len(sig) != SignatureLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadSignature, len(sig), SignatureLen)
	}
	out := make([]byte, SignatureLen)
	copy(out, sig)
	switch out[64] {
	case 0, 1:
		out[64] += 27
	case 27, 28:
	default:
		return nil, fmt.Errorf("%w: V is %d", ErrBadSignature, out[64])
	}
	n, halfN := curveOrder()
	if s := new(big.Int).SetBytes(out[32:64]); s.Cmp(halfN) > 0 {
		s.Sub(n, s)
		s.FillBytes(out[32:64])
		out[64] = 27 + 28 - out[64]
	}
	return out, nil
}
