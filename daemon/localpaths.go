package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/openledger/openledger/storage"
)

// ErrPathNotAllowed is returned for a local path an API caller may not
// have the daemon read: one inside the repo (the keystore, the API secret),
// a hard link to a key, or, for a caller below admin, one outside
// api.add_roots.
var ErrPathNotAllowed = errors.New("daemon: local path not allowed")

// readPolicy decides which local files one API call may have the daemon
// read (content_add, model_register). Paths are judged with their symbolic
// links resolved, and every file found under a path is judged again before
// a byte of it is read, so a link inside an added directory, or a
// directory swapped for a link, leads nowhere it may not.
type readPolicy struct {
	repo string // the repo directory, links resolved
	// roots are the directories a caller below admin may read under,
	// links resolved; anywhere is set for admin.
	roots    []string
	anywhere bool
	// keys are the files of the keystore: a hard link to one, wherever it
	// is, is refused.
	keys []os.FileInfo
}

// readPolicy is the policy of a caller of level perm.
func (n *Node) readPolicy(perm Perm) (*readPolicy, error) {
	repo, err := filepath.EvalSymlinks(n.repo.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve the repo directory: %w", err)
	}
	p := &readPolicy{repo: repo, anywhere: perm >= PermAdmin}
	for _, root := range n.repo.Config.API.AddRoots {
		if r, err := filepath.EvalSymlinks(root); err == nil {
			p.roots = append(p.roots, r)
		}
	}
	ks := n.repo.Path(KeystoreDir)
	entries, err := os.ReadDir(ks)
	if err != nil {
		return nil, fmt.Errorf("list the keystore: %w", err)
	}
	for _, e := range entries {
		if info, err := os.Stat(filepath.Join(ks, e.Name())); err == nil {
			p.keys = append(p.keys, info)
		}
	}
	return p, nil
}

// within reports whether path is dir or under it; both are clean and
// absolute.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkPath judges a path given to the API, before it is walked: absolute,
// neither inside the repo nor holding it, and under an allowed root.
func (p *readPolicy) checkPath(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%w: path %q is not absolute", errBadRequest, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("%w: %w", storage.ErrBadInput, err)
	}
	if within(p.repo, real) && !within(real, p.repo) {
		return fmt.Errorf("%w: %s holds the node's repo %s (its keys and API secret); add what you mean to share instead", ErrPathNotAllowed, path, p.repo)
	}
	return p.checkReal(path, real)
}

// checkReal judges the real path (links resolved) of path.
func (p *readPolicy) checkReal(path, real string) error {
	shown := path
	if real != path {
		shown = fmt.Sprintf("%s (%s)", path, real)
	}
	if within(real, p.repo) {
		return fmt.Errorf("%w: %s is inside the node's repo %s, which holds its keys and API secret", ErrPathNotAllowed, shown, p.repo)
	}
	if p.anywhere {
		return nil
	}
	for _, root := range p.roots {
		if within(real, root) {
			return nil
		}
	}
	if len(p.roots) == 0 {
		return fmt.Errorf("%w: %s: a caller below admin may have the daemon read local files only under config api.add_roots, which is empty (add through the CLI or with an admin token, or set api.add_roots)", ErrPathNotAllowed, shown)
	}
	return fmt.Errorf("%w: %s is not under config api.add_roots (%s)", ErrPathNotAllowed, shown, strings.Join(p.roots, ", "))
}

// checkFile judges a file found under a checked path, before it is read:
// its real path, and that it is the file the walk found (storage reads
// only that one) and no hard link to a key.
func (p *readPolicy) checkFile(f storage.InputFile) error {
	real, err := filepath.EvalSymlinks(f.Path)
	if err != nil {
		return fmt.Errorf("%w: %w", storage.ErrBadInput, err)
	}
	if err := p.checkReal(f.Path, real); err != nil {
		return err
	}
	st, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%w: %w", storage.ErrBadInput, err)
	}
	if f.Info == nil || !os.SameFile(st, f.Info) {
		return fmt.Errorf("%w: %s changed while it was being added", storage.ErrBadInput, f.Path)
	}
	for _, k := range p.keys {
		if os.SameFile(st, k) {
			return fmt.Errorf("%w: %s is a link to a file of the node's keystore", ErrPathNotAllowed, f.Path)
		}
	}
	return nil
}
