package datanet

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// The registry's index, in the store's index key space (storage.IndexTxn),
// keeps what the lists and counts of a Datanet need so that no read loads
// the whole Datanet: every entry is written in the transaction that stores
// the object it is about. CIDs are self-delimiting, so composite keys need
// no lengths; times and versions are 8-byte big-endian, so keys sort by
// them.
//
//	#                                    → index version (uvarint); absent:
//	                                       built from the stored objects at
//	                                       NewRegistry; 1: upgraded there
//	                                       (version 2 added the sync sets'
//	                                       first-level buckets, X; version
//	                                       3 moved the counted votes from
//	                                       V keys into the C record;
//	                                       version 4 dropped the stored
//	                                       sync buckets, Z and X, for sums
//	                                       held in memory)
//	K <kind> 0 <cid>                     → empty: objects by kind, but
//	                                       votes (see indexedKey)
//	D <created> <datanet id>             → empty: Datanets (first versions)
//	                                       by creation time
//	U <prev> <cid>                       → empty: the Datanet versions
//	                                       whose prev is <prev>
//	C <contribution>                     → contribution record (see
//	                                       contribRecord): its Datanet,
//	                                       creation time, size, status,
//	                                       counted weights and counted
//	                                       votes (the tally's Counted)
//	A <datanet> <created> <contribution> → empty: contributions by time
//	S <datanet> <status> <created> <contribution>
//	                                     → empty: contributions by status,
//	                                       then time
//	N <datanet> <counter>                → uint64 big-endian: a count (a
//	                                       status byte, or 'v' votes, 'b'
//	                                       bytes, 's' snapshots)
//	P <datanet> <version> <snapshot>     → empty: snapshots by version
//	T <datanet>                          → CID of the Datanet version the
//	                                       statuses were decided under
//
// A contribution's status is the tally's as of the last event that
// touched it (its own arrival, a vote on it, a change of the policy, or
// the end of its window, applied by sweep before a read). A contribution
// the current version's rules (kinds, size) no longer admit is filed under
// status notAdmitted and is in no list.
const indexVersion = 4

// Key prefixes of the index, under the store's index key space.
const (
	ixVersion  = '#'
	ixKind     = 'K'
	ixDatanets = 'D'
	ixUpdates  = 'U'
	ixContrib  = 'C'
	ixAll      = 'A'
	ixStatus   = 'S'
	ixCount    = 'N'
	ixSnapshot = 'P'
	ixTallied  = 'T'
)

// notAdmitted files the contributions the current version of their
// Datanet does not admit (Datanet.Admits).
const notAdmitted Status = 0xff

// Counters of a Datanet beside the status counts.
const (
	countVotes     = 'v'
	countBytes     = 'b'
	countSnapshots = 's'
)

// rebuildBatch is how many contributions a rebuild writes per transaction.
const rebuildBatch = 256

func be64(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }

func ixKey(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func kindKey(kind string, c cid.Cid) []byte {
	return ixKey(ixKind, []byte(kind), []byte{0}, c.Bytes())
}

func statusKey(dn cid.Cid, st Status, created int64, c cid.Cid) []byte {
	return ixKey(ixStatus, dn.Bytes(), []byte{byte(st)}, be64(uint64(created)), c.Bytes())
}

func allKey(dn cid.Cid, created int64, c cid.Cid) []byte {
	return ixKey(ixAll, dn.Bytes(), be64(uint64(created)), c.Bytes())
}

func countKey(dn cid.Cid, counter byte) []byte {
	return ixKey(ixCount, dn.Bytes(), []byte{counter})
}

// contribRecord is the index's record of a contribution.
type contribRecord struct {
	Datanet cid.Cid
	Created int64
	Root    [32]byte // the contribution's Merkle root
	Size    uint64
	Status  Status
	Approve uint64
	Reject  uint64
	// Counted are the votes the tally counts (TallyState.Counted), one
	// per curator, sorted by curator address (index version 3; version 2
	// kept them under V keys).
	Counted []countedRef
}

// countedRef is a counted vote as a contribution's record names it.
type countedRef struct {
	Curator common.Address
	Vote    cid.Cid
}

// maxCountedRefs bounds the counted votes a record decodes (a Datanet has
// at most MaxCurators curators).
const maxCountedRefs = MaxCurators

// encode is the record's stored form: uvarint(len) and the Datanet's CID,
// created (8 bytes big-endian), root (32 bytes), uvarint size, status
// (1 byte), uvarint approve, uvarint reject, then, when there are counted
// votes, uvarint(n) and n × (curator (20 bytes), uvarint(len), vote CID).
// A record without counted votes is the same in versions 2 and 3.
func (k contribRecord) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(k.Datanet.Bytes())))
	b = append(b, k.Datanet.Bytes()...)
	b = binary.BigEndian.AppendUint64(b, uint64(k.Created))
	b = append(b, k.Root[:]...)
	b = binary.AppendUvarint(b, k.Size)
	b = append(b, byte(k.Status))
	b = binary.AppendUvarint(b, k.Approve)
	b = binary.AppendUvarint(b, k.Reject)
	if len(k.Counted) == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(k.Counted)))
	for _, c := range k.Counted {
		b = append(b, c.Curator[:]...)
		vb := c.Vote.Bytes()
		b = binary.AppendUvarint(b, uint64(len(vb)))
		b = append(b, vb...)
	}
	return b
}

