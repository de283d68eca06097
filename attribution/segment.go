package attribution

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipfs/go-cid"
)

// formatVersion is the version of the on-disk format, hashed into every
// segment ID and written in every meta and manifest.
const formatVersion = 1

// Files and directories of a store (see the package documentation).
const (
	storeFormatFile = "FORMAT"
	segmentsDir     = "segments"
	manifestsDir    = "manifests"
	tmpDir          = "tmp"
	metaFile        = "meta.json"
	textFile        = "text"
	saFile          = "sa"
	offsetsFile     = "offsets"
	storeFormat     = "openledger-attribution-index 1\n"
)

// saEntry is the size of a suffix array entry and recordSize that of an
// offset table record, in bytes.
const (
	saEntry    = 4
	recordSize = 24
)

// maxTextBytes is the largest segment text: the suffix array's entries
// are int32.
const maxTextBytes = math.MaxInt32

// segmentMeta is a segment's meta.json: what it holds, and the sizes and
// hashes of its files.
type segmentMeta struct {
	Format int    `json:"format"`
	ID     string `json:"id"`
	// Contributions the segment covers, sorted by CID bytes, including
	// ones with no document.
	Contributions []cid.Cid `json:"contributions"`
	// Docs are the documents indexed, sorted by contribution then file;
	// a record's doc field indexes this list.
	Docs []docEntry `json:"docs"`
	// Part is set when the segment holds part of the documents of one
	// contribution too large for one segment.
	Part      *partInfo  `json:"part,omitempty"`
	TextBytes int64      `json:"text_bytes"`
	Records   int64      `json:"records"`
	SHA256    fileHashes `json:"sha256"`
}

type docEntry struct {
	Contribution int    `json:"c"` // index in segmentMeta.Contributions
	File         uint32 `json:"file"`
	Kind         string `json:"kind"`
	Size         int64  `json:"size"`
}

// partInfo places a segment among the parts of one contribution's
// documents. The parts with the same Group and Starts make a whole.
type partInfo struct {
	// Group is the digest of the contribution and all its documents.
	Group string `json:"group"`
	// Starts is, for each part, the index of its first document among the
	// contribution's documents.
	Starts []int `json:"starts"`
	Index  int   `json:"index"`
}

type fileHashes struct {
	Text    string `json:"text"`
	SA      string `json:"sa"`
	Offsets string `json:"offsets"`
}

// docKey is what identifies a document's text: its file, kind and size
// (the bytes themselves are fixed by the contribution's CID).
type docKey struct {
	File uint32
	Kind string
	Size int64
}

// writeDocKeys hashes a contribution and its documents into h.
func writeDocKeys(h interface{ Write([]byte) (int, error) }, c string, docs []docKey) {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(c)))
	b = append(b, c...)
	b = binary.AppendUvarint(b, uint64(len(docs)))
	for _, d := range docs {
		b = binary.AppendUvarint(b, uint64(d.File))
		b = binary.AppendUvarint(b, uint64(d.Size))
		b = binary.AppendUvarint(b, uint64(len(d.Kind)))
		b = append(b, d.Kind...)
	}
	h.Write(b)
}

// contributionDigest is the digest of a contribution with all its
// documents: two segments hold the same text of a contribution only if
// their digests of it agree.
func contributionDigest(c string, docs []docKey) string {
	h := sha256.New()
	fmt.Fprintf(h, "openledger-attribution-contribution/%d\n", formatVersion)
	writeDocKeys(h, c, docs)
	return hex.EncodeToString(h.Sum(nil))
}

