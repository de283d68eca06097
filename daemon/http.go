package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/pprof"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// Paths of the HTTP API.
const (
	RPCPath     = "/rpc/v0"
	ContentPath = "/content/"
	MetricsPath = "/debug/metrics/prometheus"
	PprofPath   = "/debug/pprof/"
)

func requireHTTPPerm(need Perm, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := requirePerm(r.Context(), need); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(RPCPath, n.instrument("rpc", n.httpServer))
	mux.Handle(ContentPath, n.instrument("content", sandboxContent(http.HandlerFunc(n.serveContent))))
	mux.Handle(MetricsPath, n.instrument("metrics", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{})))
	// Go's profiler, for operators: it can stall the process and reveal
	// internals, so it needs an admin token.
	mux.Handle(PprofPath, requireHTTPPerm(PermAdmin, http.HandlerFunc(pprof.Index)))
	mux.Handle(PprofPath+"profile", requireHTTPPerm(PermAdmin, http.HandlerFunc(pprof.Profile)))
	mux.Handle(PprofPath+"trace", requireHTTPPerm(PermAdmin, http.HandlerFunc(pprof.Trace)))
	n.mountConsole(mux)
	return n.authenticate(mux)
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
// contribution, a directory in it, or another object.
func (n *Node) serveContent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, ContentPath)
	var res *datanet.Resolved
	var err error
	if !n.isSnapshotRoot(r.Context(), p) { // a snapshot is listed a page at a time, never resolved whole
		res, err = n.registry.Resolve(r.Context(), p)
	}
	if datanet.IsNotFound(err) && n.net != nil {
		// Not here: fetch it from the network, then serve it.
		if _, err := n.fetch(r.Context(), p, nil); err != nil {
			http.Error(w, err.Error(), httpStatus(err))
			return
		}
		res, err = n.registry.Resolve(r.Context(), p)
	}
	if err != nil {
		http.Error(w, err.Error(), httpStatus(err))
		return
	}
	if res == nil || res.File == nil {
		page := &PageArgs{After: r.URL.Query().Get("after")}
		if l := r.URL.Query().Get("limit"); l != "" {
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
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(ls)
		return
	}
	rs, err := n.registry.OpenFile(r.Context(), res)
	if errors.Is(err, storage.ErrNotFound) && n.net != nil {
		if _, err := n.fetch(r.Context(), p, nil); err != nil {
			http.Error(w, err.Error(), httpStatus(err))
			return
		}
		rs, err = n.registry.OpenFile(r.Context(), res)
	}
	if err != nil {
		http.Error(w, err.Error(), httpStatus(err))
		return
	}
	ctype := "application/octet-stream"
	if res.Kind == datanet.ResolvedFile {
		if t := mime.TypeByExtension(path.Ext(res.File.Path)); t != "" {
			ctype = t
		}
	}
	vr := &verifiedReader{r: rs}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Content never changes under its CID: the ETag is the path itself.
	w.Header().Set("Etag", strconv.Quote(res.CID.String()+"/"+res.Path))
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
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
