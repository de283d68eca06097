package p2p

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// BenchmarkGossipLatency measures how long an announcement takes to be
// stored by each of 49 other nodes (50 in-process nodes on loopback, each
// linked to 2-6 others, plus the links the DHT makes).
func BenchmarkGossipLatency(b *testing.B) {
	const nodes = 50
	tn := newTestNet(b, nodes, nil)
	tn.sparse(50, 80)
	tn.waitMesh(cid.Undef)
	arrived := make(chan struct{}, nodes)
	for _, o := range tn.objs {
		o.mu.Lock()
		o.onPut = func(cid.Cid, []byte) { arrived <- struct{}{} }
		o.mu.Unlock()
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		data := mkNet(fmt.Sprintf("bench announcement %d", i))
		c := objCID(data)
		pub := i % nodes
		i++
		start := time.Now()
		if err := tn.nodes[pub].Publish(context.Background(), cid.Undef, data); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(20 * time.Second)
		for range nodes {
			select {
			case <-arrived:
			case <-timeout:
				b.Fatal("announcement not delivered to every node")
			}
		}
		for k, o := range tn.objs {
			if k != pub {
				o.mu.Lock()
				lat = append(lat, o.putAt[c].Sub(start))
				o.mu.Unlock()
			}
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkProviderRecords measures what a dataset of 10,000 shards costs
// on the DHT: one provider record (for its object CID), stored on a few
// nodes; its shards are never provided.
func BenchmarkProviderRecords(b *testing.B) {
	tn := newTestNet(b, 10, nil)
	tn.sparse(10, 10)
	tn.waitRoutingTables(3)
	p := tn.nodes[0]
	datasets := 0
	for b.Loop() {
		b.StopTimer()
		shards, dataset := testDataset(b, fmt.Sprintf("bench dataset %d", datasets), 10000)
		b.StartTimer()
		if err := p.Provide(context.Background(), dataset); err != nil {
			b.Fatal(err)
		}
		for _, s := range shards {
			if err := p.Provide(context.Background(), s); !errors.Is(err, ErrShardCID) {
				b.Fatal(err)
			}
		}
		datasets++
	}
	var puts uint64
	for _, n := range tn.nodes {
		puts += n.Stats().ProviderRecordsReceived
	}
	b.ReportMetric(float64(p.Stats().Provided)/float64(datasets), "records/dataset")
	b.ReportMetric(float64(puts)/float64(datasets), "dht-replicas/dataset")
}
