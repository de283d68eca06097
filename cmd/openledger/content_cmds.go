package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
)

func (a *app) datanetCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "datanet", Short: "Create and inspect Datanets"}
	var spec datanet.DatanetSpec
	var maxSize, threshold, window string
	var curators []string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a Datanet owned by the operator account; prints its ID",
		Long: "Create a Datanet owned by the operator account and print its ID.\n\n" +
			"Its curators vote on contributions: a contribution is accepted once the weight of the votes cast\n" +
			"reaches --quorum and the approving weight is at least --threshold of it. Without --curator the\n" +
			"owner alone curates, with weight 1; with --curator only the accounts listed do (list the owner\n" +
			"too to keep them a curator).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.Name = args[0]
			if maxSize != "" {
				n, err := humanize.ParseBytes(maxSize)
				if err != nil {
					return fmt.Errorf("--max-size %q: %w", maxSize, err)
				}
				spec.MaxContributionSize = n
			}
			for _, s := range curators {
				c, err := parseCurator(s)
				if err != nil {
					return fmt.Errorf("--curator %q: %w", s, err)
				}
				spec.Curators = append(spec.Curators, c)
			}
			if threshold != "" {
				bps, err := parseThreshold(threshold)
				if err != nil {
					return fmt.Errorf("--threshold %q: %w", threshold, err)
				}
				spec.ThresholdBps = bps
			}
			if window != "" {
				secs, err := parseWindow(window)
				if err != nil {
					return fmt.Errorf("--window %q: %w", window, err)
				}
				spec.Window = secs
			}
			res, err := call1(cmd.Context(), a, (*daemon.API).DatanetCreate, spec)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) { fmt.Fprintln(w, res.ID) })
		},
	}
	f := create.Flags()
	f.StringVar(&spec.Description, "description", "", "what the Datanet collects")
	f.StringVar(&spec.License, "license", "", "license of contributions (SPDX id), the default for each contribution")
	f.StringSliceVar(&spec.Kinds, "kinds", nil, "accepted file kinds by extension, e.g. txt,md,csv (default any)")
	f.StringVar(&maxSize, "max-size", "", "largest contribution accepted, e.g. 100MB (default no limit)")
	f.StringArrayVar(&curators, "curator", nil, "a curator as ADDRESS[:WEIGHT], weight 1 by default (repeatable; default the owner alone)")
	f.Uint64Var(&spec.Quorum, "quorum", 0, "curator weight that must vote on a contribution before it is decided (default a majority of the total weight)")
	f.StringVar(&threshold, "threshold", "", "share of the cast weight that must approve: a fraction (0.67) or a percentage (67%) (default 50.01%)")
	f.StringVar(&window, "window", "", "how long after a contribution votes on it are taken: a duration (72h) or days (7d); 0 = no deadline (default)")

	var listPage, showPage *daemon.PageArgs
	list := &cobra.Command{
		Use:   "list",
		Short: "List the Datanets this node holds, a page at a time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := call1(cmd.Context(), a, (*daemon.API).DatanetList, listPage)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tOWNER")
				for _, d := range res {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", d.ID, d.Datanet.Name, d.Datanet.Owner.Hex())
				}
				tw.Flush()
				if len(res) > 0 {
					a.nextPage(w, len(res), listPage, res[len(res)-1].ID)
				}
			})
		},
	}
	listPage = pageFlags(list)
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a Datanet, its counts and a page of its contributions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := call2(cmd.Context(), a, (*daemon.API).DatanetShow, args[0], showPage)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				d := res.Datanet.Datanet
				fmt.Fprintf(w, "id:          %s\nname:        %s\n", res.Datanet.ID, d.Name)
				if d.Description != "" {
					fmt.Fprintf(w, "description: %s\n", d.Description)
				}
				if d.License != "" {
					fmt.Fprintf(w, "license:     %s\n", d.License)
				}
				fmt.Fprintf(w, "owner:       %s\nchain id:    %d\n", d.Owner.Hex(), d.ChainID)
				if len(d.Kinds) > 0 {
					fmt.Fprintf(w, "kinds:       %s\n", strings.Join(d.Kinds, ", "))
				}
				if d.MaxContributionSize > 0 {
					fmt.Fprintf(w, "max size:    %s\n", humanize.IBytes(d.MaxContributionSize))
				}
				printPolicy(w, d)
				n := res.Counts
				fmt.Fprintf(w, "contributions: %d (%d pending, %d accepted, %d rejected, %d expired), %s\nvotes:       %d\nsnapshots:   %d\n",
					n.Contributions(), n.Pending, n.Accepted, n.Rejected, n.Expired, humanize.IBytes(n.Bytes), n.Votes, n.Snapshots)
				for _, c := range res.Contributions {
					fmt.Fprintf(w, "  %s  %-8s  %8s  %s\n", c.CID, c.Status, humanize.IBytes(c.Size), c.Created.Format(time.RFC3339))
				}
				if len(res.Contributions) > 0 {
					a.nextPage(w, len(res.Contributions), showPage, res.Contributions[len(res.Contributions)-1].CID)
				}
			})
		},
	}
	showPage = pageFlags(show)
	cmd.AddCommand(create, a.datanetUpdateCmd(), list, show)
	cmd.AddCommand(a.datanetNetCmds()...)
	return cmd
}