func decodeContribRecord(b []byte) (contribRecord, error) {
	var k contribRecord
	bad := fmt.Errorf("%w: contribution index record", storage.ErrCorrupt)
	uvarint := func() (uint64, bool) {
		x, w := binary.Uvarint(b)
		if w <= 0 {
			return 0, false
		}
		b = b[w:]
		return x, true
	}
	cidOf := func() (cid.Cid, bool) {
		n, ok := uvarint()
		if !ok || uint64(len(b)) < n {
			return cid.Undef, false
		}
		c, err := cid.Cast(b[:n])
		b = b[n:]
		return c, err == nil
	}
	var ok bool
	if k.Datanet, ok = cidOf(); !ok || len(b) < 8+32 {
		return k, bad
	}
	k.Created, b = int64(binary.BigEndian.Uint64(b)), b[8:]
	k.Root, b = [32]byte(b[:32]), b[32:]
	if k.Size, ok = uvarint(); !ok || len(b) == 0 {
		return k, bad
	}
	k.Status, b = Status(b[0]), b[1:]
	if k.Approve, ok = uvarint(); !ok {
		return k, bad
	}
	if k.Reject, ok = uvarint(); !ok {
		return k, bad
	}
	if len(b) == 0 {
		return k, nil
	}
	n, ok := uvarint()
	if !ok || n == 0 || n > maxCountedRefs {
		return k, bad
	}
	k.Counted = make([]countedRef, n)
	for i := range k.Counted {
		if len(b) < common.AddressLength {
			return k, bad
		}
		k.Counted[i].Curator, b = common.Address(b[:common.AddressLength]), b[common.AddressLength:]
		if k.Counted[i].Vote, ok = cidOf(); !ok {
			return k, bad
		}
	}
	if len(b) != 0 {
		return k, bad
	}
	return k, nil
}

// contribRecordOf reads and decodes contribution c's index record; the
// error wraps storage.ErrNotFound when c has none.
func contribRecordOf(tx *storage.IndexTxn, c cid.Cid) (contribRecord, error) {
	b, err := tx.Get(ixKey(ixContrib, c.Bytes()))
	if err != nil {
		return contribRecord{}, err
	}
	return decodeContribRecord(b)
}

// voteIDs returns the CIDs of the counted votes, by curator.
func (k contribRecord) voteIDs() []cid.Cid {
	ids := make([]cid.Cid, len(k.Counted))
	for i, c := range k.Counted {
		ids[i] = c.Vote
	}
	return ids
}

// countedOf returns the record's counted votes for the tally's counted
// votes, whose CIDs are in ids (a vote missing there is hashed).
func countedOf(counted []*Vote, ids map[*Vote]cid.Cid) ([]countedRef, error) {
	if len(counted) > maxCountedRefs {
		return nil, fmt.Errorf("%w: %d counted votes, a record holds at most %d", ErrInvalid, len(counted), maxCountedRefs)
	}
	out := make([]countedRef, 0, len(counted))
	for _, v := range counted {
		c, ok := ids[v]
		if !ok {
			var err error
			if c, err = v.CID(); err != nil {
				return nil, err
			}
		}
		out = append(out, countedRef{Curator: v.Curator, Vote: c})
	}
	slices.SortFunc(out, func(a, b countedRef) int { return bytes.Compare(a.Curator[:], b.Curator[:]) })
	return out, nil
}

