package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
)

func (a *app) modelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Register and show model lineage: what a model was trained on",
	}
	var args daemon.RegisterModelArgs
	var meta []string
	register := &cobra.Command{
		Use:   "register NAME --snapshot CID... [--base BASE] [--artifact PATH...]",
		Short: "Sign a model record naming the snapshots it was trained on; artifacts (adapters) are stored as content",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			args.Name = pos[0]
			for i, p := range args.Artifacts {
				abs, err := filepath.Abs(p)
				if err != nil {
					return err
				}
				args.Artifacts[i] = abs
			}
			var err error
			if args.Metadata, err = parseMeta(meta); err != nil {
				return err
			}
			v, err := call1(cmd.Context(), a, (*daemon.API).ModelRegister, args)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { fmt.Fprintln(w, v.CID) })
		},
	}
	f := register.Flags()
	f.StringVar(&args.Base, "base", "", "base model, e.g. meta-llama/Llama-3.1-8B")
	f.StringArrayVar(&args.Snapshots, "snapshot", nil, "CID of a snapshot the model was trained on (repeatable, at least one)")
	f.StringArrayVar(&args.Artifacts, "artifact", nil, "file stored with the model, e.g. a LoRA adapter (repeatable)")
	f.IntVar(&args.ChunkSize, "chunk-size", 0, "shard size of the artifacts in bytes (default config storage.chunk_size)")
	f.StringArrayVar(&meta, "meta", nil, "metadata KEY=VALUE (repeatable)")
	register.MarkFlagRequired("snapshot")
	show := &cobra.Command{
		Use:   "show MODEL",
		Short: "Show a model record: base, snapshots (and whether they are indexed here), artifacts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).ModelShow, pos[0])
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printModel(w, *v) })
		},
	}
	list := pageList(a, &cobra.Command{Use: "list", Short: "List a page of the model records held here (in CID order)", Args: cobra.NoArgs},
		func(ctx context.Context, _ []string, page *daemon.PageArgs) ([]daemon.ModelView, error) {
			return call1(ctx, a, (*daemon.API).ModelList, page)
		},
		func(w io.Writer, v daemon.ModelView) {
			fmt.Fprintf(w, "%s  %s  base %q  %d snapshots  %d artifacts  %d records\n",
				v.CID, v.Name, v.Base, len(v.Snapshots), len(v.Artifacts), v.Records)
		},
		func(v daemon.ModelView) string { return v.CID })
	cmd.AddCommand(register, show, list)
	return cmd
}

func printModel(w io.Writer, v daemon.ModelView) {
	fmt.Fprintf(w, "model:    %s\nname:     %s\nbase:     %s\nowner:    %s\ncreated:  %s\nrecords:  %d\n",
		v.CID, v.Name, v.Base, v.Owner, v.Created.Format("2006-01-02 15:04:05Z"), v.Records)
	for _, s := range v.Snapshots {
		idx := "not indexed here"
		if s.Indexed {
			idx = "indexed"
		}
		fmt.Fprintf(w, "snapshot: %s (datanet %s, %s)\n", s.Snapshot, s.Datanet, idx)
	}
	for _, f := range v.Artifacts {
		fmt.Fprintf(w, "artifact: %s (%s)\n", f.Path, humanize.IBytes(f.Size))
	}
}

func (a *app) attributionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attribution",
		Short: "Build span indexes of snapshots and list attribution records",
	}
	index := &cobra.Command{
		Use:   "index SNAPSHOT",
		Short: "Build the span index of a snapshot's text (fetching its files first if need be)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			res, err := a.index(cmd.Context(), pos[0])
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "indexed %s: %d contributions, %s of text in %d segments, took %s\n",
					res.Snapshot, res.Contributions, humanize.IBytes(uint64(res.TextBytes)), len(res.Segments), res.Took)
			})
		},
	}
	var model string
	records := pageList(a, &cobra.Command{
		Use:    "records [MODEL]",
		Short:  "List a page of the CIDs of the attribution records held here (of one model), in CID order",
		Args:   cobra.MaximumNArgs(1),
		PreRun: func(_ *cobra.Command, pos []string) { model = optArg(pos) },
	},
		func(ctx context.Context, _ []string, page *daemon.PageArgs) ([]string, error) {
			return call2(ctx, a, (*daemon.API).AttributionRecords, model, page)
		},
		func(w io.Writer, c string) { fmt.Fprintln(w, c) },
		func(c string) string { return c })
	cmd.AddCommand(index, records)
	return cmd
}

// index runs attribution_index through its progress subscription.
func (a *app) index(ctx context.Context, snapshot string) (*daemon.IndexResult, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	events := make(chan daemon.IndexEvent, 16)
	sub, err := c.AttributionIndexProgress(ctx, events, snapshot)
	if err != nil {
		return nil, rpcErr(err)
	}
	defer sub.Unsubscribe()
	final, err := followProgress(ctx, a, sub, events, "indexing", false,
		func(ev daemon.IndexEvent) (int64, int64, bool, *daemon.EventErr) {
			return ev.Done, ev.Total, ev.Result != nil || ev.Error != nil, ev.Error
		})
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return final.Result, nil
}

