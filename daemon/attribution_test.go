package daemon

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/datanet"
)

// fakeClock is a clock the test moves, shared by the nodes so acceptance
// times are distinct and ordered.
type fakeClock struct{ unix atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.unix.Store(time.Now().Unix() - 3600)
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(c.unix.Load(), 0) }
func (c *fakeClock) advance(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

// rpcName is the stable error name an API error carries.
func rpcName(err error) string {
	if de, ok := errors.AsType[rpc.DataError](err); ok {
		if s, ok := de.ErrorData().(string); ok {
			return s
		}
	}
	return ""
}

// prose returns n words of deterministic pseudo-text from seed, long enough
// that its 6-word sequences are unique.
func prose(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		l := 3 + rng.IntN(6)
		for range l {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
	}
	return b.String()
}

// TestAttributionEndToEnd: three nodes. a owns and curates a Datanet and
// runs the embedded dev chain; b contributes text, c re-submits b's text
// later. a cuts a snapshot, registers a model, indexes it and attributes an
// output made of b's text, a's text and novel words: b is credited (not c,
// whose copy was accepted later), the novel words nobody. b recomputes the
// record byte for byte and computes an identical result itself. a closes a
// reward epoch on its chain, b's contributor payout is claimed exactly, a
// second claim moves nothing, and the epoch verifies.
func TestAttributionEndToEnd(t *testing.T) {
	clock := newFakeClock()
	mk := func(chain bool) testPeer {
		n, _ := testNodeOpts(t, func(c *Config) {
			c.Attribution.AutoIndex = false
			if chain {
				c.Chain.RPC = ""
			}
		}, Options{Version: "test", SyncInterval: 300 * time.Millisecond, Now: clock.now, AnchorInterval: time.Hour})
		c := n.InProc()
		t.Cleanup(c.Close)
		return testPeer{n: n, rpc: c}
	}
	a, b, c := mk(true), mk(false), mk(false)
	b.connect(t, a)
	c.connect(t, a)

	var dn DatanetView
	if err := a.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "corpus", Kinds: []string{"txt", "jsonl"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []testPeer{b, c} {
		if err := p.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
			t.Fatal(err)
		}
	}
	dnID := mustParse(t, dn.ID)
	for _, p := range []testPeer{b, c} {
		waitFor(t, 30*time.Second, "the datanet to sync", func() bool {
			_, err := p.n.registry.Head(context.Background(), dnID)
			return err == nil
		})
	}
	textA, textB := prose(1, 600), prose(2, 600)
	clock.advance(time.Minute)
	ka := a.addText(t, dn.ID, "a.txt", textA)
	clock.advance(time.Minute)
	kb := b.addText(t, dn.ID, "b.txt", textB)
	clock.advance(time.Minute)
	kc := c.addText(t, dn.ID, "copy.txt", textB) // a copy of b's text
	for _, k := range []string{ka, kb, kc} {
		waitFor(t, 30*time.Second, "contribution at a", func() bool { return a.status(t, k) != 255 })
	}
	// a (the only curator) accepts them in order: b's before c's copy.
	for _, k := range []string{ka, kb, kc} {
		clock.advance(time.Minute)
		a.vote(t, k, "approve")
	}
	clock.advance(time.Minute)
	var snap SnapshotView
	if err := a.rpc.Call(&snap, "snapshot_cut", dn.ID); err != nil {
		t.Fatal(err)
	}

	// Bad input before the model exists or is indexed.
	var view AttributionView
	unknown := mustParse(t, snap.CID) // a CID that names no model
	err := a.rpc.Call(&view, "attribution_attribute", AttributeArgs{Model: unknown.String(), Output: "x"})
	if err == nil || rpcName(err) != "wrong_kind" {
		t.Fatalf("attribute over a snapshot CID: %v (%s), want wrong_kind", err, rpcName(err))
	}
	var model ModelView
	if err := a.rpc.Call(&model, "model_register", RegisterModelArgs{Name: "m", Base: "base", Snapshots: []string{snap.CID}}); err != nil {
		t.Fatal(err)
	}
	output := textB[100:400] + " and then " + textA[1000:1300] + " zqxv wkjh plmo novel words nowhere in the data"
	err = a.rpc.Call(&view, "attribution_attribute", AttributeArgs{Model: model.CID, Output: output})
	if rpcName(err) != "not_indexed" {
		t.Fatalf("attribute before indexing: %v (%s), want not_indexed", err, rpcName(err))
	}
	var idx IndexResult
	if err := a.rpc.Call(&idx, "attribution_index", snap.CID); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string]AttributeArgs{
		"empty":   {Model: model.CID, Output: "  \n"},
		"huge":    {Model: model.CID, Output: strings.Repeat("x", int(a.n.repo.Config.Attribution.MaxOutputBytes)+1)},
		"unknown": {Model: "bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", Output: "x y z"},
	} {
		if err := a.rpc.Call(&view, "attribution_attribute", args); err == nil {
			t.Fatalf("%s output attributed", name)
		} else {
			t.Logf("%s: %v (%s)", name, err, rpcName(err))
		}
	}

	if err := a.rpc.Call(&view, "attribution_attribute", AttributeArgs{Model: model.CID, Output: output, TokensIn: 500, TokensOut: 100}); err != nil {
		t.Fatal(err)
	}
	r := view.Record
	accA, accB := a.account(t), b.account(t)
	if len(r.Spans) < 2 {
		t.Fatalf("%d spans, want b's and a's: %+v", len(r.Spans), view.Texts)
	}
	for i, s := range r.Spans {
		if strings.Contains(view.Texts[i], "zqxv") {
			t.Fatalf("novel words credited: %q", view.Texts[i])
		}
		if s.Contributor != accA && s.Contributor != accB {
			t.Fatalf("span %q credited to %s, neither a nor b (c re-submitted b's text later)", view.Texts[i], s.Contributor)
		}
	}
	if len(r.Weights) != 2 {
		t.Fatalf("weights %+v, want a and b", r.Weights)
	}
	// Both spans are about 300 bytes, but b's text occurs twice in the
	// data (c's copy), so its rarity, and its weight, is half of a's: b
	// gets about 1/3, a about 2/3.
	var sum uint64
	for _, w := range r.Weights {
		sum += w.Parts
		want := rewards.Scale / 3
		if w.Address == accA {
			want = rewards.Scale * 2 / 3
		}
		if diff := int64(w.Parts - want); diff > int64(rewards.Scale/20) || diff < -int64(rewards.Scale/20) {
			t.Fatalf("weight %+v, want %d ± 5%%", w, want)
		}
	}
	if sum != rewards.Scale {
		t.Fatalf("weights sum to %d", sum)
	}

	// b recomputes the record (indexing first) and gets the same bytes.
	var verdict AttributionVerdict
	if err := b.rpc.Call(&verdict, "attribution_verify", view.CID); err != nil {
		t.Fatal(err)
	}
	if !verdict.OK || len(verdict.Indexed) != 1 {
		t.Fatalf("verify on b: %+v", verdict)
	}
	var viewB AttributionView
	if err := b.rpc.Call(&viewB, "attribution_attribute", AttributeArgs{Model: model.CID, Output: output, TokensIn: 500, TokensOut: 100}); err != nil {
		t.Fatal(err)
	}
	resA, _ := view.Record.Result()
	resB, _ := viewB.Record.Result()
	if !bytes.Equal(resA, resB) || viewB.CID == view.CID {
		t.Fatalf("b's result differs from a's (or the records are one): %s vs %s", viewB.CID, view.CID)
	}
	// A record whose weights were changed after signing does not verify.
	forged := *view.Record
	forged.Weights = slices.Clone(forged.Weights)
	forged.Weights[0].Parts, forged.Weights[1].Parts = forged.Weights[1].Parts, forged.Weights[0].Parts
	if forged.Weights[0].Parts != view.Record.Weights[0].Parts {
		mc := mustParse(t, model.CID)
		waitFor(t, 30*time.Second, "the model to reach c", func() bool {
			has, err := c.n.registry.Has(context.Background(), mc)
			return err == nil && has
		})
		signer, _ := c.n.Signer()
		forged.Attester = signer.Address()
		if err := datanet.SignAttributionRecord(&forged, forged.ChainID, signer); err != nil {
			t.Fatal(err)
		}
		fc, err := c.n.registry.SubmitAttribution(context.Background(), &forged, []byte(output))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.rpc.Call(&verdict, "attribution_verify", fc.CID.String()); err != nil {
			t.Fatal(err)
		}
		if verdict.OK {
			t.Fatal("a record with swapped weights verified")
		}
		t.Logf("forged record: %s", verdict.Problem)
	}

	// Rewards: a closes an epoch of its own records on its dev chain.
	var epoch EpochView
	if err := a.rpc.Call(&epoch, "rewards_closeEpoch"); err != nil {
		t.Fatal(err)
	}
	if epoch.Number != 1 || epoch.Records != 1 {
		t.Fatalf("epoch %+v, want number 1 with a's one record", epoch)
	}
	var want *big.Int
	for _, p := range r.Payouts {
		if p.Address == accB && p.Role == "contributor" {
			want = p.Amount
		}
	}
	if want == nil || want.Sign() == 0 {
		t.Fatalf("no contributor payout to b in %+v", r.Payouts)
	}
	var claim ClaimView
	if err := a.rpc.Call(&claim, "rewards_claim", accB.Hex()); err != nil {
		t.Fatal(err)
	}
	if claim.Paid != want.String() {
		t.Fatalf("claim paid %s, want %s", claim.Paid, want)
	}
	if err := a.rpc.Call(&claim, "rewards_claim", accB.Hex()); err == nil {
		t.Fatal("second claim accepted")
	}
	var show ClaimView
	if err := a.rpc.Call(&show, "rewards_show", accB.Hex()); err != nil || show.Claimable != "0" || show.Claimed != want.String() {
		t.Fatalf("show after the claim: %+v %v", show, err)
	}
	var ev EpochVerdict
	if err := a.rpc.Call(&ev, "rewards_verify", 1); err != nil || !ev.OK {
		t.Fatalf("rewards_verify 1: %+v %v", ev, err)
	}
	closed := epoch
	if err := a.rpc.Call(&epoch, "rewards_closeEpoch"); rpcName(err) != "nothing_to_pay" {
		t.Fatalf("second close with no new records: %v (%s)", err, rpcName(err))
	}
	checkEpochList(t, a, clock, closed)
	checkListPages(t, b, model.CID, view.CID, viewB.CID)
}

