package rewards_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/internal/simchain"
	"github.com/openledger/openledger/proofs/contracts"
)

// TestDistributorPaysEpochs pays the fixture's epochs through the real
// RewardsDistributor: every claim moves exactly the amount computed here,
// and every claim the computation does not back reverts and moves nothing.
func TestDistributorPaysEpochs(t *testing.T) {
	for _, rules := range simchain.AllRules {
		t.Run(rules.Name, func(t *testing.T) { testDistributorPaysEpochs(t, rules) })
	}
}

func testDistributorPaysEpochs(t *testing.T, rules simchain.Rules) {
	epochs := newFixture().run(t)
	e1, e2 := epochs[0], epochs[1]

	c := simchain.New(t, rules, "owner", "poster", "claimer")
	call := &bind.CallOpts{Context: t.Context()}
	tokenAddr, tx, token, err := contracts.DeployOpenToken(c.Opts(t, "owner"), c.Client, c.Addr("owner"))
	c.Mine(t, tx, err)
	distAddr, tx, dist, err := contracts.DeployRewardsDistributor(c.Opts(t, "owner"), c.Client, tokenAddr, c.Addr("owner"))
	c.Mine(t, tx, err)
	tx, err = dist.SetPoster(c.Opts(t, "owner"), c.Addr("poster"), true)
	c.Mine(t, tx, err)
	distABI := simchain.ABI(t, contracts.RewardsDistributorMetaData)

	balance := func(t *testing.T, a common.Address) *big.Int {
		t.Helper()
		b, err := token.BalanceOf(call, a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// holders are every account whose tokens a claim could move.
	holders := []common.Address{distAddr}
	for _, b := range e2.Balances {
		holders = append(holders, b.Address)
	}
	snapshot := func(t *testing.T) []*big.Int {
		t.Helper()
		out := make([]*big.Int, len(holders))
		for i, a := range holders {
			out[i] = balance(t, a)
		}
		return out
	}
	fund := func(t *testing.T, amount *big.Int) {
		t.Helper()
		tx, err := token.Mint(c.Opts(t, "owner"), distAddr, amount)
		c.Mine(t, tx, err)
	}
	post := func(t *testing.T, e *rewards.Epoch) {
		t.Helper()
		tx, err := dist.PostRoot(c.Opts(t, "poster"), e.Number, e.Root)
		c.Mine(t, tx, err)
		if root, err := dist.CurrentRoot(call); err != nil || root != e.Root {
			t.Fatalf("currentRoot = %x, %v; want %x", root, err, e.Root)
		}
	}
	// claim claims account's balance in e with its proof and checks that
	// exactly want moved from the distributor to account.
	claim := func(t *testing.T, e *rewards.Epoch, account common.Address, want *big.Int) {
		t.Helper()
		cum, proof, err := e.Claim(account)
		if err != nil {
			t.Fatal(err)
		}
		before, distBefore := balance(t, account), balance(t, distAddr)
		tx, err := dist.Claim(c.Opts(t, "claimer"), account, cum, proof)
		c.Mine(t, tx, err)
		if got := new(big.Int).Sub(balance(t, account), before); got.Cmp(want) != 0 {
			t.Errorf("claim of %s in epoch %d paid %s, want %s", account, e.Number, got, want)
		}
		if got := new(big.Int).Sub(distBefore, balance(t, distAddr)); got.Cmp(want) != 0 {
			t.Errorf("distributor paid out %s, want %s", got, want)
		}
		if got, err := dist.Claimed(call, account); err != nil || got.Cmp(cum) != 0 {
			t.Errorf("claimed(%s) = %v, %v; want %s", account, got, err, cum)
		}
	}
	// refused checks that a claim reverts with the error name when
	// estimated, and that, sent anyway, it fails and moves no token.
	refused := func(t *testing.T, name string, account common.Address, cum *big.Int, proof [][32]byte) {
		t.Helper()
		_, err := dist.Claim(c.Opts(t, "claimer"), account, cum, proof)
		simchain.WantRevert(t, err, distABI, name)
		before := snapshot(t)
		opts := c.Opts(t, "claimer")
		opts.GasLimit = 500_000
		tx, err := dist.Claim(opts, account, cum, proof)
		r := c.Commit(t, tx, err)
		if r.Status != types.ReceiptStatusFailed {
			t.Errorf("claim of %s for %s succeeded, want %s", account, cum, name)
		}
		for i, b := range snapshot(t) {
			if b.Cmp(before[i]) != 0 {
				t.Errorf("refused claim moved tokens of %s: %s to %s", holders[i], before[i], b)
			}
		}
	}

	fund(t, e1.Total())
	post(t, e1)

	alice, bob := addr("alice"), addr("bob")
	aliceCum, aliceProof, err := e1.Claim(alice)
	if err != nil {
		t.Fatal(err)
	}
	bobCum, bobProof, err := e1.Claim(bob)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("forged claims", func(t *testing.T) {
		refused(t, "InvalidProof", alice, new(big.Int).Add(aliceCum, big.NewInt(1)), aliceProof)
		refused(t, "InvalidProof", alice, bobCum, bobProof)
		refused(t, "InvalidProof", alice, aliceCum, bobProof)
		refused(t, "InvalidProof", addr("mallory"), aliceCum, aliceProof)
	})

	t.Run("epoch 1", func(t *testing.T) {
		for _, b := range e1.Balances {
			claim(t, e1, b.Address, b.Cumulative)
		}
		for _, b := range e1.Balances {
			cum, proof, err := e1.Claim(b.Address)
			if err != nil {
				t.Fatal(err)
			}
			refused(t, "NothingToClaim", b.Address, cum, proof)
		}
		if got := balance(t, distAddr); got.Sign() != 0 {
			t.Errorf("distributor holds %s after every claim of epoch 1, want 0", got)
		}
	})

	fund(t, new(big.Int).Sub(e2.Total(), e1.Total()))
	post(t, e2)

	t.Run("epoch 2", func(t *testing.T) {
		refused(t, "InvalidProof", alice, aliceCum, aliceProof) // epoch 1's root is gone
		unchanged := 0
		for _, b := range e2.Balances {
			want := new(big.Int).Set(b.Cumulative)
			if prev, _, err := e1.Claim(b.Address); err == nil {
				want.Sub(want, prev)
			}
			if want.Sign() == 0 {
				cum, proof, err := e2.Claim(b.Address)
				if err != nil {
					t.Fatal(err)
				}
				refused(t, "NothingToClaim", b.Address, cum, proof)
				unchanged++
				continue
			}
			claim(t, e2, b.Address, want)
		}
		if unchanged == 0 {
			t.Error("the fixture pays everyone again in epoch 2; want someone with nothing new")
		}
		if got := balance(t, distAddr); got.Sign() != 0 {
			t.Errorf("distributor holds %s after every claim of epoch 2, want 0", got)
		}
		for _, b := range e2.Balances {
			if got := balance(t, b.Address); got.Cmp(b.Cumulative) != 0 {
				t.Errorf("%s holds %s, want its cumulative %s", b.Address, got, b.Cumulative)
			}
		}
	})
}
