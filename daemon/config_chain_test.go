package daemon

import (
	"strings"
	"testing"
)

func TestChainProfiles(t *testing.T) {
	for _, tt := range []struct {
		profile string
		id      uint64
		rpc     string
	}{
		{"default", DevChainID, ""},
		{"open-mainnet", 1612, "https://rpc.openledger.xyz"},
		{"open-testnet", 161201, "https://rpctn.openledger.xyz"},
	} {
		c, err := ProfileConfig(tt.profile)
		if err != nil {
			t.Fatal(err)
		}
		if c.Chain.ID != tt.id || c.Chain.RPC != tt.rpc {
			t.Errorf("%s: chain %+v, want id %d rpc %q", tt.profile, c.Chain, tt.id, tt.rpc)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tt.profile, err)
		}
		if _, ok := Profiles[tt.profile]; !ok {
			t.Errorf("%s is not listed in Profiles", tt.profile)
		}
	}
}

func TestChainConfigRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*ChainConfig)
		want   string
	}{
		{"ftp endpoint", func(c *ChainConfig) { c.RPC = "ftp://example.org" }, "scheme"},
		{"relative ipc path", func(c *ChainConfig) { c.RPC = "geth.ipc" }, "absolute IPC path"},
		{"bad registry address", func(c *ChainConfig) { c.AnchorRegistry = "0x1234" }, "anchor_registry"},
		{"bad distributor address", func(c *ChainConfig) { c.RewardsDistributor = "nope" }, "rewards_distributor"},
	} {
		c := DefaultConfig()
		tt.change(&c.Chain)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want an error about %s", tt.name, err, tt.want)
		}
	}
	c := DefaultConfig()
	c.Chain.RPC, c.Chain.AnchorRegistry = "/tmp/geth.ipc", "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	if err := c.Validate(); err != nil {
		t.Errorf("IPC path and a registry address: %v", err)
	}
}
