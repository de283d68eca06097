package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// The Badger key schema. Every key starts with a one-byte prefix naming its
// table. Multihashes and CIDs are self-delimiting and prefix-free (no valid
// multihash is a proper prefix of another, and likewise for CIDs), so a key
// "prefix + multihash" is a prefix probe for everything about that multihash,
// and a composite key can be split without length fields. Session IDs are
// 8-byte big-endian integers.
//
//	v                        → schema version (uvarint); written on first open
//	d <multihash>            → shard bytes. Shards are keyed by multihash, so
//	                           every CID with that multihash names this copy.
//	d <multihash> <i>        → in-memory stores only: segment i (one byte,
//	                           i >= 1) of a shard, which is split into segments
//	                           of 512 KiB because Badger without a value log
//	                           cannot hold values of 1 MiB; d <multihash> holds
//	                           segment 0. On disk a shard is always one value.
//	z <multihash>            → shard size, uint32 big-endian. Kept beside the
//	                           data so usage accounting at Open, GC's sweep and
//	                           Stat scan small inline values and never touch the
//	                           value log.
//	o <cid>                  → object bytes (opaque to this package).
//	l <cid>                  → object record: uvarint size of the object, uvarint
//	                           link count, then per link uvarint length + CID
//	                           bytes, then optionally (since version 3) the
//	                           uvarint index of the link the object is kept by
//	                           (ObjectPut.KeptBy). GC's mark, Links and Stat
//	                           read this record and never decode objects.
//	r <multihash> <cid>      → empty. Object <cid> declares a link to the shard
//	                           <multihash>. "Is this shard referenced by an
//	                           object?" is a probe of prefix r <multihash>.
//	b <target> <cid>         → empty. Object <cid> declares a link to the
//	                           object <target>, a CID of any codec but raw
//	                           (links to shards are r keys only). "Which
//	                           stored objects link to <target>?" is a scan of
//	                           prefix b <target> (Backlinks). Since version 2.
//	                           Not written for the links a writer names
//	                           unlisted (ObjectPut.Unlisted), which its
//	                           record still holds.
//	p <cid>                  → empty. A recursive pin of <cid>; a pinned shard
//	                           is always the CIDv1 raw form.
//	s <sid>                  → open add session: int64 reserved bytes, int64
//	                           creation time (unix ns), both big-endian. Every
//	                           record found at Open belongs to a dead process
//	                           and is rolled back.
//	t <sid> <multihash>      → one byte of flags (bit 0: this session stored
//	                           the shard first). The shards a session wrote, for
//	                           Abort and recovery.
//	u <multihash> <sid>      → empty. The reverse of t: "is this shard held by
//	                           an open session?" is a probe of prefix
//	                           u <multihash>. Session-held shards are GC roots.
//	f                        → empty. Written and dropped at once by GC to make
//	                           Badger flush its memtable (see flushDeletions).
//	x <key>                  → the index key space of this store's callers
//	                           (IndexTxn); keys and values are theirs. The
//	                           datanet registry documents its keys.
//
// A committed session's t and u keys are deleted right after its commit
// transaction; if the process dies in between, Open deletes them (their s
// record is gone, so they are known to be committed, not stale).
//
// An object's r and b keys are written with its record, in the same
// transaction, and deleted with it by GC. GC deletes an object's bytes
// before its r and b keys and those before its record, so an object whose
// bytes are stored has all its r and b keys, and putObject, when it has to
// store the bytes again, writes them all again.
//
// Versions: 1 had no b keys; 2 adds them; 3 lets an object record name the
// link its object is kept by, which a build of version 2 would neither
// read nor keep. Open upgrades a version 1 or 2 database in place
// (upgradeFrom1, upgradeFrom2) and refuses any other version.
const (
	prefixVersion      byte = 'v'
	prefixShardData    byte = 'd'
	prefixShardSize    byte = 'z'
	prefixObjectData   byte = 'o'
	prefixObjectRecord byte = 'l'
	prefixShardRef     byte = 'r'
	prefixBacklink     byte = 'b'
	prefixPin          byte = 'p'
	prefixSession      byte = 's'
	prefixSessionShard byte = 't'
	prefixShardSession byte = 'u'
	prefixFlushMarker  byte = 'f'
	prefixIndex        byte = 'x'
)

// schemaVersion is the version of the key schema above.
const schemaVersion = 3

