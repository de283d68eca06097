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

// Options tune a build. The zero value is a valid choice: three curators
// of weight 1, quorum 2, two approving votes on each contribution.
type Options struct {
	// Seed picks the keys, the payloads and so the CIDs: two builds with
	// the same seed, options and n make the same objects.
	Seed uint64
	// Contributors is how many keys sign the contributions (default 4).
	Contributors int
	// Curators is how many curators the first version names, each of
	// weight 1 (default 3, at most 8).
	Curators int
	// Quorum and ThresholdBps are the policy's (defaults 2, at most
	// Curators, and 5001).
	Quorum       uint64
	ThresholdBps uint32
	// Window is the voting window in seconds (default 0: none).
	Window uint64
	// Votes is how many curators vote on each contribution (default 2,
	// at most Curators; negative: none), in turn; every third vote
	// rejects when Mixed is set, else all approve.
	Votes int
	Mixed bool
	// Update adds a second version of the Datanet that appoints one more
	// curator, who votes on every contribution too: those votes can only
	// be judged once the update is held.
	Update bool
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
	if o.Curators <= 0 {
		o.Curators = 3
	}
	o.Curators = min(o.Curators, 8)
	if o.Quorum == 0 {
		o.Quorum = 2
	}
	o.Quorum = min(o.Quorum, uint64(o.Curators))
	if o.ThresholdBps == 0 {
		o.ThresholdBps = 5001
	}
	switch {
	case o.Votes == 0:
		o.Votes = 2
	case o.Votes < 0:
		o.Votes = 0
	}
	o.Votes = min(o.Votes, o.Curators)
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
	Curators []datanet.Signer // of the first version, weight 1 each; then the one the update appoints
	Datanet  *datanet.Datanet // the first version
	Update   cid.Cid          // the second version, if Options.Update
	Objects  int              // 1 + n + n·Votes (+ 1 + n with Update)
	Bytes    int64            // the encoded size of every object
	n        int              // contributions
	opts     Options          // with defaults
	contribs []datanet.Signer // sign contributions, in turn
	sizes    atomic.Int64     // bytes of the objects made so far
}

