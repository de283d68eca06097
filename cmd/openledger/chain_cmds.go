package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ipfs/go-cid"

	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

func (a *app) anchorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "anchor",
		Short: "Show and flush the queue of objects anchored on the chain",
		Long: "The daemon anchors every object it makes (Datanets, updates, contributions, votes, snapshots)\n" +
			"on the chain named by chain.rpc and chain.anchor_registry: one transaction per batch of up to\n" +
			"1,024 objects or every 30 s.",
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Objects queued, in flight and anchored, and the last chain error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := call0(cmd.Context(), a, (*daemon.API).AnchorStatus)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printAnchorStatus(w, *v) })
		},
	}
	flush := &cobra.Command{
		Use:   "flush",
		Short: "Anchor what is queued now and wait until it is anchored",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := call0(cmd.Context(), a, (*daemon.API).AnchorFlush)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printAnchorStatus(w, *v) })
		},
	}
	cmd.AddCommand(status, flush)
	return cmd
}

func printAnchorStatus(w io.Writer, v daemon.AnchorStatusView) {
	if !v.Enabled {
		fmt.Fprintln(w, "anchoring off: set chain.rpc and chain.anchor_registry in the config")
		return
	}
	fmt.Fprintf(w, "chain:     %s\nregistry:  %s\nqueued:    %d\nin flight: %d\nanchored:  %d\n",
		v.RPC, v.Registry, v.Queued, v.InFlight, v.Anchored)
	if v.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", v.LastError)
	}
}

func (a *app) proofsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "proofs", Short: "Show and verify the anchor proofs of objects this node made"}
	show := &cobra.Command{
		Use:   "show CID",
		Short: "Print an object's anchor proof: leaf, path, batch root, chain, contract, transaction, block",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := call1(cmd.Context(), a, (*daemon.API).ProofsShow, args[0])
			if err != nil {
				return err
			}
			return a.emit(p, func(w io.Writer) { printProof(w, args[0], p) })
		},
	}
	var file, chainRPC, objectFile string
	verify := &cobra.Command{
		Use:   "verify CID | --file PROOF.json --chain-rpc URL [--object FILE]",
		Short: "Check an object's anchor proof: its leaf, the path to the root, and the root on chain (non-zero exit if not)",
		Long: "With a CID, the node checks the proof it keeps. With --file, no repo or node is needed: the proof\n" +
			"(as `proofs show --json` prints it) is checked against the chain at --chain-rpc, and with --object\n" +
			"the object's bytes are hashed to the CID the proof names.",
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				return a.verifyProofFile(cmd.Context(), file, chainRPC, objectFile)
			}
			p, err := call1(cmd.Context(), a, (*daemon.API).ProofsVerify, args[0])
			if err != nil {
				return err
			}
			return a.emit(p, func(w io.Writer) {
				fmt.Fprintf(w, "OK %s is in batch %s, anchored in block %d of chain %d (tx %s)\n",
					args[0], p.Root, p.BlockNumber, p.ChainID, p.TxHash.Hex())
			})
		},
	}
	verify.Flags().StringVar(&file, "file", "", "a proof file, as `openledger proofs show --json` prints it")
	verify.Flags().StringVar(&chainRPC, "chain-rpc", "", "EVM JSON-RPC endpoint to check the root on (with --file)")
	verify.Flags().StringVar(&objectFile, "object", "", "the object's encoding, to check it is what the proof names (with --file)")
	cmd.AddCommand(show, verify)
	return cmd
}

// verifyProofFile checks a proof file against a chain endpoint, without a
// repo: the leaf from the CID, the path to the root, the chain ID, and the
// root's anchor in the registry.
func (a *app) verifyProofFile(ctx context.Context, file, chainRPC, objectFile string) error {
	if chainRPC == "" {
		return errors.New("--file needs --chain-rpc, the chain to check the root on")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var p proofs.AnchorProof
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("%s: not a proof: %w", file, err)
	}
	c, err := cid.Cast(p.ID)
	if err != nil {
		return fmt.Errorf("%s: the proof's id is not a CID: %w", file, err)
	}
	if objectFile != "" {
		obj, err := os.ReadFile(objectFile)
		if err != nil {
			return err
		}
		if got := storage.ObjectCID(c.Prefix().Codec, obj); !got.Equals(c) {
			return fmt.Errorf("%s hashes to %s, the proof is for %s", objectFile, got, c)
		}
	}
	client, err := ethclient.DialContext(ctx, chainRPC)
	if err != nil {
		return fmt.Errorf("--chain-rpc %s: %w", chainRPC, err)
	}
	defer client.Close()
	leaf, err := datanet.ProofLeaf(&p)
	if err != nil {
		return err
	}
	if err := p.Check(ctx, client, leaf); err != nil {
		return err
	}
	return a.emit(p, func(w io.Writer) {
		fmt.Fprintf(w, "OK %s is in batch %s, anchored in block %d of chain %d by registry %s\n",
			c, p.Root, p.BlockNumber, p.ChainID, p.Contract.Hex())
	})
}

