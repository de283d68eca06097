package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Topic names.
const (
	// AnnouncementsTopic carries Datanet objects (new Datanets and their
	// updates). Every started node is on it.
	AnnouncementsTopic = "/openledger/datanets/1"
	topicPrefix        = "/openledger/datanet/"
	topicSuffix        = "/1"
)

// TopicName returns the gossip topic of a Datanet's objects,
// /openledger/datanet/<datanet CID>/1, or AnnouncementsTopic for cid.Undef.
func TopicName(datanet cid.Cid) string {
	if !datanet.Defined() {
		return AnnouncementsTopic
	}
	return topicPrefix + datanet.String() + topicSuffix
}

const (
	// gossipOverhead is the room a gossip RPC needs beyond the object, so
	// that an object a little above MaxMessageSize still reaches the
	// validator and its sender is penalised rather than silently dropped.
	gossipOverhead = 64 << 10
	// validatorTimeout bounds one Check+Put of a gossiped object.
	validatorTimeout  = 10 * time.Second
	validateQueueSize = 256
	scoreInspectEvery = time.Second
)

// Peer scoring. P4 (invalid messages) does the real work: one rejected
// object costs -100, n cost -100·n² (decaying over an hour), so a peer
// sending garbage crosses GossipThreshold after 3, PublishThreshold after
// 4 and is graylisted after 5. P1/P2 reward time in the mesh and first
// deliveries (at most +13 per topic, +50 in all). P3 (mesh delivery rate)
// is off: Datanet topics are quiet, and a quiet honest peer must not look
// like a lazy one. AppScore (exchange/sync misbehaviour) is added with
// weight 1.
var (
	scoreThresholds = pubsub.PeerScoreThresholds{
		GossipThreshold:             -500,
		PublishThreshold:            -1000,
		GraylistThreshold:           -2500,
		AcceptPXThreshold:           100,
		OpportunisticGraftThreshold: 2,
	}
	invalidMessageWeight = -100.0
)

func peerScoreParams(app func(peer.ID) float64) *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:            make(map[string]*pubsub.TopicScoreParams),
		TopicScoreCap:     50,
		AppSpecificScore:  app,
		AppSpecificWeight: 1,
		// More than 8 peers behind one IP cost (n-8)²·-20. Loopback is
		// exempt: several local nodes are a test or a devnet, not a Sybil.
		IPColocationFactorWeight:    -20,
		IPColocationFactorThreshold: 8,
		IPColocationFactorWhitelist: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		RetainScore:               time.Hour,
	}
}

func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		SkipAtomicValidation:           true,
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  300,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:      10,
		InvalidMessageDeliveriesWeight: invalidMessageWeight,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}

// messageID names a gossip message by the hash of its bytes: the same
// object published by two nodes is one message.
func messageID(m *pb.Message) string {
	h := sha256.Sum256(m.Data)
	return string(h[:])
}

// startPubSub starts gossipsub with scoring, unsigned messages (objects
// carry their own signatures) and content-derived message IDs.
func (n *Node) startPubSub() error {
	params := pubsub.DefaultGossipSubParams()
	if n.cfg.gossipHeartbeat > 0 {
		params.HeartbeatInterval = n.cfg.gossipHeartbeat
		params.HeartbeatInitialDelay = n.cfg.gossipHeartbeat / 10
	}
	thresholds := scoreThresholds
	ctx, cancel := context.WithCancel(context.Background())
	ps, err := pubsub.NewGossipSub(ctx, n.host,
		pubsub.WithGossipSubParams(params),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithMessageIdFn(messageID),
		// Our own objects go to every topic peer, not only the mesh: the
		// topics are quiet, and a mesh still forming would lose them.
		pubsub.WithFloodPublish(true),
		pubsub.WithRawTracer(&n.mesh),
		pubsub.WithMaxMessageSize(n.cfg.MaxMessageSize+gossipOverhead),
		pubsub.WithValidateQueueSize(validateQueueSize),
		pubsub.WithPeerScore(peerScoreParams(n.appScore), &thresholds),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(n.scores.set), scoreInspectEvery),
		pubsub.WithLogger(n.log.With(slog.String("system", "pubsub"))),
	)
	if err != nil {
		cancel()
		return fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	n.ps, n.psCancel = ps, cancel
	return nil
}

// meshTracer follows gossipsub's mesh through its tracer events.
type meshTracer struct {
	mu   sync.Mutex
	mesh map[string]map[peer.ID]struct{} // guarded by mu: topic -> mesh peers
}

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh == nil {
		m.mesh = make(map[string]map[peer.ID]struct{})
	}
	if m.mesh[topic] == nil {
		m.mesh[topic] = make(map[peer.ID]struct{})
	}
	m.mesh[topic][p] = struct{}{}
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
}

func (m *meshTracer) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, peers := range m.mesh {
		delete(peers, p)
	}
}

