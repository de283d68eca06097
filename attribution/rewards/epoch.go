package rewards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/proofs"
)

// Balance is the total amount of wei ever owed to an address, up to and
// including some epoch: what it may have claimed from the RewardsDistributor
// once that epoch's root is posted.
type Balance struct {
	Address    common.Address `cbor:"address" json:"address"`
	Cumulative *big.Int       `cbor:"cumulative" json:"cumulative"`
}

// Epoch is a reward epoch: the cumulative balance of every address ever paid,
// and the Merkle root the RewardsDistributor contract pays claims against.
// Epochs are made by NextEpoch or decoded from JSON; their fields must not
// be changed.
type Epoch struct {
	// Number is the epoch's number, posted with its root: 1, 2, ...
	Number uint64
	// Balances are sorted by address, one per address, every amount in
	// (0, 2^256).
	Balances []Balance
	// Root is the root of the OpenZeppelin StandardMerkleTree of
	// ["address", "uint256"] leaves (Address, Cumulative), one per balance,
	// leaves sorted (the JS library's default).
	Root [32]byte

	// tree is the tree of Balances, leaf i being Balances[i]; nil in an
	// Epoch built by hand.
	tree *proofs.Tree
}

// NextEpoch returns the epoch after prev (nil before the first epoch), in
// which each address's cumulative balance is its balance in prev (zero if
// none) plus the sum of its payouts in this epoch, whatever their roles.
// Every address of prev carries over, even with nothing new. The result is a
// function of prev and of the multiset of payouts only: neither their order
// nor how they are grouped into slices changes it. Payouts of zero wei are
// ignored.
//
// Errors wrap ErrBadEpoch (prev's balances are not as Epoch documents them,
// or prev is the last epoch a uint64 can number), ErrBadPayout (an amount is
// nil or negative, an address is zero, or a cumulative amount reaches 2^256)
// or ErrEmptyEpoch (no address has a balance).
func NextEpoch(prev *Epoch, payouts ...[]Payout) (*Epoch, error) {
	number := uint64(1)
	var prevBalances []Balance
	if prev != nil {
		if prev.Number == math.MaxUint64 {
			return nil, fmt.Errorf("%w: epoch %d is the last", ErrBadEpoch, prev.Number)
		}
		if err := checkBalances(prev.Balances); err != nil {
			return nil, fmt.Errorf("epoch %d: %w", prev.Number, err)
		}
		number, prevBalances = prev.Number+1, prev.Balances
	}
	n := len(prevBalances)
	for _, batch := range payouts {
		n += len(batch)
	}
	sum := make(map[common.Address]*big.Int, n)
	for _, b := range prevBalances {
		sum[b.Address] = new(big.Int).Set(b.Cumulative)
	}
	for k, batch := range payouts {
		for i, x := range batch {
			switch {
			case x.Amount == nil:
				return nil, fmt.Errorf("%w: payout %d of batch %d (%s, %s) has no amount", ErrBadPayout, i, k, x.Role, x.Address)
			case x.Amount.Sign() < 0:
				return nil, fmt.Errorf("%w: payout %d of batch %d (%s, %s) is negative (%s)", ErrBadPayout, i, k, x.Role, x.Address, x.Amount)
			case x.Address == (common.Address{}):
				return nil, fmt.Errorf("%w: payout %d of batch %d (%s, %s wei) is to the zero address", ErrBadPayout, i, k, x.Role, x.Amount)
			case x.Amount.Sign() == 0:
				continue
			}
			if have, ok := sum[x.Address]; ok {
				have.Add(have, x.Amount)
			} else {
				sum[x.Address] = new(big.Int).Set(x.Amount)
			}
		}
	}
	if len(sum) == 0 {
		return nil, fmt.Errorf("epoch %d: %w", number, ErrEmptyEpoch)
	}
	balances := make([]Balance, 0, len(sum))
	for a, c := range sum {
		if c.BitLen() > 256 {
			return nil, fmt.Errorf("%w: cumulative amount of %s in epoch %d does not fit a uint256", ErrBadPayout, a, number)
		}
		balances = append(balances, Balance{a, c})
	}
	slices.SortFunc(balances, compareBalances)
	tree, err := buildTree(balances)
	if err != nil {
		return nil, fmt.Errorf("epoch %d: %w", number, err)
	}
	return &Epoch{Number: number, Balances: balances, Root: tree.Root(), tree: tree}, nil
}

func compareBalances(x, y Balance) int {
	return bytes.Compare(x.Address[:], y.Address[:])
}

// checkBalances checks that balances are as Epoch documents them.
func checkBalances(balances []Balance) error {
	if len(balances) == 0 {
		return ErrEmptyEpoch
	}
	for i, b := range balances {
		switch {
		case b.Address == (common.Address{}):
			return fmt.Errorf("%w: balance %d is of the zero address", ErrBadEpoch, i)
		case i > 0 && compareBalances(balances[i-1], b) >= 0:
			return fmt.Errorf("%w: balance %d (%s) is not above the address before it", ErrBadEpoch, i, b.Address)
		case b.Cumulative == nil || b.Cumulative.Sign() <= 0 || b.Cumulative.BitLen() > 256:
			return fmt.Errorf("%w: balance %d (%s) is %v, not in (0, 2^256)", ErrBadEpoch, i, b.Address, b.Cumulative)
		}
	}
	return nil
}

// buildTree returns the tree of balances, leaf i being balances[i].
func buildTree(balances []Balance) (*proofs.Tree, error) {
	leaves := make([]proofs.Hash, len(balances))
	for i, b := range balances {
		leaf, err := proofs.ClaimLeaf(b.Address, b.Cumulative)
		if err != nil {
			return nil, fmt.Errorf("%w: balance of %s: %w", ErrBadEpoch, b.Address, err)
		}
		leaves[i] = leaf
	}
	return proofs.NewTree(leaves)
}

