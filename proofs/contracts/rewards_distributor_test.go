package contracts_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"github.com/openledger/openledger/internal/simchain"
	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/proofs/contracts"
)

// open returns n whole OPEN in the token's smallest unit.
func open(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether))
}

// claimTree is a cumulative claims tree as attribution will build it.
type claimTree struct {
	tree   *proofs.StandardTree
	index  map[common.Address]int
	amount map[common.Address]*big.Int
}

// newClaimTree builds the StandardMerkleTree of (address, uint256) leaves and
// checks every leaf against proofs.ClaimLeaf, the leaf the contract hashes.
func newClaimTree(t *testing.T, amounts map[common.Address]*big.Int) *claimTree {
	t.Helper()
	ct := &claimTree{index: make(map[common.Address]int), amount: amounts}
	var values [][]any
	for a, amt := range amounts {
		ct.index[a] = len(values)
		values = append(values, []any{a, amt})
	}
	tree, err := proofs.NewStandardTree([]string{"address", "uint256"}, values)
	if err != nil {
		t.Fatal(err)
	}
	ct.tree = tree
	for a, i := range ct.index {
		leaf, err := tree.Leaf(i)
		if err != nil {
			t.Fatal(err)
		}
		want, err := proofs.ClaimLeaf(a, amounts[a])
		if err != nil {
			t.Fatal(err)
		}
		if leaf != want {
			t.Fatalf("tree leaf of %s = %s, ClaimLeaf = %s", a, leaf, want)
		}
	}
	return ct
}

func (ct *claimTree) root() [32]byte { return ct.tree.Root() }

func (ct *claimTree) proof(t *testing.T, a common.Address) [][32]byte {
	t.Helper()
	p, err := ct.tree.Proof(ct.index[a])
	if err != nil {
		t.Fatal(err)
	}
	out := make([][32]byte, len(p))
	for i, h := range p {
		out[i] = h
	}
	return out
}

func TestRewardsDistributor(t *testing.T) {
	for _, rules := range simchain.AllRules {
		t.Run(rules.Name, func(t *testing.T) { testRewardsDistributor(t, rules) })
	}
}

