package rewards_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/openledger/openledger/attribution/rewards"
)

// epochCheck returns a check of epoch 2 that passes: two records over
// epoch 1, their payouts as Split gives them, the root posted.
func epochCheck(t *testing.T) rewards.EpochCheck {
	t.Helper()
	p := testParams(2_000_000, 6_000_000, 1_000_000, 2000, 1000, 7000)
	p.Platform, p.Stakers = addr("platform"), addr("stakers")
	var in rewards.EpochCheck
	var all [][]rewards.Payout
	for i, w := range [][]rewards.Share{
		{{Address: addr("alice"), Parts: rewards.Scale}},
		{{Address: addr("alice"), Parts: rewards.Scale / 4}, {Address: addr("bob"), Parts: rewards.Scale - rewards.Scale/4}},
	} {
		pay, err := rewards.Split(p, 100, uint64(200+i), addr("owner"), w)
		if err != nil {
			t.Fatal(err)
		}
		in.Records = append(in.Records, rewards.PaidRecord{
			Name: []string{"rec-a", "rec-b"}[i], Params: p, TokensIn: 100, TokensOut: uint64(200 + i),
			ModelOwner: addr("owner"), Weights: w, Payouts: pay,
		})
		all = append(all, pay)
	}
	first, err := rewards.NextEpoch(nil, []rewards.Payout{{Address: addr("carol"), Role: rewards.RoleContributor, Amount: big.NewInt(5)}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := rewards.NextEpoch(first, all...)
	if err != nil {
		t.Fatal(err)
	}
	posted := second.Root
	in.Prev, in.Signed, in.Posted = first, second, &posted
	return in
}

// TestVerifyEpoch checks the verdict on an epoch that recomputes, and on
// epochs wrong in one way each.
func TestVerifyEpoch(t *testing.T) {
	v, err := rewards.VerifyEpoch(epochCheck(t))
	if err != nil || !v.OK() || v.Recomputed == nil || v.Recomputed.Root != epochCheck(t).Signed.Root {
		t.Fatalf("VerifyEpoch(good) = %+v %v", v, err)
	}
	tests := []struct {
		name    string
		change  func(*rewards.EpochCheck)
		problem string
	}{
		{"no previous named", func(c *rewards.EpochCheck) { c.Prev = nil }, "no previous epoch named"},
		{"payout inflated", func(c *rewards.EpochCheck) {
			c.Records[1].Payouts[0].Amount = new(big.Int).Add(c.Records[1].Payouts[0].Amount, big.NewInt(1))
		}, "record rec-b: its payouts are not what its weights and parameters give"},
		{"payout missing", func(c *rewards.EpochCheck) { c.Records[0].Payouts = c.Records[0].Payouts[1:] }, "record rec-a: its payouts"},
		{"weights swapped", func(c *rewards.EpochCheck) {
			w := c.Records[1].Weights
			w[0].Address, w[1].Address = w[1].Address, w[0].Address
		}, "record rec-b: its payouts"},
		{"bad weights", func(c *rewards.EpochCheck) { c.Records[0].Weights[0].Parts-- }, "record rec-a: rewards: invalid attribution weights"},
		{"a record left out", func(c *rewards.EpochCheck) { c.Records = c.Records[:1] }, "the recomputed root is not the signed one"},
		{"wrong previous", func(c *rewards.EpochCheck) { c.Prev = c.Signed }, "epoch 2 names epoch 2 as its previous one"},
		{"nothing posted", func(c *rewards.EpochCheck) { c.Posted = nil }, "no root was posted on chain"},
		{"another root posted", func(c *rewards.EpochCheck) { c.Posted[0] ^= 1 }, "the root posted on chain is not the signed one"},
		{"balances altered", func(c *rewards.EpochCheck) {
			s := *c.Signed
			s.Balances = append([]rewards.Balance(nil), s.Balances...)
			s.Balances[0].Cumulative = new(big.Int).Add(s.Balances[0].Cumulative, big.NewInt(1))
			c.Signed = &s
		}, "the recomputed balances are not the signed ones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := epochCheck(t)
			tt.change(&in)
			v, err := rewards.VerifyEpoch(in)
			if err != nil || v.OK() || !strings.Contains(v.Problem, tt.problem) {
				t.Fatalf("VerifyEpoch = %+v %v, want problem %q", v, err, tt.problem)
			}
		})
	}
}
