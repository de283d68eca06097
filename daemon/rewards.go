package daemon

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/attribution/rewards"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/proofs/contracts"
)

// Errors of the rewards API.
var (
	// ErrNothingToPay means no attribution record is left to put in an
	// epoch.
	ErrNothingToPay = errors.New("daemon: no new attribution records to pay")
	// ErrNoEpoch means no reward epoch with that number is held here.
	ErrNoEpoch = errors.New("daemon: no such reward epoch")
	// ErrNoDistributor means chain.rewards_distributor is not set.
	ErrNoDistributor = errors.New("daemon: no rewards distributor (run openledger chain deploy)")
)

// rewardsAPI is the rewards_* namespace.
type rewardsAPI struct {
	n *Node
}

// RewardParamsView is the answer of rewards_params: what this node's
// records use, and where rewards are paid.
type RewardParamsView struct {
	Params      rewards.Params `json:"params"`
	Formula     string         `json:"formula"`
	Distributor string         `json:"distributor,omitempty"`
	Token       string         `json:"token,omitempty"`
	ChainID     uint64         `json:"chain_id"`
	// Example is the fee and split of an inference of 1000 input and 1000
	// output tokens.
	Example *rewards.FeeBreakdown `json:"example"`
}

// Params returns the published fee and split parameters.
func (a *rewardsAPI) Params(ctx context.Context) (*RewardParamsView, error) {
	p, err := a.n.repo.Config.Rewards.params()
	if err != nil {
		return nil, err
	}
	ex := rewards.Fee(p, 1000, 1000)
	v := &RewardParamsView{
		Params:      p,
		Formula:     "fee = T_in/1000*R_in + T_out/1000*R_out + F_platform; net = fee - F_platform split into model owner, stakers and contributors by basis points; contributors by attribution weight",
		Distributor: a.n.repo.Config.Chain.RewardsDistributor,
		ChainID:     a.n.repo.Config.Chain.ID,
		Example:     &ex,
	}
	if cl, err := a.n.rewardsChain(ctx); err == nil {
		defer cl.release()
		v.Token = cl.token.Hex()
	}
	return v, nil
}

// rewardsLink is a connection to the rewards distributor.
type rewardsLink struct {
	client      *ethclient.Client
	release     func()
	chainID     *big.Int
	dist        *contracts.RewardsDistributor
	distAddr    common.Address
	token       common.Address
	tokenC      *contracts.OpenToken
	transactor  func(ctx context.Context) (*bind.TransactOpts, error)
	operatorKey common.Address
}

func (n *Node) rewardsChain(ctx context.Context) (*rewardsLink, error) {
	addr := n.repo.Config.Chain.RewardsDistributor
	if addr == "" {
		return nil, ErrNoDistributor
	}
	client, release, err := n.chainClient(ctx)
	if err != nil {
		return nil, err
	}
	l := &rewardsLink{client: client, release: release, distAddr: common.HexToAddress(addr)}
	if l.chainID, err = client.ChainID(ctx); err != nil {
		release()
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	if l.dist, err = contracts.NewRewardsDistributor(l.distAddr, client); err != nil {
		release()
		return nil, err
	}
	if l.token, err = l.dist.Token(&bind.CallOpts{Context: ctx}); err != nil {
		release()
		return nil, fmt.Errorf("%w: read the distributor's token: %w", ErrNoChain, err)
	}
	if l.tokenC, err = contracts.NewOpenToken(l.token, client); err != nil {
		release()
		return nil, err
	}
	l.operatorKey = common.HexToAddress(n.repo.Config.Identity.Account)
	l.transactor = func(ctx context.Context) (*bind.TransactOpts, error) {
		key, err := n.repo.LoadAccountKey(n.opts.Password)
		if err != nil {
			return nil, err
		}
		opts, err := bind.NewKeyedTransactorWithChainID(key, l.chainID)
		if err != nil {
			return nil, err
		}
		opts.Context = ctx
		return opts, nil
	}
	return l, nil
}

// send sends one transaction built by do and waits for its receipt. The
// anchorer sends from the same account, so a nonce taken by it is retried.
func (l *rewardsLink) send(ctx context.Context, what string, do func(*bind.TransactOpts) (*types.Transaction, error)) (*types.Receipt, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		opts, err := l.transactor(ctx)
		if err != nil {
			return nil, err
		}
		tx, err := do(opts)
		if err != nil {
			lastErr = err
			if msg := err.Error(); strings.Contains(msg, "nonce") || strings.Contains(msg, "replacement transaction") {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
				}
				continue
			}
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		r, err := bind.WaitMined(ctx, l.client, tx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return nil, fmt.Errorf("%s: transaction %s reverted", what, tx.Hash())
		}
		return r, nil
	}
	return nil, fmt.Errorf("%s: %w", what, lastErr)
}

