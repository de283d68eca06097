package daemon

import (
	"fmt"

	"github.com/dustin/go-humanize"

	"github.com/openledger/openledger/p2p/exchange"
)

// ExchangeConfig bounds what the shard exchange serves over all peers at
// once (peer identities are free, so per-peer bounds alone bound nothing).
type ExchangeConfig struct {
	// Memory is the most shard bytes read and not yet sent, over all
	// streams (exchange.ServerConfig.MaxBytesInFlight).
	Memory string `toml:"memory" json:"memory" comment:"most shard bytes the exchange holds for all peers at once, e.g. \"64 MiB\" (at least 4 MiB)"`
	// MaxStreams is the most streams served at once
	// (exchange.ServerConfig.MaxStreams).
	MaxStreams int `toml:"max_streams" json:"max_streams" comment:"most shard exchange streams served at once, over all peers"`
}

func defaultExchangeConfig() ExchangeConfig {
	d := exchange.DefaultServerConfig()
	return ExchangeConfig{Memory: humanize.IBytes(uint64(d.MaxBytesInFlight)), MaxStreams: d.MaxStreams}
}

func (c ExchangeConfig) validate() error {
	if _, err := c.memory(); err != nil {
		return err
	}
	if c.MaxStreams < 1 {
		return fmt.Errorf("exchange.max_streams is %d, want at least 1", c.MaxStreams)
	}
	return nil
}

func (c ExchangeConfig) memory() (int64, error) {
	n, err := humanize.ParseBytes(c.Memory)
	if err != nil || n < exchange.MaxShardSize || n > 1<<40 {
		return 0, fmt.Errorf("exchange.memory %q: want bytes like \"64 MiB\", at least %s", c.Memory, humanize.IBytes(exchange.MaxShardSize))
	}
	return int64(n), nil
}

// apply sets the bounds in cfg; c has been validated.
func (c ExchangeConfig) apply(cfg *exchange.ServerConfig) {
	cfg.MaxBytesInFlight, _ = c.memory()
	cfg.MaxStreams = c.MaxStreams
}
