package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
		Short: "Run a throwaway node and walk through the main job: Datanet, contribution, read back",
		Long: "devnet creates a throwaway repo, starts a node on it, creates a Datanet, adds a sample dataset " +
			"through the node's API, reads every file back over HTTP and verifies it, and prints each step. " +
			"It keeps serving until Ctrl-C, or exits at once with --exit.",
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
	repoDir := filepath.Join(dir, "repo")
	cfg := daemon.DefaultConfig()
	cfg.API.Address = "127.0.0.1:0"
	id, err := daemon.InitRepo(repoDir, daemon.InitOptions{Config: &cfg})
	if err != nil {
		return err
	}
	step("init repo %s\n    peer id %s\n    account %s", repoDir, id.PeerID, id.Account)

	repo, err := daemon.OpenRepo(repoDir)
	if err != nil {
		return err
	}
	defer repo.Close()
	log, err := a.logger("warn")
	if err != nil {
		return err
	}
	node, err := daemon.NewNode(repo, daemon.Options{Logger: log, Version: version})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := node.Close(); err == nil {
			err = cerr
		}
	}()
	if err := node.Start(); err != nil {
		return err
	}
	base := "http://" + node.HTTPAddr()
	step("daemon running: JSON-RPC %s%s and %s, content %s%s", base, daemon.RPCPath, repo.Path(daemon.IPCFile), base, daemon.ContentPath)

	// Talk to the node as any client would: over its unix socket.
	client, err := rpc.DialIPC(ctx, repo.Path(daemon.IPCFile))
	if err != nil {
		return err
	}
	defer client.Close()

	var dn daemon.DatanetView
	if err := client.CallContext(ctx, &dn, "datanet_create", datanet.DatanetSpec{
		Name: "devnet-sample", Description: "sample corpus made by openledger devnet", License: "CC-BY-4.0",
	}); err != nil {
		return rpcErr(err)
	}
	step("datanet_create %q\n    id %s", dn.Datanet.Name, dn.ID)

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
	step("content_add (chunked into 1 MiB shards, signed with EIP-712) in %s\n    contribution %s\n    merkle root  %s",
		time.Since(start).Round(time.Millisecond), added.CID, added.Root)
	for _, f := range added.Files {
		fmt.Fprintf(w, "    %-28s %9s  %d shard(s), first %s\n", f.Path, humanize.IBytes(f.Size), len(f.Shards), f.Shards[0])
	}

	var ls daemon.LsResult
	if err := client.CallContext(ctx, &ls, "content_ls", added.CID); err != nil {
		return rpcErr(err)
	}
	step("content_ls %s: %d files, %s", added.CID, len(ls.Files), humanize.IBytes(ls.Size))

	for _, f := range ls.Files {
		got, err := httpGet(ctx, base+daemon.ContentPath+added.CID+"/"+f.Path, "")
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
	step("GET %s/content/%s/<path> for every file: all %d byte-identical to the originals", base, added.CID, len(ls.Files))

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
	step("the node keeps running; try:\n    curl %s%s%s/%s\n    openledger --repo %s ls %s\n  Ctrl-C to stop",
		base, daemon.ContentPath, added.CID, ls.Files[0].Path, repoDir, added.CID)
	<-ctx.Done()
	return nil
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
