package daemon

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/datanet"
)

// TestPermissionTable enumerates every method the JSON-RPC server exposes,
// by reflection over the registered services as go-ethereum's rpc package
// finds them, and fails for one without an entry in methodPerms, for an
// entry no method has, and for a service that does not expose exactly its
// namespace's methods.
func TestPermissionTable(t *testing.T) {
	exposed := map[string]bool{}
	for _, a := range (&Node{}).apis() {
		svc, err := service(a.impl, allowAll)
		if err != nil {
			t.Fatal(err)
		}
		var names, want []string
		for _, m := range exposedMethods(t, a.ns, svc) {
			names = append(names, m.rpcName)
			exposed[m.rpcName] = true
			if _, ok := methodPerms[m.rpcName]; !ok {
				t.Errorf("%s has no entry in methodPerms: every caller is refused", m.rpcName)
			}
		}
		for _, m := range exposedMethods(t, a.ns, a.impl) {
			want = append(want, m.rpcName)
		}
		if !slices.Equal(names, want) {
			t.Errorf("the %s service exposes %v, its implementation %v: run go generate ./daemon", a.ns, names, want)
		}
	}
	for name := range methodPerms {
		if !exposed[name] {
			t.Errorf("methodPerms lists %s, which the server does not expose", name)
		}
	}
	// A few the security model depends on.
	for name, want := range map[string]Perm{
		"auth_createToken":      PermAdmin,
		"repo_gc":               PermAdmin,
		"chain_deploy":          PermAdmin,
		"datanet_create":        PermSign,
		"content_add":           PermSign,
		"content_addProgress":   PermSign,
		"rewards_claim":         PermSign,
		"node_connect":          PermWrite,
		"curation_submitVote":   PermWrite,
		"datanet_list":          PermRead,
		"node_id":               PermRead,
		"content_fetchProgress": PermRead,
		"proofs_verify":         PermRead,
	} {
		if methodPerms[name] != want {
			t.Errorf("%s needs %s, want %s", name, methodPerms[name], want)
		}
	}
}

// TestPermissionTableDocumented checks that docs/api.md gives every method
// the permission the table gives it.
func TestPermissionTableDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (`[^|]+`) \\| (read|write|sign|admin) \\|")
	name := regexp.MustCompile("`([a-z]+)_([a-zA-Z]+)(?:\\(\"([a-zA-Z]+)\"[^`]*)?`")
	documented := map[string]bool{}
	for _, r := range row.FindAllStringSubmatch(string(doc), -1) {
		need, _ := ParsePerm(r[2])
		for _, n := range name.FindAllStringSubmatch(r[1], -1) {
			method := n[1] + "_" + n[2]
			if n[2] == "subscribe" {
				method = n[1] + "_" + n[3]
			}
			documented[method] = true
			if have, ok := methodPerms[method]; !ok || have != need {
				t.Errorf("docs/api.md: %s needs %s, the table says %s", method, need, have)
			}
		}
	}
	for method := range methodPerms {
		if !documented[method] {
			t.Errorf("docs/api.md does not list %s", method)
		}
	}
}

func TestGuardDefaultDeny(t *testing.T) {
	ctx := context.Background()
	if _, err := guard(allowAll).allow(ctx, "node_nope"); !errors.Is(err, ErrPermission) {
		t.Errorf("a method missing from the table, on the trusted server: %v", err)
	}
	if have, err := guard(allowAll).allow(ctx, "auth_createToken"); err != nil || have != PermAdmin {
		t.Errorf("auth_createToken on the trusted server: %v, %v", have, err)
	}
	// A context the HTTP middleware did not see holds no permission.
	if _, err := guard(tokenPerm).allow(ctx, "node_id"); !errors.Is(err, ErrPermission) {
		t.Errorf("node_id without a level: %v", err)
	}
	read := withPerm(ctx, PermRead)
	if have, err := guard(tokenPerm).allow(read, "node_id"); err != nil || have != PermRead {
		t.Errorf("node_id with read: %v, %v", have, err)
	}
	if _, err := guard(tokenPerm).allow(read, "datanet_create"); !errors.Is(err, ErrPermission) {
		t.Errorf("datanet_create with read: %v", err)
	}
}

// TestPermissionsBatchAndSubscribe checks that every call of an HTTP batch
// is checked on its own, and that a subscription on the token-checked
// server goes through the table too.
func TestPermissionsBatchAndSubscribe(t *testing.T) {
	n, _ := testNode(t, nil)
	read, err := n.auth.CreateToken(PermRead)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.DialOptions(context.Background(), "http://"+n.HTTPAddr()+RPCPath, rpc.WithHeader("Authorization", "Bearer "+read))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	batch := []rpc.BatchElem{
		{Method: "datanet_list", Result: new([]DatanetView)},
		{Method: "datanet_create", Args: []any{datanet.DatanetSpec{Name: "batched"}}, Result: new(DatanetView)},
		{Method: "repo_gc", Result: new(GCResult)},
		{Method: "node_id", Result: new(IDResult)},
	}
	if err := c.BatchCall(batch); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", "permission_denied", "permission_denied", ""} {
		if got := rpcName(batch[i].Error); got != want || (want == "") != (batch[i].Error == nil) {
			t.Errorf("%s in a batch with a read token: %v, want %q", batch[i].Method, batch[i].Error, want)
		}
	}
	ic := n.InProc()
	defer ic.Close()
	if list, err := NewAPI(ic).DatanetList(context.Background(), nil); err != nil || len(list) != 0 {
		t.Fatalf("the denied datanet_create ran: %v %v", list, err)
	}

	// The HTTP server's services over WebSocket: a connection's calls do
	// not carry the request's context, so they hold no permission, and a
	// subscription is refused like a call.
	ws := httptest.NewServer(n.httpServer.WebsocketHandler([]string{"*"}))
	defer ws.Close()
	wc, err := rpc.Dial("ws" + strings.TrimPrefix(ws.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	events := make(chan FetchEvent, 1)
	if _, err := NewAPI(wc).ContentFetchProgress(context.Background(), events, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"); rpcName(err) != "permission_denied" {
		t.Fatalf("content_subscribe(fetchProgress) without a level: %v", err)
	}
	if _, err := NewAPI(wc).NodeID(context.Background()); rpcName(err) != "permission_denied" {
		t.Fatalf("node_id without a level: %v", err)
	}
}
