package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// Paths of the HTTP API.
const (
	RPCPath     = "/rpc/v0"
	ContentPath = "/content/"
	// ChainRPCPath serves the embedded dev chain's JSON-RPC (http_chain.go).
	ChainRPCPath = "/chain/rpc"
	MetricsPath  = "/debug/metrics/prometheus"
	PprofPath    = "/debug/pprof/"
)

// maxRequestBody bounds a request's body (a JSON-RPC call or batch), which
// is read whole within api.read_timeout before the handler runs.
const maxRequestBody = 1 << 20

func requireHTTPPerm(need Perm, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := requirePerm(r.Context(), need); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (n *Node) httpHandler(l httpLimits) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(RPCPath, n.instrument("rpc", ownPagesOnly(n.httpServer)))
	mux.Handle(ChainRPCPath, n.instrument("chain", http.HandlerFunc(n.serveChainRPC)))
	mux.Handle(ContentPath, n.instrument("content", http.HandlerFunc(n.serveContent)))
	mux.Handle(MetricsPath, n.instrument("metrics", ownPagesOnly(promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))))
	// Go's profiler, for operators: it can stall the process and reveal
	// internals, so it needs an admin token.
	mux.Handle(PprofPath, ownPagesOnly(requireHTTPPerm(PermAdmin, http.HandlerFunc(pprof.Index))))
	mux.Handle(PprofPath+"profile", ownPagesOnly(requireHTTPPerm(PermAdmin, http.HandlerFunc(pprof.Profile))))
	mux.Handle(PprofPath+"trace", ownPagesOnly(requireHTTPPerm(PermAdmin, http.HandlerFunc(pprof.Trace))))
	n.mountConsole(mux)
	return n.authenticate(readBodyWithin(l.read, mux))
}

// serveHTTP serves the HTTP API on ln within the api.* bounds: a client
// gets read_header_timeout for its headers and read_timeout for its body
// (readBodyWithin); responses have no deadline (downloads, long calls,
// later WebSocket subscriptions); idle connections close after
// idle_timeout; past max_connections new connections wait to be accepted.
func (n *Node) serveHTTP(ln net.Listener) error {
	l, err := n.repo.Config.API.limits()
	if err != nil {
		return fmt.Errorf("config api.%w", err)
	}
	n.httpSrv = &http.Server{
		Handler:           n.httpHandler(l),
		ReadHeaderTimeout: l.readHeader,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return n.ctx },
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	ln = netutil.LimitListener(ln, l.maxConns)
	n.wg.Go(func() {
		if err := n.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http api stopped", "err", err)
		}
	})
	return nil
}

// readBodyWithin reads a request's body (at most maxRequestBody bytes)
// before the handler runs, within d, then lifts the deadline: a client
// trickling a body is cut after d, and the response that follows has no
// deadline. (http.Server.ReadTimeout would instead cancel a long response's
// context when it expires.)
func readBodyWithin(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxRequestBody {
			http.Error(w, fmt.Sprintf("request body of %d bytes: at most %d", r.ContentLength, maxRequestBody), http.StatusRequestEntityTooLarge)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			http.Error(w, "set read deadline: "+err.Error(), http.StatusInternalServerError)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			// Most likely the deadline: the connection is done.
			http.Error(w, "read request body: "+err.Error(), http.StatusRequestTimeout)
			return
		}
		if err := rc.SetReadDeadline(time.Time{}); err != nil {
			http.Error(w, "clear read deadline: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if len(body) > maxRequestBody {
			http.Error(w, fmt.Sprintf("request body over %d bytes", maxRequestBody), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// authenticate admits loopback requests addressed to a loopback host name
// (which defeats DNS rebinding) and records the permission of the bearer
// token, or read without one.
func (n *Node) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHostPort(r.RemoteAddr) {
			http.Error(w, "the API serves loopback clients only", http.StatusForbidden)
			return
		}
		if !isLoopbackHost(r.Host) {
			http.Error(w, "Host header must name a loopback address", http.StatusForbidden)
			return
		}
		perm := PermRead
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				http.Error(w, "Authorization must be a Bearer token", http.StatusUnauthorized)
				return
			}
			p, err := n.auth.Check(token)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			perm = p
		}
		next.ServeHTTP(w, r.WithContext(withPerm(r.Context(), perm)))
	})
}

// foreignPage reports whether a browser sent r for a page that is not one
// of the API's own: a page of another site or port, or a contribution's
// page under /content/ (served sandboxed, so its requests say
// "Origin: null"). It judges by the headers a browser sets and a page
// cannot forge: Sec-Fetch-Site, Origin, and Referer (a request referred
// by /content/ is a contribution's, whatever else it says). A request
// with none of them comes from a tool (curl, the CLI, ethers in Node.js),
// not from a page. See docs/api.md, Browsers.
func foreignPage(r *http.Request) bool {
	self := "http://" + r.Host
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme+"://"+u.Host != self || strings.HasPrefix(u.Path, ContentPath) {
			return true
		}
	}
	if o := r.Header.Get("Origin"); o != "" && o != self {
		return true // includes "null", a sandboxed page's
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site != "" && site != "same-origin" && site != "none"
}

