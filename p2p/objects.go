package p2p

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Verdict is what Objects.Check decides about bytes from the network.
type Verdict int

const (
	// Accept: a valid object; it is stored and forwarded.
	Accept Verdict = iota
	// Reject: provably bad (malformed, bad signature, wrong topic, policy
	// violation). It is dropped and the peer that sent it is penalised.
	Reject
	// Ignore: cannot be judged now (e.g. its Datanet is unknown). It is
	// dropped without penalty; sync offers it again later.
	Ignore
)

func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Ignore:
		return "ignore"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// pubsubResult maps a verdict to gossipsub's validation result; an unknown
// verdict is treated as Ignore.
func (v Verdict) pubsubResult() pubsub.ValidationResult {
	switch v {
	case Accept:
		return pubsub.ValidationAccept
	case Reject:
		return pubsub.ValidationReject
	}
	return pubsub.ValidationIgnore
}

// Objects is the node's set of signed objects as the network sees them.
// The daemon implements it over the Datanet registry; p2p never decodes
// objects itself. An object belongs to one Datanet's set (a Datanet object
// belongs to its own set; its CID is the Datanet ID). The announcements set,
// named cid.Undef, holds the Datanet objects themselves.
//
// Methods are called concurrently, from gossip validators and sync
// sessions, and must be safe for that.
type Objects interface {
	// Check decides about object bytes received on the topic of datanet
	// (announcements: cid.Undef) or by sync; it returns the object's CID
	// and the Datanet it belongs to. Reject = provably bad (malformed, bad
	// signature, wrong topic, policy violation); Ignore = cannot judge now
	// (e.g. unknown Datanet). err, if any, explains the verdict; when the
	// verdict waits for objects this node lacks, err has a method
	// Missing() []cid.Cid on its chain naming them (errors.As), and sync
	// fetches them first.
	//
	// Called by sync (FromSync), Check must Reject only what no object
	// received later can make acceptable: what a Datanet update not held
	// yet might admit (a vote by a curator it appoints) is Ignore, or
	// sync would penalise honest peers for the order it meets objects in.
	//
	// A well-formed object this node did not ask for (a Datanet it has
	// not joined, announced on the announcements topic) is Ignore with an
	// error wrapping ErrUnwanted: it is neither kept nor forwarded, and
	// its sender is charged a fraction of an offence.
	Check(ctx context.Context, datanet cid.Cid, data []byte) (c cid.Cid, owner cid.Cid, v Verdict, err error)
	// Put stores a checked object (idempotent).
	Put(ctx context.Context, data []byte) (cid.Cid, error)
	// Has reports whether the object is stored.
	Has(ctx context.Context, c cid.Cid) (bool, error)
	// Get returns a stored object's bytes.
	Get(ctx context.Context, c cid.Cid) ([]byte, error)

	SyncIndex
	DeferredStore
}

// ManyObjects is what an Objects may also do to take the objects of a
// sync session a batch at a time, at a fraction of the cost per object;
// sync uses it when the node's Objects has it.
type ManyObjects interface {
	// Preverify does, on every core, what Check does with the bytes of
	// data alone (decoding, signatures), so that the Checks that follow
	// cost less. It judges nothing: Check still does.
	Preverify(data [][]byte)
	// PutMany stores objects Check accepted, as Put does each, in order;
	// errs[i] is the error of data[i], nil when it is stored. An object
	// stored is no longer deferred (DeferredStore). err is a failure that
	// stopped the call, leaving the rest not stored.
	PutMany(ctx context.Context, data [][]byte) (errs []error, err error)
}

// SyncIndex is the sets as sync reconciles them, read by key range so that
// a session never holds a set in memory. A Datanet's set is what belongs
// to it (every version of the Datanet object, its contributions, votes,
// snapshots, and models), each object at key sha256(CID bytes); bucket b
// holds the keys whose first two bytes are b (NumBuckets of them), and a
// bucket of the first level those whose first byte is b.
type SyncIndex interface {
	// SyncBuckets calls fn, in bucket order, with the sum mod 2^256
	// (32 bytes big-endian) and the count of the keys of every non-empty
	// bucket b of the Datanet's set at level with from <= b < to. A
	// bucket of level 1 holds the keys whose first byte is b (256 of
	// them); one of level 2 those whose first two bytes are b
	// (NumBuckets of them).
	SyncBuckets(ctx context.Context, datanet cid.Cid, level, from, to int, fn func(b int, sum [32]byte, count uint64) error) error
	// SyncKeys calls fn, in key order, with the objects of the Datanet's
	// set whose key is at or above from and begins with from's first
	// within bytes (0: any key), until fn returns false. A read within a
	// bucket (within 2) touches only the part of the store that holds it.
	SyncKeys(ctx context.Context, datanet cid.Cid, from [32]byte, within int, fn func(key [32]byte, c cid.Cid) (bool, error)) error
}

// MaxWaits bounds DeferredObject.Waits.
const MaxWaits = 16

// DeferredObject is an object received that Check could not judge yet,
// kept until what it waits for arrives.
type DeferredObject struct {
	CID  cid.Cid
	Set  cid.Cid // the set it was received for (cid.Undef: announcements)
	From peer.ID // the peer that sent it, penalised if it proves bad
	Data []byte
	// Waits are the objects whose arrival may let Check judge it (at most
	// MaxWaits); none: it is checked again when sync meets it again.
	Waits []cid.Cid
}

// DeferredStore keeps the objects sync cannot judge yet, on disk and
// bounded in bytes, so that they are not fetched again while their
// dependencies arrive. What it drops to stay within its bounds (the oldest
// first, and what waited too long) a later reconciliation learns again.
type DeferredStore interface {
	// Defer keeps o, replacing what was kept under o.CID. kept is false
	// when o was not kept (too large for the store's bound).
	Defer(ctx context.Context, o DeferredObject) (kept bool, err error)
	// Deferred returns the object kept under c, ok false if none.
	Deferred(ctx context.Context, c cid.Cid) (o DeferredObject, ok bool, err error)
	// Waiting calls fn with the CIDs of the objects kept that wait for c,
	// until fn returns false.
	Waiting(ctx context.Context, c cid.Cid, fn func(cid.Cid) (bool, error)) error
	// Undefer forgets the object kept under c, if any.
	Undefer(ctx context.Context, c cid.Cid) error
}

// missingOf returns the objects err says a check lacks (a Missing method
// on its chain), nil if it names none.
func missingOf(err error) []cid.Cid {
	var m interface{ Missing() []cid.Cid }
	if errors.As(err, &m) {
		return m.Missing()
	}
	return nil
}
