package proofs

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/openledger/openledger/proofs/contracts"
)

// ObjectLeaf returns the leaf of an anchored object whose CID has the sha256
// digest digest: LeafHash([]string{"bytes32"}, digest). It takes the digest,
// not the CID, so that this package need not know CIDs; the caller passes the
// CID's multihash digest.
func ObjectLeaf(digest [32]byte) Hash {
	return newHasher().leaf(digest[:])
}

// AnchorProof proves that an item was in a batch whose Merkle root is
// anchored in an AnchorRegistry: the item's leaf, the path from it to the
// root, and where the root was anchored. Its JSON carries bytes and hashes
// as 0x-prefixed hex.
type AnchorProof struct {
	// ID is the item's identifier as given to Enqueue (an object's CID bytes).
	ID hexutil.Bytes `json:"id"`
	// Leaf is the item's leaf hash.
	Leaf Hash `json:"leaf"`
	// Root is the Merkle root of the item's batch.
	Root Hash `json:"root"`
	// Path holds the siblings from Leaf up to Root (see Tree.Proof).
	Path []Hash `json:"path"`
	// ItemCount is the number of items of the batch, as anchored.
	ItemCount uint64 `json:"itemCount"`
	// ChainID is the ID of the chain the root is anchored on.
	ChainID uint64 `json:"chainId"`
	// Contract is the address of the AnchorRegistry.
	Contract common.Address `json:"contract"`
	// TxHash is the hash of the transaction that anchored Root.
	TxHash common.Hash `json:"txHash"`
	// BlockNumber is the number of the block holding TxHash.
	BlockNumber uint64 `json:"blockNumber"`
}

// Verify reports whether p.Path leads from p.Leaf to p.Root. It does not
// consult the chain; see VerifyOnChain.
func (p *AnchorProof) Verify() bool {
	return Verify(p.Root, p.Leaf, p.Path)
}

// VerifyOnChain checks that p verifies and that the registry at p.Contract,
// read through caller, has p.Root anchored in block p.BlockNumber with
// p.ItemCount items. It returns nil or an error wrapping ErrAnchorMismatch,
// or the error of the chain call. Checking that caller is connected to chain
// p.ChainID is the caller's job.
func (p *AnchorProof) VerifyOnChain(ctx context.Context, caller bind.ContractCaller) error {
	if !p.Verify() {
		return fmt.Errorf("%w: path of leaf %s does not lead to root %s", ErrAnchorMismatch, p.Leaf, p.Root)
	}
	reg, err := contracts.NewAnchorRegistryCaller(p.Contract, caller)
	if err != nil {
		return fmt.Errorf("bind registry %s: %w", p.Contract, err)
	}
	info, err := reg.AnchorOf(&bind.CallOpts{Context: ctx}, p.Root)
	if err != nil {
		return fmt.Errorf("read anchor of %s from %s: %w", p.Root, p.Contract, err)
	}
	switch {
	case info.Submitter == (common.Address{}):
		return fmt.Errorf("%w: root %s is not anchored in %s", ErrAnchorMismatch, p.Root, p.Contract)
	case info.BlockNumber != p.BlockNumber:
		return fmt.Errorf("%w: root %s anchored in block %d, proof says %d", ErrAnchorMismatch, p.Root, info.BlockNumber, p.BlockNumber)
	case info.ItemCount != p.ItemCount:
		return fmt.Errorf("%w: root %s anchored with %d items, proof says %d", ErrAnchorMismatch, p.Root, info.ItemCount, p.ItemCount)
	}
	return nil
}

// ChainReader is what Check reads the chain through: an ethclient.Client
// or a simulated backend's client.
type ChainReader interface {
	bind.ContractCaller
	ChainID(ctx context.Context) (*big.Int, error)
}

// Check checks p with nothing but a chain connection, for an item whose
// leaf is leaf (for an object, what its CID gives: datanet.ProofLeaf): p's
// leaf is leaf, the path leads to the root, client serves chain p.ChainID,
// and the registry holds the root in p's block with its item count. It
// fails with ErrAnchorMismatch, or with the error of a chain call.
func (p *AnchorProof) Check(ctx context.Context, client ChainReader, leaf Hash) error {
	if leaf != p.Leaf {
		return fmt.Errorf("%w: the proof's leaf %s is not the item's leaf %s", ErrAnchorMismatch, p.Leaf, leaf)
	}
	if !p.Verify() {
		return fmt.Errorf("%w: the proof's path does not lead from leaf %s to root %s", ErrAnchorMismatch, p.Leaf, p.Root)
	}
	chainID, err := client.ChainID(ctx)
	if err != nil {
		return err
	}
	if chainID.Uint64() != p.ChainID {
		return fmt.Errorf("%w: the proof is for chain %d, the endpoint serves chain %s", ErrAnchorMismatch, p.ChainID, chainID)
	}
	return p.VerifyOnChain(ctx, client)
}
