package p2p

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dsq "github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"

	"github.com/openledger/openledger/storage"
	"github.com/openledger/openledger/storage/datastore"
)

// startNode builds and starts a node of cfg outside a testNet, so that a
// test can close it and start another with the same identity and store.
func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg, newMemObjects())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProviderRecordsSurviveRestart: a DHT server whose provider records
// are in Badger still answers with a record after a restart, while its
// provider is gone; with the records in memory (the control) it has none.
func TestProviderRecordsSurviveRestart(t *testing.T) {
	for _, persistent := range []bool{true, false} {
		name := map[bool]string{true: "badger", false: "memory"}[persistent]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			cfg := testConfig(t)
			if persistent {
				if cfg.ProviderStore, err = datastore.New(store, "/dht"); err != nil {
					t.Fatal(err)
				}
			}
			tn := newTestNet(t, 1, nil) // node 0 provides
			server := startNode(t, cfg)
			provider := tn.nodes[0]
			if _, err := provider.Connect(ctx, server.Addrs()[0].String()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, func() bool {
				return provider.dht.RoutingTable().Size() > 0 && server.dht.RoutingTable().Size() > 0
			}, "routing tables")
			c := objCID(mkObj(testDatanet("restart"), "provided"))
			if err := provider.Provide(ctx, c); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, func() bool { return server.Stats().ProviderRecordsReceived > 0 },
				"the server to take the record")
			if err := provider.Close(); err != nil {
				t.Fatal(err)
			}
			if err := server.Close(); err != nil {
				t.Fatal(err)
			}

			server = startNode(t, cfg) // same identity, same store
			finder := tn.nodes[tn.add()]
			if _, err := finder.Connect(ctx, server.Addrs()[0].String()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, func() bool { return finder.dht.RoutingTable().Size() > 0 }, "routing table")
			provs, err := finder.FindProviders(ctx, c, 5)
			found := slices.ContainsFunc(provs, func(ai peer.AddrInfo) bool { return ai.ID == provider.ID() })
			switch {
			case persistent && !found:
				t.Fatalf("after the server's restart: providers %v, %v; want %s", provs, err, provider.ID())
			case !persistent && !errors.Is(err, ErrNotFound):
				t.Fatalf("records in memory, after a restart: providers %v, %v; want none", provs, err)
			}
		})
	}
}

// TestProviderRecordsExpire: with the records in Badger, a record older
// than its validity is not served, and kad-dht's collector deletes it from
// the store.
func TestProviderRecordsExpire(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dstore, err := datastore.New(store, "/dht")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	const validity = 300 * time.Millisecond
	pm, err := records.NewProviderManager(testPeerID(t), ps, dstore,
		records.ProvideValidity(validity), records.CleanupInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	prov := peer.AddrInfo{ID: testPeerID(t)}
	// More than the manager buffers, so that records reach the store.
	keys := 300
	for i := range keys {
		if err := pm.AddProvider(ctx, benchKey(i), prov); err != nil {
			t.Fatal(err)
		}
	}
	added := time.Now()
	stored := func() int {
		res, err := dstore.Query(ctx, dsq.Query{Prefix: records.ProvidersKeyPrefix, KeysOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		all, err := res.Rest()
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	if got, err := pm.GetProviders(ctx, benchKey(1)); err != nil || len(got) != 1 {
		t.Fatalf("fresh record: %v, %v", got, err)
	}
	if n := stored(); n == 0 {
		t.Fatal("no record reached the store")
	}
	waitFor(t, 10*time.Second, func() bool { return time.Since(added) > validity && stored() == 0 },
		"the collector to delete expired records")
	if got, err := pm.GetProviders(ctx, benchKey(299)); err != nil || len(got) != 0 {
		t.Fatalf("expired record served: %v, %v", got, err)
	}
}
