package curation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

const testChainID = 1612

var (
	t0      = time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z, the contribution's creation
	day     = 24 * time.Hour
	dataset = objectCID("datanet")
	target  = objectCID("contribution 1")
	other   = objectCID("contribution 2")
)

// curator returns the address of test curator i.
func curator(i int) common.Address { return common.Address{19: byte(i)} }

// objectCID returns a dag-cbor CID of s, standing for a signed object.
func objectCID(s string) cid.Cid {
	return storage.ObjectCID(cid.DagCBOR, []byte(s))
}

// vote returns a vote on target by curator i, created at t0+at. Signatures
// are not checked by the tally; it holds a fixed placeholder.
func vote(i int, d datanet.Decision, seq uint64, at time.Duration) *datanet.Vote {
	sig := bytes.Repeat([]byte{byte(i)}, datanet.SignatureLen)
	return &datanet.Vote{
		Datanet:      dataset,
		Contribution: target,
		Curator:      curator(i),
		Decision:     d,
		Seq:          seq,
		ChainID:      testChainID,
		Created:      t0.Add(at).Unix(),
		Signature:    sig,
	}
}

// policy returns three curators of weight 1, quorum 2, half to approve, a
// window of one day.
func policy() Policy {
	return Policy{
		Curators:     map[common.Address]uint64{curator(1): 1, curator(2): 1, curator(3): 1},
		Quorum:       2,
		ThresholdBps: 5000,
		Window:       day,
	}
}

func withPolicy(change func(*Policy)) Policy {
	p := policy()
	change(&p)
	return p
}

const (
	A = datanet.Approve
	R = datanet.Reject
)

