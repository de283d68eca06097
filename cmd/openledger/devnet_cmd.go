package main

import (
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/internal/devnet"
)

func (a *app) devnetCmd() *cobra.Command {
	var exit, keep bool
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run three throwaway nodes and walk through the main job: Datanet, contribution, gossip, fetch, curation, snapshot",
		Long: "devnet starts three nodes (alice, bob, carol) in throwaway repos on loopback and connects them; " +
			"alice creates a Datanet curated by the three operators (weight 1 each, quorum 2, threshold 50.01%) " +
			"and adds a sample dataset through her node's API; bob and carol join and receive the contribution " +
			"by gossip; carol fetches every shard from the network and every file is read back over HTTP and " +
			"checked. Then each node adds a small contribution and the curators vote through their own nodes " +
			"until one contribution is rejected, one stays pending on a split vote and two are accepted; " +
			"the votes travel by gossip and devnet waits until all three nodes tally the same. bob cuts a " +
			"snapshot of the accepted contributions; carol verifies it (signatures, votes against the policy, " +
			"Merkle root), fetches the whole version and checks every file over HTTP. alice runs the embedded " +
			"dev chain: she anchors the objects she made in one transaction and verifies their proofs against " +
			"the chain. Each step is printed with " +
			"its CID. The nodes keep serving until Ctrl-C, or devnet exits at once with --exit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := a.logger("warn")
			if err != nil {
				return err
			}
			return devnet.Run(cmd.Context(), devnet.Options{Out: a.stdout, Logger: log, Version: version, Exit: exit, Keep: keep})
		},
	}
	cmd.Flags().BoolVar(&exit, "exit", false, "exit when the walk-through is done instead of serving until Ctrl-C")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the throwaway repo instead of deleting it")
	return cmd
}
