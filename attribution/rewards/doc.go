// Package rewards owns the arithmetic of paying for attributed inferences:
// the shares of a split, the fee of an inference, its split into the
// model-owner, staker and contributor pools, and reward epochs (cumulative
// amounts per address in a Merkle tree whose root the RewardsDistributor
// contract pays claims against).
//
// It is pure: no I/O, no clock, no goroutines. Amounts are integers in the
// token's smallest unit (wei) and every rounding is written down, so every
// node computes the same bytes.
//
// # Shares
//
// Shares turns unnormalised scores (such as the summed span weights of each
// contributor of an output) into parts of Scale = 10^18 by the
// largest-remainder method: part_i = floor(Scale·score_i/Σscore), and the
// Scale − Σ part_i parts left over go one each to the largest remainders
// Scale·score_i mod Σscore, ties to the lower address. The parts sum to
// Scale exactly.
//
// # Fee
//
// Params are published: R_in and R_out in wei per 1000 input and output
// tokens, F_platform in wei per inference, and the pool shares in basis
// points (owner + stakers + contributors = 10000). For an inference of T_in
// input and T_out output tokens, Fee computes
//
//	Net          = floor((T_in·R_in + T_out·R_out) / 1000)
//	Total        = Net + F_platform
//	ModelOwner   = floor(Net·ModelOwnerBps / 10000)
//	Stakers      = floor(Net·StakerBps / 10000)
//	Contributors = Net − ModelOwner − Stakers
//
// Rounding: the usage fee is rounded down once, on the sum of its two terms;
// the owner and staker pools are rounded down, and the contributor pool
// takes what they leave (0 to 2 wei more than its own floor), so the pools
// sum to Net and Net + F_platform = Total, exactly.
//
// # Split
//
// Split turns one inference into payouts: F_platform to Params.Platform, the
// owner pool to the model owner, the staker pool to Params.Stakers, and the
// contributor pool to the contributors by their attribution weights (Shares
// that sum to Scale):
//
//	amount_i = floor(pool·parts_i / Scale)
//
// and the pool − Σ amount_i wei left over (fewer than the number of
// contributors) go one each to the largest remainders pool·parts_i mod
// Scale, ties to the lower address, so the contributor payouts sum to the
// pool exactly; a weight of zero parts is never paid.
//
// What is not paid out: a part whose address is zero (Platform, Stakers or
// the model owner), and the whole contributor pool when the output is
// attributed to nobody (no weights): only positive influence is paid. Such
// parts are in no payout, so Σ payouts = Total − the unpaid parts; where
// that wei stays (with whoever collected the fee) is not this package's
// business. Payouts of zero wei are left out. Payouts are sorted by role,
// then by address.
//
// # Epochs
//
// An Epoch holds, for every address ever paid, its cumulative balance: the
// sum of all its payouts in all epochs so far. NextEpoch adds one epoch's
// payouts to the previous epoch's balances (addresses carry over even with
// nothing new). The root is that of OpenZeppelin's StandardMerkleTree over
// the leaves ["address", "uint256"] (address, cumulative), leaves sorted,
// built with package proofs: the leaf is proofs.ClaimLeaf, the one
// RewardsDistributor.claim hashes. Claiming pays the difference between the
// cumulative balance and what the address already claimed, so a claim is
// never paid twice and an address that skips epochs loses nothing. The root
// depends only on the balances, not on the order of the payouts, so any node
// holding the same payouts recomputes the same root.
//
// # Encoding
//
// Params, FeeBreakdown, Payout, Balance and Epoch encode to JSON with
// snake_case keys, amounts as decimal strings of wei (never JSON numbers,
// which most readers round above 2^53) and the root as 0x-hex; decoding an
// Epoch checks that its balances hash to its root. testdata/epochs.json is
// the golden form.
//
// Share, Payout, Params and Balance are also parts of signed objects of
// package datanet (an attribution record's weights, payouts and reward
// parameters, a reward epoch's balances), which encodes them as its
// codec does every field: their cbor and json tags name their keys there,
// and datanet's JSON view, not the form above, is theirs inside those
// objects (EIP-55 addresses, a missing amount as "0").
//
// # What it does not do
//
// It does not compute attribution weights (the attribution index does),
// collect fees, store epochs, or post roots and send claims on chain (the
// bindings are in proofs/contracts).
package rewards
