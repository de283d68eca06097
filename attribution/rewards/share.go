package rewards

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// Scale is one whole in the fixed-point shares of a split: the Parts of a
// list of shares sum to exactly Scale (10^18, as one OPEN is 10^18 wei).
const Scale uint64 = 1_000_000_000_000_000_000

// ErrNoScore means shares were asked of scores that are all zero.
var ErrNoScore = errors.New("rewards: no positive score to share")

// Share is an account's part of a whole, in units of 1/Scale. Parts pass
// 2^53, so JSON gives them as a decimal string, as amounts are.
type Share struct {
	Address common.Address `cbor:"address" json:"address"`
	Parts   uint64         `cbor:"parts" json:"parts,string"`
}

// Score is an account's unnormalised claim on a whole, such as the summed
// weights of the spans credited to a contributor.
type Score struct {
	Address common.Address
	Score   uint64
}

// Shares turns scores into shares that sum to exactly Scale, by the
// largest-remainder method: each account gets floor(Scale·score/total), and
// the parts left over go one each to the largest remainders, ties to the
// lower address. Scores of one address are added; zero scores get no share.
// The result is sorted by address. It is a pure function of the multiset of
// scores, so every node computes the same bytes.
func Shares(scores []Score) ([]Share, error) {
	sum := make(map[common.Address]*big.Int)
	total := new(big.Int)
	for _, s := range scores {
		if s.Score == 0 {
			continue
		}
		v := new(big.Int).SetUint64(s.Score)
		if have, ok := sum[s.Address]; ok {
			have.Add(have, v)
		} else {
			sum[s.Address] = v
		}
		total.Add(total, v)
	}
	if total.Sign() == 0 {
		return nil, ErrNoScore
	}
	type part struct {
		share Share
		rem   *big.Int
	}
	parts := make([]part, 0, len(sum))
	scale := new(big.Int).SetUint64(Scale)
	var given uint64
	for a, v := range sum {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(v, scale), total, new(big.Int))
		parts = append(parts, part{Share{a, q.Uint64()}, r})
		given += q.Uint64()
	}
	slices.SortFunc(parts, func(x, y part) int {
		if c := y.rem.Cmp(x.rem); c != 0 {
			return c
		}
		return bytes.Compare(x.share.Address[:], y.share.Address[:])
	})
	left := Scale - given
	if left > uint64(len(parts)) {
		return nil, fmt.Errorf("rewards: %d parts left over %d shares", left, len(parts))
	}
	for i := range left {
		parts[i].share.Parts++
	}
	out := make([]Share, len(parts))
	for i, p := range parts {
		out[i] = p.share
	}
	slices.SortFunc(out, func(x, y Share) int { return bytes.Compare(x.Address[:], y.Address[:]) })
	return out, nil
}
