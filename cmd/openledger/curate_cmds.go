package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/dustin/go-humanize"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
)

func (a *app) curateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "curate",
		Short: "Vote on contributions as a curator and follow their status",
		Long: "Curators of a Datanet approve or reject its contributions with signed votes; a contribution is\n" +
			"accepted once the weight of the votes cast reaches the quorum and the approving share the threshold.\n" +
			"Vote with the operator account (`curate vote`), or with any wallet: `curate typed-data` prints the\n" +
			"EIP-712 document to sign (eth_signTypedData_v4) and `curate submit` sends back the signature.",
	}
	cmd.AddCommand(a.curateVoteCmd(), a.curateTypedDataCmd(), a.curateSubmitCmd(),
		a.curateShowCmd(), a.curatePendingCmd(), a.curateStatusCmd())
	return cmd
}

func (a *app) curateVoteCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "vote CONTRIBUTION approve|reject",
		Short: "Sign a vote with the operator account and publish it; prints the contribution's status after it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := call1(cmd.Context(), a, (*daemon.API).CurationVote, daemon.VoteArgs{Contribution: args[0], Decision: args[1], Reason: reason})
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) { printVoteResult(w, res) })
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for people (at most 1024 bytes)")
	return cmd
}

func (a *app) curateTypedDataCmd() *cobra.Command {
	var args daemon.VoteArgs
	cmd := &cobra.Command{
		Use:   "typed-data CONTRIBUTION approve|reject",
		Short: "Print the EIP-712 document of a vote for a wallet to sign (eth_signTypedData_v4)",
		Long: "Prints the EIP-712 typed data of a vote, and nothing else, for a curator to sign with a wallet,\n" +
			"a hardware key or `cast wallet sign --data --from-file vote.json`; send the signature back with\n" +
			"`openledger curate submit --typed-data vote.json --signature 0x...`.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			args.Contribution, args.Decision = pos[0], pos[1]
			doc, err := call1(cmd.Context(), a, (*daemon.API).CurationTypedData, args)
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, doc, "", "  "); err != nil {
				return fmt.Errorf("typed data from the node: %w", err)
			}
			out.WriteByte('\n')
			_, err = out.WriteTo(a.stdout)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&args.Reason, "reason", "", "why, for people (at most 1024 bytes)")
	f.StringVar(&args.Curator, "curator", "", "address of the curator who will sign (default the operator account)")
	return cmd
}

func (a *app) curateSubmitCmd() *cobra.Command {
	var file, sig string
	cmd := &cobra.Command{
		Use:   "submit --typed-data FILE --signature 0xSIG",
		Short: "Publish a vote signed by a wallet: the typed data from `curate typed-data` and its signature",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var doc []byte
			var err error
			if file == "-" {
				doc, err = io.ReadAll(cmd.InOrStdin())
			} else {
				doc, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("--typed-data: %w", err)
			}
			if !json.Valid(doc) {
				return fmt.Errorf("--typed-data %s is not JSON", file)
			}
			s := strings.TrimSpace(sig)
			if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
				s = "0x" + s
			}
			b, err := hexutil.Decode(s)
			if err != nil {
				return fmt.Errorf("--signature %q: %w", sig, err)
			}
			res, err := call1(cmd.Context(), a, (*daemon.API).CurationSubmitVote, daemon.SubmitArgs{TypedData: doc, Signature: b})
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) { printVoteResult(w, res) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "typed-data", "", "file holding the signed EIP-712 document (- for stdin)")
	f.StringVar(&sig, "signature", "", "the wallet's 65-byte signature, 0x-hex (V 0/1 or 27/28)")
	cmd.MarkFlagRequired("typed-data")
	cmd.MarkFlagRequired("signature")
	return cmd
}

func (a *app) curateShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show CONTRIBUTION",
		Short: "Show a contribution's status, its tally against the policy, and the votes counted and ignored",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := call1(cmd.Context(), a, (*daemon.API).CurationShow, args[0])
			if err != nil {
				return err
			}
			return a.emit(t, func(w io.Writer) { printTally(w, t) })
		},
	}
}

