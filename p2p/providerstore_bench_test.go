package p2p

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	"github.com/multiformats/go-multihash"

	"github.com/openledger/openledger/storage"
	"github.com/openledger/openledger/storage/datastore"
)

// BenchmarkProviderLookup: the work of a DHT server answering one
// GET_PROVIDERS (kad-dht's ProviderManager.GetProviders) when it holds
// records provider records, one per key, for random keys it holds, with
// the records in kad-dht's default in-memory map and in Badger
// (storage/datastore). ns/op is the serving node's CPU per query: one
// goroutine, no I/O wait once Badger's tables are cached.
func BenchmarkProviderLookup(b *testing.B) {
	for _, store := range []string{"memory", "badger"} {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("store=%s/records=%d", store, n), func(b *testing.B) {
				var dstore ds.Batching = dssync.MutexWrap(ds.NewMapDatastore())
				if store == "badger" {
					s, err := storage.Open(storage.DefaultConfig(filepath.Join(b.TempDir(), "store")))
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					if dstore, err = datastore.New(s, "/dht"); err != nil {
						b.Fatal(err)
					}
				}
				ps, err := pstoremem.NewPeerstore()
				if err != nil {
					b.Fatal(err)
				}
				defer ps.Close()
				self := testPeerID(b)
				pm, err := records.NewProviderManager(self, ps, dstore)
				if err != nil {
					b.Fatal(err)
				}
				defer pm.Close()
				ctx := context.Background()
				prov := peer.AddrInfo{ID: testPeerID(b)}
				for i := range n {
					if err := pm.AddProvider(ctx, benchKey(i), prov); err != nil {
						b.Fatal(err)
					}
				}
				r := rand.New(rand.NewPCG(1, 2))
				b.ReportAllocs()
				for b.Loop() {
					got, err := pm.GetProviders(ctx, benchKey(r.IntN(n)))
					if err != nil || len(got) != 1 {
						b.Fatalf("providers %v, %v", got, err)
					}
				}
			})
		}
	}
}

func testPeerID(tb testing.TB) peer.ID {
	tb.Helper()
	key, _, err := crypto.GenerateEd25519Key(crand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// benchKey is the multihash of the i-th key, as the DHT keys records.
func benchKey(i int) []byte {
	mh, err := multihash.Sum(binary.BigEndian.AppendUint64(nil, uint64(i)), multihash.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 is always registered
	}
	return mh
}
