package p2p

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// waitRoutingTables waits until every node's DHT knows at least min peers.
func (tn *testNet) waitRoutingTables(min int) {
	tn.t.Helper()
	waitFor(tn.t, 20*time.Second, func() bool {
		for _, n := range tn.nodes {
			if n.dht.RoutingTable().Size() < min {
				return false
			}
		}
		return true
	}, "DHT routing tables of %d peers", min)
}

func TestDHTProvideFind(t *testing.T) {
	tn := newTestNet(t, 5, nil)
	tn.line(0, 4) // the provider and the finder are 4 hops apart
	tn.waitRoutingTables(1)
	obj := mkObj(testDatanet("dht"), "a contribution")
	c := objCID(obj)
	ctx := context.Background()
	if err := tn.nodes[0].Provide(ctx, c); err != nil {
		t.Fatal(err)
	}
	// ADD_PROVIDER is fire-and-forget: the records land shortly after
	// Provide returns.
	var provs []peer.AddrInfo
	waitFor(t, 10*time.Second, func() bool {
		provs, _ = tn.nodes[4].FindProviders(ctx, c, 5)
		return slices.ContainsFunc(provs, func(ai peer.AddrInfo) bool { return ai.ID == tn.nodes[0].ID() })
	}, "node 4 to find node 0 among the providers")
	// The provider finds others, not itself.
	if provs, err := tn.nodes[0].FindProviders(ctx, c, 5); !errors.Is(err, ErrNotFound) {
		t.Errorf("the only provider looking for others: %v, %v", provs, err)
	}
	// And the object can be fetched from the providers found.
	tn.objs[0].add(t, obj)
	data, err := tn.nodes[4].FetchObject(ctx, c, nil)
	if err != nil || string(data) != string(obj) {
		t.Fatalf("fetch from providers: %q, %v", data, err)
	}
}

// TestDHTOneRecordPerDataset: a dataset of 10,000 shards costs exactly one
// provider record, for its object CID; shards cannot be provided at all.
func TestDHTOneRecordPerDataset(t *testing.T) {
	tn := newTestNet(t, 6, nil)
	tn.sparse(6, 4)
	tn.waitRoutingTables(2)
	ctx := context.Background()
	shards, dataset := testDataset(t, "dataset", 10000)

	p := tn.nodes[0]
	if err := p.Provide(ctx, dataset); err != nil {
		t.Fatal(err)
	}
	for _, s := range shards {
		if err := p.Provide(ctx, s); !errors.Is(err, ErrShardCID) {
			t.Fatalf("provide shard: %v", err)
		}
	}
	if got := p.Stats().Provided; got != 1 {
		t.Errorf("node provides %d records, want 1", got)
	}
	// Every ADD_PROVIDER the network received (they land shortly after
	// Provide returns) was for the dataset's CID: as many requests as
	// nodes holding its record, besides the provider itself.
	var received uint64
	holders := 0
	waitFor(t, 10*time.Second, func() bool {
		received, holders = 0, 0
		for _, n := range tn.nodes {
			received += n.Stats().ProviderRecordsReceived
			if provs, _ := n.dht.ProviderStore().GetProviders(ctx, dataset.Hash()); len(provs) > 0 {
				holders++
			}
		}
		return received > 0 && int(received) == holders-1
	}, "the record's replicas to land")
	for _, n := range tn.nodes {
		for _, s := range shards[:100] {
			if provs, _ := n.dht.ProviderStore().GetProviders(ctx, s.Hash()); len(provs) > 0 {
				t.Fatalf("a shard has a provider record")
			}
		}
	}
	t.Logf("one record, replicated on %d of %d nodes", holders, len(tn.nodes))
}

// testDataset returns the shard CIDs of a dataset and the CID of the
// object that lists them.
func testDataset(t testing.TB, name string, n int) (shards []cid.Cid, dataset cid.Cid) {
	t.Helper()
	manifest := []byte(name + "|")
	for i := range n {
		mh, err := multihash.Sum(fmt.Appendf(nil, "%s shard %d", name, i), multihash.SHA2_256, -1)
		if err != nil {
			t.Fatal(err)
		}
		c := cid.NewCidV1(cid.Raw, mh)
		shards = append(shards, c)
		manifest = append(manifest, c.Bytes()...)
	}
	return shards, objCID(manifest)
}

func TestDHTFindProvidersNotFound(t *testing.T) {
	const timeout = 3 * time.Second
	tn := newTestNet(t, 4, nil, func(_ int, cfg *Config) { cfg.FindProvidersTimeout = timeout })
	tn.line(0, 3)
	tn.waitRoutingTables(1)
	start := time.Now()
	provs, err := tn.nodes[3].FindProviders(context.Background(), objCID([]byte("nobody provides this")), 5)
	if !errors.Is(err, ErrNotFound) || len(provs) != 0 {
		t.Fatalf("got %v, %v; want ErrNotFound", provs, err)
	}
	if d := time.Since(start); d > timeout+time.Second {
		t.Errorf("took %v, bound is %v", d, timeout)
	}
}

// TestReprovide: provided CIDs are announced again on the timer, and no
// longer once StopProviding forgets them.
func TestReprovide(t *testing.T) {
	tn := newTestNet(t, 3, nil, func(_ int, cfg *Config) { cfg.ReprovideInterval = 100 * time.Millisecond })
	tn.line(0, 2)
	tn.waitRoutingTables(1)
	n := tn.nodes[0]
	c := objCID([]byte("reprovided"))
	if err := n.Provide(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return n.Stats().Provides >= 3 }, "two re-provides")
	n.StopProviding(c)
	if got := n.Stats().Provided; got != 0 {
		t.Errorf("still providing %d", got)
	}
}

// TestReprovideKeys: with Config.ProvideKeys the node re-provides what the
// function lists on each round, keeps no set of its own, and Reprovide
// announces them at once; a peer then finds the provider.
func TestReprovideKeys(t *testing.T) {
	keys := []cid.Cid{objCID([]byte("one")), objCID([]byte("two")), objCID([]byte("three"))}
	var rounds atomic.Int32
	tn := newTestNet(t, 3, nil, func(i int, cfg *Config) {
		if i == 0 {
			cfg.ReprovideInterval = time.Hour // Reprovide below, not the timer
			cfg.ProvideKeys = func(context.Context) iter.Seq2[cid.Cid, error] {
				rounds.Add(1)
				return func(yield func(cid.Cid, error) bool) {
					for _, c := range keys {
						if !yield(c, nil) {
							return
						}
					}
				}
			}
		}
	})
	tn.line(0, 2)
	tn.waitRoutingTables(1)
	n := tn.nodes[0]
	if err := n.Reprovide(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rounds.Load() != 1 || n.Stats().Provided != len(keys) || n.Stats().Provides < uint64(len(keys)) {
		t.Fatalf("after Reprovide: %d rounds, stats %+v", rounds.Load(), n.Stats())
	}
	// Provide announces but does not remember: the function is the set.
	extra := objCID([]byte("extra"))
	if err := n.Provide(context.Background(), extra); err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	kept := len(n.provided)
	n.mu.Unlock()
	if kept != 0 {
		t.Fatalf("%d CIDs kept in memory", kept)
	}
	provs, err := tn.nodes[2].FindProviders(context.Background(), keys[1], 5)
	if err != nil || len(provs) != 1 || provs[0].ID != n.ID() {
		t.Fatalf("FindProviders = %v %v", provs, err)
	}
}
