package rewards_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/proofs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// inference is one attributed inference of a fixture.
type inference struct {
	in, out uint64
	scores  []rewards.Score
}

// fixture is the fixed input of the pinned epochs: a few inferences of one
// model under DefaultParams, with every part paid out.
type fixture struct {
	p      rewards.Params
	owner  common.Address
	epochs [][]inference
}

func newFixture() fixture {
	p := rewards.DefaultParams()
	p.Platform, p.Stakers = addr("platform"), addr("stakers")
	score := func(name string, s uint64) rewards.Score { return rewards.Score{Address: addr(name), Score: s} }
	return fixture{
		p:     p,
		owner: addr("owner"),
		epochs: [][]inference{
			{
				{1234, 357, []rewards.Score{score("alice", 3), score("bob", 1)}},
				// Parts of 7/15, 5/15 and 3/15 leave rounding dust.
				{81, 2003, []rewards.Score{score("bob", 5), score("carol", 3), score("alice", 7)}},
				{500, 500, nil}, // attributed to nobody
			},
			{
				{10, 10, []rewards.Score{score("carol", 5), score("dave", 2)}},
				{7, 3, []rewards.Score{score("alice", 1)}},
			},
		},
	}
}

// payouts returns the payouts of epoch k of the fixture, one slice per
// inference.
func (f fixture) payouts(t testing.TB, k int) [][]rewards.Payout {
	t.Helper()
	var out [][]rewards.Payout
	for _, inf := range f.epochs[k] {
		var weights []rewards.Share
		if inf.scores != nil {
			weights = mustShares(t, inf.scores...)
		}
		ps, err := rewards.Split(f.p, inf.in, inf.out, f.owner, weights)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ps)
	}
	return out
}

