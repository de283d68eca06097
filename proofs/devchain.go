package proofs

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"
)

// DevChainID is the chain ID of the embedded development chain, as of
// `geth --dev`.
const DevChainID = 1337

// DevChain is the embedded development chain: an in-process go-ethereum
// node in dev mode keeping its data under a directory, built the way
// `geth --dev --datadir DIR` builds one. It seals a block as soon as a
// transaction arrives, and it survives restarts (unlike
// ethclient/simulated, which forks back to genesis every time it starts).
// It has no network: no peers, no listening socket; its JSON-RPC is the
// in-process client and RPCHandler, which the daemon serves on its API.
type DevChain struct {
	stack  *node.Node
	client *ethclient.Client
}

// OpenDevChain opens (or creates) the dev chain under dir. faucet holds
// almost all ether of the chain from genesis: pass the operator's account,
// and keep passing the same one, since it is part of the genesis.
func OpenDevChain(dir string, faucet common.Address) (*DevChain, error) {
	cfg := node.DefaultConfig
	cfg.Name = "devchain"
	cfg.DataDir = dir
	cfg.IPCPath = ""
	cfg.HTTPHost, cfg.WSHost = "", ""
	cfg.P2P = p2p.Config{NoDiscovery: true, NoDial: true, MaxPeers: 0, ListenAddr: ""}
	stack, err := node.New(&cfg)
	if err != nil {
		return nil, fmt.Errorf("dev chain: %w", err)
	}
	ethCfg := ethconfig.Defaults
	ethCfg.NetworkId = DevChainID
	ethCfg.Genesis = core.DeveloperGenesisBlock(ethconfig.Defaults.Miner.GasCeil, &faucet)
	ethCfg.SyncMode = ethconfig.FullSync
	ethCfg.TxPool.NoLocals = true
	backend, err := eth.New(stack, &ethCfg)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("dev chain: %w", err)
	}
	if id := backend.BlockChain().Config().ChainID; id == nil || id.Uint64() != DevChainID {
		stack.Close()
		return nil, fmt.Errorf("dev chain: chain ID %v, want %d", id, DevChainID)
	}
	// Log queries (the anchorer looks for its Anchored events).
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	// Period 0: a block whenever a transaction arrives, as geth --dev.
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("dev chain: %w", err)
	}
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	stack.RegisterLifecycle(beacon)
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("dev chain: %w", err)
	}
	return &DevChain{stack: stack, client: ethclient.NewClient(stack.Attach())}, nil
}

// Client returns the in-process client of the chain.
func (d *DevChain) Client() *ethclient.Client { return d.client }

// RPCHandler returns the chain's JSON-RPC server (every namespace it
// registers: eth, net, web3, txpool, debug, admin...); its ServeHTTP
// answers JSON-RPC over HTTP. Whoever serves it chooses the methods.
func (d *DevChain) RPCHandler() (*rpc.Server, error) { return d.stack.RPCHandler() }

// Close stops the chain; its data stays under its directory.
func (d *DevChain) Close() error {
	d.client.Close()
	return errors.Join(d.stack.Close())
}
