package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/proofs"
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
			var v daemon.AnchorStatusView
			if err := a.call(cmd.Context(), &v, "anchor_status"); err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printAnchorStatus(w, v) })
		},
	}
	flush := &cobra.Command{
		Use:   "flush",
		Short: "Anchor what is queued now and wait until it is anchored",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var v daemon.AnchorStatusView
			if err := a.call(cmd.Context(), &v, "anchor_flush"); err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printAnchorStatus(w, v) })
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
			var p proofs.AnchorProof
			if err := a.call(cmd.Context(), &p, "proofs_show", args[0]); err != nil {
				return err
			}
			return a.emit(p, func(w io.Writer) { printProof(w, args[0], &p) })
		},
	}
	verify := &cobra.Command{
		Use:   "verify CID",
		Short: "Check an object's anchor proof: its leaf, the path to the root, and the root on chain (non-zero exit if not)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p proofs.AnchorProof
			if err := a.call(cmd.Context(), &p, "proofs_verify", args[0]); err != nil {
				return err
			}
			return a.emit(p, func(w io.Writer) {
				fmt.Fprintf(w, "OK %s is in batch %s, anchored in block %d of chain %d (tx %s)\n",
					args[0], p.Root, p.BlockNumber, p.ChainID, p.TxHash.Hex())
			})
		},
	}
	cmd.AddCommand(show, verify)
	return cmd
}

func printProof(w io.Writer, c string, p *proofs.AnchorProof) {
	fmt.Fprintf(w, "object:   %s\nleaf:     %s\nroot:     %s (%d items)\npath:     %d hashes\n",
		c, p.Leaf, p.Root, p.ItemCount, len(p.Path))
	fmt.Fprintf(w, "chain:    %d\ncontract: %s\ntx:       %s\nblock:    %d\n",
		p.ChainID, p.Contract.Hex(), p.TxHash.Hex(), p.BlockNumber)
}