func (a *app) curatePendingCmd() *cobra.Command {
	var page *daemon.PageArgs
	cmd := &cobra.Command{
		Use:   "pending DATANET",
		Short: "List the contributions awaiting a decision, oldest first, a page at a time, with a preview of their files",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			items, err := call2(cmd.Context(), a, (*daemon.API).CurationPending, args[0], page)
			if err != nil {
				return err
			}
			return a.emit(items, func(w io.Writer) {
				if len(items) == 0 {
					fmt.Fprintln(w, "no pending contributions")
					return
				}
				for i, it := range items {
					if i > 0 {
						fmt.Fprintln(w)
					}
					printPending(w, &it)
				}
				a.nextPage(w, len(items), page, items[len(items)-1].Tally.Contribution)
			})
		},
	}
	page = pageFlags(cmd)
	return cmd
}

func (a *app) curateStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status DATANET",
		Short: "Count a Datanet's contributions by status, its votes and its snapshots",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := call1(cmd.Context(), a, (*daemon.API).CurationStatus, args[0])
			if err != nil {
				return err
			}
			return a.emit(st, func(w io.Writer) {
				fmt.Fprintf(w, "datanet:       %s (version %d, %d curators)\n", st.Datanet, st.Version, st.Curators)
				fmt.Fprintf(w, "contributions: %d: %d pending, %d accepted, %d rejected, %d expired\n", st.Contributions,
					st.Counts["pending"], st.Counts["accepted"], st.Counts["rejected"], st.Counts["expired"])
				fmt.Fprintf(w, "votes:         %d\n", st.Votes)
				latest := ""
				if st.Latest != "" {
					latest = ", latest " + st.Latest
				}
				fmt.Fprintf(w, "snapshots:     %d%s\n", st.Snapshots, latest)
			})
		},
	}
}

func (a *app) snapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Cut, list and verify snapshots: signed versions of a Datanet's accepted contributions",
		Long: "A snapshot lists the contributions of a Datanet accepted at the time of the cut, with the votes\n" +
			"that accepted them as evidence, so anyone can recheck it. Read one back with\n" +
			"`openledger get SNAPSHOT_CID -o DIR`: one directory per contribution, named by its CID.",
	}
	cut := &cobra.Command{
		Use:   "cut DATANET",
		Short: "Sign a snapshot of the contributions accepted now and publish it; prints its CID",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).SnapshotCut, args[0])
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { fmt.Fprintln(w, v.CID) })
		},
	}
	verify := &cobra.Command{
		Use:   "verify CID",
		Short: "Recheck a snapshot: signatures, every contribution's votes against its policy, the Merkle root (non-zero exit if it fails)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := call1(cmd.Context(), a, (*daemon.API).SnapshotVerify, args[0])
			if err != nil {
				return err
			}
			if !v.OK {
				if a.jsonOut {
					if err := a.emit(v, nil); err != nil { // the verdict, then exit 1
						return err
					}
				}
				return fmt.Errorf("snapshot %s does not verify: %s", args[0], v.Problems)
			}
			return a.emit(v, func(w io.Writer) {
				fmt.Fprintf(w, "OK snapshot %s: version %d of datanet %s, %d contributions, %d votes\nchecked: %s\n",
					v.CID, v.Version, v.Datanet, v.Contributions, v.Votes, v.Checked)
			})
		},
	}
	var listPage *daemon.PageArgs
	list := &cobra.Command{
		Use:   "list DATANET",
		Short: "List the snapshots of a Datanet held here, oldest first, a page at a time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := call2(cmd.Context(), a, (*daemon.API).SnapshotList, args[0], listPage)
			if err != nil {
				return err
			}
			return a.emit(vs, func(w io.Writer) {
				if len(vs) == 0 {
					fmt.Fprintln(w, "no snapshots")
					return
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tCID\tCONTRIBUTIONS\tVOTES\tCREATED\tCUTTER")
				for _, v := range vs {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\n", v.Version, v.CID, v.Contributions, v.Votes,
						v.Created.Format(time.RFC3339), v.Cutter)
				}
				tw.Flush()
				a.nextPage(w, len(vs), listPage, vs[len(vs)-1].CID)
			})
		},
	}
	listPage = pageFlags(list)
	var showPage *daemon.PageArgs
	show := &cobra.Command{
		Use:   "show CID",
		Short: "Show a snapshot and a page of its entries: contributions and the votes that accepted them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			type shown struct {
				Snapshot *datanet.Snapshot   `json:"snapshot"`
				Entries  *daemon.EntriesPage `json:"entries"`
			}
			res, err := withAPI(cmd.Context(), a, func(api *daemon.API) (shown, error) {
				s, err := api.SnapshotGet(cmd.Context(), args[0])
				if err != nil {
					return shown{}, err
				}
				page, err := api.SnapshotEntries(cmd.Context(), args[0], showPage)
				return shown{s, page}, err
			})
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				printSnapshot(w, args[0], res.Snapshot, res.Entries)
				if res.Entries.Next != "" {
					fmt.Fprintf(w, "(more: --after %s)\n", res.Entries.Next)
				}
			})
		},
	}
	showPage = pageFlags(show)
	cmd.AddCommand(cut, verify, list, show)
	return cmd
}

