package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ethereum/go-ethereum/common"
	"github.com/multiformats/go-multiaddr"
	"github.com/pelletier/go-toml/v2"

	"github.com/openledger/openledger/internal/atomicfile"
	"github.com/openledger/openledger/storage"
)

// DevChainID is the chain ID of the embedded development chain, the same one
// `geth --dev` uses. Signed objects name it in their EIP-712 domain.
const DevChainID = 1337

// Config is the typed form of $REPO/config.toml. Every field has a default in
// DefaultConfig; flags override it in cmd/openledger.
type Config struct {
	// Identity is written by `openledger init` and read-only afterwards.
	Identity IdentityConfig `toml:"identity" json:"identity"`
	API      APIConfig      `toml:"api" json:"api"`
	Storage  StorageConfig  `toml:"storage" json:"storage"`
	P2P      P2PConfig      `toml:"p2p" json:"p2p"`
	Chain    ChainConfig    `toml:"chain" json:"chain"`
	// Attribution and Rewards are the published parameters of this node's
	// attribution records; every record carries the values it used.
	Attribution AttributionConfig `toml:"attribution" json:"attribution"`
	Rewards     RewardsConfig     `toml:"rewards" json:"rewards"`
	Log         LogConfig         `toml:"log" json:"log"`
	Runtime     RuntimeConfig     `toml:"runtime" json:"runtime"`
}

// IdentityConfig names the node's keys; the keys themselves are in keystore/.
type IdentityConfig struct {
	// PeerID is the libp2p peer ID derived from keystore/identity.key.
	PeerID string `toml:"peer_id" json:"peer_id" comment:"libp2p peer ID of keystore/identity.key (set by init)"`
	// Account is the operator's Ethereum address; its key is a keystore v3 file in keystore/.
	Account string `toml:"account" json:"account" comment:"operator Ethereum account, a keystore v3 file in keystore/ (set by init)"`
}

// APIConfig configures the local JSON-RPC and HTTP content server.
type APIConfig struct {
	// Address is the HOST:PORT of the HTTP server (JSON-RPC at /rpc/v0,
	// content at /content/, metrics at /debug/metrics/prometheus). It must be
	// a loopback address: reads need no token there. Port 0 picks a free port;
	// the address in use is written to $REPO/api.
	Address string `toml:"address" json:"address" comment:"HOST:PORT of the local HTTP API (loopback only; port 0 picks one; the address in use goes to $REPO/api)"`
	// AddRoots are the directories under which content_add and
	// model_register read files for a caller below admin (an HTTP sign
	// token). Empty: such callers may not have the daemon read local
	// files at all. Admin callers (the CLI, the unix socket, admin
	// tokens) read anywhere the daemon can. Nobody reads inside the repo.
	AddRoots []string `toml:"add_roots" json:"add_roots" comment:"absolute directories whose files content_add and model_register may read for an HTTP caller with a sign token (empty = none; the CLI, the unix socket and admin tokens read anywhere outside the repo)"`

	// The HTTP server's bounds and the content gateway's policy
	// (config_api.go; docs/operations.md, HTTP API).

	// ReadHeaderTimeout bounds the time a client takes to send a request's
	// headers; a slower one is disconnected.
	ReadHeaderTimeout string `toml:"read_header_timeout" json:"read_header_timeout" comment:"most time a client may take to send a request's headers, e.g. \"10s\""`
	// ReadTimeout bounds the time a client takes to send a request's body
	// (a JSON-RPC call). Responses are not bounded: downloads and long
	// calls take what they take.
	ReadTimeout string `toml:"read_timeout" json:"read_timeout" comment:"most time a client may take to send a request's body, e.g. \"30s\" (responses are not bounded)"`
	// IdleTimeout closes a kept-alive connection that sends no request.
	IdleTimeout string `toml:"idle_timeout" json:"idle_timeout" comment:"close a kept-alive connection idle this long, e.g. \"2m\""`
	// MaxConnections bounds the open connections; more wait to be accepted.
	MaxConnections int `toml:"max_connections" json:"max_connections" comment:"most open HTTP connections; more wait in the listen queue until one closes"`
	// PublicGateway lets any request for /content/ fetch from the network
	// what is not held here. Off, only requests from the API's own origin,
	// from tools that are not browsers, or with a token do.
	PublicGateway bool `toml:"public_gateway" json:"public_gateway" comment:"let any web page make this node fetch content it does not hold (off: only same-origin, non-browser or token-bearing requests)"`
}

