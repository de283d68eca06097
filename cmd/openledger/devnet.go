package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
)

func (a *app) devnetCmd() *cobra.Command {
	var exit, keep bool
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run three throwaway nodes and walk through the main job: Datanet, contribution, gossip, fetch",
		Long: "devnet starts three nodes (alice, bob, carol) in throwaway repos on loopback and connects them; " +
			"alice creates a Datanet and adds a sample dataset through her node's API; bob and carol join and " +
			"receive the contribution by gossip; carol fetches every shard from the network and every file is " +
			"read back over HTTP and checked. Each step is printed with its CID. The nodes keep serving until " +
			"Ctrl-C, or devnet exits at once with --exit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.devnet(cmd.Context(), exit, keep)
		},
	}
	cmd.Flags().BoolVar(&exit, "exit", false, "exit when the walk-through is done instead of serving until Ctrl-C")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the throwaway repo instead of deleting it")
	return cmd
}

func (a *app) devnet(ctx context.Context, exit, keep bool) (err error) {
	w := a.stdout
	step := func(format string, args ...any) { fmt.Fprintf(w, "==> "+format+"\n", args...) }
	dir, err := os.MkdirTemp("", "openledger-devnet-*")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	log, err := a.logger("warn")
	if err != nil {
		return err
	}
	// Three nodes on loopback, as three daemons would run on three machines.
	names := []string{"alice", "bob", "carol"}
	nodes := make([]*devNode, len(names))
	for i, name := range names {
		dn, err := startDevNode(ctx, filepath.Join(dir, name), name, log)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := dn.close(); err == nil {
				err = cerr
			}
		}()
		nodes[i] = dn
		step("%s: node up\n    peer id %s\n    account %s\n    api     http://%s", name, dn.id.PeerID, dn.id.Account, dn.node.HTTPAddr())
	}
	alice, bob, carol := nodes[0], nodes[1], nodes[2]
	for _, pair := range [][2]*devNode{{bob, alice}, {carol, bob}} {
		var pid string
		if err := pair[0].rpc.CallContext(ctx, &pid, "node_connect", pair[1].id.Addrs[0]); err != nil {
			return rpcErr(err)
		}
		step("%s connects to %s (%s)", pair[0].name, pair[1].name, pair[1].id.Addrs[0])
	}
	client := alice.rpc
	repo := alice.repo
	node := alice.node
	base := "http://" + node.HTTPAddr()

	var dn daemon.DatanetView
	if err := client.CallContext(ctx, &dn, "datanet_create", datanet.DatanetSpec{
		Name: "devnet-sample", Description: "sample corpus made by openledger devnet", License: "CC-BY-4.0",
	}); err != nil {
		return rpcErr(err)
	}
	step("datanet_create %q\n    id %s", dn.Datanet.Name, dn.ID)
	for _, p := range []*devNode{bob, carol} {
		if err := p.rpc.CallContext(ctx, nil, "datanet_join", dn.ID); err != nil {
			return rpcErr(err)
		}
	}
	step("bob and carol join the datanet (subscribe to its topic, sync its objects)")

	data := filepath.Join(dir, "sample")
	files, total, err := writeSampleDataset(data)
	if err != nil {
		return err
	}
	step("wrote a sample dataset: %d files, %s under %s", len(files), humanize.IBytes(uint64(total)), data)

	start := time.Now()
	var added daemon.AddResult
	if err := client.CallContext(ctx, &added, "content_add", daemon.AddArgs{Paths: []string{data}, Datanet: dn.ID}); err != nil {
		return rpcErr(err)
	}
	step("content_add on alice (chunked into 1 MiB shards, signed with EIP-712) in %s\n    contribution %s\n    merkle root  %s",
		time.Since(start).Round(time.Millisecond), added.CID, added.Root)
	start = time.Now()
	for _, f := range added.Files {
		fmt.Fprintf(w, "    %-28s %9s  %d shard(s), first %s\n", f.Path, humanize.IBytes(f.Size), len(f.Shards), f.Shards[0])
	}

	for _, p := range []*devNode{bob, carol} {
		if err := waitListed(ctx, p, dn.ID, added.CID); err != nil {
			return err
		}
	}
	step("the signed contribution reached bob and carol by gossip %s after the add returned", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	var fetched daemon.FetchResult
	if err := carol.rpc.CallContext(ctx, &fetched, "content_fetch", added.CID); err != nil {
		return rpcErr(err)
	}
	step("carol fetches %s: %d shards (%s) verified in %s, then provides it", added.CID, fetched.Fetched,
		humanize.IBytes(uint64(fetched.Bytes)), time.Since(start).Round(time.Millisecond))

	var ls daemon.LsResult
	if err := client.CallContext(ctx, &ls, "content_ls", added.CID); err != nil {
		return rpcErr(err)
	}
	step("content_ls %s: %d files, %s", added.CID, len(ls.Files), humanize.IBytes(ls.Size))

	for _, f := range ls.Files {
		got, err := httpGet(ctx, "http://"+carol.node.HTTPAddr()+daemon.ContentPath+added.CID+"/"+f.Path, "")
		if err != nil {
			return err
		}
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("devnet: %s read back differs from the original", f.Path)
		}
	}
	step("GET http://%s/content/%s/<path> on carol for every file: all %d byte-identical to the originals", carol.node.HTTPAddr(), added.CID, len(ls.Files))

	big := ls.Files[len(ls.Files)-1]
	for _, f := range ls.Files {
		if f.Size > big.Size {
			big = f
		}
	}
	part, err := httpGet(ctx, base+daemon.ContentPath+added.CID+"/"+big.Path, "bytes=1048000-1048599")
	if err != nil {
		return err
	}
	step("GET with Range: bytes=1048000-1048599 of %s (across a shard boundary): %d bytes", big.Path, len(part))

	var v daemon.VerifyResult
	if err := client.CallContext(ctx, &v, "repo_verify"); err != nil {
		return rpcErr(err)
	}
	step("repo_verify: %d shards and %d objects rehashed, %d corrupt", v.Shards, v.Objects, len(v.Faults))
	if len(v.Faults) > 0 {
		return fmt.Errorf("devnet: store has %d corrupt items", len(v.Faults))
	}

	if exit {
		step("done (--exit)")
		return nil
	}
	step("the nodes keep running; try:\n    curl %s%s%s/%s\n    openledger --repo %s ls %s\n    openledger --repo %s peers\n  Ctrl-C to stop",
		base, daemon.ContentPath, added.CID, ls.Files[0].Path, repo.Dir, added.CID, bob.repo.Dir)
	<-ctx.Done()
	return nil
}

