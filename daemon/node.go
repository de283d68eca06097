package daemon

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/connmgr"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/internal/atomicfile"
	"github.com/openledger/openledger/storage"
)

// ErrClosed is returned by a node that is shutting down.
var ErrClosed = errors.New("daemon: closed")

// Options configures a Node beyond what config.toml holds.
type Options struct {
	// Password decrypts the operator key (from --password-file or
	// OPENLEDGER_PASSWORD, read by main).
	Password string
	// APIAddress overrides config api.address (--api).
	APIAddress string
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Version is reported by node_version.
	Version string
	// Now is the clock; nil means time.Now. Objects record its time.
	Now func() time.Time
	// Listen overrides config p2p.listen (`daemon --listen`).
	Listen []string
	// SyncInterval overrides the p2p anti-entropy period (tests).
	SyncInterval time.Duration
	// Gater, when set, filters the node's connections (a ban list; tests
	// cut partitions with it).
	Gater connmgr.ConnectionGater
	// AnchorInterval overrides the anchorer's batch interval (tests).
	AnchorInterval time.Duration
	// Offline starts the API without the network.
	Offline bool
}

// Node is one openledger node on an opened repo: the content store, the
// Datanet registry, the operator's signer and the local API. NewNode builds
// it without listening; Start serves the API; Close stops everything in
// reverse order.
type Node struct {
	repo     *Repo
	opts     Options
	log      *slog.Logger
	store    *storage.Store
	registry *datanet.Registry
	auth     *Authority
	metrics  *metrics

	// ipcServer serves the unix socket and in-process clients, which are
	// trusted with admin; httpServer checks the bearer token of each request.
	ipcServer  *rpc.Server
	httpServer *rpc.Server

	signerMu sync.Mutex
	signer   datanet.Signer // guarded by signerMu; decrypted on first use

	index *indexer                  // the attribution indexes
	net   *network                  // nil when offline
	chain atomic.Pointer[chainLink] // nil when not anchoring
	// anchorStartMu serialises starting the anchorer after chain_deploy.
	anchorStartMu sync.Mutex
	joinMu        sync.Mutex // serialises join/leave and the joined file
	// storedCh carries stored objects to the post-store loop.
	storedCh chan datanet.Stored
	// depCh queues received objects that need others first; depPending
	// (guarded by depMu) names those queued.
	depCh      chan depJob
	depMu      sync.Mutex
	depPending map[cid.Cid]bool
	// objects tells subscribers (datanet_subscribe("objects"), the
	// console's live updates) of every object stored.
	objects objectFeed
	// console is the web console's server, once the HTTP API runs.
	console atomic.Pointer[consoleServer]

	ctx    context.Context // cancelled by Close; parent of background work
	cancel context.CancelFunc
	wg     sync.WaitGroup

	httpSrv  *http.Server
	httpAddr string
	ipcLn    net.Listener

	closeOnce sync.Once
	closeErr  error
}