// sessionCreatedShard is the flag of a t key whose session stored the shard
// first (rather than finding it already stored). Only such shards are
// candidates for deletion when the session is rolled back.
const sessionCreatedShard byte = 1

const sessionIDLen = 8

func versionKey() []byte     { return []byte{prefixVersion} }
func flushMarkerKey() []byte { return []byte{prefixFlushMarker} }

// key concatenates a prefix and parts into a new slice.
func key(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 1, n)
	k[0] = prefix
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func shardDataKey(mh []byte) []byte           { return key(prefixShardData, mh) }
func shardSizeKey(mh []byte) []byte           { return key(prefixShardSize, mh) }
func objectDataKey(c cid.Cid) []byte          { return key(prefixObjectData, c.Bytes()) }
func objectRecordKey(c cid.Cid) []byte        { return key(prefixObjectRecord, c.Bytes()) }
func shardRefKey(mh []byte, c cid.Cid) []byte { return key(prefixShardRef, mh, c.Bytes()) }
func shardRefPrefix(mh []byte) []byte         { return key(prefixShardRef, mh) }
func backlinkKey(target, c cid.Cid) []byte    { return key(prefixBacklink, target.Bytes(), c.Bytes()) }
func backlinkPrefix(target cid.Cid) []byte    { return key(prefixBacklink, target.Bytes()) }
func pinKey(c cid.Cid) []byte                 { return key(prefixPin, c.Bytes()) }
func sessionKey(sid uint64) []byte            { return key(prefixSession, sidBytes(sid)) }
func sessionShardKey(sid uint64, mh []byte) []byte {
	return key(prefixSessionShard, sidBytes(sid), mh)
}
func sessionShardPrefix(sid uint64) []byte { return key(prefixSessionShard, sidBytes(sid)) }
func shardSessionKey(mh []byte, sid uint64) []byte {
	return key(prefixShardSession, mh, sidBytes(sid))
}
func shardSessionPrefix(mh []byte) []byte { return key(prefixShardSession, mh) }

// linkKey is the reverse-index key of object c's link to l: an r key if l
// names a shard, else a b key.
func linkKey(l, c cid.Cid) []byte {
	if l.Type() == cid.Raw {
		return shardRefKey(l.Hash(), c)
	}
	return backlinkKey(l, c)
}

// shardSegmentKey is the key of segment i of shard mh in an in-memory
// store. Segment 0 is the shard data key.
func shardSegmentKey(mh []byte, i int) []byte {
	if i == 0 {
		return shardDataKey(mh)
	}
	return key(prefixShardData, mh, []byte{byte(i)})
}

// shardPinKey is the pin key of the shard with multihash mh.
func shardPinKey(mh []byte) []byte {
	return pinKey(cid.NewCidV1(cid.Raw, mh))
}

func sidBytes(sid uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, sessionIDLen), sid)
}

// errBadKey reports a key or record this package did not write, which means
// the database is damaged or was written by something else.
var errBadKey = errors.New("malformed key or record")

// cidFromKey decodes the CID that makes up the whole rest of a key.
func cidFromKey(k []byte) (cid.Cid, error) {
	c, err := cid.Cast(k[1:])
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: key %x: %w", errBadKey, k, err)
	}
	return c, nil
}

// multihashFromKey decodes the multihash at the start of b and returns it
// (aliasing b) and the rest of b.
func multihashFromKey(b []byte) (multihash.Multihash, []byte, error) {
	n, mh, err := multihash.MHFromBytes(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: multihash in key %x: %w", errBadKey, b, err)
	}
	return mh, b[n:], nil
}

// sessionShardFromKey splits a t key into its session ID and multihash.
func sessionShardFromKey(k []byte) (uint64, multihash.Multihash, error) {
	if len(k) < 1+sessionIDLen {
		return 0, nil, fmt.Errorf("%w: session shard key %x", errBadKey, k)
	}
	sid := binary.BigEndian.Uint64(k[1:])
	mh, rest, err := multihashFromKey(k[1+sessionIDLen:])
	if err != nil {
		return 0, nil, err
	}
	if len(rest) != 0 {
		return 0, nil, fmt.Errorf("%w: session shard key %x", errBadKey, k)
	}
	return sid, mh, nil
}

