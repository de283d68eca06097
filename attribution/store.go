package attribution

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/internal/atomicfile"
)

// Store is a directory of index segments and of manifests that name them.
// It is safe for concurrent use by one process; two processes must not
// share a directory (the daemon holds the repo lock).
type Store struct {
	dir   string
	build sync.Mutex // held for a Build
	mu    sync.Mutex // guards metas
	// metas caches the checked metas of the segments seen, by ID. A
	// segment never changes once visible, so a meta read stays true.
	metas map[string]*segmentMeta
}

// OpenStore opens the store in dir, creating it if needed, and removes
// what a crashed build left in its tmp directory.
func OpenStore(dir string) (*Store, error) {
	for _, d := range []string{segmentsDir, manifestsDir, tmpDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("attribution: open store: %w", err)
		}
	}
	ff := filepath.Join(dir, storeFormatFile)
	switch b, err := os.ReadFile(ff); {
	case errors.Is(err, fs.ErrNotExist):
		if err := atomicfile.WriteFile(ff, []byte(storeFormat), 0o644); err != nil {
			return nil, fmt.Errorf("attribution: open store: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("attribution: open store: %w", err)
	case string(b) != storeFormat:
		return nil, fmt.Errorf("%w: %s holds %q, this node reads %q", ErrCorrupt, ff, b, storeFormat)
	}
	leftovers, err := os.ReadDir(filepath.Join(dir, tmpDir))
	if err != nil {
		return nil, fmt.Errorf("attribution: open store: %w", err)
	}
	for _, e := range leftovers {
		if err := os.RemoveAll(filepath.Join(dir, tmpDir, e.Name())); err != nil {
			return nil, fmt.Errorf("attribution: open store: remove a crashed build's files: %w", err)
		}
	}
	return &Store{dir: dir, metas: map[string]*segmentMeta{}}, nil
}

// SegmentInfo describes a segment of a manifest.
type SegmentInfo struct {
	ID            string `json:"id"`
	Contributions int    `json:"contributions"`
	TextBytes     int64  `json:"text_bytes"`
}

// Manifest records an index built under a name: the contributions it
// covers and the segments that hold their text.
type Manifest struct {
	Format        int           `json:"format"`
	Name          string        `json:"name"`
	Contributions []cid.Cid     `json:"contributions"` // sorted by CID bytes
	Segments      []SegmentInfo `json:"segments"`      // sorted by ID
	// Built lists the IDs of the segments written by the Build that
	// returned the manifest; the others were in the store already. It is
	// not stored.
	Built []string `json:"-"`
}

// TextBytes is the size of the indexed text of m's segments.
func (m *Manifest) TextBytes() int64 {
	var n int64
	for _, s := range m.Segments {
		n += s.TextBytes
	}
	return n
}

// checkName rejects names that are not a plain file name: a manifest is
// stored as manifests/NAME.json.
func checkName(name string) error {
	ok := len(name) > 0 && len(name) <= 200 && name[0] != '.'
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("attribution: bad index name %q: want 1-200 letters, digits, '.', '_' or '-', not starting with '.'", name)
	}
	return nil
}

// Manifest returns the manifest of the index built under name, or
// ErrNoManifest.
func (s *Store) Manifest(name string) (*Manifest, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(s.dir, manifestsDir, name+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoManifest, name)
	}
	if err != nil {
		return nil, fmt.Errorf("attribution: read manifest %s: %w", name, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest %s: %w", ErrCorrupt, name, err)
	}
	if m.Format != formatVersion || m.Name != name {
		return nil, fmt.Errorf("%w: manifest %s: format %d, name %q", ErrCorrupt, name, m.Format, m.Name)
	}
	return &m, nil
}

// Indexed reports whether an index was built under name and all its
// segments are still in the store.
func (s *Store) Indexed(name string) bool {
	m, err := s.Manifest(name)
	if err != nil {
		return false
	}
	metas, err := s.scan()
	if err != nil {
		return false
	}
	for _, seg := range m.Segments {
		if metas[seg.ID] == nil {
			return false
		}
	}
	return true
}

