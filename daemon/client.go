package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/datanet"
)

// Client is how the CLI reaches a node, as Kubo does: through the daemon's
// API when a daemon runs on the repo, else through an in-process node on the
// repo itself. Either way the calls go through the same JSON-RPC services.
type Client struct {
	// API is the typed API over RPC.
	*API
	RPC *rpc.Client
	// Remote is true when a daemon answers.
	Remote bool

	httpBase string // remote only: base URL of the daemon's HTTP API
	repo     *Repo  // local only
	node     *Node  // local only
}

// Connect reaches the node of the repo in dir.
func Connect(ctx context.Context, dir string, opts Options) (*Client, error) {
	if !RepoExists(dir) {
		return nil, fmt.Errorf("%w at %s (run `openledger init` first)", ErrNoRepo, dir)
	}
	repo, err := OpenRepo(dir)
	if err == nil {
		node, err := NewNode(repo, opts)
		if err != nil {
			repo.Close()
			return nil, err
		}
		rc := node.InProc()
		return &Client{API: NewAPI(rc), RPC: rc, repo: repo, node: node}, nil
	}
	if !errors.Is(err, ErrLocked) {
		return nil, err
	}
	// Someone holds the repo: it should be a daemon with its API up.
	ipc := dir + "/" + IPCFile
	c, derr := rpc.DialIPC(ctx, ipc)
	if derr != nil {
		return nil, fmt.Errorf("%w, and its API socket %s does not answer: %w", err, ipc, derr)
	}
	base, herr := ReadAPIFile(dir)
	if herr != nil {
		c.Close()
		return nil, fmt.Errorf("daemon is running but %s/%s is unreadable: %w", dir, APIFile, herr)
	}
	return &Client{API: NewAPI(c), RPC: c, Remote: true, httpBase: base}, nil
}

// OpenContent streams the verified bytes of a file or shard named by a
// content path; the caller closes the reader.
func (c *Client) OpenContent(ctx context.Context, path string) (io.ReadCloser, int64, error) {
	if !c.Remote {
		return c.node.OpenContent(ctx, path)
	}
	u := c.httpBase + ContentPath + (&url.URL{Path: strings.TrimPrefix(path, "/")}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, 0, fmt.Errorf("%s", strings.TrimSpace(string(msg)))
	}
	if k := resp.Header.Get(KindHeader); k != datanet.ResolvedFile && k != datanet.ResolvedShard {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("%s is not a file", path)
	}
	return resp.Body, resp.ContentLength, nil
}

// Close releases the connection, or the in-process node and the repo lock.
func (c *Client) Close() error {
	c.RPC.Close()
	if c.node == nil {
		return nil
	}
	return errors.Join(c.node.Close(), c.repo.Close())
}

// API is a typed client of a node's JSON-RPC API: one Go method per RPC
// method, with the daemon's argument and result types (client_gen.go,
// generated from the namespaces with the server's side). The CLI and devnet
// call these instead of naming methods by strings.
type API struct {
	rpc *rpc.Client
}

// NewAPI returns the typed API over an RPC client of a node.
func NewAPI(c *rpc.Client) *API { return &API{rpc: c} }

// callRPC calls method and decodes its result into an R.
func callRPC[R any](ctx context.Context, c *rpc.Client, method string, args ...any) (R, error) {
	var r R
	err := c.CallContext(ctx, &r, method, args...)
	return r, err
}