// sessionFromKey decodes the session ID of an s key.
func sessionFromKey(k []byte) (uint64, error) {
	if len(k) != 1+sessionIDLen {
		return 0, fmt.Errorf("%w: session key %x", errBadKey, k)
	}
	return binary.BigEndian.Uint64(k[1:]), nil
}

// sidFromShardSessionKey returns the session ID at the end of a u key.
func sidFromShardSessionKey(k []byte) (uint64, error) {
	if len(k) < 1+sessionIDLen {
		return 0, fmt.Errorf("%w: shard session key %x", errBadKey, k)
	}
	return binary.BigEndian.Uint64(k[len(k)-sessionIDLen:]), nil
}

func encodeSize(n int) []byte {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(n))
}

func decodeSize(v []byte) (int64, error) {
	if len(v) != 4 {
		return 0, fmt.Errorf("%w: shard size record %x", errBadKey, v)
	}
	return int64(binary.BigEndian.Uint32(v)), nil
}

// sessionRecord is the value of an s key.
type sessionRecord struct {
	reserve int64
	created int64 // unix ns
}

func (r sessionRecord) encode() []byte {
	b := make([]byte, 0, 16)
	b = binary.BigEndian.AppendUint64(b, uint64(r.reserve))
	return binary.BigEndian.AppendUint64(b, uint64(r.created))
}

func decodeSessionRecord(v []byte) (sessionRecord, error) {
	if len(v) != 16 {
		return sessionRecord{}, fmt.Errorf("%w: session record %x", errBadKey, v)
	}
	return sessionRecord{
		reserve: int64(binary.BigEndian.Uint64(v)),
		created: int64(binary.BigEndian.Uint64(v[8:])),
	}, nil
}

// objectRecord is the value of an l key.
type objectRecord struct {
	size  int64
	links []cid.Cid
	// keptBy is 1 + the index in links of the object this one is kept
	// by (ObjectPut.KeptBy); 0 for none.
	keptBy int
}

func (r objectRecord) encode() []byte {
	n := 3 * binary.MaxVarintLen64
	for _, l := range r.links {
		n += binary.MaxVarintLen64 + l.ByteLen()
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(r.size))
	b = binary.AppendUvarint(b, uint64(len(r.links)))
	for _, l := range r.links {
		b = binary.AppendUvarint(b, uint64(l.ByteLen()))
		b = append(b, l.Bytes()...)
	}
	if r.keptBy > 0 {
		b = binary.AppendUvarint(b, uint64(r.keptBy-1))
	}
	return b
}

func decodeObjectRecord(v []byte) (objectRecord, error) {
	bad := func() (objectRecord, error) {
		return objectRecord{}, fmt.Errorf("%w: object record %x", errBadKey, v)
	}
	size, n := binary.Uvarint(v)
	if n <= 0 {
		return bad()
	}
	v = v[n:]
	count, n := binary.Uvarint(v)
	if n <= 0 || count > uint64(len(v)) {
		return bad()
	}
	v = v[n:]
	r := objectRecord{size: int64(size), links: make([]cid.Cid, 0, count)}
	for range count {
		l, n := binary.Uvarint(v)
		if n <= 0 || l > uint64(len(v)-n) {
			return bad()
		}
		c, err := cid.Cast(v[n : n+int(l)])
		if err != nil {
			return bad()
		}
		r.links = append(r.links, c)
		v = v[n+int(l):]
	}
	if len(v) != 0 {
		k, n := binary.Uvarint(v)
		if n != len(v) || k >= count {
			return bad()
		}
		r.keptBy = int(k) + 1
	}
	return r, nil
}

// keptByOf returns the link the object is kept by, if the record names
// one.
func (r objectRecord) keptByOf() (cid.Cid, bool) {
	if r.keptBy == 0 {
		return cid.Undef, false
	}
	return r.links[r.keptBy-1], true
}

// mergeLinks returns the links of have followed by those of add not already
// present, and whether anything was added. Duplicates in add are dropped.
func mergeLinks(have, add []cid.Cid) ([]cid.Cid, bool) {
	seen := make(map[string]struct{}, len(have)+len(add))
	for _, l := range have {
		seen[l.KeyString()] = struct{}{}
	}
	out, changed := append(make([]cid.Cid, 0, len(have)+len(add)), have...), false
	for _, l := range add {
		if _, ok := seen[l.KeyString()]; ok {
			continue
		}
		seen[l.KeyString()] = struct{}{}
		out = append(out, l)
		changed = true
	}
	return out, changed
}
