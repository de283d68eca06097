package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/datanet"
)

// addFiles adds one contribution of files (name → bytes) through p, in a
// new Datanet, in shards of chunk bytes.
func addFiles(t testing.TB, c *rpc.Client, files map[string][]byte, chunk int, license string, meta map[string]string) AddResult {
	t.Helper()
	var dv DatanetView
	if err := c.Call(&dv, "datanet_create", datanet.DatanetSpec{Name: "http " + rand.Text()[:8]}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var added AddResult
	args := AddArgs{Paths: paths, Datanet: dv.ID, ChunkSize: chunk, License: license, Metadata: meta}
	if err := c.Call(&added, "content_add", args); err != nil {
		t.Fatal(err)
	}
	return added
}

// httpDo sends a request with headers (name, value pairs) and returns the
// response with its body read.
func httpDo(t testing.TB, method, url string, body io.Reader, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, got
}

const nodeIDCall = `{"jsonrpc":"2.0","id":1,"method":"node_id","params":[]}`

// TestContentSandboxed: a contributed HTML page is served sandboxed (an
// opaque origin without scripts), and the JSON-RPC refuses every request a
// page other than the API's own can send: Origin null (a sandboxed page),
// another origin, a cross-site fetch, and a request referred by content.
func TestContentSandboxed(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	added := addFiles(t, c, map[string][]byte{
		"page.html": []byte(`<script>fetch("/rpc/v0")</script>`),
		"logo.svg":  []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/rpc/v0")</script></svg>`),
	}, 1<<10, "", nil)
	base := "http://" + n.HTTPAddr()
	for _, path := range []string{added.CID + "/page.html", added.CID + "/logo.svg", added.CID, "not-a-cid"} {
		resp, _ := httpDo(t, "GET", base+ContentPath+path, nil)
		if csp := resp.Header.Get("Content-Security-Policy"); csp != "sandbox" {
			t.Errorf("%s: %s, Content-Security-Policy %q, want sandbox", path, resp.Status, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", path)
		}
	}
	self := base
	for _, tc := range []struct {
		name    string
		headers []string
		ok      bool
	}{
		{"a tool", nil, true},
		{"the API's own page", []string{"Origin", self, "Sec-Fetch-Site", "same-origin", "Referer", self + "/console/"}, true},
		{"a sandboxed content page", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, false},
		{"Origin null alone", []string{"Origin", "null"}, false},
		{"another site", []string{"Origin", "http://evil.example"}, false},
		{"another port", []string{"Origin", "http://127.0.0.1:1"}, false},
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, false},
		{"same-site fetch", []string{"Sec-Fetch-Site", "same-site"}, false},
		{"referred by content", []string{"Origin", self, "Referer", self + ContentPath + added.CID + "/page.html"}, false},
	} {
		resp, body := httpDo(t, "POST", base+RPCPath, strings.NewReader(nodeIDCall), append([]string{"Content-Type", "application/json"}, tc.headers...)...)
		answered := resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"peer_id"`)
		if answered != tc.ok {
			t.Errorf("%s: %s %s, want answered=%v", tc.name, resp.Status, body, tc.ok)
		}
	}
}

// TestContentFetchFromPages: a node fetches what it does not hold for a
// request from a tool, from its own pages, or with a token; a request from
// another web page (an <img> on any site) gets 403 and fetches nothing,
// unless api.public_gateway is on.
func TestContentFetchFromPages(t *testing.T) {
	net := newTestNet(t, 2)
	a, b := net[0], net[1]
	gw, _ := testNodeOpts(t, func(c *Config) { c.API.PublicGateway = true }, Options{Version: "test"})
	g := testPeer{n: gw, rpc: gw.InProc()}
	t.Cleanup(g.rpc.Close)
	b.connect(t, a)
	g.connect(t, a)
	read, err := b.n.auth.CreateToken(PermRead)
	if err != nil {
		t.Fatal(err)
	}
	held := func(p testPeer, c string) bool {
		has, err := p.n.registry.Has(context.Background(), mustParse(t, c))
		if err != nil {
			t.Fatal(err)
		}
		return has
	}
	get := func(p testPeer, c string, headers ...string) int {
		resp, _ := httpDo(t, "GET", "http://"+p.n.HTTPAddr()+ContentPath+c+"/f.txt", nil, headers...)
		return resp.StatusCode
	}
	add := func() string {
		t.Helper()
		text := make([]byte, 3000)
		rand.Read(text)
		return addFiles(t, a.rpc, map[string][]byte{"f.txt": text}, 1<<10, "", nil).CID
	}
	self := "http://" + b.n.HTTPAddr()
	refused := add()
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "http://evil.example"},
		{"Origin", "null"},
		{"Referer", "http://evil.example/page.html"},
		{"Referer", self + ContentPath + refused + "/page.html"}, // a contribution's page
	} {
		if code := get(b, refused, h...); code != http.StatusForbidden {
			t.Errorf("%v: %d, want 403", h, code)
		}
	}
	if held(b, refused) {
		t.Fatal("a refused request fetched the contribution")
	}
	for _, tc := range []struct {
		name    string
		p       testPeer
		headers []string
	}{
		{"a tool", b, nil},
		{"the API's own page", b, []string{"Sec-Fetch-Site", "same-origin", "Origin", self, "Referer", self + "/console/"}},
		{"typed in the address bar", b, []string{"Sec-Fetch-Site", "none"}},
		{"a token", b, []string{"Sec-Fetch-Site", "cross-site", "Authorization", "Bearer " + read}},
		{"a public gateway", g, []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"}},
	} {
		c := add()
		if code := get(tc.p, c, tc.headers...); code != http.StatusOK || !held(tc.p, c) {
			t.Errorf("%s: %d, held %v; want 200 and fetched", tc.name, code, held(tc.p, c))
		}
	}
}

// alternatingRanges is a Range of k one-byte ranges alternating between
// the first two shards of a file in shards of chunk bytes.
func alternatingRanges(k int, chunk int) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i := range k {
		if i > 0 {
			b.WriteByte(',')
		}
		off := i%2*chunk + i/2
		fmt.Fprintf(&b, "%d-%d", off, off)
	}
	return b.String()
}

// TestContentManyRanges: a request of more than maxRanges ranges is
// answered whole; up to maxRanges, as ranges.
func TestContentManyRanges(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	body := make([]byte, 2<<20)
	rand.Read(body)
	added := addFiles(t, c, map[string][]byte{"two-shards.bin": body}, 1<<20, "", nil)
	url := "http://" + n.HTTPAddr() + ContentPath + added.CID + "/two-shards.bin"
	resp, got := httpDo(t, "GET", url, nil, "Range", alternatingRanges(2000, 1<<20))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("2000 ranges: %s, %d bytes; want 200 and the whole file", resp.Status, len(got))
	}
	resp, got = httpDo(t, "GET", url, nil, "Range", alternatingRanges(maxRanges, 1<<20))
	if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
		t.Fatalf("%d ranges: %s %s", maxRanges, resp.Status, resp.Header.Get("Content-Type"))
	}
	if !bytes.Contains(got, body[1<<20:1<<20+1]) {
		t.Fatal("multipart answer lacks the ranges")
	}
}

// TestContentTypesAndEdges: .jsonl is NDJSON, a shard's ETag is its CID
// (no trailing slash), and any range of an empty file is 416.
func TestContentTypesAndEdges(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	added := addFiles(t, c, map[string][]byte{
		"rows.jsonl": []byte("{\"a\":1}\n{\"a\":2}\n"),
		"empty.txt":  {},
	}, 1<<10, "", nil)
	base := "http://" + n.HTTPAddr() + ContentPath
	resp, _ := httpDo(t, "GET", base+added.CID+"/rows.jsonl", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf(".jsonl served as %q", ct)
	}
	var shard string
	for _, f := range added.Files {
		if f.Path == "rows.jsonl" {
			shard = f.Shards[0]
		}
	}
	resp, _ = httpDo(t, "GET", base+shard, nil)
	if etag := resp.Header.Get("Etag"); etag != `"`+shard+`"` {
		t.Errorf("shard ETag %s, want %q", etag, shard)
	}
	for _, rng := range []string{"bytes=0-", "bytes=0-0", "bytes=-1"} {
		resp, _ = httpDo(t, "GET", base+added.CID+"/empty.txt", nil, "Range", rng)
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != "bytes */0" {
			t.Errorf("Range %s of an empty file: %s, Content-Range %q; want 416, bytes */0", rng, resp.Status, resp.Header.Get("Content-Range"))
		}
	}
	if resp, body := httpDo(t, "GET", base+added.CID+"/empty.txt", nil); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("empty file without Range: %s, %d bytes", resp.Status, len(body))
	}
}

// TestHTTPServerBounds: a client slow to send its headers or its body is
// cut after the configured timeouts, and past api.max_connections new
// connections wait until one closes.
func TestHTTPServerBounds(t *testing.T) {
	n, _ := testNode(t, func(c *Config) {
		c.API.ReadHeaderTimeout = "2s"
		c.API.ReadTimeout = "2s"
		c.API.MaxConnections = 3
	})
	addr := n.HTTPAddr()
	dial := func(send string) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := io.WriteString(conn, send); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	start := time.Now()
	slowHeader := dial("GET " + MetricsPath + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	slowBody := dial("POST " + RPCPath + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\":")
	idle := dial("")
	// The three hold every connection: a fourth client waits.
	probe := &http.Client{Timeout: 500 * time.Millisecond}
	if resp, err := probe.Get("http://" + addr + MetricsPath); err == nil {
		resp.Body.Close()
		t.Fatalf("a fourth connection was served (%s) while three were held", resp.Status)
	}
	for name, conn := range map[string]net.Conn{"slow header": slowHeader, "slow body": slowBody, "idle": idle} {
		conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, err := io.Copy(io.Discard, conn) // until the server closes it
		if took := time.Since(start); err != nil || took > 8*time.Second {
			t.Errorf("%s connection: closed after %s (%v), want about 2s", name, took, err)
		}
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + MetricsPath)
	if err != nil {
		t.Fatalf("after the slow clients were cut: %v", err)
	}
	resp.Body.Close()
}

func TestAPIConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*APIConfig)
		want   string
	}{
		{func(a *APIConfig) { a.ReadHeaderTimeout = "0s" }, "read_header_timeout"},
		{func(a *APIConfig) { a.ReadTimeout = "soon" }, "read_timeout"},
		{func(a *APIConfig) { a.IdleTimeout = "48h" }, "idle_timeout"},
		{func(a *APIConfig) { a.MaxConnections = 0 }, "max_connections"},
	} {
		cfg := DefaultConfig()
		tc.mutate(&cfg.API)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "config api."+tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