func (a *app) attributeCmd() *cobra.Command {
	var args daemon.AttributeArgs
	var text, file string
	cmd := &cobra.Command{
		Use:   "attribute --model MODEL (--text TEXT | --file FILE)",
		Short: "Attribute a model's output to the contributions it repeats; signs and stores the record",
		Long: "Finds the maximal spans of the output that occur verbatim in the model's snapshots, credits each\n" +
			"to the earliest accepted contribution holding it, weights spans by length and rarity, and splits\n" +
			"the inference's fee by those weights (see `openledger rewards params`). The signed record is\n" +
			"stored, provided and anchored; `openledger attribute verify RECORD` recomputes it anywhere.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case (text == "") == (file == ""):
				return errors.New("give the output with exactly one of --text and --file")
			case file != "":
				data, err := readCapped(file, 1<<20)
				if err != nil {
					return err
				}
				args.Output = string(data)
			default:
				args.Output = text
			}
			v, err := call1(cmd.Context(), a, (*daemon.API).AttributionAttribute, args)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printAttribution(w, *v) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&args.Model, "model", "", "CID of the model record (required)")
	f.StringVar(&text, "text", "", "the model's output")
	f.StringVar(&file, "file", "", "a file holding the model's output (- for stdin)")
	f.Uint64Var(&args.TokensIn, "tokens-in", 0, "input tokens of the inference (for the fee)")
	f.Uint64Var(&args.TokensOut, "tokens-out", 0, "output tokens of the inference (default: bytes / 4)")
	cmd.MarkFlagRequired("model")
	verify := &cobra.Command{
		Use:   "verify RECORD",
		Short: "Recompute an attribution record on this node and compare it byte for byte; check its proofs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).AttributionVerify, pos[0])
			if err != nil {
				return err
			}
			if !v.OK {
				if a.jsonOut {
					if err := a.emit(v, nil); err != nil { // the verdict, then exit 1
						return err
					}
				}
				return fmt.Errorf("record %s does not verify: %s", pos[0], v.Problem)
			}
			return a.emit(v, func(w io.Writer) {
				if len(v.Indexed) > 0 {
					fmt.Fprintf(w, "indexed first: %s\n", strings.Join(v.Indexed, ", "))
				}
				fmt.Fprintf(w, "OK record %s recomputes byte for byte (result sha256 %s)\nchecked: %s\n", v.CID, v.Result, v.Checked)
			})
		},
	}
	show := &cobra.Command{
		Use:   "show RECORD",
		Short: "Show an attribution record with its span texts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).AttributionGet, pos[0])
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printAttribution(w, *v) })
		},
	}
	cmd.AddCommand(verify, show)
	return cmd
}

// readCapped reads a file (or stdin for "-") of at most max bytes.
func readCapped(name string, max int64) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: more than %s; the node attributes at most attribution.max_output_bytes", name, humanize.IBytes(uint64(max)))
	}
	return data, nil
}

func printAttribution(w io.Writer, v daemon.AttributionView) {
	r := v.Record
	fmt.Fprintf(w, "record: %s\nmodel:  %s\noutput: %s (%d bytes)\n", v.CID, r.Model, r.Output, r.OutputSize)
	if len(r.Spans) == 0 {
		fmt.Fprintln(w, "spans:  none: the output repeats nothing in the model's data long and rare enough to credit")
	}
	for i, s := range r.Spans {
		fmt.Fprintf(w, "span %d [%d,%d) x%d -> %s file %d @%d: %q\n", i, s.Start, s.End, s.Count,
			s.Contribution, s.File, s.Offset, clip(v.Texts[i], 72))
	}
	for _, wt := range r.Weights {
		fmt.Fprintf(w, "weight %s %s\n", wt.Address.Hex(), fraction(wt.Parts))
	}
	for _, p := range r.Payouts {
		fmt.Fprintf(w, "payout %-11s %s %s wei\n", p.Role, p.Address.Hex(), p.Amount)
	}
}

