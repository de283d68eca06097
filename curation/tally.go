package curation

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// MaxBps is 100% in basis points, the largest Policy.ThresholdBps.
const MaxBps = 10000

// ErrInvalidPolicy means a Policy breaks a rule of Policy.Validate.
var ErrInvalidPolicy = errors.New("curation: invalid policy")

// Policy is how a Datanet decides on contributions: who votes, with what
// weight, how much weight must take part, what share of it must approve,
// and for how long votes are taken.
type Policy struct {
	// Curators maps each curator to its voting weight, > 0. An address not
	// in the map is not a curator.
	Curators map[common.Address]uint64
	// Quorum is the weight of votes cast needed for a decision: 1 up to
	// the total weight of the curators.
	Quorum uint64
	// ThresholdBps is the share of the cast weight that must approve, in
	// basis points (1 to MaxBps; 5000 is half, 6667 about two thirds).
	// Integers keep every node's arithmetic identical.
	ThresholdBps uint32
	// Window is how long after a contribution is created votes on it are
	// taken; 0 means no deadline. Votes are timed to the second.
	Window time.Duration
}

// Validate checks the rules of a Policy: at least one curator, every weight
// positive and their total within uint64, Quorum in [1, total],
// ThresholdBps in [1, MaxBps], Window not negative. It fails with
// ErrInvalidPolicy.
func (p Policy) Validate() error {
	_, err := p.total()
	return err
}

func (p Policy) total() (uint64, error) {
	if len(p.Curators) == 0 {
		return 0, fmt.Errorf("%w: no curators", ErrInvalidPolicy)
	}
	var total uint64
	for a, w := range p.Curators {
		if w == 0 {
			return 0, fmt.Errorf("%w: curator %s has weight 0", ErrInvalidPolicy, a)
		}
		var carry uint64
		if total, carry = bits.Add64(total, w, 0); carry != 0 {
			return 0, fmt.Errorf("%w: total curator weight overflows uint64", ErrInvalidPolicy)
		}
	}
	switch {
	case p.Quorum == 0:
		return 0, fmt.Errorf("%w: quorum is 0", ErrInvalidPolicy)
	case p.Quorum > total:
		return 0, fmt.Errorf("%w: quorum %d exceeds the total curator weight %d", ErrInvalidPolicy, p.Quorum, total)
	case p.ThresholdBps == 0 || p.ThresholdBps > MaxBps:
		return 0, fmt.Errorf("%w: threshold %d bps not in [1, %d]", ErrInvalidPolicy, p.ThresholdBps, MaxBps)
	case p.Window < 0:
		return 0, fmt.Errorf("%w: negative window %s", ErrInvalidPolicy, p.Window)
	}
	return total, nil
}

// Status is the verdict on a contribution (datanet.Status, whose home is
// datanet so the registry's index can name it).
type Status = datanet.Status

// The statuses of a contribution; see the package documentation.
const (
	Pending  = datanet.Pending
	Accepted = datanet.Accepted
	Rejected = datanet.Rejected
	Expired  = datanet.Expired
)

// Reason says why a vote was not counted.
type Reason uint8

// Reasons a vote is ignored.
const (
	// NotCurator: the voter has no weight in the policy (never was a
	// curator, or was removed).
	NotCurator Reason = iota + 1
	// OutsideWindow: the vote was created before the contribution or after
	// its window.
	OutsideWindow
	// Superseded: the same curator has a later vote (higher Seq, or the
	// same Seq and a lower CID).
	Superseded
	// OtherContribution: the vote is about another contribution (Tally
	// only; TallyAll files every vote under its own contribution).
	OtherContribution
)

var reasonNames = [...]string{"", "not a curator", "outside the window", "superseded", "other contribution"}

// String describes the reason in a few words.
func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// MarshalText returns the String form.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads the String form.
func (r *Reason) UnmarshalText(text []byte) error {
	for i, name := range reasonNames {
		if i > 0 && string(text) == name {
			*r = Reason(i)
			return nil
		}
	}
	return fmt.Errorf("curation: unknown reason %q", text)
}

// Ignored is a vote that does not count, and why.
type Ignored struct {
	Vote   *datanet.Vote `json:"vote"`
	Reason Reason        `json:"reason"`
}

// Result is the tally of one contribution.
type Result struct {
	Contribution cid.Cid `json:"contribution"`
	Status       Status  `json:"status"`
	// Approve and Reject are the weights of the counted approving and
	// rejecting votes; Cast is their sum.
	Approve uint64 `json:"approve"`
	Reject  uint64 `json:"reject"`
	Cast    uint64 `json:"cast"`
	// Counted holds the vote that counts for each curator who voted in the
	// window, sorted by curator address: the evidence for the status.
	Counted []*datanet.Vote `json:"counted"`
	// Ignored holds the other distinct votes, sorted by curator address,
	// then Seq from highest, then CID.
	Ignored []Ignored `json:"ignored"`
}

