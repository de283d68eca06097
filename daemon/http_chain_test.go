package daemon

import (
	"context"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/proofs"
)

// TestChainRPCEndpoint: the embedded dev chain is reachable by outside
// tools at chain_rpcUrl (the API's /chain/rpc): ethclient reads it and
// checks an anchor proof against it; sending a transaction needs an admin
// token; geth's node administration is not served; foreign pages are
// refused. A node without the dev chain answers 404.
func TestChainRPCEndpoint(t *testing.T) {
	n, repo := testNode(t, func(c *Config) { c.Chain.RPC = "" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var url string
	if err := rpcHTTP(t, n, "", "chain_rpcUrl", &url); err != nil || url != "http://"+n.HTTPAddr()+ChainRPCPath {
		t.Fatalf("chain_rpcUrl = %q, %v", url, err)
	}
	ec, err := ethclient.DialContext(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	id, err := ec.ChainID(ctx)
	if err != nil || id.Uint64() != DevChainID {
		t.Fatalf("chain ID over %s: %v, %v", url, id, err)
	}
	registry := common.HexToAddress(repo.Config.Chain.AnchorRegistry)
	if code, err := ec.CodeAt(ctx, registry, nil); err != nil || len(code) == 0 {
		t.Fatalf("registry code at %s: %d bytes, %v", registry, len(code), err)
	}

	// An anchor proof checks against the endpoint, as `proofs verify
	// --file --chain-rpc` does.
	c := n.InProc()
	defer c.Close()
	var dv DatanetView
	if err := c.Call(&dv, "datanet_create", datanet.DatanetSpec{Name: "on chain"}); err != nil {
		t.Fatal(err)
	}
	if err := c.CallContext(ctx, new(AnchorStatusView), "anchor_flush"); err != nil {
		t.Fatal(err)
	}
	var proof proofs.AnchorProof
	if err := c.CallContext(ctx, &proof, "proofs_show", dv.ID); err != nil {
		t.Fatal(err)
	}
	leaf, err := datanet.ProofLeaf(&proof)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.Check(ctx, ec, leaf); err != nil {
		t.Fatalf("proof checked over %s: %v", url, err)
	}

	// Sending needs an admin token.
	key, err := repo.LoadAccountKey("")
	if err != nil {
		t.Fatal(err)
	}
	from := common.HexToAddress(repo.Config.Identity.Account)
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	price, err := ec.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(id),
		&types.LegacyTx{Nonce: nonce, GasPrice: price, Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendTransaction(ctx, tx); err == nil || !strings.Contains(err.Error(), "admin token") {
		t.Fatalf("eth_sendRawTransaction without a token: %v", err)
	}
	admin, err := n.auth.CreateToken(PermAdmin)
	if err != nil {
		t.Fatal(err)
	}
	arc, err := rpc.DialOptions(ctx, url, rpc.WithHeader("Authorization", "Bearer "+admin))
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	aec := ethclient.NewClient(arc)
	if err := aec.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("eth_sendRawTransaction with an admin token: %v", err)
	}
	if r, err := bind.WaitMined(ctx, aec, tx); err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("the transaction: %+v, %v", r, err)
	}
	var info any
	if err := arc.CallContext(ctx, &info, "admin_nodeInfo"); err == nil || !strings.Contains(err.Error(), "not served") {
		t.Fatalf("admin_nodeInfo with an admin token: %v", err)
	}
	batch := `[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},2,{"jsonrpc":"2.0","id":3,"method":"eth_sendRawTransaction","params":["0x00"]}]`
	if resp, body := httpDo(t, "POST", url, strings.NewReader(batch), "Content-Type", "application/json"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a batch that does not parse: %s %s", resp.Status, body)
	}

	// Foreign pages are refused, browser-extension wallets are not.
	call := `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`
	for origin, want := range map[string]int{
		"http://evil.example":          http.StatusForbidden,
		"null":                         http.StatusForbidden,
		"chrome-extension://abcdefghi": http.StatusOK,
	} {
		if resp, body := httpDo(t, "POST", url, strings.NewReader(call), "Content-Type", "application/json", "Origin", origin); resp.StatusCode != want {
			t.Errorf("Origin %s: %s %s, want %d", origin, resp.Status, body, want)
		}
	}

	// No dev chain, no endpoint.
	none, _ := testNode(t, nil)
	if resp, _ := httpDo(t, "POST", "http://"+none.HTTPAddr()+ChainRPCPath, strings.NewReader(call), "Content-Type", "application/json"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/chain/rpc without a dev chain: %s", resp.Status)
	}
	if err := rpcHTTP(t, none, "", "chain_rpcUrl", &url); err == nil {
		t.Errorf("chain_rpcUrl without a chain: %q", url)
	}
}
