// Package datanet owns the object model of openledger: the signed objects a
// Datanet is made of — [Datanet], [Contribution], [Vote], [Snapshot] — and
// the objects that follow a Datanet into training and payment —
// [ModelRecord] (a model's lineage), [AttributionRecord] (the attribution
// of one model output and its payouts) and [RewardEpoch] (cumulative
// rewards and their claim root) — with their one canonical encoding, their
// content identifiers, their field rules, and their EIP-712 signatures.
// The per-Datanet state (a log of signed objects over the content store) is
// also part of this package. It checks that models, attribution records and
// epochs are well formed and fit the objects they name (a record's proofs
// included); recomputing an attribution or an epoch's balances is the
// attribution package's job.
//
// It must not do I/O beyond the storage package: no network, no chain, no
// clock (times are fields and arguments), no files. Every function here is a
// pure function of its arguments, so every node computes the same bytes, the
// same CIDs and the same verdicts.
//
// # Canonical encoding
//
// Every object has exactly one encoding, DAG-CBOR as IPLD specifies it
// (https://ipld.io/specs/codecs/dag-cbor/spec/): definite lengths, integers
// and lengths in their shortest form, map keys sorted length-first then
// bytewise, no floats, no undefined, no tags except 42, and links (CIDs) as
// tag 42 around a byte string holding 0x00 followed by the binary CID.
// [Decode] rejects anything else, as well as unknown or duplicate keys and
// missing keys, by re-encoding what it read and requiring identical bytes,
// so one object has one CID.
//
// An object is a CBOR map with snake_case text keys, those of the `cbor`
// tags of its Go struct: one codec reads the structs to encode and decode
// every object and to write its JSON view (the same keys, in `json` tags). Every key is always
// present: an empty list is [], an empty map is {}, an absent link is null,
// and an unsigned object's signature is the empty byte string. Two keys are
// common: "kind" (text) names the object type and "v" (uint) is the
// encoding version, currently [EncodingVersion]; a decoder dispatches on
// them.
//
//	datanet:      kind v name description license owner chain_id kinds
//	              max_contribution_size curators quorum threshold_bps
//	              window seq prev created signature
//	curator:      address weight
//	contribution: kind v datanet contributor chain_id files root size
//	              chunk_size license metadata created signature
//	file:         path size shards
//	vote:         kind v datanet contribution curator decision reason seq
//	              chain_id created signature
//	snapshot:     kind v datanet policy version prev root count votes
//	              entries cutter chain_id created signature
//	snapshot_chunk (unsigned): kind v level entries chunks
//	entry:        contribution root votes
//	chunk ref:    chunk count votes
//	model:        kind v name base snapshots artifacts chunk_size metadata
//	              owner chain_id created signature
//	model entry:  datanet snapshot
//	              (artifacts are files, as a contribution's)
//	attribution:  kind v model output output_size params spans weights
//	              tokens_in tokens_out rewards model_owner payouts attester
//	              chain_id created signature
//	params:       min_span_bytes max_span_count max_output_bytes
//	              normalization
//	span:         start end snapshot contribution contributor file offset
//	              length count weight shards contribution_proof
//	span shard:   index shard size proof
//	weight:       address parts
//	rewards:      rate_in rate_out platform_fee model_owner_bps staker_bps
//	              contributor_bps platform stakers
//	payout:       address role amount
//	reward_epoch: kind v number prev records balances root distributor
//	              poster chain_id created signature
//	balance:      address cumulative
//
// Addresses (20 bytes), Merkle roots and proof hashes (32 bytes) and
// signatures (65 bytes, R||S||V with V in {27, 28}) are byte strings;
// timestamps are unix seconds; prev, datanet, contribution, policy, model,
// snapshot, records, output and shards are links (output and shards raw
// CIDs, the others objects). Amounts (rate_in, rate_out, platform_fee,
// amount, cumulative) are unsigned big integers as byte strings,
// big-endian, without leading zero bytes, zero being the empty byte string;
// a leading zero byte is non-canonical. A snapshot's entries live in a tree
// of snapshot_chunk objects named by CID from the snapshot ([SnapshotChunk]);
// an entry's votes are byte strings, each the canonical encoding of a Vote,
// so every vote keeps its own CID and signature. The testdata directory
// holds golden encodings with their diagnostic notation.
//
// An object's CID is CIDv1, codec dag-cbor (0x71), multihash sha2-256 of the
// whole encoding, signature included. Shards are CIDv1, codec raw (0x55),
// sha2-256, as IPFS names a raw leaf. An encoding is at most [MaxObjectSize]
// bytes.
//
// # Signatures
//
// Objects are signed with EIP-712 typed data (eth_signTypedData_v4), so any
// Ethereum wallet can sign them and the signer's address is the identity that
// gets paid. [TypedData] returns the document a wallet signs and
// [TypedDataJSON] its JSON; [SigningHash] is the digest. The domain is
//
//	EIP712Domain(string name,string version,uint256 chainId)
//	name = "openledger", version = "1", chainId = the Datanet's ChainID
//
// with no verifyingContract and no salt: the objects live off-chain, and the
// chain ID keeps a signature made for one network (say testnet) from being
// replayed on another. Every object carries the chain ID of its domain (a
// Contribution copies its Datanet's), so it can be verified on its own; the
// state layer checks that a Contribution's chain ID is its Datanet's
// ([Datanet.Admits] does).
//
// The message types are documented on [Datanet], [Contribution], [Vote],
// [Snapshot], [ModelRecord], [AttributionRecord] and [RewardEpoch]. A
// model, an attribution record and an epoch carry a chain ID too: a model
// and its records that of their Datanets, an epoch that of the chain its
// root is posted on. Big lists
// are committed by hash (keccak256 of their DAG-CBOR encoding) so a wallet
// can still show the small fields a person can judge.
package datanet
