// Package console is the web console's page: plain HTML, CSS and ES
// modules embedded in the binary, served by the daemon at "/" with a
// strict Content-Security-Policy (no inline script, nothing from another
// origin). The page talks to the daemon's console endpoints (login,
// session, JSON-RPC, events), which the daemon package serves; this package
// owns no logic of the node and holds no secret.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// Files is the console's files: index.html, the style sheet and the
// modules.
func Files() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has assets/
	}
	return sub
}

// Policy is the Content-Security-Policy of every console response: scripts
// and styles only from the console's own files, connections only to its
// own origin, images also from data: URLs (thumbnails), and no framing.
const Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the console's files: "/" is index.html, anything else is
// the file of that name.
func Handler() http.Handler {
	files := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", Policy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p == "" || p == "index.html" {
			// FileServer redirects /index.html to /; serve the page itself.
			http.ServeFileFS(w, r, Files(), "index.html")
			return
		}
		files.ServeHTTP(w, r)
	})
}