func (a *app) datanetUpdateCmd() *cobra.Command {
	var name, description, license, maxSize, threshold, window string
	var kinds, addCurators, removeCurators []string
	var quorum uint64
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Sign and publish the next version of a Datanet (owner only); only the flags given change",
		Long: "Sign and publish the next version of a Datanet: its description, limits, curators and voting\n" +
			"policy. Only the owner can. Only the flags given change; the rest is kept. A removed curator's\n" +
			"votes stop counting on contributions still being decided.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			var u datanet.DatanetUpdate
			changed := false
			for _, n := range []string{"name", "description", "license", "kinds", "max-size", "add-curator",
				"remove-curator", "quorum", "threshold", "window"} {
				changed = changed || fl.Changed(n)
			}
			if !changed {
				return errNothingToUpdate
			}
			if fl.Changed("name") {
				u.Name = &name
			}
			if fl.Changed("description") {
				u.Description = &description
			}
			if fl.Changed("license") {
				u.License = &license
			}
			if fl.Changed("kinds") {
				u.Kinds = &kinds
			}
			if fl.Changed("max-size") {
				n, err := humanize.ParseBytes(maxSize)
				if err != nil {
					return fmt.Errorf("--max-size %q: %w", maxSize, err)
				}
				u.MaxContributionSize = &n
			}
			for _, s := range addCurators {
				c, err := parseCurator(s)
				if err != nil {
					return fmt.Errorf("--add-curator %q: %w", s, err)
				}
				u.SetCurators = append(u.SetCurators, c)
			}
			for _, s := range removeCurators {
				addr, err := parseAddress(s)
				if err != nil {
					return fmt.Errorf("--remove-curator: %w", err)
				}
				u.RemoveCurators = append(u.RemoveCurators, addr)
			}
			if fl.Changed("quorum") {
				u.Quorum = &quorum
			}
			if fl.Changed("threshold") {
				bps, err := parseThreshold(threshold)
				if err != nil {
					return fmt.Errorf("--threshold %q: %w", threshold, err)
				}
				u.ThresholdBps = &bps
			}
			if fl.Changed("window") {
				secs, err := parseWindow(window)
				if err != nil {
					return fmt.Errorf("--window %q: %w", window, err)
				}
				u.Window = &secs
			}
			res, err := call2(cmd.Context(), a, (*daemon.API).DatanetUpdate, args[0], u)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "updated %s to version %d\n", res.ID, res.Datanet.Seq)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.StringVar(&description, "description", "", "new description")
	f.StringVar(&license, "license", "", "new default license of contributions (SPDX id)")
	f.StringSliceVar(&kinds, "kinds", nil, "accepted file kinds by extension, e.g. txt,md,csv (--kinds '' accepts any)")
	f.StringVar(&maxSize, "max-size", "", "largest contribution accepted, e.g. 100MB (0 for no limit)")
	f.StringArrayVar(&addCurators, "add-curator", nil, "add a curator or change its weight: ADDRESS[:WEIGHT], weight 1 by default (repeatable)")
	f.StringArrayVar(&removeCurators, "remove-curator", nil, "remove a curator by ADDRESS (repeatable)")
	f.Uint64Var(&quorum, "quorum", 0, "curator weight that must vote on a contribution before it is decided")
	f.StringVar(&threshold, "threshold", "", "share of the cast weight that must approve: a fraction (0.67) or a percentage (67%)")
	f.StringVar(&window, "window", "", "how long after a contribution votes on it are taken: a duration (72h) or days (7d); 0 = no deadline")
	return cmd
}

