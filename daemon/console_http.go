package daemon

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/openledger/openledger/daemon/console"
)

// Paths of the web console. The page itself is served at "/".
const (
	ConsolePath        = "/console/"
	consoleLoginPath   = ConsolePath + "login"
	consoleLogoutPath  = ConsolePath + "logout"
	consoleSessionPath = ConsolePath + "session"
	consoleRPCPath     = ConsolePath + "rpc"
	consoleEventsPath  = ConsolePath + "events"
	consoleAssetsPath  = ConsolePath + "assets/"
)

// CSRFHeader carries a console session's CSRF token on every POST.
const CSRFHeader = "X-CSRF-Token"

// Console session bounds: how long a login lasts and how many are kept,
// and how long a login link (auth_consoleLink) stays valid.
const (
	consoleSessionTTL = 12 * time.Hour
	maxConsoleLogins  = 256
	consoleLinkTTL    = 2 * time.Minute
)

// consoleSession is a login of the console: the permission of the token
// that was exchanged for it, and the CSRF token every POST must carry.
type consoleSession struct {
	perm    Perm
	csrf    string
	expires time.Time
}

// consoleServer serves the web console: its page and assets, the login
// that exchanges an API token for an HttpOnly SameSite=Strict session
// cookie, the JSON-RPC API with the session's permission, and live events.
type consoleServer struct {
	n *Node

	mu       sync.Mutex
	sessions map[string]*consoleSession // by cookie value; guarded by mu
	// links are the login links not used yet: code -> the session each
	// opens. Guarded by mu.
	links map[string]*consoleSession
}

// mountConsole adds the console's routes to the API's mux.
func (n *Node) mountConsole(mux *http.ServeMux) {
	c := &consoleServer{n: n, sessions: map[string]*consoleSession{}, links: map[string]*consoleSession{}}
	n.console.Store(c)
	assets := console.Handler()
	mux.Handle("GET /{$}", assets)
	mux.Handle("GET "+consoleAssetsPath, http.StripPrefix(consoleAssetsPath, assets))
	mux.HandleFunc("GET "+consoleSessionPath, c.session)
	mux.HandleFunc("POST "+consoleLoginPath, c.login)
	mux.HandleFunc("GET "+consoleLoginPath, c.loginLink)
	mux.HandleFunc("POST "+consoleLogoutPath, c.logout)
	mux.Handle("POST "+consoleRPCPath, n.instrument("console", http.HandlerFunc(c.rpc)))
	mux.HandleFunc("GET "+consoleEventsPath, c.events)
}

// cookieName is the session cookie's name on the API's address: browsers
// keep cookies by host, not by port, so two nodes on 127.0.0.1 need two
// names.
func cookieName(r *http.Request) string {
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil || port == "" {
		port = "80"
	}
	return "openledger_session_" + port
}

// sameOrigin reports whether a browser request comes from a page of the
// API's own origin: the console, never another site, another port of
// loopback, or a sandboxed document (Origin "null"). Browsers send Origin
// with every POST; a client that is not a browser sends neither header.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return o == "http://"+r.Host
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin"
}

func consoleError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// lookup returns the live session of r's cookie, or nil without one.
func (c *consoleServer) lookup(r *http.Request) *consoleSession {
	ck, err := r.Cookie(cookieName(r))
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s != nil && c.n.opts.Now().After(s.expires) {
		delete(c.sessions, ck.Value)
		return nil
	}
	return s
}

// checkPost admits a state-changing request: from the console's origin,
// and, for a request with a session, carrying its CSRF token. It returns
// the session, nil for none.
func (c *consoleServer) checkPost(w http.ResponseWriter, r *http.Request) (*consoleSession, bool) {
	if !sameOrigin(r) {
		consoleError(w, http.StatusForbidden, "cross-origin request refused")
		return nil, false
	}
	if _, err := r.Cookie(cookieName(r)); err != nil {
		return nil, true // no session: read-only
	}
	s := c.lookup(r)
	if s == nil {
		// A session this node no longer holds (it expired, or the node
		// restarted): forget the cookie, so the page falls back to
		// read-only.
		clearCookie(w, r)
		consoleError(w, http.StatusUnauthorized, "the session has ended: log in again")
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(s.csrf)) != 1 {
		consoleError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader)
		return nil, false
	}
	return s, true
}

// SessionView is what GET /console/session and POST /console/login answer.
type SessionView struct {
	// Perm is the session's permission, "read" without a login.
	Perm string `json:"perm"`
	// CSRF is the token to send as X-CSRF-Token on every POST; empty
	// without a login.
	CSRF string `json:"csrf,omitempty"`
	// Account is the operator account, which signs what the node signs.
	Account string `json:"account"`
}

func (c *consoleServer) view(s *consoleSession) SessionView {
	v := SessionView{Perm: PermRead.String(), Account: c.n.repo.Config.Identity.Account}
	if s != nil {
		v.Perm, v.CSRF = s.perm.String(), s.csrf
	}
	return v
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func (c *consoleServer) session(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, c.view(c.lookup(r)))
}

