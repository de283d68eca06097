// Package storage is the content store of one openledger node.
//
// It owns, in one Badger v4 database:
//
//   - shards: raw chunks of files, keyed by multihash. A shard's CID is CIDv1,
//     codec raw, sha2-256 — byte-for-byte the CID IPFS gives a raw leaf — so
//     two CIDs with the same multihash share one stored copy;
//   - signed objects: opaque bytes keyed by CID, with the links the caller
//     declares for them (raw-codec links are shards, other links are objects),
//     indexed both ways: Links and Backlinks;
//   - pins: recursive roots that keep an object and everything reachable
//     through its links;
//   - add sessions: multi-shard writes that land whole or not at all, even
//     across a kill -9, with the bytes reserved against the quota up front;
//   - the fixed-size chunker (Session.Chunk), the walk of local files and
//     directories to add into a session (ScanFiles, Session.AddFiles), and
//     a verified reader over a file's shards (NewFileReader);
//   - maintenance: garbage collection, quota accounting, integrity checks
//     (Verify), the repair of damaged shards (DropDamagedShard, and the
//     Repairer that reads call) and statistics (Stat).
//
// Every byte handed out is rehashed against the CID it was asked for, and
// nothing is ever stored under a CID that does not match its bytes. A
// damaged shard a read finds is dropped, so that it can be stored again.
//
// The package must not know about the network, the chain or Datanet rules
// (a Repairer that fetches from peers is the caller's):
// objects are opaque bytes here, and their links are whatever the caller
// declares. Decoding objects is the job of package datanet.
//
// The on-disk key schema is documented prefix by prefix in schema.go.
package storage
