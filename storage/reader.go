package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// NewFileReader returns a reader over a file stored as shards: every shard
// but the last has chunkSize bytes, and size is the file's size. It checks
// up front that the shard count fits size and that every shard is stored
// (else the error wraps ErrNotFound and names the shard), so a server can
// fail before sending anything.
//
// Each shard is loaded when first read and rehashed. A mismatch drops the
// damaged copy and, with a Repairer, reads the good copy it stores (see
// SetRepairer); if there is none, or the shard has the wrong size, the read
// fails with an error wrapping ErrCorrupt that names the shard. The reader is an io.ReadSeeker suitable for
// http.ServeContent; it is not safe for concurrent use, and reads stop with
// ctx or when the store closes.
func (s *Store) NewFileReader(ctx context.Context, shards []cid.Cid, chunkSize int, size int64) (io.ReadSeeker, error) {
	if err := CheckChunkSize(chunkSize); err != nil {
		return nil, fmt.Errorf("file reader: %w", err)
	}
	if size < 0 {
		return nil, fmt.Errorf("file reader: negative size %d", size)
	}
	want := (size + int64(chunkSize) - 1) / int64(chunkSize)
	if size == 0 && len(shards) == 1 {
		want = 1 // the empty shard of an empty file
	}
	if int64(len(shards)) != want {
		return nil, fmt.Errorf("file reader: %d shards for %d bytes in chunks of %d, want %d", len(shards), size, chunkSize, want)
	}
	if err := s.begin(ctx); err != nil {
		return nil, fmt.Errorf("file reader: %w", err)
	}
	defer s.end()
	err := s.db.View(func(txn *badger.Txn) error {
		for _, c := range shards {
			ok := false
			if c.Defined() {
				var err error
				if ok, err = exists(txn, shardDataKey(c.Hash())); err != nil {
					return fmt.Errorf("shard %s: %w", c, err)
				}
			}
			if !ok {
				return fmt.Errorf("shard %s: %w", c, ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("file reader: %w", err)
	}
	return &fileReader{
		s:      s,
		ctx:    ctx,
		shards: shards,
		chunk:  int64(chunkSize),
		size:   size,
		loaded: -1,
	}, nil
}

// fileReader implements NewFileReader's reader.
type fileReader struct {
	s      *Store
	ctx    context.Context // from NewFileReader: io.Reader has no context
	shards []cid.Cid
	chunk  int64
	size   int64

	off    int64  // next byte to read
	loaded int    // index of the shard in buf, or -1
	buf    []byte // the loaded shard, reused
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	i := int(r.off / r.chunk)
	if err := r.load(i); err != nil {
		return 0, err
	}
	n := copy(p, r.buf[r.off-int64(i)*r.chunk:])
	r.off += int64(n)
	return n, nil
}

// load reads and checks shard i into r.buf. A damaged copy is dropped and
// repaired if it can be, as GetShard does.
func (r *fileReader) load(i int) error {
	if r.loaded == i {
		return nil
	}
	r.loaded = -1
	c := r.shards[i]
	err := r.read(i)
	if errors.Is(err, errDamaged) {
		if err = r.s.repair(r.ctx, c); err == nil {
			err = r.read(i)
		}
	}
	if err != nil {
		return fmt.Errorf("read shard %s: %w", c, err)
	}
	r.loaded = i
	return nil
}

// read reads and checks shard i into r.buf.
func (r *fileReader) read(i int) error {
	c := r.shards[i]
	want := r.chunk
	if i == len(r.shards)-1 {
		want = r.size - int64(i)*r.chunk
	}
	if err := r.s.begin(r.ctx); err != nil {
		return err
	}
	defer r.s.end()
	return r.s.db.View(func(txn *badger.Txn) error {
		data, err := r.s.readShard(txn, c, r.buf)
		if err != nil {
			return err
		}
		r.buf = data
		if int64(len(data)) != want {
			return fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, len(data), want)
		}
		return nil
	})
}

var errNegativeOffset = errors.New("storage: seek to a negative offset")

func (r *fileReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, fmt.Errorf("storage: seek: invalid whence %d", whence)
	}
	if offset < 0 {
		return 0, errNegativeOffset
	}
	r.off = offset
	return offset, nil
}