// P2PConfig configures the node's libp2p host and protocols.
type P2PConfig struct {
	// Listen are the multiaddrs the host listens on (`daemon --listen` overrides).
	Listen []string `toml:"listen" json:"listen" comment:"multiaddrs to listen on (TCP and QUIC); daemon --listen overrides"`
	// Bootstrap are peers (multiaddrs ending in /p2p/<peer id>) dialled at start.
	Bootstrap []string `toml:"bootstrap" json:"bootstrap" comment:"peers to dial at start: multiaddrs ending in /p2p/<peer id>"`
	// MDNS finds peers on the local network.
	MDNS bool `toml:"mdns" json:"mdns" comment:"discover peers on the local network with mDNS"`
	// NATPortMap asks the router for a port mapping (UPnP, NAT-PMP).
	NATPortMap bool `toml:"nat_port_map" json:"nat_port_map" comment:"ask the router for a port mapping (UPnP / NAT-PMP)"`
	// ConnLow and ConnHigh are the connection manager's watermarks: above
	// high it trims connections down to low.
	ConnLow  int `toml:"conn_low" json:"conn_low" comment:"connection manager low watermark"`
	ConnHigh int `toml:"conn_high" json:"conn_high" comment:"connection manager high watermark (the resource manager allows more)"`
	// ReprovideInterval is how often provider records are announced again.
	ReprovideInterval string `toml:"reprovide_interval" json:"reprovide_interval" comment:"how often DHT provider records are re-announced, e.g. \"12h\""`
	// UploadPerPeer bounds the bytes per second served to one peer ("0" = no bound).
	UploadPerPeer string `toml:"upload_per_peer" json:"upload_per_peer" comment:"most bytes per second served to one peer, e.g. \"50 MB\"; \"0\" means no bound"`
	// Exchange bounds what the shard exchange serves over all peers.
	Exchange ExchangeConfig `toml:"exchange" json:"exchange"`
}

// StorageConfig configures the content store.
type StorageConfig struct {
	// Quota bounds the bytes of shard data stored ("0" = unlimited), in
	// human units: "500 GB", "2 TiB".
	Quota string `toml:"quota" json:"quota" comment:"maximum shard bytes stored, e.g. \"500 GB\" or \"2 TiB\"; \"0\" means no limit"`
	// ChunkSize is the default shard size for add, in bytes (1 KiB to 4 MiB).
	ChunkSize int `toml:"chunk_size" json:"chunk_size" comment:"default shard size in bytes for add (1024 to 4194304)"`
	// MappedMemory bounds the daemon's resident file-backed memory before
	// the store releases the pages of its memory-mapped files ("0" =
	// never); see storage.Config.MappedMemory.
	MappedMemory string `toml:"mapped_memory" json:"mapped_memory" comment:"resident memory of the store's memory-mapped files above which the daemon releases their pages to the kernel's page cache, e.g. \"256 MiB\"; \"0\" leaves them to the kernel"`
}

// defaultMappedMemory is storage.mapped_memory's default. With
// runtime.memory_limit's it keeps the daemon's RSS under 1 GiB at 10^6
// contributions, through a snapshot cut and verify (docs/operations.md,
// Memory).
const defaultMappedMemory = "256 MiB"

