package datanet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// ErrWrongTopic means an object arrived on the topic of another Datanet.
var ErrWrongTopic = errors.New("datanet: object belongs to another datanet")

// Checked is an object received from the network that passed Check.
type Checked struct {
	CID     cid.Cid
	Datanet cid.Cid // the set it belongs to (a Datanet object belongs to its own)
	Object  Object
}

// Check decides whether object bytes received from a peer may enter the
// node's state: they decode strictly, the signature verifies, and the object
// fits its Datanet (topic is the Datanet whose topic it came on, or
// cid.Undef for the announcement topic and sync). It writes nothing.
//
// A contribution to a Datanet this node does not hold fails with
// ErrUnknownDatanet, and an object that depends on one not held here (a
// vote's contribution, a model's snapshot, an attribution record's model)
// with ErrMissingObject: both mean "cannot judge yet", not "bad"
// (CannotJudgeYet), and the network layer ignores such a message rather
// than penalising its sender. Every other error means the object is
// provably bad.
//
// A ModelRecord is accepted on the topic of any of its Datanets; its
// Checked.Datanet is the Datanet of its first snapshot. An
// AttributionRecord is accepted on the topic of any of its model's
// Datanets, and its Checked.Datanet is the model's. A RewardEpoch belongs
// to no Datanet (Checked.Datanet is cid.Undef): only its signature and
// field rules are checked, on any topic.
func (r *Registry) Check(ctx context.Context, topic cid.Cid, data []byte) (*Checked, error) {
	c, err := ObjectCID(data)
	if err != nil {
		return nil, err
	}
	if obj, ok := r.decodedObject(c, len(data)); ok {
		return r.checkIn(ctx, topic, c, obj)
	}
	obj, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if !r.verified.Contains(c) {
		if err := obj.Verify(); err != nil {
			return nil, err
		}
	}
	r.rememberVerified(c, obj, len(data))
	return r.checkIn(ctx, topic, c, obj)
}

// decodedObject returns the object c names, of size bytes, if it was
// decoded and verified lately (Registry.decoded).
func (r *Registry) decodedObject(c cid.Cid, size int) (Object, bool) {
	if size > decodedMaxBytes {
		return nil, false
	}
	return r.decoded.Get(c)
}

// rememberVerified notes that obj, decoded from size bytes whose CID is c,
// passed Verify: the signature is not verified again, and a small object
// is not decoded again, while they are remembered.
func (r *Registry) rememberVerified(c cid.Cid, obj Object, size int) {
	r.verified.Add(c, struct{}{})
	if size <= decodedMaxBytes {
		r.decoded.Add(c, obj)
	}
}

// checkIn is Check of an object decoded and verified: whether it fits its
// Datanet and what it depends on.
func (r *Registry) checkIn(ctx context.Context, topic, c cid.Cid, obj Object) (*Checked, error) {
	var err error
	switch o := obj.(type) {
	case *Datanet:
		id := c
		if o.Seq > 0 {
			if id, err = r.datanetID(ctx, c, o); err != nil {
				return nil, err
			}
		}
		if topic.Defined() && !topic.Equals(id) {
			return nil, fmt.Errorf("%w: datanet %s on the topic of %s", ErrWrongTopic, id, topic)
		}
		return &Checked{CID: c, Datanet: id, Object: obj}, nil
	case *Contribution:
		if topic.Defined() && !topic.Equals(o.Datanet) {
			return nil, fmt.Errorf("%w: contribution to %s on the topic of %s", ErrWrongTopic, o.Datanet, topic)
		}
		d, err := r.Datanet(ctx, o.Datanet)
		if err != nil {
			return nil, err
		}
		if err := d.Admits(o); err != nil {
			return nil, err
		}
		return &Checked{CID: c, Datanet: o.Datanet, Object: obj}, nil
	case *Vote:
		if topic.Defined() && !topic.Equals(o.Datanet) {
			return nil, fmt.Errorf("%w: vote in %s on the topic of %s", ErrWrongTopic, o.Datanet, topic)
		}
		if err := r.checkVote(ctx, c, o); err != nil {
			return nil, err
		}
		return &Checked{CID: c, Datanet: o.Datanet, Object: obj}, nil
	case *Snapshot:
		if topic.Defined() && !topic.Equals(o.Datanet) {
			return nil, fmt.Errorf("%w: snapshot of %s on the topic of %s", ErrWrongTopic, o.Datanet, topic)
		}
		if err := r.checkSnapshot(ctx, o); err != nil {
			return nil, err
		}
		return &Checked{CID: c, Datanet: o.Datanet, Object: obj}, nil
	case *ModelRecord:
		if topic.Defined() && !slices.ContainsFunc(o.Datanets(), topic.Equals) {
			return nil, fmt.Errorf("%w: model of %s on the topic of %s", ErrWrongTopic, o.Snapshots[0].Datanet, topic)
		}
		if err := r.checkModel(ctx, o); err != nil {
			return nil, err
		}
		return &Checked{CID: c, Datanet: o.Snapshots[0].Datanet, Object: obj}, nil
	case *AttributionRecord:
		m, err := r.checkAttribution(ctx, topic, o)
		if err != nil {
			return nil, err
		}
		return &Checked{CID: c, Datanet: m.Snapshots[0].Datanet, Object: obj}, nil
	case *SnapshotChunk:
		return nil, fmt.Errorf("%w: a snapshot chunk arrived unasked", ErrFetchOnly)
	case *RewardEpoch:
		// Epochs belong to no Datanet, and their balances are the
		// rewards package's to recheck: signature and field rules only.
		return &Checked{CID: c, Datanet: cid.Undef, Object: obj}, nil
	default:
		return nil, fmt.Errorf("%w: %s objects are not accepted", ErrUnknownKind, obj.Kind())
	}
}