func TestTally(t *testing.T) {
	tests := []struct {
		name    string
		p       Policy
		votes   []*datanet.Vote
		now     time.Duration // after t0
		want    Status
		approve uint64
		reject  uint64
		counted int
		ignored map[Reason]int
	}{
		{name: "no votes", p: policy(), now: time.Hour, want: Pending},
		{name: "below quorum", p: policy(), votes: []*datanet.Vote{vote(1, A, 0, time.Minute)},
			now: time.Hour, want: Pending, approve: 1, counted: 1},
		{name: "quorum reached", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, A, 0, time.Minute)},
			now:   time.Hour, want: Accepted, approve: 2, counted: 2},
		{name: "quorum one short", p: withPolicy(func(p *Policy) { p.Quorum = 3 }),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, A, 0, time.Minute)},
			now:   time.Hour, want: Pending, approve: 2, counted: 2},
		{name: "exact threshold accepts", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, R, 0, time.Minute)},
			now:   time.Hour, want: Accepted, approve: 1, reject: 1, counted: 2},
		{name: "one bps above: still possible", p: withPolicy(func(p *Policy) { p.ThresholdBps = 5001 }),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, R, 0, time.Minute)},
			now:   time.Hour, want: Pending, approve: 1, reject: 1, counted: 2},
		{name: "one bps above: everyone voted", p: withPolicy(func(p *Policy) { p.ThresholdBps = 5001 }),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, R, 0, time.Minute), vote(3, R, 0, time.Minute)},
			now:   time.Hour, want: Rejected, approve: 1, reject: 2, counted: 3},
		{name: "rejected before the window ends", p: withPolicy(func(p *Policy) { p.ThresholdBps = 5001 }),
			votes: []*datanet.Vote{vote(1, R, 0, time.Minute), vote(2, R, 0, time.Minute)},
			now:   time.Hour, want: Rejected, reject: 2, counted: 2},
		{name: "unanimity: one reject decides", p: withPolicy(func(p *Policy) { p.ThresholdBps = MaxBps }),
			votes: []*datanet.Vote{vote(1, R, 0, time.Minute)},
			now:   time.Hour, want: Rejected, reject: 1, counted: 1},
		{name: "window over without quorum", p: policy(), votes: []*datanet.Vote{vote(1, A, 0, time.Minute)},
			now: day, want: Expired, approve: 1, counted: 1},
		{name: "window over, no votes", p: policy(), now: 2 * day, want: Expired},
		{name: "window over, threshold missed", p: withPolicy(func(p *Policy) { p.ThresholdBps = 5001 }),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, R, 0, time.Minute)},
			now:   day, want: Rejected, approve: 1, reject: 1, counted: 2},
		{name: "accepted stays accepted after the window", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, A, 0, time.Minute)},
			now:   30 * day, want: Accepted, approve: 2, counted: 2},
		{name: "now one second before the end", p: policy(), votes: []*datanet.Vote{vote(1, A, 0, time.Minute)},
			now: day - time.Second, want: Pending, approve: 1, counted: 1},
		{name: "window start is inclusive", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, 0), vote(2, A, 0, 0)},
			now:   time.Hour, want: Accepted, approve: 2, counted: 2},
		{name: "before the contribution", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, -time.Second), vote(2, A, 0, 0)},
			now:   time.Hour, want: Pending, approve: 1, counted: 1, ignored: map[Reason]int{OutsideWindow: 1}},
		{name: "window end is exclusive", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, day-time.Second), vote(2, A, 0, day)},
			now:   2 * day, want: Expired, approve: 1, counted: 1, ignored: map[Reason]int{OutsideWindow: 1}},
		{name: "non-curator", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(9, A, 0, time.Minute)},
			now:   time.Hour, want: Pending, approve: 1, counted: 1, ignored: map[Reason]int{NotCurator: 1}},
		{name: "removed curator", p: withPolicy(func(p *Policy) { delete(p.Curators, curator(2)) }),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, A, 0, time.Minute)},
			now:   time.Hour, want: Pending, approve: 1, counted: 1, ignored: map[Reason]int{NotCurator: 1}},
		{name: "re-vote counts", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(1, R, 1, time.Hour), vote(2, A, 0, time.Minute)},
			now:   2 * time.Hour, want: Accepted, approve: 1, reject: 1, counted: 2, ignored: map[Reason]int{Superseded: 1}},
		{name: "seq, not time, orders re-votes", p: policy(),
			votes: []*datanet.Vote{vote(1, R, 5, time.Minute), vote(1, A, 2, time.Hour)},
			now:   2 * time.Hour, want: Pending, reject: 1, counted: 1, ignored: map[Reason]int{Superseded: 1}},
		{name: "late re-vote ignored", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(2, A, 0, time.Minute), vote(2, R, 1, day)},
			now:   2 * day, want: Accepted, approve: 2, counted: 2, ignored: map[Reason]int{OutsideWindow: 1}},
		{name: "duplicates count once", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), vote(1, A, 0, time.Minute), vote(1, A, 0, time.Minute)},
			now:   time.Hour, want: Pending, approve: 1, counted: 1},
		{name: "weights", p: Policy{
			Curators: map[common.Address]uint64{curator(1): 3, curator(2): 1, curator(3): 1},
			Quorum:   3, ThresholdBps: 6000, Window: day},
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute)},
			now:   time.Hour, want: Accepted, approve: 3, counted: 1},
		{name: "heavy reject outweighs", p: Policy{
			Curators: map[common.Address]uint64{curator(1): 3, curator(2): 1, curator(3): 1},
			Quorum:   2, ThresholdBps: 5000, Window: day},
			votes: []*datanet.Vote{vote(1, R, 0, time.Minute), vote(2, A, 0, time.Minute)},
			now:   time.Hour, want: Rejected, approve: 1, reject: 3, counted: 2},
		{name: "no deadline", p: withPolicy(func(p *Policy) { p.Window = 0 }),
			votes: []*datanet.Vote{vote(1, A, 0, 3650*day)},
			now:   7300 * day, want: Pending, approve: 1, counted: 1},
		{name: "other contribution", p: policy(),
			votes: []*datanet.Vote{vote(1, A, 0, time.Minute), func() *datanet.Vote {
				v := vote(2, A, 0, time.Minute)
				v.Contribution = other
				return v
			}()},
			now: time.Hour, want: Pending, approve: 1, counted: 1, ignored: map[Reason]int{OtherContribution: 1}},
		{name: "invalid and nil votes left out", p: policy(),
			votes: []*datanet.Vote{nil, vote(1, A, 0, time.Minute), func() *datanet.Vote {
				v := vote(2, A, 0, time.Minute)
				v.Decision = "abstain"
				return v
			}()},
			now: time.Hour, want: Pending, approve: 1, counted: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Tally(tt.p, target, t0, tt.votes, t0.Add(tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want || r.Approve != tt.approve || r.Reject != tt.reject || r.Cast != tt.approve+tt.reject {
				t.Errorf("status %s approve %d reject %d cast %d; want %s %d %d %d",
					r.Status, r.Approve, r.Reject, r.Cast, tt.want, tt.approve, tt.reject, tt.approve+tt.reject)
			}
			if len(r.Counted) != tt.counted {
				t.Errorf("%d votes counted, want %d", len(r.Counted), tt.counted)
			}
			got := map[Reason]int{}
			for _, ig := range r.Ignored {
				got[ig.Reason]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.ignored) && (len(got) > 0 || len(tt.ignored) > 0) {
				t.Errorf("ignored %v, want %v", got, tt.ignored)
			}
			if !r.Contribution.Equals(target) {
				t.Errorf("result for %s", r.Contribution)
			}
		})
	}
}