// RuntimeConfig configures the Go runtime of the daemon process.
type RuntimeConfig struct {
	// MemoryLimit is the Go runtime's soft memory limit (GOMEMLIMIT):
	// near it the garbage collector runs more often rather than let the
	// heap grow to twice what is live. "0" = none. A GOMEMLIMIT in the
	// daemon's environment takes precedence.
	MemoryLimit string `toml:"memory_limit" json:"memory_limit" comment:"soft limit of the daemon's Go memory (GOMEMLIMIT), e.g. \"640 MiB\": near it the garbage collector runs more often; \"0\" means none; a GOMEMLIMIT environment variable takes precedence"`
}

// defaultMemoryLimit is runtime.memory_limit's default: at 10^6
// contributions it held the daemon's own memory at 558-598 MiB through a
// snapshot cut and verify (938 MiB without), well above the 0.4 GiB it
// holds once the store is open (docs/operations.md, Memory).
const defaultMemoryLimit = "640 MiB"

// ChainConfig names the EVM chain that signed objects are bound to and
// anchored on.
type ChainConfig struct {
	// ID is the EIP-712 domain chain ID of Datanets this node creates.
	ID uint64 `toml:"id" json:"id" comment:"chain ID named in the EIP-712 domain of Datanets this node creates (1337 = embedded dev chain)"`
	// RPC is an EVM JSON-RPC endpoint (http, https, ws, wss or an IPC
	// path); empty means the embedded dev chain.
	RPC string `toml:"rpc" json:"rpc" comment:"EVM JSON-RPC endpoint (empty = the embedded dev chain under $REPO/chain; none = no chain, no anchoring)"`
	// AnchorRegistry and RewardsDistributor are the contracts' addresses
	// on that chain (openledger chain deploy writes them).
	AnchorRegistry     string `toml:"anchor_registry" json:"anchor_registry" comment:"address of the AnchorRegistry contract (openledger chain deploy writes it)"`
	RewardsDistributor string `toml:"rewards_distributor" json:"rewards_distributor" comment:"address of the RewardsDistributor contract"`
	// Confirmations is how many blocks after its own an anchor waits for.
	Confirmations uint64 `toml:"confirmations" json:"confirmations" comment:"blocks to wait after an anchor's block before its proofs are final"`
}

// The OPEN L2's public endpoints (an OP Stack rollup; OPEN is the gas token).
const (
	OpenMainnetChainID = 1612
	OpenMainnetRPC     = "https://rpc.openledger.xyz"
	OpenTestnetChainID = 161201
	OpenTestnetRPC     = "https://rpctn.openledger.xyz"
)

// LogConfig configures logging.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `toml:"level" json:"level" comment:"debug, info, warn or error"`
}

// DefaultConfig is the configuration `openledger init` writes.
func DefaultConfig() Config {
	return Config{
		API:     defaultAPIConfig(),
		Storage: StorageConfig{Quota: "0", ChunkSize: storage.DefaultChunkSize, MappedMemory: defaultMappedMemory},
		P2P: P2PConfig{
			Listen: []string{
				"/ip4/0.0.0.0/tcp/4180", "/ip4/0.0.0.0/udp/4180/quic-v1",
				"/ip6/::/tcp/4180", "/ip6/::/udp/4180/quic-v1",
			},
			Bootstrap:         []string{},
			MDNS:              true,
			NATPortMap:        true,
			ConnLow:           64,
			ConnHigh:          192,
			ReprovideInterval: "12h",
			UploadPerPeer:     "0",
			Exchange:          defaultExchangeConfig(),
		},
		Chain:       ChainConfig{ID: DevChainID},
		Runtime:     RuntimeConfig{MemoryLimit: defaultMemoryLimit},
		Attribution: defaultAttributionConfig(),
		Rewards:     defaultRewardsConfig(),
		Log:         LogConfig{Level: "info"},
	}
}