func (a *app) addCmd() *cobra.Command {
	var args daemon.AddArgs
	var meta []string
	cmd := &cobra.Command{
		Use:   "add PATH...",
		Short: "Add files and directories to a Datanet as one signed contribution; prints its CID",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			for _, p := range paths {
				abs, err := filepath.Abs(p)
				if err != nil {
					return err
				}
				args.Paths = append(args.Paths, abs)
			}
			var err error
			if args.Metadata, err = parseMeta(meta); err != nil {
				return err
			}
			res, err := a.add(cmd.Context(), args)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) { fmt.Fprintln(w, res.CID) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&args.Datanet, "datanet", "", "ID of the Datanet to contribute to (required)")
	f.IntVar(&args.ChunkSize, "chunk-size", 0, "shard size in bytes, 1024 to 4194304 (default config storage.chunk_size)")
	f.StringVar(&args.License, "license", "", "license of this contribution (default the Datanet's)")
	f.StringArrayVar(&meta, "meta", nil, "metadata KEY=VALUE (repeatable)")
	cmd.MarkFlagRequired("datanet")
	return cmd
}

// parseMeta reads --meta KEY=VALUE flags; none gives nil.
func parseMeta(meta []string) (map[string]string, error) {
	if len(meta) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(meta))
	for _, kv := range meta {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--meta %q: want KEY=VALUE", kv)
		}
		out[k] = v
	}
	return out, nil
}

// add runs content_add through the progress subscription, drawing a bar on
// stderr when it is a terminal.
func (a *app) add(ctx context.Context, args daemon.AddArgs) (*daemon.AddResult, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	events := make(chan daemon.AddEvent, 16)
	sub, err := c.ContentAddProgress(ctx, events, args)
	if err != nil {
		return nil, rpcErr(err)
	}
	defer sub.Unsubscribe()
	final, err := followProgress(ctx, a, sub, events, "adding", false,
		func(ev daemon.AddEvent) (int64, int64, bool, *daemon.EventErr) {
			return ev.Done, ev.Total, ev.Result != nil || ev.Error != nil, ev.Error
		})
	if err != nil {
		return nil, fmt.Errorf("add (nothing of it was stored): %w", err)
	}
	return final.Result, nil
}

func (a *app) lsCmd() *cobra.Command {
	var page *daemon.PageArgs
	cmd := &cobra.Command{
		Use:   "ls CID[/PATH]",
		Short: "List the files of a contribution or directory (a page at a time; --after takes a path), or describe a file, shard or object",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := call2(cmd.Context(), a, (*daemon.API).ContentLs, args[0], page)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				if res.Object != nil {
					fmt.Fprintf(w, "%s\n", res.Object)
					return
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
				for _, f := range res.Files {
					p := f.Path
					if p == "" {
						p = res.CID
					}
					fmt.Fprintf(tw, "%d\t%d shards\t %s\n", f.Size, len(f.Shards), p)
				}
				tw.Flush()
				if res.Next != "" {
					fmt.Fprintf(w, "(more: --after %s)\n", res.Next)
				}
			})
		},
	}
	page = pageFlags(cmd)
	return cmd
}

func (a *app) catCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cat CID[/PATH]",
		Short: "Write the verified bytes of a file or shard to stdout",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.cat(cmd.Context(), args[0])
		},
	}
}

