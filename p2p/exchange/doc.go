// Package exchange is the shard exchange protocol: how one node fetches the
// shards of a dataset, by CID, from the peers that provide it.
//
// It owns the wire format of ProtocolID, the Server that answers requests
// from a Blockstore (the content store, package storage) within a memory
// budget over all peers, and the Client whose Fetch gets many shards from
// several providers at once: it verifies every shard against its sha2-256
// CID before the caller sees it, keeps requests pipelined, spreads the
// work with work stealing, retries shards elsewhere when a peer fails or
// sends a shard that does not match, and drops and reports a peer that
// keeps sending bytes that do not match.
//
// It must not find providers (the caller passes them; provider records are
// the DHT's job, in package p2p), decide peer policy beyond one fetch (a bad
// peer is reported through Client.OnBadPeer; scoring and banning are the p2p
// layer's), build or configure the libp2p host, or store anything: fetched
// shards go to the caller's put function, served ones come from the
// Blockstore. It must not import package p2p.
//
// # Wire format
//
// A client opens one stream per fetch to each provider it fetches from and
// writes request frames on it; it may write the next requests before the
// responses to the previous ones arrive (pipelining). The server answers
// every CID of every request, in request order, with one response each.
// All integers are unsigned varints (uvarint, as in encoding/binary and
// multiformats), minimally encoded; CIDs are in their binary form.
//
// A request frame:
//
//	uvarint  length of the rest of the frame, 1 to 16384
//	uvarint  count of CIDs, 1 to 256
//	count × { uvarint CID length, 1 to 128; the CID's bytes }
//
// A response:
//
//	byte     status: 0x00 OK, 0x01 NOT_FOUND, 0x02 UNAVAILABLE, 0x03 BUSY
//	uvarint  CID length       (not for BUSY)
//	bytes    the CID, as it was requested (not for BUSY)
//	uvarint  data length, 0 to 4 MiB (OK only)
//	bytes    the shard (OK only)
//
// NOT_FOUND: the server does not have the shard. UNAVAILABLE: it has it but
// could not read it; ask elsewhere. BUSY is sent alone, as the first byte
// of a stream the server refuses because the peer already has
// ServerConfig.MaxStreamsPerPeer streams open, or all peers together have
// ServerConfig.MaxStreams; the server then closes the stream, and the
// client may ask again later. A client may have at most 256 CIDs asked for
// and not answered on a stream. A server resets a stream that breaks these
// bounds or on which nothing moves for ServerConfig.IdleTimeout; a client
// drops a peer that breaks them or sends a response for another CID than
// the next one it asked for.
//
// Example: a request for the shard "hello", CID
// bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, is 39 bytes:
//
//	26                     frame length 38
//	01                     1 CID
//	24                     CID length 36
//	01 55 12 20            CIDv1, raw, sha2-256, 32-byte digest
//	2c f2 4d ba ... 98 24  the digest
//
// and the response is 44 bytes:
//
//	00                     OK
//	24                     CID length 36
//	01 55 12 20 2c ... 24  the CID
//	05                     5 bytes of data
//	68 65 6c 6c 6f         "hello"
//
// A NOT_FOUND response for it is 01 24 followed by the CID. The golden files
// in testdata/ hold these encodings byte for byte.
package exchange
