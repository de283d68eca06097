package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/openledger/openledger/p2p/exchange"
)

func TestExchangeConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*ExchangeConfig)
		want   string
	}{
		"default":     {func(*ExchangeConfig) {}, ""},
		"units":       {func(c *ExchangeConfig) { c.Memory = "1 GB" }, ""},
		"too small":   {func(c *ExchangeConfig) { c.Memory = "1 MiB" }, "p2p.exchange.memory"},
		"not bytes":   {func(c *ExchangeConfig) { c.Memory = "plenty" }, "p2p.exchange.memory"},
		"no streams":  {func(c *ExchangeConfig) { c.MaxStreams = 0 }, "p2p.exchange.max_streams"},
		"one stream":  {func(c *ExchangeConfig) { c.MaxStreams = 1 }, ""},
		"empty entry": {func(c *ExchangeConfig) { c.Memory = "" }, "p2p.exchange.memory"},
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c.P2P.Exchange)
			err := c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
	if d := DefaultConfig().P2P.Exchange; d.Memory != "64 MiB" || d.MaxStreams != 1024 {
		t.Errorf("default exchange config %+v", d)
	}
}

func TestBadPeerScore(t *testing.T) {
	nw := &network{badPeers: map[peer.ID]badPeer{}}
	const p, q = peer.ID("damaged"), peer.ID("garbler")
	bad := fmt.Errorf("%w: shard x", exchange.ErrBadData)
	nw.reportBad(p, bad)
	if s := nw.appScore(p); s != badShardScore {
		t.Errorf("after one bad shard: %v, want %v", s, badShardScore)
	}
	for range 20 {
		nw.reportBad(p, bad)
	}
	if s := nw.appScore(p); s != badPeerFloor {
		t.Errorf("after 21 bad shards: %v, want %v", s, badPeerFloor)
	}
	nw.reportBad(q, fmt.Errorf("%w: response out of order", exchange.ErrProtocol))
	if s := nw.appScore(q); s != badPeerFloor {
		t.Errorf("after a protocol violation: %v, want %v", s, badPeerFloor)
	}
	nw.badPeers[p] = badPeer{score: badPeerFloor, last: time.Now().Add(-badPeerPenalty)}
	if s := nw.appScore(p); s != 0 {
		t.Errorf("an hour after the last report: %v, want 0", s)
	}
}
