package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/proofs/contracts"
)

// AnchorDir is the anchorer's Badger database in the repo.
const AnchorDir = "anchors"

// ErrNoChain is returned for chain work on a node that anchors nowhere.
var ErrNoChain = errors.New("daemon: no chain configured (set chain.rpc and chain.anchor_registry)")

// chainLink is the node's connection to the chain it anchors on.
type chainLink struct {
	client   *ethclient.Client
	dev      *proofs.DevChain // the embedded dev chain, if that is the chain
	anchorer *proofs.Anchorer
	registry common.Address
}

// ChainNone is the chain.rpc value that turns anchoring off.
const ChainNone = "none"

// DevChainDir is the embedded dev chain's data in the repo.
const DevChainDir = "chain"

// openChain connects to the configured chain: the embedded dev chain for an
// empty chain.rpc (opened under $REPO/chain, the operator funded from
// genesis), else the endpoint. It returns no client for chain.rpc "none".
func (n *Node) openChain() (*ethclient.Client, *proofs.DevChain, error) {
	cfg := n.repo.Config.Chain
	switch cfg.RPC {
	case ChainNone:
		return nil, nil, nil
	case "":
		if cfg.ID != proofs.DevChainID {
			return nil, nil, fmt.Errorf("config chain.id is %d, but the embedded dev chain (chain.rpc empty) is %d", cfg.ID, proofs.DevChainID)
		}
		dev, err := proofs.OpenDevChain(n.repo.Path(DevChainDir), common.HexToAddress(n.repo.Config.Identity.Account))
		if err != nil {
			return nil, nil, err
		}
		return dev.Client(), dev, nil
	default:
		client, err := ethclient.DialContext(n.ctx, cfg.RPC)
		if err != nil {
			return nil, nil, fmt.Errorf("chain.rpc %s: %w", cfg.RPC, err)
		}
		return client, nil, nil
	}
}

// startAnchorer starts anchoring the objects this node makes on the
// configured chain. On the embedded dev chain it deploys the contracts at
// first start; on another chain it waits for `openledger chain deploy`
// (or the addresses in the config).
func (n *Node) startAnchorer() error {
	client, dev, err := n.openChain()
	if err != nil || client == nil {
		if err == nil {
			n.log.Info("anchoring off: chain.rpc is \"none\"")
		}
		return err
	}
	closeChain := func() {
		client.Close()
		if dev != nil {
			dev.Close()
		}
	}
	cfg := n.repo.Config.Chain
	if cfg.AnchorRegistry == "" {
		if dev == nil {
			n.log.Info("anchoring off until the contracts are deployed: run openledger chain deploy", "rpc", cfg.RPC)
			closeChain()
			return nil
		}
		res, err := n.deployContracts(n.ctx, client, DeployArgs{})
		if err != nil {
			closeChain()
			return fmt.Errorf("deploy the contracts on the embedded dev chain: %w", err)
		}
		if err := n.saveDeployment(res); err != nil {
			closeChain()
			return err
		}
		cfg = n.repo.Config.Chain
	}
	key, err := n.repo.LoadAccountKey(n.opts.Password)
	if err != nil {
		closeChain()
		return err
	}
	chainID, err := client.ChainID(n.ctx)
	if err != nil {
		// A chain that is down now is retried by the anchorer; the
		// transactions are signed for the configured chain.
		n.log.Warn("chain not answering; anchoring will retry", "rpc", cfg.RPC, "err", err)
		chainID = new(big.Int).SetUint64(cfg.ID)
	}
	opts, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		closeChain()
		return err
	}
	acfg := proofs.DefaultAnchorConfig()
	acfg.Dir = n.repo.Path(AnchorDir)
	acfg.Backend = client
	acfg.Registry = common.HexToAddress(cfg.AnchorRegistry)
	acfg.Signer = opts
	acfg.Confirmations = cfg.Confirmations
	acfg.Logger = n.log.With("component", "anchor")
	if n.opts.AnchorInterval > 0 {
		acfg.Interval = n.opts.AnchorInterval
		acfg.PollInterval = min(acfg.PollInterval, n.opts.AnchorInterval)
	}
	if dev != nil {
		acfg.PollInterval = 50 * time.Millisecond // blocks come at once
	}
	acfg.URI = func(root proofs.Hash) string { return "openledger:batch/" + root.String() }
	a, err := proofs.OpenAnchorer(acfg)
	if err != nil {
		closeChain()
		return err
	}
	if err := a.Start(n.ctx); err != nil {
		a.Close()
		closeChain()
		return err
	}
	n.chain.Store(&chainLink{client: client, dev: dev, anchorer: a, registry: acfg.Registry})
	n.wg.Go(n.anchorStored)
	where := cfg.RPC
	if dev != nil {
		where = "embedded dev chain " + n.repo.Path(DevChainDir)
	}
	n.log.Info("anchoring", "chain", where, "registry", cfg.AnchorRegistry, "chain_id", chainID)
	return nil
}