// checkListPages checks that attribution_records, model_list and
// content_pins page: b holds the model and the two records (a's, gossiped,
// and its own).
func checkListPages(t *testing.T, b testPeer, model string, records ...string) {
	t.Helper()
	waitFor(t, 30*time.Second, "a's record to reach b", func() bool {
		var all []string
		return b.rpc.Call(&all, "attribution_records", model, nil) == nil && len(all) == len(records)
	})
	walk := func(method string, args ...any) []string {
		var got []string
		page := PageArgs{Limit: 1}
		for range 100 {
			var ids []string
			switch method {
			case "model_list":
				var views []ModelView
				if err := b.rpc.Call(&views, method, page); err != nil {
					t.Fatal(err)
				}
				for _, v := range views {
					ids = append(ids, v.CID)
				}
			default:
				if err := b.rpc.Call(&ids, method, append(args, page)...); err != nil {
					t.Fatal(err)
				}
			}
			if len(ids) > 1 {
				t.Fatalf("%s: a page of limit 1 held %v", method, ids)
			}
			if len(ids) == 0 {
				return got
			}
			got = append(got, ids...)
			page.After = ids[0]
		}
		t.Fatalf("%s: no end after 100 pages: %v", method, got)
		return nil
	}
	same := func(a, b []string) bool {
		a, b = slices.Clone(a), slices.Clone(b)
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(a, b)
	}
	if got := walk("attribution_records", model); !same(got, records) {
		t.Errorf("attribution_records of the model, a page at a time: %v, want %v", got, records)
	}
	if got := walk("attribution_records", ""); !same(got, records) {
		t.Errorf("all attribution_records, a page at a time: %v, want %v", got, records)
	}
	if got := walk("model_list"); !same(got, []string{model}) {
		t.Errorf("model_list a page at a time: %v", got)
	}
	var all []string
	if err := b.rpc.Call(&all, "content_pins", nil); err != nil || len(all) < 2 {
		t.Fatalf("content_pins: %v %v", all, err)
	}
	if got := walk("content_pins"); !slices.Equal(got, all) {
		t.Errorf("content_pins a page at a time: %v, want %v", got, all)
	}
}

