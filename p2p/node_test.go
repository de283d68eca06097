package p2p

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"test config", func(*Config) {}, true},
		{"defaults with identity", func(c *Config) {
			id := c.Identity
			*c = DefaultConfig()
			c.Identity = id
			// go-libp2p's UPnP discovery outlives the host by seconds.
			c.NATPortMap = false
		}, true},
		{"no identity", func(c *Config) { c.Identity = nil }, false},
		{"watermarks inverted", func(c *Config) { c.ConnLow, c.ConnHigh = 10, 10 }, false},
		{"negative low watermark", func(c *Config) { c.ConnLow = -1 }, false},
		{"no reprovide interval", func(c *Config) { c.ReprovideInterval = 0 }, false},
		{"no sync interval", func(c *Config) { c.SyncInterval = 0 }, false},
		{"no sync timeout", func(c *Config) { c.SyncTimeout = 0 }, false},
		{"no sync max objects", func(c *Config) { c.SyncMaxObjects = 0 }, false},
		{"no message size", func(c *Config) { c.MaxMessageSize = 0 }, false},
		{"huge message size", func(c *Config) { c.MaxMessageSize = 1 << 30 }, false},
		{"object below message size", func(c *Config) { c.MaxObjectSize = c.MaxMessageSize - 1 }, false},
		{"no request timeout", func(c *Config) { c.RequestTimeout = 0 }, false},
		{"no find timeout", func(c *Config) { c.FindProvidersTimeout = 0 }, false},
		{"no listen address", func(c *Config) { c.ListenAddrs = nil }, false},
		{"bad listen address", func(c *Config) { c.ListenAddrs = []string{"tcp/4180"} }, false},
		{"bootstrap without peer id", func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4180"} }, false},
		{"bootstrap ok", func(c *Config) {
			c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4180/p2p/12D3KooWCH1cCyhja4kq8WrVhuiEhQSCHVagUfZ94gGFpBEiBDkT"}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.edit(&cfg)
			n, err := New(cfg, newMemObjects())
			if tt.ok != (err == nil) {
				t.Fatalf("New: %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrConfig) {
					t.Errorf("error %v does not wrap ErrConfig", err)
				}
				return
			}
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := New(testConfig(t), nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil objects: %v", err)
	}
}

// TestHostLimitsAgree: the resource manager always lets connections reach
// the connection manager's high watermark, inbound ones included.
func TestHostLimitsAgree(t *testing.T) {
	for _, high := range []int{10, 96, DefaultConnHigh, 2000, 20000} {
		sys := hostLimits(high).ToPartialLimitConfig().System
		for name, v := range map[string]rcmgr.LimitVal{"conns": sys.Conns, "inbound": sys.ConnsInbound, "outbound": sys.ConnsOutbound} {
			if v != rcmgr.Unlimited && int(v) <= high {
				t.Errorf("high %d: system %s limit %d does not exceed it", high, name, v)
			}
		}
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	dn := testDatanet("lifecycle")
	t.Run("close before start", func(t *testing.T) {
		n, err := New(testConfig(t), newMemObjects())
		if err != nil {
			t.Fatal(err)
		}
		if n.Host() == nil || n.ID() == "" {
			t.Fatal("host and ID must be usable before Start")
		}
		if err := n.Join(ctx, dn); !errors.Is(err, ErrNotStarted) {
			t.Errorf("join before start: %v", err)
		}
		if _, err := n.Sync(ctx, dn); !errors.Is(err, ErrNotStarted) {
			t.Errorf("sync before start: %v", err)
		}
		if err := n.Provide(ctx, objCID([]byte("x"))); !errors.Is(err, ErrNotStarted) {
			t.Errorf("provide before start: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("start after close: %v", err)
		}
	})
	t.Run("close twice and use after close", func(t *testing.T) {
		n, err := New(testConfig(t), newMemObjects(dn))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err == nil {
			t.Error("started twice")
		}
		if err := n.Join(ctx, dn); err != nil {
			t.Fatal(err)
		}
		if len(n.Addrs()) == 0 || !strings.Contains(n.Addrs()[0].String(), "/p2p/"+n.ID().String()) {
			t.Errorf("addrs %v", n.Addrs())
		}
		for range 2 {
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
		}
		calls := map[string]error{
			"join":      n.Join(ctx, testDatanet("other")),
			"publish":   n.Publish(ctx, dn, mkObj(dn, "x")),
			"provide":   n.Provide(ctx, objCID([]byte("x"))),
			"leave":     n.Leave(dn),
			"fetch":     second(n.FetchObject(ctx, objCID([]byte("x")), nil)),
			"sync":      second(n.Sync(ctx, dn)),
			"providers": second(n.FindProviders(ctx, objCID([]byte("x")), 1)),
			"connect":   second(n.Connect(ctx, "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWCH1cCyhja4kq8WrVhuiEhQSCHVagUfZ94gGFpBEiBDkT")),
		}
		for name, err := range calls {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after close: %v", name, err)
			}
		}
	})
	t.Run("close cuts blocking calls short", func(t *testing.T) {
		tn := newTestNet(t, 2, []cid.Cid{dn}, func(_ int, cfg *Config) { cfg.FindProvidersTimeout = time.Minute })
		tn.connect(0, 1)
		tn.waitRoutingTables(1)
		done := make(chan error, 1)
		go func() {
			_, err := tn.nodes[0].FindProviders(ctx, objCID([]byte("nobody")), 1)
			done <- err
		}()
		if err := tn.nodes[0].Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotFound) {
				t.Errorf("find providers cut by close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end a blocking call")
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestConnectErrors(t *testing.T) {
	tn := newTestNet(t, 1, nil)
	n := tn.nodes[0]
	tests := []struct {
		name    string
		addr    string
		wantErr error
	}{
		{"not a multiaddr", "localhost:4180", ErrBadAddr},
		{"no peer id", "/ip4/127.0.0.1/tcp/4180", ErrBadAddr},
		{"self", n.Addrs()[0].String(), ErrBadAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := n.Connect(context.Background(), tt.addr); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestPeersAndBootstrap(t *testing.T) {
	tn := newTestNet(t, 1, nil)
	boot := tn.nodes[0]
	// A node configured with boot as its bootstrap peer connects by itself.
	tn.opts = append(tn.opts, func(_ int, cfg *Config) { cfg.Bootstrap = []string{boot.Addrs()[0].String()} })
	i := tn.add()
	waitFor(t, 10*time.Second, func() bool {
		ps := tn.nodes[i].Peers()
		// Identify stores the protocols and the agent one after the
		// other: wait for both.
		return len(ps) == 1 && ps[0].ID == boot.ID() && len(ps[0].Protocols) > 0 && ps[0].Agent != ""
	}, "the bootstrap connection, identified")
	p := tn.nodes[i].Peers()[0]
	if p.Agent != "openledger" || len(p.Addrs) == 0 {
		t.Errorf("peer info %+v", p)
	}
}

// TestPackageDoc: doc.go says what the package owns and what it must not
// do, and documents the wire format.
func TestPackageDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"It owns:", "It must not decide policy", string(SyncProtocol), AnnouncementsTopic, "frame = "} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("doc.go does not mention %q", want)
		}
	}
}
