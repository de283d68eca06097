package rewards_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/attribution/rewards"
)

func mustShares(t testing.TB, scores ...rewards.Score) []rewards.Share {
	t.Helper()
	s, err := rewards.Shares(scores)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// payouts formats payouts as "role address amount" lines for comparison.
func payoutsString(ps []rewards.Payout) string {
	var b bytes.Buffer
	for _, p := range ps {
		fmt.Fprintf(&b, "%s %s %s\n", p.Role, p.Address.Hex(), p.Amount)
	}
	return b.String()
}

func TestSplit(t *testing.T) {
	a, b, c := hexAddr("0x0a"), hexAddr("0x0b"), hexAddr("0x0c")
	owner, platform, stakers := hexAddr("0xf3"), hexAddr("0xf1"), hexAddr("0xf2")
	// Net = tokensIn wei; 5 wei platform fee; pools 30/10/60.
	p := testParams(1000, 0, 5, 3000, 1000, 6000)
	p.Platform, p.Stakers = platform, stakers
	thirds := mustShares(t, rewards.Score{Address: a, Score: 1}, rewards.Score{Address: b, Score: 1}, rewards.Score{Address: c, Score: 1})
	pay := func(role string, who common.Address, amount int64) rewards.Payout {
		return rewards.Payout{Address: who, Role: role, Amount: big.NewInt(amount)}
	}
	const (
		contributor = rewards.RoleContributor
		modelOwner  = rewards.RoleModelOwner
		plat        = rewards.RolePlatform
		staker      = rewards.RoleStaker
	)
	for _, tc := range []struct {
		name    string
		p       rewards.Params
		in      uint64
		owner   common.Address
		weights []rewards.Share
		want    []rewards.Payout
		unpaid  int64
	}{
		{
			// Pool 60 by thirds (a has one part more): 20, 19, 19 and
			// remainders 40, 10^18−20, 10^18−20: b and c get the 2 wei left.
			name: "three equal contributors",
			p:    p, in: 100, owner: owner, weights: thirds,
			want: []rewards.Payout{
				pay(contributor, a, 20), pay(contributor, b, 20), pay(contributor, c, 20),
				pay(modelOwner, owner, 30), pay(plat, platform, 5), pay(staker, stakers, 10),
			},
		},
		{
			// Net 17: owner 5, stakers 1, pool 11. By thirds: 3 each with
			// remainders …674, …663, …663: the 2 wei left go to a, then to
			// b (the tie with c goes to the lower address).
			name: "rounding dust",
			p:    p, in: 17, owner: owner, weights: thirds,
			want: []rewards.Payout{
				pay(contributor, a, 4), pay(contributor, b, 4), pay(contributor, c, 3),
				pay(modelOwner, owner, 5), pay(plat, platform, 5), pay(staker, stakers, 1),
			},
		},
		{
			name: "1-wei pool, tie to the lower address",
			p:    testParams(1000, 0, 0, 0, 0, 10000), in: 1, owner: owner,
			weights: mustShares(t, rewards.Score{Address: b, Score: 1}, rewards.Score{Address: a, Score: 1}),
			want:    []rewards.Payout{pay(contributor, a, 1)},
		},
		{
			name: "1-wei pool, largest remainder",
			p:    testParams(1000, 0, 0, 0, 0, 10000), in: 1, owner: owner,
			weights: mustShares(t, rewards.Score{Address: a, Score: 4}, rewards.Score{Address: b, Score: 6}),
			want:    []rewards.Payout{pay(contributor, b, 1)},
		},
		{
			name: "one contributor",
			p:    p, in: 100, owner: owner, weights: []rewards.Share{{Address: c, Parts: rewards.Scale}},
			want: []rewards.Payout{
				pay(contributor, c, 60), pay(modelOwner, owner, 30), pay(plat, platform, 5), pay(staker, stakers, 10),
			},
		},
		{
			name: "empty weights: the contributor pool is not paid",
			p:    p, in: 100, owner: owner,
			want:   []rewards.Payout{pay(modelOwner, owner, 30), pay(plat, platform, 5), pay(staker, stakers, 10)},
			unpaid: 60,
		},
		{
			name: "zero addresses are not paid",
			p:    testParams(1000, 0, 5, 3000, 1000, 6000), in: 100, weights: thirds,
			want:   []rewards.Payout{pay(contributor, a, 20), pay(contributor, b, 20), pay(contributor, c, 20)},
			unpaid: 30 + 5 + 10,
		},
		{
			name: "nobody to pay but the platform",
			p:    p, in: 0, weights: thirds,
			want: []rewards.Payout{pay(plat, platform, 5)},
		},
		{
			name: "a weight of zero parts is never paid",
			p:    p, in: 100, owner: owner,
			weights: []rewards.Share{{Address: a, Parts: 0}, {Address: b, Parts: rewards.Scale}},
			want: []rewards.Payout{
				pay(contributor, b, 60), pay(modelOwner, owner, 30), pay(plat, platform, 5), pay(staker, stakers, 10),
			},
		},
		{
			name: "the model owner also contributed",
			p:    p, in: 100, owner: b,
			weights: []rewards.Share{{Address: b, Parts: rewards.Scale / 2}, {Address: a, Parts: rewards.Scale / 2}},
			want: []rewards.Payout{
				pay(contributor, a, 30), pay(contributor, b, 30), pay(modelOwner, b, 30), pay(plat, platform, 5), pay(staker, stakers, 10),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rewards.Split(tc.p, tc.in, 0, tc.owner, tc.weights)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := payoutsString(got), payoutsString(tc.want); g != w {
				t.Errorf("Split =\n%swant\n%s", g, w)
			}
			total := rewards.Fee(tc.p, tc.in, 0).Total
			if paid := sumPayouts(got); new(big.Int).Sub(total, paid).Cmp(big.NewInt(tc.unpaid)) != 0 {
				t.Errorf("paid %s of %s, want %d unpaid", paid, total, tc.unpaid)
			}
		})
	}
}

func sumPayouts(ps []rewards.Payout) *big.Int {
	s := new(big.Int)
	for _, p := range ps {
		s.Add(s, p.Amount)
	}
	return s
}

// TestSplitManyEqual splits a pool of 60 000 000 007 wei among 1000 equal
// contributors: 60 000 000 each, and the 7 wei left (all remainders equal)
// go to the 7 lowest addresses.
func TestSplitManyEqual(t *testing.T) {
	r := newRand(t)
	scores := make([]rewards.Score, 1000)
	for i := range scores {
		scores[i] = rewards.Score{Address: randAddr(r), Score: 42}
	}
	weights := mustShares(t, scores...)
	for _, w := range weights {
		if w.Parts != rewards.Scale/1000 {
			t.Fatalf("Shares gave %d parts, want %d", w.Parts, rewards.Scale/1000)
		}
	}
	p := testParams(1000, 0, 0, 0, 0, 10000)
	got, err := rewards.Split(p, 60_000_000_007, 0, common.Address{}, weights)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 {
		t.Fatalf("%d payouts, want 1000", len(got))
	}
	for i, x := range got {
		want := int64(60_000_000)
		if i < 7 {
			want++
		}
		if x.Address != weights[i].Address || x.Role != rewards.RoleContributor || x.Amount.Cmp(big.NewInt(want)) != 0 {
			t.Fatalf("payout %d = %s %s %s, want contributor %s %d", i, x.Role, x.Address, x.Amount, weights[i].Address, want)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	a, b := hexAddr("0x0a"), hexAddr("0x0b")
	bad := rewards.DefaultParams()
	bad.StakerBps++
	for _, tc := range []struct {
		name    string
		p       rewards.Params
		weights []rewards.Share
		want    error
	}{
		{"bad params", bad, []rewards.Share{{Address: a, Parts: rewards.Scale}}, rewards.ErrBadParams},
		{"nil rate", rewards.Params{ContributorBps: 10000}, nil, rewards.ErrBadParams},
		{"sum below Scale", rewards.DefaultParams(), []rewards.Share{{Address: a, Parts: rewards.Scale - 1}}, rewards.ErrBadWeights},
		{"sum above Scale", rewards.DefaultParams(), []rewards.Share{{Address: a, Parts: rewards.Scale}, {Address: b, Parts: 1}}, rewards.ErrBadWeights},
		{"sum wraps uint64", rewards.DefaultParams(), []rewards.Share{
			{Address: a, Parts: ^uint64(0)}, {Address: b, Parts: rewards.Scale + 1},
		}, rewards.ErrBadWeights},
		{"all zero parts", rewards.DefaultParams(), []rewards.Share{{Address: a}, {Address: b}}, rewards.ErrBadWeights},
		{"duplicate address", rewards.DefaultParams(), []rewards.Share{
			{Address: a, Parts: rewards.Scale / 2}, {Address: b, Parts: 0}, {Address: a, Parts: rewards.Scale / 2},
		}, rewards.ErrBadWeights},
		{"zero address", rewards.DefaultParams(), []rewards.Share{{Parts: rewards.Scale}}, rewards.ErrBadWeights},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rewards.Split(tc.p, 1000, 1000, hexAddr("0xf3"), tc.weights)
			if !errors.Is(err, tc.want) {
				t.Errorf("Split = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestSplitProperties checks on random inputs that the payouts sum to Total
// minus the unpaid parts, that each contributor gets the floor of its exact
// part or one wei more, that the output is sorted with no zero amounts, and
// that the order of the weights does not change a byte of it.
func TestSplitProperties(t *testing.T) {
	r := newRand(t)
	maybe := func(a common.Address) common.Address {
		if r.IntN(4) == 0 {
			return common.Address{}
		}
		return a
	}
	for iter := range 500 {
		ownerBps := r.Uint32N(10001)
		stakerBps := r.Uint32N(10001 - ownerBps)
		p := testParams(r.Int64N(1e16), r.Int64N(1e16), r.Int64N(1e15), ownerBps, stakerBps, 10000-ownerBps-stakerBps)
		if r.IntN(10) == 0 { // tiny rates: pools of a few wei
			p.RateIn, p.RateOut = big.NewInt(r.Int64N(3000)), big.NewInt(r.Int64N(3000))
		}
		p.Platform, p.Stakers = maybe(randAddr(r)), maybe(randAddr(r))
		owner := maybe(randAddr(r))
		var weights []rewards.Share
		if r.IntN(8) != 0 {
			scores := make([]rewards.Score, 1+r.IntN(50))
			for i := range scores {
				scores[i] = rewards.Score{Address: randAddr(r), Score: 1 + r.Uint64N(1<<uint(1+r.IntN(63)))}
			}
			weights = mustShares(t, scores...)
		}
		in, out := r.Uint64N(100_000), r.Uint64N(100_000)

		got, err := rewards.Split(p, in, out, owner, weights)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		f := rewards.Fee(p, in, out)
		unpaid := new(big.Int)
		for _, x := range []struct {
			zero bool
			v    *big.Int
		}{
			{p.Platform == (common.Address{}), f.Platform},
			{owner == (common.Address{}), f.ModelOwner},
			{p.Stakers == (common.Address{}), f.Stakers},
			{len(weights) == 0, f.Contributors},
		} {
			if x.zero {
				unpaid.Add(unpaid, x.v)
			}
		}
		if paid := sumPayouts(got); new(big.Int).Add(paid, unpaid).Cmp(f.Total) != 0 {
			t.Fatalf("iteration %d: paid %s + unpaid %s != total %s", iter, paid, unpaid, f.Total)
		}
		parts := make(map[common.Address]uint64)
		for _, w := range weights {
			parts[w.Address] = w.Parts
		}
		contributed := new(big.Int)
		for i, x := range got {
			if x.Amount.Sign() <= 0 || x.Address == (common.Address{}) {
				t.Fatalf("iteration %d: payout %s %s %s", iter, x.Role, x.Address, x.Amount)
			}
			if i > 0 {
				prev := got[i-1]
				if prev.Role > x.Role || prev.Role == x.Role && bytes.Compare(prev.Address[:], x.Address[:]) >= 0 {
					t.Fatalf("iteration %d: payouts not sorted:\n%s", iter, payoutsString(got))
				}
			}
			if x.Role != rewards.RoleContributor {
				continue
			}
			contributed.Add(contributed, x.Amount)
			floor := new(big.Int).Mul(f.Contributors, new(big.Int).SetUint64(parts[x.Address]))
			floor.Quo(floor, new(big.Int).SetUint64(rewards.Scale))
			if d := new(big.Int).Sub(x.Amount, floor); d.Sign() < 0 || d.Cmp(big.NewInt(1)) > 0 {
				t.Fatalf("iteration %d: %s got %s, floor of its part %s", iter, x.Address, x.Amount, floor)
			}
		}
		if len(weights) > 0 && contributed.Cmp(f.Contributors) != 0 {
			t.Fatalf("iteration %d: contributors got %s of a pool of %s", iter, contributed, f.Contributors)
		}

		want, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := append([]rewards.Share(nil), weights...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := rewards.Split(p, in, out, owner, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(again); !bytes.Equal(b, want) {
			t.Fatalf("iteration %d: shuffled weights gave\n%s\nwant\n%s", iter, b, want)
		}
	}
}

func TestPayoutJSON(t *testing.T) {
	x := rewards.Payout{Address: hexAddr("0x0a"), Role: rewards.RoleContributor, Amount: wei(t, "123456789012345678901234567890")}
	got, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"address":"0x000000000000000000000000000000000000000a","role":"contributor","amount":"123456789012345678901234567890"}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s\nwant %s", got, want)
	}
	var back rewards.Payout
	if err := json.Unmarshal(got, &back); err != nil || !sameJSON(t, back, x) {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"amount":12}`), &back); err == nil {
		t.Error("a JSON number amount decoded")
	}
}