// devNode is one node of the devnet, run in this process.
type devNode struct {
	name string
	repo *daemon.Repo
	node *daemon.Node
	rpc  *rpc.Client
	id   daemon.IDResult
}

func startDevNode(ctx context.Context, dir, name string, log *slog.Logger) (*devNode, error) {
	cfg, err := daemon.ProfileConfig("test")
	if err != nil {
		return nil, err
	}
	if _, err := daemon.InitRepo(dir, daemon.InitOptions{Config: &cfg}); err != nil {
		return nil, err
	}
	repo, err := daemon.OpenRepo(dir)
	if err != nil {
		return nil, err
	}
	node, err := daemon.NewNode(repo, daemon.Options{Logger: log.With("node", name), Version: version, SyncInterval: time.Second})
	if err != nil {
		repo.Close()
		return nil, err
	}
	d := &devNode{name: name, repo: repo, node: node}
	if err := node.Start(); err != nil {
		d.close()
		return nil, err
	}
	// Talk to the node as any client would: over its unix socket.
	if d.rpc, err = rpc.DialIPC(ctx, repo.Path(daemon.IPCFile)); err != nil {
		d.close()
		return nil, err
	}
	if err := d.rpc.CallContext(ctx, &d.id, "node_id"); err != nil {
		d.close()
		return nil, rpcErr(err)
	}
	return d, nil
}

func (d *devNode) close() error {
	if d.rpc != nil {
		d.rpc.Close()
	}
	return errors.Join(d.node.Close(), d.repo.Close())
}

// waitListed waits until a node lists a contribution in a Datanet.
func waitListed(ctx context.Context, d *devNode, dn, contribution string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		var show daemon.DatanetDetail
		if err := d.rpc.CallContext(ctx, &show, "datanet_show", dn); err == nil {
			for _, c := range show.Contributions {
				if c.CID == contribution {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devnet: %s never received contribution %s: %w", d.name, contribution, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func httpGet(ctx context.Context, url, rng string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// writeSampleDataset writes a small deterministic corpus: text, CSV, JSONL
// and a 3 MiB binary file that spans several shards.
func writeSampleDataset(dir string) ([]string, int64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("data model proof ledger token curator shard network attribution reward " +
		"contributor snapshot merkle root chain anchor verify signature datanet training")
	sentence := func() string {
		n := 6 + rng.IntN(10)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(parts, " ") + ".\n"
	}
	var text, csv, jsonl strings.Builder
	for range 400 {
		text.WriteString(sentence())
	}
	csv.WriteString("id,label,text\n")
	for i := range 300 {
		fmt.Fprintf(&csv, "%d,%d,%q\n", i, rng.IntN(2), strings.TrimSpace(sentence()))
	}
	for i := range 300 {
		fmt.Fprintf(&jsonl, "{\"id\":%d,\"prompt\":%q}\n", i, strings.TrimSpace(sentence()))
	}
	blob := make([]byte, 3<<20+12345)
	for i := range blob {
		blob[i] = byte(rng.Uint32())
	}
	contents := map[string][]byte{
		"README.md":            []byte("# devnet sample\nA throwaway corpus made by `openledger devnet`.\n"),
		"text/corpus.txt":      []byte(text.String()),
		"tables/labels.csv":    []byte(csv.String()),
		"prompts/train.jsonl":  []byte(jsonl.String()),
		"binary/embedding.bin": blob,
	}
	var names []string
	var total int64
	for name, body := range contents {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, 0, err
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return nil, 0, err
		}
		names = append(names, name)
		total += int64(len(body))
	}
	return names, total, nil
}