func sameCounted(a, b []countedRef) bool {
	return slices.EqualFunc(a, b, func(x, y countedRef) bool { return x.Curator == y.Curator && x.Vote.Equals(y.Vote) })
}

func getCount(tx *storage.IndexTxn, key []byte) (uint64, error) {
	v, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: index counter", storage.ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

func addCount(tx *storage.IndexTxn, key []byte, delta int64) error {
	n, err := getCount(tx, key)
	if err != nil {
		return err
	}
	return tx.Set(key, be64(uint64(int64(n)+delta)))
}

func has(tx *storage.IndexTxn, key []byte) (bool, error) {
	_, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// indexedKey returns the key whose presence tells that c, stored as obj,
// is indexed, and whether it is c's kind entry (K), which the indexer
// writes. A vote has none: the kind index does not list votes (two in
// three objects of a Datanet), which Votes lists by their contribution
// and IDs by their Datanet; its sync entry tells instead.
func indexedKey(c cid.Cid, obj Object) (key []byte, kind bool) {
	if v, ok := obj.(*Vote); ok {
		return syncKeyKey(v.Datanet, SyncKey(c)), false
	}
	return kindKey(obj.Kind(), c), true
}

// TallyState is the tally's verdict on a contribution (Rules.Tally).
type TallyState struct {
	Status  Status
	Approve uint64 // weight of the counted approvals
	Reject  uint64 // weight of the counted rejections
	// Counted are the votes that count, one per curator.
	Counted []*Vote
}

// indexer returns the index writes for obj, stored as c in the set of the
// Datanet set, to run in the object's transaction. Reads that need no
// transaction (the head of the Datanet) are done here, once.
func (r *Registry) indexer(ctx context.Context, c cid.Cid, obj Object, set cid.Cid) (func(*storage.IndexTxn) error, error) {
	sets := syncSets(c, obj, set)
	guard, listed := indexedKey(c, obj)
	once := func(fn func(tx *storage.IndexTxn) error) func(*storage.IndexTxn) error {
		return func(tx *storage.IndexTxn) error {
			if done, err := has(tx, guard); err != nil || done {
				return err // indexed when first stored
			}
			if listed {
				if err := tx.Set(guard, nil); err != nil {
					return err
				}
			}
			if err := r.addToSyncSets(tx, c, sets); err != nil {
				return err
			}
			if fn == nil {
				return nil
			}
			return fn(tx)
		}
	}
	switch o := obj.(type) {
	case *Datanet:
		if o.Seq == 0 {
			return once(func(tx *storage.IndexTxn) error {
				if err := tx.Set(ixKey(ixTallied, c.Bytes()), c.Bytes()); err != nil {
					return err // nothing to decide yet, under this version
				}
				return tx.Set(ixKey(ixDatanets, be64(uint64(o.Created)), c.Bytes()), nil)
			}), nil
		}
		return once(func(tx *storage.IndexTxn) error {
			return tx.Set(ixKey(ixUpdates, o.Prev.Bytes(), c.Bytes()), nil)
		}), nil
	case *Contribution:
		head, err := r.Head(ctx, o.Datanet)
		if err != nil {
			return nil, err
		}
		st, err := r.rules.Tally(head.Datanet, c, o.Created, nil, r.now())
		if err != nil {
			return nil, err
		}
		if head.Datanet.Admits(o) != nil {
			st.Status = notAdmitted
		}
		rec := contribRecord{Datanet: o.Datanet, Created: o.Created, Root: o.Root, Size: o.Size, Status: st.Status}
		if rec.Status == Pending {
			r.lowerPendingFloor(o.Datanet, o.Created)
		}
		return once(func(tx *storage.IndexTxn) error {
			if err := tx.Set(ixKey(ixContrib, c.Bytes()), rec.encode()); err != nil {
				return err
			}
			if err := tx.Set(allKey(o.Datanet, rec.Created, c), nil); err != nil {
				return err
			}
			if err := tx.Set(statusKey(o.Datanet, rec.Status, rec.Created, c), nil); err != nil {
				return err
			}
			if err := addCount(tx, countKey(o.Datanet, byte(rec.Status)), 1); err != nil {
				return err
			}
			return addCount(tx, countKey(o.Datanet, countBytes), int64(o.Size))
		}), nil
	case *Vote:
		head, err := r.Head(ctx, o.Datanet)
		if err != nil {
			return nil, err
		}
		return once(func(tx *storage.IndexTxn) error {
			if err := addCount(tx, countKey(o.Datanet, countVotes), 1); err != nil {
				return err
			}
			return r.retally(ctx, tx, head.Datanet, o.Contribution, o, c, r.now())
		}), nil
	case *Snapshot:
		return once(func(tx *storage.IndexTxn) error {
			if err := tx.Set(ixKey(ixSnapshot, o.Datanet.Bytes(), be64(o.Version), c.Bytes()), nil); err != nil {
				return err
			}
			return addCount(tx, countKey(o.Datanet, countSnapshots), 1)
		}), nil
	}
	return once(nil), nil
}

// retally decides contribution k again under the Datanet version d as of
// now, from its counted votes and v (nil for none) whose CID is vc, and
// moves it in the index if its status, weights or counted votes changed.
// The tally picks the counted votes (the latest per curator inside the
// window), so this package keeps no copy of that rule.
func (r *Registry) retally(ctx context.Context, tx *storage.IndexTxn, d *Datanet, k cid.Cid, v *Vote, vc cid.Cid, now time.Time) error {
	rec, err := contribRecordOf(tx, k)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // not indexed: a rebuild will decide it
	}
	if err != nil {
		return err
	}
	if rec.Status == notAdmitted {
		return nil
	}
	votes, ids, err := r.countedVotes(ctx, tx, rec.Counted)
	if err != nil {
		return err
	}
	if v != nil {
		votes = append(votes, v)
		ids[v] = vc
	}
	st, err := r.rules.Tally(d, k, rec.Created, votes, now)
	if err != nil {
		return err
	}
	counted, err := countedOf(st.Counted, ids)
	if err != nil {
		return err
	}
	return r.moveContribution(tx, k, rec, st, counted)
}

// countedVotes loads the counted votes a record names, and their CIDs. It
// reads them in tx: a vote stored earlier in the same transaction
// (PutMany) counts too. A vote no longer held (collected) is left out.
func (r *Registry) countedVotes(ctx context.Context, tx *storage.IndexTxn, refs []countedRef) ([]*Vote, map[*Vote]cid.Cid, error) {
	votes := make([]*Vote, 0, len(refs)+1)
	ids := make(map[*Vote]cid.Cid, len(refs)+1)
	for _, ref := range refs {
		data, err := tx.Object(ref.Vote)
		if errors.Is(err, storage.ErrNotFound) {
			continue // collected
		}
		if err != nil {
			return nil, nil, err
		}
		obj, err := decodeStored(data)
		if err != nil {
			return nil, nil, fmt.Errorf("decode object %s: %w", ref.Vote, err)
		}
		v, ok := obj.(*Vote)
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s is a %s, not a vote", ErrWrongKind, ref.Vote, obj.Kind())
		}
		votes = append(votes, v)
		ids[v] = ref.Vote
	}
	return votes, ids, nil
}

