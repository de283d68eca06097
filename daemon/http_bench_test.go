package daemon

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkContentRanges is the CPU of one GET of k one-byte ranges that
// alternate between the two 4 MiB shards of a file (each switch rehashes a
// shard). Past maxRanges the Range is ignored and the whole file is sent
// (hashed once).
func BenchmarkContentRanges(b *testing.B) {
	n, _, stop := startTestNode(b, nil, Options{Version: "test"})
	defer stop()
	c := n.InProc()
	defer c.Close()
	body := make([]byte, 8<<20)
	rand.Read(body)
	added := addFiles(b, c, map[string][]byte{"f.bin": body}, 4<<20, "", nil)
	url := "http://" + n.HTTPAddr() + ContentPath + added.CID + "/f.bin"
	for _, k := range []int{1, maxRanges, 2000} {
		rng := alternatingRanges(k, 4<<20)
		b.Run(fmt.Sprintf("ranges=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime(b)
			var sent int64
			for b.Loop() {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Range", rng)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				m, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent += m
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(sent)/float64(b.N), "bytes/op")
		})
	}
}