// Claim returns addr's cumulative balance in e and its Merkle proof against
// e.Root: the arguments of RewardsDistributor.claim(addr, cumulative, proof)
// once e's root is posted. The error wraps ErrNoBalance if addr has no
// balance in e, or ErrBadEpoch if e's balances do not hash to its root. It
// is safe for concurrent use.
func (e *Epoch) Claim(addr common.Address) (cumulative *big.Int, proof [][32]byte, err error) {
	i, ok := slices.BinarySearchFunc(e.Balances, addr, func(b Balance, a common.Address) int {
		return bytes.Compare(b.Address[:], a[:])
	})
	if !ok {
		return nil, nil, fmt.Errorf("claim of %s in epoch %d: %w", addr, e.Number, ErrNoBalance)
	}
	cumulative = e.Balances[i].Cumulative
	leaf, err := proofs.ClaimLeaf(addr, cumulative)
	if err != nil {
		return nil, nil, fmt.Errorf("claim of %s in epoch %d: %w: %w", addr, e.Number, ErrBadEpoch, err)
	}
	p, err := e.proof(i, leaf)
	if err != nil {
		return nil, nil, fmt.Errorf("claim of %s in epoch %d: %w", addr, e.Number, err)
	}
	proof = make([][32]byte, len(p))
	for k, h := range p {
		proof[k] = h
	}
	return new(big.Int).Set(cumulative), proof, nil
}

// proof returns the proof of Balances[i], whose leaf is leaf, checked
// against e.Root.
func (e *Epoch) proof(i int, leaf proofs.Hash) ([]proofs.Hash, error) {
	// The tree of NextEpoch proves leaf against e.Root if it still holds
	// leaf at i and has that root: it is immutable and hashes up to its root.
	if e.tree.Len() == len(e.Balances) && e.tree.Root() == e.Root {
		if l, err := e.tree.Leaf(i); err == nil && l == leaf {
			return e.tree.Proof(i)
		}
	}
	// Not built by NextEpoch or decoded, or changed since: build the tree
	// again from the balances.
	t, err := buildTree(e.Balances)
	if err != nil {
		return nil, err
	}
	p, err := t.Proof(i)
	if err != nil {
		return nil, err
	}
	if !proofs.Verify(e.Root, leaf, p) {
		return nil, fmt.Errorf("%w: balances do not hash to root %x", ErrBadEpoch, e.Root)
	}
	return p, nil
}

// VerifyClaim reports whether proof proves that addr is owed cumulative in
// total under root, as RewardsDistributor.claim checks it before paying.
func VerifyClaim(root [32]byte, addr common.Address, cumulative *big.Int, proof [][32]byte) bool {
	leaf, err := proofs.ClaimLeaf(addr, cumulative)
	if err != nil {
		return false
	}
	p := make([]proofs.Hash, len(proof))
	for i, h := range proof {
		p[i] = h
	}
	return proofs.Verify(root, leaf, p)
}

// Total returns the sum of e's balances: all the wei ever owed up to e. For
// every claim of e to be paid, the RewardsDistributor must have received
// this much in all, over all epochs (so Total of e less Total of the epoch
// before is what e adds).
func (e *Epoch) Total() *big.Int {
	total := new(big.Int)
	for _, b := range e.Balances {
		if b.Cumulative != nil {
			total.Add(total, b.Cumulative)
		}
	}
	return total
}

// balanceJSON is the JSON form of Balance.
type balanceJSON struct {
	Address    common.Address `json:"address"`
	Cumulative *decimal       `json:"cumulative"`
}

// MarshalJSON encodes b with its amount as a decimal string of wei.
func (b Balance) MarshalJSON() ([]byte, error) {
	return json.Marshal(balanceJSON{b.Address, (*decimal)(b.Cumulative)})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (b *Balance) UnmarshalJSON(data []byte) error {
	var j balanceJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode balance: %w", err)
	}
	*b = Balance{j.Address, (*big.Int)(j.Cumulative)}
	return nil
}

// epochJSON is the JSON form of Epoch.
type epochJSON struct {
	Number   uint64      `json:"number"`
	Balances []Balance   `json:"balances"`
	Root     proofs.Hash `json:"root"`
}

// MarshalJSON encodes e as {"number", "balances", "root"}, amounts as
// decimal strings of wei and the root as 0x-hex.
func (e Epoch) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochJSON{e.Number, e.Balances, e.Root})
}

// UnmarshalJSON decodes the form MarshalJSON writes and checks it: the
// balances must be as Epoch documents them and hash to the root (ErrBadEpoch,
// or ErrEmptyEpoch if there are none).
func (e *Epoch) UnmarshalJSON(data []byte) error {
	var j epochJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode epoch: %w", err)
	}
	if j.Number == 0 {
		return fmt.Errorf("decode epoch: %w: epoch numbers start at 1", ErrBadEpoch)
	}
	if err := checkBalances(j.Balances); err != nil {
		return fmt.Errorf("decode epoch %d: %w", j.Number, err)
	}
	tree, err := buildTree(j.Balances)
	if err != nil {
		return fmt.Errorf("decode epoch %d: %w", j.Number, err)
	}
	if tree.Root() != j.Root {
		return fmt.Errorf("decode epoch %d: %w: balances hash to %s, not to root %s", j.Number, ErrBadEpoch, tree.Root(), j.Root)
	}
	*e = Epoch{Number: j.Number, Balances: j.Balances, Root: j.Root, tree: tree}
	return nil
}