// Item is one object Generate makes, with what it depends on.
type Item struct {
	Data []byte
	// Contribution is the index of the contribution it is or votes on,
	// -1 for a version of the Datanet.
	Contribution int
	// Vote is -1 for the contribution itself, else which of its votes.
	Vote int
	// NeedsUpdate marks a vote by the curator the update appoints.
	NeedsUpdate bool
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

func sortCurators(cs []datanet.Curator) {
	slices.SortFunc(cs, func(a, b datanet.Curator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
}

func encodeSigned(tb testing.TB, what string, obj datanet.Object) ([]byte, cid.Cid) {
	tb.Helper()
	data, err := obj.Encode()
	if err != nil {
		tb.Fatalf("bignet: encode %s: %v", what, err)
	}
	c, err := datanet.ObjectCID(data)
	if err != nil {
		tb.Fatalf("bignet: %s CID: %v", what, err)
	}
	return data, c
}

// newNet makes the keys and the signed versions of the Datanet of a
// build.
func newNet(tb testing.TB, n int, opts Options) (*Net, [][]byte) {
	tb.Helper()
	opts.defaults()
	net := &Net{n: n, opts: opts, Objects: 1 + n + n*opts.Votes}
	if opts.Update {
		net.Objects += 1 + n
	}
	net.Owner = datanet.NewKeySigner(key(tb, opts.Seed, 0))
	var curators []datanet.Curator
	for i := range opts.Curators + 1 {
		s := datanet.NewKeySigner(key(tb, opts.Seed, 1+i))
		net.Curators = append(net.Curators, s)
		if i < opts.Curators {
			curators = append(curators, datanet.Curator{Address: s.Address(), Weight: 1})
		}
	}
	if !opts.Update {
		net.Curators = net.Curators[:opts.Curators]
	}
	sortCurators(curators)
	for i := range opts.Contributors {
		net.contribs = append(net.contribs, datanet.NewKeySigner(key(tb, opts.Seed, 16+i)))
	}
	d := &datanet.Datanet{
		Name:         opts.Name,
		Kinds:        []string{"txt"},
		Curators:     curators,
		Quorum:       opts.Quorum,
		ThresholdBps: opts.ThresholdBps,
		Window:       opts.Window,
		ChainID:      ChainID,
		Created:      opts.Created.Unix(),
	}
	if err := datanet.SignDatanet(d, net.Owner); err != nil {
		tb.Fatalf("bignet: sign the datanet: %v", err)
	}
	data, id := encodeSigned(tb, "the datanet", d)
	net.ID, net.Datanet = id, d
	versions := [][]byte{data}
	if opts.Update {
		u := *d
		u.Curators = append(slices.Clone(curators), datanet.Curator{Address: net.Curators[opts.Curators].Address(), Weight: 1})
		sortCurators(u.Curators)
		u.Seq, u.Prev, u.Created, u.Signature = 1, id, d.Created+1, nil
		if err := datanet.SignDatanet(&u, net.Owner); err != nil {
			tb.Fatalf("bignet: sign the update: %v", err)
		}
		data, net.Update = encodeSigned(tb, "the update", &u)
		versions = append(versions, data)
	}
	for _, v := range versions {
		net.sizes.Add(int64(len(v)))
	}
	return net, versions
}

// contribution returns the i-th contribution and its votes.
func (net *Net) contribution(i int) ([]Item, error) {
	created := net.opts.Created.Unix() + 2 + int64(i)
	var seed [16]byte
	binary.BigEndian.PutUint64(seed[:8], net.opts.Seed)
	binary.BigEndian.PutUint64(seed[8:], uint64(i))
	digest := sha256.Sum256(seed[:])
	mh, err := multihash.Encode(digest[:], multihash.SHA2_256)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	data, err := k.Encode()
	if err != nil {
		return nil, err
	}
	kc, err := datanet.ObjectCID(data)
	if err != nil {
		return nil, err
	}
	items := []Item{{Data: data, Contribution: i, Vote: -1}}
	voters := make([]int, 0, net.opts.Votes+1)
	for j := range net.opts.Votes {
		voters = append(voters, (i+j)%net.opts.Curators)
	}
	if net.opts.Update {
		voters = append(voters, net.opts.Curators)
	}
	for j, c := range voters {
		v := &datanet.Vote{
			Datanet:      net.ID,
			Contribution: kc,
			Decision:     datanet.Approve,
			Created:      created + 1 + int64(j),
		}
		if net.opts.Mixed && (i+j)%3 == 2 {
			v.Decision = datanet.Reject
		}
		if err := datanet.SignVote(v, ChainID, net.Curators[c]); err != nil {
			return nil, err
		}
		data, err := v.Encode()
		if err != nil {
			return nil, err
		}
		items = append(items, Item{Data: data, Contribution: i, Vote: j, NeedsUpdate: c == net.opts.Curators})
	}
	for _, it := range items {
		net.sizes.Add(int64(len(it.Data)))
	}
	return items, nil
}

// Generate makes the objects of a Datanet of n contributions and calls fn
// with each, in an order that respects dependencies: the Datanet's
// versions first, then each contribution before its votes. fn is called
// from opts.Workers goroutines at once (the versions alone, before the
// others).
func Generate(tb testing.TB, n int, opts Options, fn func(Item) error) *Net {
	tb.Helper()
	net, versions := newNet(tb, n, opts)
	for _, v := range versions {
		if err := fn(Item{Data: v, Contribution: -1, Vote: -1}); err != nil {
			tb.Fatalf("bignet: the datanet: %v", err)
		}
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
				items, err := net.contribution(i)
				for _, it := range items {
					if err != nil {
						break
					}
					err = fn(it)
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
// order Generate gives them with one worker.
func Objects(tb testing.TB, n int, opts Options) (*Net, []Item) {
	tb.Helper()
	opts.Workers = 1
	var out []Item
	net := Generate(tb, n, opts, func(it Item) error {
		out = append(out, it)
		return nil
	})
	return net, out
}

// Build stores a Datanet of n contributions in reg, as if received from
// the network (Registry.Put: checked, stored, pinned), and returns it.
// With the default options that is three curators and 2n approving votes.
// It never holds the objects all at once.
//
// Objects are stored a batch at a time (Registry.PutMany), each batch by
// the worker that fills it; an object whose dependency is in a batch not
// stored yet is stored with a later batch.
func Build(tb testing.TB, reg *datanet.Registry, n int, opts Options) *Net {
	tb.Helper()
	ctx := context.Background()
	var (
		mu    sync.Mutex
		buf   [][]byte // guarded by mu
		later [][]byte // guarded by mu
	)
	put := func(batch [][]byte) error {
		res, err := reg.PutMany(ctx, batch)
		if err != nil {
			return err
		}
		for i, r := range res {
			switch {
			case r.Err == nil:
			case datanet.CannotJudgeYet(r.Err):
				mu.Lock()
				later = append(later, batch[i])
				mu.Unlock()
			default:
				return r.Err
			}
		}
		return nil
	}
	net := Generate(tb, n, opts, func(it Item) error {
		if it.Contribution < 0 {
			_, err := reg.Put(ctx, it.Data) // a version of the Datanet: alone, first
			return err
		}
		mu.Lock()
		buf = append(buf, it.Data)
		var batch [][]byte
		if len(buf) >= buildBatch {
			batch, buf = buf, nil
		}
		mu.Unlock()
		if batch == nil {
			return nil
		}
		return put(batch)
	})
	for round := 0; len(buf)+len(later) > 0; round++ {
		if round > 16 {
			tb.Fatalf("bignet: %d objects could not be stored", len(later))
		}
		batch := append(buf, later...)
		buf, later = nil, nil
		if err := put(batch); err != nil {
			tb.Fatalf("bignet: %v", err)
		}
	}
	return net
}

// buildBatch is how many objects Build stores at once.
const buildBatch = 1024
