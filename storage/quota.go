package storage

import "fmt"

// Usage accounting. used counts the bytes of shard data stored; reserved
// counts what open sessions have reserved and not yet used. A write of a new
// shard takes its bytes from its session's reservation first; only the rest
// is checked against the quota. Storing a shard that is already stored costs
// nothing.

// reserve reserves n bytes for ss, or returns an error wrapping ErrQuota.
func (s *Store) reserve(ss *Session, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkQuotaLocked(n); err != nil {
		return err
	}
	s.reserved += n
	ss.remaining = n
	return nil
}

// release returns what is left of ss's reservation.
func (s *Store) release(ss *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved -= ss.remaining
	ss.remaining = 0
}

// charge accounts n bytes of new shard data, taken from ss's reservation
// first (ss may be nil). It returns how much came from the reservation, for
// refund.
func (s *Store) charge(ss *Session, n int64) (taken int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss != nil {
		taken = min(n, ss.remaining)
	}
	if err := s.checkQuotaLocked(n - taken); err != nil {
		return 0, err
	}
	if ss != nil {
		ss.remaining -= taken
		s.reserved -= taken
	}
	s.used += n
	return taken, nil
}

// refund undoes charge(ss, n) that returned taken.
func (s *Store) refund(ss *Session, n, taken int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used -= n
	if ss != nil {
		ss.remaining += taken
		s.reserved += taken
	}
}

// addUsed adds delta (negative when shards are deleted) to the usage.
func (s *Store) addUsed(delta int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used += delta
}

func (s *Store) checkQuotaLocked(n int64) error {
	if s.quota > 0 && n > 0 && s.used+s.reserved+n > s.quota {
		return fmt.Errorf("%w: %d more bytes with %d used and %d reserved of %d",
			ErrQuota, n, s.used, s.reserved, s.quota)
	}
	return nil
}

// Usage returns the bytes of shard data stored and the bytes reserved by
// open sessions, as counted against Config.QuotaBytes.
func (s *Store) Usage() (used, reserved int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used, s.reserved
}
