package daemon

import (
	"github.com/openledger/openledger/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus metrics, in a registry of its own (no
// global state), served at /debug/metrics/prometheus.
type metrics struct {
	reg          *prometheus.Registry
	adds         prometheus.Counter
	addErrors    prometheus.Counter
	addBytes     prometheus.Counter
	httpRequests *prometheus.CounterVec
	contentBytes prometheus.Counter
	contentErrs  prometheus.Counter
	fetchedBytes prometheus.Counter
	badPeers     prometheus.Counter
	// fetchedObjects and fetchedObjectBytes count the signed objects
	// fetched by CID (a snapshot's contributions...), verified and stored.
	fetchedObjects     prometheus.Counter
	fetchedObjectBytes prometheus.Counter
	fetchConflicts     prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		adds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_content_adds_total", Help: "Contributions added by this node.",
		}),
		addErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_content_add_errors_total", Help: "Adds that failed and were rolled back.",
		}),
		addBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_content_added_bytes_total", Help: "Bytes of files added in contributions.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openledger_api_http_requests_total", Help: "HTTP API requests by handler and status code.",
		}, []string{"handler", "code"}),
		contentBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_api_content_served_bytes_total", Help: "Verified content bytes served over HTTP.",
		}),
		contentErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_api_content_aborted_total", Help: "Content responses aborted because stored data failed verification.",
		}),
		fetchedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_exchange_fetched_bytes_total", Help: "Verified shard bytes fetched from peers.",
		}),
		badPeers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_exchange_bad_peers_total", Help: "Reports of peers that sent a shard whose bytes did not match, or broke the exchange protocol.",
		}),
		fetchedObjects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_fetch_objects_total", Help: "Signed objects fetched by CID from peers, verified and stored.",
		}),
		fetchedObjectBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_fetch_object_bytes_total", Help: "Bytes of the signed objects fetched by CID from peers.",
		}),
		fetchConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openledger_fetch_put_conflicts_total", Help: "Stores of fetched objects tried again after a transaction conflict.",
		}),
	}
	m.reg.MustRegister(m.adds, m.addErrors, m.addBytes, m.httpRequests, m.contentBytes, m.contentErrs,
		m.fetchedBytes, m.badPeers, m.fetchedObjects, m.fetchedObjectBytes, m.fetchConflicts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchStore adds the store's own counters to the registry.
func (m *metrics) watchStore(s *storage.Store) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "openledger_storage_mapped_releases_total",
		Help: "Times the store released the resident pages of its memory-mapped files (storage.mapped_memory).",
	}, func() float64 { return float64(s.MappedTrims()) }))
}
