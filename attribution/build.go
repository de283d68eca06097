package attribution

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/internal/atomicfile"
)

// Doc is one text file of a contribution, to index.
type Doc struct {
	Contribution cid.Cid
	// File is the file's index in the contribution's file list.
	File uint32
	// Kind is the file's kind: txt, md, csv, json or jsonl (see Indexable).
	Kind string
	// Size is the file's size in bytes; Open must yield exactly that many.
	Size int64
	// Open opens the file's bytes. It is called once per Build that
	// indexes the file, from the build's goroutines.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// BuildOptions tunes a Build. The zero value is the default.
type BuildOptions struct {
	// MaxSegmentBytes bounds a segment's text, in bytes (default and
	// maximum math.MaxInt32, so the suffix array's entries are int32).
	// Segments are planned from the documents' sizes: a segment takes
	// whole contributions while the sum of Size+1 over their documents
	// fits. A building segment needs about 5.5 bytes of memory per byte of
	// text.
	MaxSegmentBytes int64
	// Workers is how many segments are built at once (default 1). Each
	// holds its segment's text and suffix array in memory.
	Workers int
	// Progress, if set, is told how much of the build is done, in bytes:
	// half of each source byte counts when it is read, the other half
	// when its segment is sorted and written. Calls are serialised.
	Progress func(done, total int64)
}

// Build indexes, under name (a snapshot's CID, say), the text of the given
// contributions. contributions lists every contribution the name covers,
// including those without text documents; docs lists their text documents
// (other kinds are the caller's to filter out).
//
// Segments already in the store that hold only contributions of this
// build, with the same documents, are reused, chosen as the searcher
// chooses (see the package documentation); only the rest is read and
// indexed. The manifest is written last, once every segment is in place;
// it replaces one built under the same name before.
func (s *Store) Build(ctx context.Context, name string, contributions []cid.Cid, docs []Doc, opt BuildOptions) (*Manifest, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if opt.MaxSegmentBytes == 0 {
		opt.MaxSegmentBytes = maxTextBytes
	}
	if opt.MaxSegmentBytes < 1 || opt.MaxSegmentBytes > maxTextBytes {
		return nil, fmt.Errorf("attribution: MaxSegmentBytes %d outside [1, %d]", opt.MaxSegmentBytes, int64(maxTextBytes))
	}
	opt.Workers = max(opt.Workers, 1)
	in, err := newBuildInput(contributions, docs)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	s.build.Lock()
	defer s.build.Unlock()
	metas, err := s.scan()
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(in.keys))
	for _, k := range in.keys {
		want[k] = true
	}
	reused, covered := cover(units(metas), want, in.digests, nil)
	var rest []string
	for _, k := range in.keys {
		if !covered[k] {
			rest = append(rest, k)
		}
	}
	plans, err := in.plan(rest, opt.MaxSegmentBytes)
	if err != nil {
		return nil, err
	}
	built, err := s.buildAll(ctx, plans, opt)
	if err != nil {
		return nil, err
	}

	m := &Manifest{Format: formatVersion, Name: name}
	for _, k := range in.keys {
		m.Contributions = append(m.Contributions, in.cids[k])
	}
	for _, u := range reused {
		for _, sm := range u.metas {
			m.Segments = append(m.Segments, SegmentInfo{sm.ID, len(sm.Contributions), sm.TextBytes})
		}
	}
	for _, sm := range built {
		m.Segments = append(m.Segments, SegmentInfo{sm.ID, len(sm.Contributions), sm.TextBytes})
		m.Built = append(m.Built, sm.ID)
	}
	slices.SortFunc(m.Segments, func(a, b SegmentInfo) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(m.Built)
	b, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(s.dir, manifestsDir, name+".json"), b, 0o644); err != nil {
		return nil, fmt.Errorf("attribution: write manifest %s: %w", name, err)
	}
	return m, nil
}

// buildInput is a checked Build request.
type buildInput struct {
	keys    []string           // contribution keys, sorted
	cids    map[string]cid.Cid // by key
	docs    map[string][]Doc   // by key, sorted by file
	digests map[string]string  // by key: contributionDigest of its docs
}

