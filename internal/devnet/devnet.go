// Package devnet is the walk-through behind `openledger devnet`: three
// nodes in one process, in throwaway repos on loopback, each driven through
// its own JSON-RPC API with daemon's typed client, telling the main story
// from a Datanet to a reward claim and checking every step. It owns no
// protocol: what it shows is done by daemon and the packages below it.
package devnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
)

// Options configure a devnet run.
type Options struct {
	// Out receives the walk-through, a step a line; nil discards it.
	Out io.Writer
	// Logger is the nodes' logger; nil discards their logs.
	Logger *slog.Logger
	// Version is the version the nodes report.
	Version string
	// Exit returns when the walk-through is done; otherwise Run keeps the
	// nodes serving until ctx ends.
	Exit bool
	// Keep keeps the throwaway directory of the nodes' repos.
	Keep bool
}

// Run starts three nodes (alice, bob and carol) in throwaway repos on
// loopback and walks through the main job on them, printing each step to
// Options.Out: a Datanet, contributions, gossip, fetch, curation, a
// snapshot, anchors on alice's embedded dev chain, attribution and a reward
// epoch with a claim. Each node is driven through its own API, over its
// unix socket, as any client would. It fails at the first step whose
// result is not what the story expects.
func Run(ctx context.Context, opts Options) (err error) {
	w := opts.Out
	if w == nil {
		w = io.Discard
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	step := func(format string, args ...any) { fmt.Fprintf(w, "==> "+format+"\n", args...) }
	dir, err := os.MkdirTemp("", "openledger-devnet-*")
	if err != nil {
		return err
	}
	if !opts.Keep {
		defer os.RemoveAll(dir)
	}
	// Three nodes on loopback, as three daemons would run on three machines.
	names := []string{"alice", "bob", "carol"}
	nodes := make([]*devNode, len(names))
	for i, name := range names {
		// alice runs the embedded dev chain and anchors what she makes;
		// bob and carol run without a chain.
		dn, err := startDevNode(ctx, filepath.Join(dir, name), name, log, opts.Version, name == "alice")
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
		if _, err := pair[0].api.NodeConnect(ctx, pair[1].id.Addrs[0]); err != nil {
			return err
		}
		step("%s connects to %s (%s)", pair[0].name, pair[1].name, pair[1].id.Addrs[0])
	}
	client := alice.api
	repo := alice.repo
	node := alice.node
	base := "http://" + node.HTTPAddr()

	// The three operators curate with one vote each: two votes decide, and
	// a contribution needs more than half of the votes cast.
	curators := make([]datanet.Curator, len(nodes))
	for i, p := range nodes {
		curators[i] = datanet.Curator{Address: common.HexToAddress(p.id.Account), Weight: 1}
	}
	dn, err := client.DatanetCreate(ctx, datanet.DatanetSpec{
		Name: "devnet-sample", Description: "sample corpus made by openledger devnet", License: "CC-BY-4.0",
		Curators: curators, Quorum: 2, ThresholdBps: 5001,
	})
	if err != nil {
		return err
	}
	step("datanet_create %q\n    id %s\n    curators alice, bob and carol (weight 1 each), quorum %d, threshold %d bps, no voting deadline",
		dn.Datanet.Name, dn.ID, dn.Datanet.Quorum, dn.Datanet.ThresholdBps)
	for _, p := range []*devNode{bob, carol} {
		if err := p.api.DatanetJoin(ctx, dn.ID); err != nil {
			return err
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
	added, err := client.ContentAdd(ctx, daemon.AddArgs{Paths: []string{data}, Datanet: dn.ID})
	if err != nil {
		return err
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
	fetched, err := carol.api.ContentFetch(ctx, added.CID)
	if err != nil {
		return err
	}
	step("carol fetches %s: %d shards (%s) verified in %s, then provides it", added.CID, fetched.Fetched,
		humanize.IBytes(uint64(fetched.Bytes)), time.Since(start).Round(time.Millisecond))

	ls, err := client.ContentLs(ctx, added.CID, nil)
	if err != nil {
		return err
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

	v, err := client.RepoVerify(ctx, nil)
	if err != nil {
		return err
	}
	step("repo_verify: %d shards and %d objects rehashed, %d corrupt", v.Shards, v.Objects, len(v.Faults))
	if len(v.Faults) > 0 {
		return fmt.Errorf("devnet: store has %d corrupt items", len(v.Faults))
	}

	snap, err := devnetCuration(ctx, w, step, dir, dn.ID, nodes, added.CID)
	if err != nil {
		return err
	}
	if err := devnetAnchors(ctx, step, nodes[0], dn.ID, added.CID); err != nil {
		return err
	}
	corpus, err := os.ReadFile(filepath.Join(data, "text", "corpus.txt"))
	if err != nil {
		return err
	}
	if err := devnetAttribution(ctx, step, nodes, snap, strings.Split(string(corpus), "\n")[10]); err != nil {
		return err
	}

	if opts.Exit {
		step("done (--exit)")
		return nil
	}
	step("the nodes keep running; try:\n    curl %s%s%s/%s\n    curl %s%s%s\n    openledger --repo %s ls %s\n    openledger --repo %s peers\n  Ctrl-C to stop",
		base, daemon.ContentPath, added.CID, ls.Files[0].Path, base, daemon.ContentPath, snap, repo.Dir, added.CID, bob.repo.Dir)
	<-ctx.Done()
	return nil
}

// devNode is one node of the devnet, run in this process.
type devNode struct {
	name string
	repo *daemon.Repo
	node *daemon.Node
	rpc  *rpc.Client
	api  *daemon.API
	id   daemon.IDResult
}

func startDevNode(ctx context.Context, dir, name string, log *slog.Logger, version string, chain bool) (*devNode, error) {
	cfg, err := daemon.ProfileConfig("test")
	if err != nil {
		return nil, err
	}
	if chain {
		cfg.Chain.RPC = "" // the embedded dev chain
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
	d.api = daemon.NewAPI(d.rpc)
	id, err := d.api.NodeID(ctx)
	if err != nil {
		d.close()
		return nil, err
	}
	d.id = *id
	return d, nil
}

func (d *devNode) close() error {
	if d.rpc != nil {
		d.rpc.Close()
	}
	return errors.Join(d.node.Close(), d.repo.Close())
}

// devnetWait bounds every wait of the walk-through for something to travel
// between the nodes; on loopback it takes milliseconds.
const devnetWait = 30 * time.Second

// waitFor polls cond until it is done, and fails after devnetWait naming
// what it waited for and the last state cond saw.
func waitFor(ctx context.Context, what string, cond func(ctx context.Context) (done bool, state string)) error {
	ctx, cancel := context.WithTimeout(ctx, devnetWait)
	defer cancel()
	for {
		done, state := cond(ctx)
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devnet: waited %s for %s, last saw %s: %w", devnetWait, what, state, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitListed waits until a node lists a contribution in a Datanet.
func waitListed(ctx context.Context, d *devNode, dn, contribution string) error {
	return waitFor(ctx, fmt.Sprintf("%s to receive contribution %s", d.name, contribution), func(ctx context.Context) (bool, string) {
		show, err := d.api.DatanetShow(ctx, dn, nil)
		if err != nil {
			return false, err.Error()
		}
		for _, c := range show.Contributions {
			if c.CID == contribution {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d other contributions", len(show.Contributions))
	})
}

// devContribution is a contribution of the curation walk-through, the
// votes it gets and the verdict they lead to.
type devContribution struct {
	label string
	by    *devNode
	// files maps paths under the contribution's directory, <devnet dir>/<label>,
	// to their content; nil for the sample, which is written already.
	files map[string]string
	votes []devVote
	want  curation.Status
	cid   string
}

// devVote is a curator's vote, cast through the curator's own node.
type devVote struct {
	by       *devNode
	decision datanet.Decision
	reason   string
}

// approve and reject count the weight (1 each) of the planned votes.
func (c *devContribution) approve() (n uint64) {
	for _, v := range c.votes {
		if v.decision == datanet.Approve {
			n++
		}
	}
	return n
}

func (c *devContribution) reject() uint64 { return uint64(len(c.votes)) - c.approve() }

func tallyString(t *daemon.TallyView) string {
	return fmt.Sprintf("%s, %d for %d against", t.Status, t.Approve, t.Reject)
}

// devnetCuration walks through curation on the Datanet dn, whose sample
// contribution is sample: each node adds a small contribution, the
// curators vote through their own nodes, every node tallies the same, bob
// cuts a snapshot and carol verifies it, fetches it and checks its files.
// It returns the snapshot's CID.
func devnetCuration(ctx context.Context, w io.Writer, step func(string, ...any), dir, dn string, nodes []*devNode, sample string) (string, error) {
	alice, bob, carol := nodes[0], nodes[1], nodes[2]
	contributions := []*devContribution{
		{label: "sample", by: alice, cid: sample, want: curation.Accepted, votes: []devVote{
			{alice, datanet.Approve, "clean, licensed, documented"},
			{bob, datanet.Approve, "checked a few hundred rows"},
		}},
		{label: "glossary", by: bob, want: curation.Accepted, files: map[string]string{
			"terms.csv": "term,definition\n" +
				"datanet,a curated collection of contributions with its own curators\n" +
				"contribution,a signed set of files added to a datanet\n" +
				"curator,an account whose votes decide on contributions\n" +
				"snapshot,a version of a datanet: the contributions accepted at a cut\n",
		}, votes: []devVote{
			{alice, datanet.Approve, "useful definitions"},
			{carol, datanet.Approve, "accurate"},
		}},
		{label: "scraped", by: carol, want: curation.Rejected, files: map[string]string{
			"page.txt": strings.Repeat("Click here to subscribe! Cookie settings. Accept all.\n", 40),
		}, votes: []devVote{
			{alice, datanet.Reject, "web boilerplate, no content"},
			{bob, datanet.Reject, "spam"},
		}},
		{label: "notes", by: alice, want: curation.Pending, files: map[string]string{
			"draft.md": "# Draft notes\nLabelling guidelines, first pass: mark each row 0 or 1.\n",
		}, votes: []devVote{
			{carol, datanet.Approve, "a good start"},
			{bob, datanet.Reject, "too short yet"},
		}},
	}
	byCID := map[string]*devContribution{}
	for _, c := range contributions {
		if c.cid == "" {
			top := filepath.Join(dir, c.label)
			for name, body := range c.files {
				p := filepath.Join(top, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return "", err
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					return "", err
				}
			}
			added, err := c.by.api.ContentAdd(ctx, daemon.AddArgs{Paths: []string{top}, Datanet: dn})
			if err != nil {
				return "", err
			}
			c.cid = added.CID
			step("content_add on %s: %s, %s\n    contribution %s", c.by.name, c.label, humanize.IBytes(added.Size), c.cid)
		}
		byCID[c.cid] = c
	}
	start := time.Now()
	for _, c := range contributions {
		for _, p := range nodes {
			if err := waitListed(ctx, p, dn, c.cid); err != nil {
				return "", err
			}
		}
	}
	step("all %d contributions reached all three nodes by gossip in %s", len(contributions), time.Since(start).Round(time.Millisecond))

	step("the curators vote, each through their own node (curation_vote: signed with EIP-712, gossiped)")
	start = time.Now()
	votes := 0
	for _, c := range contributions {
		for _, v := range c.votes {
			res, err := v.by.api.CurationVote(ctx, daemon.VoteArgs{
				Contribution: c.cid, Decision: string(v.decision), Reason: v.reason,
			})
			if err != nil {
				return "", err
			}
			votes++
			fmt.Fprintf(w, "    %-5s %-7s %-8s vote %s, %s sees %-25s %q\n",
				v.by.name, v.decision, c.label, res.CID, v.by.name, tallyString(res.Tally)+";", v.reason)
		}
	}
	for _, c := range contributions {
		for _, p := range nodes {
			what := fmt.Sprintf("%s to tally %s (%s) as %s, %d for %d against", p.name, c.label, c.cid, c.want, c.approve(), c.reject())
			err := waitFor(ctx, what, func(ctx context.Context) (bool, string) {
				t, err := p.api.CurationShow(ctx, c.cid)
				if err != nil {
					return false, err.Error()
				}
				return t.Status == c.want && t.Approve == c.approve() && t.Reject == c.reject(), tallyString(t)
			})
			if err != nil {
				return "", err
			}
		}
	}
	step("every vote reached every node by gossip in %s; curation_show gives the same tally on alice, bob and carol:",
		time.Since(start).Round(time.Millisecond))
	for _, c := range contributions {
		fmt.Fprintf(w, "    %-8s %s  %s\n", c.label, c.cid, tallyString(&daemon.TallyView{Status: c.want, Approve: c.approve(), Reject: c.reject()}))
	}

	statuses := make([]daemon.StatusResult, len(nodes))
	for i, p := range nodes {
		st, err := p.api.CurationStatus(ctx, dn)
		if err != nil {
			return "", err
		}
		statuses[i] = *st
	}
	cs := statuses[2]
	for i, s := range statuses {
		if s.Contributions != cs.Contributions || s.Votes != cs.Votes || !maps.Equal(s.Counts, cs.Counts) {
			return "", fmt.Errorf("devnet: curation_status differs: %s counts %d contributions %v and %d votes, carol %d %v and %d",
				nodes[i].name, s.Contributions, s.Counts, s.Votes, cs.Contributions, cs.Counts, cs.Votes)
		}
	}
	if cs.Votes != votes {
		return "", fmt.Errorf("devnet: curation_status on carol counts %d votes, %d were cast", cs.Votes, votes)
	}
	step("curation_status on carol (the same on alice and bob): %d contributions: %d accepted, %d rejected, %d pending, %d expired; %d votes by %d curators",
		cs.Contributions, cs.Counts["accepted"], cs.Counts["rejected"], cs.Counts["pending"], cs.Counts["expired"], cs.Votes, cs.Curators)

	snap, err := bob.api.SnapshotCut(ctx, dn)
	if err != nil {
		return "", err
	}
	step("snapshot_cut on bob: version %d of the datanet, %d accepted contributions (%s) with %d votes as evidence\n    snapshot    %s\n    merkle root %s",
		snap.Version, snap.Contributions, humanize.IBytes(snap.Size), snap.Votes, snap.CID, snap.Root)
	start = time.Now()
	for _, p := range []*devNode{alice, carol} {
		err := waitFor(ctx, fmt.Sprintf("%s to hold snapshot %s", p.name, snap.CID), func(ctx context.Context) (bool, string) {
			list, err := p.api.SnapshotList(ctx, dn, nil)
			if err != nil {
				return false, err.Error()
			}
			for _, s := range list {
				if s.CID == snap.CID {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d other snapshots", len(list))
		})
		if err != nil {
			return "", err
		}
	}
	step("the snapshot reached alice and carol by gossip in %s (snapshot_list)", time.Since(start).Round(time.Millisecond))

	verdict, err := carol.api.SnapshotVerify(ctx, snap.CID)
	if err != nil {
		return "", err
	}
	if !verdict.OK {
		return "", fmt.Errorf("devnet: snapshot_verify %s on carol: %s", snap.CID, verdict.Problems)
	}
	step("snapshot_verify on carol: ok %t\n    checked %s", verdict.OK, verdict.Checked)

	start = time.Now()
	fetched, err := carol.api.ContentFetch(ctx, snap.CID)
	if err != nil {
		return "", err
	}
	step("carol fetches the whole version %s: %d shards, %d fetched (%s) and verified in %s, the rest already held",
		snap.CID, fetched.Shards, fetched.Fetched, humanize.IBytes(uint64(fetched.Bytes)), time.Since(start).Round(time.Millisecond))

	ls, err := carol.api.ContentLs(ctx, snap.CID, nil)
	if err != nil {
		return "", err
	}
	step("content_ls %s on carol: %d files, %s, one directory per contribution:", snap.CID, len(ls.Files), humanize.IBytes(ls.Size))
	base := "http://" + carol.node.HTTPAddr() + daemon.ContentPath + snap.CID + "/"
	for _, f := range ls.Files {
		head, rest, _ := strings.Cut(f.Path, "/")
		c, ok := byCID[head]
		if !ok || c.want != curation.Accepted {
			return "", fmt.Errorf("devnet: snapshot %s lists %s, not under an accepted contribution", snap.CID, f.Path)
		}
		got, err := httpGet(ctx, base+f.Path, "")
		if err != nil {
			return "", err
		}
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rest)))
		if err != nil {
			return "", err
		}
		if !bytes.Equal(got, want) {
			return "", fmt.Errorf("devnet: %s read back from snapshot %s differs from the original", f.Path, snap.CID)
		}
		fmt.Fprintf(w, "    %-8s %9s  %s\n", c.label, humanize.IBytes(f.Size), f.Path)
	}
	step("GET http://%s/content/%s/<contribution>/<path> on carol for every file: all %d byte-identical to the originals",
		carol.node.HTTPAddr(), snap.CID, len(ls.Files))
	return snap.CID, nil
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

// devnetAnchors flushes alice's anchor queue to her embedded dev chain and
// verifies the proofs of her Datanet and her contribution against it.
func devnetAnchors(ctx context.Context, step func(string, ...any), alice *devNode, ids ...string) error {
	cs, err := alice.api.ChainStatus(ctx)
	if err != nil {
		return err
	}
	st, err := alice.api.AnchorFlush(ctx)
	if err != nil {
		return err
	}
	step("anchor_flush on alice: %d objects she made (Datanet, contributions, votes) anchored on her embedded dev chain (chain %d, registry %s)",
		st.Anchored, cs.ChainID, st.Registry)
	for _, id := range ids {
		p, err := alice.api.ProofsVerify(ctx, id)
		if err != nil {
			return err
		}
		step("proofs_verify %s: leaf in batch %s (%d items, %d-hash path), anchored in block %d by tx %s",
			id, p.Root, p.ItemCount, len(p.Path), p.BlockNumber, p.TxHash.Hex())
	}
	return nil
}