// fraction prints parts of 10^18 as a decimal.
func fraction(parts uint64) string {
	s := strconv.FormatUint(parts, 10)
	for len(s) < 19 {
		s = "0" + s
	}
	return strings.TrimRight(s[:len(s)-18]+"."+s[len(s)-18:], "0")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (a *app) rewardsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rewards",
		Short: "Fee parameters, reward epochs posted on chain, and claims",
	}
	params := &cobra.Command{
		Use:   "params",
		Short: "Show the published fee and split parameters this node's records use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := call0(cmd.Context(), a, (*daemon.API).RewardsParams)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				p := v.Params
				fmt.Fprintf(w, "formula:      %s\nR_in:         %s wei / 1000 tokens\nR_out:        %s wei / 1000 tokens\nF_platform:   %s wei\n",
					v.Formula, p.RateIn, p.RateOut, p.PlatformFee)
				fmt.Fprintf(w, "model owner:  %d bps\nstakers:      %d bps (%s)\ncontributors: %d bps\nplatform:     %s\n",
					p.ModelOwnerBps, p.StakerBps, p.Stakers.Hex(), p.ContributorBps, p.Platform.Hex())
				fmt.Fprintf(w, "distributor:  %s\ntoken:        %s\n", v.Distributor, v.Token)
				if e := v.Example; e != nil {
					fmt.Fprintf(w, "example (1000 in, 1000 out): fee %s wei = platform %s + owner %s + stakers %s + contributors %s\n",
						e.Total, e.Platform, e.ModelOwner, e.Stakers, e.Contributors)
				}
			})
		},
	}
	epoch := &cobra.Command{Use: "epoch", Short: "Close and list reward epochs"}
	closeCmd := &cobra.Command{
		Use:   "close",
		Short: "Sum this node's records since the last epoch, sign the epoch, fund the distributor and post its root",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := call0(cmd.Context(), a, (*daemon.API).RewardsCloseEpoch)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printEpoch(w, *v) })
		},
	}
	listCmd := pageList(a, &cobra.Command{Use: "list", Short: "List the reward epochs held for the configured distributor, and whether each is posted on chain", Args: cobra.NoArgs},
		func(ctx context.Context, _ []string, page *daemon.PageArgs) ([]daemon.EpochView, error) {
			return call1(ctx, a, (*daemon.API).RewardsEpochs, page)
		},
		func(w io.Writer, v daemon.EpochView) {
			fmt.Fprintf(w, "epoch %d  %s  root %s  %d records  %d accounts  total %s wei  %s\n",
				v.Number, v.CID, v.Root, v.Records, v.Accounts, v.Total, postedText(v))
		},
		func(v daemon.EpochView) string { return v.CID })
	epoch.AddCommand(closeCmd, listCmd)
	show := &cobra.Command{
		Use:   "show [ADDRESS]",
		Short: "An address's cumulative amount in the latest epoch, its Merkle proof, and what it claimed (default: the operator)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).RewardsShow, optArg(pos))
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { printClaim(w, *v) })
		},
	}
	claim := &cobra.Command{
		Use:   "claim [ADDRESS]",
		Short: "Claim an address's rewards on chain (the operator pays the gas; the OPEN goes to the address)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).RewardsClaim, optArg(pos))
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				printClaim(w, *v)
				fmt.Fprintf(w, "paid:       %s wei (balance %s -> %s) in %s\n", v.Paid, v.BalanceBefore, v.BalanceAfter, v.Tx)
			})
		},
	}
	verify := &cobra.Command{
		Use:   "verify EPOCH",
		Short: "Recompute an epoch's root from its records and compare it with the signed and the posted root",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			n, err := strconv.ParseUint(pos[0], 10, 64)
			if err != nil || n == 0 {
				return fmt.Errorf("epoch %q: want a number from 1", pos[0])
			}
			v, err := call1(cmd.Context(), a, (*daemon.API).RewardsVerify, n)
			if err != nil {
				return err
			}
			if !v.OK {
				if a.jsonOut {
					if err := a.emit(v, nil); err != nil { // the verdict, then exit 1
						return err
					}
				}
				return fmt.Errorf("epoch %d does not verify: %s", n, v.Problem)
			}
			return a.emit(v, func(w io.Writer) {
				fmt.Fprintf(w, "OK epoch %d (%s): root %s recomputed from %s, posted in %s\nchecked: %s\n",
					v.Epoch, v.CID, v.Recomputed, "its records", v.PostTx, v.Checked)
			})
		},
	}
	cmd.AddCommand(params, epoch, show, claim, verify)
	return cmd
}

func optArg(pos []string) string {
	if len(pos) == 0 {
		return ""
	}
	return pos[0]
}

func printEpoch(w io.Writer, v daemon.EpochView) {
	fmt.Fprintf(w, "epoch:    %d\nobject:   %s\nroot:     %s\nrecords:  %d\naccounts: %d\ntotal:    %s wei\n",
		v.Number, v.CID, v.Root, v.Records, v.Accounts, v.Total)
	if v.Funded != "" {
		fmt.Fprintf(w, "funded:   %s wei to the distributor\n", v.Funded)
	}
	if v.PostTx != "" {
		fmt.Fprintf(w, "posted:   %s\n", v.PostTx)
	}
}

// postedText says whether an epoch's root is posted on chain.
func postedText(v daemon.EpochView) string {
	switch {
	case v.Posted == nil:
		return "posted: unknown (chain not reachable)"
	case *v.Posted:
		return "posted in " + v.PostTx
	}
	return "not posted"
}

func printClaim(w io.Writer, v daemon.ClaimView) {
	fmt.Fprintf(w, "address:    %s\nepoch:      %d\ncumulative: %s wei\nclaimed:    %s wei\nclaimable:  %s wei\nproof:      %s\n",
		v.Address, v.Epoch, v.Cumulative, v.Claimed, v.Claimable, strings.Join(v.Proof, " "))
}
