package rewards_test

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/openledger/openledger/attribution/rewards"
)

// testParams returns Params with the given rates and fee (in wei) and pool
// shares.
func testParams(rateIn, rateOut, platform int64, owner, stakers, contributors uint32) rewards.Params {
	return rewards.Params{
		RateIn:         big.NewInt(rateIn),
		RateOut:        big.NewInt(rateOut),
		PlatformFee:    big.NewInt(platform),
		ModelOwnerBps:  owner,
		StakerBps:      stakers,
		ContributorBps: contributors,
	}
}

// breakdown is a FeeBreakdown in decimal strings:
// total, platform, net, owner, stakers, contributors.
type breakdown [6]string

func (b breakdown) fee(t *testing.T) rewards.FeeBreakdown {
	return rewards.FeeBreakdown{
		Total: wei(t, b[0]), Platform: wei(t, b[1]), Net: wei(t, b[2]),
		ModelOwner: wei(t, b[3]), Stakers: wei(t, b[4]), Contributors: wei(t, b[5]),
	}
}

func TestFee(t *testing.T) {
	maxU64 := ^uint64(0)
	for _, tc := range []struct {
		name        string
		p           rewards.Params
		in, out     uint64
		want        breakdown
		description string
	}{
		{
			name: "default, 1000 in and 1000 out",
			p:    rewards.DefaultParams(), in: 1000, out: 1000,
			// 0.002 + 0.006 OPEN, + 0.001 OPEN; 30/10/60 of 0.008 OPEN.
			want: breakdown{"9000000000000000", "1000000000000000", "8000000000000000", "2400000000000000", "800000000000000", "4800000000000000"},
		},
		{
			name: "default, 512 in and 1537 out",
			p:    rewards.DefaultParams(), in: 512, out: 1537,
			// (512·2e15 + 1537·6e15)/1000 = 1.024e15 + 9.222e15.
			want: breakdown{"11246000000000000", "1000000000000000", "10246000000000000", "3073800000000000", "1024600000000000", "6147600000000000"},
		},
		{
			name: "default, no tokens",
			p:    rewards.DefaultParams(),
			want: breakdown{"1000000000000000", "1000000000000000", "0", "0", "0", "0"},
		},
		{
			// One floor on the sum: 500/1000 + 500/1000 is 1 wei, not 0.
			name: "usage rounded down once",
			p:    testParams(500, 500, 0, 3000, 1000, 6000), in: 1, out: 1,
			want: breakdown{"1", "0", "1", "0", "0", "1"},
		},
		{
			name: "usage below one wei",
			p:    testParams(1, 0, 3, 3000, 1000, 6000), in: 999, out: 0,
			want: breakdown{"3", "3", "0", "0", "0", "0"},
		},
		{
			// Net 7: owner floor(2.1) = 2, stakers floor(0.7) = 0,
			// contributors 7 − 2 − 0 = 5 = floor(4.2) + 1.
			name: "dust to contributors",
			p:    testParams(7000, 0, 0, 3000, 1000, 6000), in: 1,
			want: breakdown{"7", "0", "7", "2", "0", "5"},
		},
		{
			// Net 9999: owner and stakers floor(3332.67) = 3332 each,
			// contributors 3335 = floor(3333.67) + 2, the most dust there is.
			name: "two wei of dust",
			p:    testParams(9999_000, 0, 0, 3333, 3333, 3334), in: 1,
			want: breakdown{"9999", "0", "9999", "3332", "3332", "3335"},
		},
		{
			name: "all to the owner",
			p:    testParams(1000, 1000, 10, 10000, 0, 0), in: 3, out: 4,
			want: breakdown{"17", "10", "7", "7", "0", "0"},
		},
		{
			// 2^64−1 tokens each way at 10^18 wei: no overflow.
			name: "huge",
			p:    testParams(1e18, 1e18, 0, 3000, 1000, 6000), in: maxU64, out: maxU64,
			want: breakdown{"36893488147419103230000000000000000", "0", "36893488147419103230000000000000000",
				"11068046444225730969000000000000000", "3689348814741910323000000000000000", "22136092888451461938000000000000000"},
		},
		{
			name: "nil amounts count as zero",
			p:    rewards.Params{ModelOwnerBps: 3000, StakerBps: 1000, ContributorBps: 6000}, in: 5, out: 5,
			want: breakdown{"0", "0", "0", "0", "0", "0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rewards.Fee(tc.p, tc.in, tc.out)
			if want := tc.want.fee(t); !sameJSON(t, got, want) {
				t.Errorf("Fee = %+v\nwant %+v", got, want)
			}
			checkFee(t, got)
		})
	}
}

// checkFee checks the identities every breakdown holds.
func checkFee(t *testing.T, f rewards.FeeBreakdown) {
	t.Helper()
	if s := sumBig(f.Net, f.Platform); s.Cmp(f.Total) != 0 {
		t.Errorf("Net + Platform = %s, Total %s", s, f.Total)
	}
	if s := sumBig(f.ModelOwner, f.Stakers, f.Contributors); s.Cmp(f.Net) != 0 {
		t.Errorf("pools sum to %s, Net %s", s, f.Net)
	}
	for _, x := range []*big.Int{f.Total, f.Platform, f.Net, f.ModelOwner, f.Stakers, f.Contributors} {
		if x.Sign() < 0 {
			t.Errorf("negative amount in %+v", f)
		}
	}
}

// TestFeeProperties checks on random valid parameters that the pools sum to
// Net, that each of the owner and staker pools is the floor of its share,
// and that the contributor pool is 0 to 2 wei above the floor of its own.
func TestFeeProperties(t *testing.T) {
	r := newRand(t)
	for iter := range 2000 {
		owner := r.Uint32N(10001)
		stakers := r.Uint32N(10001 - owner)
		p := testParams(r.Int64N(1e16), r.Int64N(1e16), r.Int64N(1e16), owner, stakers, 10000-owner-stakers)
		f := rewards.Fee(p, r.Uint64N(1e6), r.Uint64N(1e6))
		checkFee(t, f)
		floor := new(big.Int).Mul(f.Net, big.NewInt(int64(p.ContributorBps)))
		floor.Quo(floor, big.NewInt(10000))
		if d := new(big.Int).Sub(f.Contributors, floor); d.Sign() < 0 || d.Cmp(big.NewInt(2)) > 0 {
			t.Fatalf("iteration %d: contributors %s, floor of share %s", iter, f.Contributors, floor)
		}
	}
}

func TestFeeJSON(t *testing.T) {
	f := rewards.Fee(rewards.DefaultParams(), 1000, 1000)
	got, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"total":"9000000000000000","platform":"1000000000000000","net":"8000000000000000",` +
		`"model_owner":"2400000000000000","stakers":"800000000000000","contributors":"4800000000000000"}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s\nwant %s", got, want)
	}
	var back rewards.FeeBreakdown
	if err := json.Unmarshal(got, &back); err != nil || !sameJSON(t, back, f) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, f)
	}
}
