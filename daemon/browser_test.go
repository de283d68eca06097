package daemon

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the path of Debian's chromium. Without it the test is
// skipped, unless OPENLEDGER_REQUIRE_CHROMIUM is set (.ci/run sets it and
// installs chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("OPENLEDGER_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium is not installed and OPENLEDGER_REQUIRE_CHROMIUM is set")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// TestContentSandboxedInBrowser loads a contributed HTML page that calls
// the JSON-RPC in a real browser (headless chromium): its script does not
// run, and a fetch of /rpc/v0 made in its context fails (opaque origin).
// A page of another origin that calls the API is refused too.
func TestContentSandboxedInBrowser(t *testing.T) {
	exe := chromium(t)
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	rpcURL := "http://" + n.HTTPAddr() + RPCPath
	page := func(url string) string {
		return `<!doctype html><title>not run</title><script>
document.title = "running";
fetch("` + url + `", {method: "POST", headers: {"Content-Type": "application/json"}, body: '` + nodeIDCall + `'})
  .then(r => r.text()).then(t => { document.title = "LEAKED " + t }, e => { document.title = "blocked" });
</script>`
	}
	added := addFiles(t, c, map[string][]byte{"page.html": []byte(page(RPCPath))}, 1<<10, "", nil)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page(rpcURL))
	}))
	defer other.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	probe := `fetch("` + RPCPath + `", {method: "POST", headers: {"Content-Type": "application/json"}, body: '` + nodeIDCall + `'})
  .then(r => r.text()).then(t => "answered " + t, e => "blocked: " + e)`
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+n.HTTPAddr()+ContentPath+added.CID+"/page.html")); err != nil {
		t.Fatal(err)
	}
	fetched, err := chromedp.Run(ctx, chromedp.Evaluate[string](probe, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "not run" {
		t.Errorf("the contributed page's script ran: title %q", title)
	}
	if !strings.HasPrefix(fetched, "blocked") {
		t.Errorf("a fetch of %s from the contributed page: %s", RPCPath, fetched)
	}

	// A page of another origin runs its script; its call is refused.
	waitTitle := func() string {
		var title string
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var err error
			if title, err = chromedp.Run(ctx, chromedp.Title()); err != nil {
				t.Fatal(err)
			}
			if title != "running" && title != "not run" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return title
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(other.URL)); err != nil {
		t.Fatal(err)
	}
	if title := waitTitle(); title != "blocked" {
		t.Errorf("a page of another origin calling the API: title %q", title)
	}
}