func (m *meshTracer) Leave(topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh, topic)
}

// peers returns the mesh peers of topic.
func (m *meshTracer) peers(topic string) []peer.ID {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]peer.ID, 0, len(m.mesh[topic]))
	for p := range m.mesh[topic] {
		out = append(out, p)
	}
	return out
}

func (*meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*meshTracer) Join(string)                                          {}
func (*meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (*meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (*meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (*meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*meshTracer) ThrottlePeer(peer.ID)                                 {}
func (*meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) UndeliverableMessage(*pubsub.Message)                 {}

// joinedTopic is a topic this node relays and validates.
type joinedTopic struct {
	set    cid.Cid
	topic  *pubsub.Topic
	relay  pubsub.RelayCancelFunc
	events *pubsub.TopicEventHandler
	cancel context.CancelFunc // stops the event reader
	done   chan struct{}      // closed when the event reader has returned
}

// Join subscribes to the Datanet's topic, with a validator that hands
// every message to Objects.Check and stores what it accepts, and
// reconciles the Datanet's objects with each peer of the topic, now and
// whenever a peer joins it. Joining twice is a no-op.
func (n *Node) Join(ctx context.Context, datanet cid.Cid) error {
	if !datanet.Defined() {
		return errors.New("p2p: join: undefined datanet (the announcements topic is always joined)")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case !n.started:
		return ErrNotStarted
	}
	if err := n.joinLocked(datanet); err != nil {
		return fmt.Errorf("p2p: join %s: %w", datanet, err)
	}
	return nil
}

func (n *Node) joinLocked(set cid.Cid) (err error) {
	if _, ok := n.topics[set]; ok {
		return nil
	}
	name := TopicName(set)
	if err := n.ps.RegisterTopicValidator(name, n.validator(set),
		pubsub.WithValidatorTimeout(validatorTimeout)); err != nil {
		return err
	}
	jt := &joinedTopic{set: set, done: make(chan struct{})}
	defer func() {
		if err != nil {
			err = errors.Join(err, jt.close(n.ps, name))
		}
	}()
	if jt.topic, err = n.ps.Join(name); err != nil {
		return err
	}
	if err = jt.topic.SetScoreParams(topicScoreParams()); err != nil {
		return err
	}
	if jt.events, err = jt.topic.EventHandler(); err != nil {
		return err
	}
	if jt.relay, err = jt.topic.Relay(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(n.ctx)
	jt.cancel = cancel
	n.goLocked(func() {
		defer close(jt.done)
		n.readTopicEvents(ctx, jt)
	})
	n.topics[set] = jt
	n.log.Debug("joined topic", slog.String("topic", name))
	return nil
}

// close undoes what join set up, in reverse; nil fields are skipped.
func (jt *joinedTopic) close(ps *pubsub.PubSub, name string) error {
	if jt.cancel != nil {
		jt.cancel()
		<-jt.done
	}
	if jt.relay != nil {
		jt.relay()
	}
	if jt.events != nil {
		jt.events.Cancel()
	}
	var errs []error
	if jt.topic != nil {
		errs = append(errs, jt.topic.Close())
	}
	errs = append(errs, ps.UnregisterTopicValidator(name))
	return errors.Join(errs...)
}

// readTopicEvents reconciles with every peer that joins the topic; the
// handler first replays the peers already on it.
func (n *Node) readTopicEvents(ctx context.Context, jt *joinedTopic) {
	for {
		ev, err := jt.events.NextPeerEvent(ctx)
		if err != nil {
			return
		}
		if ev.Type == pubsub.PeerJoin {
			n.scheduleSync(jt.set, ev.Peer)
		}
	}
}

// Leave unsubscribes from the Datanet's topic. Its objects stay stored.
func (n *Node) Leave(datanet cid.Cid) error {
	if !datanet.Defined() {
		return errors.New("p2p: leave: the announcements topic cannot be left")
	}
	n.mu.Lock()
	jt, ok := n.topics[datanet]
	if ok {
		delete(n.topics, datanet)
	}
	closed := n.closed
	n.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case !ok:
		return fmt.Errorf("p2p: leave %s: %w", datanet, ErrNotJoined)
	}
	if err := jt.close(n.ps, TopicName(datanet)); err != nil {
		return fmt.Errorf("p2p: leave %s: %w", datanet, err)
	}
	return nil
}

// Joined returns the joined Datanets, sorted.
func (n *Node) Joined() []cid.Cid {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []cid.Cid
	for c := range n.topics {
		if c.Defined() {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b cid.Cid) int { return cmpCID(a, b) })
	return out
}

func cmpCID(a, b cid.Cid) int {
	switch ka, kb := a.KeyString(), b.KeyString(); {
	case ka < kb:
		return -1
	case ka > kb:
		return 1
	}
	return 0
}

// topic returns the joined topic of set, or nil.
func (n *Node) topic(set cid.Cid) *joinedTopic {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.topics[set]
}

// topicPeers returns the peers subscribed to set's topic.
func (n *Node) topicPeers(set cid.Cid) []peer.ID {
	if jt := n.topic(set); jt != nil {
		return jt.topic.ListPeers()
	}
	return nil
}

// topicMembers maps each peer to the joined Datanets whose topic it is
// on, and to those whose mesh it is in.
func (n *Node) topicMembers() (topic, mesh map[peer.ID][]cid.Cid) {
	topic, mesh = make(map[peer.ID][]cid.Cid), make(map[peer.ID][]cid.Cid)
	for _, set := range n.Joined() {
		for _, p := range n.topicPeers(set) {
			topic[p] = append(topic[p], set)
		}
		for _, p := range n.mesh.peers(TopicName(set)) {
			mesh[p] = append(mesh[p], set)
		}
	}
	return topic, mesh
}

// Publish sends signed object bytes on the Datanet's topic (cid.Undef: the
// announcements topic), which must be joined. The local validator runs
// first: an object Check rejects is not sent (ErrRejected), and an
// accepted one is stored. Objects above MaxMessageSize are refused with
// ErrTooLarge: they travel by sync only.
func (n *Node) Publish(ctx context.Context, datanet cid.Cid, data []byte) error {
	return n.publish(ctx, datanet, data, false)
}

// PublishChecked is Publish for object bytes the caller has checked and
// stored itself (an object this node made): the local validator takes
// them without checking them again, which would verify the signature a
// second time.
func (n *Node) PublishChecked(ctx context.Context, datanet cid.Cid, data []byte) error {
	return n.publish(ctx, datanet, data, true)
}

func (n *Node) publish(ctx context.Context, datanet cid.Cid, data []byte, checked bool) error {
	if len(data) > n.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, len(data), n.cfg.MaxMessageSize)
	}
	if err := n.enterStarted(); err != nil {
		return err
	}
	defer n.wg.Done()
	jt := n.topic(datanet)
	if jt == nil {
		return fmt.Errorf("p2p: publish on %s: %w", TopicName(datanet), ErrNotJoined)
	}
	ctx, cancel := n.opCtx(ctx)
	defer cancel()
	if checked {
		key := sha256.Sum256(data)
		n.checked.Store(key, struct{}{})
		defer n.checked.Delete(key) // if the validator did not run
	}
	if err := jt.topic.Publish(ctx, data); err != nil {
		if c := ctxErr(ctx); c != nil {
			return c
		}
		if ve, ok := errors.AsType[pubsub.ValidationError](err); ok {
			return fmt.Errorf("%w: %s", ErrRejected, ve.Reason)
		}
		return fmt.Errorf("p2p: publish on %s: %w", TopicName(datanet), err)
	}
	return nil
}

// validator returns the gossip validator of set's topic: size bound, then
// Objects.Check; an accepted object is stored before it is forwarded, so
// every accepted message ends up stored.
func (n *Node) validator(set cid.Cid) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if err := n.enter(); err != nil {
			return pubsub.ValidationIgnore
		}
		defer n.wg.Done()
		ctx, cancel := n.opCtx(ctx)
		defer cancel()
		v := n.validate(ctx, set, from, msg.Data)
		switch v {
		case Accept:
			n.stats.gossipAccepted.Add(1)
		case Reject:
			n.stats.gossipRejected.Add(1)
		default:
			n.stats.gossipIgnored.Add(1)
		}
		return v.pubsubResult()
	}
}