// manifestNames lists the names of the stored manifests, sorted.
func (s *Store) manifestNames() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, manifestsDir))
	if err != nil {
		return nil, fmt.Errorf("attribution: list manifests: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && checkName(n) == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// scan returns the metas of the segments in the store, reading the new
// ones. A segment whose meta does not check is an error: delete its
// directory and build again.
func (s *Store) scan() (map[string]*segmentMeta, error) {
	dir := filepath.Join(s.dir, segmentsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("attribution: list segments: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := make(map[string]*segmentMeta, len(entries))
	for _, e := range entries {
		id := e.Name()
		if !e.IsDir() || !isSegmentID(id) {
			continue
		}
		m := s.metas[id]
		if m == nil {
			if m, err = readMeta(dir, id); err != nil {
				return nil, err
			}
		}
		fresh[id] = m
	}
	s.metas = fresh
	return fresh, nil
}

// Check rereads every segment's files and compares them with the sizes
// and hashes in its meta, so silent corruption of the disk shows. It reads
// the whole index.
func (s *Store) Check(ctx context.Context) error {
	metas, err := s.scan()
	if err != nil {
		return err
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range metas {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		m := metas[id]
		for _, f := range []struct {
			name, sum string
			size      int64
		}{
			{textFile, m.SHA256.Text, m.TextBytes},
			{saFile, m.SHA256.SA, saEntry * m.TextBytes},
			{offsetsFile, m.SHA256.Offsets, recordSize * m.Records},
		} {
			if err := checkFile(ctx, filepath.Join(s.dir, segmentsDir, id, f.name), f.size, f.sum); err != nil {
				return fmt.Errorf("%w: segment %s: %w", ErrCorrupt, id, err)
			}
		}
	}
	return nil
}

func checkFile(ctx context.Context, path string, size int64, sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%s is %d bytes, want %d", filepath.Base(path), n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%s hashes to %s, want %s", filepath.Base(path), got, sum)
	}
	return nil
}

// ctxReader stops reading when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// A unit is what covers contributions: one segment of whole
// contributions, or all the parts of one contribution.
type unit struct {
	key       string // the segment ID, or the parts' group and layout
	metas     []*segmentMeta
	contribs  []string          // contribution keys, sorted
	digests   map[string]string // contribution key → digest of its documents
	textBytes int64
}

// units groups the segments into units, complete ones only, in the order
// a cover takes them: most contributions first, then most text, then by
// key.
func units(metas map[string]*segmentMeta) []*unit {
	var out []*unit
	parts := map[string][]*segmentMeta{}
	for id, m := range metas {
		if m.Part != nil {
			k := fmt.Sprintf("%s/%v", m.Part.Group, m.Part.Starts)
			parts[k] = append(parts[k], m)
			continue
		}
		u := &unit{key: id, metas: []*segmentMeta{m}, contribs: m.keys(), digests: map[string]string{}, textBytes: m.TextBytes}
		dk := m.docKeys()
		for i, c := range u.contribs {
			u.digests[c] = contributionDigest(c, dk[i])
		}
		out = append(out, u)
	}
	for k, ms := range parts {
		first := ms[0]
		byIndex := make([]*segmentMeta, len(first.Part.Starts))
		for _, m := range ms {
			byIndex[m.Part.Index] = m
		}
		if slices.Contains(byIndex, nil) {
			continue
		}
		c := first.Contributions[0].KeyString()
		u := &unit{key: k, metas: byIndex, contribs: []string{c}, digests: map[string]string{c: first.Part.Group}}
		for _, m := range byIndex {
			u.textBytes += m.TextBytes
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *unit) int {
		if c := cmp.Compare(len(b.contribs), len(a.contribs)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.textBytes, a.textBytes); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

// cover chooses pairwise-disjoint units that hold only wanted
// contributions, taking the units of first, then the others in order: the
// same store and the same wants give the same choice. With digests, a unit
// is taken only if its documents of each contribution are the ones wanted.
// It returns the units and the contributions they cover.
func cover(all []*unit, want map[string]bool, digests map[string]string, first []*unit) ([]*unit, map[string]bool) {
	used := map[string]bool{}
	var chosen []*unit
	take := func(u *unit) {
		for _, c := range u.contribs {
			if !want[c] || used[c] || digests != nil && digests[c] != u.digests[c] {
				return
			}
		}
		for _, c := range u.contribs {
			used[c] = true
		}
		chosen = append(chosen, u)
	}
	for _, u := range first {
		take(u)
	}
	for _, u := range all {
		take(u)
	}
	return chosen, used
}

// missing lists the wanted contributions not covered, sorted by bytes.
func missing(want, covered map[string]bool) []cid.Cid {
	var out []cid.Cid
	for c := range want {
		if !covered[c] {
			id, _ := cid.Cast([]byte(c)) // keys come from valid CIDs
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b cid.Cid) int { return strings.Compare(a.KeyString(), b.KeyString()) })
	return out
}
