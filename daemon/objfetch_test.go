package daemon

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// seededSigner returns a signer whose key is derived from name.
func seededSigner(t testing.TB, name string) datanet.Signer {
	t.Helper()
	sum := sha256.Sum256([]byte("openledger daemon test " + name))
	key, err := crypto.ToECDSA(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return datanet.NewKeySigner(key)
}

// curatedData is a Datanet built on one node for a fetch: n contributions,
// each accepted by the votes of two curators.
type curatedData struct {
	dn       cid.Cid
	contribs []cid.Cid
	votes    []cid.Cid
	bytes    int64 // of the contributions and votes
}

// buildCurated makes, signs and stores on p a Datanet of n accepted
// contributions (two votes each), as objects received from peers are
// stored (registry.Put: no gossip, no provider records). Signing is spread
// over the cores.
func buildCurated(t testing.TB, p *Node, n int) curatedData {
	t.Helper()
	ctx := context.Background()
	contributor := seededSigner(t, "contributor")
	curators := []datanet.Signer{seededSigner(t, "curator 1"), seededSigner(t, "curator 2")}
	owner, err := p.Signer()
	if err != nil {
		t.Fatal(err)
	}
	now := p.opts.Now()
	spec := datanet.DatanetSpec{
		Name: "fetched", Quorum: 2, ThresholdBps: 5001, Window: 3600,
		Curators: []datanet.Curator{{Address: curators[0].Address(), Weight: 1}, {Address: curators[1].Address(), Weight: 1}},
	}
	dn, d, err := p.registry.CreateDatanet(ctx, spec, p.repo.Config.Chain.ID, owner, now)
	if err != nil {
		t.Fatal(err)
	}
	out := curatedData{dn: dn, contribs: make([]cid.Cid, n), votes: make([]cid.Cid, 2*n)}
	encoded := make([][3][]byte, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				objs, err := signedContribution(d, dn, contributor, curators, now, i)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				encoded[i] = objs
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	// Stored 1,024 contributions and their votes at a time (PutMany
	// checks each vote against its contribution in the same batch).
	const batch = 1024
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		var data [][]byte
		for _, objs := range encoded[lo:hi] {
			data = append(data, objs[:]...)
		}
		res, err := p.registry.PutMany(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range res {
			i, k := lo+j/3, j%3
			if r.Err != nil {
				t.Fatalf("store object %d of contribution %d: %v", k, i, r.Err)
			}
			if k == 0 {
				out.contribs[i] = r.Checked.CID
			} else {
				out.votes[2*i+k-1] = r.Checked.CID
			}
			out.bytes += int64(len(data[j]))
		}
		for i := lo; i < hi; i++ {
			encoded[i] = [3][]byte{} // stored: let it go
		}
	}
	return out
}

// signedContribution returns the encodings of contribution i of dn and of
// the two curators' approvals of it.
func signedContribution(d *datanet.Datanet, dn cid.Cid, who datanet.Signer, curators []datanet.Signer, now time.Time, i int) ([3][]byte, error) {
	var out [3][]byte
	body := fmt.Appendf(nil, "contribution %d", i)
	k := &datanet.Contribution{
		Datanet: dn, Contributor: who.Address(), Size: uint64(len(body)), ChunkSize: datanet.MinChunkSize,
		License: "CC0-1.0", Created: now.Unix(),
		Files: []datanet.File{{Path: fmt.Sprintf("c%d.txt", i), Size: uint64(len(body)), Shards: []cid.Cid{storage.ShardCID(body)}}},
	}
	tree, err := k.Tree()
	if err != nil {
		return out, err
	}
	k.Root = tree.Root()
	if err := datanet.SignContribution(k, d.ChainID, who); err != nil {
		return out, err
	}
	if out[0], err = k.Encode(); err != nil {
		return out, err
	}
	kc, err := k.CID()
	if err != nil {
		return out, err
	}
	for j, c := range curators {
		v := &datanet.Vote{Datanet: dn, Contribution: kc, Curator: c.Address(), Decision: datanet.Approve, Created: now.Unix()}
		if err := datanet.SignVote(v, d.ChainID, c); err != nil {
			return out, err
		}
		if out[1+j], err = v.Encode(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// cutSnapshot cuts and stores on p a snapshot of dn.
func cutSnapshot(t testing.TB, p testPeer, dn cid.Cid) cid.Cid {
	t.Helper()
	var s SnapshotView
	if err := p.rpc.Call(&s, "snapshot_cut", dn.String()); err != nil {
		t.Fatal(err)
	}
	c, err := cid.Decode(s.CID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFetchSnapshot: a second node fetches a snapshot of many
// contributions from the node that cut it, with one provider lookup, and
// stores every object (each checked by the registry, so the Datanet before
// the contributions and those before the snapshot); a second fetch finds
// everything stored.
func TestFetchSnapshot(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 200
	}
	net := newTestNet(t, 2)
	a, b := net[0], net[1]
	b.connect(t, a)
	data := buildCurated(t, a.n, n)
	snap := cutSnapshot(t, a, data.dn)
	ctx := context.Background()

	start := time.Now()
	f, err := b.n.fetchObjectGraph(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fetched a snapshot of %d contributions: %d objects, %d bytes in %v", n, f.objects.Load(), f.bytes.Load(), time.Since(start))
	for _, c := range append([]cid.Cid{snap, data.dn}, data.contribs...) {
		has, err := b.n.registry.Has(ctx, c)
		if err != nil || !has {
			t.Fatalf("%s not stored after the fetch (%v)", c, err)
		}
	}
	// The Datanet may have come by gossip already; everything else came by
	// this fetch.
	if got := f.objects.Load(); got < int64(n+1) {
		t.Errorf("fetch stored %d objects, want at least %d", got, n+1)
	}
	f, err = b.n.fetchObjectGraph(ctx, snap)
	if err != nil || f.objects.Load() != 1 {
		// The root is fetched to look at it again, nothing else.
		t.Fatalf("second fetch: %d objects, %v", f.objects.Load(), err)
	}
}