func printVoteResult(w io.Writer, r *daemon.VoteResult) {
	fmt.Fprintf(w, "%s voted %s on %s (vote %s, seq %d)\n", r.Vote.Curator.Hex(), r.Vote.Decision,
		r.Vote.Contribution, r.CID, r.Vote.Seq)
	fmt.Fprintf(w, "status: %s\n", tallySummary(r.Tally))
}

// tallySummary is a tally on one line: the status and the weights against
// the policy.
func tallySummary(t *daemon.TallyView) string {
	return fmt.Sprintf("%s (approve %d, reject %d, cast %d of quorum %d; threshold %s)",
		t.Status, t.Approve, t.Reject, t.Cast, t.Quorum, formatBps(t.ThresholdBps))
}

func printTally(w io.Writer, t *daemon.TallyView) {
	fmt.Fprintf(w, "contribution: %s\ndatanet:      %s\nstatus:       %s\n", t.Contribution, t.Datanet, t.Status)
	cast := fmt.Sprintf("%d of quorum %d (total curator weight %d)", t.Cast, t.Quorum, t.TotalWeight)
	if t.Status == curation.Pending && t.Cast < t.Quorum {
		cast += fmt.Sprintf(": %d more needed", t.Quorum-t.Cast)
	}
	fmt.Fprintf(w, "cast:         %s\n", cast)
	share := "no votes cast"
	if t.Cast > 0 {
		share = fmt.Sprintf("%.4g%% of cast", float64(t.Approve)*100/float64(t.Cast))
	}
	fmt.Fprintf(w, "approve:      %d (%s; threshold %s)\nreject:       %d\n", t.Approve, share, formatBps(t.ThresholdBps), t.Reject)
	fmt.Fprintf(w, "created:      %s\n", t.Created.Format(time.RFC3339))
	if t.WindowEnds != nil {
		verb := "ends"
		if !time.Now().Before(*t.WindowEnds) {
			verb = "ended"
		}
		fmt.Fprintf(w, "window:       %s %s\n", verb, t.WindowEnds.Format(time.RFC3339))
	} else {
		fmt.Fprintln(w, "window:       none (votes are taken at any time)")
	}
	fmt.Fprintf(w, "counted votes: %d\n", len(t.Counted))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range t.Counted {
		fmt.Fprintf(tw, "  %s\t%s\tseq %d\t%s\t%s\n", v.Curator.Hex(), v.Decision, v.Seq,
			time.Unix(v.Created, 0).UTC().Format(time.RFC3339), quoteReason(v.Reason))
	}
	tw.Flush()
	if len(t.Ignored) > 0 {
		fmt.Fprintf(w, "ignored votes: %d\n", len(t.Ignored))
		for _, ig := range t.Ignored {
			v := ig.Vote
			fmt.Fprintf(tw, "  %s\t%s\tseq %d\t%s\t%s\n", v.Curator.Hex(), v.Decision, v.Seq, ig.Reason, quoteReason(v.Reason))
		}
		tw.Flush()
	}
}

