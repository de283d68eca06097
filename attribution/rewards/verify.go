package rewards

import (
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// PaidRecord is what an epoch check reads of one attribution record: its fee
// inputs and weights, and the payouts it states.
type PaidRecord struct {
	// Name names the record in a problem (its CID).
	Name                string
	Params              Params
	TokensIn, TokensOut uint64
	ModelOwner          common.Address
	Weights             []Share
	Payouts             []Payout
}

// EpochCheck is what VerifyEpoch checks an epoch against.
type EpochCheck struct {
	// Signed is the epoch as its poster signed it.
	Signed *Epoch
	// Prev is the epoch Signed names as its previous one; nil when it
	// names none.
	Prev *Epoch
	// Records are the records Signed lists, in its order.
	Records []PaidRecord
	// Posted is the root posted on chain for Signed's number; nil when none
	// was posted.
	Posted *[32]byte
}

// EpochVerdict is VerifyEpoch's answer: the epoch recomputed from the
// inputs, and what is wrong with the signed one ("" when nothing is).
type EpochVerdict struct {
	Recomputed *Epoch
	Problem    string
}

// OK reports whether the epoch checked out.
func (v EpochVerdict) OK() bool { return v.Problem == "" }

// VerifyEpoch rechecks a signed epoch, as any node holding its inputs can:
// every record's payouts are recomputed from its weights and parameters
// (Split) and must be the payouts it states; the epoch is recomputed from
// the previous one and those payouts (NextEpoch) and must have the signed
// number, root and balances; and the root posted on chain must be the
// signed one. The first difference found is the verdict's Problem. It
// fails only when the inputs cannot be summed at all (errors of NextEpoch:
// a previous epoch whose balances are not as Epoch documents them, a
// payout outgrowing a uint256).
func VerifyEpoch(in EpochCheck) (EpochVerdict, error) {
	var v EpochVerdict
	if in.Signed.Number > 1 && in.Prev == nil {
		v.Problem = "no previous epoch named"
		return v, nil
	}
	payouts := make([][]Payout, 0, len(in.Records))
	for _, r := range in.Records {
		again, err := Split(r.Params, r.TokensIn, r.TokensOut, r.ModelOwner, r.Weights)
		if err != nil {
			v.Problem = fmt.Sprintf("record %s: %v", r.Name, err)
			return v, nil
		}
		if !slices.EqualFunc(again, r.Payouts, samePayout) {
			v.Problem = fmt.Sprintf("record %s: its payouts are not what its weights and parameters give", r.Name)
			return v, nil
		}
		payouts = append(payouts, again)
	}
	e, err := NextEpoch(in.Prev, payouts...)
	if err != nil {
		return v, err
	}
	v.Recomputed = e
	switch {
	case e.Number != in.Signed.Number:
		v.Problem = fmt.Sprintf("epoch %d names epoch %d as its previous one", in.Signed.Number, in.Prev.Number)
	case e.Root != in.Signed.Root:
		v.Problem = "the recomputed root is not the signed one"
	case in.Posted == nil:
		v.Problem = "no root was posted on chain for this epoch"
	case *in.Posted != in.Signed.Root:
		v.Problem = "the root posted on chain is not the signed one"
	case !slices.EqualFunc(e.Balances, in.Signed.Balances, sameBalance):
		v.Problem = "the recomputed balances are not the signed ones"
	}
	return v, nil
}

func sameBalance(x, y Balance) bool {
	return x.Address == y.Address && sameAmount(x.Cumulative, y.Cumulative)
}

func samePayout(x, y Payout) bool {
	return x.Address == y.Address && x.Role == y.Role && sameAmount(x.Amount, y.Amount)
}

func sameAmount(x, y *big.Int) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.Cmp(y) == 0
}
