package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// chunkBuffers is the number of chunk buffers in flight between the reading
// and hashing goroutine and the writer. Two would keep both busy; the spare
// ones absorb jitter in either stage.
const chunkBuffers = 4

// chunk is one chunk read and hashed, on its way to be stored.
type chunk struct {
	data []byte // a prefix of a buffer from the free list
	mh   multihash.Multihash
}

// Chunk reads r to EOF in chunks of chunkSize bytes (see CheckChunkSize),
// stores each as a shard held by the session, and returns their refs in
// order. Every chunk but the last has chunkSize bytes; an empty reader
// yields exactly one empty shard, as IPFS gives an empty file one empty raw
// leaf. progress, if not nil, is called from Chunk's goroutine with the
// number of bytes of each chunk once it is stored.
//
// Reading and hashing run in one goroutine and storing in the caller's, with
// a few reused chunk buffers between them. Cancelling ctx stops Chunk, but
// only after a Read in progress returns.
func (ss *Session) Chunk(ctx context.Context, r io.Reader, chunkSize int, progress func(n int64)) ([]ShardRef, error) {
	if err := CheckChunkSize(chunkSize); err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	unlock, err := ss.lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	defer unlock()
	ctx, release := ss.s.opContext(ctx)
	defer release()

	free := make(chan []byte, chunkBuffers)
	for range chunkBuffers {
		free <- make([]byte, chunkSize)
	}
	full := make(chan chunk, chunkBuffers)
	readErr := make(chan error, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	wg.Go(func() {
		defer close(full)
		readErr <- readChunks(readCtx, r, free, full)
	})

	var refs []ShardRef
	for c := range full {
		if err := ctxErr(ctx); err != nil {
			return nil, fmt.Errorf("chunk: %w", err)
		}
		if err := ss.putShard(c.mh, c.data); err != nil {
			return nil, fmt.Errorf("chunk: store shard %d: %w", len(refs), err)
		}
		refs = append(refs, ShardRef{CID: cid.NewCidV1(cid.Raw, c.mh), Size: len(c.data)})
		if progress != nil {
			progress(int64(len(c.data)))
		}
		free <- c.data[:cap(c.data)]
	}
	if err := <-readErr; err != nil {
		return nil, fmt.Errorf("chunk: shard %d: %w", len(refs), err)
	}
	if err := ctxErr(ctx); err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	return refs, nil
}

// readChunks fills buffers from free with chunks of r, hashes them and sends
// them on full, until EOF, a read error, or ctx is done (then it returns nil
// and the writer reports why).
func readChunks(ctx context.Context, r io.Reader, free <-chan []byte, full chan<- chunk) error {
	for first := true; ; first = false {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return nil
		}
		n, err := io.ReadFull(r, buf)
		last := false
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) && !first:
			return nil // the previous chunk was the last one
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		default:
			return fmt.Errorf("read: %w", err)
		}
		c := chunk{data: buf[:n], mh: sha256Multihash(buf[:n])}
		select {
		case full <- c:
		case <-ctx.Done():
			return nil
		}
		if last {
			return nil
		}
	}
}
