//go:build unix

package attribution

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only. A file of no bytes maps to nil.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

// unmap releases a mapping made by mapFile.
func unmap(b []byte) error {
	if b == nil {
		return nil
	}
	return syscall.Munmap(b)
}
