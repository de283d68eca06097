package contracts_test

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/openledger/openledger/internal/gethtest"
	"github.com/openledger/openledger/proofs/contracts"
)

// TestGethDev deploys the anchor registry on a real `geth --dev` process
// and anchors a batch root, as a node will on any EVM endpoint.
func TestGethDev(t *testing.T) {
	dev := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	key := gethtest.Key(t, "deployer")
	me := crypto.PubkeyToAddress(key.PublicKey)
	dev.Fund(t, me, 10)

	opts, err := bind.NewKeyedTransactorWithChainID(key, dev.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = ctx
	addr, tx, registry, err := contracts.DeployAnchorRegistry(opts, dev.Client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitDeployed(ctx, dev.Client, tx); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	root := crypto.Keccak256Hash([]byte("a batch on geth"))
	tx, err = registry.Anchor(opts, root, 1000, "openledger:test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := bind.WaitMined(ctx, dev.Client, tx)
	if err != nil || r.Status != 1 {
		t.Fatalf("anchor: %+v %v", r, err)
	}
	a, err := registry.AnchorOf(&bind.CallOpts{Context: ctx}, root)
	if err != nil {
		t.Fatal(err)
	}
	if a.ItemCount != 1000 || a.Submitter != me || a.BlockNumber != r.BlockNumber.Uint64() {
		t.Fatalf("AnchorOf = %+v, want 1000 items by %s in block %d", a, me, r.BlockNumber)
	}
	t.Logf("geth --dev (chain %s): registry %s, anchor in block %d, %d gas", dev.ChainID, addr, r.BlockNumber, r.GasUsed)
}
