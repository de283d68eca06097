package p2p

import (
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"
)

func TestTCPFirstDialRanker(t *testing.T) {
	var addrs []multiaddr.Multiaddr
	for _, s := range []string{
		"/ip4/192.0.2.1/udp/4180/quic-v1",
		"/ip4/192.0.2.1/tcp/4180",
		"/ip6/2001:db8::1/udp/4180/quic-v1",
		"/ip6/2001:db8::1/tcp/4180",
	} {
		addrs = append(addrs, multiaddr.StringCast(s))
	}
	ranked := tcpFirstDialRanker(addrs)
	if len(ranked) != len(addrs) {
		t.Fatalf("ranked %d of %d addresses", len(ranked), len(addrs))
	}
	for _, r := range ranked {
		if isTCP(r.Addr) && r.Delay != 0 {
			t.Errorf("TCP %s delayed %v", r.Addr, r.Delay)
		}
		if !isTCP(r.Addr) && r.Delay < 250*time.Millisecond {
			t.Errorf("QUIC %s dialled after only %v", r.Addr, r.Delay)
		}
	}
}