// cat writes the verified bytes of the file or shard at path to stdout.
func (a *app) cat(ctx context.Context, path string) error {
	c, err := a.client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	r, _, err := c.OpenContent(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(a.stdout, r); err != nil {
		return fmt.Errorf("cat %s: %w", path, err)
	}
	return nil
}

func (a *app) getCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get CID[/PATH]",
		Short: "Write the files of a contribution, directory or file under a directory",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.client(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			fetched, err := a.fetch(ctx, c, args[0])
			if err != nil {
				return err
			}
			ls, err := lsAll(ctx, c, args[0])
			if err != nil {
				return rpcErr(err)
			}
			if ls.Object != nil {
				return fmt.Errorf("%s is a signed object, not content; see it with `openledger ls`", args[0])
			}
			if out == "" {
				out = ls.CID
			}
			var total uint64
			for _, f := range ls.Files {
				total += f.Size
			}
			var bar *progressbar.ProgressBar
			if a.stderrTTY {
				bar = progressbar.NewOptions64(int64(total), progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("getting"))
			}
			type written struct {
				Path string `json:"path"`
				Size uint64 `json:"size"`
			}
			var done []written
			var stale staleParts // left by a get of these files that was killed
			for _, f := range ls.Files {
				rel := f.Path
				src := ls.CID + "/" + f.Path
				switch ls.Kind {
				case datanet.ResolvedShard:
					rel, src = ls.CID, ls.CID
				case datanet.ResolvedFile:
					rel = path.Base(f.Path)
				}
				if !filepath.IsLocal(filepath.FromSlash(rel)) {
					return fmt.Errorf("refusing to write %q outside %s", rel, out)
				}
				dst := filepath.Join(out, filepath.FromSlash(rel))
				if _, err := stale.remove(dst); err != nil {
					return fmt.Errorf("remove stale part files of %s: %w", dst, err)
				}
				if err := a.fetchFile(ctx, c, src, dst, f.Size, bar); err != nil {
					return err
				}
				done = append(done, written{Path: dst, Size: f.Size})
			}
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(a.stderr)
			}
			return a.emit(map[string]any{"event": "done", "cid": ls.CID, "output": out, "files": done, "size": total, "fetch": fetched}, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %d files (%s) to %s; %s\n", len(done), humanize.IBytes(total), out, describeFetch(fetched))
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "directory to write into (default: the CID)")
	return cmd
}

// fetchFile writes a verified file to a part file beside dst (see
// createPart) and renames it into place, so dst never holds partial or
// unverified bytes. Files get 0666 less the umask, as other tools make them.
func (a *app) fetchFile(ctx context.Context, c *daemon.Client, src, dst string, size uint64, bar *progressbar.ProgressBar) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, _, err := c.OpenContent(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := createPart(dst)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	var w io.Writer = tmp
	if bar != nil {
		w = io.MultiWriter(tmp, bar)
	}
	n, err := io.Copy(w, r)
	if err == nil && uint64(n) != size {
		err = fmt.Errorf("got %d bytes, expected %d", n, size)
	}
	if err == nil {
		err = finishPart(tmp, dst)
	} else {
		tmp.Close()
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", src, err)
	}
	return nil
}

func (a *app) pinCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pin", Short: "Keep content from garbage collection"}
	pinLs := pageList(a, &cobra.Command{Use: "ls", Short: "List a page of the pins (in CID order)", Args: cobra.NoArgs},
		func(ctx context.Context, _ []string, page *daemon.PageArgs) ([]string, error) {
			return call1(ctx, a, (*daemon.API).ContentPins, page)
		},
		func(w io.Writer, c string) { fmt.Fprintln(w, c) },
		func(c string) string { return c })
	cmd.AddCommand(
		&cobra.Command{
			Use: "add CID", Short: "Pin an object or shard and everything it links to", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := run1(cmd.Context(), a, (*daemon.API).ContentPin, args[0]); err != nil {
					return err
				}
				return a.emit(map[string]string{"cid": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "pinned %s\n", args[0]) })
			},
		},
		&cobra.Command{
			Use: "rm CID", Short: "Remove a pin (repo gc then frees what nothing else pins)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := run1(cmd.Context(), a, (*daemon.API).ContentUnpin, args[0]); err != nil {
					return err
				}
				return a.emit(map[string]string{"cid": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "unpinned %s\n", args[0]) })
			},
		},
		pinLs,
	)
	return cmd
}

