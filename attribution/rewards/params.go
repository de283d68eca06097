package rewards

import (
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// bpsWhole is one whole in basis points: the pool shares of Params sum to it.
const bpsWhole = 10_000

// Params are the published parameters of the fee of an inference and of its
// split into pools. They are a Datanet's or a node's configuration, never
// hidden: every node that splits the same inferences with the same Params
// computes the same payouts.
type Params struct {
	// RateIn is R_in, the fee in wei per 1000 input (prompt) tokens.
	RateIn *big.Int `cbor:"rate_in" json:"rate_in"`
	// RateOut is R_out, the fee in wei per 1000 output (generated) tokens.
	RateOut *big.Int `cbor:"rate_out" json:"rate_out"`
	// PlatformFee is F_platform, the fee in wei per inference that goes to
	// Platform before the rest is split into pools.
	PlatformFee *big.Int `cbor:"platform_fee" json:"platform_fee"`
	// ModelOwnerBps, StakerBps and ContributorBps are the shares, in basis
	// points, of the net fee that go to the model owner, to the stakers and
	// to the contributors the output is attributed to. They sum to exactly
	// 10000.
	ModelOwnerBps  uint32 `cbor:"model_owner_bps" json:"model_owner_bps"`
	StakerBps      uint32 `cbor:"staker_bps" json:"staker_bps"`
	ContributorBps uint32 `cbor:"contributor_bps" json:"contributor_bps"`
	// Platform receives F_platform; the zero address means it is not paid
	// out.
	Platform common.Address `cbor:"platform" json:"platform"`
	// Stakers receives the staker pool (a staking contract, say, which
	// divides it among its stakers); the zero address means it is not paid
	// out.
	Stakers common.Address `cbor:"stakers" json:"stakers"`
}

// DefaultParams returns our defaults, which are not OpenLedger's published
// numbers (it has published the formula, not the rates):
//
//   - R_in = 0.002 OPEN (2·10^15 wei) per 1000 input tokens;
//   - R_out = 0.006 OPEN (6·10^15 wei) per 1000 output tokens;
//   - F_platform = 0.001 OPEN (10^15 wei) per inference;
//   - pools of 30% (3000 bps) to the model owner, 10% (1000 bps) to the
//     stakers and 60% (6000 bps) to the contributors;
//   - no Platform or Stakers address, so until they are set the platform
//     fee and the staker pool are not paid out.
func DefaultParams() Params {
	return Params{
		RateIn:         big.NewInt(2_000_000_000_000_000),
		RateOut:        big.NewInt(6_000_000_000_000_000),
		PlatformFee:    big.NewInt(1_000_000_000_000_000),
		ModelOwnerBps:  3000,
		StakerBps:      1000,
		ContributorBps: 6000,
	}
}

// Validate reports whether p can be used: every amount is set and in
// [0, 2^256), and the pool shares sum to exactly 10000 bps. Its errors wrap
// ErrBadParams.
func (p Params) Validate() error {
	for _, a := range []struct {
		name string
		v    *big.Int
	}{
		{"rate_in", p.RateIn},
		{"rate_out", p.RateOut},
		{"platform_fee", p.PlatformFee},
	} {
		switch {
		case a.v == nil:
			return fmt.Errorf("%w: %s is not set", ErrBadParams, a.name)
		case a.v.Sign() < 0:
			return fmt.Errorf("%w: %s is negative (%s)", ErrBadParams, a.name, a.v)
		case a.v.BitLen() > 256:
			return fmt.Errorf("%w: %s does not fit a uint256", ErrBadParams, a.name)
		}
	}
	if sum := uint64(p.ModelOwnerBps) + uint64(p.StakerBps) + uint64(p.ContributorBps); sum != bpsWhole {
		return fmt.Errorf("%w: pool shares %d+%d+%d sum to %d bps, want %d",
			ErrBadParams, p.ModelOwnerBps, p.StakerBps, p.ContributorBps, sum, bpsWhole)
	}
	return nil
}

// paramsJSON is the JSON form of Params.
type paramsJSON struct {
	RateIn         *decimal       `json:"rate_in"`
	RateOut        *decimal       `json:"rate_out"`
	PlatformFee    *decimal       `json:"platform_fee"`
	ModelOwnerBps  uint32         `json:"model_owner_bps"`
	StakerBps      uint32         `json:"staker_bps"`
	ContributorBps uint32         `json:"contributor_bps"`
	Platform       common.Address `json:"platform"`
	Stakers        common.Address `json:"stakers"`
}

// MarshalJSON encodes p as an object with snake_case keys, the amounts as
// decimal strings of wei (JSON numbers lose precision above 2^53 in most
// readers) and the addresses as 0x-hex strings.
func (p Params) MarshalJSON() ([]byte, error) {
	return json.Marshal(paramsJSON{
		RateIn:         (*decimal)(p.RateIn),
		RateOut:        (*decimal)(p.RateOut),
		PlatformFee:    (*decimal)(p.PlatformFee),
		ModelOwnerBps:  p.ModelOwnerBps,
		StakerBps:      p.StakerBps,
		ContributorBps: p.ContributorBps,
		Platform:       p.Platform,
		Stakers:        p.Stakers,
	})
}

// UnmarshalJSON decodes the form MarshalJSON writes. As encoding/json does
// for structs, keys absent from data leave their field as it was, so data
// may override some fields of DefaultParams. Amounts must be decimal strings
// of digits. It does not Validate the result.
func (p *Params) UnmarshalJSON(data []byte) error {
	j := paramsJSON{
		RateIn:         copyDecimal(p.RateIn),
		RateOut:        copyDecimal(p.RateOut),
		PlatformFee:    copyDecimal(p.PlatformFee),
		ModelOwnerBps:  p.ModelOwnerBps,
		StakerBps:      p.StakerBps,
		ContributorBps: p.ContributorBps,
		Platform:       p.Platform,
		Stakers:        p.Stakers,
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode rewards params: %w", err)
	}
	*p = Params{
		RateIn:         (*big.Int)(j.RateIn),
		RateOut:        (*big.Int)(j.RateOut),
		PlatformFee:    (*big.Int)(j.PlatformFee),
		ModelOwnerBps:  j.ModelOwnerBps,
		StakerBps:      j.StakerBps,
		ContributorBps: j.ContributorBps,
		Platform:       j.Platform,
		Stakers:        j.Stakers,
	}
	return nil
}

// decimal is a big.Int that JSON carries as a string of decimal digits.
type decimal big.Int

// copyDecimal returns a copy of x as a *decimal, so that decoding into it
// cannot change x; nil stays nil.
func copyDecimal(x *big.Int) *decimal {
	if x == nil {
		return nil
	}
	return (*decimal)(new(big.Int).Set(x))
}

// MarshalText writes d in decimal.
func (d *decimal) MarshalText() ([]byte, error) {
	return (*big.Int)(d).Append(nil, 10), nil
}

// UnmarshalText reads a non-empty string of decimal digits below 2^256: no
// sign, no 0x, no underscores, no exponent.
func (d *decimal) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		return fmt.Errorf("empty amount")
	}
	for _, c := range text {
		if c < '0' || c > '9' {
			return fmt.Errorf("amount %q is not a string of decimal digits", text)
		}
	}
	x, ok := new(big.Int).SetString(string(text), 10)
	if !ok {
		return fmt.Errorf("amount %q is not a decimal integer", text)
	}
	if x.BitLen() > 256 {
		return fmt.Errorf("amount %q does not fit a uint256", text)
	}
	(*big.Int)(d).Set(x)
	return nil
}
