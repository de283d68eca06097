package p2p

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
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
	// (e.g. unknown Datanet). err, if any, explains the verdict.
	Check(ctx context.Context, datanet cid.Cid, data []byte) (c cid.Cid, owner cid.Cid, v Verdict, err error)
	// Put stores a checked object (idempotent).
	Put(ctx context.Context, data []byte) (cid.Cid, error)
	// Has reports whether the object is stored.
	Has(ctx context.Context, c cid.Cid) (bool, error)
	// Get returns a stored object's bytes.
	Get(ctx context.Context, c cid.Cid) ([]byte, error)
	// IDs returns every object CID of the Datanet's set (cid.Undef: every
	// Datanet object), in any order.
	IDs(ctx context.Context, datanet cid.Cid) ([]cid.Cid, error)
}