// epochs returns every epoch of the fixture.
func (f fixture) run(t testing.TB) []*rewards.Epoch {
	t.Helper()
	var prev *rewards.Epoch
	var out []*rewards.Epoch
	for k := range f.epochs {
		e, err := rewards.NextEpoch(prev, f.payouts(t, k)...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		prev = e
	}
	return out
}

// TestEpochVector pins the roots and totals of the fixture's epochs: any
// node that splits the same inferences under the same Params must post the
// same bytes. The whole epochs are in testdata/epochs.json.
func TestEpochVector(t *testing.T) {
	epochs := newFixture().run(t)
	want := []struct {
		root  string
		total string
	}{
		{"dfcbc50361088c39b19da771c6a35c839884fd82a8dbb951cdc83f52b975cfee", "21390000000000000"},
		{"35295ffe5d62f485077d7a5af7b28c69b012f6de39a69cf2641c7777376ee312", "23502000000000000"},
	}
	for i, e := range epochs {
		if e.Number != uint64(i+1) {
			t.Errorf("epoch %d numbered %d", i+1, e.Number)
		}
		if got := hex.EncodeToString(e.Root[:]); got != want[i].root {
			t.Errorf("epoch %d root = %s, want %s", e.Number, got, want[i].root)
		}
		if got := e.Total().String(); got != want[i].total {
			t.Errorf("epoch %d total = %s, want %s", e.Number, got, want[i].total)
		}
	}
	got, err := json.MarshalIndent(epochs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "epochs.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantJSON, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, wantJSON) {
		t.Errorf("epochs encode to\n%s\nwant (%s)\n%s", got, golden, wantJSON)
	}
	var back []*rewards.Epoch
	if err := json.Unmarshal(wantJSON, &back); err != nil {
		t.Fatal(err)
	}
	for i := range back {
		if back[i].Root != epochs[i].Root || !sameJSON(t, back[i], epochs[i]) {
			t.Errorf("decoded epoch %d differs", i+1)
		}
	}
}

// TestEpochArithmetic checks the fixture's balances by hand: each address's
// cumulative balance is the sum of its payouts so far.
func TestEpochArithmetic(t *testing.T) {
	f := newFixture()
	epochs := f.run(t)
	owed := make(map[common.Address]*big.Int)
	for k, e := range epochs {
		for _, ps := range f.payouts(t, k) {
			for _, x := range ps {
				if owed[x.Address] == nil {
					owed[x.Address] = new(big.Int)
				}
				owed[x.Address].Add(owed[x.Address], x.Amount)
			}
		}
		if len(e.Balances) != len(owed) {
			t.Fatalf("epoch %d has %d balances, want %d", e.Number, len(e.Balances), len(owed))
		}
		total := new(big.Int)
		for _, b := range e.Balances {
			if b.Cumulative.Cmp(owed[b.Address]) != 0 {
				t.Errorf("epoch %d: %s has %s, want %s", e.Number, b.Address, b.Cumulative, owed[b.Address])
			}
			total.Add(total, b.Cumulative)
		}
		if e.Total().Cmp(total) != 0 {
			t.Errorf("epoch %d: Total = %s, want %s", e.Number, e.Total(), total)
		}
		// Every part of every fee is paid but the contributor pool of the
		// inference attributed to nobody.
		fees := new(big.Int)
		for j := 0; j <= k; j++ {
			for _, inf := range f.epochs[j] {
				fee := rewards.Fee(f.p, inf.in, inf.out)
				fees.Add(fees, fee.Total)
				if inf.scores == nil {
					fees.Sub(fees, fee.Contributors)
				}
			}
		}
		if total.Cmp(fees) != 0 {
			t.Errorf("epoch %d: balances sum to %s, fees less unpaid pools to %s", e.Number, total, fees)
		}
	}
}

func TestNextEpoch(t *testing.T) {
	a, b, c := hexAddr("0x0a"), hexAddr("0x0b"), hexAddr("0x0c")
	pay := func(who common.Address, role string, amount int64) rewards.Payout {
		return rewards.Payout{Address: who, Role: role, Amount: big.NewInt(amount)}
	}
	e1, err := rewards.NextEpoch(nil,
		[]rewards.Payout{pay(c, rewards.RoleContributor, 5), pay(a, rewards.RoleContributor, 1)},
		nil,
		[]rewards.Payout{pay(a, rewards.RoleModelOwner, 2), pay(b, rewards.RoleStaker, 0)},
	)
	if err != nil {
		t.Fatal(err)
	}
	// b's zero payout gives it no balance; a's two roles add up.
	if got, want := balancesString(e1), "0x000000000000000000000000000000000000000A 3\n0x000000000000000000000000000000000000000C 5\n"; e1.Number != 1 || got != want {
		t.Fatalf("epoch %d balances\n%swant epoch 1\n%s", e1.Number, got, want)
	}
	e2, err := rewards.NextEpoch(e1, []rewards.Payout{pay(b, rewards.RoleContributor, 4), pay(a, rewards.RoleContributor, 10)})
	if err != nil {
		t.Fatal(err)
	}
	// c carries over with nothing new.
	if got, want := balancesString(e2), "0x000000000000000000000000000000000000000A 13\n0x000000000000000000000000000000000000000b 4\n0x000000000000000000000000000000000000000C 5\n"; e2.Number != 2 || got != want {
		t.Fatalf("epoch %d balances\n%swant epoch 2\n%s", e2.Number, got, want)
	}
	if e1.Balances[0].Cumulative.Int64() != 3 {
		t.Error("NextEpoch changed the previous epoch's balances")
	}
	// An epoch of no new payouts keeps the balances and the root.
	e3, err := rewards.NextEpoch(e2)
	if err != nil {
		t.Fatal(err)
	}
	if e3.Number != 3 || e3.Root != e2.Root || balancesString(e3) != balancesString(e2) {
		t.Errorf("empty epoch 3 = %d %x, want 3 %x", e3.Number, e3.Root, e2.Root)
	}
	// Changing an epoch's amounts after the fact does not change the next.
	e3.Balances[0].Cumulative.SetInt64(1000)
	if e2.Balances[0].Cumulative.Int64() != 13 {
		t.Error("epochs share their amounts")
	}
}

func balancesString(e *rewards.Epoch) string {
	var s string
	for _, b := range e.Balances {
		s += b.Address.Hex() + " " + b.Cumulative.String() + "\n"
	}
	return s
}

func TestNextEpochErrors(t *testing.T) {
	a, b := hexAddr("0x0a"), hexAddr("0x0b")
	one := big.NewInt(1)
	maxUint256 := new(big.Int).Sub(new(big.Int).Lsh(one, 256), one)
	good := &rewards.Epoch{Number: 4, Balances: []rewards.Balance{{Address: a, Cumulative: one}, {Address: b, Cumulative: one}}}
	for _, tc := range []struct {
		name    string
		prev    *rewards.Epoch
		payouts []rewards.Payout
		want    error
	}{
		{"nothing", nil, nil, rewards.ErrEmptyEpoch},
		{"only zero payouts", nil, []rewards.Payout{{Address: a, Amount: new(big.Int)}}, rewards.ErrEmptyEpoch},
		{"nil amount", nil, []rewards.Payout{{Address: a}}, rewards.ErrBadPayout},
		{"negative amount", good, []rewards.Payout{{Address: a, Amount: big.NewInt(-1)}}, rewards.ErrBadPayout},
		{"zero address", nil, []rewards.Payout{{Amount: one}}, rewards.ErrBadPayout},
		{"2^256", nil, []rewards.Payout{{Address: a, Amount: maxUint256}, {Address: a, Amount: one}}, rewards.ErrBadPayout},
		{"prev plus payout overflows", &rewards.Epoch{Number: 1, Balances: []rewards.Balance{{Address: a, Cumulative: maxUint256}}},
			[]rewards.Payout{{Address: a, Amount: one}}, rewards.ErrBadPayout},
		{"prev unsorted", &rewards.Epoch{Number: 1, Balances: []rewards.Balance{{Address: b, Cumulative: one}, {Address: a, Cumulative: one}}},
			nil, rewards.ErrBadEpoch},
		{"prev duplicate", &rewards.Epoch{Number: 1, Balances: []rewards.Balance{{Address: a, Cumulative: one}, {Address: a, Cumulative: one}}},
			nil, rewards.ErrBadEpoch},
		{"prev zero balance", &rewards.Epoch{Number: 1, Balances: []rewards.Balance{{Address: a, Cumulative: new(big.Int)}}},
			nil, rewards.ErrBadEpoch},
		{"prev nil balance", &rewards.Epoch{Number: 1, Balances: []rewards.Balance{{Address: a}}}, nil, rewards.ErrBadEpoch},
		{"prev zero address", &rewards.Epoch{Number: 1, Balances: []rewards.Balance{{Cumulative: one}}}, nil, rewards.ErrBadEpoch},
		{"prev has no balances", &rewards.Epoch{Number: 1}, []rewards.Payout{{Address: a, Amount: one}}, rewards.ErrEmptyEpoch},
		{"prev is the last epoch", &rewards.Epoch{Number: math.MaxUint64, Balances: good.Balances}, nil, rewards.ErrBadEpoch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := rewards.NextEpoch(tc.prev, tc.payouts)
			if !errors.Is(err, tc.want) {
				t.Errorf("NextEpoch = %+v, %v; want %v", e, err, tc.want)
			}
		})
	}
	if e, err := rewards.NextEpoch(good, []rewards.Payout{{Address: a, Amount: maxUint256}}); !errors.Is(err, rewards.ErrBadPayout) {
		t.Errorf("overflowing a hand-built epoch = %v, %v", e, err)
	}
}

