package rewards

import (
	"encoding/json"
	"fmt"
	"math/big"
)

// FeeBreakdown is the fee of one inference and its split into pools, in wei.
// Net = Total − Platform and ModelOwner + Stakers + Contributors = Net,
// exactly.
type FeeBreakdown struct {
	// Total is what the inference costs: usage fee plus platform fee.
	Total *big.Int
	// Platform is F_platform, taken off the top.
	Platform *big.Int
	// Net is Total − Platform, the usage fee, which the pools divide.
	Net *big.Int
	// ModelOwner, Stakers and Contributors are the three pools.
	ModelOwner, Stakers, Contributors *big.Int
}

// Fee returns the fee of an inference of tokensIn input and tokensOut
// output tokens under p, and its pools:
//
//	Net          = floor((T_in·R_in + T_out·R_out) / 1000)
//	Total        = Net + F_platform
//	ModelOwner   = floor(Net·ModelOwnerBps / 10000)
//	Stakers      = floor(Net·StakerBps / 10000)
//	Contributors = Net − ModelOwner − Stakers
//
// The usage fee is rounded down once, on the sum (an inference of 1 input
// and 1 output token at R_in = R_out = 500 wei costs 1 wei, not 0); the
// contributor pool takes the wei the two other pools' roundings leave, so
// it gets up to 2 wei more than floor(Net·ContributorBps/10000).
//
// Fee does not check p: call Validate first (Split does). Nil amounts count
// as zero; with pool shares summing above 10000 bps the contributor pool
// would be negative.
func Fee(p Params, tokensIn, tokensOut uint64) FeeBreakdown {
	usage := new(big.Int).Mul(new(big.Int).SetUint64(tokensIn), orZero(p.RateIn))
	usage.Add(usage, new(big.Int).Mul(new(big.Int).SetUint64(tokensOut), orZero(p.RateOut)))
	net := usage.Quo(usage, big.NewInt(1000))
	platform := new(big.Int).Set(orZero(p.PlatformFee))
	owner := bpsOf(net, p.ModelOwnerBps)
	stakers := bpsOf(net, p.StakerBps)
	contributors := new(big.Int).Sub(net, owner)
	contributors.Sub(contributors, stakers)
	return FeeBreakdown{
		Total:        new(big.Int).Add(net, platform),
		Platform:     platform,
		Net:          net,
		ModelOwner:   owner,
		Stakers:      stakers,
		Contributors: contributors,
	}
}

var zero = new(big.Int)

// orZero returns x, or zero if x is nil; the result must not be modified.
func orZero(x *big.Int) *big.Int {
	if x == nil {
		return zero
	}
	return x
}

// bpsOf returns floor(x·bps/10000) for x ≥ 0.
func bpsOf(x *big.Int, bps uint32) *big.Int {
	y := new(big.Int).Mul(x, big.NewInt(int64(bps)))
	return y.Quo(y, big.NewInt(bpsWhole))
}

// feeJSON is the JSON form of FeeBreakdown.
type feeJSON struct {
	Total        *decimal `json:"total"`
	Platform     *decimal `json:"platform"`
	Net          *decimal `json:"net"`
	ModelOwner   *decimal `json:"model_owner"`
	Stakers      *decimal `json:"stakers"`
	Contributors *decimal `json:"contributors"`
}

// MarshalJSON encodes f with snake_case keys and amounts as decimal strings
// of wei.
func (f FeeBreakdown) MarshalJSON() ([]byte, error) {
	return json.Marshal(feeJSON{
		Total:        (*decimal)(f.Total),
		Platform:     (*decimal)(f.Platform),
		Net:          (*decimal)(f.Net),
		ModelOwner:   (*decimal)(f.ModelOwner),
		Stakers:      (*decimal)(f.Stakers),
		Contributors: (*decimal)(f.Contributors),
	})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (f *FeeBreakdown) UnmarshalJSON(data []byte) error {
	var j feeJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode fee breakdown: %w", err)
	}
	*f = FeeBreakdown{
		Total:        (*big.Int)(j.Total),
		Platform:     (*big.Int)(j.Platform),
		Net:          (*big.Int)(j.Net),
		ModelOwner:   (*big.Int)(j.ModelOwner),
		Stakers:      (*big.Int)(j.Stakers),
		Contributors: (*big.Int)(j.Contributors),
	}
	return nil
}