func (n *Node) validate(ctx context.Context, set cid.Cid, from peer.ID, data []byte) Verdict {
	log := n.log.With(slog.String("topic", TopicName(set)), slog.String("from", from.String()))
	if len(data) > n.cfg.MaxMessageSize {
		log.Debug("gossip rejected: too large", slog.Int("size", len(data)))
		return Reject
	}
	if from == n.host.ID() {
		if _, ok := n.checked.LoadAndDelete(sha256.Sum256(data)); ok {
			return Accept // PublishChecked: its caller checked and stored it
		}
	}
	c, owner, v, err := n.objs.Check(ctx, set, data)
	if v == Accept && err == nil && set.Defined() && owner != set {
		v, err = Reject, fmt.Errorf("object of %s on the topic of %s", owner, set)
	}
	if v == Ignore && errors.Is(err, ErrUnwanted) {
		n.chargeUnwanted(from)
		log.Debug("gossip not asked for", slog.Any("err", err))
		return Ignore
	}
	if v != Accept || err != nil {
		if v == Accept {
			v = Ignore // an error with Accept is a local failure, not the peer's
		}
		log.Debug("gossip not accepted", slog.String("verdict", v.String()), slog.Any("err", err))
		return v
	}
	if _, err := n.objs.Put(ctx, data); err != nil {
		log.Warn("store gossiped object", slog.String("cid", c.String()), slog.Any("err", err))
		return Ignore
	}
	return Accept
}
