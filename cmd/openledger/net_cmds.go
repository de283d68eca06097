package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dustin/go-humanize"
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
			var id string
			if err := a.call(cmd.Context(), &id, "node_connect", args[0]); err != nil {
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
			var peers []daemon.PeerView
			if err := a.call(cmd.Context(), &peers, "node_peers"); err != nil {
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
			var provs []daemon.ProviderView
			if err := a.call(cmd.Context(), &provs, "content_providers", args[0]); err != nil {
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
				if err := a.call(cmd.Context(), nil, "datanet_join", args[0]); err != nil {
					return err
				}
				return a.emit(map[string]string{"id": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "joined %s\n", args[0]) })
			},
		},
		{
			Use: "leave ID", Short: "Unsubscribe from a Datanet (stored data stays)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := a.call(cmd.Context(), nil, "datanet_leave", args[0]); err != nil {
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
	sub, err := c.RPC.Subscribe(ctx, "content", events, "fetchProgress", path)
	if err != nil {
		return nil, rpcErr(err)
	}
	defer sub.Unsubscribe()
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
			return nil, fmt.Errorf("fetch interrupted (what arrived is kept; run again to resume): %w", ctx.Err())
		case err := <-sub.Err():
			if err == nil {
				err = errors.New("connection closed")
			}
			return nil, fmt.Errorf("fetch: %w", rpcErr(err))
		case ev := <-events:
			if ev.Error != nil {
				return nil, errors.New(ev.Error.Message)
			}
			if a.jsonOut && ev.Result == nil {
				enc.Encode(map[string]any{"event": "progress", "done": ev.Done, "total": ev.Total})
			}
			if ev.Result != nil {
				return ev.Result, nil
			}
			if a.stderrTTY && bar == nil && ev.Total > 0 {
				bar = progressbar.NewOptions64(ev.Total, progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("fetching"))
			}
			if bar != nil {
				bar.Set64(ev.Done)
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
