package proofs_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/proofs/contracts"
)

// TestDevChainPersists: the embedded dev chain mines a transaction at once,
// and after a restart on the same directory the contract and its state are
// still there.
func TestDevChainPersists(t *testing.T) {
	dir := t.TempDir()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	me := crypto.PubkeyToAddress(key.PublicKey)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	dc, err := proofs.OpenDevChain(dir, me)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := bind.NewKeyedTransactorWithChainID(key, big.NewInt(proofs.DevChainID))
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = ctx
	addr, tx, registry, err := contracts.DeployAnchorRegistry(opts, dc.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitDeployed(ctx, dc.Client(), tx); err != nil {
		t.Fatal(err)
	}
	root := crypto.Keccak256Hash([]byte("kept across restarts"))
	tx, err = registry.Anchor(opts, root, 7, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := bind.WaitMined(ctx, dc.Client(), tx)
	if err != nil || r.Status != 1 {
		t.Fatalf("anchor: %+v %v", r, err)
	}
	head, err := dc.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := dc.Close(); err != nil {
		t.Fatal(err)
	}

	dc, err = proofs.OpenDevChain(dir, me)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer dc.Close()
	if got, err := dc.Client().BlockNumber(ctx); err != nil || got < head {
		t.Fatalf("head after restart %d, %v; was %d", got, err, head)
	}
	registry, err = contracts.NewAnchorRegistry(addr, dc.Client())
	if err != nil {
		t.Fatal(err)
	}
	a, err := registry.AnchorOf(&bind.CallOpts{Context: ctx}, root)
	if err != nil || a.ItemCount != 7 || a.BlockNumber != r.BlockNumber.Uint64() {
		t.Fatalf("AnchorOf after restart = %+v, %v", a, err)
	}
	// And it keeps mining.
	tx, err = registry.Anchor(opts, crypto.Keccak256Hash([]byte("after")), 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := bind.WaitMined(ctx, dc.Client(), tx); err != nil || r.Status != 1 {
		t.Fatalf("anchor after restart: %+v %v", r, err)
	}
}