// moveContribution records st as k's status and weights and counted as
// its counted votes, moving its status entry and counts when the status
// changes.
func (r *Registry) moveContribution(tx *storage.IndexTxn, k cid.Cid, rec contribRecord, st TallyState, counted []countedRef) error {
	if rec.Status == st.Status && rec.Approve == st.Approve && rec.Reject == st.Reject && sameCounted(rec.Counted, counted) {
		return nil
	}
	if rec.Status != st.Status {
		if st.Status == Pending {
			r.lowerPendingFloor(rec.Datanet, rec.Created)
		}
		if err := tx.Delete(statusKey(rec.Datanet, rec.Status, rec.Created, k)); err != nil {
			return err
		}
		if err := tx.Set(statusKey(rec.Datanet, st.Status, rec.Created, k), nil); err != nil {
			return err
		}
		if err := addCount(tx, countKey(rec.Datanet, byte(rec.Status)), -1); err != nil {
			return err
		}
		if err := addCount(tx, countKey(rec.Datanet, byte(st.Status)), 1); err != nil {
			return err
		}
	}
	rec.Status, rec.Approve, rec.Reject, rec.Counted = st.Status, st.Approve, st.Reject, counted
	return tx.Set(ixKey(ixContrib, k.Bytes()), rec.encode())
}

// pendingFloor is, per Datanet, a time no pending contribution is older
// than. Reads of the pending list and sweeps start there: Badger keeps the
// deleted keys of contributions that left pending until a compaction, and
// skipping them from the start of the range would cost a scan of every
// contribution ever decided.
type pendingFloor struct {
	created int64
	tight   bool   // a pending contribution was created at created
	gen     uint64 // counts lowerings, so a scan racing one does not raise it
}

