package rewards

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// The roles of a Payout.
const (
	RoleContributor = "contributor"
	RoleModelOwner  = "model_owner"
	RolePlatform    = "platform"
	RoleStaker      = "staker"
)

// Payout is an amount of wei owed to an address for one role in one
// inference (or, summed by the caller, in many).
type Payout struct {
	Address common.Address `cbor:"address" json:"address"`
	// Role is RoleContributor, RoleModelOwner, RoleStaker or RolePlatform.
	Role   string   `cbor:"role" json:"role"`
	Amount *big.Int `cbor:"amount" json:"amount"`
}

// Split returns who is paid what for an inference of tokensIn input and
// tokensOut output tokens of the model of modelOwner, whose output is
// attributed to contributors by weights (as Shares returns them: parts that
// sum to exactly Scale, one per address).
//
// The fee and its pools are Fee(p, tokensIn, tokensOut). F_platform goes to
// p.Platform, the model-owner pool to modelOwner and the staker pool to
// p.Stakers; a zero address means that part is not paid out. The
// contributor pool is divided by the weights with the largest-remainder
// method:
//
//	amount_i = floor(pool·parts_i / Scale)
//
// and the pool − Σ amount_i wei left over (fewer than len(weights)) go one
// each to the contributors with the largest remainders pool·parts_i mod
// Scale, ties to the lower address, so the contributor payouts sum to the
// pool exactly. A weight of zero parts is never paid. Only positive
// influence is paid: with no weights (the output is attributed to nobody)
// the contributor pool is not paid out at all.
//
// What is not paid out is in no payout: Σ Amount = Total minus the unpaid
// parts. Payouts of zero wei are left out. The payouts are sorted by Role
// (as strings: contributor, model_owner, platform, staker), then by
// Address, so Split is a pure function of its inputs (the order of weights
// does not matter). An address may appear once per role.
//
// Errors wrap ErrBadParams (p fails Validate) or ErrBadWeights (parts do not
// sum to Scale, an address appears twice, or a weight names the zero
// address).
func Split(p Params, tokensIn, tokensOut uint64, modelOwner common.Address, weights []Share) ([]Payout, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sorted, err := sortedWeights(weights)
	if err != nil {
		return nil, err
	}
	f := Fee(p, tokensIn, tokensOut)
	out := make([]Payout, 0, len(sorted)+3)
	if len(sorted) > 0 {
		for i, amt := range divide(f.Contributors, sorted) {
			if amt.Sign() > 0 {
				out = append(out, Payout{sorted[i].Address, RoleContributor, amt})
			}
		}
	}
	for _, x := range []Payout{
		{modelOwner, RoleModelOwner, f.ModelOwner},
		{p.Platform, RolePlatform, f.Platform},
		{p.Stakers, RoleStaker, f.Stakers},
	} {
		if x.Address != (common.Address{}) && x.Amount.Sign() > 0 {
			out = append(out, x)
		}
	}
	// Contributors are already sorted by address and the other roles come
	// after them in role order, so out is sorted.
	return out, nil
}

// sortedWeights checks weights and returns a copy sorted by address.
func sortedWeights(weights []Share) ([]Share, error) {
	if len(weights) == 0 {
		return nil, nil
	}
	sorted := slices.Clone(weights)
	slices.SortFunc(sorted, func(x, y Share) int { return bytes.Compare(x.Address[:], y.Address[:]) })
	var sum uint64
	for i, w := range sorted {
		if w.Address == (common.Address{}) {
			return nil, fmt.Errorf("%w: a weight of %d parts names the zero address", ErrBadWeights, w.Parts)
		}
		if i > 0 && sorted[i-1].Address == w.Address {
			return nil, fmt.Errorf("%w: %s has two weights", ErrBadWeights, w.Address)
		}
		if w.Parts > Scale-sum {
			return nil, fmt.Errorf("%w: parts sum to more than Scale (%d)", ErrBadWeights, Scale)
		}
		sum += w.Parts
	}
	if sum != Scale {
		return nil, fmt.Errorf("%w: parts sum to %d, want Scale (%d)", ErrBadWeights, sum, Scale)
	}
	return sorted, nil
}

// divide splits pool (≥ 0) by weights, whose parts sum to Scale and whose
// addresses are sorted and unique, by the largest-remainder method; the
// amounts are in the order of weights.
func divide(pool *big.Int, weights []Share) []*big.Int {
	amounts := make([]*big.Int, len(weights))
	// rems[i] = pool·parts_i mod Scale, which is below Scale, so a uint64.
	rems := make([]uint64, len(weights))
	scale := new(big.Int).SetUint64(Scale)
	left := new(big.Int).Set(pool)
	var prod, rem, parts big.Int
	for i, w := range weights {
		prod.Mul(pool, parts.SetUint64(w.Parts))
		amounts[i] = new(big.Int)
		amounts[i].QuoRem(&prod, scale, &rem)
		rems[i] = rem.Uint64()
		left.Sub(left, amounts[i])
	}
	// left = Σ rems / Scale < len(weights).
	n := int(left.Int64())
	if n == 0 {
		return amounts
	}
	// Weights are sorted by address, so a stable sort by remainder alone
	// breaks ties to the lower address.
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	one := big.NewInt(1)
	for _, i := range order[:n] {
		amounts[i].Add(amounts[i], one)
	}
	return amounts
}

// payoutJSON is the JSON form of Payout.
type payoutJSON struct {
	Address common.Address `json:"address"`
	Role    string         `json:"role"`
	Amount  *decimal       `json:"amount"`
}

// MarshalJSON encodes x with its amount as a decimal string of wei.
func (x Payout) MarshalJSON() ([]byte, error) {
	return json.Marshal(payoutJSON{x.Address, x.Role, (*decimal)(x.Amount)})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (x *Payout) UnmarshalJSON(data []byte) error {
	var j payoutJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode payout: %w", err)
	}
	*x = Payout{j.Address, j.Role, (*big.Int)(j.Amount)}
	return nil
}
