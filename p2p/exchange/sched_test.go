package exchange

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// takeAll asks for shards for p until its window is full or nothing is
// left, and returns them.
func takeAll(s *sched, p int, now time.Time) []int {
	var out []int
	for {
		i, ok := s.next(p, now)
		if !ok {
			return out
		}
		out = append(out, i)
	}
}

func TestSchedDealAndSteal(t *testing.T) {
	s := newSched(10, 3, 4, 3, 3)
	if got := s.takeStarts(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("starts %v", got)
	}
	// Peer 0 takes its own share [0, 3) from the front, then steals from
	// the back of the longest queue, peer 2's [6, 10).
	if got := takeAll(s, 0, t0); !slices.Equal(got, []int{0, 1, 2, 9}) {
		t.Errorf("peer 0 took %v", got)
	}
	if got := takeAll(s, 1, t0); !slices.Equal(got, []int{3, 4, 5, 8}) {
		t.Errorf("peer 1 took %v", got)
	}
	if got := takeAll(s, 2, t0); !slices.Equal(got, []int{6, 7}) {
		t.Errorf("peer 2 took %v", got)
	}
	checkSched(t, s)
	for _, p := range []int{0, 1, 2} {
		for len(s.peers[p].inflight) > 0 {
			if _, err := s.delivered(p, s.peers[p].inflight[0], t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !s.finished() {
		t.Errorf("not finished after every shard was delivered")
	}
	if idx, _ := s.failures(); len(idx) != 0 {
		t.Errorf("failures %v", idx)
	}
}

func TestSchedStealSkipsRefused(t *testing.T) {
	s := newSched(4, 2, 8, 3, 2)
	// Peer 1 answers "not found" for 2 and 3; they go back to peer 0.
	for _, i := range takeAll(s, 1, t0) {
		if err := s.refused(1, i, t0, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkSched(t, s)
	if got := takeAll(s, 1, t0); len(got) != 0 {
		t.Errorf("peer 1 took %v, which it does not have", got)
	}
	if got := takeAll(s, 0, t0); len(got) != 4 {
		t.Errorf("peer 0 took %v, want all 4", got)
	}
}

func TestSchedNotFound(t *testing.T) {
	s := newSched(1, 2, 8, 3, 2)
	for _, p := range []int{0, 1} {
		got := takeAll(s, p, t0)
		if len(got) != 1 {
			t.Fatalf("peer %d took %v", p, got)
		}
		if err := s.refused(p, got[0], t0, nil); err != nil {
			t.Fatal(err)
		}
		checkSched(t, s)
	}
	if !s.finished() {
		t.Fatal("not finished")
	}
	idx, errs := s.failures()
	if len(idx) != 1 || !errors.Is(errs[0], ErrNotFound) || !strings.Contains(errs[0].Error(), "2 providers") {
		t.Errorf("failures %v %v", idx, errs)
	}
}

func TestSchedDropped(t *testing.T) {
	errGone := errors.New("gone")
	tests := []struct {
		name        string
		maxAttempts int
		wantFailed  bool
	}{
		{"retried elsewhere", 2, false},
		{"out of attempts", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSched(2, 2, 1, tt.maxAttempts, 2)
			takeAll(s, 0, t0)
			s.dropped(0, errGone)
			checkSched(t, s)
			if s.peers[0].state != peerDead {
				t.Errorf("peer 0 is not dead")
			}
			if s.shards[0].attempts != 1 {
				t.Errorf("attempts %d, want 1", s.shards[0].attempts)
			}
			if failed := s.shards[0].state == shardFailed; failed != tt.wantFailed {
				t.Errorf("shard 0 failed: %v, want %v", failed, tt.wantFailed)
			}
			if tt.wantFailed && !errors.Is(s.shards[0].err, errGone) {
				t.Errorf("shard error %v does not wrap the peer's", s.shards[0].err)
			}
			if !tt.wantFailed && s.peers[1].queue.len() != 2 {
				t.Errorf("peer 1 queue %v, want both shards", s.peers[1].queue.q)
			}
		})
	}
}

func TestSchedStartsIdlePeers(t *testing.T) {
	s := newSched(4, 3, 8, 3, 1)
	if got := s.takeStarts(); !slices.Equal(got, []int{0}) {
		t.Fatalf("starts %v", got)
	}
	// Peer 0 has not got shard 0: only an idle peer may, so it starts.
	got := takeAll(s, 0, t0)
	if err := s.refused(0, got[0], t0, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.takeStarts(); !slices.Equal(got, []int{1}) {
		t.Fatalf("starts after a refusal %v", got)
	}
	checkSched(t, s)
	// Peer 0 fails: peer 1 is active, which is enough.
	s.dropped(0, errors.New("gone"))
	if got := s.takeStarts(); len(got) != 0 {
		t.Fatalf("starts after a drop %v", got)
	}
	if n := s.peers[1].queue.len(); n != 4 {
		t.Errorf("peer 1 queue has %d shards, want all 4", n)
	}
	// Peer 1 fails too: the last idle peer replaces it.
	s.dropped(1, errors.New("gone"))
	if got := s.takeStarts(); !slices.Equal(got, []int{2}) {
		t.Fatalf("starts after a second drop %v", got)
	}
	checkSched(t, s)
}

func TestSchedEndgame(t *testing.T) {
	s := newSched(6, 2, 3, 3, 2)
	fast := takeAll(s, 0, t0) // 0 1 2
	slow := takeAll(s, 1, t0) // 3 4 5
	if got := takeAll(s, 0, t0); len(got) != 0 {
		t.Fatalf("peer 0 took %v with a full window", got)
	}
	// Nothing measured yet: no basis for a second copy.
	for _, i := range fast {
		if _, err := s.delivered(0, i, t0.Add(10*time.Millisecond*time.Duration(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	// Peer 0 delivers a shard every 10 ms; peer 1 has sent nothing in
	// 100 ms. Peer 0 asks for peer 1's last shard first.
	now := t0.Add(100 * time.Millisecond)
	got := takeAll(s, 0, now)
	if len(got) == 0 || got[0] != slow[len(slow)-1] {
		t.Fatalf("peer 0 took %v in the endgame, want %d first", got, slow[len(slow)-1])
	}
	checkSched(t, s)
	for _, i := range got {
		first, err := s.delivered(0, i, now.Add(time.Millisecond))
		if err != nil || !first {
			t.Errorf("peer 0's copy of %d: first %v, %v", i, first, err)
		}
	}
	// The slow peer's copy of a shard already delivered is dropped.
	first, err := s.delivered(1, slow[0], now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if first == slices.Contains(got, slow[0]) {
		t.Errorf("slow copy of %d: first %v", slow[0], first)
	}
	checkSched(t, s)
}

func TestSchedEqualPeersNoEndgame(t *testing.T) {
	// Two peers as fast as each other, at the end of the fetch: a second
	// copy is asked for only if it can arrive twice as early.
	s := newSched(4, 2, 2, 3, 2)
	now := t0
	for range 3 {
		for p := range 2 {
			for _, i := range takeAll(s, p, now) {
				_ = i
			}
		}
		now = now.Add(10 * time.Millisecond)
		for p := range 2 {
			if len(s.peers[p].inflight) > 0 {
				if _, err := s.delivered(p, s.peers[p].inflight[0], now); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for p := range 2 {
		for _, i := range s.peers[p].inflight {
			if s.shards[i].copies > 1 {
				t.Errorf("shard %d asked twice between equal peers", i)
			}
		}
	}
}

// checkSched fails the test if s breaks its invariants: every pending shard
// is queued at exactly one live peer or in flight, every in-flight count
// agrees with the peers' lists, and remaining counts the pending shards.
func checkSched(t *testing.T, s *sched) {
	t.Helper()
	queued := make([]int, len(s.shards))
	flying := make([]int, len(s.shards))
	for p := range s.peers {
		ps := &s.peers[p]
		for k := range ps.queue.len() {
			queued[ps.queue.at(k)]++
			if ps.state == peerDead {
				t.Errorf("dead peer %d holds queued shard %d", p, ps.queue.at(k))
			}
			if s.shards[ps.queue.at(k)].refusedBy(p) {
				t.Errorf("peer %d holds shard %d it refused", p, ps.queue.at(k))
			}
		}
		for _, i := range ps.inflight {
			flying[i]++
		}
		if len(ps.inflight) > s.window {
			t.Errorf("peer %d has %d in flight, window %d", p, len(ps.inflight), s.window)
		}
	}
	pending := 0
	for i := range s.shards {
		sh := &s.shards[i]
		if int(sh.copies) != flying[i] {
			t.Errorf("shard %d: copies %d, in flight at %d peers", i, sh.copies, flying[i])
		}
		if flying[i] > 2 {
			t.Errorf("shard %d in flight at %d peers", i, flying[i])
		}
		switch sh.state {
		case shardPending:
			pending++
			if queued[i]+min(flying[i], 1) != 1 {
				t.Errorf("pending shard %d: queued %d times, in flight at %d peers", i, queued[i], flying[i])
			}
		case shardFailed:
			if queued[i]+flying[i] != 0 {
				t.Errorf("failed shard %d still queued or in flight", i)
			}
		case shardDone:
			if queued[i] != 0 {
				t.Errorf("done shard %d still queued", i)
			}
		}
	}
	if pending != s.remaining {
		t.Errorf("remaining %d, %d shards pending", s.remaining, pending)
	}
}

// TestSchedRandom drives the schedule with random peers that have random
// subsets of the shards, answer in random order, and fail at random. The
// invariants hold at every step, the fetch always finishes, and a shard
// fails only if no peer that stayed up had it.
func TestSchedRandom(t *testing.T) {
	for seed := range uint64(300) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			nShards, nPeers := 1+rng.IntN(40), 1+rng.IntN(5)
			s := newSched(nShards, nPeers, 1+rng.IntN(6), 1+rng.IntN(4), 1+rng.IntN(nPeers))
			has := make([][]bool, nPeers)
			for p := range has {
				has[p] = make([]bool, nShards)
				for i := range has[p] {
					has[p][i] = rng.IntN(4) != 0
				}
			}
			dropped := make([]bool, nPeers)
			active := map[int]bool{}
			now := t0
			for step := 0; !s.finished(); step++ {
				if step > 100000 {
					t.Fatal("not finished after 100000 steps")
				}
				for _, p := range s.takeStarts() {
					active[p] = true
				}
				now = now.Add(time.Duration(rng.IntN(20)) * time.Millisecond)
				var ps []int
				for p := range active {
					ps = append(ps, p)
				}
				if len(ps) == 0 {
					t.Fatal("no active peer and not finished")
				}
				slices.Sort(ps)
				p := ps[rng.IntN(len(ps))]
				takeAll(s, p, now)
				if len(s.peers[p].inflight) == 0 {
					continue
				}
				i := s.peers[p].inflight[0]
				var err error
				switch r := rng.IntN(20); {
				case r == 0:
					s.dropped(p, errors.New("gone"))
					delete(active, p)
					dropped[p] = true
				case r == 1:
					s.busy(p)
				case has[p][i]:
					_, err = s.delivered(p, i, now)
				default:
					err = s.refused(p, i, now, nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				checkSched(t, s)
			}
			failed, _ := s.failures()
			for _, i := range failed {
				for p := range nPeers {
					if has[p][i] && !dropped[p] && s.shards[i].attempts < s.maxAttempts {
						t.Errorf("shard %d failed though peer %d has it and stayed up", i, p)
					}
				}
			}
		})
	}
}

func TestSchedBusy(t *testing.T) {
	s := newSched(6, 2, 2, 3, 2)
	s.takeStarts()
	if got := takeAll(s, 0, t0); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("peer 0 took %v", got)
	}
	// Peer 0 answers busy: its shards go back to the front of its queue,
	// in order, without counting an attempt; peer 1 may steal them.
	s.busy(0)
	checkSched(t, s)
	if got := takeAll(s, 0, t0); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("peer 0 took %v after busy, want [0 1] again", got)
	}
	for _, i := range []int{0, 1} {
		if a := s.shards[i].attempts; a != 0 {
			t.Errorf("shard %d: %d attempts after busy", i, a)
		}
	}
}