// anchorStored queues every stored object the operator signed, in the
// background after a start: objects made by offline commands (no daemon to
// queue them) or before anchoring was configured get anchored too.
// Enqueue ignores what is already queued or anchored.
func (n *Node) anchorStored() {
	ch := n.chain.Load()
	me := common.HexToAddress(n.repo.Config.Identity.Account)
	queued := 0
	err := n.store.ForEachObject(n.ctx, func(c cid.Cid, data []byte) error {
		obj, err := datanet.Decode(data)
		if err != nil || obj.Signer() != me {
			return nil
		}
		leaf, err := datanet.AnchorLeaf(c)
		if err != nil {
			return nil
		}
		if err := ch.anchorer.Enqueue(n.ctx, c.Bytes(), leaf); err != nil {
			return err
		}
		queued++
		return nil
	})
	if err != nil && n.ctx.Err() == nil {
		n.log.Warn("could not queue the stored objects for anchoring", "err", err)
	}
	n.log.Debug("stored objects checked for anchoring", "signed_here", queued)
}

func (c *chainLink) close() error {
	err := c.anchorer.Close()
	c.client.Close()
	if c.dev != nil {
		err = errors.Join(err, c.dev.Close())
	}
	return err
}

// anchorObject queues an object this node made for anchoring; a node that
// anchors nowhere does nothing. A failure is logged: the object is stored
// and signed either way.
func (n *Node) anchorObject(ctx context.Context, c cid.Cid) {
	ch := n.chain.Load()
	if ch == nil {
		return
	}
	leaf, err := datanet.AnchorLeaf(c)
	if err == nil {
		err = ch.anchorer.Enqueue(ctx, c.Bytes(), leaf)
	}
	if err != nil {
		n.log.Warn("could not queue an object for anchoring", "cid", c.String(), "err", err)
	}
}

// anchorAPI is the anchor_* namespace.
type anchorAPI struct {
	n *Node
}

// AnchorStatusView is the answer of anchor_status.
type AnchorStatusView struct {
	Enabled   bool   `json:"enabled"`
	RPC       string `json:"rpc,omitempty"`
	Registry  string `json:"registry,omitempty"`
	Queued    int    `json:"queued"`
	InFlight  int    `json:"in_flight"`
	Anchored  int    `json:"anchored"`
	LastError string `json:"last_error,omitempty"`
}

// Status counts the objects queued, in flight and anchored.
func (a *anchorAPI) Status(ctx context.Context) (*AnchorStatusView, error) {
	ch := a.n.chain.Load()
	if ch == nil {
		return &AnchorStatusView{}, nil
	}
	st := ch.anchorer.Status()
	v := &AnchorStatusView{
		Enabled: true, RPC: a.n.repo.Config.Chain.RPC, Registry: ch.registry.Hex(),
		Queued: st.Queued, InFlight: st.InFlight, Anchored: st.Anchored,
	}
	if st.LastErr != nil {
		v.LastError = st.LastErr.Error()
	}
	return v, nil
}

// Flush anchors what is queued now and waits until it is anchored.
func (a *anchorAPI) Flush(ctx context.Context) (*AnchorStatusView, error) {
	ch := a.n.chain.Load()
	if ch == nil {
		return nil, ErrNoChain
	}
	if err := ch.anchorer.Flush(ctx); err != nil {
		return nil, err
	}
	return a.Status(ctx)
}

// proofsAPI is the proofs_* namespace.
type proofsAPI struct {
	n *Node
}

