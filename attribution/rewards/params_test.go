package rewards_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/openledger/openledger/attribution/rewards"
)

func TestDefaultParams(t *testing.T) {
	p := rewards.DefaultParams()
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultParams().Validate() = %v", err)
	}
	want := rewards.Params{
		RateIn:         wei(t, "2000000000000000"), // 0.002 OPEN
		RateOut:        wei(t, "6000000000000000"), // 0.006 OPEN
		PlatformFee:    wei(t, "1000000000000000"), // 0.001 OPEN
		ModelOwnerBps:  3000,
		StakerBps:      1000,
		ContributorBps: 6000,
	}
	if !sameJSON(t, p, want) {
		t.Errorf("DefaultParams() = %+v, want %+v", p, want)
	}
	// Each call returns fresh amounts.
	p.RateIn.SetInt64(1)
	if rewards.DefaultParams().RateIn.Cmp(want.RateIn) != 0 {
		t.Error("changing one DefaultParams() changed the next")
	}
}

func TestParamsValidate(t *testing.T) {
	tooBig := new(big.Int).Lsh(big.NewInt(1), 256)
	maxUint256 := new(big.Int).Sub(tooBig, big.NewInt(1))
	for _, tc := range []struct {
		name   string
		change func(*rewards.Params)
		ok     bool
	}{
		{"default", func(*rewards.Params) {}, true},
		{"all to contributors, zero rates", func(p *rewards.Params) {
			p.RateIn, p.RateOut, p.PlatformFee = new(big.Int), new(big.Int), new(big.Int)
			p.ModelOwnerBps, p.StakerBps, p.ContributorBps = 0, 0, 10000
		}, true},
		{"max uint256", func(p *rewards.Params) { p.RateOut = maxUint256 }, true},
		{"nil rate_in", func(p *rewards.Params) { p.RateIn = nil }, false},
		{"nil rate_out", func(p *rewards.Params) { p.RateOut = nil }, false},
		{"nil platform_fee", func(p *rewards.Params) { p.PlatformFee = nil }, false},
		{"negative rate", func(p *rewards.Params) { p.RateIn = big.NewInt(-1) }, false},
		{"negative platform fee", func(p *rewards.Params) { p.PlatformFee = big.NewInt(-1) }, false},
		{"2^256", func(p *rewards.Params) { p.RateIn = tooBig }, false},
		{"bps 9999", func(p *rewards.Params) { p.ContributorBps = 5999 }, false},
		{"bps 10001", func(p *rewards.Params) { p.StakerBps = 1001 }, false},
		{"bps wrap around uint32", func(p *rewards.Params) {
			p.ModelOwnerBps, p.StakerBps, p.ContributorBps = 1<<32-1, 10001, 0
		}, false},
		{"zero", func(p *rewards.Params) { *p = rewards.Params{} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := rewards.DefaultParams()
			tc.change(&p)
			err := p.Validate()
			if tc.ok && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, rewards.ErrBadParams) {
				t.Errorf("Validate() = %v, want ErrBadParams", err)
			}
		})
	}
}

func TestParamsJSON(t *testing.T) {
	p := rewards.DefaultParams()
	p.Platform = hexAddr("0x00000000000000000000000000000000000000a1")
	p.Stakers = hexAddr("0x00000000000000000000000000000000000000b2")
	p.RateOut = wei(t, "115792089237316195423570985008687907853269984665640564039457584007913129639935")
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"rate_in":"2000000000000000",` +
		`"rate_out":"115792089237316195423570985008687907853269984665640564039457584007913129639935",` +
		`"platform_fee":"1000000000000000","model_owner_bps":3000,"staker_bps":1000,"contributor_bps":6000,` +
		`"platform":"0x00000000000000000000000000000000000000a1","stakers":"0x00000000000000000000000000000000000000b2"}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s\nwant %s", got, want)
	}
	var back rewards.Params
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, back, p) {
		t.Errorf("round trip = %+v, want %+v", back, p)
	}
	// A pointer marshals the same.
	if again, err := json.Marshal(&p); err != nil || string(again) != want {
		t.Errorf("json.Marshal(&p) = %s, %v", again, err)
	}
}

func TestParamsJSONOverlay(t *testing.T) {
	def := rewards.DefaultParams()
	p := def
	if err := json.Unmarshal([]byte(`{"rate_in":"7","staker_bps":0,"contributor_bps":7000}`), &p); err != nil {
		t.Fatal(err)
	}
	want := rewards.DefaultParams()
	want.RateIn = big.NewInt(7)
	want.StakerBps, want.ContributorBps = 0, 7000
	if !sameJSON(t, p, want) {
		t.Errorf("overlay = %+v, want %+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
	// Decoding did not write through to the amounts p shared with def.
	if !sameJSON(t, def, rewards.DefaultParams()) {
		t.Errorf("decoding into a copy changed the original: %+v", def)
	}
}

func TestParamsJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"number amount", `{"rate_in":2000}`},
		{"hex amount", `{"rate_in":"0x10"}`},
		{"negative amount", `{"rate_in":"-1"}`},
		{"plus sign", `{"rate_in":"+1"}`},
		{"fraction", `{"rate_in":"1.5"}`},
		{"exponent", `{"rate_in":"1e18"}`},
		{"underscore", `{"rate_in":"1_000"}`},
		{"empty amount", `{"platform_fee":""}`},
		{"2^256", `{"rate_out":"115792089237316195423570985008687907853269984665640564039457584007913129639936"}`},
		{"negative bps", `{"staker_bps":-1}`},
		{"bps above uint32", `{"staker_bps":4294967296}`},
		{"bad address", `{"platform":"0x1234"}`},
		{"not an object", `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := rewards.DefaultParams()
			if err := json.Unmarshal([]byte(tc.json), &p); err == nil {
				t.Errorf("Unmarshal(%s) = nil error, got %+v", tc.json, p)
			}
		})
	}
}
