package attribution

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
)

// Errors callers branch on.
var (
	// ErrNotIndexed means a searcher was asked for contributions that no
	// stored segments cover; the error is a *NotIndexedError naming them.
	ErrNotIndexed = errors.New("attribution: not indexed")
	// ErrEmptyOutput means the output to attribute is empty or only
	// white space.
	ErrEmptyOutput = errors.New("attribution: empty output")
	// ErrOutputTooLarge means the output is longer than the parameters'
	// MaxOutputBytes.
	ErrOutputTooLarge = errors.New("attribution: output too large")
	// ErrCorrupt means a file of the store is not what was written.
	ErrCorrupt = errors.New("attribution: corrupt index")
	// ErrNoManifest means no index was built under a name.
	ErrNoManifest = errors.New("attribution: no such index")
	// ErrDocTooLarge means one document's text cannot fit in a segment.
	ErrDocTooLarge = errors.New("attribution: document too large for a segment")
	// ErrClosed means the searcher was closed.
	ErrClosed = errors.New("attribution: searcher closed")
)

// NotIndexedError lists the contributions a searcher needs that no stored
// segments cover (build the index of a snapshot holding them first). It
// matches ErrNotIndexed with errors.Is.
type NotIndexedError struct {
	Missing []cid.Cid // sorted by CID bytes
}

func (e *NotIndexedError) Error() string {
	const show = 3
	names := make([]string, 0, show)
	for _, c := range e.Missing[:min(show, len(e.Missing))] {
		names = append(names, c.String())
	}
	more := ""
	if len(e.Missing) > show {
		more = fmt.Sprintf(" and %d more", len(e.Missing)-show)
	}
	return fmt.Sprintf("%v: %d contributions have no segment: %s%s", ErrNotIndexed, len(e.Missing), strings.Join(names, ", "), more)
}

// Is reports whether target is ErrNotIndexed.
func (e *NotIndexedError) Is(target error) bool { return target == ErrNotIndexed }
