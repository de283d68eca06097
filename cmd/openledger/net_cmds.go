package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
)

func (a *app) connectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "connect MULTIADDR",
		Short: "Connect to a peer (a multiaddr ending in /p2p/<peer id>)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := call1(cmd.Context(), a, (*daemon.API).NodeConnect, args[0])
			if err != nil {
				return err
			}
			return a.emit(map[string]string{"peer_id": id}, func(w io.Writer) { fmt.Fprintf(w, "connected to %s\n", id) })
		},
	}
}

func (a *app) peersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List connected peers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			peers, err := call0(cmd.Context(), a, (*daemon.API).NodePeers)
			if err != nil {
				return err
			}
			return a.emit(peers, func(w io.Writer) {
				for _, p := range peers {
					addr := ""
					if len(p.Addrs) > 0 {
						addr = p.Addrs[0]
					}
					fmt.Fprintf(w, "%s  %s  %s\n", p.ID, addr, p.Latency)
				}
			})
		},
	}
}

func (a *app) providersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "providers CID",
		Short: "Find the peers that provide a CID on the DHT",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			provs, err := call1(cmd.Context(), a, (*daemon.API).ContentProviders, args[0])
			if err != nil {
				return err
			}
			return a.emit(provs, func(w io.Writer) {
				for _, p := range provs {
					fmt.Fprintln(w, p.ID)
				}
			})
		},
	}
}

func (a *app) datanetNetCmds() []*cobra.Command {
	return []*cobra.Command{
		{
			Use: "join ID", Short: "Subscribe to a Datanet and sync its objects (kept across restarts)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := run1(cmd.Context(), a, (*daemon.API).DatanetJoin, args[0]); err != nil {
					return err
				}
				return a.emit(map[string]string{"id": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "joined %s\n", args[0]) })
			},
		},
		{
			Use: "leave ID", Short: "Unsubscribe from a Datanet (stored data stays)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := run1(cmd.Context(), a, (*daemon.API).DatanetLeave, args[0]); err != nil {
					return err
				}
				return a.emit(map[string]string{"id": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "left %s\n", args[0]) })
			},
		},
	}
}

// fetch makes a content path local through content_fetchProgress, drawing a
// bar on a terminal, or printing JSON progress lines with --json.
func (a *app) fetch(ctx context.Context, c *daemon.Client, path string) (*daemon.FetchResult, error) {
	events := make(chan daemon.FetchEvent, 16)
	sub, err := c.ContentFetchProgress(ctx, events, path)
	if err != nil {
		return nil, rpcErr(err)
	}
	defer sub.Unsubscribe()
	final, err := followProgress(ctx, a, sub, events, "fetching", a.jsonOut,
		func(ev daemon.FetchEvent) (int64, int64, bool, *daemon.EventErr) {
			return ev.Done, ev.Total, ev.Result != nil || ev.Error != nil, ev.Error
		})
	if err != nil {
		return nil, fmt.Errorf("fetch (what arrived is kept; run again to resume): %w", err)
	}
	return final.Result, nil
}

// followProgress reads a progress subscription until its final event,
// drawing a bar on stderr when it is a terminal and, with jsonLines, printing
// {"event":"progress",...} lines to stdout. state tells the progress of an
// event, whether it is the final one, and its error.
func followProgress[E any](ctx context.Context, a *app, sub *rpc.ClientSubscription, events <-chan E, what string,
	jsonLines bool, state func(E) (done, total int64, final bool, err *daemon.EventErr)) (E, error) {
	var zero E
	var bar *progressbar.ProgressBar
	defer func() {
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(a.stderr)
		}
	}()
	enc := json.NewEncoder(a.stdout)
	for {
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("interrupted: %w", ctx.Err())
		case err := <-sub.Err():
			if err == nil {
				err = errors.New("connection closed")
			}
			return zero, rpcErr(err)
		case ev := <-events:
			done, total, final, evErr := state(ev)
			if evErr != nil {
				return zero, errors.New(evErr.Message)
			}
			if bar == nil && a.stderrTTY && total > 0 {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionShowBytes(true), progressbar.OptionSetDescription(what),
					progressbar.OptionThrottle(100*time.Millisecond))
			}
			if bar != nil {
				bar.Set64(done)
			}
			if final {
				return ev, nil
			}
			if jsonLines {
				enc.Encode(map[string]any{"event": "progress", "done": done, "total": total})
			}
		}
	}
}

func describeFetch(res *daemon.FetchResult) string {
	if res.Fetched == 0 {
		return "all local"
	}
	return fmt.Sprintf("fetched %d of %d shards (%s)", res.Fetched, res.Shards, humanize.IBytes(uint64(res.Bytes)))
}
