package p2p

import (
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// syncPenalty is what one provable offence on the sync protocol (bytes
	// that do not match their CID, an object Check rejects) costs, like one
	// invalid gossip message.
	syncPenalty = 100.0
	// penaltyHalfLife is how fast sync penalties are forgiven.
	penaltyHalfLife = 10 * time.Minute
	// unwantedPenalty is what one object pushed unasked (ErrUnwanted)
	// costs: a tenth of an offence, so that an honest peer announcing a
	// Datanet now and then is not hurt, while one pushing hundreds is
	// graylisted.
	unwantedPenalty = syncPenalty / 10
	// maxPenalised bounds the penalty table.
	maxPenalised = 4096
)

// scoreBook holds the gossipsub scores seen at the last inspection and the
// penalties this package adds to them through AppSpecificScore.
type scoreBook struct {
	mu        sync.Mutex
	scores    map[peer.ID]float64 // guarded by mu; replaced at each inspection
	penalties map[peer.ID]penalty // guarded by mu
}

type penalty struct {
	v  float64 // at time at
	at time.Time
}

func (p penalty) now(t time.Time) float64 {
	return p.v * math.Exp2(-float64(t.Sub(p.at))/float64(penaltyHalfLife))
}

func (b *scoreBook) init() {
	b.scores = make(map[peer.ID]float64)
	b.penalties = make(map[peer.ID]penalty)
}

// set is the gossipsub score inspector.
func (b *scoreBook) set(scores map[peer.ID]float64) {
	b.mu.Lock()
	b.scores = scores
	b.mu.Unlock()
}

func (b *scoreBook) score(p peer.ID) (float64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.scores[p]
	return s, ok
}

// penalise adds amount to p's penalty.
func (b *scoreBook) penalise(p peer.ID, amount float64, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.penalties[p]; !ok && len(b.penalties) >= maxPenalised {
		b.evictLocked(now)
	}
	b.penalties[p] = penalty{v: b.penalties[p].now(now) + amount, at: now}
}

// evictLocked drops forgiven penalties, or else the smallest one.
func (b *scoreBook) evictLocked(now time.Time) {
	var low peer.ID
	lowV := math.Inf(1)
	for p, pen := range b.penalties {
		v := pen.now(now)
		if v < 1 {
			delete(b.penalties, p)
			continue
		}
		if v < lowV {
			low, lowV = p, v
		}
	}
	if len(b.penalties) >= maxPenalised {
		delete(b.penalties, low)
	}
}

// penaltyOf returns p's current penalty, >= 0.
func (b *scoreBook) penaltyOf(p peer.ID, now time.Time) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.penalties[p].now(now)
}

// appScore is gossipsub's AppSpecificScore: the daemon's hook minus our
// own sync penalties.
func (n *Node) appScore(p peer.ID) float64 {
	s := -n.scores.penaltyOf(p, time.Now())
	if n.cfg.AppScore != nil {
		s += n.cfg.AppScore(p)
	}
	return s
}

// chargeUnwanted records an object p pushed that this node did not ask for.
func (n *Node) chargeUnwanted(p peer.ID) {
	n.stats.gossipUnwanted.Add(1)
	n.scores.penalise(p, unwantedPenalty, time.Now())
}

// penalise records a provable offence by p.
func (n *Node) penalise(p peer.ID) {
	n.stats.badPeers.Add(1)
	n.scores.penalise(p, syncPenalty, time.Now())
}