func newBuildInput(contributions []cid.Cid, docs []Doc) (*buildInput, error) {
	in := &buildInput{cids: map[string]cid.Cid{}, docs: map[string][]Doc{}, digests: map[string]string{}}
	for _, c := range contributions {
		if !c.Defined() {
			return nil, errors.New("attribution: undefined contribution CID")
		}
		k := c.KeyString()
		if _, dup := in.cids[k]; dup {
			return nil, fmt.Errorf("attribution: contribution %s listed twice", c)
		}
		in.cids[k] = c
		in.keys = append(in.keys, k)
	}
	slices.Sort(in.keys)
	for _, d := range docs {
		k := d.Contribution.KeyString()
		if _, ok := in.cids[k]; !ok {
			return nil, fmt.Errorf("attribution: document %d of %s: contribution not in the build", d.File, d.Contribution)
		}
		if !Indexable(d.Kind) || d.Size < 0 || d.Open == nil {
			return nil, fmt.Errorf("attribution: document %d of %s: kind %q, size %d, opener set %t", d.File, d.Contribution, d.Kind, d.Size, d.Open != nil)
		}
		in.docs[k] = append(in.docs[k], d)
	}
	for _, k := range in.keys {
		ds := in.docs[k]
		slices.SortFunc(ds, func(a, b Doc) int { return cmp.Compare(a.File, b.File) })
		for i := 1; i < len(ds); i++ {
			if ds[i].File == ds[i-1].File {
				return nil, fmt.Errorf("attribution: document %d of %s listed twice", ds[i].File, in.cids[k])
			}
		}
		in.digests[k] = contributionDigest(k, keysOf(ds))
	}
	return in, nil
}

func keysOf(docs []Doc) []docKey {
	out := make([]docKey, len(docs))
	for i, d := range docs {
		out[i] = docKey{d.File, d.Kind, d.Size}
	}
	return out
}

// segmentPlan is a segment to build.
type segmentPlan struct {
	keys  []string // contributions, sorted
	docs  [][]Doc  // per contribution
	part  *partInfo
	bound int64 // Σ Size+1 over the documents: the text cannot be longer
	id    string
}

// plan groups the contributions rest (sorted) into segments of at most
// max bytes of text: whole contributions in CID order while they fit; a
// contribution larger than max alone, split by documents into parts.
func (in *buildInput) plan(rest []string, max int64) ([]*segmentPlan, error) {
	var plans []*segmentPlan
	cur := &segmentPlan{}
	flush := func() {
		if len(cur.keys) > 0 {
			plans = append(plans, cur)
		}
		cur = &segmentPlan{}
	}
	for _, k := range rest {
		ds := in.docs[k]
		var w int64
		for _, d := range ds {
			if d.Size+1 > max {
				return nil, fmt.Errorf("%w: document %d of %s is %d bytes, segments hold %d", ErrDocTooLarge, d.File, in.cids[k], d.Size, max-1)
			}
			w += d.Size + 1
		}
		if w <= max {
			if cur.bound+w > max {
				flush()
			}
			cur.keys = append(cur.keys, k)
			cur.docs = append(cur.docs, ds)
			cur.bound += w
			continue
		}
		flush()
		var starts []int
		var size int64
		for i, d := range ds {
			if i == 0 || size+d.Size+1 > max {
				starts = append(starts, i)
				size = 0
			}
			size += d.Size + 1
		}
		for p := range starts {
			end := len(ds)
			if p+1 < len(starts) {
				end = starts[p+1]
			}
			part := &segmentPlan{keys: []string{k}, docs: [][]Doc{ds[starts[p]:end]},
				part: &partInfo{Group: in.digests[k], Starts: starts, Index: p}}
			for _, d := range part.docs[0] {
				part.bound += d.Size + 1
			}
			plans = append(plans, part)
		}
	}
	flush()
	for _, p := range plans {
		dk := make([][]docKey, len(p.docs))
		for i, ds := range p.docs {
			dk[i] = keysOf(ds)
		}
		p.id = segmentID(p.keys, dk, p.part)
	}
	return plans, nil
}

// progress reports a build's progress to a callback.
type progress struct {
	mu           sync.Mutex
	fn           func(done, total int64)
	read, sorted int64
	total        int64
	reported     int64
}

func (p *progress) add(read, sorted int64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read += read
	p.sorted += sorted
	done := (p.read + p.sorted) / 2
	if done-p.reported >= 4<<20 || done == p.total {
		p.reported = done
		p.fn(done, p.total)
	}
}

