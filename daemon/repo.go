package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofrs/flock"
)

// Files and directories of a repo ($OPENLEDGER_PATH, default ~/.openledger).
const (
	ConfigFile   = "config.toml"
	KeystoreDir  = "keystore"
	IdentityFile = "identity.key" // in KeystoreDir: libp2p private key, protobuf
	APISecret    = "api.secret"   // in KeystoreDir: HMAC key of API tokens
	DatastoreDir = "datastore"
	LockFile     = "repo.lock"
	IPCFile      = "api.ipc"
	APIFile      = "api"
)

var (
	// ErrRepoExists is returned by InitRepo when the directory already holds a repo.
	ErrRepoExists = errors.New("daemon: repo already exists")
	// ErrNoRepo is returned when a directory holds no repo.
	ErrNoRepo = errors.New("daemon: no repo")
	// ErrLocked is returned when another process holds the repo.
	ErrLocked = errors.New("daemon: repo is locked by another process")
)

// RepoPath resolves the repo directory: the flag, else $OPENLEDGER_PATH, else
// ~/.openledger. env is the value of OPENLEDGER_PATH, read by main.
func RepoPath(flag, env string) (string, error) {
	p := flag
	if p == "" {
		p = env
	}
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home directory for the default repo: %w", err)
		}
		p = filepath.Join(home, ".openledger")
	}
	return filepath.Abs(p)
}

// Repo is an opened, locked repo directory.
type Repo struct {
	Dir    string
	Config Config
	lock   *flock.Flock
}

// Path joins elements under the repo directory.
func (r *Repo) Path(elem ...string) string {
	return filepath.Join(append([]string{r.Dir}, elem...)...)
}

// RepoExists reports whether dir holds a repo.
func RepoExists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ConfigFile))
	return err == nil
}

// OpenRepo locks dir and loads its config. The lock is an OS file lock on
// repo.lock (flock(2), LockFileEx on Windows), released by Close or when the
// process dies, so a crashed daemon never leaves a stale lock behind.
func OpenRepo(dir string) (*Repo, error) {
	if !RepoExists(dir) {
		return nil, fmt.Errorf("%w at %s (run `openledger init` first)", ErrNoRepo, dir)
	}
	lock, err := lockRepo(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Repo{Dir: dir, Config: cfg, lock: lock}, nil
}

func lockRepo(dir string) (*flock.Flock, error) {
	lock := flock.New(filepath.Join(dir, LockFile))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock repo %s: %w", dir, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w (%s): is a daemon running on it? stop it or use its API", ErrLocked, dir)
	}
	return lock, nil
}

// SaveConfig writes r.Config back to config.toml.
func (r *Repo) SaveConfig() error {
	if err := r.Config.Validate(); err != nil {
		return err
	}
	return writeConfig(r.Path(ConfigFile), r.Config)
}

// Close releases the repo lock.
func (r *Repo) Close() error {
	if r.lock == nil {
		return nil
	}
	err := r.lock.Close()
	r.lock = nil
	return err
}

// InitOptions configures InitRepo.
type InitOptions struct {
	// Password encrypts the operator's keystore file. Empty is allowed for
	// development; the key is then protected by file permissions only.
	Password string
	// Config is written as config.toml; zero value means DefaultConfig().
	Config *Config
}

// InitResult is what InitRepo created.
type InitResult struct {
	Dir     string `json:"repo"`
	PeerID  string `json:"peer_id"`
	Account string `json:"account"`
}

// InitRepo creates a repo in dir: config.toml, the libp2p identity key, the
// operator's Ethereum account (keystore v3) and the API token secret. It
// refuses to touch a directory that already holds a repo.
func InitRepo(dir string, opts InitOptions) (InitResult, error) {
	if RepoExists(dir) {
		return InitResult{}, fmt.Errorf("%w at %s; refusing to overwrite it", ErrRepoExists, dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return InitResult{}, fmt.Errorf("create repo directory: %w", err)
	}
	lock, err := lockRepo(dir)
	if err != nil {
		return InitResult{}, err
	}
	defer lock.Close()
	// Leftovers of an init that died half way (no config.toml yet) are
	// replaced; anything else in the directory is left alone.
	ks := filepath.Join(dir, KeystoreDir)
	if err := os.RemoveAll(ks); err != nil {
		return InitResult{}, fmt.Errorf("clear partial keystore: %w", err)
	}
	if err := os.MkdirAll(ks, 0o700); err != nil {
		return InitResult{}, fmt.Errorf("create keystore: %w", err)
	}
	peerID, err := newIdentity(filepath.Join(ks, IdentityFile))
	if err != nil {
		return InitResult{}, err
	}
	account, err := newAccount(ks, opts.Password)
	if err != nil {
		return InitResult{}, err
	}
	if err := newAPISecret(filepath.Join(ks, APISecret)); err != nil {
		return InitResult{}, err
	}
	cfg := DefaultConfig()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	cfg.Identity = IdentityConfig{PeerID: peerID.String(), Account: account.Address.Hex()}
	if err := cfg.Validate(); err != nil {
		return InitResult{}, err
	}
	// config.toml last: its presence is what marks the repo as complete.
	if err := writeConfig(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return InitResult{}, fmt.Errorf("write config: %w", err)
	}
	return InitResult{Dir: dir, PeerID: peerID.String(), Account: account.Address.Hex()}, nil
}

// apiFileContents formats the URL written to $REPO/api.
func apiFileContents(addr string) []byte {
	return []byte("http://" + addr + "\n")
}

// ReadAPIFile returns the base URL of a running daemon's HTTP API.
func ReadAPIFile(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, APIFile))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