// TestNextEpochShuffled checks that the order of the payouts and their
// grouping into slices do not change a byte of the epoch.
func TestNextEpochShuffled(t *testing.T) {
	r := newRand(t)
	for iter := range 30 {
		addrs := make([]common.Address, 1+r.IntN(100))
		for i := range addrs {
			addrs[i] = randAddr(r)
		}
		var prev *rewards.Epoch
		if r.IntN(2) == 0 {
			var err error
			prev, err = rewards.NextEpoch(nil, randomPayouts(r, addrs, 1+r.IntN(50)))
			if err != nil {
				t.Fatal(err)
			}
		}
		flat := randomPayouts(r, addrs, 1+r.IntN(400))
		want, err := rewards.NextEpoch(prev, flat)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want)
		for range 5 {
			shuffled := slices.Clone(flat)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			var batches [][]rewards.Payout
			for len(shuffled) > 0 {
				n := min(len(shuffled), r.IntN(20))
				batches = append(batches, shuffled[:n])
				shuffled = shuffled[n:]
			}
			got, err := rewards.NextEpoch(prev, batches...)
			if err != nil {
				t.Fatal(err)
			}
			if gotJSON, _ := json.Marshal(got); got.Root != want.Root || !bytes.Equal(gotJSON, wantJSON) {
				t.Fatalf("iteration %d: shuffled payouts gave root %x, want %x", iter, got.Root, want.Root)
			}
		}
	}
}