// segmentID is the ID of a segment holding docs (grouped by the
// contributions, which are sorted by CID bytes) and, for a part of a
// contribution, its place: the same inputs give the same ID.
func segmentID(contributions []string, docs [][]docKey, part *partInfo) string {
	h := sha256.New()
	fmt.Fprintf(h, "openledger-attribution-segment/%d\n", formatVersion)
	for i, c := range contributions {
		writeDocKeys(h, c, docs[i])
	}
	if part != nil {
		b := []byte("part")
		b = append(b, part.Group...)
		b = binary.AppendUvarint(b, uint64(len(part.Starts)))
		for _, s := range part.Starts {
			b = binary.AppendUvarint(b, uint64(s))
		}
		b = binary.AppendUvarint(b, uint64(part.Index))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// docKeys returns the documents of m grouped by its contributions.
func (m *segmentMeta) docKeys() [][]docKey {
	out := make([][]docKey, len(m.Contributions))
	for _, d := range m.Docs {
		out[d.Contribution] = append(out[d.Contribution], docKey{d.File, d.Kind, d.Size})
	}
	return out
}

func (m *segmentMeta) keys() []string {
	out := make([]string, len(m.Contributions))
	for i, c := range m.Contributions {
		out[i] = c.KeyString()
	}
	return out
}

// check validates a meta read from directory id.
func (m *segmentMeta) check(id string) error {
	if m.Format != formatVersion {
		return fmt.Errorf("format %d, this node reads %d", m.Format, formatVersion)
	}
	if m.ID != id {
		return fmt.Errorf("meta names segment %q", m.ID)
	}
	keys := m.keys()
	for i, c := range m.Contributions {
		if !c.Defined() {
			return fmt.Errorf("undefined contribution %d", i)
		}
		if i > 0 && keys[i-1] >= keys[i] {
			return fmt.Errorf("contributions out of order at %d", i)
		}
	}
	var bound int64
	for i, d := range m.Docs {
		if d.Contribution < 0 || d.Contribution >= len(m.Contributions) || !Indexable(d.Kind) || d.Size < 0 {
			return fmt.Errorf("bad document %d", i)
		}
		if i > 0 {
			p := m.Docs[i-1]
			if p.Contribution > d.Contribution || p.Contribution == d.Contribution && p.File >= d.File {
				return fmt.Errorf("documents out of order at %d", i)
			}
		}
		bound += d.Size + 1
	}
	if m.TextBytes < 0 || m.TextBytes > maxTextBytes || m.TextBytes > bound {
		return fmt.Errorf("text of %d bytes from documents of %d", m.TextBytes, bound)
	}
	if m.Records < 0 || m.Records > m.TextBytes {
		return fmt.Errorf("%d records for %d bytes of text", m.Records, m.TextBytes)
	}
	if p := m.Part; p != nil {
		if len(m.Contributions) != 1 || len(p.Starts) < 2 || p.Starts[0] != 0 || p.Index < 0 || p.Index >= len(p.Starts) {
			return fmt.Errorf("bad part")
		}
		for i := 1; i < len(p.Starts); i++ {
			if p.Starts[i] <= p.Starts[i-1] {
				return fmt.Errorf("bad part")
			}
		}
	}
	if want := segmentID(keys, m.docKeys(), m.Part); want != id {
		return fmt.Errorf("contents hash to %s", want)
	}
	return nil
}

// readMeta reads and checks the meta of segment id in dir.
func readMeta(dir, id string) (*segmentMeta, error) {
	b, err := os.ReadFile(filepath.Join(dir, id, metaFile))
	if err != nil {
		return nil, fmt.Errorf("%w: segment %s: %w", ErrCorrupt, id, err)
	}
	var m segmentMeta
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: segment %s: %s: %w", ErrCorrupt, id, metaFile, err)
	}
	if err := m.check(id); err != nil {
		return nil, fmt.Errorf("%w: segment %s: %s: %w", ErrCorrupt, id, metaFile, err)
	}
	return &m, nil
}

// isSegmentID reports whether name can be a segment ID: 64 lower-case hex
// digits.
func isSegmentID(name string) bool {
	if len(name) != 2*sha256.Size {
		return false
	}
	return strings.IndexFunc(name, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) < 0
}

// A record of the offset table maps the text [TextStart,
// TextStart+TextLen) to the source bytes [SrcOff, SrcOff+SrcLen) of
// document Doc. TextLen == SrcLen means byte for byte; otherwise the text is
// the decoding of one escape sequence, and maps as a whole.
type record struct {
	TextStart, TextLen uint32
	Doc                uint32
	SrcLen             uint32
	SrcOff             uint64
}

func (r record) oneToOne() bool { return r.TextLen == r.SrcLen }

func (r record) append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, r.TextStart)
	b = binary.LittleEndian.AppendUint32(b, r.TextLen)
	b = binary.LittleEndian.AppendUint32(b, r.Doc)
	b = binary.LittleEndian.AppendUint32(b, r.SrcLen)
	return binary.LittleEndian.AppendUint64(b, r.SrcOff)
}

func decodeRecord(b []byte) record {
	_ = b[recordSize-1]
	return record{
		TextStart: binary.LittleEndian.Uint32(b[0:]),
		TextLen:   binary.LittleEndian.Uint32(b[4:]),
		Doc:       binary.LittleEndian.Uint32(b[8:]),
		SrcLen:    binary.LittleEndian.Uint32(b[12:]),
		SrcOff:    binary.LittleEndian.Uint64(b[16:]),
	}
}