// lowerPendingFloor notes that a contribution created at created is, or
// may be, pending in dn: the floor can only go down. Index writes call it
// before their transaction commits, which keeps it a lower bound.
func (r *Registry) lowerPendingFloor(dn cid.Cid, created int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.floors[dn]
	if !ok {
		f.created = math.MinInt64 // none known: every time is a floor
	}
	f.gen++ // a scan that began before this must not raise the floor
	if created < f.created {
		f.created, f.tight = created, false
	}
	r.floors[dn] = f
}

// pendingFrom returns the floor of dn's pending contributions, ok false
// when none is known yet (then f.created is math.MinInt64 and f.gen the
// generation a scan from the start must see unchanged to set one).
func (r *Registry) pendingFrom(dn cid.Cid) (f pendingFloor, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, found := r.floors[dn]
	if !found {
		f.created = math.MinInt64
	}
	return f, f.created != math.MinInt64
}

// setPendingFloor records a floor learned by a scan that started at or
// below every pending contribution: the first pending key it met (or none,
// math.MaxInt64). A floor lowered since the scan began (f.gen is the
// generation the scan saw) stays.
func (r *Registry) setPendingFloor(dn cid.Cid, f pendingFloor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.floors[dn]; old.gen != f.gen {
		return
	}
	f.gen++
	r.floors[dn] = f
}

// forgetPendingFloor drops dn's floor (a rebuild rewrote its statuses).
func (r *Registry) forgetPendingFloor(dn cid.Cid) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.floors[dn]
	r.floors[dn] = pendingFloor{created: math.MinInt64, gen: f.gen + 1}
}

// sweep decides again, as of now, the pending contributions of dn whose
// window has closed (expired, or rejected with the quorum met), so that
// counts and lists of pending contributions are current. Every
// contribution is swept once, and a sweep with nothing due returns without
// reading: the floor says when the next window closes.
func (r *Registry) sweep(ctx context.Context, dn cid.Cid) error {
	head, err := r.Head(ctx, dn)
	if err != nil {
		return err
	}
	if head.Datanet.Window == 0 {
		return nil
	}
	now := r.now()
	closed := now.Unix() - int64(head.Datanet.Window) // created at or before: window over
	floor, known := r.pendingFrom(dn)
	if known && floor.tight && floor.created > closed {
		return nil // the oldest pending contribution's window is still open
	}
	gen := floor.gen
	prefix := ixKey(ixStatus, dn.Bytes(), []byte{byte(Pending)})
	var start []byte
	if known {
		start = statusKey(dn, Pending, floor.created, cid.Undef)
	}
	for {
		var due []cid.Cid
		next := pendingFloor{created: math.MaxInt64, tight: true, gen: gen}
		err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			return tx.Scan(prefix, start, false, func(key, _ []byte) (bool, error) {
				rest := key[len(prefix):]
				created := int64(binary.BigEndian.Uint64(rest))
				if created > closed {
					next.created = created
					return false, nil
				}
				c, err := cid.Cast(rest[8:])
				if err != nil {
					return false, fmt.Errorf("%w: status index entry: %w", storage.ErrCorrupt, err)
				}
				due = append(due, c)
				return len(due) < rebuildBatch, nil
			})
		})
		if err != nil {
			return err
		}
		if len(due) == 0 {
			r.setPendingFloor(dn, next)
			return nil
		}
		unlock := r.lockSet(dn, dn)
		err = r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
			for _, k := range due {
				if err := r.retally(ctx, tx, head.Datanet, k, nil, cid.Undef, now); err != nil {
					return err
				}
			}
			return nil
		})
		unlock()
		if err != nil {
			return err
		}
	}
}

// ixVoteV2 is the prefix under which index versions 1 and 2 kept each
// contribution's counted votes: V <contribution> <curator> → the vote's
// CID. Version 3 keeps them in the contribution's record.
const ixVoteV2 = 'V'

// moveBatchKeys bounds the V keys moveCountedVotes moves in one
// transaction (each deleted, and its vote added to a record), well within
// what Badger takes in one.
var moveBatchKeys = 4096

// afterMoveBatch, when set (by tests), is called after each transaction
// of moveCountedVotes; an error stops the move there.
var afterMoveBatch func() error

