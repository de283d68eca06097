package daemon

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// KindHeader names what a /content/ answer is: a datanet.Resolved kind
// (shard, file, directory, object) or "block" for an IPLD block.
const KindHeader = "X-Openledger-Kind"

// The IPLD block media types of the trustless gateway protocol.
const (
	MediaRaw     = "application/vnd.ipld.raw"
	MediaDagCBOR = "application/vnd.ipld.dag-cbor"
)

// contentCSP is the Content-Security-Policy of every /content/ answer. A
// sandbox without allow-same-origin puts a contributed page (HTML, SVG) in
// an opaque origin, without scripts, forms, plugins or top navigation: its
// requests say "Origin: null" and Sec-Fetch-Site: cross-site, which the
// JSON-RPC refuses (ownPagesOnly), and it can read nothing of the API's
// origin. The rule for pages of the daemon's own (the web console) is the
// converse: they are never served under /content/ (docs/api.md, Browsers).
const contentCSP = "sandbox"

// maxRanges bounds the ranges of one request, like nginx's max_ranges: a
// request naming more is answered as if it named none (200, the whole
// content). Each switch between shards rehashes a shard (up to 4 MiB), so
// many small ranges alternating between shards cost CPU out of proportion
// to the bytes sent.
const maxRanges = 16

// contentHeaders sets the headers every /content/ answer carries, errors
// included.
func contentHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept")
}

// extraTypes are the media types of extensions that Go's table (and the
// host's mime.types, which differs between machines) lacks or gets wrong.
var extraTypes = map[string]string{
	".jsonl":  "application/x-ndjson",
	".ndjson": "application/x-ndjson",
}

// contentType is the Content-Type of a file, by its extension.
func contentType(res *datanet.Resolved) string {
	if res.Kind != datanet.ResolvedFile {
		return "application/octet-stream"
	}
	ext := strings.ToLower(path.Ext(res.File.Path))
	if t, ok := extraTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// blockFormat returns the block media type a request asks for, by
// ?format=raw|dag-cbor or else by Accept, as IPFS gateways do; "" asks for
// the usual answer (a file's bytes or a listing).
func blockFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "":
	case "raw":
		return MediaRaw, nil
	case "dag-cbor":
		return MediaDagCBOR, nil
	default:
		return "", fmt.Errorf("format %q is not served (raw or dag-cbor)", f)
	}
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && (mt == MediaRaw || mt == MediaDagCBOR) {
				return mt, nil
			}
		}
	}
	return "", nil
}

// boundRanges applies the daemon's rules on Range before http.ServeContent
// sees it: more than maxRanges ranges are ignored, and any range of an empty
// file is unsatisfiable (416; ServeContent would answer 200, or a 206 with
// "bytes 0--1/0" for a suffix range). It reports false when it answered.
func boundRanges(w http.ResponseWriter, r *http.Request, size int64) (*http.Request, bool) {
	rng := r.Header.Get("Range")
	if rng == "" || !strings.HasPrefix(rng, "bytes=") {
		return r, true
	}
	if ir := r.Header.Get("If-Range"); ir != "" && ir != w.Header().Get("Etag") {
		return r, true // ServeContent sends the whole content
	}
	if size == 0 {
		w.Header().Set("Content-Range", "bytes */0")
		http.Error(w, "range not satisfiable: the content is empty", http.StatusRequestedRangeNotSatisfiable)
		return nil, false
	}
	if strings.Count(rng, ",") >= maxRanges {
		r = r.Clone(r.Context())
		r.Header.Del("Range")
	}
	return r, true
}

// mayFetch says whether r may make the node fetch what it does not hold:
// a fetch costs bandwidth and disk, and any web page can make a browser ask
// for /content/ (an <img>). Requests with a token (already checked by
// authenticate), requests that are not from a foreign page (foreignPage),
// and, with api.public_gateway, every request may.
func (n *Node) mayFetch(r *http.Request, what string) error {
	if n.repo.Config.API.PublicGateway || r.Header.Get("Authorization") != "" || !foreignPage(r) {
		return nil
	}
	return fmt.Errorf("%w: %s is not held here, and a request from another web page does not make this node fetch it "+
		"(only the API's own pages, tools and token holders do; api.public_gateway lets every request)", ErrPermission, what)
}

// fetchForHTTP fetches content path p from the network for r, if r may.
func (n *Node) fetchForHTTP(r *http.Request, p string) error {
	if err := n.mayFetch(r, p); err != nil {
		return err
	}
	_, err := n.fetch(r.Context(), p, nil)
	return err
}

// serveBlock answers a request for the block of a CID as the trustless
// gateway protocol does: its exact stored bytes, which hash to the CID. A
// shard is a raw block; a signed object is a DAG-CBOR block, served as
// either type.
func (n *Node) serveBlock(w http.ResponseWriter, r *http.Request, p, format string) {
	c, sub, err := datanet.ParsePath(p)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if sub != "" {
		http.Error(w, fmt.Sprintf("a block is named by its CID alone: %s with a path has no %s form", c, format), http.StatusBadRequest)
		return
	}
	suffix, ext := "raw", "bin"
	if format == MediaDagCBOR {
		suffix, ext = "dag-cbor", "cbor"
	}
	h := w.Header()
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.String()+"."+ext))
	etag := c.String() + "." + suffix
	switch codec := c.Prefix().Codec; {
	case codec == cid.Raw && format == MediaRaw:
		res, err := n.resolveForHTTP(r, c.String())
		if err != nil {
			http.Error(w, err.Error(), httpStatus(err))
			return
		}
		h.Set(KindHeader, "block")
		n.serveFile(w, r, c.String(), res, MediaRaw, etag)
	case codec == cid.DagCBOR:
		data, err := n.registry.Get(r.Context(), c)
		if datanet.IsNotFound(err) && n.net != nil {
			if err = n.mayFetch(r, c.String()); err == nil {
				if err = n.fetchObject(r.Context(), c); err == nil {
					data, err = n.registry.Get(r.Context(), c)
				}
			}
		}
		if err != nil {
			http.Error(w, err.Error(), httpStatus(err))
			return
		}
		h.Set(KindHeader, "block")
		h.Set("Content-Type", format)
		h.Set("Etag", strconv.Quote(etag))
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	default:
		http.Error(w, fmt.Sprintf("%s is a %s block, not %s", c, codecName(codec), format), http.StatusNotAcceptable)
	}
}

func codecName(codec uint64) string {
	switch codec {
	case cid.Raw:
		return "raw"
	case cid.DagCBOR:
		return "dag-cbor"
	}
	return "0x" + strconv.FormatUint(codec, 16)
}
