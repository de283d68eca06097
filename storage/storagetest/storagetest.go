// Package storagetest damages stores on disk for tests of package storage
// and of its users: bit rot under Badger, as a disk would cause it. It
// reads and writes files only and knows nothing of the key schema.
package storagetest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FlipByte flips one bit of the first byte of each marker where it is
// found in the files under dir, the directory of a closed store, and fails
// t if a marker is found nowhere. A marker of 64 bytes from the middle of a
// shard finds the shard's copy in Badger's value log.
//
// Badger truncates its newest value-log file at the first entry whose
// checksum fails when it opens (see docs/operations.md): open and close the
// store once more after writing the shards, so that they are not in the
// newest file when they are damaged.
func FlipByte(t testing.TB, dir string, markers ...[]byte) {
	t.Helper()
	for _, m := range markers {
		found := false
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || found || !d.Type().IsRegular() {
				return err
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if i := bytes.Index(raw, m); i >= 0 {
				raw[i] ^= 0x01
				found = true
				return os.WriteFile(p, raw, 0o600)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("damage the store in %s: %v", dir, err)
		}
		if !found {
			t.Fatalf("damage the store in %s: bytes not found", dir)
		}
	}
}

// Marker returns 64 bytes from the middle of data, to find it on disk.
func Marker(data []byte) []byte { return data[len(data)/2 : len(data)/2+64] }