// Show returns the anchor proof of an object this node made: the batch
// root, the path from the object's leaf, the chain, contract, transaction
// and block.
func (a *proofsAPI) Show(ctx context.Context, c string) (*proofs.AnchorProof, error) {
	id, err := parseCID(c)
	if err != nil {
		return nil, err
	}
	ch := a.n.chain.Load()
	if ch == nil {
		return nil, ErrNoChain
	}
	p, err := ch.anchorer.Proof(id.Bytes())
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Verify checks the anchor proof this node keeps for an object: see Check.
func (a *proofsAPI) Verify(ctx context.Context, c string) (*proofs.AnchorProof, error) {
	p, err := a.Show(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := a.n.checkProof(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Check verifies a proof from anywhere (another node's, a file) against
// this node's chain: the leaf is the object's (its id is the object's
// CID), the path leads to the root, the chain ID is this chain's, and the
// registry holds the root in the proof's block.
func (a *proofsAPI) Check(ctx context.Context, p proofs.AnchorProof) (*proofs.AnchorProof, error) {
	if err := a.n.checkProof(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (n *Node) checkProof(ctx context.Context, p *proofs.AnchorProof) error {
	ch := n.chain.Load()
	if ch == nil {
		return ErrNoChain
	}
	leaf, err := datanet.ProofLeaf(p)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return p.Check(ctx, ch.client, leaf)
}

// chainAPI is the chain_* namespace.
type chainAPI struct {
	n *Node
}

// ChainStatus is the answer of chain_status.
type ChainStatus struct {
	RPC            string `json:"rpc"`
	ChainID        uint64 `json:"chain_id"`
	ConfigChainID  uint64 `json:"config_chain_id"`
	Head           uint64 `json:"head"`
	Account        string `json:"account"`
	Balance        string `json:"balance"` // wei, decimal
	AnchorRegistry string `json:"anchor_registry,omitempty"`
	// RegistryDeployed says whether code is at AnchorRegistry.
	RegistryDeployed bool `json:"registry_deployed"`
}

// chainClient returns a client of the configured chain: the anchorer's
// connection when it runs, else a new connection to chain.rpc, which
// release closes. The embedded dev chain is reachable only through the
// running daemon.
func (n *Node) chainClient(ctx context.Context) (*ethclient.Client, func(), error) {
	rpcURL := n.repo.Config.Chain.RPC
	switch ch := n.chain.Load(); {
	case rpcURL == ChainNone:
		return nil, nil, ErrNoChain
	case ch != nil:
		return ch.client, func() {}, nil
	case rpcURL == "":
		return nil, nil, fmt.Errorf("%w: the embedded dev chain runs in the daemon (start it; it deploys the contracts at first start)", ErrNoChain)
	}
	c, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: chain.rpc %s: %w", ErrNoChain, rpcURL, err)
	}
	return c, c.Close, nil
}

// Status reports the configured chain: its ID, head, the operator's balance
// and whether the anchor registry is deployed.
func (a *chainAPI) Status(ctx context.Context) (*ChainStatus, error) {
	cfg := a.n.repo.Config.Chain
	client, release, err := a.n.chainClient(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rpcName := cfg.RPC
	if rpcName == "" {
		rpcName = "embedded dev chain"
	}
	st := &ChainStatus{RPC: rpcName, ConfigChainID: cfg.ID, Account: a.n.repo.Config.Identity.Account, AnchorRegistry: cfg.AnchorRegistry}
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: chain.rpc %s: %w", ErrNoChain, cfg.RPC, err)
	}
	st.ChainID = id.Uint64()
	if st.Head, err = client.BlockNumber(ctx); err != nil {
		return nil, err
	}
	bal, err := client.BalanceAt(ctx, common.HexToAddress(st.Account), nil)
	if err != nil {
		return nil, err
	}
	st.Balance = bal.String()
	if cfg.AnchorRegistry != "" {
		code, err := client.CodeAt(ctx, common.HexToAddress(cfg.AnchorRegistry), nil)
		if err != nil {
			return nil, err
		}
		st.RegistryDeployed = len(code) > 0
	}
	return st, nil
}

// DeployArgs are the arguments of chain_deploy.
type DeployArgs struct {
	// Token is the ERC-20 rewards are paid in; empty deploys the test OPEN
	// token (for dev chains), owned by the operator.
	Token string `json:"token,omitempty"`
}

// DeployResult is the answer of chain_deploy.
type DeployResult struct {
	ChainID            uint64 `json:"chain_id"`
	AnchorRegistry     string `json:"anchor_registry"`
	RewardsDistributor string `json:"rewards_distributor"`
	Token              string `json:"token"`
	// TokenDeployed says whether Token is the test OPEN token deployed now.
	TokenDeployed bool   `json:"token_deployed"`
	GasUsed       uint64 `json:"gas_used"`
	// Anchoring says whether the node started anchoring with them.
	Anchoring bool `json:"anchoring"`
}

// Deploy deploys the contracts on chain.rpc with the operator account (the
// anchor registry, the rewards distributor with the operator as owner and
// poster, and the test OPEN token unless a token is given), writes their
// addresses to the config, and starts anchoring.
func (a *chainAPI) Deploy(ctx context.Context, args DeployArgs) (*DeployResult, error) {
	res, err := a.n.deploy(ctx, args)
	return res, err
}

func (n *Node) deploy(ctx context.Context, args DeployArgs) (*DeployResult, error) {
	if args.Token != "" && !common.IsHexAddress(args.Token) {
		return nil, fmt.Errorf("%w: token %q is not an address", errBadRequest, args.Token)
	}
	client, release, err := n.chainClient(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := n.deployContracts(ctx, client, args)
	if err != nil {
		return nil, err
	}
	if err := n.saveDeployment(res); err != nil {
		return nil, err
	}
	n.anchorStartMu.Lock()
	defer n.anchorStartMu.Unlock()
	if n.chain.Load() == nil && !n.opts.Offline && n.ctx.Err() == nil {
		if err := n.startAnchorer(); err != nil {
			return nil, err
		}
	}
	res.Anchoring = n.chain.Load() != nil
	return res, nil
}

// saveDeployment writes deployed contract addresses to the config.
func (n *Node) saveDeployment(res *DeployResult) error {
	n.repo.Config.Chain.AnchorRegistry = res.AnchorRegistry
	n.repo.Config.Chain.RewardsDistributor = res.RewardsDistributor
	if err := n.repo.SaveConfig(); err != nil {
		return fmt.Errorf("deployed, but writing the addresses to the config failed: %w (registry %s, distributor %s)",
			err, res.AnchorRegistry, res.RewardsDistributor)
	}
	n.log.Info("contracts deployed", "chain", res.ChainID, "registry", res.AnchorRegistry,
		"distributor", res.RewardsDistributor, "token", res.Token)
	return nil
}

// deployContracts deploys the anchor registry, the test OPEN token unless
// args names a token, and the rewards distributor with the operator as
// owner and poster.
func (n *Node) deployContracts(ctx context.Context, client *ethclient.Client, args DeployArgs) (*DeployResult, error) {
	chainID, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChain, err)
	}
	key, err := n.repo.LoadAccountKey(n.opts.Password)
	if err != nil {
		return nil, err
	}
	opts, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		return nil, err
	}
	opts.Context = ctx
	res := &DeployResult{ChainID: chainID.Uint64(), Token: args.Token}
	wait := func(what string, tx *types.Transaction, err error) error {
		if err != nil {
			return fmt.Errorf("deploy %s: %w", what, err)
		}
		r, err := bind.WaitMined(ctx, client, tx)
		if err != nil {
			return fmt.Errorf("deploy %s: %w", what, err)
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("deploy %s: transaction %s failed (gas used %d of %d, block %d)", what, tx.Hash(), r.GasUsed, tx.Gas(), r.BlockNumber)
		}
		res.GasUsed += r.GasUsed
		return nil
	}
	registry, tx, _, err := contracts.DeployAnchorRegistry(opts, client)
	if err := wait("the anchor registry", tx, err); err != nil {
		return nil, err
	}
	res.AnchorRegistry = registry.Hex()
	if res.Token == "" {
		token, tx, _, err := contracts.DeployOpenToken(opts, client, opts.From)
		if err := wait("the test OPEN token", tx, err); err != nil {
			return nil, err
		}
		res.Token, res.TokenDeployed = token.Hex(), true
	}
	dist, tx, rd, err := contracts.DeployRewardsDistributor(opts, client, common.HexToAddress(res.Token), opts.From)
	if err := wait("the rewards distributor", tx, err); err != nil {
		return nil, err
	}
	res.RewardsDistributor = dist.Hex()
	// A fixed gas limit with room: the estimate came out too low now and
	// then on the embedded dev chain (Amsterdam rules price a new storage
	// slot far above Osaka), and the transaction ran out of gas.
	posterOpts := *opts
	posterOpts.GasLimit = 500_000
	tx, err = rd.SetPoster(&posterOpts, opts.From, true)
	if err := wait("the operator as rewards poster", tx, err); err != nil {
		return nil, err
	}
	return res, nil
}