func TestTallyCountsTheLatest(t *testing.T) {
	first, second := vote(1, A, 0, time.Minute), vote(1, R, 1, time.Hour)
	r, err := Tally(policy(), target, t0, []*datanet.Vote{second, first}, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Counted) != 1 || r.Counted[0] != second {
		t.Fatalf("counted %v, want the seq 1 vote", r.Counted)
	}
	if len(r.Ignored) != 1 || r.Ignored[0].Vote != first || r.Ignored[0].Reason != Superseded {
		t.Fatalf("ignored %v", r.Ignored)
	}
}

func TestTallyEquivocation(t *testing.T) {
	// Two different votes with the same seq: the lower CID counts, whatever
	// the order they arrive in.
	a, b := vote(1, A, 3, time.Minute), vote(1, R, 3, time.Minute)
	ca, err := a.CID()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.CID()
	if err != nil {
		t.Fatal(err)
	}
	want := a
	if cb.KeyString() < ca.KeyString() {
		want = b
	}
	for _, votes := range [][]*datanet.Vote{{a, b}, {b, a}} {
		r, err := Tally(policy(), target, t0, votes, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Counted) != 1 || r.Counted[0] != want {
			t.Fatalf("counted %v, want %v", r.Counted, want)
		}
		if len(r.Ignored) != 1 || r.Ignored[0].Reason != Superseded {
			t.Fatalf("ignored %v", r.Ignored)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Policy)
		ok     bool
	}{
		{"default", func(*Policy) {}, true},
		{"quorum = total", func(p *Policy) { p.Quorum = 3 }, true},
		{"threshold 100%", func(p *Policy) { p.ThresholdBps = MaxBps }, true},
		{"no deadline", func(p *Policy) { p.Window = 0 }, true},
		{"no curators", func(p *Policy) { p.Curators = nil }, false},
		{"zero weight", func(p *Policy) { p.Curators[curator(1)] = 0 }, false},
		{"weights overflow", func(p *Policy) { p.Curators[curator(1)] = ^uint64(0) }, false},
		{"quorum 0", func(p *Policy) { p.Quorum = 0 }, false},
		{"quorum above total", func(p *Policy) { p.Quorum = 4 }, false},
		{"threshold 0", func(p *Policy) { p.ThresholdBps = 0 }, false},
		{"threshold above 100%", func(p *Policy) { p.ThresholdBps = MaxBps + 1 }, false},
		{"negative window", func(p *Policy) { p.Window = -time.Second }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := withPolicy(tt.change)
			err := p.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate = %v, want ErrInvalidPolicy", err)
			}
			_, terr := Tally(p, target, t0, nil, t0)
			_, aerr := TallyAll(p, map[cid.Cid]time.Time{target: t0}, nil, t0)
			if (terr == nil) != (err == nil) || (aerr == nil) != (err == nil) ||
				(err != nil && (!errors.Is(terr, ErrInvalidPolicy) || !errors.Is(aerr, ErrInvalidPolicy))) {
				t.Fatalf("Tally = %v, TallyAll = %v, Validate = %v", terr, aerr, err)
			}
		})
	}
}