// EpochView summarises a reward epoch.
type EpochView struct {
	CID         string `json:"cid"`
	Number      uint64 `json:"number"`
	Root        string `json:"root"`
	Records     int    `json:"records"`
	Accounts    int    `json:"accounts"`
	Total       string `json:"total"`
	Distributor string `json:"distributor"`
	// Posted says whether the epoch's root is posted on chain, PostTx in
	// which transaction; Posted is left out when the chain cannot be read.
	Posted  *bool     `json:"posted,omitempty"`
	PostTx  string    `json:"post_tx,omitempty"`
	Funded  string    `json:"funded,omitempty"`
	Created time.Time `json:"created"`
}

func epochView(c cid.Cid, e *datanet.RewardEpoch) EpochView {
	total := new(big.Int)
	for _, b := range e.Balances {
		total.Add(total, b.Cumulative)
	}
	return EpochView{
		CID: c.String(), Number: e.Number, Root: common.Hash(e.Root).Hex(), Records: len(e.Records),
		Accounts: len(e.Balances), Total: total.String(), Distributor: e.Distributor.Hex(),
		Created: time.Unix(e.Created, 0).UTC(),
	}
}

// epochs returns the reward epochs held for the configured distributor,
// by number (of two with one number, the lower CID).
func (n *Node) epochs(ctx context.Context, dist common.Address, chainID uint64) ([]datanet.EpochRef, error) {
	refs, err := n.registry.RewardEpochs(ctx)
	if err != nil {
		return nil, err
	}
	var out []datanet.EpochRef
	for _, r := range refs {
		if r.Epoch.Distributor != dist || r.Epoch.ChainID != chainID {
			continue
		}
		if len(out) > 0 && out[len(out)-1].Epoch.Number == r.Epoch.Number {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// epochOf is a held epoch object in the rewards package's form.
func epochOf(e *datanet.RewardEpoch) *rewards.Epoch {
	return &rewards.Epoch{Number: e.Number, Balances: e.Balances, Root: e.Root}
}

// CloseEpoch sums the attribution records this node attested since the last
// epoch into cumulative amounts per address, signs the epoch, funds the
// distributor with what it lacks (minting on a dev chain's test token) and
// posts the root.
func (a *rewardsAPI) CloseEpoch(ctx context.Context) (*EpochView, error) {
	v, err := a.n.closeEpoch(ctx)
	return v, err
}

func (n *Node) closeEpoch(ctx context.Context) (*EpochView, error) {
	l, err := n.rewardsChain(ctx)
	if err != nil {
		return nil, err
	}
	defer l.release()
	chainID := l.chainID.Uint64()
	held, err := n.epochs(ctx, l.distAddr, chainID)
	if err != nil {
		return nil, err
	}
	paid := map[cid.Cid]bool{}
	var prev *rewards.Epoch
	prevCID := cid.Undef
	for _, r := range held {
		for _, c := range r.Epoch.Records {
			paid[c] = true
		}
	}
	if len(held) > 0 {
		last := held[len(held)-1]
		prev = epochOf(last.Epoch)
		prevCID = last.CID
	}
	all, err := n.registry.AllAttributionRecords(ctx)
	if err != nil {
		return nil, err
	}
	me := common.HexToAddress(n.repo.Config.Identity.Account)
	var records []cid.Cid
	var payouts [][]rewards.Payout
	for _, c := range all {
		if paid[c] {
			continue
		}
		r, err := n.registry.AttributionRecord(ctx, c)
		if err != nil {
			return nil, err
		}
		if r.Attester != me {
			continue // another node's record is for its operator to pay
		}
		records = append(records, c)
		payouts = append(payouts, r.Payouts)
	}
	if len(records) == 0 {
		return nil, ErrNothingToPay
	}
	e, err := rewards.NextEpoch(prev, payouts...)
	if err != nil {
		return nil, err
	}
	obj := &datanet.RewardEpoch{
		Number: e.Number, Prev: prevCID, Records: records, Root: e.Root, Balances: e.Balances,
		Distributor: l.distAddr, Created: n.opts.Now().Unix(),
	}
	signer, err := n.Signer()
	if err != nil {
		return nil, err
	}
	if err := datanet.SignRewardEpoch(obj, chainID, signer); err != nil {
		return nil, err
	}
	view := epochView(cid.Undef, obj)
	funded, err := l.fund(ctx, e)
	if err != nil {
		return nil, err
	}
	if funded.Sign() > 0 {
		view.Funded = funded.String()
	}
	current, err := l.dist.CurrentEpoch(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	root, err := l.dist.CurrentRoot(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	switch {
	case current == e.Number && root == e.Root: // posted before a crash
	case current >= e.Number:
		return nil, fmt.Errorf("the distributor is at epoch %d, this node's next is %d: another poster, or epochs not held here", current, e.Number)
	default:
		r, err := l.send(ctx, "post the epoch root", func(o *bind.TransactOpts) (*types.Transaction, error) {
			return l.dist.PostRoot(o, e.Number, e.Root)
		})
		if err != nil {
			return nil, err
		}
		view.PostTx = r.TxHash.Hex()
	}
	posted := true
	view.Posted = &posted
	ch, err := n.registry.Submit(ctx, obj)
	if err != nil {
		return nil, err
	}
	view.CID = ch.CID.String()
	n.log.Info("reward epoch closed", "epoch", e.Number, "root", common.Hash(e.Root).Hex(), "records", len(records),
		"accounts", len(e.Balances), "total", view.Total)
	return &view, nil
}

// fund tops the distributor's token balance up to what the epoch owes
// beyond what was already claimed: minted when the operator owns the token
// (the test OPEN token of a dev chain), else transferred from the operator.
func (l *rewardsLink) fund(ctx context.Context, e *rewards.Epoch) (*big.Int, error) {
	call := &bind.CallOpts{Context: ctx}
	owed := new(big.Int)
	for _, b := range e.Balances {
		claimed, err := l.dist.Claimed(call, b.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
		}
		if d := new(big.Int).Sub(b.Cumulative, claimed); d.Sign() > 0 {
			owed.Add(owed, d)
		}
	}
	have, err := l.tokenC.BalanceOf(call, l.distAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	short := new(big.Int).Sub(owed, have)
	if short.Sign() <= 0 {
		return new(big.Int), nil
	}
	owner, err := l.tokenC.Owner(call)
	if err == nil && owner == l.operatorKey {
		_, err = l.send(ctx, "mint the epoch's OPEN to the distributor", func(o *bind.TransactOpts) (*types.Transaction, error) {
			return l.tokenC.Mint(o, l.distAddr, short)
		})
		return short, err
	}
	bal, err := l.tokenC.BalanceOf(call, l.operatorKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	if bal.Cmp(short) < 0 {
		return nil, fmt.Errorf("the distributor needs %s more wei of its token and the operator holds %s: fund it first", short, bal)
	}
	_, err = l.send(ctx, "fund the distributor", func(o *bind.TransactOpts) (*types.Transaction, error) {
		return l.tokenC.Transfer(o, l.distAddr, short)
	})
	return short, err
}

// Epochs lists a page of the reward epochs held for the configured
// distributor, by number (then CID), each with whether its root is posted
// on chain and in which transaction; posted is left out when the chain
// cannot be read. page.After is the CID of the previous page's last epoch.
func (a *rewardsAPI) Epochs(ctx context.Context, page *PageArgs) ([]EpochView, error) {
	dist := a.n.repo.Config.Chain.RewardsDistributor
	if dist == "" {
		return nil, ErrNoDistributor
	}
	after, limit, err := page.cursor()
	if err != nil {
		return nil, err
	}
	// Read one epoch at a time (one can be 15 MiB) and keep its summary.
	var all []EpochView
	var keys []cid.Cid
	from := cid.Undef
	for {
		ids, err := a.n.registry.ObjectsOfKind(ctx, datanet.KindRewardEpoch, from, datanet.MaxPage)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		for _, c := range ids {
			e, err := a.n.registry.RewardEpoch(ctx, c)
			if datanet.IsNotFound(err) {
				continue // collected
			}
			if err != nil {
				return nil, err
			}
			if e.Distributor == common.HexToAddress(dist) {
				all, keys = append(all, epochView(c, e)), append(keys, c)
			}
		}
		from = ids[len(ids)-1]
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		if c := cmp.Compare(all[i].Number, all[j].Number); c != 0 {
			return c
		}
		return bytes.Compare(keys[i].Bytes(), keys[j].Bytes())
	})
	start := 0
	if after.Defined() {
		i := slices.IndexFunc(order, func(i int) bool { return keys[i].Equals(after) })
		if i < 0 {
			return nil, fmt.Errorf("%w: cursor %s is not an epoch of distributor %s held here", errBadRequest, after, dist)
		}
		start = i + 1
	}
	order = order[start:min(len(order), start+datanet.PageLimit(limit))]
	out := make([]EpochView, 0, len(order))
	for _, i := range order {
		out = append(out, all[i])
	}
	if len(out) > 0 {
		a.n.markPosted(ctx, out)
	}
	return out, nil
}

// markPosted sets Posted and PostTx of epochs of the configured
// distributor from its RootPosted events: posted when the root posted for
// an epoch's number is the epoch's root. Without a chain they stay unset.
func (n *Node) markPosted(ctx context.Context, epochs []EpochView) {
	l, err := n.rewardsChain(ctx)
	if err != nil {
		return
	}
	defer l.release()
	numbers := make([]uint64, len(epochs))
	for i, e := range epochs {
		numbers[i] = e.Number
	}
	it, err := l.dist.FilterRootPosted(&bind.FilterOpts{Context: ctx}, numbers)
	if err != nil {
		n.log.Debug("read posted roots", "err", err)
		return
	}
	defer it.Close()
	type post struct {
		root common.Hash
		tx   string
	}
	posted := map[uint64]post{}
	for it.Next() {
		posted[it.Event.Epoch] = post{common.Hash(it.Event.Root), it.Event.Raw.TxHash.Hex()}
	}
	if err := it.Error(); err != nil {
		n.log.Debug("read posted roots", "err", err)
		return
	}
	for i := range epochs {
		p, ok := posted[epochs[i].Number]
		yes := ok && p.root.Hex() == epochs[i].Root
		epochs[i].Posted = &yes
		if yes {
			epochs[i].PostTx = p.tx
		}
	}
}

// ClaimView is the answer of rewards_show and rewards_claim.
type ClaimView struct {
	Address    string   `json:"address"`
	Epoch      uint64   `json:"epoch"`
	Cumulative string   `json:"cumulative"`
	Proof      []string `json:"proof"`
	Claimed    string   `json:"claimed"`
	Claimable  string   `json:"claimable"`
	// Set by rewards_claim.
	Tx            string `json:"tx,omitempty"`
	Paid          string `json:"paid,omitempty"`
	BalanceBefore string `json:"balance_before,omitempty"`
	BalanceAfter  string `json:"balance_after,omitempty"`
}

// claim finds an address's entry in the latest epoch held here.
func (n *Node) claimView(ctx context.Context, l *rewardsLink, addr common.Address) (*ClaimView, *rewards.Epoch, error) {
	held, err := n.epochs(ctx, l.distAddr, l.chainID.Uint64())
	if err != nil {
		return nil, nil, err
	}
	if len(held) == 0 {
		return nil, nil, fmt.Errorf("%w: none held for distributor %s", ErrNoEpoch, l.distAddr)
	}
	e := epochOf(held[len(held)-1].Epoch)
	v := &ClaimView{Address: addr.Hex(), Epoch: e.Number, Cumulative: "0", Proof: []string{}}
	cum, proof, err := e.Claim(addr)
	switch {
	case errors.Is(err, rewards.ErrNoBalance):
		cum = new(big.Int)
	case err != nil:
		return nil, nil, err
	default:
		v.Cumulative = cum.String()
		for _, h := range proof {
			v.Proof = append(v.Proof, common.Hash(h).Hex())
		}
	}
	claimed, err := l.dist.Claimed(&bind.CallOpts{Context: ctx}, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	v.Claimed = claimed.String()
	v.Claimable = "0"
	if d := new(big.Int).Sub(cum, claimed); d.Sign() > 0 {
		v.Claimable = d.String()
	}
	return v, e, nil
}

// Show returns an address's cumulative amount in the latest epoch, its
// proof, and what it has claimed on chain.
func (a *rewardsAPI) Show(ctx context.Context, address string) (*ClaimView, error) {
	addr, err := addressArg(address, a.n)
	if err != nil {
		return nil, err
	}
	l, err := a.n.rewardsChain(ctx)
	if err != nil {
		return nil, err
	}
	defer l.release()
	v, _, err := a.n.claimView(ctx, l, addr)
	return v, err
}

// Claim claims an address's rewards on chain with the operator paying the
// gas; the tokens go to the address.
func (a *rewardsAPI) Claim(ctx context.Context, address string) (*ClaimView, error) {
	addr, err := addressArg(address, a.n)
	if err != nil {
		return nil, err
	}
	l, err := a.n.rewardsChain(ctx)
	if err != nil {
		return nil, err
	}
	defer l.release()
	v, e, err := a.n.claimView(ctx, l, addr)
	if err != nil {
		return nil, err
	}
	if v.Claimable == "0" {
		return nil, fmt.Errorf("%w: %s has nothing to claim (cumulative %s, claimed %s)", errBadRequest, addr.Hex(), v.Cumulative, v.Claimed)
	}
	call := &bind.CallOpts{Context: ctx}
	current, err := l.dist.CurrentEpoch(call)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	if current != e.Number {
		return nil, fmt.Errorf("%w: the distributor is at epoch %d, the newest held here is %d", errBadRequest, current, e.Number)
	}
	cum, proof, _ := e.Claim(addr)
	before, err := l.tokenC.BalanceOf(call, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	r, err := l.send(ctx, "claim", func(o *bind.TransactOpts) (*types.Transaction, error) {
		return l.dist.Claim(o, addr, cum, proof)
	})
	if err != nil {
		return nil, err
	}
	after, err := l.tokenC.BalanceOf(call, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	v.Tx = r.TxHash.Hex()
	v.BalanceBefore, v.BalanceAfter = before.String(), after.String()
	v.Paid = new(big.Int).Sub(after, before).String()
	v.Claimed, v.Claimable = cum.String(), "0"
	a.n.log.Info("rewards claimed", "account", addr.Hex(), "paid", v.Paid, "tx", v.Tx)
	return v, nil
}

// addressArg parses an address; "" is the operator's.
func addressArg(s string, n *Node) (common.Address, error) {
	if s == "" {
		s = n.repo.Config.Identity.Account
	}
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%w: %q is not an address", errBadRequest, s)
	}
	return common.HexToAddress(s), nil
}

// EpochVerdict is the answer of rewards_verify.
type EpochVerdict struct {
	Epoch      uint64 `json:"epoch"`
	CID        string `json:"cid"`
	OK         bool   `json:"ok"`
	Recomputed string `json:"recomputed_root"`
	Signed     string `json:"signed_root"`
	Posted     string `json:"posted_root,omitempty"`
	PostTx     string `json:"post_tx,omitempty"`
	Checked    string `json:"checked"`
	Problem    string `json:"problem,omitempty"`
}

// Verify recomputes epoch number's root from the previous epoch's balances
// and the payouts of the records it lists (each recomputed from its own
// weights and parameters), and compares it with the signed epoch and with
// the root posted on chain for that epoch.
func (a *rewardsAPI) Verify(ctx context.Context, number uint64) (*EpochVerdict, error) {
	v, err := a.n.verifyEpoch(ctx, number)
	return v, err
}

func (n *Node) verifyEpoch(ctx context.Context, number uint64) (*EpochVerdict, error) {
	l, err := n.rewardsChain(ctx)
	if err != nil {
		return nil, err
	}
	defer l.release()
	held, err := n.epochs(ctx, l.distAddr, l.chainID.Uint64())
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(held, func(r datanet.EpochRef) bool { return r.Epoch.Number == number })
	if i < 0 {
		return nil, fmt.Errorf("%w: epoch %d of distributor %s", ErrNoEpoch, number, l.distAddr)
	}
	obj := held[i].Epoch
	out := &EpochVerdict{Epoch: number, CID: held[i].CID.String(), Signed: common.Hash(obj.Root).Hex(),
		Checked: fmt.Sprintf("poster's signature, %d records' payouts recomputed from their weights and parameters, the root from the previous epoch and those payouts, the root posted on chain", len(obj.Records))}
	check := rewards.EpochCheck{Signed: epochOf(obj)}
	if obj.Prev.Defined() {
		pe, err := n.registry.RewardEpoch(ctx, obj.Prev)
		if err != nil {
			return nil, fmt.Errorf("previous epoch %s: %w", obj.Prev, err)
		}
		check.Prev = epochOf(pe)
	}
	for _, c := range obj.Records {
		if err := n.ensureObject(ctx, c); err != nil {
			return nil, fmt.Errorf("record %s: %w", c, err)
		}
		r, err := n.registry.AttributionRecord(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", c, err)
		}
		check.Records = append(check.Records, rewards.PaidRecord{
			Name: c.String(), Params: r.Rewards, TokensIn: r.TokensIn, TokensOut: r.TokensOut,
			ModelOwner: r.ModelOwner, Weights: r.Weights, Payouts: r.Payouts,
		})
	}
	it, err := l.dist.FilterRootPosted(&bind.FilterOpts{Context: ctx}, []uint64{number})
	if err != nil {
		return nil, fmt.Errorf("%w: read the posted roots: %w", ErrNoChain, err)
	}
	for it.Next() {
		posted := it.Event.Root
		check.Posted = &posted
		out.Posted = common.Hash(posted).Hex()
		out.PostTx = it.Event.Raw.TxHash.Hex()
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("%w: read the posted roots: %w", ErrNoChain, err)
	}
	it.Close()
	verdict, err := rewards.VerifyEpoch(check)
	if err != nil {
		return nil, err
	}
	if verdict.Recomputed != nil {
		out.Recomputed = common.Hash(verdict.Recomputed.Root).Hex()
	}
	out.OK, out.Problem = verdict.OK(), verdict.Problem
	return out, nil
}
