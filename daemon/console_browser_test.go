package daemon

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
)

// queuePage is the console's review queue page size (datanets.js).
const queuePage = 10

// startBrowser starts one headless Chromium for a test and returns its
// context; tabs are chromedp.NewContext children of it. Without a Chromium
// the test is skipped, unless OPENLEDGER_REQUIRE_CHROMIUM is set (CI).
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("OPENLEDGER_REQUIRE_CHROMIUM") != "" {
			t.Fatal("no chromium on PATH and OPENLEDGER_REQUIRE_CHROMIUM is set")
		}
		t.Skip("no chromium on PATH (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// artifactsDir is where the browser tests save screenshots:
// $OPENLEDGER_ARTIFACTS/console, or a temporary directory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("OPENLEDGER_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// tab is a browser tab on one node's console; a tab made with its own
// browser context has its own cookies, as another person's browser would.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func newTab(t *testing.T, browser context.Context, n *Node, shots string, setup ...chromedp.Action[chromedp.Void]) *tab {
	t.Helper()
	return openTab(t, browser, n, shots, []chromedp.ContextOption{chromedp.WithNewBrowserContext()}, setup...)
}

// sibling opens another tab in b's browser context: the same cookies.
func (b *tab) sibling(n *Node) *tab {
	b.t.Helper()
	return openTab(b.t, b.ctx, n, b.shots, nil)
}

func openTab(t *testing.T, parent context.Context, n *Node, shots string, opts []chromedp.ContextOption, setup ...chromedp.Action[chromedp.Void]) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, setup...); err != nil { // makes the tab
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx, base: "http://" + n.HTTPAddr() + "/", shots: shots}
}

// do runs actions, failing the test (with a screenshot) after d.
func (b *tab) do(d time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + strings.Map(func(r rune) rune {
			if r == ' ' || r == '/' || r == '#' {
				return '-'
			}
			return r
		}, what))
		status, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('status')?.textContent || ''`))
		b.t.Fatalf("%s: %v (status line: %q)", what, err, status)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript condition to hold.
func (b *tab) until(d time.Duration, what, cond string) {
	b.t.Helper()
	b.do(d, what, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return err
	}))
}

func (b *tab) open(route string) {
	b.t.Helper()
	b.do(20*time.Second, "open "+route, chromedp.Navigate(b.base+route), chromedp.WaitVisible(chromedp.CSS(`main[aria-busy=false] h1`)))
}

func (b *tab) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Error(err)
	}
}

func (b *tab) login(token, perm string) {
	b.t.Helper()
	b.do(10*time.Second, "log in",
		chromedp.SendKeys(chromedp.CSS(`#session input[type=password]`), token),
		chromedp.Click(chromedp.CSS(`#session button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#session .who[data-perm=`+perm+`]`)))
}

// testWallet is an EIP-1193 provider injected into a page, as MetaMask
// injects one: window.ethereum.request goes to a Go function that answers
// eth_requestAccounts with its account, switches chains, and signs
// eth_signTypedData_v4 with its key through go-ethereum's apitypes, as a
// wallet does, only for the active chain. It starts on chain 1.
type testWallet struct {
	key  *ecdsa.PrivateKey
	addr common.Address

	mu     sync.Mutex
	chain  uint64               // the active chain; guarded by mu
	signed []apitypes.TypedData // guarded by mu
}

const testWalletJS = `window.ethereum = {
  isOpenledgerTestWallet: true,
  request: (args) => window.openledgerTestWallet(args),
  on: () => {},
  removeListener: () => {},
};`

type walletRequest struct {
	Method string `json:"method"`
	Params []any  `json:"params"`
}