// moveCountedVotes moves the counted votes of an index of version 1 or 2
// into the contributions' records, a batch of contributions a
// transaction, deleting the V keys with the record's rewrite: cut short,
// it carries on from the V keys left.
func (r *Registry) moveCountedVotes(ctx context.Context) error {
	type moved struct {
		c    cid.Cid
		refs []countedRef
		keys [][]byte
	}
	var (
		batch []moved
		keys  int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() { batch, keys = batch[:0], 0 }()
		err := r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
			for _, m := range batch {
				for _, k := range m.keys {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				rec, err := contribRecordOf(tx, m.c)
				if errors.Is(err, storage.ErrNotFound) {
					continue // not indexed: its entries were stale
				}
				if err != nil {
					return err
				}
				rec.Counted = m.refs
				slices.SortFunc(rec.Counted, func(a, b countedRef) int { return bytes.Compare(a.Curator[:], b.Curator[:]) })
				if err := tx.Set(ixKey(ixContrib, m.c.Bytes()), rec.encode()); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil && afterMoveBatch != nil {
			err = afterMoveBatch()
		}
		return err
	}
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Scan([]byte{ixVoteV2}, nil, false, func(key, v []byte) (bool, error) {
			// V <contribution> <curator (20 bytes)>
			if len(key) < 1+common.AddressLength+1 {
				return false, fmt.Errorf("%w: vote index key %x", storage.ErrCorrupt, key)
			}
			c, err := cid.Cast(key[1 : len(key)-common.AddressLength])
			if err != nil {
				return false, fmt.Errorf("%w: vote index key %x: %w", storage.ErrCorrupt, key, err)
			}
			vc, err := cid.Cast(v)
			if err != nil {
				return false, fmt.Errorf("%w: vote index entry: %w", storage.ErrCorrupt, err)
			}
			if len(batch) == 0 || !batch[len(batch)-1].c.Equals(c) {
				if len(batch) >= rebuildBatch || keys >= moveBatchKeys {
					if err := flush(); err != nil {
						return false, err
					}
				}
				batch = append(batch, moved{c: c})
			}
			keys++
			m := &batch[len(batch)-1]
			if len(m.refs) >= maxCountedRefs {
				return false, fmt.Errorf("%w: more than %d counted votes on %s", storage.ErrCorrupt, maxCountedRefs, c)
			}
			m.refs = append(m.refs, countedRef{Curator: common.Address(key[len(key)-common.AddressLength:]), Vote: vc})
			m.keys = append(m.keys, slices.Clone(key))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return flush()
}

// buildIndex indexes every stored object of a store that has no index yet
// (one written before the index existed), then decides every Datanet's
// statuses. It runs once, at NewRegistry.
func (r *Registry) buildIndex(ctx context.Context) error {
	var version []byte
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		v, err := tx.Get([]byte{ixVersion})
		version = v
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if version != nil {
		v, n := binary.Uvarint(version)
		if n <= 0 || v == 0 || v > indexVersion {
			return fmt.Errorf("datanet: index version %x, this build reads %d", version, indexVersion)
		}
		if v < indexVersion {
			// Versions 1 and 2 keep the counted votes under V keys. The
			// version is written before they are moved, so that a build
			// that reads version 2 refuses an index moved in part (it
			// would decide contributions again without their counted
			// votes); a move cut short goes on at the next open.
			err := r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
				return tx.Set([]byte{ixVersion}, binary.AppendUvarint(nil, indexVersion))
			})
			if err != nil {
				return err
			}
		}
		if err := r.moveCountedVotes(ctx); err != nil { // one seek when no V key is left
			return fmt.Errorf("datanet: upgrade the index to version %d: %w", indexVersion, err)
		}
		// Versions 1 to 3 stored the sync sets' bucket sums, which are
		// held in memory now; one seek each when none is left.
		for _, p := range []byte{ixSyncBucketV3, ixSyncCoarseV3} {
			if err := r.deletePrefix(ctx, []byte{p}); err != nil {
				return fmt.Errorf("datanet: upgrade the index to version %d: %w", indexVersion, err)
			}
		}
		return nil
	}
	// Datanets first (their heads decide the rest), then every other
	// object whose set is known without a check.
	var datanets []cid.Cid
	held := map[cid.Cid]bool{} // datanets, for the second pass's lookups
	for _, pass := range []func(Object) bool{
		func(o Object) bool { _, ok := o.(*Datanet); return ok },
		func(o Object) bool { _, ok := o.(*Datanet); return !ok },
	} {
		var batch []func(*storage.IndexTxn) error
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			err := r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
				for _, fn := range batch {
					if err := fn(tx); err != nil {
						return err
					}
				}
				return nil
			})
			batch = batch[:0]
			return err
		}
		err := r.store.ForEachObject(ctx, func(c cid.Cid, data []byte) error {
			obj, err := Decode(data)
			if err != nil || !pass(obj) {
				return nil // not a signed object of this package, or another pass's
			}
			switch o := obj.(type) {
			case *Datanet:
				if o.Seq == 0 {
					datanets = append(datanets, c)
					held[c] = true
				}
			case *Contribution:
				// Listed for the rebuild below (A), which indexes them,
				// when their Datanet is held (found by the first pass).
				if !held[o.Datanet] {
					return nil
				}
				batch = append(batch, func(tx *storage.IndexTxn) error {
					return tx.Set(allKey(o.Datanet, o.Created, c), nil)
				})
				if len(batch) >= rebuildBatch {
					return flush()
				}
				return nil
			case *Vote:
				// Votes are decided by the rebuild below, from all votes
				// held: index the sync entry and counter only.
				batch = append(batch, func(tx *storage.IndexTxn) error {
					guard, _ := indexedKey(c, o)
					if done, err := has(tx, guard); err != nil || done {
						return err
					}
					if err := r.addToSyncSets(tx, c, []cid.Cid{o.Datanet}); err != nil {
						return err
					}
					return addCount(tx, countKey(o.Datanet, countVotes), 1)
				})
				if len(batch) >= rebuildBatch {
					return flush()
				}
				return nil
			}
			set := cid.Undef
			if d, ok := obj.(*Datanet); ok && d.Seq > 0 {
				if set, err = r.datanetID(ctx, c, d); err != nil {
					return nil // its chain of versions is not whole here
				}
			}
			fn, err := r.indexer(ctx, c, obj, set)
			if IsNotFound(err) || CannotJudgeYet(err) {
				return nil // its Datanet is not held
			}
			if err != nil {
				return err
			}
			batch = append(batch, fn)
			if len(batch) >= rebuildBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	for _, dn := range datanets {
		if err := r.rebuild(ctx, dn); err != nil {
			return err
		}
	}
	return r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Set([]byte{ixVersion}, binary.AppendUvarint(nil, indexVersion))
	})
}