// login exchanges an API token ({"token": ...}) for a session cookie. The
// token is checked and forgotten: the browser keeps only the cookie, which
// scripts cannot read.
func (c *consoleServer) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		consoleError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	// A JSON body cannot come from a cross-site form without a CORS
	// preflight, which is never granted.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		consoleError(w, http.StatusUnsupportedMediaType, "send the token as application/json")
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<10)).Decode(&body); err != nil {
		consoleError(w, http.StatusBadRequest, "bad login: "+err.Error())
		return
	}
	perm, err := c.n.auth.Check(body.Token)
	if err != nil {
		consoleError(w, http.StatusUnauthorized, "invalid token")
		return
	}
	s, err := c.startSession(w, r, perm)
	if err != nil {
		consoleError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, c.view(s))
}

// startSession opens a session with perm and sets its cookie on w.
func (c *consoleServer) startSession(w http.ResponseWriter, r *http.Request, perm Perm) (*consoleSession, error) {
	id, err := randomToken()
	var csrf string
	if err == nil {
		csrf, err = randomToken()
	}
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	s := &consoleSession{perm: perm, csrf: csrf, expires: c.n.opts.Now().Add(consoleSessionTTL)}
	c.mu.Lock()
	c.evictLocked()
	c.sessions[id] = s
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(r), Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		MaxAge: int(consoleSessionTTL / time.Second),
	})
	c.n.log.Info("console login", "perm", perm.String())
	return s, nil
}

// link makes a login link: a one-time code, valid for consoleLinkTTL,
// that opens a session with perm when the browser follows it.
func (c *consoleServer) link(perm Perm) (string, error) {
	code, err := randomToken()
	if err != nil {
		return "", err
	}
	now := c.n.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, l := range c.links {
		if now.After(l.expires) {
			delete(c.links, k)
		}
	}
	if len(c.links) >= maxConsoleLogins {
		return "", fmt.Errorf("%w: too many login links waiting", errBadRequest)
	}
	c.links[code] = &consoleSession{perm: perm, expires: now.Add(consoleLinkTTL)}
	return "http://" + c.n.httpAddr + consoleLoginPath + "?code=" + code, nil
}

// loginLink follows a login link: it spends the code, opens the session and
// sends the browser to the console.
func (c *consoleServer) loginLink(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	c.mu.Lock()
	l := c.links[code]
	delete(c.links, code)
	c.mu.Unlock()
	if l == nil || c.n.opts.Now().After(l.expires) {
		http.Error(w, "this login link was used or has expired: run openledger console again", http.StatusUnauthorized)
		return
	}
	if _, err := c.startSession(w, r, l.perm); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// evictLocked makes room for one more session: it drops the expired ones
// and, while the table is full, the one expiring first.
func (c *consoleServer) evictLocked() {
	now := c.n.opts.Now()
	for id, s := range c.sessions {
		if now.After(s.expires) {
			delete(c.sessions, id)
		}
	}
	for len(c.sessions) >= maxConsoleLogins {
		var first string
		for id, s := range c.sessions {
			if first == "" || s.expires.Before(c.sessions[first].expires) {
				first = id
			}
		}
		delete(c.sessions, first)
	}
}

func (c *consoleServer) logout(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.checkPost(w, r); !ok {
		return
	}
	if ck, err := r.Cookie(cookieName(r)); err == nil {
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
	}
	clearCookie(w, r)
	writeJSON(w, c.view(nil))
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// rpc answers JSON-RPC calls of the console page with the session's
// permission (read without one), through the same server and permission
// table as /rpc/v0.
func (c *consoleServer) rpc(w http.ResponseWriter, r *http.Request) {
	s, ok := c.checkPost(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if s != nil && s.perm > permFrom(ctx) {
		ctx = withPerm(ctx, s.perm)
	}
	c.n.httpServer.ServeHTTP(w, r.WithContext(ctx))
}

// eventsKeepalive is how often an idle event stream sends a comment, so
// proxies and browsers keep it open.
const eventsKeepalive = 25 * time.Second

// events streams datanet_subscribe("objects", ?datanet=ID) as server-sent
// events ("object" events with the ObjectEvent as data). Objects are
// public (read), so it needs no session.
func (c *consoleServer) events(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		consoleError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	ctx := r.Context()
	client := c.n.InProc()
	defer client.Close()
	ch := make(chan ObjectEvent, feedBuffer)
	sub, err := NewAPI(client).DatanetObjects(ctx, ch, r.URL.Query().Get("datanet"))
	if err != nil {
		consoleError(w, httpStatus(err), err.Error())
		return
	}
	defer sub.Unsubscribe()
	// A stream has no end: lift any write deadline of the server.
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": openledger objects\n\n")
	rc.Flush()
	tick := time.NewTicker(eventsKeepalive)
	defer tick.Stop()
	for {
		select {
		case ev := <-ch:
			data, err := json.Marshal(ev)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "event: object\ndata: %s\n\n", data); err != nil {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
		case <-sub.Err():
			return
		case <-ctx.Done():
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// ConsoleLink returns a one-time link that opens the web console logged in
// with permission perm: valid once, for two minutes. It needs the HTTP API
// running (a daemon).
func (a *authAPI) ConsoleLink(ctx context.Context, perm string) (string, error) {
	p, err := ParsePerm(perm)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	c := a.n.console.Load()
	if c == nil {
		return "", fmt.Errorf("%w: the console is served by a running daemon", ErrOffline)
	}
	return c.link(p)
}
