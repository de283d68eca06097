package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// chainReadMethods are the methods of the embedded dev chain that anyone
// the API admits may call at ChainRPCPath: what a wallet, ethers or
// `proofs verify --chain-rpc` read. They change no state of the chain
// (the filter methods keep a filter for 5 minutes, as every geth does).
var chainReadMethods = map[string]bool{
	"eth_chainId": true, "eth_blockNumber": true, "eth_syncing": true,
	"eth_gasPrice": true, "eth_maxPriorityFeePerGas": true, "eth_feeHistory": true, "eth_blobBaseFee": true,
	"eth_getBalance": true, "eth_getCode": true, "eth_getStorageAt": true, "eth_getProof": true,
	"eth_getTransactionCount": true, "eth_call": true, "eth_estimateGas": true, "eth_createAccessList": true,
	"eth_getBlockByNumber": true, "eth_getBlockByHash": true, "eth_getHeaderByNumber": true, "eth_getHeaderByHash": true,
	"eth_getBlockReceipts": true, "eth_getBlockTransactionCountByNumber": true, "eth_getBlockTransactionCountByHash": true,
	"eth_getTransactionByHash": true, "eth_getTransactionByBlockNumberAndIndex": true,
	"eth_getTransactionByBlockHashAndIndex": true, "eth_getRawTransactionByHash": true, "eth_getTransactionReceipt": true,
	"eth_getUncleCountByBlockNumber": true, "eth_getUncleCountByBlockHash": true,
	"eth_getLogs": true, "eth_newFilter": true, "eth_newBlockFilter": true, "eth_getFilterChanges": true,
	"eth_getFilterLogs": true, "eth_uninstallFilter": true, "eth_accounts": true,
	"net_version": true, "net_listening": true, "net_peerCount": true,
	"web3_clientVersion": true, "web3_sha3": true,
}

// chainAdminNamespaces are the namespaces an admin token may call at
// ChainRPCPath: the whole Ethereum API (eth_sendRawTransaction...), not
// geth's node administration (admin_, debug_, miner_), which can write
// files or stop the chain.
var chainAdminNamespaces = []string{"eth_", "net_", "web3_", "txpool_"}

// maxChainBatch bounds the calls of one batch at ChainRPCPath.
const maxChainBatch = 100

// walletOrigins are the Origin schemes of browser extensions (wallets): a
// page cannot send them, and an extension allowed to reach the host reads
// the API anyway, so they may call ChainRPCPath.
var walletOrigins = []string{"chrome-extension://", "moz-extension://", "safari-web-extension://"}

// serveChainRPC answers JSON-RPC at ChainRPCPath with the embedded dev
// chain, so outside tools (ethers, wallets, `proofs verify --chain-rpc`,
// cast) can use it: chainReadMethods for anyone the API admits, the
// chainAdminNamespaces with an admin token. Foreign pages are refused, as
// at the node's own JSON-RPC, except browser-extension wallets.
func (n *Node) serveChainRPC(w http.ResponseWriter, r *http.Request) {
	ch := n.chain.Load()
	if ch == nil || ch.dev == nil {
		http.Error(w, fmt.Sprintf("no embedded dev chain runs here (chain.rpc is %q): use that endpoint", n.repo.Config.Chain.RPC), http.StatusNotFound)
		return
	}
	if foreignPage(r) && !walletOrigin(r.Header.Get("Origin")) {
		http.Error(w, "requests from other web pages are refused", http.StatusForbidden)
		return
	}
	srv, err := ch.dev.RPCHandler()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost {
		srv.ServeHTTP(w, r) // geth's answer: 200 for a health check, 405 else
		return
	}
	body, err := io.ReadAll(r.Body) // bounded by readBodyWithin
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := chainCallsAllowed(r.Context(), body); err != nil {
		ce := coded(err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(httpStatus(err))
		json.NewEncoder(w).Encode(map[string]any{
			"jsonrpc": "2.0", "id": nil,
			"error": map[string]any{"code": ce.code, "message": err.Error(), "data": ce.name},
		})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	srv.ServeHTTP(w, r)
}

// chainCallsAllowed checks every method a JSON-RPC request or batch calls
// against the caller's permission. A body that does not parse as calls is
// refused rather than left to geth, so that no call passes unchecked.
func chainCallsAllowed(ctx context.Context, body []byte) error {
	var raws []json.RawMessage
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return fmt.Errorf("%w: not a JSON-RPC batch: %w", errBadRequest, err)
		}
		if len(raws) > maxChainBatch {
			return fmt.Errorf("%w: a batch of %d calls, at most %d", ErrPermission, len(raws), maxChainBatch)
		}
	} else {
		raws = []json.RawMessage{body}
	}
	admin := permFrom(ctx) >= PermAdmin
	for _, raw := range raws {
		var c struct {
			Method string `json:"method"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("%w: not a JSON-RPC call: %w", errBadRequest, err)
		}
		switch {
		case chainReadMethods[c.Method]:
		case !admin:
			return fmt.Errorf("%w: %s is not a read method of the chain: it needs an admin token", ErrPermission, c.Method)
		case !hasAnyPrefix(c.Method, chainAdminNamespaces):
			return fmt.Errorf("%w: %s is not served at %s (only the %s namespaces)", ErrPermission, c.Method, ChainRPCPath, strings.Join(chainAdminNamespaces, ", "))
		}
	}
	return nil
}

func walletOrigin(o string) bool { return hasAnyPrefix(o, walletOrigins) }

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// RpcUrl returns the JSON-RPC endpoint of the chain this node anchors on,
// for outside tools: chain.rpc, or for the embedded dev chain the daemon's
// ChainRPCPath (chain_rpcUrl).
func (a *chainAPI) RpcUrl(ctx context.Context) (string, error) {
	switch rpcURL := a.n.repo.Config.Chain.RPC; {
	case rpcURL == ChainNone:
		return "", ErrNoChain
	case rpcURL != "":
		return rpcURL, nil
	}
	if ch := a.n.chain.Load(); ch == nil || ch.dev == nil || a.n.httpAddr == "" {
		return "", fmt.Errorf("%w: the embedded dev chain is served by the daemon (start it)", ErrNoChain)
	}
	return "http://" + a.n.httpAddr + ChainRPCPath, nil
}
