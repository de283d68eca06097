// Package datastore is a go-datastore (ds.Batching) over one namespace of
// a storage.Store's index key space, for the libp2p parts that keep records
// in a go-datastore: the DHT's provider records live in the node's Badger,
// on disk (they survive a restart), and a lookup of one key's records is a
// prefix seek of Badger's sorted keys, not a scan of every record (as with
// the DHT's default in-memory map).
//
// A datastore key k is stored at index key namespace + k (the index space
// is the store's prefix x; a namespace starts with '/', which the datanet
// registry's one-letter prefixes never do). Values are stored as given.
// It owns no resources: Close does nothing, and the Store must outlive it.
// Durability is the Store's (Sync does nothing more).
package datastore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"

	"github.com/openledger/openledger/storage"
)

// queryPage is how many entries a query reads per Badger transaction: a
// query of a million records holds neither a transaction open for long nor
// the records in memory.
const queryPage = 256

// maxBatchOps is how many writes of a batch go in one transaction.
const maxBatchOps = 1024

// Datastore is a ds.Batching over a namespace of a Store's index key
// space. It is safe for concurrent use.
type Datastore struct {
	s  *storage.Store
	ns []byte
}

var _ ds.Batching = (*Datastore)(nil)

// New returns the datastore of namespace (such as "/dht") in s's index
// key space.
func New(s *storage.Store, namespace string) (*Datastore, error) {
	if s == nil {
		return nil, errors.New("datastore: nil store")
	}
	if !strings.HasPrefix(namespace, "/") || path.Clean(namespace) != namespace || namespace == "/" {
		return nil, fmt.Errorf("datastore: namespace %q: want a clean path such as /dht", namespace)
	}
	return &Datastore{s: s, ns: []byte(namespace)}, nil
}

func (d *Datastore) key(k ds.Key) []byte {
	return append(append(make([]byte, 0, len(d.ns)+len(k.String())), d.ns...), k.String()...)
}

// Get returns the value of key, or ds.ErrNotFound.
func (d *Datastore) Get(ctx context.Context, key ds.Key) (value []byte, err error) {
	err = d.s.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		value, err = tx.Get(d.key(key))
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ds.ErrNotFound
	}
	return value, err
}

// Has reports whether key is set.
func (d *Datastore) Has(ctx context.Context, key ds.Key) (bool, error) {
	_, err := d.Get(ctx, key)
	if errors.Is(err, ds.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// GetSize returns the size of key's value, or ds.ErrNotFound.
func (d *Datastore) GetSize(ctx context.Context, key ds.Key) (int, error) {
	v, err := d.Get(ctx, key)
	if err != nil {
		return -1, err
	}
	return len(v), nil
}

// Put sets key to value.
func (d *Datastore) Put(ctx context.Context, key ds.Key, value []byte) error {
	return d.s.UpdateIndex(ctx, func(tx *storage.IndexTxn) error { return tx.Set(d.key(key), value) })
}

// Delete deletes key; a missing key is not an error.
func (d *Datastore) Delete(ctx context.Context, key ds.Key) error {
	return d.s.UpdateIndex(ctx, func(tx *storage.IndexTxn) error { return tx.Delete(d.key(key)) })
}

// Sync does nothing: writes are as durable as the Store makes them.
func (d *Datastore) Sync(context.Context, ds.Key) error { return nil }

// Close does nothing: the Store is its owner's to close.
func (d *Datastore) Close() error { return nil }

// Query returns the entries under q.Prefix, read from Badger page by page
// from a seek to the prefix; filters, orders, offset and limit are applied
// as go-datastore's naive implementation does.
func (d *Datastore) Query(ctx context.Context, q dsq.Query) (dsq.Results, error) {
	prefix := "/"
	if q.Prefix != "" {
		prefix = path.Clean("/" + q.Prefix)
	}
	if prefix != "/" {
		prefix += "/" // /bar finds /bar/baz, not /barbaz
	}
	scan := append(bytes.Clone(d.ns), prefix...)
	var (
		page []dsq.Entry
		next = scan // where the next page starts
		done bool
	)
	fill := func() error {
		page = page[:0]
		return d.s.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			done = true
			return tx.Scan(scan, next, false, func(k, v []byte) (bool, error) {
				if len(page) == queryPage {
					next = bytes.Clone(k)
					done = false
					return false, nil
				}
				e := dsq.Entry{Key: string(k[len(d.ns):]), Size: len(v)}
				if !q.KeysOnly {
					e.Value = bytes.Clone(v)
				}
				page = append(page, e)
				return true, nil
			})
		})
	}
	if err := fill(); err != nil {
		return nil, err
	}
	it := dsq.Iterator{
		Next: func() (dsq.Result, bool) {
			for len(page) == 0 {
				if done {
					return dsq.Result{}, false
				}
				if err := fill(); err != nil {
					done = true
					return dsq.Result{Error: err}, true
				}
			}
			e := page[0]
			page = page[1:]
			return dsq.Result{Entry: e}, true
		},
	}
	naive := q
	naive.Prefix = "" // applied by the seek
	return dsq.NaiveQueryApply(naive, dsq.ResultsFromIterator(q, it)), nil
}

// Batch returns a batch whose writes are applied by Commit, in order, a
// transaction per maxBatchOps writes.
func (d *Datastore) Batch(context.Context) (ds.Batch, error) { return &batch{d: d}, nil }

type batch struct {
	d   *Datastore
	ops []batchOp
}

type batchOp struct {
	key    []byte
	value  []byte
	delete bool
}

func (b *batch) Put(_ context.Context, key ds.Key, value []byte) error {
	b.ops = append(b.ops, batchOp{key: b.d.key(key), value: bytes.Clone(value)})
	return nil
}

func (b *batch) Delete(_ context.Context, key ds.Key) error {
	b.ops = append(b.ops, batchOp{key: b.d.key(key), delete: true})
	return nil
}

func (b *batch) Commit(ctx context.Context) error {
	for len(b.ops) > 0 {
		chunk := b.ops[:min(len(b.ops), maxBatchOps)]
		err := b.d.s.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
			for _, op := range chunk {
				var err error
				if op.delete {
					err = tx.Delete(op.key)
				} else {
					err = tx.Set(op.key, op.value)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("datastore: commit batch: %w", err)
		}
		b.ops = b.ops[len(chunk):]
	}
	return nil
}