func quoteReason(r string) string {
	if r == "" {
		return ""
	}
	return strconv.Quote(r)
}

func printPending(w io.Writer, it *daemon.PendingItem) {
	t := it.Tally
	fmt.Fprintf(w, "%s  %s\n", t.Contribution, tallySummary(t))
	fmt.Fprintf(w, "  contributor %s, %s, created %s, repeats %s of accepted data\n", it.Contributor,
		humanize.IBytes(it.Size), t.Created.Format(time.RFC3339), formatShare(it.Repeats))
	for _, f := range it.Files {
		kind := printable(f.Kind)
		if kind == "" {
			kind = "-"
		}
		note := ""
		switch {
		case f.Size == 0:
			note = "  (empty)"
		case !f.Local:
			note = "  (not held here)"
		case f.Head == "":
			note = "  (no text preview)"
		}
		fmt.Fprintf(w, "  %s  %s  %s%s\n", printable(f.Path), kind, humanize.IBytes(f.Size), note)
		if f.Head == "" {
			continue
		}
		for line := range strings.SplitSeq(f.Head, "\n") {
			fmt.Fprintf(w, "      %s\n", printable(line))
		}
	}
}

// printable replaces control characters (terminal escapes in untrusted
// contributions) with U+FFFD; tabs stay.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func printSnapshot(w io.Writer, c string, s *datanet.Snapshot, page *daemon.EntriesPage) {
	prev := "none"
	if s.Prev.Defined() {
		prev = s.Prev.String()
	}
	fmt.Fprintf(w, "cid:      %s\ndatanet:  %s\nversion:  %d\nprev:     %s\npolicy:   %s\nroot:     %s\ncutter:   %s\ncreated:  %s\n",
		c, s.Datanet, s.Version, prev, s.Policy, hexutil.Encode(s.Root[:]), s.Cutter.Hex(),
		time.Unix(s.Created, 0).UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "entries:  %s\ncontributions: %d\nevidence: %d votes\n", s.Entries, s.Count, s.Votes)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range page.Entries {
		fmt.Fprintf(tw, "  %s\troot %s\n", e.Contribution, e.Root.Hex())
		for _, v := range e.Votes {
			fmt.Fprintf(tw, "  \t%s\t%s\tseq %d\n", v.Curator.Hex(), v.Decision, v.Seq)
		}
	}
	tw.Flush()
}

// printPolicy prints the version and curation policy of a Datanet, for
// `datanet show`.
func printPolicy(w io.Writer, d *datanet.Datanet) {
	version := strconv.FormatUint(d.Seq, 10)
	if d.Prev.Defined() {
		version += " (previous " + d.Prev.String() + ")"
	}
	fmt.Fprintf(w, "version:     %s\n", version)
	var total uint64
	for _, c := range d.Curators {
		total += c.Weight
	}
	fmt.Fprintf(w, "curators:    %d, total weight %d\n", len(d.Curators), total)
	for _, c := range d.Curators {
		owner := ""
		if c.Address == d.Owner {
			owner = " (owner)"
		}
		fmt.Fprintf(w, "  %s  weight %d%s\n", c.Address.Hex(), c.Weight, owner)
	}
	fmt.Fprintf(w, "quorum:      %d\nthreshold:   %s of the cast weight approves\nwindow:      %s\n",
		d.Quorum, formatBps(d.ThresholdBps), formatWindow(d.Window))
}

