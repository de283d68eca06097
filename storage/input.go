package storage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// InputFile is a regular file found by ScanFiles, to be added with
// Session.AddFiles.
type InputFile struct {
	Path string // on disk, absolute
	Name string // the relative slash path it is added under
	Size int64  // when it was found
	// Info is the file as it was found; AddFiles refuses to read another
	// file at Path (one moved or linked there since).
	Info fs.FileInfo
}

// ScanFiles walks paths and returns the regular files under them, sorted by
// Name, with their total size. A file given directly is named by its base
// name; a directory by its base name and the paths below it, as
// `ipfs add -r` does. It opens every file to check that it is readable, and
// reads none. It fails with ErrBadInput for no paths, a missing or
// unreadable path, a symbolic link, a file that is not regular, no file at
// all, or two inputs of the same name.
func ScanFiles(paths []string) ([]InputFile, int64, error) {
	if len(paths) == 0 {
		return nil, 0, fmt.Errorf("%w: no paths to add", ErrBadInput)
	}
	var files []InputFile
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		err = filepath.WalkDir(abs, func(fp string, de fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("%w: %w", ErrBadInput, err)
			}
			rel, err := filepath.Rel(filepath.Dir(abs), fp)
			if err != nil {
				return err
			}
			switch {
			case de.IsDir():
				// Fail on an unreadable directory now, not half way.
				return nil
			case de.Type()&fs.ModeSymlink != 0:
				return fmt.Errorf("%w: %s is a symbolic link; add its target instead", ErrBadInput, fp)
			case !de.Type().IsRegular():
				return fmt.Errorf("%w: %s is not a regular file", ErrBadInput, fp)
			}
			info, err := de.Info()
			if err != nil {
				return fmt.Errorf("%w: %w", ErrBadInput, err)
			}
			fh, err := os.Open(fp)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrBadInput, err)
			}
			fh.Close()
			files = append(files, InputFile{Path: fp, Name: filepath.ToSlash(rel), Size: info.Size(), Info: info})
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("%w: no files under %s", ErrBadInput, strings.Join(paths, ", "))
	}
	slices.SortFunc(files, func(a, b InputFile) int { return strings.Compare(a.Name, b.Name) })
	var total int64
	for i, f := range files {
		if i > 0 && files[i-1].Name == f.Name {
			return nil, 0, fmt.Errorf("%w: two inputs are both named %q (%s and %s)", ErrBadInput, f.Name, files[i-1].Path, f.Path)
		}
		total += f.Size
	}
	return files, total, nil
}

// AddFiles chunks files into the session, in order, as Chunk does, and
// returns the shards of each. progress, if not nil, is called with the
// bytes of each chunk stored. A file that cannot be opened, or whose size
// is no longer the one ScanFiles found (another file at its path, or
// another size), fails with ErrBadInput.
func (ss *Session) AddFiles(ctx context.Context, files []InputFile, chunkSize int, progress func(n int64)) ([][]ShardRef, error) {
	out := make([][]ShardRef, len(files))
	for i, f := range files {
		refs, err := ss.addFile(ctx, f, chunkSize, progress)
		if err != nil {
			return nil, err
		}
		out[i] = refs
	}
	return out, nil
}

func (ss *Session) addFile(ctx context.Context, f InputFile, chunkSize int, progress func(n int64)) ([]ShardRef, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	defer fh.Close()
	if f.Info != nil {
		st, err := fh.Stat()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		if !os.SameFile(st, f.Info) {
			return nil, fmt.Errorf("%w: %s is no longer the file that was found there", ErrBadInput, f.Path)
		}
	}
	refs, err := ss.Chunk(ctx, fh, chunkSize, progress)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", f.Path, err)
	}
	var n int64
	for _, ref := range refs {
		n += int64(ref.Size)
	}
	if n != f.Size {
		return nil, fmt.Errorf("%w: %s changed while it was being added (%d bytes, expected %d)", ErrBadInput, f.Path, n, f.Size)
	}
	return refs, nil
}
