package exchange

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
)

// Errors callers branch on with errors.Is. Returned errors wrap them with
// context such as the shard or the peer concerned.
var (
	// ErrNotFound reports a shard that no provider of a fetch has.
	ErrNotFound = errors.New("exchange: not found")
	// ErrBadData reports a peer that sent bytes that do not hash to the CID
	// they were sent for. Such a peer is dropped, disconnected and reported
	// to the function given to Client.OnBadPeer.
	ErrBadData = errors.New("exchange: data does not match cid")
	// ErrProtocol reports a peer that broke the wire format: a malformed or
	// oversize frame, an unknown status, a response for another shard.
	ErrProtocol = errors.New("exchange: protocol violation")
	// ErrStalled reports a peer that sent nothing for
	// ClientConfig.StallTimeout while shards were in flight.
	ErrStalled = errors.New("exchange: peer stalled")
	// ErrBusy reports a server that refused a stream because the peer
	// already had ServerConfig.MaxStreamsPerPeer streams open.
	ErrBusy = errors.New("exchange: peer busy")
	// ErrBadCID reports a CID Fetch cannot verify: only sha2-256
	// multihashes are accepted (shard CIDs are CIDv1, raw, sha2-256).
	ErrBadCID = errors.New("exchange: unsupported cid")
	// ErrClosed reports use of a closed Client or Server.
	ErrClosed = errors.New("exchange: closed")
)

// FetchError is returned by Client.Fetch when every provider has been asked
// and some shards could still not be fetched. The shards that were fetched
// have been handed to put.
type FetchError struct {
	// Shards lists the shards not fetched, in the order of the want list,
	// each with the reason.
	Shards []ShardError
}

// ShardError says why one shard could not be fetched.
type ShardError struct {
	CID cid.Cid
	// Err wraps ErrNotFound when at least one provider answered that it does
	// not have the shard and none sent it; otherwise it is the last failure
	// of a peer the shard was in flight at (ErrStalled, ErrBadData, a
	// connection error, ...).
	Err error
}

func (e *ShardError) Error() string { return fmt.Sprintf("shard %s: %v", e.CID, e.Err) }

func (e *ShardError) Unwrap() error { return e.Err }

// Missing returns the CIDs of the shards not fetched.
func (e *FetchError) Missing() []cid.Cid {
	out := make([]cid.Cid, len(e.Shards))
	for i := range e.Shards {
		out[i] = e.Shards[i].CID
	}
	return out
}

// maxNamed bounds how many shards Error names, so that a fetch of a large
// dataset from nobody does not produce a megabyte of error text.
const maxNamed = 3

func (e *FetchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d shards not fetched: ", len(e.Shards))
	for i := range e.Shards {
		if i == maxNamed {
			fmt.Fprintf(&b, "; and %d more", len(e.Shards)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Shards[i].Error())
	}
	return b.String()
}

// Unwrap returns the error of every shard, so that errors.Is(err,
// ErrNotFound) holds when any shard was not found.
func (e *FetchError) Unwrap() []error {
	out := make([]error, len(e.Shards))
	for i := range e.Shards {
		out[i] = &e.Shards[i]
	}
	return out
}
