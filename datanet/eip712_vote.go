package datanet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/crypto/sha3"
)

// Votes and contributions are the objects a node hashes most (every one
// gossiped, synced or fetched; votes as snapshot evidence too), so their
// EIP-712 signing hashes have a direct path: the same bytes
// apitypes.TypedDataAndHash hashes (TestVoteSigningHash and
// TestContributionSigningHash compare them for many objects), written out
// for the one fixed type, without reflection or maps. Every other kind
// goes through apitypes.

var (
	voteTypeHash         = crypto.Keccak256Hash([]byte("Vote(string datanet,string contribution,address curator,string decision,string reason,uint64 seq,uint64 created)"))
	contributionTypeHash = crypto.Keccak256Hash([]byte("Contribution(string datanet,address contributor,bytes32 root,uint64 size,uint64 chunkSize,uint32 fileCount,bytes32 files,string license,bytes32 metadata,uint64 created)"))
	domainHashes         sync.Map // chain ID → domain separator
)

// domainSeparator is hashStruct(EIP712Domain{name, version, chainId}).
func domainSeparator(chainID uint64) [32]byte {
	if d, ok := domainHashes.Load(chainID); ok {
		return d.([32]byte)
	}
	var id [32]byte
	binary.BigEndian.PutUint64(id[24:], chainID)
	d := [32]byte(crypto.Keccak256(
		crypto.Keccak256([]byte("EIP712Domain(string name,string version,uint256 chainId)")),
		crypto.Keccak256([]byte(DomainName)),
		crypto.Keccak256([]byte(DomainVersion)),
		id[:],
	))
	domainHashes.Store(chainID, d)
	return d
}

// voteSigningHash is SigningHash of a vote.
func voteSigningHash(v *Vote) ([32]byte, error) {
	if !v.Datanet.Defined() || !v.Contribution.Defined() {
		return [32]byte{}, errors.New("datanet: signing hash of vote: datanet or contribution is undefined")
	}
	if v.Created < 0 {
		return [32]byte{}, fmt.Errorf("datanet: signing hash of vote: negative created %d", v.Created)
	}
	h := sha3.NewLegacyKeccak256()
	str := func(s string) []byte {
		h.Reset()
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	var buf [8 * 32]byte
	copy(buf[0:], voteTypeHash[:])
	copy(buf[32:], str(v.Datanet.String()))
	copy(buf[64:], str(v.Contribution.String()))
	copy(buf[96+12:], v.Curator[:])
	copy(buf[128:], str(string(v.Decision)))
	copy(buf[160:], str(v.Reason))
	binary.BigEndian.PutUint64(buf[192+24:], v.Seq)
	binary.BigEndian.PutUint64(buf[224+24:], uint64(v.Created))
	h.Reset()
	h.Write(buf[:])
	structHash := h.Sum(nil)
	domain := domainSeparator(v.ChainID)
	h.Reset()
	h.Write([]byte{0x19, 0x01})
	h.Write(domain[:])
	h.Write(structHash)
	return [32]byte(h.Sum(nil)), nil
}

// contributionSigningHash is SigningHash of a contribution.
func contributionSigningHash(c *Contribution) ([32]byte, error) {
	if !c.Datanet.Defined() {
		return [32]byte{}, errors.New("datanet: signing hash of contribution: datanet is undefined")
	}
	if c.Created < 0 {
		return [32]byte{}, fmt.Errorf("datanet: signing hash of contribution: negative created %d", c.Created)
	}
	if uint64(len(c.Files)) > math.MaxUint32 {
		return [32]byte{}, fmt.Errorf("datanet: signing hash of contribution: %d files do not fit uint32", len(c.Files))
	}
	files, err := marshalCBOR(&c.Files)
	if err != nil {
		return [32]byte{}, fmt.Errorf("datanet: signing hash of contribution: encode files: %w", err)
	}
	metadata, err := marshalCBOR(&c.Metadata)
	if err != nil {
		return [32]byte{}, fmt.Errorf("datanet: signing hash of contribution: encode metadata: %w", err)
	}
	var buf [11 * 32]byte
	copy(buf[0:], contributionTypeHash[:])
	copy(buf[32:], crypto.Keccak256([]byte(c.Datanet.String())))
	copy(buf[64+12:], c.Contributor[:])
	copy(buf[96:], c.Root[:])
	binary.BigEndian.PutUint64(buf[128+24:], c.Size)
	binary.BigEndian.PutUint64(buf[160+24:], c.ChunkSize)
	binary.BigEndian.PutUint64(buf[192+24:], uint64(len(c.Files)))
	copy(buf[224:], crypto.Keccak256(files))
	copy(buf[256:], crypto.Keccak256([]byte(c.License)))
	copy(buf[288:], crypto.Keccak256(metadata))
	binary.BigEndian.PutUint64(buf[320+24:], uint64(c.Created))
	domain := domainSeparator(c.ChainID)
	return [32]byte(crypto.Keccak256([]byte{0x19, 0x01}, domain[:], crypto.Keccak256(buf[:]))), nil
}
