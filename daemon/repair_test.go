package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage/storagetest"
)

func httpGet(t *testing.T, n *Node, path string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + ContentPath + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v: %.200s", path, resp.Status, err, body)
	}
	return body
}

// TestRepairDamagedShards flips a byte of three stored shards of node b
// (real Badger, on disk, daemon stopped), then: (a) reading the file
// through the HTTP API, as get does, drops the bad copy and fetches a good
// one from a, which holds the contribution; (b) adding the file again
// repairs it; (c) repo_verify with repair drops the last one, fetches it
// from a and reports it.
func TestRepairDamagedShards(t *testing.T) {
	dir := initTestRepo(t, nil)
	var stop func()
	start := func() (*Node, testPeer) {
		n, _, closeNode := startNodeAt(t, dir, Options{Version: "test"})
		c := n.InProc()
		stop = func() {
			c.Close()
			closeNode()
		}
		return n, testPeer{n: n, rpc: c}
	}
	t.Cleanup(func() { stop() })
	a := newTestNet(t, 1)[0]

	// b adds three files of three shards each; a fetches them.
	bn, b := start()
	var dn DatanetView
	if err := b.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "repair"}); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	files := make([][]byte, 3)
	for i := range files {
		files[i] = make([]byte, 2<<20+100)
		rand.Read(files[i])
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d.bin", i)), files[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var added AddResult
	if err := b.rpc.Call(&added, "content_add", AddArgs{Paths: []string{src}, Datanet: dn.ID}); err != nil {
		t.Fatal(err)
	}
	a.connect(t, b)
	var fetched FetchResult
	if err := a.rpc.Call(&fetched, "content_fetch", added.CID); err != nil || fetched.Fetched != 9 {
		t.Fatalf("a fetches the contribution: %+v, %v", fetched, err)
	}

	// Damage the second shard of each file in b's store: stop b, open it
	// once more so the value-log file is not the newest (see
	// storagetest.FlipByte), and flip a byte in the files.
	stop()
	start()
	stop()
	var markers [][]byte
	victims := map[string]int{}
	for i, f := range added.Files {
		victims[f.Shards[1]] = i
		markers = append(markers, storagetest.Marker(files[i][1<<20:2<<20]))
	}
	storagetest.FlipByte(t, filepath.Join(dir, DatastoreDir), markers...)
	bn, b = start()
	b.connect(t, a)
	var vr VerifyResult
	if err := b.rpc.Call(&vr, "repo_verify"); err != nil || len(vr.Faults) != 3 {
		t.Fatalf("repo_verify after the damage: %+v, %v; want 3 faults", vr, err)
	}

	// (a) get: the fetch finds every shard stored; the read finds the
	// damage, drops the copy and fetches a good one from a.
	if err := b.rpc.Call(&fetched, "content_fetch", added.CID); err != nil || fetched.Fetched != 0 {
		t.Fatalf("content_fetch on b: %+v, %v", fetched, err)
	}
	path := added.CID + "/" + added.Files[0].Path
	begin := time.Now()
	if got := httpGet(t, bn, path); !bytes.Equal(got, files[0]) {
		t.Fatalf("GET of the damaged file: %d bytes, not the file", len(got))
	}
	repaired := time.Since(begin)
	begin = time.Now()
	httpGet(t, bn, path)
	t.Logf("GET of a 2 MiB file with one damaged shard, repaired from a peer: %v; again, intact: %v",
		repaired.Round(time.Microsecond), time.Since(begin).Round(time.Microsecond))

	// (b) adding the file again replaces the damaged copy.
	var again AddResult
	if err := b.rpc.Call(&again, "content_add", AddArgs{Paths: []string{filepath.Join(src, "f1.bin")}, Datanet: dn.ID}); err != nil {
		t.Fatal(err)
	}

	// (c) repo_verify with repair: only the third is left; it is dropped,
	// fetched from a, and reported.
	begin = time.Now()
	if err := b.rpc.Call(&vr, "repo_verify", VerifyArgs{Repair: true}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	if len(vr.Faults) != 1 || victims[vr.Faults[0].CID] != 2 || vr.Faults[0].Repair != repairRepaired {
		t.Fatalf("repo_verify with repair: %+v, want the third file's shard, repaired", vr.Faults)
	}
	t.Logf("repo_verify with repair of one damaged shard (9 shards rehashed): %v", took.Round(time.Microsecond))
	if err := b.rpc.Call(&vr, "repo_verify"); err != nil || len(vr.Faults) != 0 {
		t.Fatalf("repo_verify after the repairs: %+v, %v", vr, err)
	}
	for i, f := range added.Files {
		if got := httpGet(t, bn, added.CID+"/"+f.Path); !bytes.Equal(got, files[i]) {
			t.Errorf("file %d differs after the repairs", i)
		}
	}
	c, _ := cid.Parse(added.Files[2].Shards[1])
	if has, err := bn.store.HasShard(context.Background(), c); err != nil || !has {
		t.Errorf("the repaired shard is not stored: %v", err)
	}
}

// BenchmarkRefetchShard is the network part of repairing a damaged shard:
// fetching one 1 MiB shard from a connected peer, verifying and storing it.
// Run it with -benchtime at most 64x, so every shard fetched is missing.
func BenchmarkRefetchShard(b *testing.B) {
	net := newTestNet(b, 2)
	a, c := net[0], net[1]
	c.connect(b, a)
	var dn DatanetView
	if err := a.rpc.Call(&dn, "datanet_create", datanet.DatanetSpec{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "data.bin")
	data := make([]byte, 64<<20)
	rand.Read(data)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		b.Fatal(err)
	}
	var added AddResult
	if err := a.rpc.Call(&added, "content_add", AddArgs{Paths: []string{file}, Datanet: dn.ID}); err != nil {
		b.Fatal(err)
	}
	shards := added.Files[0].Shards
	ctx := context.Background()
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s, err := cid.Parse(shards[i%len(shards)])
		if err != nil {
			b.Fatal(err)
		}
		if err := c.n.refetchShard(ctx, s); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