// ownPagesOnly refuses requests from foreign pages (foreignPage): only the
// API's own pages and tools may call h.
func ownPagesOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if foreignPage(r) {
			http.Error(w, "requests from other web pages (another origin, or content served under "+ContentPath+") are refused", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isLoopbackHostPort(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type statusRecorder struct {
	http.ResponseWriter
	code    int
	written int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (n *Node) instrument(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			code := rec.code
			if code == 0 {
				code = http.StatusOK
			}
			n.metrics.httpRequests.WithLabelValues(name, strconv.Itoa(code)).Inc()
			if name == "content" {
				n.metrics.contentBytes.Add(float64(rec.written))
			}
		}()
		h.ServeHTTP(rec, r)
	})
}

// isSnapshotRoot reports whether the content path p names a whole
// snapshot held here.
func (n *Node) isSnapshotRoot(ctx context.Context, p string) bool {
	root, sub, err := datanet.ParsePath(p)
	if err != nil || sub != "" || root.Prefix().Codec == cid.Raw {
		return false
	}
	_, err = n.registry.Snapshot(ctx, root)
	return err == nil
}

// serveContent answers GET/HEAD /content/{cid}[/path]: the verified bytes of
// a file or shard (with Range support), or a JSON listing for a
// contribution, a directory in it, or another object; with ?format= or an
// Accept of an IPLD block type, the block of a CID (serveBlock). Every
// answer is sandboxed (contentHeaders).
func (n *Node) serveContent(w http.ResponseWriter, r *http.Request) {
	contentHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, ContentPath)
	format, err := blockFormat(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if format != "" {
		n.serveBlock(w, r, p, format)
		return
	}
	res, err := n.resolveForHTTP(r, p)
	if err != nil {
		http.Error(w, err.Error(), httpStatus(err))
		return
	}
	if res == nil || res.File == nil {
		n.serveListing(w, r, p)
		return
	}
	etag := res.CID.String()
	if res.Path != "" {
		etag += "/" + res.Path
	}
	w.Header().Set(KindHeader, res.Kind)
	n.serveFile(w, r, p, res, contentType(res), etag)
}

// resolveForHTTP resolves content path p, fetching it from the network
// first if it is not held and r may make the node fetch (fetchForHTTP). A
// whole snapshot resolves to nil: it is listed a page at a time, never
// resolved whole.
func (n *Node) resolveForHTTP(r *http.Request, p string) (*datanet.Resolved, error) {
	if n.isSnapshotRoot(r.Context(), p) {
		return nil, nil
	}
	res, err := n.registry.Resolve(r.Context(), p)
	if datanet.IsNotFound(err) && n.net != nil {
		if err := n.fetchForHTTP(r, p); err != nil {
			return nil, err
		}
		res, err = n.registry.Resolve(r.Context(), p)
	}
	return res, err
}

// serveListing answers a content path that is not a file with its JSON
// listing (content_ls), a page at a time (?after=&limit=).
func (n *Node) serveListing(w http.ResponseWriter, r *http.Request, p string) {
	page := &PageArgs{After: r.URL.Query().Get("after")}
	if l := r.URL.Query().Get("limit"); l != "" {
		var err error
		if page.Limit, err = strconv.Atoi(l); err != nil {
			http.Error(w, "limit: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	ls, err := n.ls(r.Context(), p, page)
	if err != nil {
		http.Error(w, err.Error(), httpStatus(err))
		return
	}
	w.Header().Set(KindHeader, ls.Kind)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(ls)
}

// serveFile streams the verified bytes of a file or shard, fetching missing
// shards first (if this request may: fetchForHTTP).
func (n *Node) serveFile(w http.ResponseWriter, r *http.Request, p string, res *datanet.Resolved, ctype, etag string) {
	rs, err := n.registry.OpenFile(r.Context(), res)
	if errors.Is(err, storage.ErrNotFound) && n.net != nil {
		if err := n.fetchForHTTP(r, p); err != nil {
			http.Error(w, err.Error(), httpStatus(err))
			return
		}
		rs, err = n.registry.OpenFile(r.Context(), res)
	}
	if err != nil {
		http.Error(w, err.Error(), httpStatus(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	// Content never changes under its CID: the ETag is the path itself.
	h.Set("Etag", strconv.Quote(etag))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	r, ok := boundRanges(w, r, int64(res.File.Size))
	if !ok {
		return
	}
	vr := &verifiedReader{r: rs}
	http.ServeContent(w, r, "", time.Time{}, vr)
	if vr.err != nil {
		// Stored bytes failed verification after the headers went out.
		// Abort the connection so the client sees a truncated response
		// instead of a complete one with wrong bytes.
		n.metrics.contentErrs.Inc()
		n.log.Error("abort content response", "path", p, "err", vr.err)
		panic(http.ErrAbortHandler)
	}
}

// verifiedReader remembers the first read error other than EOF, which
// http.ServeContent swallows.
type verifiedReader struct {
	r   io.ReadSeeker
	err error
}

func (v *verifiedReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && v.err == nil {
		v.err = err
	}
	return n, err
}

func (v *verifiedReader) Seek(off int64, whence int) (int64, error) { return v.r.Seek(off, whence) }
