// Package bignet builds large Datanets in-process for tests and
// benchmarks: a Datanet with three curators, n small contributions and two
// approving votes on each, signed directly (not through the RPC or the
// CLI) with a handful of keys.
//
// It owns nothing a node runs. Contributions name one shard each, which is
// not stored: sync, curation and snapshots do not need shard bytes.
package bignet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/openledger/openledger/datanet"
)

// ChainID is the EIP-712 chain ID of the objects built here.
const ChainID = 161201

// Created is the default creation time of a Datanet built here; its
// contributions follow one second apart, each vote a second after its
// contribution, all in the past.
var Created = time.Unix(1_700_000_000, 0)

// Options tune a build. The zero value is a valid choice.
type Options struct {
	// Seed picks the keys, the payloads and so the CIDs: two builds with
	// the same seed and n make the same objects.
	Seed uint64
	// Contributors is how many keys sign the contributions (default 4).
	Contributors int
	// Created is the Datanet's creation time (default Created).
	Created time.Time
	// Name is the Datanet's name (default "bignet <seed>").
	Name string
	// Workers sign and store in parallel (default GOMAXPROCS).
	Workers int
}

func (o *Options) defaults() {
	if o.Contributors <= 0 {
		o.Contributors = 4
	}
	if o.Created.IsZero() {
		o.Created = Created
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("bignet %d", o.Seed)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
}

// Net describes a built Datanet.
type Net struct {
	ID       cid.Cid          // the Datanet ID
	Owner    datanet.Signer   // signs the Datanet
	Curators []datanet.Signer // three, weight 1 each; quorum 2
	Datanet  *datanet.Datanet // the first (only) version
	Objects  int              // 1 + n + 2n
	Bytes    int64            // the encoded size of every object
	n        int              // contributions
	opts     Options          // with defaults
	contribs []datanet.Signer // sign contributions, in turn
	sizes    atomic.Int64     // bytes of the objects made so far
}

// key derives the i-th key of a build.
func key(tb testing.TB, seed uint64, i int) *ecdsa.PrivateKey {
	tb.Helper()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	for {
		h := sha256.Sum256(b[:])
		k, err := crypto.ToECDSA(h[:])
		if err == nil {
			return k
		}
		b[0]++ // not a valid scalar (about 2^-128): try the next
	}
}

// newNet makes the keys and the signed Datanet object of a build.
func newNet(tb testing.TB, n int, opts Options) (*Net, []byte) {
	tb.Helper()
	opts.defaults()
	net := &Net{n: n, opts: opts, Objects: 1 + 3*n}
	net.Owner = datanet.NewKeySigner(key(tb, opts.Seed, 0))
	var curators []datanet.Curator
	for i := range 3 {
		s := datanet.NewKeySigner(key(tb, opts.Seed, 1+i))
		net.Curators = append(net.Curators, s)
		curators = append(curators, datanet.Curator{Address: s.Address(), Weight: 1})
	}
	slices.SortFunc(curators, func(a, b datanet.Curator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	for i := range opts.Contributors {
		net.contribs = append(net.contribs, datanet.NewKeySigner(key(tb, opts.Seed, 4+i)))
	}
	d := &datanet.Datanet{
		Name:         opts.Name,
		Kinds:        []string{"txt"},
		Curators:     curators,
		Quorum:       2,
		ThresholdBps: 5001,
		ChainID:      ChainID,
		Created:      opts.Created.Unix(),
	}
	if err := datanet.SignDatanet(d, net.Owner); err != nil {
		tb.Fatalf("bignet: sign the datanet: %v", err)
	}
	data, err := d.Encode()
	if err != nil {
		tb.Fatalf("bignet: encode the datanet: %v", err)
	}
	if net.ID, err = datanet.ObjectCID(data); err != nil {
		tb.Fatalf("bignet: datanet CID: %v", err)
	}
	net.Datanet = d
	net.sizes.Add(int64(len(data)))
	return net, data
}

// contribution returns the i-th contribution and its two votes, encoded.
func (net *Net) contribution(i int) (contribution []byte, votes [2][]byte, err error) {
	created := net.opts.Created.Unix() + 1 + int64(i)
	var seed [16]byte
	binary.BigEndian.PutUint64(seed[:8], net.opts.Seed)
	binary.BigEndian.PutUint64(seed[8:], uint64(i))
	digest := sha256.Sum256(seed[:])
	mh, err := multihash.Encode(digest[:], multihash.SHA2_256)
	if err != nil {
		return nil, votes, err
	}
	size := uint64(64 + i%64)
	k := &datanet.Contribution{
		Datanet: net.ID,
		Files: []datanet.File{{
			Path:   fmt.Sprintf("c%d.txt", i),
			Size:   size,
			Shards: []cid.Cid{cid.NewCidV1(cid.Raw, mh)},
		}},
		Root:      sha256.Sum256(digest[:]),
		Size:      size,
		ChunkSize: datanet.MinChunkSize,
		Created:   created,
	}
	if err := datanet.SignContribution(k, ChainID, net.contribs[i%len(net.contribs)]); err != nil {
		return nil, votes, err
	}
	if contribution, err = k.Encode(); err != nil {
		return nil, votes, err
	}
	kc, err := datanet.ObjectCID(contribution)
	if err != nil {
		return nil, votes, err
	}
	for j := range 2 {
		v := &datanet.Vote{
			Datanet:      net.ID,
			Contribution: kc,
			Decision:     datanet.Approve,
			Created:      created + 1 + int64(j),
		}
		if err := datanet.SignVote(v, ChainID, net.Curators[(i+j)%3]); err != nil {
			return nil, votes, err
		}
		if votes[j], err = v.Encode(); err != nil {
			return nil, votes, err
		}
	}
	net.sizes.Add(int64(len(contribution) + len(votes[0]) + len(votes[1])))
	return contribution, votes, nil
}

// Generate makes the objects of a Datanet of n contributions and calls fn
// with each, in an order that respects dependencies: the Datanet first,
// then each contribution before its two votes. fn is called from
// opts.Workers goroutines at once (the Datanet alone, before the others).
func Generate(tb testing.TB, n int, opts Options, fn func(data []byte) error) *Net {
	tb.Helper()
	net, d := newNet(tb, n, opts)
	if err := fn(d); err != nil {
		tb.Fatalf("bignet: the datanet: %v", err)
	}
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Pointer[error]
	)
	for range net.opts.Workers {
		wg.Go(func() {
			for failed.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				k, votes, err := net.contribution(i)
				for _, data := range [][]byte{k, votes[0], votes[1]} {
					if err != nil {
						break
					}
					err = fn(data)
				}
				if err != nil {
					err = fmt.Errorf("contribution %d: %w", i, err)
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatalf("bignet: %v", *err)
	}
	net.Bytes = net.sizes.Load()
	return net
}

// Objects returns the objects of a Datanet of n contributions, in the
// order Generate gives them (within one worker).
func Objects(tb testing.TB, n int, opts Options) (*Net, [][]byte) {
	tb.Helper()
	opts.Workers = 1
	var out [][]byte
	net := Generate(tb, n, opts, func(data []byte) error {
		out = append(out, data)
		return nil
	})
	return net, out
}

// Build stores a Datanet of n contributions and 2n votes in reg, as if
// received from the network (Registry.Put: checked, stored, pinned), and
// returns it. It never holds the objects all at once.
func Build(tb testing.TB, reg *datanet.Registry, n int, opts Options) *Net {
	tb.Helper()
	ctx := context.Background()
	return Generate(tb, n, opts, func(data []byte) error {
		_, err := reg.Put(ctx, data)
		return err
	})
}