// buildAll builds the planned segments, opt.Workers at a time, and returns
// their metas in plan order.
func (s *Store) buildAll(ctx context.Context, plans []*segmentPlan, opt BuildOptions) ([]*segmentMeta, error) {
	pr := &progress{fn: opt.Progress}
	for _, p := range plans {
		for _, ds := range p.docs {
			for _, d := range ds {
				pr.total += d.Size
			}
		}
	}
	if pr.fn != nil {
		pr.fn(0, pr.total)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]*segmentMeta, len(plans))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(opt.Workers, len(plans)) {
		wg.Go(func() {
			for i := range jobs {
				m, err := s.buildSegment(ctx, plans[i], pr)
				if err != nil {
					cancel(fmt.Errorf("attribution: build segment %s: %w", plans[i].id, err))
					continue
				}
				out[i] = m
			}
		})
	}
feed:
	for i := range plans {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// buildSegment reads the documents of p, sorts their text and writes the
// segment: into a temporary directory, fsynced, then renamed into place,
// so a crash never leaves part of a segment visible.
func (s *Store) buildSegment(ctx context.Context, p *segmentPlan, pr *progress) (*segmentMeta, error) {
	final := filepath.Join(s.dir, segmentsDir, p.id)
	size := p.bound - countDocs(p) // the documents' sizes
	if m, err := readMeta(filepath.Join(s.dir, segmentsDir), p.id); err == nil {
		pr.add(size, size)
		return m, nil // built meanwhile
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.dir, tmpDir), "segment-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	m := &segmentMeta{Format: formatVersion, ID: p.id, Part: p.part}
	for i, k := range p.keys {
		c, _ := cid.Cast([]byte(k))
		m.Contributions = append(m.Contributions, c)
		for _, d := range p.docs[i] {
			m.Docs = append(m.Docs, docEntry{Contribution: i, File: d.File, Kind: d.Kind, Size: d.Size})
		}
	}

	offs, err := createHashed(filepath.Join(tmp, offsetsFile))
	if err != nil {
		return nil, err
	}
	defer offs.f.Close()
	b := &textBuilder{text: make([]byte, 0, p.bound), w: offs.w}
	buf := make([]byte, 256<<10)
	for _, ds := range p.docs {
		for _, d := range ds {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := b.readDoc(ctx, d, buf, pr); err != nil {
				return nil, fmt.Errorf("document %d of %s: %w", d.File, d.Contribution, err)
			}
			b.doc++
		}
	}
	b.flush()
	if b.err != nil {
		return nil, b.err
	}
	if m.SHA256.Offsets, err = offs.finish(); err != nil {
		return nil, err
	}
	m.TextBytes, m.Records = int64(len(b.text)), b.records

	text, err := createHashed(filepath.Join(tmp, textFile))
	if err != nil {
		return nil, err
	}
	defer text.f.Close()
	if _, err := text.w.Write(b.text); err != nil {
		return nil, err
	}
	if m.SHA256.Text, err = text.finish(); err != nil {
		return nil, err
	}

	sa, err := createHashed(filepath.Join(tmp, saFile))
	if err != nil {
		return nil, err
	}
	defer sa.f.Close()
	if err := writeSuffixArray(ctx, b.text, sa.w); err != nil {
		return nil, err
	}
	if m.SHA256.SA, err = sa.finish(); err != nil {
		return nil, err
	}

	mb, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return nil, err
	}
	// WriteFile fsyncs meta.json and then tmp, whose other files are
	// fsynced already.
	if err := atomicfile.WriteFile(filepath.Join(tmp, metaFile), mb, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(filepath.Join(final, metaFile)); serr == nil {
			pr.add(0, size)
			return readMeta(filepath.Join(s.dir, segmentsDir), p.id) // built meanwhile
		}
		return nil, err
	}
	if err := atomicfile.SyncDir(filepath.Join(s.dir, segmentsDir)); err != nil {
		return nil, err
	}
	pr.add(0, size)
	if p.bound > 64<<20 {
		// The text and suffix array of a big segment are garbage now;
		// collect them before the next segment doubles the heap.
		b.text = nil
		runtime.GC()
	}
	return m, nil
}

