// Package p2p is the network of one openledger node.
//
// It owns:
//
//   - the libp2p host: TCP and QUIC, TLS (preferred) and Noise, yamux, a
//     resource manager and a connection manager whose limits agree,
//     identify, ping, optional NAT port mapping, bootstrap peers and mDNS;
//   - the Kademlia DHT under its own protocol prefix (/openledger), in
//     server mode, holding provider records for object CIDs only — one per
//     dataset, never one per shard — re-provided on a timer; the records
//     it holds for others go to Config.ProviderStore when one is given
//     (the daemon gives its Badger);
//   - GossipSub: the announcements topic and one topic per joined
//     Datanet, each with a validator, and peer scoring;
//   - the sync protocol: set reconciliation of a Datanet's objects with
//     topic peers, and fetching objects by CID, one (FetchObject) or
//     many from several peers at once (FetchObjects).
//
// It must not decide policy. It never decodes an object: every decision
// about object bytes (is it well formed, signed, allowed on this topic, by
// this curator...) is a call to the Objects interface, which the daemon
// implements over package datanet. p2p only bounds sizes, checks that
// bytes hash to the CID they were sent for, maps verdicts to gossipsub's,
// and penalises peers that sent what Check rejected. Shard bytes never
// travel here: package p2p/exchange moves them.
//
// # Topics
//
//	/openledger/datanets/1              announcements: Datanet objects
//	/openledger/datanet/<Datanet CID>/1 the objects of one Datanet
//
// Messages are the signed object bytes alone: unsigned at the gossipsub
// level (objects carry their own signatures), with no author or sequence
// number, and named by the sha256 of their bytes, so one object is one
// message whoever publishes it. The validator bounds the size
// (Config.MaxMessageSize), calls Objects.Check, and stores accepted objects
// with Objects.Put before they are forwarded.
//
// # Peer scoring
//
// Per topic: P1 time in mesh (0.01/s, capped at +3), P2 first deliveries
// (+1 each, capped at +10, decaying over an hour), P3 off (Datanet topics
// are quiet), P4 invalid messages (-100·n², decaying over an hour). Per
// peer: topic scores capped at +50; application score with weight 1
// (Config.AppScore minus this package's sync penalties: -100 per object
// that did not match its CID or was rejected, halving every 10 minutes);
// IP colocation above 8 peers per IP (loopback exempt); behaviour penalty
// -10 per excess offence. Thresholds: gossip -500, publish -1000,
// graylist -2500, accept PX 100, opportunistic graft 2.
//
// # Sync protocol
//
// Protocol ID /openledger/sync/1.0.0. A stream carries frames:
//
//	frame = uvarint(len) type body       len counts type and body
//
// len is at most 1 MiB + 1, or MaxObjectSize + 140 for OBJECT frames.
// A CID is uvarint(len) and its binary form (len <= 128; len 0 stands for
// cid.Undef, the announcements set, where allowed). Frame types:
//
//	1 RECONCILE  cid(set) ranges          initiator, first frame of a session
//	2 RANGES     ranges                   both ways, one per round
//	3 WANT       uvarint(n) n×cid         1 <= n <= 256
//	4 OBJECT     cid data...              answer to WANT, or pushed by the initiator
//	5 MISSING    cid                      answer to WANT: not held
//	6 DONE                                end of session; the responder answers DONE
//	7 ERROR      code text...             1 not joined, 2 busy, 3 bad frame; text <= 256 bytes
//
// Set reconciliation is range-based (as in Negentropy). Each object is
// placed in a 256-bit key space at key = sha256(CID bytes). A range is
// the keys from the previous range's upper bound (the first: from zero)
// up to, not including, its own upper bound:
//
//	ranges = uvarint(count) range*        count <= 16384
//	range  = bound mode payload
//	bound  = 0xff                         +infinity
//	       | L prefix[L]                  L <= 32: the prefix padded with zeros
//	mode   = 0 skip                       no payload: nothing to do here
//	       | 1 fingerprint fp[16]
//	       | 2 idlist uvarint(n) n×cid    the sender's every CID in the range
//
// Bounds strictly increase; a frame carries at most 16384 IDs; trailing
// skips are left out. fp is the first 16 bytes of sha256(S || uvarint(c)),
// where S is the sum of the range's keys (as big-endian integers) mod
// 2^256, in 32 big-endian bytes, and c the number of keys.
//
// The initiator opens with its whole ID list of the keys it reconciles
// if it holds fewer than 16 objects there, else one fingerprint over
// them. Each side answers each range of a RANGES frame: skip → skip; a
// fingerprint equal to its own → skip; a different one → its ID list when
// it holds fewer than 16 objects in the range, else 16 fingerprinted
// sub-ranges of about equal counts (in memory: at the shortest bound
// between neighbouring keys; over the sync index: at bucket boundaries
// where a range spans buckets, between keys inside one, a bucket of more
// than a sixteenth of the range's keys taken apart so that a range is
// always cut, however its keys lie); an ID list → for
// the initiator, it now knows both differences in the range (skip); for
// the responder, its own ID list of the range, or skip if it is the same
// list. A side aims for frames under 256 KiB, and puts at most 16 KiB of
// IDs in its first frame of a session, twice as much after each frame
// where that was too little, up to 256 KiB: a long ID list is cut with a
// fingerprint over the rest of its range, and once a frame is full, each
// run of the ranges still open is answered with one fingerprint (the
// ranges done stay skipped), for the next round. The initiator stops when
// its answer is empty (or after 64 rounds), so a session costs one round
// trip when the sets are equal and about log16(set size) when they
// differ, and sends the ID lists of the small ranges that differ, not of
// the set.
//
// Between rounds the initiator sends WANTs for the objects it lacks
// (pipelined, two frames ahead; the responder answers each CID in order
// with OBJECT or MISSING) and pushes, as OBJECT frames, up to 256 of the
// objects the responder lacks. The responder handles frames in the order
// they come, so the initiator sends its next RANGES frame behind the
// first WANT frames of a round (SyncStats.RoundsAhead) and reads the
// answer in its turn among theirs: the responder works it out while the
// initiator admits objects. If the round's fetch then ends the session
// (Config.SyncMaxObjects), that answer is read and dropped. It checks each object's hash against its
// CID and hands it to Objects.Check for the set: what Check accepts is
// stored; what it rejects is dropped and the sender penalised (called by
// sync, Check rejects only what no later object could make acceptable);
// what it cannot judge yet is kept in the DeferredStore (on disk, bounded
// in bytes), with the objects Check names as missing, which the initiator
// asks the same peer for next, so that a Datanet comes before its
// contributions and a contribution before its votes. Every object stored
// rechecks the deferred objects waiting for it. With ManyObjects, an
// initiator holds such an object in memory instead (up to 16 MiB a
// session, still claimed so no other session fetches it) while it asks for
// what it waits for, and stores it once that is stored: a vote that comes
// before its contribution is not written to disk and read back; what
// still waits when the session finishes is checked once more and goes to
// the DeferredStore. Objects stored or
// deferred here, or being fetched by another session, are never asked
// for. The responder checks pushed objects the same way, keeping at most
// Config.SyncMaxObjects of them a session. Then DONE, answered by DONE
// once the responder has taken everything in. A fetch by CID
// (FetchObject) is a session of WANT, DONE alone; a batch fetch
// (FetchObjects) writes WANTs ahead of the answers, up to 4,096 objects
// per stream, to several peers at once. A responder that has
// not joined the set answers ERROR 1, and one that already runs a session
// with the initiator over the set answers ERROR 2 (when both open one at
// once, the node with the lower peer ID refuses the other's).
//
// A session asks for at most Config.SyncMaxObjects objects and a
// responder serves at most as many. Objects are learned in key order, so
// a session that reaches that bound stops there and the next session with
// that peer (scheduled at once) goes on from that key, over a window of
// the key space as wide as the bound's worth of objects took, growing
// when a window had room left; a pass ends at the top of the key space.
// Nothing learned is fetched twice in a pass, and no session holds more
// than a frame of IDs: the Datanet sets are read from the node's sync
// index (SyncIndex: sums of the 256 buckets by a key's first byte and of
// the 65,536 by its first two for whole buckets, keys one by one inside
// the buckets a range cuts through), not loaded.
//
// The announcements set is not reconciled (Sync refuses it with
// ErrAnnouncementsNotSynced and a responder answers ERROR 1): a node takes
// the Datanets it asks for, by fetch or on the topics it joined, and what
// strangers announce is judged one gossip message at a time (Objects.Check
// answers ErrUnwanted for a Datanet not asked for; its sender is charged
// a tenth of an offence, so a peer that pushes hundreds is graylisted).
//
// Sessions run on Join, when a peer joins a joined topic, every
// SyncInterval with two random topic peers per set, after a session
// brought objects (with the set's other topic peers, since sync does not
// re-gossip), after a session that stopped at its bound, and on demand
// (Sync, which runs sessions with each peer until one has gone through the
// whole set).
package p2p
