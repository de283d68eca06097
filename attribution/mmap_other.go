//go:build !unix

package attribution

import (
	"io"
	"os"
)

// mapFile reads size bytes of f: without mmap the segment is held in
// memory.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, nil
}

func unmap([]byte) error { return nil }
