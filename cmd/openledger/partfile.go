package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// get writes each file to a part file beside its destination, named
// ".NAME.part-SUFFIX", and renames it into place once complete and
// verified. A get holds a lock on its part files (flock, where the system
// has it) while it writes them, and the kernel drops the lock when the
// process dies: a part file no one holds a lock on was left by a get that
// was killed, and the next get of the same file removes it.

const partInfix = ".part-"

// partName returns the name of a part file of base, with suffix.
func partName(base, suffix string) string { return "." + base + partInfix + suffix }

// partOf returns the file a part file named name is for, if it is one.
func partOf(name string) (base string, ok bool) {
	i := strings.LastIndex(name, partInfix)
	if !strings.HasPrefix(name, ".") || i < 2 || i+len(partInfix) == len(name) {
		return "", false
	}
	return name[1:i], true
}

// createPart creates and locks a new part file for dst, with mode 0666 less
// the umask, as other tools create files.
func createPart(dst string) (*os.File, error) {
	dir, base := filepath.Split(dst)
	for range 100 {
		name := filepath.Join(dir, partName(base, strconv.FormatUint(rand.Uint64(), 36)))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, err := lockPart(f); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			f.Close()
			os.Remove(name)
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		// Between the create and the lock, another get may have found the
		// file unlocked and removed it as stale: then start again.
		if fi, err := f.Stat(); err == nil {
			if on, err := os.Stat(name); err == nil && os.SameFile(fi, on) {
				return f, nil
			}
		}
		f.Close()
	}
	return nil, fmt.Errorf("create a part file for %s: too many tries", dst)
}

// finishPart closes the complete part file f and renames it to dst. Where
// part files are locked, it renames first, so that no other get can take
// the file for a stale one in between.
func finishPart(f *os.File, dst string) error {
	if partLocks {
		if err := os.Rename(f.Name(), dst); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dst)
}

// staleParts finds the part files left in directories by gets that died,
// reading each directory once.
type staleParts struct {
	dirs map[string]map[string][]string // dir -> file -> its part files
}

// remove removes the part files of dst that no live get holds, and returns
// how many it removed.
func (s *staleParts) remove(dst string) (int, error) {
	dir, base := filepath.Split(dst)
	if s.dirs == nil {
		s.dirs = make(map[string]map[string][]string)
	}
	parts, ok := s.dirs[dir]
	if !ok {
		entries, err := os.ReadDir(cmp.Or(dir, "."))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		parts = make(map[string][]string)
		for _, e := range entries {
			if b, ok := partOf(e.Name()); ok && e.Type().IsRegular() {
				parts[b] = append(parts[b], filepath.Join(dir, e.Name()))
			}
		}
		s.dirs[dir] = parts
	}
	n := 0
	for _, p := range parts[base] {
		if removed, err := removeIfStale(p); err != nil {
			return n, err
		} else if removed {
			n++
		}
	}
	delete(parts, base)
	return n, nil
}

// removeIfStale removes the part file p if no process holds a lock on it.
func removeIfStale(p string) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	ok, err := lockPart(f)
	if err != nil || !ok {
		return false, nil // held by a live get, or no locks here: keep it
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}
