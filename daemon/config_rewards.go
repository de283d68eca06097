package daemon

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/attribution"
	"github.com/openledger/openledger/attribution/rewards"
)

// AttributionConfig configures the span index and the attribution query.
type AttributionConfig struct {
	// AutoIndex builds the span index of every snapshot of a joined Datanet
	// that arrives from the network.
	AutoIndex bool `toml:"auto_index" json:"auto_index" comment:"index each snapshot of a joined Datanet when it arrives (fetching its files)"`
	// MinSpanBytes, MaxSpanCount and MaxOutputBytes are attribution.Params.
	MinSpanBytes   uint32 `toml:"min_span_bytes" json:"min_span_bytes" comment:"shortest span credited, in bytes of normalised text"`
	MaxSpanCount   uint32 `toml:"max_span_count" json:"max_span_count" comment:"spans found more often than this in the model's data are too common to credit"`
	MaxOutputBytes uint32 `toml:"max_output_bytes" json:"max_output_bytes" comment:"largest output attributed, in bytes (bounds the work of one query)"`
}

func defaultAttributionConfig() AttributionConfig {
	p := attribution.DefaultParams()
	return AttributionConfig{AutoIndex: true, MinSpanBytes: p.MinSpanBytes, MaxSpanCount: p.MaxSpanCount, MaxOutputBytes: p.MaxOutputBytes}
}

func (c AttributionConfig) params() attribution.Params {
	return attribution.Params{MinSpanBytes: c.MinSpanBytes, MaxSpanCount: c.MaxSpanCount, MaxOutputBytes: c.MaxOutputBytes}
}

// RewardsConfig holds the fee and split parameters (rewards.Params) this
// node puts in its attribution records. Amounts are decimal wei.
type RewardsConfig struct {
	RateIn         string `toml:"rate_in" json:"rate_in" comment:"wei of OPEN per 1000 input tokens (R_in)"`
	RateOut        string `toml:"rate_out" json:"rate_out" comment:"wei of OPEN per 1000 output tokens (R_out)"`
	PlatformFee    string `toml:"platform_fee" json:"platform_fee" comment:"wei of OPEN per inference kept by the platform (F_platform)"`
	ModelOwnerBps  uint32 `toml:"model_owner_bps" json:"model_owner_bps" comment:"share of the net fee paid to the model's owner, in basis points"`
	StakerBps      uint32 `toml:"staker_bps" json:"staker_bps" comment:"share of the net fee paid to the stakers' address, in basis points"`
	ContributorBps uint32 `toml:"contributor_bps" json:"contributor_bps" comment:"share of the net fee split among the attributed contributors, in basis points (the three sum to 10000)"`
	Platform       string `toml:"platform" json:"platform" comment:"address paid the platform fee (empty: not paid out)"`
	Stakers        string `toml:"stakers" json:"stakers" comment:"address paid the staker pool (empty: not paid out)"`
}

func defaultRewardsConfig() RewardsConfig {
	p := rewards.DefaultParams()
	c := RewardsConfig{
		RateIn: p.RateIn.String(), RateOut: p.RateOut.String(), PlatformFee: p.PlatformFee.String(),
		ModelOwnerBps: p.ModelOwnerBps, StakerBps: p.StakerBps, ContributorBps: p.ContributorBps,
	}
	if p.Platform != (common.Address{}) {
		c.Platform = p.Platform.Hex()
	}
	if p.Stakers != (common.Address{}) {
		c.Stakers = p.Stakers.Hex()
	}
	return c
}

func (c RewardsConfig) params() (rewards.Params, error) {
	p := rewards.Params{ModelOwnerBps: c.ModelOwnerBps, StakerBps: c.StakerBps, ContributorBps: c.ContributorBps}
	for _, f := range []struct {
		name string
		s    string
		dst  **big.Int
	}{{"rate_in", c.RateIn, &p.RateIn}, {"rate_out", c.RateOut, &p.RateOut}, {"platform_fee", c.PlatformFee, &p.PlatformFee}} {
		v, ok := new(big.Int).SetString(f.s, 10)
		if !ok || v.Sign() < 0 {
			return rewards.Params{}, fmt.Errorf("config rewards.%s %q: want a decimal amount of wei", f.name, f.s)
		}
		*f.dst = v
	}
	for _, f := range []struct {
		name string
		s    string
		dst  *common.Address
	}{{"platform", c.Platform, &p.Platform}, {"stakers", c.Stakers, &p.Stakers}} {
		if f.s == "" {
			continue
		}
		if !common.IsHexAddress(f.s) {
			return rewards.Params{}, fmt.Errorf("config rewards.%s %q: not an address", f.name, f.s)
		}
		*f.dst = common.HexToAddress(f.s)
	}
	if err := p.Validate(); err != nil {
		return rewards.Params{}, fmt.Errorf("config rewards: %w", err)
	}
	return p, nil
}