// checkEpochList checks that rewards_epochs says which epochs are posted:
// the closed one, with its transaction, and not a signed epoch 2 whose
// root was never posted; and that it pages.
func checkEpochList(t *testing.T, a testPeer, clock *fakeClock, closed EpochView) {
	t.Helper()
	ctx := context.Background()
	c1 := mustParse(t, closed.CID)
	e1, err := a.n.registry.RewardEpoch(ctx, c1)
	if err != nil {
		t.Fatal(err)
	}
	next, err := rewards.NextEpoch(epochOf(e1))
	if err != nil {
		t.Fatal(err)
	}
	e2 := &datanet.RewardEpoch{Number: 2, Prev: c1, Root: next.Root, Balances: next.Balances,
		Distributor: e1.Distributor, Created: clock.now().Unix()}
	signer, _ := a.n.Signer()
	if err := datanet.SignRewardEpoch(e2, e1.ChainID, signer); err != nil {
		t.Fatal(err)
	}
	ch, err := a.n.registry.Submit(ctx, e2)
	if err != nil {
		t.Fatal(err)
	}
	var list []EpochView
	if err := a.rpc.Call(&list, "rewards_epochs", nil); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].CID != closed.CID || list[1].CID != ch.CID.String() {
		t.Fatalf("rewards_epochs = %+v, want epochs %s and %s", list, closed.CID, ch.CID)
	}
	if p := list[0].Posted; p == nil || !*p || list[0].PostTx != closed.PostTx || closed.PostTx == "" {
		t.Errorf("epoch 1: posted %v in %q, want true in %q", list[0].Posted, list[0].PostTx, closed.PostTx)
	}
	if p := list[1].Posted; p == nil || *p || list[1].PostTx != "" {
		t.Errorf("epoch 2, never posted: posted %v in %q", list[1].Posted, list[1].PostTx)
	}
	var page []EpochView
	if err := a.rpc.Call(&page, "rewards_epochs", PageArgs{After: closed.CID, Limit: 1}); err != nil || len(page) != 1 || page[0].Number != 2 {
		t.Fatalf("the page after epoch 1: %+v %v", page, err)
	}
}

// TestAutoIndex: a node that joined a Datanet indexes a snapshot of it when
// the snapshot arrives by gossip or sync, fetching the files it lacks.
func TestAutoIndex(t *testing.T) {
	nodes := newTestNet(t, 2)
	a, b := nodes[0], nodes[1]
	b.connect(t, a)
	var dn DatanetView
	if err := a.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "auto"}); err != nil {
		t.Fatal(err)
	}
	if err := b.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
		t.Fatal(err)
	}
	k := a.addText(t, dn.ID, "t.txt", prose(3, 400))
	a.vote(t, k, "approve")
	var snap SnapshotView
	if err := a.rpc.Call(&snap, "snapshot_cut", dn.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "b to index the snapshot it received", func() bool {
		return b.n.index.store.Indexed(snap.CID)
	})
}
