package rewards_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/openledger/openledger/attribution/rewards"
)

// BenchmarkEpoch builds an epoch of n addresses on top of a previous epoch
// of the same n (one new payout each) and computes every address's proof.
func BenchmarkEpoch(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			r := newRand(b)
			payouts := make([]rewards.Payout, n)
			for i := range payouts {
				payouts[i] = rewards.Payout{Address: randAddr(r), Role: rewards.RoleContributor, Amount: new(big.Int).SetUint64(r.Uint64())}
			}
			prev, err := rewards.NextEpoch(nil, payouts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				e, err := rewards.NextEpoch(prev, payouts)
				if err != nil {
					b.Fatal(err)
				}
				for _, bal := range e.Balances {
					if _, _, err := e.Claim(bal.Address); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkNextEpoch is BenchmarkEpoch without the proofs.
func BenchmarkNextEpoch(b *testing.B) {
	for _, n := range []int{10_000} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			r := newRand(b)
			payouts := make([]rewards.Payout, n)
			for i := range payouts {
				payouts[i] = rewards.Payout{Address: randAddr(r), Role: rewards.RoleContributor, Amount: new(big.Int).SetUint64(r.Uint64())}
			}
			prev, err := rewards.NextEpoch(nil, payouts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rewards.NextEpoch(prev, payouts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSplit splits the fee of an inference among n contributors of
// unequal weights.
func BenchmarkSplit(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("contributors=%d", n), func(b *testing.B) {
			r := newRand(b)
			scores := make([]rewards.Score, n)
			for i := range scores {
				scores[i] = rewards.Score{Address: randAddr(r), Score: 1 + r.Uint64N(1<<40)}
			}
			weights := mustShares(b, scores...)
			p := rewards.DefaultParams()
			p.Platform, p.Stakers = addr("platform"), addr("stakers")
			owner := common.Address{1}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rewards.Split(p, 1234, 5678, owner, weights); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
