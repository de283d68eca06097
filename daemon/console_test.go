package daemon

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/openledger/openledger/daemon/console"
)

// consoleClient is a browser-like client of a node's console: a cookie jar,
// and the Origin header a page of the console sends.
type consoleClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	origin string
	csrf   string
}

func newConsoleClient(t *testing.T, n *Node) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + n.HTTPAddr()
	return &consoleClient{t: t, base: base, http: &http.Client{Jar: jar}, origin: base}
}

// post sends body to path as the console page would; it returns the status
// and the body.
func (c *consoleClient) post(path, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func (c *consoleClient) login(token string) SessionView {
	c.t.Helper()
	code, body := c.post(consoleLoginPath, `{"token":"`+token+`"}`)
	if code != http.StatusOK {
		c.t.Fatalf("login: %d %s", code, body)
	}
	var v SessionView
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		c.t.Fatal(err)
	}
	c.csrf = v.CSRF
	return v
}

// rpcStatus calls method through the console and returns the HTTP status
// and the JSON-RPC error name ("" for success).
func (c *consoleClient) rpcStatus(method string, params ...any) (int, string) {
	c.t.Helper()
	p, _ := json.Marshal(params)
	code, body := c.post(consoleRPCPath, `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+string(p)+`}`)
	if code != http.StatusOK {
		return code, ""
	}
	var msg struct {
		Error *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		c.t.Fatalf("%s: %v: %s", method, err, body)
	}
	if msg.Error != nil {
		return code, msg.Error.Data
	}
	return code, ""
}

// TestConsoleSession: the console's login exchanges a token for an
// HttpOnly SameSite=Strict cookie; calls with it need the CSRF token and
// the console's origin; without a login the console is read-only; logout
// ends the session.
func TestConsoleSession(t *testing.T) {
	n, _ := testNode(t, nil)
	sign, err := n.auth.CreateToken(PermSign)
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"name": "console"}

	anon := newConsoleClient(t, n)
	if code, name := anon.rpcStatus("node_id"); code != http.StatusOK || name != "" {
		t.Fatalf("read-only node_id: %d %s", code, name)
	}
	if _, name := anon.rpcStatus("datanet_create", spec); name != "permission_denied" {
		t.Fatalf("datanet_create without a login: %q, want permission_denied", name)
	}
	if code, _ := anon.post(consoleLoginPath, `{"token":"nope"}`); code != http.StatusUnauthorized {
		t.Fatalf("login with a bad token: %d", code)
	}

	c := newConsoleClient(t, n)
	req, _ := http.NewRequest(http.MethodPost, c.base+consoleLoginPath, strings.NewReader(`{"token":"`+sign+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.origin)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v, want one HttpOnly SameSite=Strict cookie", cookies)
	}
	if strings.Contains(cookies[0].Value, sign) {
		t.Fatal("the cookie holds the token")
	}
	v := c.login(sign)
	if v.Perm != "sign" || v.CSRF == "" || v.Account != n.repo.Config.Identity.Account {
		t.Fatalf("session %+v", v)
	}

	csrf := c.csrf
	for _, tc := range []struct {
		name, origin, csrf string
		code               int
	}{
		{"no CSRF token", c.origin, "", http.StatusForbidden},
		{"wrong CSRF token", c.origin, "x" + csrf, http.StatusForbidden},
		{"another origin", "http://127.0.0.1:1", csrf, http.StatusForbidden},
		{"a sandboxed document", "null", csrf, http.StatusForbidden},
		{"the console", c.origin, csrf, http.StatusOK},
	} {
		c.origin, c.csrf = tc.origin, tc.csrf
		code, name := c.rpcStatus("datanet_create", spec)
		if code != tc.code || (code == http.StatusOK && name != "") {
			t.Errorf("%s: %d %q, want %d", tc.name, code, name, tc.code)
		}
	}
	c.origin, c.csrf = "http://"+n.HTTPAddr(), csrf
	if code, body := c.post(consoleLogoutPath, "{}"); code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
	if _, name := c.rpcStatus("datanet_create", spec); name != "permission_denied" {
		t.Fatalf("datanet_create after logout: %q", name)
	}

	// A login form posted from another site cannot log a browser in.
	evil := newConsoleClient(t, n)
	evil.origin = "http://evil.example"
	if code, _ := evil.post(consoleLoginPath, `{"token":"`+sign+`"}`); code != http.StatusForbidden {
		t.Fatalf("cross-origin login: %d", code)
	}
	u, _ := url.Parse(evil.base)
	if len(evil.http.Jar.Cookies(u)) != 0 {
		t.Fatal("a cross-origin login set a cookie")
	}
}

// TestConsoleHeaders: the page is served with its Content-Security-Policy
// and no framing; contributed content is sandboxed.
func TestConsoleHeaders(t *testing.T) {
	p := newTestNet(t, 1)[0]
	n := p.n
	var dn DatanetView
	if err := p.rpc.Call(&dn, "datanet_create", map[string]any{"name": "h"}); err != nil {
		t.Fatal(err)
	}
	k := p.addText(t, dn.ID, "page.html", "<script>alert(1)</script>")
	for path, want := range map[string]string{
		"/":                            console.Policy,
		consoleAssetsPath + "app.js":   console.Policy,
		ContentPath + k + "/page.html": "sandbox",
	} {
		resp, err := http.Get("http://" + n.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") != want {
			t.Errorf("%s: %d, CSP %q, want %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"), want)
		}
		if path == "/" && (resp.Header.Get("X-Frame-Options") != "DENY" || !bytes.Contains(body, []byte("/console/assets/app.js"))) {
			t.Errorf("/: X-Frame-Options %q, body %.80q", resp.Header.Get("X-Frame-Options"), body)
		}
	}
}

// TestConsoleLoginLink: auth_consoleLink makes a link that logs a browser
// in once; a second visit is refused.
func TestConsoleLoginLink(t *testing.T) {
	n, _ := testNode(t, nil)
	rc := n.InProc()
	defer rc.Close()
	var link string
	if err := rc.Call(&link, "auth_consoleLink", "sign"); err != nil {
		t.Fatal(err)
	}
	c := newConsoleClient(t, n)
	resp, err := c.http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("following the link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = c.http.Get(c.base + consoleSessionPath)
	if err != nil {
		t.Fatal(err)
	}
	var v SessionView
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil || v.Perm != "sign" || v.CSRF == "" {
		t.Fatalf("session after the link: %+v %v", v, err)
	}
	other := newConsoleClient(t, n)
	resp, err = other.http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a second visit of the link: %d", resp.StatusCode)
	}
}
