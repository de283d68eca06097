package devnet

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/openledger/openledger/daemon"
)

// devnetAttribution tells the rest of the story on the devnet: alice
// registers a model trained on bob's snapshot, indexes it, attributes an
// output that repeats bob's glossary and her own corpus, carol recomputes
// the record, and alice closes a reward epoch on her dev chain from which
// bob claims his OPEN.
func devnetAttribution(ctx context.Context, step func(string, ...any), nodes []*devNode, snapshot, corpusLine string) error {
	alice, bob, carol := nodes[0], nodes[1], nodes[2]
	model, err := alice.api.ModelRegister(ctx, daemon.RegisterModelArgs{
		Name: "devnet-glossary-lora", Base: "meta-llama/Llama-3.1-8B", Snapshots: []string{snapshot},
	})
	if err != nil {
		return err
	}
	step("model_register on alice: %q, base %s, trained on snapshot %s\n    model %s", model.Name, model.Base, snapshot, model.CID)

	idx, err := alice.api.AttributionIndex(ctx, snapshot)
	if err != nil {
		return err
	}
	step("attribution_index on alice: %d contributions, %d bytes of text in %d suffix-array segment(s), %s",
		idx.Contributions, idx.TextBytes, len(idx.Segments), idx.Took)

	output := "In this network a datanet is a curated collection of contributions with its own curators, " +
		"and a snapshot is a version of a datanet: the contributions accepted at a cut. " +
		"For example: " + corpusLine + " That sentence was never in any dataset, so nobody is credited for it."
	rec, err := alice.api.AttributionAttribute(ctx, daemon.AttributeArgs{
		Model: model.CID, Output: output, TokensIn: 1200, TokensOut: 60,
	})
	if err != nil {
		return err
	}
	var lines []string
	for i, s := range rec.Record.Spans {
		text := rec.Texts[i]
		if len(text) > 60 {
			text = text[:60] + "..."
		}
		lines = append(lines, fmt.Sprintf("    span %q (x%d) -> %s", text, s.Count, s.Contributor.Hex()))
	}
	for _, wt := range rec.Record.Weights {
		lines = append(lines, fmt.Sprintf("    weight %s %s", wt.Address.Hex(), share(wt.Parts)))
	}
	for _, p := range rec.Record.Payouts {
		lines = append(lines, fmt.Sprintf("    payout %-11s %s %s wei", p.Role, p.Address.Hex(), p.Amount))
	}
	step("attribution_attribute on alice: %d spans of the output found verbatim in the snapshot\n    record %s\n%s",
		len(rec.Record.Spans), rec.CID, strings.Join(lines, "\n"))

	verdict, err := carol.api.AttributionVerify(ctx, rec.CID)
	if err != nil {
		return err
	}
	if !verdict.OK {
		return fmt.Errorf("devnet: attribution_verify %s on carol: %s", rec.CID, verdict.Problem)
	}
	how := "with the index it built when the snapshot arrived"
	if len(verdict.Indexed) > 0 {
		how = "after indexing the snapshot"
	}
	step("attribution_verify on carol: fetched the record and the output and recomputed it %s, byte for byte (result sha256 %s)",
		how, verdict.Result)

	epoch, err := alice.api.RewardsCloseEpoch(ctx)
	if err != nil {
		return err
	}
	step("rewards_closeEpoch on alice: epoch %d, %d record(s), %d accounts, %s wei in total; root %s posted to the distributor (funded %s wei of test OPEN)",
		epoch.Number, epoch.Records, epoch.Accounts, epoch.Total, epoch.Root, epoch.Funded)
	ev, err := alice.api.RewardsVerify(ctx, epoch.Number)
	if err != nil {
		return err
	}
	if !ev.OK {
		return fmt.Errorf("devnet: rewards_verify %d: %s", epoch.Number, ev.Problem)
	}
	step("rewards_verify %d: the root recomputed from the records is the signed one and the one posted on chain (%s)", epoch.Number, ev.Posted)

	claim, err := alice.api.RewardsClaim(ctx, bob.id.Account)
	if err != nil {
		return err
	}
	before, _ := new(big.Int).SetString(claim.BalanceBefore, 10)
	after, _ := new(big.Int).SetString(claim.BalanceAfter, 10)
	if before == nil || after == nil || new(big.Int).Sub(after, before).String() != claim.Cumulative {
		return fmt.Errorf("devnet: bob's claim moved %s -> %s, want +%s", claim.BalanceBefore, claim.BalanceAfter, claim.Cumulative)
	}
	step("rewards_claim for bob (a contributor): his OPEN balance %s -> %s wei (+%s, exactly his cumulative amount)\n    tx %s",
		claim.BalanceBefore, claim.BalanceAfter, claim.Paid, claim.Tx)
	return nil
}

// share prints parts of 10^18 as a decimal, as openledger attribute does.
func share(parts uint64) string {
	r := new(big.Rat).SetFrac(new(big.Int).SetUint64(parts), big.NewInt(1e18))
	return strings.TrimRight(r.FloatString(18), "0")
}