// rebuild decides every contribution of dn again under its current version,
// from every vote held (not only those counted before): a new version may
// add or remove curators, change the window or the rules. It writes in
// batches; T records the version when it is done, so a rebuild cut short
// is run again (rebuildIfStale). Callers hold r.indexMu for writing.
func (r *Registry) rebuild(ctx context.Context, dn cid.Cid) error {
	head, err := r.Head(ctx, dn)
	if err != nil {
		return err
	}
	now := r.now()
	contribs, err := r.contributionsOf(ctx, dn)
	if err != nil {
		return err
	}
	// Drop the status entries and counts; the records are rewritten.
	if err := r.deletePrefix(ctx, ixKey(ixStatus, dn.Bytes())); err != nil {
		return err
	}
	err = r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
		for _, st := range []Status{Pending, Accepted, Rejected, Expired, notAdmitted} {
			if err := tx.Delete(countKey(dn, byte(st))); err != nil {
				return err
			}
		}
		return tx.Delete(countKey(dn, countBytes))
	})
	if err != nil {
		return err
	}
	// A record names up to one counted vote a curator: fewer records a
	// transaction for a Datanet of many curators.
	size := rebuildBatch
	if nc := len(head.Datanet.Curators); nc > 16 {
		size = max(1, rebuildBatch*16/nc)
	}
	for len(contribs) > 0 {
		batch := contribs[:min(len(contribs), size)]
		contribs = contribs[len(batch):]
		type decided struct {
			c       cid.Cid
			k       *Contribution
			st      TallyState
			counted []countedRef
		}
		var out []decided
		for _, c := range batch {
			k, err := r.Contribution(ctx, c)
			if err != nil {
				return err
			}
			votes, err := r.Votes(ctx, c)
			if err != nil {
				return err
			}
			st, err := r.rules.Tally(head.Datanet, c, k.Created, votes, now)
			if err != nil {
				return err
			}
			if head.Datanet.Admits(k) != nil {
				st.Status, st.Counted = notAdmitted, nil
			}
			counted, err := countedOf(st.Counted, nil)
			if err != nil {
				return err
			}
			out = append(out, decided{c: c, k: k, st: st, counted: counted})
		}
		err := r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
			for _, d := range out {
				rec := contribRecord{Datanet: dn, Created: d.k.Created, Root: d.k.Root, Size: d.k.Size,
					Status: d.st.Status, Approve: d.st.Approve, Reject: d.st.Reject, Counted: d.counted}
				if err := tx.Set(ixKey(ixContrib, d.c.Bytes()), rec.encode()); err != nil {
					return err
				}
				if err := tx.Set(statusKey(dn, rec.Status, rec.Created, d.c), nil); err != nil {
					return err
				}
				if err := tx.Set(allKey(dn, rec.Created, d.c), nil); err != nil {
					return err
				}
				if done, err := has(tx, kindKey(KindContribution, d.c)); err != nil {
					return err
				} else if !done {
					if err := tx.Set(kindKey(KindContribution, d.c), nil); err != nil {
						return err
					}
					if err := r.addToSyncSets(tx, d.c, []cid.Cid{dn}); err != nil {
						return err
					}
				}
				if err := addCount(tx, countKey(dn, byte(rec.Status)), 1); err != nil {
					return err
				}
				if err := addCount(tx, countKey(dn, countBytes), int64(rec.Size)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	r.forgetPendingFloor(dn)
	return r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
		return tx.Set(ixKey(ixTallied, dn.Bytes()), head.CID.Bytes())
	})
}