func testRewardsDistributor(t *testing.T, rules simchain.Rules) {
	c := simchain.New(t, rules, "owner", "poster", "stranger", "alice", "bob", "carol", "dave")
	call := &bind.CallOpts{Context: t.Context()}
	alice, bob, carol, dave := c.Addr("alice"), c.Addr("bob"), c.Addr("carol"), c.Addr("dave")

	tokenAddr, tx, token, err := contracts.DeployOpenToken(c.Opts(t, "owner"), c.Client, c.Addr("owner"))
	c.Mine(t, tx, err)
	distAddr, tx, dist, err := contracts.DeployRewardsDistributor(c.Opts(t, "owner"), c.Client, tokenAddr, c.Addr("owner"))
	c.Mine(t, tx, err)
	distABI := simchain.ABI(t, contracts.RewardsDistributorMetaData)
	tx, err = token.Mint(c.Opts(t, "owner"), distAddr, open(1000))
	c.Mine(t, tx, err)

	balance := func(t *testing.T, a common.Address) *big.Int {
		t.Helper()
		b, err := token.BalanceOf(call, a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// claim submits a claim as stranger (anyone may) and checks that exactly
	// want moved from the distributor to account; it returns the gas used.
	claim := func(t *testing.T, ct *claimTree, account common.Address, want *big.Int) uint64 {
		t.Helper()
		before, distBefore := balance(t, account), balance(t, distAddr)
		tx, err := dist.Claim(c.Opts(t, "stranger"), account, ct.amount[account], ct.proof(t, account))
		r := c.Mine(t, tx, err)
		if got := new(big.Int).Sub(balance(t, account), before); got.Cmp(want) != 0 {
			t.Errorf("claim of %s paid %s, want %s", account, got, want)
		}
		if got := new(big.Int).Sub(distBefore, balance(t, distAddr)); got.Cmp(want) != 0 {
			t.Errorf("distributor paid out %s, want %s", got, want)
		}
		var ev *contracts.RewardsDistributorClaimed
		for _, l := range r.Logs {
			if l.Address == distAddr {
				if ev, err = dist.ParseClaimed(*l); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ev == nil || ev.Account != account || ev.Amount.Cmp(want) != 0 || ev.Cumulative.Cmp(ct.amount[account]) != 0 {
			t.Errorf("Claimed event = %+v, want account %s amount %s cumulative %s", ev, account, want, ct.amount[account])
		}
		if got, err := dist.Claimed(call, account); err != nil || got.Cmp(ct.amount[account]) != 0 {
			t.Errorf("claimed(%s) = %v, %v; want %s", account, got, err, ct.amount[account])
		}
		return r.GasUsed
	}
	post := func(t *testing.T, from string, epoch uint64, ct *claimTree) {
		t.Helper()
		tx, err := dist.PostRoot(c.Opts(t, from), epoch, ct.root())
		r := c.Mine(t, tx, err)
		if len(r.Logs) != 1 {
			t.Fatalf("%d logs, want 1", len(r.Logs))
		}
		ev, err := dist.ParseRootPosted(*r.Logs[0])
		if err != nil || ev.Epoch != epoch || ev.Root != ct.root() {
			t.Fatalf("RootPosted = %+v, %v; want epoch %d root %x", ev, err, epoch, ct.root())
		}
		if e, err := dist.CurrentEpoch(call); err != nil || e != epoch {
			t.Fatalf("currentEpoch = %d, %v; want %d", e, err, epoch)
		}
		if r, err := dist.CurrentRoot(call); err != nil || r != ct.root() {
			t.Fatalf("currentRoot = %x, %v; want %x", r, err, ct.root())
		}
	}

	if got, err := token.Name(call); err != nil || got != "OpenLedger Test" {
		t.Errorf("name = %q, %v", got, err)
	}
	if got, err := token.Symbol(call); err != nil || got != "OPEN" {
		t.Errorf("symbol = %q, %v", got, err)
	}
	if got, err := token.Decimals(call); err != nil || got != 18 {
		t.Errorf("decimals = %d, %v", got, err)
	}
	_, err = token.Mint(c.Opts(t, "stranger"), c.Addr("stranger"), open(1))
	simchain.WantRevert(t, err, simchain.ABI(t, contracts.OpenTokenMetaData), "OwnableUnauthorizedAccount")
	if got, err := dist.Token(call); err != nil || got != tokenAddr {
		t.Errorf("token = %s, %v; want %s", got, err, tokenAddr)
	}

	epoch1 := newClaimTree(t, map[common.Address]*big.Int{alice: open(100), bob: open(250), carol: open(5)})

	t.Run("posters", func(t *testing.T) {
		_, err := dist.PostRoot(c.Opts(t, "poster"), 1, epoch1.root())
		simchain.WantRevert(t, err, distABI, "NotPoster")
		_, err = dist.SetPoster(c.Opts(t, "stranger"), c.Addr("stranger"), true)
		simchain.WantRevert(t, err, distABI, "OwnableUnauthorizedAccount")
		tx, err := dist.SetPoster(c.Opts(t, "owner"), c.Addr("poster"), true)
		c.Mine(t, tx, err)
		if ok, err := dist.IsPoster(call, c.Addr("poster")); err != nil || !ok {
			t.Fatalf("isPoster = %v, %v", ok, err)
		}
		_, err = dist.PostRoot(c.Opts(t, "poster"), 1, [32]byte{})
		simchain.WantRevert(t, err, distABI, "ZeroRoot")
		_, err = dist.PostRoot(c.Opts(t, "poster"), 0, epoch1.root())
		simchain.WantRevert(t, err, distABI, "EpochNotIncreasing")
	})

	post(t, "poster", 1, epoch1)

	t.Run("epoch 1", func(t *testing.T) {
		_, err := dist.PostRoot(c.Opts(t, "poster"), 1, epoch1.root())
		simchain.WantRevert(t, err, distABI, "EpochNotIncreasing")

		gas := claim(t, epoch1, alice, open(100))
		t.Logf("gas of one claim (first claim, %d-leaf tree, proof of %d): %d", epoch1.tree.Len(), len(epoch1.proof(t, alice)), gas)
		claim(t, epoch1, bob, open(250))

		// A second claim pays nothing.
		_, err = dist.Claim(c.Opts(t, "stranger"), alice, open(100), epoch1.proof(t, alice))
		simchain.WantRevert(t, err, distABI, "NothingToClaim")

		for _, tc := range []struct {
			name    string
			account common.Address
			amount  *big.Int
			proof   [][32]byte
		}{
			{"forged amount", carol, open(6), epoch1.proof(t, carol)},
			{"another's proof", carol, open(5), epoch1.proof(t, alice)},
			{"another's leaf", dave, open(5), epoch1.proof(t, carol)},
			{"no proof", carol, open(5), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := dist.Claim(c.Opts(t, "stranger"), tc.account, tc.amount, tc.proof)
				simchain.WantRevert(t, err, distABI, "InvalidProof")
			})
		}
		if b := balance(t, carol); b.Sign() != 0 {
			t.Errorf("carol holds %s after refused claims", b)
		}
	})

	// Epoch 2 raises alice's total and adds dave; carol never claimed epoch 1.
	epoch2 := newClaimTree(t, map[common.Address]*big.Int{alice: open(160), bob: open(250), carol: open(5), dave: open(40)})
	post(t, "poster", 2, epoch2)

	t.Run("epoch 2", func(t *testing.T) {
		_, err := dist.Claim(c.Opts(t, "stranger"), carol, open(5), epoch1.proof(t, carol))
		simchain.WantRevert(t, err, distABI, "InvalidProof") // epoch 1's root is gone
		gas := claim(t, epoch2, alice, open(60))             // only the difference
		t.Logf("gas of one claim (repeat claim, %d-leaf tree): %d", epoch2.tree.Len(), gas)
		claim(t, epoch2, carol, open(5))
		claim(t, epoch2, dave, open(40))
		_, err = dist.Claim(c.Opts(t, "stranger"), bob, open(250), epoch2.proof(t, bob))
		simchain.WantRevert(t, err, distABI, "NothingToClaim")
		if b := balance(t, distAddr); b.Cmp(open(1000-160-250-5-40)) != 0 {
			t.Errorf("distributor holds %s, want %s", b, open(1000-160-250-5-40))
		}
	})

	t.Run("removed poster", func(t *testing.T) {
		tx, err := dist.SetPoster(c.Opts(t, "owner"), c.Addr("poster"), false)
		c.Mine(t, tx, err)
		_, err = dist.PostRoot(c.Opts(t, "poster"), 3, epoch2.root())
		simchain.WantRevert(t, err, distABI, "NotPoster")
	})
}
