// Package atomicfile replaces small files so that a crash leaves either the
// old or the new content, never part of one: config, keys, manifests.
package atomicfile

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// WriteFile writes data to path as os.WriteFile does, but through a
// temporary file in path's directory that is written, fsynced, closed and
// renamed over path, after which the directory is fsynced so the rename
// survives a crash too. A new file gets perm (before the umask); an
// existing one is replaced by a file with perm. On any failure the
// temporary file is removed and path is left as it was.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	f, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// createTemp creates a new file beside path, hidden and not ending in
// path's extension, so that one left by a crash is not read as path.
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
	return nil, &os.PathError{Op: "createtemp", Path: path, Err: os.ErrExist}
}

// SyncDir fsyncs a directory, so that a file created in it or renamed into
// it survives a crash. On Windows, where a directory handle cannot be
// flushed, it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
