package p2p

import "errors"

// Errors callers branch on with errors.Is. Returned errors wrap them with
// context such as the CID or peer concerned.
var (
	// ErrClosed reports use of a closed Node, or work cut short by Close.
	ErrClosed = errors.New("p2p: closed")
	// ErrNotStarted reports a call that needs the network before Start.
	ErrNotStarted = errors.New("p2p: not started")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("p2p: invalid config")
	// ErrBadAddr reports a multiaddr that cannot be parsed or dialled, such
	// as one without /p2p/<peer id>.
	ErrBadAddr = errors.New("p2p: bad multiaddr")
	// ErrNotJoined reports a Datanet this node (or the remote peer) has not
	// joined.
	ErrNotJoined = errors.New("p2p: datanet not joined")
	// ErrNotFound reports that no provider or peer had what was asked.
	ErrNotFound = errors.New("p2p: not found")
	// ErrNoPeers reports that there was nobody to sync with.
	ErrNoPeers = errors.New("p2p: no peers")
	// ErrTooLarge reports an object above Config.MaxMessageSize given to
	// Publish; such objects travel by sync only.
	ErrTooLarge = errors.New("p2p: message too large")
	// ErrRejected reports that Objects.Check refused an object this node
	// was asked to publish.
	ErrRejected = errors.New("p2p: object rejected")
	// ErrShardCID reports a raw-codec (shard) CID given to Provide: provider
	// records are kept for object CIDs only, one per dataset.
	ErrShardCID = errors.New("p2p: provider records are for object cids, not shards")
	// ErrHashMismatch reports bytes from a peer that do not hash to the CID
	// they were sent for. The peer is penalised.
	ErrHashMismatch = errors.New("p2p: data does not match cid")
	// ErrProtocol reports a malformed or out-of-bounds sync frame.
	ErrProtocol = errors.New("p2p: sync protocol violation")
	// ErrBusy reports a peer that refused a sync session for lack of room.
	ErrBusy = errors.New("p2p: peer busy")
	// ErrUnwanted is what Objects.Check wraps, with the verdict Ignore, for
	// a well-formed object this node did not ask for (a Datanet it has not
	// joined, pushed on the announcements topic). Nothing is kept of it,
	// and the peer that pushed it is charged unwantedPenalty, so that a
	// peer pushing many is graylisted however many keys it makes.
	ErrUnwanted = errors.New("p2p: object not asked for")
	// ErrAnnouncementsNotSynced reports a sync of the announcements set,
	// which is gossiped only: a node takes the Datanets it asks for.
	ErrAnnouncementsNotSynced = errors.New("p2p: the announcements are not reconciled")
)