func printProof(w io.Writer, c string, p *proofs.AnchorProof) {
	fmt.Fprintf(w, "object:   %s\nleaf:     %s\nroot:     %s (%d items)\npath:     %d hashes\n",
		c, p.Leaf, p.Root, p.ItemCount, len(p.Path))
	fmt.Fprintf(w, "chain:    %d\ncontract: %s\ntx:       %s\nblock:    %d\n",
		p.ChainID, p.Contract.Hex(), p.TxHash.Hex(), p.BlockNumber)
}

func (a *app) chainCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "chain", Short: "The EVM chain this node anchors on (chain.rpc)"}
	status := &cobra.Command{
		Use:   "status",
		Short: "Chain ID, head block, the operator's balance, and whether the anchor registry is deployed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := call0(cmd.Context(), a, (*daemon.API).ChainStatus)
			if err != nil {
				return err
			}
			return a.emit(st, func(w io.Writer) {
				fmt.Fprintf(w, "rpc:       %s\nchain id:  %d", st.RPC, st.ChainID)
				if st.ChainID != st.ConfigChainID {
					fmt.Fprintf(w, " (config chain.id is %d: Datanets made here name that one)", st.ConfigChainID)
				}
				fmt.Fprintf(w, "\nhead:      %d\naccount:   %s\nbalance:   %s wei\n", st.Head, st.Account, st.Balance)
				if st.AnchorRegistry != "" {
					fmt.Fprintf(w, "registry:  %s (deployed: %v)\n", st.AnchorRegistry, st.RegistryDeployed)
				}
			})
		},
	}
	var token string
	deploy := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy the anchor registry and rewards distributor with the operator account and write their addresses to the config",
		Long: "deploy sends the contracts from the operator account (fund it first; see `chain status`): the\n" +
			"anchor registry, the rewards distributor (the operator is its owner and poster) and, unless\n" +
			"--token names the ERC-20 rewards are paid in, a test OPEN token. The addresses go into\n" +
			"chain.anchor_registry and chain.rewards_distributor, and a running daemon starts anchoring.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := call1(cmd.Context(), a, (*daemon.API).ChainDeploy, daemon.DeployArgs{Token: token})
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "chain %d, %d gas\nanchor registry:     %s\nrewards distributor: %s\ntoken:               %s",
					res.ChainID, res.GasUsed, res.AnchorRegistry, res.RewardsDistributor, res.Token)
				if res.TokenDeployed {
					fmt.Fprint(w, " (test OPEN, deployed now)")
				}
				fmt.Fprintf(w, "\nwritten to the config; anchoring: %v\n", res.Anchoring)
			})
		},
	}
	deploy.Flags().StringVar(&token, "token", "", "ERC-20 address rewards are paid in (default: deploy the test OPEN token)")
	rpcURL := &cobra.Command{
		Use:   "rpc-url",
		Short: "Print the chain's JSON-RPC endpoint for outside tools: chain.rpc, or the daemon's /chain/rpc for the embedded dev chain",
		Long: "rpc-url prints an endpoint that ethers, wallets, cast and `proofs verify --chain-rpc` can use. The\n" +
			"embedded dev chain is served by the running daemon at its API address, path /chain/rpc: read\n" +
			"methods for anyone, the whole eth namespace with an admin token (see docs/api.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := call0(cmd.Context(), a, (*daemon.API).ChainRpcUrl)
			if err != nil {
				return err
			}
			return a.emit(map[string]string{"rpc_url": u}, func(w io.Writer) { fmt.Fprintln(w, u) })
		},
	}
	cmd.AddCommand(status, deploy, rpcURL)
	return cmd
}