// randomPayouts returns n payouts to addrs, some of zero wei.
func randomPayouts(r *rand.Rand, addrs []common.Address, n int) []rewards.Payout {
	roles := []string{rewards.RoleContributor, rewards.RoleModelOwner, rewards.RolePlatform, rewards.RoleStaker}
	out := make([]rewards.Payout, n)
	for i := range out {
		amount := new(big.Int).SetUint64(r.Uint64())
		if r.IntN(10) == 0 {
			amount.SetInt64(0)
		}
		out[i] = rewards.Payout{Address: addrs[r.IntN(len(addrs))], Role: roles[r.IntN(len(roles))], Amount: amount}
	}
	return out
}

// TestEpochRootIsStandardTree checks the root against proofs.StandardTree
// over the same ["address", "uint256"] values in another order, and
// against the real @openzeppelin/merkle-tree's claim-6 vector.
func TestEpochRootIsStandardTree(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{1, 2, 3, 7, 64, 100} {
		addrs := make([]common.Address, n)
		for i := range addrs {
			addrs[i] = randAddr(r)
		}
		e, err := rewards.NextEpoch(nil, randomPayouts(r, addrs, 4*n), []rewards.Payout{{Address: addrs[0], Amount: big.NewInt(1)}})
		if err != nil {
			t.Fatal(err)
		}
		values := make([][]any, len(e.Balances))
		for i, b := range e.Balances {
			values[i] = []any{b.Address, b.Cumulative}
		}
		r.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
		st, err := proofs.NewStandardTree([]string{"address", "uint256"}, values)
		if err != nil {
			t.Fatal(err)
		}
		if st.Root() != e.Root {
			t.Errorf("%d balances: root %x, StandardTree %s", n, e.Root, st.Root())
		}
	}

	data, err := os.ReadFile(filepath.Join("..", "..", "proofs", "testdata", "merkle", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vf struct {
		Trees []struct {
			Name   string
			Values [][2]string
			Root   proofs.Hash
			Proofs [][]proofs.Hash
		}
	}
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(vf.Trees, func(v struct {
		Name   string
		Values [][2]string
		Root   proofs.Hash
		Proofs [][]proofs.Hash
	}) bool {
		return v.Name == "claim-6"
	})
	if i < 0 {
		t.Fatal("no claim-6 tree in the vectors")
	}
	v := vf.Trees[i]
	var payouts []rewards.Payout
	for _, val := range v.Values {
		payouts = append(payouts, rewards.Payout{Address: common.HexToAddress(val[0]), Amount: wei(t, val[1])})
	}
	e, err := rewards.NextEpoch(nil, payouts)
	if err != nil {
		t.Fatal(err)
	}
	if e.Root != v.Root {
		t.Errorf("claim-6 root = %x, @openzeppelin/merkle-tree %s", e.Root, v.Root)
	}
	for k, x := range payouts {
		cum, proof, err := e.Claim(x.Address)
		if err != nil {
			t.Fatal(err)
		}
		if cum.Cmp(x.Amount) != 0 || len(proof) != len(v.Proofs[k]) {
			t.Fatalf("claim-6 claim %d = %s with %d proof nodes, want %s with %d", k, cum, len(proof), x.Amount, len(v.Proofs[k]))
		}
		for j := range proof {
			if proof[j] != v.Proofs[k][j] {
				t.Errorf("claim-6 proof %d node %d = %x, want %s", k, j, proof[j], v.Proofs[k][j])
			}
		}
	}
}

func TestClaim(t *testing.T) {
	epochs := newFixture().run(t)
	e := epochs[1]
	for _, b := range e.Balances {
		cum, proof, err := e.Claim(b.Address)
		if err != nil {
			t.Fatal(err)
		}
		if cum.Cmp(b.Cumulative) != 0 {
			t.Errorf("Claim(%s) = %s, want %s", b.Address, cum, b.Cumulative)
		}
		if !rewards.VerifyClaim(e.Root, b.Address, cum, proof) {
			t.Errorf("proof of %s does not verify", b.Address)
		}
		for _, bad := range []struct {
			name  string
			root  [32]byte
			addr  common.Address
			cum   *big.Int
			proof [][32]byte
		}{
			{"amount + 1", e.Root, b.Address, new(big.Int).Add(cum, big.NewInt(1)), proof},
			{"amount − 1", e.Root, b.Address, new(big.Int).Sub(cum, big.NewInt(1)), proof},
			{"other address", e.Root, addr("mallory"), cum, proof},
			{"previous root", epochs[0].Root, b.Address, cum, proof},
			{"short proof", e.Root, b.Address, cum, proof[1:]},
			{"no proof", e.Root, b.Address, cum, nil},
			{"nil amount", e.Root, b.Address, nil, proof},
			{"negative amount", e.Root, b.Address, big.NewInt(-1), proof},
		} {
			if rewards.VerifyClaim(bad.root, bad.addr, bad.cum, bad.proof) {
				t.Errorf("%s: VerifyClaim of %s accepted", bad.name, b.Address)
			}
		}
		// The caller may change what Claim returns.
		cum.SetInt64(0)
		proof[0] = [32]byte{}
	}
	if cum, _, _ := e.Claim(e.Balances[0].Address); cum.Cmp(e.Balances[0].Cumulative) != 0 || cum.Sign() == 0 {
		t.Error("changing a claim changed the epoch")
	}
	if _, _, err := e.Claim(addr("mallory")); !errors.Is(err, rewards.ErrNoBalance) {
		t.Errorf("Claim of an unpaid address = %v, want ErrNoBalance", err)
	}

	// One balance: the root is its leaf and the proof is empty.
	one, err := rewards.NextEpoch(nil, []rewards.Payout{{Address: addr("alice"), Amount: big.NewInt(7)}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := proofs.ClaimLeaf(addr("alice"), big.NewInt(7))
	if cum, proof, err := one.Claim(addr("alice")); err != nil || cum.Int64() != 7 || len(proof) != 0 || one.Root != leaf {
		t.Errorf("one-balance claim = %v %v %v, root %x leaf %s", cum, proof, err, one.Root, leaf)
	}
}

// TestClaimHandBuilt checks Claim on epochs not made by NextEpoch: built by
// hand (it builds the tree) or changed after the fact (it refuses to prove
// against a root the balances do not hash to).
func TestClaimHandBuilt(t *testing.T) {
	e := newFixture().run(t)[0]
	byHand := &rewards.Epoch{Number: e.Number, Balances: e.Balances, Root: e.Root}
	for _, b := range e.Balances {
		cum, proof, err := byHand.Claim(b.Address)
		if err != nil || !rewards.VerifyClaim(e.Root, b.Address, cum, proof) {
			t.Errorf("hand-built claim of %s = %v, %v", b.Address, cum, err)
		}
	}

	wrongRoot := &rewards.Epoch{Number: e.Number, Balances: e.Balances, Root: [32]byte{1}}
	if _, _, err := wrongRoot.Claim(e.Balances[0].Address); !errors.Is(err, rewards.ErrBadEpoch) {
		t.Errorf("claim against a wrong root = %v, want ErrBadEpoch", err)
	}

	changed := *e
	changed.Balances = slices.Clone(e.Balances)
	changed.Balances[1].Cumulative = new(big.Int).Add(e.Balances[1].Cumulative, big.NewInt(1))
	if _, _, err := changed.Claim(e.Balances[1].Address); !errors.Is(err, rewards.ErrBadEpoch) {
		t.Errorf("claim of a changed balance = %v, want ErrBadEpoch", err)
	}
	// The others still prove against the root, which holds their leaves.
	cum, proof, err := changed.Claim(e.Balances[0].Address)
	if err != nil || !rewards.VerifyClaim(e.Root, e.Balances[0].Address, cum, proof) {
		t.Errorf("claim of an unchanged balance = %v, %v", cum, err)
	}
}

func TestEpochJSONErrors(t *testing.T) {
	e := newFixture().run(t)[0]
	good, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back rewards.Epoch
	if err := json.Unmarshal(good, &back); err != nil {
		t.Fatal(err)
	}
	// A decoded epoch proves claims as the original does.
	if c1, p1, err := back.Claim(e.Balances[0].Address); err != nil || !rewards.VerifyClaim(e.Root, e.Balances[0].Address, c1, p1) {
		t.Errorf("claim of a decoded epoch = %v, %v", c1, err)
	}
	a, b := e.Balances[0], e.Balances[1]
	enc := func(number uint64, root [32]byte, balances ...rewards.Balance) string {
		t.Helper()
		data, err := json.Marshal(&rewards.Epoch{Number: number, Balances: balances, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	plusOne := rewards.Balance{Address: a.Address, Cumulative: new(big.Int).Add(a.Cumulative, big.NewInt(1))}
	for _, tc := range []struct {
		name, json string
		want       error
	}{
		{"other root", enc(1, [32]byte{1}, e.Balances...), rewards.ErrBadEpoch},
		{"changed amount", enc(1, e.Root, append([]rewards.Balance{plusOne}, e.Balances[1:]...)...), rewards.ErrBadEpoch},
		{"unsorted", enc(1, e.Root, b, a), rewards.ErrBadEpoch},
		{"duplicate", enc(1, e.Root, a, a), rewards.ErrBadEpoch},
		{"zero amount", enc(1, e.Root, rewards.Balance{Address: a.Address, Cumulative: new(big.Int)}), rewards.ErrBadEpoch},
		{"no amount", `{"number":1,"balances":[{"address":"0x000000000000000000000000000000000000000a"}],"root":"` + hex.EncodeToString(e.Root[:]) + `"}`, rewards.ErrBadEpoch},
		{"number 0", enc(0, e.Root, e.Balances...), rewards.ErrBadEpoch},
		{"no balances", enc(1, e.Root), rewards.ErrEmptyEpoch},
		{"number amount", `{"number":1,"balances":[{"address":"0x000000000000000000000000000000000000000a","cumulative":5}]}`, nil},
		{"short root", `{"number":1,"balances":[],"root":"0x1234"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got rewards.Epoch
			err := json.Unmarshal([]byte(tc.json), &got)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Unmarshal = %v, want %v", err, tc.want)
			}
		})
	}
}