func TestHugeWeightsDoNotOverflow(t *testing.T) {
	big := ^uint64(0) / 2
	p := Policy{
		Curators:     map[common.Address]uint64{curator(1): big, curator(2): big},
		Quorum:       big,
		ThresholdBps: 5000,
		Window:       day,
	}
	r, err := Tally(p, target, t0, []*datanet.Vote{vote(1, A, 0, 0), vote(2, R, 0, 0)}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Accepted {
		t.Fatalf("status %s, want accepted (exactly half)", r.Status)
	}
	p.ThresholdBps = 5001
	if r, _ = Tally(p, target, t0, []*datanet.Vote{vote(1, A, 0, 0), vote(2, R, 0, 0)}, t0.Add(time.Hour)); r.Status != Rejected {
		t.Fatalf("status %s, want rejected", r.Status)
	}
}

// randomCase builds a random policy and a random set of votes on a few
// contributions: curators and strangers, re-votes, equivocations, votes
// before, inside and after the window.
func randomCase(rng *rand.Rand) (Policy, map[cid.Cid]time.Time, []*datanet.Vote, time.Time) {
	n := 1 + rng.IntN(7)
	p := Policy{Curators: map[common.Address]uint64{}, Window: time.Duration(1+rng.IntN(48)) * time.Hour}
	var total uint64
	for i := 1; i <= n; i++ {
		w := 1 + rng.Uint64N(5)
		p.Curators[curator(i)] = w
		total += w
	}
	p.Quorum = 1 + rng.Uint64N(total)
	p.ThresholdBps = 1 + rng.Uint32N(MaxBps)
	if rng.IntN(5) == 0 {
		p.Window = 0
	}
	contribs := map[cid.Cid]time.Time{}
	var ids []cid.Cid
	for i := range 1 + rng.IntN(4) {
		c := objectCID(fmt.Sprintf("contribution %d", i))
		contribs[c] = t0.Add(time.Duration(rng.IntN(3600)) * time.Second)
		ids = append(ids, c)
	}
	var votes []*datanet.Vote
	for range rng.IntN(40) {
		v := vote(1+rng.IntN(n+2), []datanet.Decision{A, R}[rng.IntN(2)], rng.Uint64N(4),
			time.Duration(rng.IntN(60*3600)-3600)*time.Second)
		v.Contribution = ids[rng.IntN(len(ids))]
		if rng.IntN(4) == 0 {
			v.Reason = fmt.Sprintf("reason %d", rng.IntN(3))
		}
		votes = append(votes, v)
	}
	now := t0.Add(time.Duration(rng.IntN(60*3600)) * time.Second)
	return p, contribs, votes, now
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTallyOrderIndependent: shuffled orders and duplicates (the same
// pointer, or a copy as another peer would deliver it) give byte-identical
// results.
func TestTallyOrderIndependent(t *testing.T) {
	seen := map[string]int{} // statuses and reasons met, so the cases cover them
	defer func() {
		for _, s := range []fmt.Stringer{Pending, Accepted, Rejected, Expired, NotCurator, OutsideWindow, Superseded} {
			if seen[s.String()] == 0 {
				t.Errorf("random cases never produced %q", s)
			}
		}
		t.Logf("met %v", seen)
	}()
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 4))
		p, contribs, votes, now := randomCase(rng)
		want, err := TallyAll(p, contribs, votes, now)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON := mustJSON(t, want)
		for _, r := range want {
			seen[r.Status.String()]++
			for _, ig := range r.Ignored {
				seen[ig.Reason.String()]++
			}
		}
		for range 5 {
			shuffled := slices.Clone(votes)
			for range rng.IntN(len(votes) + 1) {
				v := votes[rng.IntN(len(votes))]
				if rng.IntN(2) == 0 {
					cp := *v
					cp.Signature = bytes.Clone(v.Signature)
					v = &cp
				}
				shuffled = append(shuffled, v)
			}
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, err := TallyAll(p, contribs, shuffled, now)
			if err != nil {
				t.Fatal(err)
			}
			if gotJSON := mustJSON(t, got); !bytes.Equal(gotJSON, wantJSON) {
				t.Fatalf("seed %d: results differ\n got %s\nwant %s", seed, gotJSON, wantJSON)
			}
		}
		// Tally of one contribution agrees with TallyAll but for the votes
		// about other contributions, which it lists.
		for _, r := range want {
			one, err := Tally(p, r.Contribution, contribs[r.Contribution], votes, now)
			if err != nil {
				t.Fatal(err)
			}
			one.Ignored = slices.DeleteFunc(one.Ignored, func(ig Ignored) bool { return ig.Reason == OtherContribution })
			if len(one.Ignored) == 0 {
				one.Ignored = nil
			}
			if !bytes.Equal(mustJSON(t, one), mustJSON(t, r)) {
				t.Fatalf("seed %d: Tally and TallyAll differ for %s", seed, r.Contribution)
			}
		}
	}
}

// TestTallyOlderVotesChangeNothing: adding votes a curator has already
// replaced (a lower seq, in the window) changes neither the status, nor the
// weights, nor the counted votes.
func TestTallyOlderVotesChangeNothing(t *testing.T) {
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 5))
		p, contribs, votes, now := randomCase(rng)
		want, err := TallyAll(p, contribs, votes, now)
		if err != nil {
			t.Fatal(err)
		}
		more := slices.Clone(votes)
		for _, r := range want {
			for _, v := range r.Counted {
				if v.Seq == 0 {
					continue
				}
				old := *v
				old.Seq = rng.Uint64N(v.Seq)
				old.Decision = []datanet.Decision{A, R}[rng.IntN(2)]
				more = append(more, &old)
			}
		}
		rng.Shuffle(len(more), func(i, j int) { more[i], more[j] = more[j], more[i] })
		got, err := TallyAll(p, contribs, more, now)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			w, g := want[i], got[i]
			w.Ignored, g.Ignored = nil, nil
			if !bytes.Equal(mustJSON(t, w), mustJSON(t, g)) {
				t.Fatalf("seed %d: older votes changed the tally of %s", seed, w.Contribution)
			}
		}
	}
}

func TestStatusStrings(t *testing.T) {
	for s, want := range map[Status]string{Pending: "pending", Accepted: "accepted", Rejected: "rejected", Expired: "expired", 9: "Status(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s, want)
		}
	}
	if got := mustJSON(t, Superseded); string(got) != `"superseded"` {
		t.Errorf("Superseded as JSON %s", got)
	}
}