func (a *app) repoCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "repo", Short: "Maintain the repo's content store"}
	cmd.AddCommand(
		&cobra.Command{
			Use: "stat", Short: "Show what the store holds", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				st, err := call0(cmd.Context(), a, (*daemon.API).RepoStat)
				if err != nil {
					return err
				}
				return a.emit(st, func(w io.Writer) {
					quota := "none"
					if st.QuotaBytes > 0 {
						quota = humanize.IBytes(uint64(st.QuotaBytes))
					}
					fmt.Fprintf(w, "shards:       %d (%s)\nobjects:      %d (%s)\npins:         %d\nquota:        %s\nbadger:       lsm %s, value log %s\n",
						st.Shards, humanize.IBytes(uint64(st.ShardBytes)), st.Objects, humanize.IBytes(uint64(st.ObjectBytes)),
						st.Pins, quota, humanize.IBytes(uint64(st.LSMBytes)), humanize.IBytes(uint64(st.VLogBytes)))
				})
			},
		},
		&cobra.Command{
			Use: "gc", Short: "Remove what no pin reaches and compact the value log", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				res, err := call0(cmd.Context(), a, (*daemon.API).RepoGC)
				if err != nil {
					return err
				}
				return a.emit(res, func(w io.Writer) {
					fmt.Fprintf(w, "removed %d shards and %d objects, freed %s\n", res.ShardsRemoved, res.ObjectsRemoved, humanize.IBytes(uint64(res.BytesFreed)))
				})
			},
		},
		a.repoVerifyCmd(),
	)
	return cmd
}

func (a *app) repoVerifyCmd() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Rehash every shard and object; name each corrupt one (non-zero exit if any is left)",
		Long: `Rehash every shard and object and name each corrupt one.

With --repair, each damaged shard is dropped and, when the daemon is running,
fetched again from the connected peers; a shard that cannot be fetched stays
dropped until the content is got or added again. The exit status is non-zero
while any corrupt item is left.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := call1(cmd.Context(), a, (*daemon.API).RepoVerify, &daemon.VerifyArgs{Repair: repair})
			if err != nil {
				return err
			}
			left := 0
			for _, f := range res.Faults {
				if f.Repair != "repaired" {
					left++
				}
			}
			if err := a.emit(res, func(w io.Writer) {
				for _, f := range res.Faults {
					fmt.Fprintf(w, "corrupt %s %s: %s", f.Kind, f.CID, f.Error)
					switch f.Repair {
					case "repaired":
						fmt.Fprint(w, "; repaired from a peer")
					case "dropped":
						fmt.Fprint(w, "; dropped (get or add it again)")
						if f.RepairError != "" {
							fmt.Fprintf(w, ": %s", f.RepairError)
						}
					}
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "verified %d shards (%s) and %d objects: %d corrupt, %d left\n",
					res.Shards, humanize.IBytes(uint64(res.Bytes)), res.Objects, len(res.Faults), left)
			}); err != nil {
				return err
			}
			if left > 0 {
				return fmt.Errorf("%d corrupt items in the store", left)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "drop each damaged shard and fetch a good copy from peers (daemon running)")
	return cmd
}

// lsAll is content_ls with every page of files.
func lsAll(ctx context.Context, c *daemon.Client, path string) (*daemon.LsResult, error) {
	page := &daemon.PageArgs{Limit: datanet.MaxPage}
	ls, err := c.ContentLs(ctx, path, page)
	for err == nil && ls.Next != "" {
		page.After = ls.Next
		var more *daemon.LsResult
		if more, err = c.ContentLs(ctx, path, page); err == nil {
			ls.Files, ls.Next = append(ls.Files, more.Files...), more.Next
		}
	}
	return ls, err
}
