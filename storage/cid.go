package storage

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// Chunk sizes accepted by Session.Chunk and NewFileReader.
const (
	DefaultChunkSize = 1 << 20 // 1 MiB
	MinChunkSize     = 1 << 10 // 1 KiB
	MaxChunkSize     = 4 << 20 // 4 MiB
)

// CheckChunkSize returns an error wrapping ErrChunkSize, naming the allowed
// range, unless MinChunkSize <= n <= MaxChunkSize.
func CheckChunkSize(n int) error {
	if n < MinChunkSize || n > MaxChunkSize {
		return fmt.Errorf("%w: %d is not in [%d, %d]", ErrChunkSize, n, MinChunkSize, MaxChunkSize)
	}
	return nil
}

// sha256MultihashLen is the length of a sha2-256 multihash: code 0x12,
// length 0x20, 32 digest bytes.
const sha256MultihashLen = 2 + sha256.Size

// sha256Multihash returns the sha2-256 multihash of data.
func sha256Multihash(data []byte) multihash.Multihash {
	digest := sha256.Sum256(data)
	mh := make([]byte, sha256MultihashLen)
	mh[0] = multihash.SHA2_256
	mh[1] = sha256.Size
	copy(mh[2:], digest[:])
	return mh
}

// ShardCID returns the CID of a shard: CIDv1, codec raw (0x55), multihash
// sha2-256 of data. It is byte-for-byte the CID IPFS gives a raw leaf.
func ShardCID(data []byte) cid.Cid {
	return cid.NewCidV1(cid.Raw, sha256Multihash(data))
}

// ObjectCID returns the CIDv1 of an encoded object with the given codec
// (callers use cid.DagCBOR) and the sha2-256 multihash of data.
func ObjectCID(codec uint64, data []byte) cid.Cid {
	return cid.NewCidV1(codec, sha256Multihash(data))
}

// Digest returns the sha2-256 digest c's multihash holds, the one hash of
// a shard or an object the Merkle leaves of contributions, snapshots and
// anchors are built from. It fails for an undefined CID and for any other
// hash function.
func Digest(c cid.Cid) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if !c.Defined() {
		return d, errors.New("undefined cid")
	}
	mh := c.Hash()
	if len(mh) != sha256MultihashLen || mh[0] != multihash.SHA2_256 || mh[1] != sha256.Size {
		return d, fmt.Errorf("cid %s: hash is not sha2-256", c)
	}
	copy(d[:], mh[2:])
	return d, nil
}

// hashMatches reports whether data hashes to the multihash mh. The common
// sha2-256 case is computed without going through the multihash registry.
// It returns an error only when mh is malformed or its function unsupported.
func hashMatches(mh multihash.Multihash, data []byte) (bool, error) {
	if len(mh) == sha256MultihashLen && mh[0] == multihash.SHA2_256 && mh[1] == sha256.Size {
		digest := sha256.Sum256(data)
		return bytes.Equal(mh[2:], digest[:]), nil
	}
	dec, err := multihash.Decode(mh)
	if err != nil {
		return false, fmt.Errorf("decode multihash: %w", err)
	}
	sum, err := multihash.Sum(data, dec.Code, dec.Length)
	if err != nil {
		return false, fmt.Errorf("multihash %s: %w", multihash.Codes[dec.Code], err)
	}
	return bytes.Equal(sum, mh), nil
}

// checkObjectCID returns an error wrapping ErrBadCID unless c is a usable
// object CID for data: defined, not raw (raw CIDs name shards), and hashing
// to data.
func checkObjectCID(c cid.Cid, data []byte) error {
	if !c.Defined() {
		return fmt.Errorf("%w: undefined cid", ErrBadCID)
	}
	if c.Type() == cid.Raw {
		return fmt.Errorf("%w: %s: the raw codec is reserved for shards", ErrBadCID, c)
	}
	ok, err := hashMatches(c.Hash(), data)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadCID, c, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrBadCID, c)
	}
	return nil
}