func (w *testWallet) request(_ context.Context, req walletRequest) (any, error) {
	switch req.Method {
	case "eth_requestAccounts", "eth_accounts":
		return []string{w.addr.Hex()}, nil
	case "eth_chainId":
		w.mu.Lock()
		defer w.mu.Unlock()
		return hexutil.EncodeUint64(w.chain), nil
	case "wallet_switchEthereumChain":
		arg, _ := req.Params[0].(map[string]any)
		id, err := hexutil.DecodeUint64(fmt.Sprint(arg["chainId"]))
		if err != nil {
			return nil, fmt.Errorf("wallet_switchEthereumChain: %w", err)
		}
		w.mu.Lock()
		w.chain = id
		w.mu.Unlock()
		return nil, nil
	case "eth_signTypedData_v4":
		if len(req.Params) != 2 {
			return nil, fmt.Errorf("eth_signTypedData_v4: %d params", len(req.Params))
		}
		from, _ := req.Params[0].(string)
		doc, _ := req.Params[1].(string)
		if !strings.EqualFold(from, w.addr.Hex()) {
			return nil, fmt.Errorf("eth_signTypedData_v4: unknown account %s", from)
		}
		var td apitypes.TypedData
		if err := json.Unmarshal([]byte(doc), &td); err != nil {
			return nil, fmt.Errorf("eth_signTypedData_v4: %w", err)
		}
		w.mu.Lock()
		active := w.chain
		w.mu.Unlock()
		if td.Domain.ChainId == nil || (*big.Int)(td.Domain.ChainId).Uint64() != active {
			// As MetaMask refuses it.
			return nil, fmt.Errorf("provided chainId %v must match the active chainId %d", td.Domain.ChainId, active)
		}
		hash, _, err := apitypes.TypedDataAndHash(td)
		if err != nil {
			return nil, err
		}
		sig, err := crypto.Sign(hash, w.key)
		if err != nil {
			return nil, err
		}
		sig[64] += 27 // as MetaMask returns it
		w.mu.Lock()
		w.signed = append(w.signed, td)
		w.mu.Unlock()
		return hexutil.Encode(sig), nil
	}
	return nil, fmt.Errorf("unsupported method %s", req.Method)
}

func (w *testWallet) inject() []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.ExposeFunc("openledgerTestWallet", w.request),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: testWalletJS})
			return err
		}),
	}
}

// attackPage is contributed content that tries to use the console's
// session: it reads the session's CSRF token and creates a Datanet through
// the console's RPC. The console must make this impossible.
const attackScript = `(async () => {
  document.title = 'ran';
  try {
    const s = await (await fetch('/console/session', {credentials: 'include'})).json();
    const r = await fetch('/console/rpc', {method: 'POST', credentials: 'include',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf || ''},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'datanet_create', params: [{name: 'forged'}]})});
    document.title = 'called:' + r.status + ':' + (await r.text()).slice(0, 60);
  } catch (e) {
    document.title = 'blocked:' + e;
  }
})();`

const attackHTML = "<!doctype html><title>inert</title><p>hello</p><script>" + attackScript + "</script>\n"

const attackSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>inert</title>` +
	`<script>` + attackScript + `</script><rect width="10" height="10" fill="red"/></svg>` + "\n"

// attributedLine is a sentence of the contributed markdown that the
// attribution scenario finds in a model output.
const attributedLine = "Marsh harriers quarter the reed beds at dawn while bitterns boom from the flooded margins of the fen."

// writeSample writes the files of the contribution the curators review.
func writeSample(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sample")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for x := range 24 {
		for y := range 16 {
			img.Set(x, y, color.RGBA{R: uint8(x * 10), G: 120, B: uint8(y * 15), A: 255})
		}
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"notes.md":    "# Field notes\n\nThe **quick** fox <script>alert(1)</script> jumps.\n\n- reeds\n- water\n\n" + attributedLine + "\n",
		"table.csv":   "species,count\nbittern,3\n\"harrier, marsh\",2\n",
		"rows.jsonl":  `{"q":"what booms?","a":"a bittern"}` + "\n" + `{"q":"what quarters?","a":"a harrier"}` + "\n",
		"pixel.png":   pngBuf.String(),
		"attack.html": attackHTML,
		"attack.svg":  attackSVG,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestConsoleInBrowser drives the console in a real Chromium against three
// real nodes. a owns a Datanet curated by a's operator and by a wallet
// account; c contributes. A curator logs in on a, fetches and previews the
// pending contribution and votes with the node key; a second curator, on b,
// votes from an injected EIP-1193 wallet, and the contribution turns
// accepted on every node's page without a reload. a cuts a snapshot from the
// page and verifies it; an attribution shows c's line highlighted and
// credited to c. Contributed HTML and SVG opened from the console cannot
// call the RPC, and every page's controls are labelled and reachable by
// keyboard. Screenshots of the main pages go to artifactsDir.
func TestConsoleInBrowser(t *testing.T) {
	browser := startBrowser(t)
	shots := artifactsDir(t)
	nodes := newTestNet(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	b.connect(t, a)
	c.connect(t, a)
	c.connect(t, b)

	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	w := &testWallet{key: key, addr: crypto.PubkeyToAddress(key.PublicKey), chain: 1}
	var dn DatanetView
	spec := datanet.DatanetSpec{Name: "fen survey", Description: "field notes from the fen",
		Curators: []datanet.Curator{{Address: a.account(t), Weight: 1}, {Address: w.addr, Weight: 1}}, Quorum: 2, ThresholdBps: 5001}
	if err := a.rpc.Call(&dn, "datanet_create", spec); err != nil {
		t.Fatal(err)
	}
	for _, p := range []testPeer{b, c} {
		if err := p.rpc.Call(nil, "datanet_join", dn.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the datanet to sync", func() bool {
			_, err := p.n.registry.Head(context.Background(), mustParse(t, dn.ID))
			return err == nil
		})
	}
	var added AddResult
	sample := writeSample(t)
	if err := c.rpc.Call(&added, "content_add", AddArgs{Paths: []string{sample}, Datanet: dn.ID}); err != nil {
		t.Fatal(err)
	}
	k := added.CID
	for _, p := range []testPeer{a, b} {
		waitFor(t, 30*time.Second, "the contribution at every node", func() bool { return p.status(t, k) != 255 })
	}
	token := func(p testPeer, perm Perm) string {
		tok, err := p.n.auth.CreateToken(perm)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	statusIs := func(status string) string {
		return fmt.Sprintf(`!!document.querySelector('span.status[data-cid=%q][data-status=%q]')`, k, status)
	}

	// c's page, read-only, watches the Datanet from the start.
	watcher := newTab(t, browser, c.n, shots)
	watcher.open("#/datanet/" + dn.ID)
	watcher.until(10*time.Second, "c's page lists the contribution as pending", statusIs("pending"))
	// Read-only: no account can sign here, and the form says so.
	readOnly := eval[map[string]any](watcher, fmt.Sprintf(`(() => {
	  const f = document.querySelector('article.item[data-cid=%q] form.vote');
	  return {disabled: f.querySelector('button[type=submit]').disabled, signer: f.querySelector('p.signer').dataset.account};
	})()`, k))
	if readOnly["disabled"] != true || readOnly["signer"] != "" {
		t.Fatalf("the read-only console offers to vote: %v", readOnly)
	}

	// The first curator, on a, with the node's key.
	cur := newTab(t, browser, a.n, shots)
	cur.open("")
	if got := eval[string](cur, `document.querySelector('#session .who').dataset.perm`); got != "read" {
		t.Fatalf("before login the console is %q, want read", got)
	}
	cur.login(token(a, PermSign), "sign")
	cur.until(10*time.Second, "the Datanets list", fmt.Sprintf(`!!document.querySelector('#datanets a[href="#/datanet/%s"]')`, dn.ID))
	cur.shot("datanets")

	// The owner creates a Datanet from the page, then adds a curator.
	cur.do(20*time.Second, "create a Datanet",
		chromedp.SendKeys(chromedp.CSS(`#create-name`), "made in the console"),
		chromedp.Click(chromedp.CSS(`#create button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[aria-busy=false] #update`)))
	made := strings.TrimPrefix(eval[string](cur, `location.hash`), "#/datanet/")
	cur.do(20*time.Second, "update the policy",
		chromedp.SendKeys(chromedp.CSS(`#update-add`), w.addr.Hex()+":2"),
		chromedp.Click(chromedp.CSS(`#update button[type=submit]`)))
	cur.until(10*time.Second, "the update recorded", `document.getElementById('status').textContent.startsWith('Policy updated: version 1')`)
	var shown DatanetDetail
	if err := a.rpc.Call(&shown, "datanet_show", made, nil); err != nil {
		t.Fatal(err)
	}
	if shown.Datanet.Name != "made in the console" || shown.Datanet.Seq != 1 || len(shown.Datanet.Curators) != 2 || shown.Datanet.CuratorWeight(w.addr) != 2 {
		t.Fatalf("the Datanet made and updated in the console: %+v", shown.Datanet.Datanet)
	}
	// Its review queue, a page at a time: contributions added while the
	// page is open appear without a reload.
	for i := range queuePage + 1 {
		a.addText(t, made, fmt.Sprintf("k%02d.txt", i), fmt.Sprintf("contribution %d\n", i))
	}
	cur.until(20*time.Second, "a full first page of the queue", fmt.Sprintf(`document.querySelectorAll('#queue article.item').length === %d`, queuePage))
	cur.do(10*time.Second, "the next page of the queue",
		chromedp.Click(chromedp.CSS(`#queue-next`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue-previous:enabled`)))
	cur.until(10*time.Second, "the last contribution alone on page 2", `document.querySelectorAll('#queue article.item').length === 1`)
	cur.open("#/datanet/" + dn.ID)
	item := fmt.Sprintf(`article.item[data-cid=%q]`, k)
	cur.do(20*time.Second, "fetch the files to preview",
		chromedp.WaitVisible(chromedp.CSS(item+` button.fetch`)),
		chromedp.Click(chromedp.CSS(item+` button.fetch`)),
		chromedp.WaitVisible(chromedp.CSS(item+` .preview[data-kind=csv] table`)))
	cur.until(10*time.Second, "the thumbnail to load", `(() => { const i = document.querySelector('`+item+` img.thumb[src$="pixel.png"]'); return !!i && i.complete && i.naturalWidth === 24; })()`)
	previews := eval[map[string]string](cur, `(() => {
	  const q = (s) => document.querySelector('`+item+` ' + s);
	  return {
	    heading: q('.preview[data-kind=md] .md h3')?.textContent || '',
	    md: q('.preview[data-kind=md]')?.textContent || '',
	    scripts: String(document.querySelectorAll('main script').length),
	    csv: [...document.querySelectorAll('`+item+` .preview[data-kind=csv] td')].map(x => x.textContent).join('|'),
	    jsonl: [...document.querySelectorAll('`+item+` .preview[data-kind=jsonl] td')].map(x => x.textContent).join('|'),
	  };
	})()`)
	if previews["heading"] != "Field notes" || !strings.Contains(previews["md"], "<script>alert(1)</script>") || previews["scripts"] != "0" {
		t.Errorf("markdown preview %+v: want the heading rendered and the script tag shown as text", previews)
	}
	if previews["csv"] != "bittern|3|harrier, marsh|2" || !strings.Contains(previews["jsonl"], "a bittern") {
		t.Errorf("table previews %+v", previews)
	}
	signer := eval[string](cur, `document.querySelector('`+item+` p.signer').dataset.account`)
	if !strings.EqualFold(signer, a.account(t).Hex()) {
		t.Fatalf("the form would sign with %q, want a's operator %s", signer, a.account(t).Hex())
	}
	cur.shot("review-queue")
	cur.do(10*time.Second, "vote with the node key",
		chromedp.SendKeys(chromedp.CSS(item+` input.reason`), "clean field notes"),
		chromedp.Click(chromedp.CSS(item+` form.vote button[type=submit]`)))
	cur.until(10*time.Second, "the vote recorded", `document.getElementById('status').textContent.startsWith('Vote recorded (approve)')`)
	if s := a.status(t, k); s != curation.Pending {
		t.Fatalf("after one vote of two: %s", s)
	}

	// The second curator, on b, signs with a wallet.
	cur2 := newTab(t, browser, b.n, shots, w.inject()...)
	cur2.open("")
	cur2.login(token(b, PermWrite), "write")
	cur2.open("#/contribution/" + k)
	cur2.do(10*time.Second, "connect the wallet",
		chromedp.WaitVisible(chromedp.CSS(`form.vote button.connect`)),
		chromedp.Click(chromedp.CSS(`form.vote button.connect`)))
	cur2.until(10*time.Second, "the wallet account shown as the signer",
		fmt.Sprintf(`document.querySelector('p.signer').dataset.account.toLowerCase() === %q`, strings.ToLower(w.addr.Hex())))
	cur2.shot("wallet-vote")
	cur2.do(10*time.Second, "vote with the wallet",
		chromedp.SendKeys(chromedp.CSS(`form.vote input.reason`), "signed in my wallet"),
		chromedp.Click(chromedp.CSS(`form.vote button[type=submit]`)))
	cur2.until(10*time.Second, "the wallet vote recorded", `document.getElementById('status').textContent.startsWith('Vote recorded (approve)')`)
	w.mu.Lock()
	signed, chain := w.signed, w.chain
	w.mu.Unlock()
	if len(signed) != 1 || signed[0].PrimaryType != "Vote" || !strings.EqualFold(fmt.Sprint(signed[0].Message["curator"]), w.addr.Hex()) {
		t.Fatalf("the wallet signed %+v", signed)
	}
	if chain != dn.ChainID {
		t.Fatalf("the wallet is on chain %d, the Datanet's is %d", chain, dn.ChainID)
	}
	cur2.until(10*time.Second, "b's contribution page shows accepted", `!!document.querySelector('#tally span.status[data-status=accepted]')`)
	cur2.shot("contribution")

	// Every node's page turns accepted without a reload.
	for name, p := range map[string]*tab{"a": cur, "c": watcher} {
		p.until(20*time.Second, name+"'s page shows accepted", statusIs("accepted"))
	}
	for _, p := range nodes {
		waitFor(t, 20*time.Second, "accepted on every node", func() bool { return p.status(t, k) == curation.Accepted })
	}
	var tv TallyView
	if err := c.rpc.Call(&tv, "curation_show", k); err != nil {
		t.Fatal(err)
	}
	if len(tv.Counted) != 2 || tv.Approve != 2 {
		t.Fatalf("tally on c: %+v", tv)
	}

	// A snapshot cut from the page, and verified.
	cur.do(20*time.Second, "cut a snapshot",
		chromedp.Click(chromedp.CSS(`#cut`)),
		chromedp.WaitVisible(chromedp.CSS(`article.snapshot button.verify`)),
		chromedp.Click(chromedp.CSS(`article.snapshot button.verify`)),
		chromedp.WaitVisible(chromedp.CSS(`article.snapshot .verdict[data-ok=true]`)))
	snap := eval[string](cur, `document.querySelector('article.snapshot').dataset.cid`)
	if get := eval[string](cur, `document.querySelector('article.snapshot').textContent`); !strings.Contains(get, "openledger get "+snap+" -o") {
		t.Errorf("the snapshot shows no get command: %q", get)
	}
	cur.shot("snapshots")
	var verdict SnapshotVerdict
	if err := c.rpc.Call(&verdict, "snapshot_verify", snap); err != nil || !verdict.OK || verdict.Contributions != 1 {
		t.Fatalf("the snapshot on c: %+v %v", verdict, err)
	}

	// A copy of accepted content, contributed while the queue is open,
	// appears flagged as a duplicate.
	notes, err := os.ReadFile(filepath.Join(sample, "notes.md"))
	if err != nil {
		t.Fatal(err)
	}
	dup := b.addText(t, dn.ID, "copied.md", string(notes))
	dupItem := fmt.Sprintf(`article.item[data-cid=%q]`, dup)
	cur.do(20*time.Second, "the copy in a's queue, flagged",
		chromedp.WaitVisible(chromedp.CSS(dupItem+` p.dup`)))
	if flag := eval[string](cur, `document.querySelector('`+dupItem+` p.dup').textContent`); !strings.HasPrefix(flag, "Duplicate") {
		t.Errorf("the copy is flagged %q", flag)
	}

	// An attribution: c's line in a model output, highlighted and credited.
	var model ModelView
	if err := a.rpc.Call(&model, "model_register", RegisterModelArgs{Name: "fen-lora", Base: "base", Snapshots: []string{snap}}); err != nil {
		t.Fatal(err)
	}
	if err := a.rpc.Call(nil, "attribution_index", snap); err != nil {
		t.Fatal(err)
	}
	output := "The model says: " + attributedLine + " And then something nobody wrote down anywhere."
	cur.open("#/models")
	cur.do(20*time.Second, "attribute an output",
		chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`select option[value=%q]`, model.CID))),
		chromedp.SetValue(chromedp.CSS(`form.card select`), model.CID),
		chromedp.SendKeys(chromedp.CSS(`form.card textarea`), output),
		chromedp.Click(chromedp.CSS(`form.card button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.attributed mark`)))
	marks := eval[[]map[string]string](cur, `[...document.querySelectorAll('p.attributed mark')].map(m => ({text: m.textContent, contributor: m.dataset.contributor, contribution: m.dataset.contribution}))`)
	if len(marks) != 1 || !strings.EqualFold(marks[0]["contributor"], c.account(t).Hex()) || marks[0]["contribution"] != k ||
		!strings.Contains(attributedLine, strings.TrimSpace(marks[0]["text"])) || len(marks[0]["text"]) < 32 {
		t.Fatalf("highlighted spans %+v, want c's line credited to %s", marks, c.account(t).Hex())
	}
	cur.do(60*time.Second, "verify the record",
		chromedp.Click(chromedp.CSS(`.record button.verify`)),
		chromedp.WaitVisible(chromedp.CSS(`.record .verdict[data-ok=true]`)))
	cur.shot("attribution")

	// Contributed HTML and SVG, opened from the console in the curator's
	// logged-in browser, cannot reach the RPC.
	cur.open("#/contribution/" + k)
	cur.until(10*time.Second, "the files listed", `!!document.querySelector('a.raw')`)
	cur.shot("contribution-files")
	for _, name := range []string{"attack.html", "attack.svg"} {
		href := eval[string](cur, fmt.Sprintf(`[...document.querySelectorAll('a.raw')].find(a => a.getAttribute('href').endsWith(%q)).href`, name))
		attack := cur.sibling(a.n) // the curator's browser: the session cookie is there
		attack.do(10*time.Second, "open "+name, chromedp.Navigate(href))
		// Give a script that could run the time to do so.
		attack.do(10*time.Second, "let "+name+" settle", chromedp.Sleep(time.Second))
		title := eval[string](attack, `document.title`)
		if strings.HasPrefix(title, "called:200") || title == "ran" {
			t.Errorf("%s reached the RPC: title %q", name, title)
		}
	}
	var list []DatanetView
	if err := a.rpc.Call(&list, "datanet_list", nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.Name == "forged" {
			t.Fatal("contributed content created a Datanet through the console's session")
		}
	}

	// Every page: inputs are labelled, and Tab reaches every control.
	for _, route := range []string{"", "#/datanet/" + dn.ID, "#/contribution/" + k, "#/models", "#/rewards", "#/node"} {
		cur.open(route)
		checkKeyboard(t, cur, route)
	}
	cur.open("#/node")
	cur.until(10*time.Second, "the peers", `!!document.querySelector('#node-peers table')`)
	cur.shot("node")
	cur.open("#/rewards")
	cur.shot("rewards")
}

