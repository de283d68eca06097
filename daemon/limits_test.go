package daemon

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// wideContribution stores on n, as one received from a peer (no shards), a
// signed contribution of files of the given numbers of shards: a listing
// of it is large although the object is a few MiB.
func wideContribution(t *testing.T, n *Node, shards ...int) cid.Cid {
	t.Helper()
	ctx := context.Background()
	owner, err := n.Signer()
	if err != nil {
		t.Fatal(err)
	}
	dn, d, err := n.registry.CreateDatanet(ctx, datanet.DatanetSpec{Name: "wide"}, n.repo.Config.Chain.ID, owner, n.opts.Now())
	if err != nil {
		t.Fatal(err)
	}
	k := &datanet.Contribution{Datanet: dn, Contributor: owner.Address(), ChunkSize: datanet.MinChunkSize,
		License: "CC0-1.0", Created: n.opts.Now().Unix()}
	var body [8]byte
	next := uint64(0)
	for i, count := range shards {
		f := datanet.File{Path: fmt.Sprintf("f%03d.bin", i), Size: uint64(count) * datanet.MinChunkSize}
		for range count {
			binary.BigEndian.PutUint64(body[:], next)
			next++
			f.Shards = append(f.Shards, storage.ShardCID(body[:]))
		}
		k.Files = append(k.Files, f)
		k.Size += f.Size
	}
	tree, err := k.Tree()
	if err != nil {
		t.Fatal(err)
	}
	k.Root = tree.Root()
	if err := datanet.SignContribution(k, d.ChainID, owner); err != nil {
		t.Fatal(err)
	}
	data, err := k.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := n.registry.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	return ch.CID
}

// TestLargeReplies is the attack of issue 12 and its parts: one HTTP batch
// of content_ls calls without a token, each listing megabytes. One
// contribution serves both parts: its first file alone fills a page's
// shard budget.
func TestLargeReplies(t *testing.T) {
	n, _ := testNode(t, nil)
	k := wideContribution(t, n, pageShards, 1) // a page of it was 4 MB and both files
	t.Run("ls page budget", func(t *testing.T) { testLsPageBudget(t, n, k) })
	t.Run("batch limits", func(t *testing.T) { testBatchLimits(t, n, k) })
}

// testLsPageBudget checks that a page of content_ls stops once its shard
// CIDs reach pageShards, and that next walks every file.
func testLsPageBudget(t *testing.T, n *Node, k cid.Cid) {
	rc := n.InProc()
	defer rc.Close()
	api := NewAPI(rc)
	var pages [][]string
	page := &PageArgs{Limit: datanet.MaxPage}
	for range 3 {
		ls, err := api.ContentLs(context.Background(), k.String(), page)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range ls.Files {
			paths = append(paths, f.Path)
		}
		pages = append(pages, paths)
		if ls.Next == "" {
			break
		}
		page.After = ls.Next
	}
	if got := fmt.Sprint(pages); got != "[[f000.bin] [f001.bin]]" {
		t.Fatalf("pages %s, want the first file alone (it fills the budget), then the second", got)
	}
}

// heapPeak samples the live heap until stop is called and returns the
// highest it saw.
func heapPeak() (stop func() uint64) {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			rtmetrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// testBatchLimits checks that a batch of more than rpcBatchItems calls is
// refused whole, and that a full one stops running calls once its replies
// pass rpcBatchReplyBytes, the rest answering "response too large", so the
// reply and the heap stay bounded.
func testBatchLimits(t *testing.T, n *Node, k cid.Cid) {
	call := func(i int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"content_ls","params":[%q,{"limit":1000}]}`, i, k.String())
	}
	batch := func(size int) string {
		calls := make([]string, size)
		for i := range calls {
			calls[i] = call(i)
		}
		return "[" + strings.Join(calls, ",") + "]"
	}

	code, body := httpCall(t, n, "", batch(rpcBatchItems+1))
	if code != 200 || !strings.Contains(body, "batch too large") || len(body) > 4096 {
		t.Fatalf("a batch of %d calls: %d %.300s", rpcBatchItems+1, code, body)
	}

	runtime.GC()
	base := heapPeak()()
	stop := heapPeak()
	code, body = httpCall(t, n, "", batch(rpcBatchItems))
	peak := stop()
	if code != 200 {
		t.Fatalf("a full batch: %d %.300s", code, body)
	}
	var replies []struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &replies); err != nil {
		t.Fatal(err)
	}
	answered, refused := 0, 0
	for _, r := range replies {
		switch {
		case r.Error == nil:
			answered++
		case r.Error.Code == -32003 && r.Error.Message == "response too large":
			refused++
		default:
			t.Fatalf("call %d: %+v", r.ID, r.Error)
		}
	}
	if len(replies) != rpcBatchItems || answered == 0 || refused == 0 {
		t.Fatalf("%d replies, %d answered, %d refused as too large", len(replies), answered, refused)
	}
	if max := rpcBatchReplyBytes + 8<<20; len(body) > max {
		t.Fatalf("the batch's reply is %d bytes, over %d", len(body), max)
	}
	grew := int64(peak) - int64(base)
	t.Logf("full batch: %d calls answered, %d refused, reply %.1f MiB, live heap +%.0f MiB",
		answered, refused, float64(len(body))/(1<<20), float64(grew)/(1<<20))
	if grew > 256<<20 {
		t.Fatalf("the live heap grew by %d MiB for one batch", grew>>20)
	}
}
