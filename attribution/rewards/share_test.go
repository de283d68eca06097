package rewards_test

import (
	"bytes"
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/attribution/rewards"
)

func TestShares(t *testing.T) {
	a, b, c := hexAddr("0x0a"), hexAddr("0x0b"), hexAddr("0x0c")
	third := rewards.Scale / 3 // 333333333333333333, remainder 1 each
	for _, tc := range []struct {
		name   string
		scores []rewards.Score
		want   []rewards.Share
	}{
		{"one", []rewards.Score{{b, 7}}, []rewards.Share{{b, rewards.Scale}}},
		{"halves", []rewards.Score{{b, 5}, {a, 5}}, []rewards.Share{{a, rewards.Scale / 2}, {b, rewards.Scale / 2}}},
		// Three equal remainders: the one part left goes to the lowest address.
		{"thirds", []rewards.Score{{c, 1}, {b, 1}, {a, 1}}, []rewards.Share{{a, third + 1}, {b, third}, {c, third}}},
		// 1:2 leaves remainders 1 and 2 (of 3): the part left goes to the larger.
		{"one to two", []rewards.Score{{a, 1}, {b, 2}}, []rewards.Share{{a, third}, {b, 2*third + 1}}},
		{"duplicates add", []rewards.Score{{a, 1}, {b, 2}, {a, 1}}, []rewards.Share{{a, rewards.Scale / 2}, {b, rewards.Scale / 2}}},
		{"zero scores get nothing", []rewards.Score{{a, 0}, {b, 3}, {c, 0}}, []rewards.Share{{b, rewards.Scale}}},
		// Scores of 2^64−1 and 1: b's exact part is 0.054…, and a's
		// remainder (2^64 − Scale, of 2^64) beats b's (Scale), so a gets
		// the part left over and b keeps a share of zero parts.
		{"huge scores", []rewards.Score{{a, ^uint64(0)}, {b, 1}}, []rewards.Share{{a, rewards.Scale}, {b, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rewards.Shares(tc.scores)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Shares = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSharesNoScore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []rewards.Score
	}{
		{"nil", nil},
		{"all zero", []rewards.Score{{hexAddr("0x01"), 0}, {hexAddr("0x02"), 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := rewards.Shares(tc.scores); !errors.Is(err, rewards.ErrNoScore) {
				t.Errorf("Shares = %v, %v; want ErrNoScore", got, err)
			}
		})
	}
}

// TestSharesProperties checks on random scores that shares sum to Scale, are
// sorted by unique address, differ from the exact share by less than one
// part, and do not depend on the order of the scores.
func TestSharesProperties(t *testing.T) {
	r := newRand(t)
	for iter := range 300 {
		n := 1 + r.IntN(40)
		addrs := make([]common.Address, 1+r.IntN(n))
		for i := range addrs {
			addrs[i] = randAddr(r)
		}
		scores := make([]rewards.Score, n)
		for i := range scores {
			var s uint64
			switch r.IntN(4) {
			case 0:
				s = 0
			case 1:
				s = r.Uint64()
			default:
				s = r.Uint64N(1000)
			}
			scores[i] = rewards.Score{Address: addrs[r.IntN(len(addrs))], Score: s}
		}
		got, err := rewards.Shares(scores)
		total := new(big.Int)
		byAddr := make(map[common.Address]*big.Int)
		for _, s := range scores {
			if byAddr[s.Address] == nil {
				byAddr[s.Address] = new(big.Int)
			}
			byAddr[s.Address].Add(byAddr[s.Address], new(big.Int).SetUint64(s.Score))
			total.Add(total, new(big.Int).SetUint64(s.Score))
		}
		if total.Sign() == 0 {
			if !errors.Is(err, rewards.ErrNoScore) {
				t.Fatalf("iteration %d: all-zero scores gave %v, %v", iter, got, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		var sum uint64
		for i, s := range got {
			sum += s.Parts
			if i > 0 && bytes.Compare(got[i-1].Address[:], s.Address[:]) >= 0 {
				t.Fatalf("iteration %d: shares not sorted by unique address: %v", iter, got)
			}
			// floor(Scale·score/total) ≤ parts ≤ that + 1.
			floor := new(big.Int).Mul(byAddr[s.Address], new(big.Int).SetUint64(rewards.Scale))
			floor.Quo(floor, total)
			if d := new(big.Int).Sub(new(big.Int).SetUint64(s.Parts), floor); d.Sign() < 0 || d.Cmp(big.NewInt(1)) > 0 {
				t.Fatalf("iteration %d: %s has %d parts, exact floor %s", iter, s.Address, s.Parts, floor)
			}
		}
		if sum != rewards.Scale {
			t.Fatalf("iteration %d: parts sum to %d, want %d", iter, sum, rewards.Scale)
		}
		for range 3 {
			shuffled := append([]rewards.Score(nil), scores...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			again, err := rewards.Shares(shuffled)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("iteration %d: shuffled scores gave %v, %v; want %v", iter, again, err, got)
			}
		}
	}
}