// Profiles are named starting configurations for `openledger init --profile`.
var Profiles = map[string]string{
	"default":      "a node on the public network: fixed ports 4180 (TCP and QUIC), mDNS on the LAN",
	"test":         "a node for tests and local devnets: loopback only, ports picked by the OS, no mDNS, no NAT port mapping",
	"open-mainnet": "the default network node, bound to and anchoring on the OPEN L2 mainnet (chain 1612); add a funded key and run openledger chain deploy",
	"open-testnet": "the default network node on the OPEN L2 testnet (chain 161201)",
}

// ProfileConfig returns the configuration of a profile.
func ProfileConfig(name string) (Config, error) {
	c := DefaultConfig()
	switch name {
	case "", "default":
	case "test":
		c.API.Address = "127.0.0.1:0"
		c.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
		c.P2P.MDNS = false
		c.P2P.NATPortMap = false
		c.Chain.RPC = "none" // tests that anchor set a chain themselves
	case "open-mainnet":
		c.Chain = ChainConfig{ID: OpenMainnetChainID, RPC: OpenMainnetRPC, Confirmations: 2}
	case "open-testnet":
		c.Chain = ChainConfig{ID: OpenTestnetChainID, RPC: OpenTestnetRPC, Confirmations: 2}
	default:
		return Config{}, fmt.Errorf("unknown profile %q (want default, test, open-mainnet or open-testnet)", name)
	}
	return c, nil
}

// Validate reports the first invalid field; it never fills in defaults.
func (c Config) Validate() error {
	if _, err := c.QuotaBytes(); err != nil {
		return err
	}
	if _, err := c.MappedMemoryBytes(); err != nil {
		return err
	}
	if _, err := c.MemoryLimitBytes(); err != nil {
		return err
	}
	if err := storage.CheckChunkSize(c.Storage.ChunkSize); err != nil {
		return fmt.Errorf("config storage.chunk_size: %w", err)
	}
	if err := c.API.validate(); err != nil {
		return fmt.Errorf("config api.%w", err)
	}
	for _, root := range c.API.AddRoots {
		if !filepath.IsAbs(root) {
			return fmt.Errorf("config api.add_roots: %q is not an absolute directory", root)
		}
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		return fmt.Errorf("config log.level: %w", err)
	}
	if err := c.P2P.validate(); err != nil {
		return fmt.Errorf("config p2p.%w", err)
	}
	if c.Chain.ID == 0 {
		return errors.New("config chain.id: must not be 0")
	}
	if err := c.Attribution.params().Validate(); err != nil {
		return fmt.Errorf("config attribution: %w", err)
	}
	if _, err := c.Rewards.params(); err != nil {
		return err
	}
	return c.Chain.validate()
}

func (c ChainConfig) validate() error {
	if c.RPC != "" && c.RPC != "none" {
		u, err := url.Parse(c.RPC)
		switch {
		case err != nil:
			return fmt.Errorf("config chain.rpc %q: %w", c.RPC, err)
		case u.Scheme == "" && !strings.HasPrefix(c.RPC, "/"):
			return fmt.Errorf("config chain.rpc %q: want an http(s):// or ws(s):// URL or an absolute IPC path", c.RPC)
		case u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss":
			return fmt.Errorf("config chain.rpc %q: scheme %q, want http, https, ws or wss", c.RPC, u.Scheme)
		}
	}
	for name, a := range map[string]string{"anchor_registry": c.AnchorRegistry, "rewards_distributor": c.RewardsDistributor} {
		if a != "" && !common.IsHexAddress(a) {
			return fmt.Errorf("config chain.%s %q: not an address", name, a)
		}
	}
	return nil
}

// QuotaBytes parses Storage.Quota.
func (c Config) QuotaBytes() (int64, error) {
	return storageBytes("quota", c.Storage.Quota)
}

// MappedMemoryBytes parses Storage.MappedMemory.
func (c Config) MappedMemoryBytes() (int64, error) {
	return storageBytes("mapped_memory", c.Storage.MappedMemory)
}

