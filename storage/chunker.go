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

// Chunk stores the chunks that are ready together, in transactions of up to
// chunkBatchBytes and chunkBatchMax chunks: Badger then encodes them with
// one buffer, and commits fewer, larger batches. Badger's transaction limit
// (15% of its 64 MiB memtable) bounds chunkBatchBytes when values are kept
// inline, as they are in memory.
const (
	chunkBatchBytes = 4 << 20
	chunkBatchMax   = 64
)

// chunkBatch returns how many chunks of chunkSize fit in one batch.
func chunkBatch(chunkSize int) int {
	return max(1, min(chunkBatchMax, chunkBatchBytes/chunkSize))
}

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
// a few reused chunk buffers between them; chunks that are ready together are
// stored in one transaction. Cancelling ctx (or closing the store) stops
// Chunk, but only after a Read in progress returns.
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

	// Two batches' worth of buffers, and two more, keep the reader busy
	// while a batch is stored.
	batchMax := chunkBatch(chunkSize)
	buffers := 2*batchMax + 2
	free := make(chan []byte, buffers)
	full := make(chan chunk, buffers)
	readErr := make(chan error, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	wg.Go(func() {
		defer close(full)
		readErr <- readChunks(readCtx, r, chunkSize, buffers, free, full)
	})

	var refs []ShardRef
	batch := make([]chunk, 0, batchMax)
	for c := range full {
		// Take whatever else is ready, without waiting.
		batch = append(batch[:0], c)
	more:
		for len(batch) < batchMax {
			select {
			case c, ok := <-full:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		if err := ctxErr(ctx); err != nil {
			return nil, fmt.Errorf("chunk: %w", err)
		}
		if err := ss.putShards(batch); err != nil {
			return nil, fmt.Errorf("chunk: store shards %d-%d: %w", len(refs), len(refs)+len(batch)-1, err)
		}
		for _, c := range batch {
			refs = append(refs, ShardRef{CID: cid.NewCidV1(cid.Raw, c.mh), Size: len(c.data)})
			if progress != nil {
				progress(int64(len(c.data)))
			}
			free <- c.data[:cap(c.data)]
		}
	}
	if err := <-readErr; err != nil {
		return nil, fmt.Errorf("chunk: shard %d: %w", len(refs), err)
	}
	if err := ctxErr(ctx); err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	return refs, nil
}

// readChunks fills buffers of chunkSize bytes with chunks of r, hashes them
// and sends them on full, until EOF, a read error, or ctx is done (then it
// returns nil and the writer reports why). It allocates up to buffers
// buffers, as needed, and then reuses those the writer returns on free.
func readChunks(ctx context.Context, r io.Reader, chunkSize, buffers int, free <-chan []byte, full chan<- chunk) error {
	allocated := 0
	for first := true; ; first = false {
		var buf []byte
		select {
		case buf = <-free:
		default:
			if allocated < buffers {
				buf = make([]byte, chunkSize)
				allocated++
				break
			}
			select {
			case buf = <-free:
			case <-ctx.Done():
				return nil
			}
		}
		if ctx.Err() != nil {
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