// contributionsOf lists the contributions of dn the index holds (A keys:
// every contribution indexed, whatever its status), by time.
func (r *Registry) contributionsOf(ctx context.Context, dn cid.Cid) ([]cid.Cid, error) {
	return r.scanCIDs(ctx, ixKey(ixAll, dn.Bytes()), nil, false, math.MaxInt, func(rest []byte) []byte { return rest[8:] })
}

// deletePrefix deletes every index key under prefix, in batches. When
// that may delete sync keys it drops the sync sets' sums.
func (r *Registry) deletePrefix(ctx context.Context, prefix []byte) error {
	if len(prefix) == 0 || prefix[0] == ixSyncKey {
		defer r.sums.reset()
	}
	for {
		var keys [][]byte
		err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
			return tx.Scan(prefix, nil, false, func(k, _ []byte) (bool, error) {
				keys = append(keys, bytes.Clone(k))
				return len(keys) < 4*rebuildBatch, nil
			})
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// talliedUnder returns the CID of the version dn's statuses were decided
// under, cid.Undef if none.
func (r *Registry) talliedUnder(ctx context.Context, dn cid.Cid) (cid.Cid, error) {
	var out cid.Cid
	err := r.store.ViewIndex(ctx, func(tx *storage.IndexTxn) error {
		v, err := tx.Get(ixKey(ixTallied, dn.Bytes()))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = cid.Cast(v)
		return err
	})
	return out, err
}

// rebuildIfStale rebuilds dn's statuses when they were decided under
// another version than its head (a new version arrived, or a rebuild was
// cut short).
func (r *Registry) rebuildIfStale(ctx context.Context, dn cid.Cid) error {
	head, err := r.Head(ctx, dn)
	if err != nil {
		return err
	}
	under, err := r.talliedUnder(ctx, dn)
	if err != nil || under.Equals(head.CID) {
		return err
	}
	r.indexMu.Lock()
	defer r.indexMu.Unlock()
	if under, err = r.talliedUnder(ctx, dn); err != nil || under.Equals(head.CID) {
		return err // another caller rebuilt it meanwhile
	}
	if under.Defined() {
		if old, err := r.datanetObject(ctx, under); err == nil && samePolicy(old, head.Datanet) {
			// A new name or description: the statuses stand.
			return r.store.UpdateIndex(ctx, func(tx *storage.IndexTxn) error {
				return tx.Set(ixKey(ixTallied, dn.Bytes()), head.CID.Bytes())
			})
		}
	}
	return r.rebuild(ctx, dn)
}

// samePolicy reports whether two versions of a Datanet decide every
// contribution alike: the same curators, quorum, threshold, window, kinds
// and size limit.
func samePolicy(a, b *Datanet) bool {
	return slices.Equal(a.Curators, b.Curators) && a.Quorum == b.Quorum && a.ThresholdBps == b.ThresholdBps &&
		a.Window == b.Window && slices.Equal(a.Kinds, b.Kinds) && a.MaxContributionSize == b.MaxContributionSize
}
