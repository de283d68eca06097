package storage

import "errors"

// Errors callers branch on with errors.Is. Returned errors wrap them with
// context such as the CID concerned.
var (
	// ErrNotFound reports that a shard, object, pin or session is not stored.
	ErrNotFound = errors.New("storage: not found")
	// ErrQuota reports that a write or reservation would exceed
	// Config.QuotaBytes. Nothing has been written when it is returned.
	ErrQuota = errors.New("storage: quota exceeded")
	// ErrCorrupt reports stored bytes that do not hash to their CID.
	ErrCorrupt = errors.New("storage: corrupt data")
	// ErrClosed reports use of a closed Store, or of a Session that has
	// already been committed or aborted.
	ErrClosed = errors.New("storage: closed")
	// ErrChunkSize reports a chunk size outside [MinChunkSize, MaxChunkSize].
	ErrChunkSize = errors.New("storage: chunk size out of range")
	// ErrBadCID reports a CID that does not match the data given with it.
	ErrBadCID = errors.New("storage: cid does not match data")
	// ErrBadInput reports local files that cannot be added (ScanFiles,
	// Session.AddFiles): missing, unreadable, special, or changed while
	// being read.
	ErrBadInput = errors.New("storage: bad input")
)