// parseCurator reads ADDRESS[:WEIGHT]; the weight is 1 when left out.
func parseCurator(s string) (datanet.Curator, error) {
	addr, weight, hasWeight := strings.Cut(strings.TrimSpace(s), ":")
	if !common.IsHexAddress(addr) {
		return datanet.Curator{}, fmt.Errorf("%q is not an address", addr)
	}
	c := datanet.Curator{Address: common.HexToAddress(addr), Weight: 1}
	if hasWeight {
		w, err := strconv.ParseUint(weight, 10, 64)
		if err != nil || w == 0 {
			return datanet.Curator{}, fmt.Errorf("weight %q is not a positive integer", weight)
		}
		c.Weight = w
	}
	return c, nil
}

// parseAddress reads a 0x-hex account address.
func parseAddress(s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%q is not an address", s)
	}
	return common.HexToAddress(s), nil
}

// parseThreshold reads an approval threshold, a fraction ("0.67") or a
// percentage ("67%") in (0, 1], and returns it in basis points, rounded to
// the nearest.
func parseThreshold(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = strings.TrimSpace(p), 100
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) {
		return 0, errors.New("want a fraction such as 0.67 or a percentage such as 67%")
	}
	f /= scale
	if scale == 1 && f > 1 && f <= 100 {
		return 0, fmt.Errorf("must be above 0 and at most 1; for a percentage write %s%%", t)
	}
	if f <= 0 || f > 1 {
		return 0, errors.New("must be above 0 and at most 1 (100%)")
	}
	bps := math.Round(f * datanet.MaxBps)
	if bps < 1 {
		return 0, errors.New("below 0.01%, the smallest threshold")
	}
	return uint32(bps), nil
}

// parseWindow reads a voting window, a Go duration ("72h") or whole days
// ("7d"), and returns it in seconds; "0" means no deadline.
func parseWindow(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	var secs uint64
	if days, ok := strings.CutSuffix(t, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 64)
		if err != nil {
			return 0, errors.New("want a duration such as 72h or whole days such as 7d")
		}
		if n > datanet.MaxWindow/86400 {
			return 0, fmt.Errorf("longer than %d days", datanet.MaxWindow/86400)
		}
		secs = n * 86400
	} else {
		d, err := time.ParseDuration(t)
		if err != nil {
			return 0, errors.New("want a duration such as 72h or whole days such as 7d")
		}
		if d < 0 {
			return 0, errors.New("negative")
		}
		if d%time.Second != 0 {
			return 0, errors.New("not a whole number of seconds")
		}
		secs = uint64(d / time.Second)
	}
	if secs > datanet.MaxWindow {
		return 0, fmt.Errorf("longer than %d days", datanet.MaxWindow/86400)
	}
	return secs, nil
}

// formatBps writes basis points as a percentage: 6700 is "67%", 5001 "50.01%".
func formatBps(bps uint32) string {
	return strconv.FormatFloat(float64(bps)/100, 'f', -1, 64) + "%"
}

// formatWindow writes a window in seconds as parseWindow reads it.
func formatWindow(secs uint64) string {
	switch {
	case secs == 0:
		return "none (votes are taken at any time)"
	case secs%86400 == 0:
		return strconv.FormatUint(secs/86400, 10) + "d"
	default: // "36h", "1h30m" rather than Duration's "36h0m0s"
		d := (time.Duration(secs) * time.Second).String()
		if strings.HasSuffix(d, "m0s") {
			d = strings.TrimSuffix(d, "0s")
		}
		if strings.HasSuffix(d, "h0m") {
			d = strings.TrimSuffix(d, "0m")
		}
		return d
	}
}

// formatShare writes a share in [0, 1] as a percentage.
func formatShare(f float64) string {
	return strconv.FormatFloat(f*100, 'g', 3, 64) + "%"
}

// errNothingToUpdate is returned by `datanet update` without a change.
var errNothingToUpdate = errors.New("nothing to update: set at least one flag (see --help)")
