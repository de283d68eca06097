package proofs

import "errors"

// Errors that callers branch on, checked with errors.Is. Returned errors wrap
// them with context.
var (
	// ErrEmpty is returned when building a tree of no leaves, which has no root.
	ErrEmpty = errors.New("proofs: empty tree")

	// ErrIndex is returned for a leaf index outside the tree.
	ErrIndex = errors.New("proofs: leaf index out of range")

	// ErrDuplicateIndex is returned when a multiproof names a leaf twice.
	ErrDuplicateIndex = errors.New("proofs: duplicate leaf index")

	// ErrLeafEncoding is returned when leaf values do not fit their Solidity
	// ABI types, or a type is unknown or unsupported.
	ErrLeafEncoding = errors.New("proofs: invalid leaf encoding")

	// ErrInvalidMultiProof is returned for a multiproof whose leaves, proof
	// and flags do not fit together.
	ErrInvalidMultiProof = errors.New("proofs: invalid multiproof")

	// ErrInvalidDump is returned when a tree dump is malformed or its nodes
	// do not hash to the tree it claims.
	ErrInvalidDump = errors.New("proofs: invalid tree dump")
)