// MemoryLimitBytes parses Runtime.MemoryLimit.
func (c Config) MemoryLimitBytes() (int64, error) {
	return sizeSetting("runtime.memory_limit", c.Runtime.MemoryLimit)
}

// ApplyMemoryLimit sets the Go runtime's soft memory limit of this process
// to runtime.memory_limit, unless that is "0" or the environment sets
// GOMEMLIMIT (which the runtime read at start). It returns the limit in
// force (math.MaxInt64: none) and where it came from: "config",
// "environment" or "none". The daemon command calls it; a node in a test
// process leaves the process's limit alone.
func ApplyMemoryLimit(c Config) (limit int64, from string, err error) {
	n, err := c.MemoryLimitBytes()
	if err != nil {
		return 0, "", err
	}
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		return debug.SetMemoryLimit(-1), "environment", nil
	case n == 0:
		return debug.SetMemoryLimit(-1), "none", nil
	}
	debug.SetMemoryLimit(n)
	return n, "config", nil
}

// storageBytes parses the storage.name setting v (sizeSetting).
func storageBytes(name, v string) (int64, error) {
	return sizeSetting("storage."+name, v)
}

// sizeSetting parses the setting name's value v, a size in human units
// where "" and "0" mean 0.
func sizeSetting(name, v string) (int64, error) {
	q := strings.TrimSpace(v)
	if q == "" || q == "0" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(q)
	if err != nil {
		return 0, fmt.Errorf("config %s %q: %w", name, v, err)
	}
	if n > 1<<62 {
		return 0, fmt.Errorf("config %s %q: too large", name, v)
	}
	return int64(n), nil
}

func (p P2PConfig) validate() error {
	for _, a := range append(append([]string{}, p.Listen...), p.Bootstrap...) {
		if _, err := multiaddr.NewMultiaddr(a); err != nil {
			return fmt.Errorf("listen/bootstrap %q: %w", a, err)
		}
	}
	if p.ConnLow <= 0 || p.ConnHigh < p.ConnLow {
		return fmt.Errorf("conn_low/conn_high: want 0 < low <= high, have %d, %d", p.ConnLow, p.ConnHigh)
	}
	if _, err := p.reprovide(); err != nil {
		return err
	}
	if _, err := p.uploadPerPeer(); err != nil {
		return err
	}
	return p.Exchange.validate()
}

func (p P2PConfig) reprovide() (time.Duration, error) {
	d, err := time.ParseDuration(p.ReprovideInterval)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("reprovide_interval %q: want a duration of at least 1m", p.ReprovideInterval)
	}
	return d, nil
}

func (p P2PConfig) uploadPerPeer() (int64, error) {
	s := strings.TrimSpace(p.UploadPerPeer)
	if s == "" || s == "0" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n > 1<<40 {
		return 0, fmt.Errorf("upload_per_peer %q: want bytes per second like \"50 MB\"", p.UploadPerPeer)
	}
	return int64(n), nil
}

// ParseLogLevel maps a level name to a slog level.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", addr)
	}
	return nil
}

// LoadConfig reads and validates a config file. Unknown keys are an error, so
// a typo does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		if se, ok := errors.AsType[*toml.StrictMissingError](err); ok {
			var keys []string
			for _, e := range se.Errors {
				keys = append(keys, strings.Join(e.Key(), "."))
			}
			return Config{}, fmt.Errorf("%s: unknown keys %s", path, strings.Join(keys, ", "))
		}
		return Config{}, fmt.Errorf("parse %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// MarshalTOML renders the config with its field comments.
func (c Config) MarshalTOML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# openledger node configuration. Every key is explained by its comment and in the README (Configuration).\n")
	enc := toml.NewEncoder(&buf)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeConfig(path string, c Config) error {
	data, err := c.MarshalTOML()
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return atomicfile.WriteFile(path, data, 0o600)
}