// NewNode opens the node's components on repo. The repo stays owned by the
// caller, who closes it after the node.
func NewNode(repo *Repo, opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	quota, err := repo.Config.QuotaBytes()
	if err != nil {
		return nil, err
	}
	mapped, err := repo.Config.MappedMemoryBytes()
	if err != nil {
		return nil, err
	}
	auth, err := repo.LoadAuthority()
	if err != nil {
		return nil, err
	}
	scfg := storage.DefaultConfig(repo.Path(DatastoreDir))
	scfg.QuotaBytes = quota
	scfg.MappedMemory = mapped
	scfg.Logger = opts.Logger.With("component", "storage")
	store, err := storage.Open(scfg)
	if err != nil {
		return nil, fmt.Errorf("open datastore: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		repo:     repo,
		opts:     opts,
		log:      opts.Logger,
		store:    store,
		auth:     auth,
		metrics:  newMetrics(),
		storedCh: make(chan datanet.Stored, storedQueue),
		depCh:    make(chan depJob, depQueue),
		ctx:      ctx,
		cancel:   cancel,
	}
	n.metrics.watchStore(store)
	n.registry, err = datanet.NewRegistry(store, datanet.Config{Rules: curation.Rules{}, Now: opts.Now, Stored: n.objectStored})
	if err != nil {
		cancel()
		store.Close()
		return nil, err
	}
	n.wg.Go(n.postStoreLoop)
	n.wg.Go(n.warmIndex)
	for range depWorkers {
		n.wg.Go(n.dependencyWorker)
	}
	if n.index, err = n.openIndexer(); err != nil {
		n.Close()
		return nil, err
	}
	if n.ipcServer, err = n.newRPCServer(allowAll); err != nil {
		n.Close()
		return nil, err
	}
	if n.httpServer, err = n.newRPCServer(tokenPerm); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Signer returns the operator's signer, decrypting the key on first use.
func (n *Node) Signer() (datanet.Signer, error) {
	n.signerMu.Lock()
	defer n.signerMu.Unlock()
	if n.signer != nil {
		return n.signer, nil
	}
	var key *ecdsa.PrivateKey
	key, err := n.repo.LoadAccountKey(n.opts.Password)
	if err != nil {
		return nil, err
	}
	n.signer = datanet.NewKeySigner(key)
	return n.signer, nil
}

// Start unlocks the operator key, starts the network (unless
// Options.Offline) and serves the API on the unix socket $REPO/api.ipc and on
// HTTP at the configured loopback address, whose actual address it writes to
// $REPO/api.
func (n *Node) Start() error {
	if _, err := n.Signer(); err != nil {
		return err
	}
	if !n.opts.Offline {
		if err := n.startNetwork(); err != nil {
			return err
		}
		if err := n.startAnchorer(); err != nil {
			return err
		}
	}
	ipcPath := n.repo.Path(IPCFile)
	// A socket left by a daemon that was killed: we hold the repo lock, so
	// no live daemon owns it.
	if err := os.Remove(ipcPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", ipcPath, err)
	}
	ipcLn, err := net.Listen("unix", ipcPath)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", ipcPath, err)
	}
	if err := os.Chmod(ipcPath, 0o600); err != nil {
		ipcLn.Close()
		return fmt.Errorf("restrict %s: %w", ipcPath, err)
	}
	n.ipcLn = ipcLn
	n.wg.Go(func() { n.ipcServer.ServeListener(ipcLn) })

	addr := n.repo.Config.API.Address
	if n.opts.APIAddress != "" {
		addr = n.opts.APIAddress
	}
	if err := checkLoopback(addr); err != nil {
		return fmt.Errorf("api address: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	n.httpAddr = ln.Addr().String()
	if err := n.serveHTTP(ln); err != nil {
		ln.Close()
		return err
	}
	if err := atomicfile.WriteFile(n.repo.Path(APIFile), apiFileContents(n.httpAddr), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", APIFile, err)
	}
	n.log.Info("api listening", "http", "http://"+n.httpAddr, "ipc", ipcPath)
	return nil
}

// HTTPAddr is the address the HTTP API listens on, after Start.
func (n *Node) HTTPAddr() string { return n.httpAddr }

// InProc returns an admin RPC client connected to the node in this process.
func (n *Node) InProc() *rpc.Client { return rpc.DialInProc(n.ipcServer) }

// Registry is the node's Datanet registry.
func (n *Node) Registry() *datanet.Registry { return n.registry }

// Store is the node's content store.
func (n *Node) Store() *storage.Store { return n.store }

// OpenContent opens a verified reader over the file or shard a content path
// names.
func (n *Node) OpenContent(ctx context.Context, path string) (io.ReadCloser, int64, error) {
	res, err := n.registry.Resolve(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	r, err := n.registry.OpenFile(ctx, res)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(r), int64(res.File.Size), nil
}

// Close stops the API, waits for background work and closes the store. It
// is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		n.cancel()
		if n.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := n.httpSrv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shut down http api: %w", err))
				n.httpSrv.Close()
			}
			cancel()
			if err := os.Remove(n.repo.Path(APIFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if n.ipcLn != nil {
			n.ipcLn.Close()
			os.Remove(n.repo.Path(IPCFile))
		}
		if n.ipcServer != nil {
			n.ipcServer.Stop()
		}
		if n.httpServer != nil {
			n.httpServer.Stop()
		}
		n.wg.Wait()
		n.anchorStartMu.Lock() // no anchorer starts from here on: n.ctx is done
		n.anchorStartMu.Unlock()
		if ch := n.chain.Load(); ch != nil {
			if err := ch.close(); err != nil {
				errs = append(errs, fmt.Errorf("close anchorer: %w", err))
			}
		}
		if n.net != nil {
			if err := n.net.close(); err != nil {
				errs = append(errs, fmt.Errorf("close network: %w", err))
			}
		}
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close datastore: %w", err))
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