// segment is an open segment: its files mapped read-only.
type segment struct {
	meta *segmentMeta
	text []byte // the normalised text
	sa   []byte // its suffix array, saEntry bytes per entry
	offs []byte // the offset table, recordSize bytes per record
	n    int    // len(text)
	// member and file of each document, set by the searcher
	docMember []int
}

// openSegment maps the files of segment m in dir after checking their
// sizes.
func openSegment(dir string, m *segmentMeta) (_ *segment, err error) {
	g := &segment{meta: m, n: int(m.TextBytes)}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	for _, f := range []struct {
		name string
		size int64
		dst  *[]byte
	}{
		{textFile, m.TextBytes, &g.text},
		{saFile, saEntry * m.TextBytes, &g.sa},
		{offsetsFile, recordSize * m.Records, &g.offs},
	} {
		if *f.dst, err = mapSegmentFile(filepath.Join(dir, m.ID, f.name), f.size); err != nil {
			return nil, fmt.Errorf("%w: segment %s: %w", ErrCorrupt, m.ID, err)
		}
	}
	if g.n > 0 && g.text[g.n-1] != sep {
		return nil, fmt.Errorf("%w: segment %s: text does not end with a separator", ErrCorrupt, m.ID)
	}
	if m.Records > 0 {
		last := g.record(int(m.Records) - 1)
		if int64(last.TextStart)+int64(last.TextLen) > m.TextBytes || int(last.Doc) >= len(m.Docs) {
			return nil, fmt.Errorf("%w: segment %s: offset table runs past the text", ErrCorrupt, m.ID)
		}
	}
	return g, nil
}

// mapSegmentFile maps a file that must be size bytes long.
func mapSegmentFile(path string, size int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != size {
		return nil, fmt.Errorf("%s is %d bytes, want %d", filepath.Base(path), fi.Size(), size)
	}
	b, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", filepath.Base(path), err)
	}
	return b, nil
}

func (g *segment) close() error {
	var errs []error
	for _, b := range []*[]byte{&g.text, &g.sa, &g.offs} {
		if err := unmap(*b); err != nil {
			errs = append(errs, err)
		}
		*b = nil
	}
	if len(errs) > 0 {
		return fmt.Errorf("unmap segment %s: %v", g.meta.ID, errs)
	}
	return nil
}

// suffix returns the suffix of the text at suffix array entry i.
func (g *segment) suffix(i int) ([]byte, error) {
	p := binary.LittleEndian.Uint32(g.sa[saEntry*i:])
	if int64(p) >= int64(g.n) {
		return nil, fmt.Errorf("%w: segment %s: suffix array entry %d is %d, past the text", ErrCorrupt, g.meta.ID, i, p)
	}
	return g.text[p:], nil
}

func (g *segment) record(i int) record {
	return decodeRecord(g.offs[recordSize*i:])
}

// recordAt returns the record covering text position pos.
func (g *segment) recordAt(pos int) (record, error) {
	n := len(g.offs) / recordSize
	// The first record starting after pos, then the one before it.
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(binary.LittleEndian.Uint32(g.offs[recordSize*mid:])) <= pos {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return record{}, fmt.Errorf("%w: segment %s: no record for text position %d", ErrCorrupt, g.meta.ID, pos)
	}
	r := g.record(lo - 1)
	if pos >= int(r.TextStart)+int(r.TextLen) || int(r.Doc) >= len(g.meta.Docs) {
		return record{}, fmt.Errorf("%w: segment %s: no record for text position %d", ErrCorrupt, g.meta.ID, pos)
	}
	return r, nil
}

// locate maps the text [pos, pos+n) to its document and source bytes.
func (g *segment) locate(pos, n int) (doc int, off, length uint64, err error) {
	first, err := g.recordAt(pos)
	if err != nil {
		return 0, 0, 0, err
	}
	last, err := g.recordAt(pos + n - 1)
	if err != nil {
		return 0, 0, 0, err
	}
	if first.Doc != last.Doc {
		return 0, 0, 0, fmt.Errorf("%w: segment %s: text [%d, %d) spans two documents", ErrCorrupt, g.meta.ID, pos, pos+n)
	}
	start := first.SrcOff
	if first.oneToOne() {
		start += uint64(pos) - uint64(first.TextStart)
	}
	end := last.SrcOff + uint64(last.SrcLen)
	if last.oneToOne() {
		end = last.SrcOff + uint64(pos+n) - uint64(last.TextStart)
	}
	if end <= start {
		return 0, 0, 0, fmt.Errorf("%w: segment %s: text [%d, %d) maps backwards", ErrCorrupt, g.meta.ID, pos, pos+n)
	}
	return int(first.Doc), start, end - start, nil
}
