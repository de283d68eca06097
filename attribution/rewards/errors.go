package rewards

import "errors"

// Errors that callers branch on, checked with errors.Is. Returned errors wrap
// them with detail. ErrNoScore is declared beside Shares.
var (
	// ErrBadParams means split parameters are missing, negative, too large
	// for a uint256, or have pool shares that do not sum to 10000 bps.
	ErrBadParams = errors.New("rewards: invalid split parameters")

	// ErrBadWeights means the attribution weights of a split do not sum to
	// Scale, name an address twice, or name the zero address.
	ErrBadWeights = errors.New("rewards: invalid attribution weights")

	// ErrBadPayout means a payout has no amount, a negative amount or the
	// zero address, or a cumulative amount outgrows a uint256.
	ErrBadPayout = errors.New("rewards: invalid payout")

	// ErrBadEpoch means an epoch's balances are not sorted by unique
	// non-zero address with every amount in (0, 2^256), or do not hash to
	// its root, or its number is 0 or the last a uint64 holds.
	ErrBadEpoch = errors.New("rewards: invalid epoch")

	// ErrEmptyEpoch means an epoch would hold no balance at all, so it has
	// no Merkle root (and the RewardsDistributor refuses a zero root).
	ErrEmptyEpoch = errors.New("rewards: epoch has no balances")

	// ErrNoBalance means an address holds no balance in an epoch.
	ErrNoBalance = errors.New("rewards: no balance in epoch")
)