// Tally decides on the contribution with CID contribution, created at
// created, from votes as of now. The order of votes doesn't matter, nor do
// repeated votes. Votes that are nil or fail Validate are left out; votes
// about another contribution are ignored as OtherContribution. Signatures
// are not checked: pass verified votes. It fails with ErrInvalidPolicy only.
func Tally(p Policy, contribution cid.Cid, created time.Time, votes []*datanet.Vote, now time.Time) (Result, error) {
	total, err := p.total()
	if err != nil {
		return Result{}, err
	}
	return tally(p, total, contribution, created, votes, now), nil
}

// TallyAll tallies every contribution in created (its CID → its creation
// time) from votes, which may be about any of them, and returns the results
// sorted by the bytes of the contribution CIDs. Votes about contributions
// not in created are left out. It fails with ErrInvalidPolicy only.
func TallyAll(p Policy, created map[cid.Cid]time.Time, votes []*datanet.Vote, now time.Time) ([]Result, error) {
	total, err := p.total()
	if err != nil {
		return nil, err
	}
	byContribution := make(map[cid.Cid][]*datanet.Vote, len(created))
	for _, v := range votes {
		if v == nil {
			continue
		}
		if _, ok := created[v.Contribution]; ok {
			byContribution[v.Contribution] = append(byContribution[v.Contribution], v)
		}
	}
	ids := make([]cid.Cid, 0, len(created))
	for c := range created {
		ids = append(ids, c)
	}
	slices.SortFunc(ids, func(a, b cid.Cid) int { return strings.Compare(a.KeyString(), b.KeyString()) })
	out := make([]Result, len(ids))
	for i, c := range ids {
		out[i] = tally(p, total, c, created[c], byContribution[c], now)
	}
	return out, nil
}

// entry is a vote being tallied.
type entry struct {
	v      *datanet.Vote
	reason Reason // 0 while it may count
	key    string // the binary CID, computed when two votes tie
	keyed  bool
}

// cidKey returns the binary CID of the vote. The vote passed Validate, so
// it encodes.
func (e *entry) cidKey() string {
	if !e.keyed {
		if c, err := e.v.CID(); err == nil {
			e.key = c.KeyString()
		}
		e.keyed = true
	}
	return e.key
}

// compareEntries orders by curator, then Seq from highest, then CID, the
// CID computed only on a tie.
func compareEntries(a, b *entry) int {
	if a == b || a.v == b.v {
		return 0
	}
	if c := bytes.Compare(a.v.Curator[:], b.v.Curator[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(b.v.Seq, a.v.Seq); c != 0 {
		return c
	}
	return strings.Compare(a.cidKey(), b.cidKey())
}

func tally(p Policy, total uint64, contribution cid.Cid, created time.Time, votes []*datanet.Vote, now time.Time) Result {
	start := created.Unix()
	windowOver := p.Window > 0 && !now.Before(time.Unix(windowEnd(start, p.Window), 0))

	entries := make([]entry, 0, len(votes))
	for _, v := range votes {
		if v == nil || v.Validate() != nil {
			continue
		}
		e := entry{v: v, reason: OtherContribution}
		if v.Contribution.Equals(contribution) {
			e.reason = admit(p.Curators[v.Curator], p.Window, start, v.Created)
		}
		entries = append(entries, e)
	}
	order := make([]*entry, len(entries))
	for i := range entries {
		order[i] = &entries[i]
	}
	slices.SortFunc(order, compareEntries)

	r := Result{Contribution: contribution}
	var prev *entry
	var lastCounted common.Address
	counted := false
	for _, e := range order {
		if prev != nil && compareEntries(prev, e) == 0 {
			continue // the same vote again
		}
		prev = e
		if e.reason == 0 && counted && lastCounted == e.v.Curator {
			e.reason = Superseded
		}
		if e.reason != 0 {
			r.Ignored = append(r.Ignored, Ignored{Vote: e.v, Reason: e.reason})
			continue
		}
		counted, lastCounted = true, e.v.Curator
		r.Counted = append(r.Counted, e.v)
		w := p.Curators[e.v.Curator]
		if e.v.Approves() {
			r.Approve += w
		} else {
			r.Reject += w
		}
	}
	r.Cast = r.Approve + r.Reject
	r.Status = decide(p, total, r.Approve, r.Cast, windowOver)
	return r
}

// decide applies the status rules to the counted weights.
func decide(p Policy, total, approve, cast uint64, windowOver bool) Status {
	if cast >= p.Quorum && meets(approve, cast, p.ThresholdBps) {
		return Accepted
	}
	if windowOver {
		if cast < p.Quorum {
			return Expired
		}
		return Rejected
	}
	// Best case: every curator without a counted vote approves. The total
	// weight is at least the quorum (Validate).
	rest := total - cast
	if meets(approve+rest, total, p.ThresholdBps) {
		return Pending
	}
	return Rejected
}

// meets reports whether approve·MaxBps ≥ thresholdBps·cast, in 128 bits.
func meets(approve, cast uint64, thresholdBps uint32) bool {
	ah, al := bits.Mul64(approve, MaxBps)
	th, tl := bits.Mul64(uint64(thresholdBps), cast)
	return ah > th || (ah == th && al >= tl)
}