func countDocs(p *segmentPlan) int64 {
	var n int64
	for _, ds := range p.docs {
		n += int64(len(ds))
	}
	return n
}

// hashedFile is a file being written through a buffer and a sha256.
type hashedFile struct {
	f *os.File
	h hash.Hash
	w *bufio.Writer
}

func createHashed(path string) (*hashedFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	return &hashedFile{f: f, h: h, w: bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)}, nil
}

// finish flushes, fsyncs and closes the file and returns its hash.
func (hf *hashedFile) finish() (string, error) {
	if err := hf.w.Flush(); err != nil {
		return "", err
	}
	if err := hf.f.Sync(); err != nil {
		return "", err
	}
	if err := hf.f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(hf.h.Sum(nil)), nil
}

// textBuilder builds a segment's text and writes its offset table. It is
// the textSink of the documents' readers.
type textBuilder struct {
	text    []byte // capacity: the plan's bound, never exceeded
	doc     uint32 // index of the document being read
	piece   int    // bytes of the current piece so far
	pend    record // the record being extended
	hasPend bool
	w       io.Writer // the offset table
	records int64
	rec     []byte
	err     error // the first error; later calls do nothing
}

var errOverflow = errors.New("text longer than the documents' sizes allow")

func (b *textBuilder) grow(n int) bool {
	if b.err == nil && len(b.text)+n > cap(b.text) {
		b.err = errOverflow
	}
	return b.err == nil
}

func (b *textBuilder) raw(src int64, p []byte) {
	if len(p) == 0 || !b.grow(len(p)) {
		return
	}
	start := len(b.text)
	b.text = Normalize(b.text, p)
	b.piece += len(p)
	r := &b.pend
	if b.hasPend && r.oneToOne() && r.Doc == b.doc && int(r.TextStart)+int(r.TextLen) == start &&
		int64(r.SrcOff)+int64(r.SrcLen) == src {
		r.TextLen += uint32(len(p))
		r.SrcLen += uint32(len(p))
		return
	}
	b.flush()
	b.pend = record{TextStart: uint32(start), TextLen: uint32(len(p)), Doc: b.doc, SrcLen: uint32(len(p)), SrcOff: uint64(src)}
	b.hasPend = true
}

func (b *textBuilder) escape(src int64, srcLen int, dec []byte) {
	if !b.grow(len(dec)) {
		return
	}
	start := len(b.text)
	b.text = Normalize(b.text, dec)
	b.piece += len(dec)
	b.flush()
	b.pend = record{TextStart: uint32(start), TextLen: uint32(len(dec)), Doc: b.doc, SrcLen: uint32(srcLen), SrcOff: uint64(src)}
	b.hasPend = true
}

func (b *textBuilder) end() {
	if b.piece == 0 || !b.grow(1) {
		return
	}
	b.text = append(b.text, sep)
	b.piece = 0
}

// flush writes the pending record.
func (b *textBuilder) flush() {
	if !b.hasPend || b.err != nil {
		return
	}
	b.hasPend = false
	b.rec = b.pend.append(b.rec[:0])
	if _, err := b.w.Write(b.rec); err != nil {
		b.err = err
		return
	}
	b.records++
}

// readDoc appends the text of document d.
func (b *textBuilder) readDoc(ctx context.Context, d Doc, buf []byte, pr *progress) error {
	rc, err := d.Open(ctx)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	lr := &io.LimitedReader{R: rc, N: d.Size + 1}
	var got int64
	read := func(n int) error {
		got += int64(n)
		pr.add(int64(n), 0)
		return ctx.Err()
	}
	if isJSONKind(d.Kind) {
		lx := jsonLexer{sink: b}
		err = lx.lexReader(lr, buf, read)
	} else {
		for err == nil {
			var n int
			n, err = lr.Read(buf)
			off := got
			if rerr := read(n); rerr != nil {
				err = rerr
			}
			b.raw(off, buf[:n])
		}
		if err == io.EOF {
			err = nil
		}
		b.end()
	}
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		return err
	}
	if got > d.Size {
		return fmt.Errorf("the file is longer than the document's size, %d bytes", d.Size)
	}
	if got < d.Size {
		return fmt.Errorf("read %d bytes, the document's size is %d", got, d.Size)
	}
	return b.err
}
