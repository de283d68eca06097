package datanet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// ErrBadPath is returned for a content path that does not parse.
var ErrBadPath = errors.New("datanet: invalid content path")

// Kinds of what a content path resolves to.
const (
	ResolvedShard     = "shard"
	ResolvedFile      = "file"
	ResolvedDirectory = "directory"
	ResolvedObject    = "object"
)

// Resolved is what a content path (CID[/path]) names.
type Resolved struct {
	CID  cid.Cid // the CID the path starts from
	Path string  // the path below it, "" for the CID itself
	Kind string  // one of the Resolved* constants
	// Object is the object at CID (nil for a shard).
	Object Object
	// File is set for a file or a shard (a shard reads as a one-shard file).
	File      *File
	ChunkSize int
	// Files are the files under a directory, with paths relative to the
	// contribution (a contribution itself is its root directory; a model
	// is the directory of its artifacts). For a
	// snapshot, paths start with the contribution's CID, and ChunkSize is
	// 0: each contribution in Parts has its own.
	Files []File
	// Parts are the contributions of a snapshot, each resolved as a
	// directory.
	Parts []*Resolved
}

// ParsePath splits "CID[/path]" (an optional leading "/" or "/content/" is
// accepted) into the CID and a clean slash path.
func ParsePath(p string) (cid.Cid, string, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(p, "/content/"), "/")
	head, rest, _ := strings.Cut(s, "/")
	c, err := cid.Decode(head)
	if err != nil {
		return cid.Undef, "", fmt.Errorf("%w %q: %w", ErrBadPath, p, err)
	}
	var parts []string
	for _, seg := range strings.Split(rest, "/") {
		switch seg {
		case "", ".":
		case "..":
			return cid.Undef, "", fmt.Errorf("%w %q: \"..\" is not allowed", ErrBadPath, p)
		default:
			parts = append(parts, seg)
		}
	}
	return c, strings.Join(parts, "/"), nil
}

// Resolve finds what a content path names: a shard, a file or directory of a
// contribution or of a model's artifacts, a snapshot's contributions, or a
// signed object.
func (r *Registry) Resolve(ctx context.Context, p string) (*Resolved, error) {
	c, sub, err := ParsePath(p)
	if err != nil {
		return nil, err
	}
	if c.Prefix().Codec == cid.Raw {
		if sub != "" {
			return nil, fmt.Errorf("%w: %s is a shard and has no path %q", ErrNoSuchPath, c, sub)
		}
		data, err := r.store.GetShard(ctx, c)
		if err != nil {
			return nil, err
		}
		// A shard reads as a one-shard file: its only shard is the last one,
		// which may be shorter than the chunk size.
		return &Resolved{
			CID: c, Kind: ResolvedShard, ChunkSize: storage.MaxChunkSize,
			File: &File{Size: uint64(len(data)), Shards: []cid.Cid{c}},
		}, nil
	}
	obj, err := r.Object(ctx, c)
	if err != nil {
		return nil, err
	}
	res := &Resolved{CID: c, Path: sub, Object: obj, Kind: ResolvedObject}
	if s, ok := obj.(*Snapshot); ok {
		return r.resolveSnapshot(ctx, res, s)
	}
	var files []File
	switch o := obj.(type) {
	case *Contribution:
		files, res.ChunkSize = o.Files, int(o.ChunkSize)
	case *ModelRecord:
		// A model's artifacts read as the files of a contribution.
		files, res.ChunkSize = o.Artifacts, int(o.ChunkSize)
	default:
		if sub != "" {
			return nil, fmt.Errorf("%w: %s is a %s and has no path %q", ErrNoSuchPath, c, obj.Kind(), sub)
		}
		return res, nil
	}
	if sub == "" {
		res.Kind = ResolvedDirectory
		res.Files = files
		return res, nil
	}
	prefix := sub + "/"
	for i := range files {
		f := &files[i]
		switch {
		case f.Path == sub:
			res.Kind = ResolvedFile
			res.File = f
			return res, nil
		case strings.HasPrefix(f.Path, prefix):
			res.Files = append(res.Files, *f)
		}
	}
	if len(res.Files) == 0 {
		return nil, fmt.Errorf("%w: %s has no file or directory %q", ErrNoSuchPath, c, sub)
	}
	res.Kind = ResolvedDirectory
	return res, nil
}

// resolveSnapshot resolves a path below a snapshot: "" is the whole
// version, one directory per contribution; "CID[/path]" is a path of one
// of its contributions.
func (r *Registry) resolveSnapshot(ctx context.Context, res *Resolved, s *Snapshot) (*Resolved, error) {
	errFound := errors.New("found")
	if res.Path != "" {
		head, rest, _ := strings.Cut(res.Path, "/")
		err := r.SnapshotEntries(ctx, s, func(e *SnapshotEntry) error {
			if e.Contribution.String() == head {
				return errFound
			}
			return nil
		})
		if errors.Is(err, errFound) {
			return r.Resolve(ctx, head+"/"+rest)
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", res.CID, err)
		}
		return nil, fmt.Errorf("%w: snapshot %s has no contribution %q", ErrNoSuchPath, res.CID, head)
	}
	res.Kind = ResolvedDirectory
	err := r.SnapshotEntries(ctx, s, func(e *SnapshotEntry) error {
		part, err := r.Resolve(ctx, e.Contribution.String())
		if err != nil {
			return fmt.Errorf("contribution %s of snapshot %s: %w", e.Contribution, res.CID, err)
		}
		res.Parts = append(res.Parts, part)
		for _, f := range part.Files {
			f.Path = e.Contribution.String() + "/" + f.Path
			res.Files = append(res.Files, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// OpenFile returns a verified reader over a resolved file or shard.
func (r *Registry) OpenFile(ctx context.Context, res *Resolved) (io.ReadSeeker, error) {
	if res.File == nil {
		return nil, fmt.Errorf("%w: %s/%s is a %s, not a file", ErrNoSuchPath, res.CID, res.Path, res.Kind)
	}
	return r.store.NewFileReader(ctx, res.File.Shards, res.ChunkSize, int64(res.File.Size))
}