// Put checks object bytes received from the network and stores and pins
// the object. The shards a contribution names are not fetched: they arrive
// when someone asks for the content.
func (r *Registry) Put(ctx context.Context, data []byte) (*Checked, error) {
	ch, err := r.Check(ctx, cid.Undef, data)
	if err != nil {
		return nil, err
	}
	if _, err := r.put(ctx, ch.Object, ch.Datanet, true); err != nil {
		return nil, err
	}
	r.emit(ch, false)
	return ch, nil
}

// Provided reports whether an object made here is announced on the DHT:
// what peers fetch by CID (Datanets, contributions, snapshots, models,
// attribution records, reward epochs), not votes, which travel with their
// Datanet by gossip and sync and with snapshots as evidence.
func (ch *Checked) Provided() bool {
	switch ch.Object.(type) {
	case *Vote, *SnapshotChunk:
		return false
	}
	return true
}

// Gossip returns the topic an object is gossiped on when it is made: the
// announcement topic (cid.Undef) for the first version of a Datanet, its
// Datanet's topic for a later version, a contribution, a vote, a snapshot
// or a model record. ok is false for attribution records and reward
// epochs, which spread by request (provider records) only.
func (ch *Checked) Gossip() (topic cid.Cid, ok bool) {
	switch o := ch.Object.(type) {
	case *Datanet:
		if o.Seq == 0 {
			return cid.Undef, true
		}
		return ch.Datanet, true
	case *Contribution, *Vote, *Snapshot, *ModelRecord:
		return ch.Datanet, true
	}
	return cid.Undef, false
}

// IDs lists the CIDs of a Datanet's set: every version of the Datanet
// object, and every contribution, vote, snapshot and model record (a model
// trained on one of its snapshots) of it this node holds.
func (r *Registry) IDs(ctx context.Context, datanetID cid.Cid) ([]cid.Cid, error) {
	versions, err := r.Versions(ctx, datanetID)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, 0, len(versions))
	isVersion := make(map[cid.Cid]bool, len(versions))
	for _, v := range versions {
		out = append(out, v.CID)
		isVersion[v.CID] = true
	}
	var rest []cid.Cid
	err = r.SyncKeys(ctx, datanetID, [32]byte{}, 0, func(_ [32]byte, c cid.Cid) (bool, error) {
		if !isVersion[c] { // the set holds the versions too
			rest = append(rest, c)
		}
		return true, nil
	})
	slices.SortFunc(rest, func(a, b cid.Cid) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
	return append(out, rest...), err
}

// Has reports whether the object c is stored.
func (r *Registry) Has(ctx context.Context, c cid.Cid) (bool, error) {
	return r.store.HasObject(ctx, c)
}

// Get returns the stored bytes of object c.
func (r *Registry) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	return r.store.GetObject(ctx, c)
}

// IsNotFound reports whether err means something is not stored here.
func IsNotFound(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || errors.Is(err, ErrUnknownDatanet)
}