// checkKeyboard fails t for an input without a label on the page, and for
// a control that pressing Tab never reaches.
func checkKeyboard(t *testing.T, b *tab, route string) {
	t.Helper()
	unlabelled := eval[[]string](b, `[...document.querySelectorAll('input, select, textarea')]
	  .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
	  .map(el => el.outerHTML.slice(0, 100))`)
	if len(unlabelled) > 0 {
		t.Errorf("%s: inputs without a label: %q", route, unlabelled)
	}
	n := eval[int](b, `(() => {
	  const visible = (el) => !el.disabled && el.getClientRects().length > 0 && !el.closest('[hidden]');
	  window.__controls = [...document.querySelectorAll('a[href], button, input, select, textarea, summary')].filter(visible);
	  window.__focused = new Set();
	  document.addEventListener('focusin', (e) => window.__focused.add(e.target));
	  document.activeElement?.blur();
	  return window.__controls.length;
	})()`)
	keys := make([]chromedp.Action[chromedp.Void], 0, n+3)
	for range n + 3 {
		keys = append(keys, chromedp.KeyEvent(kb.Tab))
	}
	b.do(30*time.Second, "tab through "+route, keys...)
	missed := eval[[]string](b, `(() => {
	  const reached = (el) => window.__focused.has(el) ||
	    (el.type === 'radio' && window.__controls.some(o => o.type === 'radio' && o.name === el.name && window.__focused.has(o)));
	  return window.__controls.filter(el => !reached(el)).map(el => el.outerHTML.slice(0, 100));
	})()`)
	if len(missed) > 0 {
		t.Errorf("%s: %d of %d controls not reachable with Tab: %q", route, len(missed), n, missed)
	}
}
