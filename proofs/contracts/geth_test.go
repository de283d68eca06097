package contracts_test

import (
	"context"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/openledger/openledger/proofs/contracts"
)

// gethBinary finds geth on PATH or in GOPATH/bin, where .ci/run installs it
// (go install github.com/ethereum/go-ethereum/cmd/geth@<the go.mod version>).
// Without it the test is skipped, unless OPENLEDGER_REQUIRE_GETH is set, as
// .ci/run sets it: there a missing geth is a failure.
func gethBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("geth"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "geth")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("OPENLEDGER_REQUIRE_GETH") != "" {
		t.Fatal("geth not found; .ci/run installs it with go install github.com/ethereum/go-ethereum/cmd/geth@<go.mod version>")
	}
	t.Skip("geth not found (go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10 to run this test)")
	return ""
}

// TestGethDev deploys the anchor registry on a real `geth --dev` process
// and anchors a batch root, as a node will on any EVM endpoint.
func TestGethDev(t *testing.T) {
	geth := gethBinary(t)
	dir, err := os.MkdirTemp("", "geth") // short: the IPC socket path is limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.Command(geth, "--dev", "--datadir", dir, "--nodiscover", "--maxpeers", "0",
		"--port", "0", "--authrpc.port", "0", "--verbosity", "2")
	logf, err := os.Create(filepath.Join(dir, "geth.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ipc := filepath.Join(dir, "geth.ipc")
	var client *ethclient.Client
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if client, err = ethclient.DialContext(ctx, ipc); err == nil {
			if _, err = client.ChainID(ctx); err == nil {
				break
			}
			client.Close()
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "geth.log"))
			t.Fatalf("geth --dev did not answer on %s: %v\n%s", ipc, err, log)
		}
	}
	defer client.Close()
	chainID, err := client.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Fund our own key from geth's unlocked dev account.
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("openledger geth test key")))
	if err != nil {
		t.Fatal(err)
	}
	me := crypto.PubkeyToAddress(key.PublicKey)
	var accounts []common.Address
	if err := client.Client().CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		t.Fatalf("eth_accounts = %v, %v", accounts, err)
	}
	var fundTx common.Hash
	value := new(big.Int).Mul(big.NewInt(10), big.NewInt(params.Ether))
	if err := client.Client().CallContext(ctx, &fundTx, "eth_sendTransaction", map[string]any{
		"from": accounts[0], "to": me, "value": (*hexutil.Big)(value),
	}); err != nil {
		t.Fatalf("fund: %v", err)
	}
	if _, err := waitReceipt(ctx, client, fundTx); err != nil {
		t.Fatal(err)
	}

	opts, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = ctx
	addr, tx, registry, err := contracts.DeployAnchorRegistry(opts, client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitDeployed(ctx, client, tx); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	root := crypto.Keccak256Hash([]byte("a batch on geth"))
	tx, err = registry.Anchor(opts, root, 1000, "openledger:test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := bind.WaitMined(ctx, client, tx)
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
	t.Logf("geth --dev (chain %s): registry %s, anchor in block %d, %d gas", chainID, addr, r.BlockNumber, r.GasUsed)
}

func waitReceipt(ctx context.Context, c *ethclient.Client, h common.Hash) (uint64, error) {
	for {
		r, err := c.TransactionReceipt(ctx, h)
		if err == nil {
			return r.Status, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
