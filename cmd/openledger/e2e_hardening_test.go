package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rpcStatus posts one JSON-RPC call to the daemon's HTTP API with a bearer
// token and returns the HTTP status.
func rpcStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/rpc/v0", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"node_version"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestE2ERepoPathsAndRotate drives the CLI as an operator would: `add`
// refuses the repo's keystore (and a link to it), offline and through the
// daemon; `auth rotate` revokes a token of the running daemon at once and a
// new token works.
func TestE2ERepoPathsAndRotate(t *testing.T) {
	c := newCLI(t)
	var dn struct {
		ID string `json:"id"`
	}
	c.json(&dn, "datanet", "create", "keys")
	keystore := filepath.Join(c.repo, "keystore")
	link := filepath.Join(t.TempDir(), "innocent")
	if err := os.Symlink(c.repo, link); err != nil {
		t.Fatal(err)
	}
	c.fail("inside the node's repo", "add", keystore, "--datanet", dn.ID)
	c.fail("inside the node's repo", "add", filepath.Join(link, "keystore"), "--datanet", dn.ID)

	base, _ := c.startDaemon()
	c.fail("inside the node's repo", "add", keystore, "--datanet", dn.ID)
	c.fail("inside the node's repo", "add", filepath.Join(link, "keystore", "api.secret"), "--datanet", dn.ID)
	if out := c.ok("pin", "ls"); strings.TrimSpace(out) != dn.ID {
		t.Fatalf("pins after refused adds: %q, want only the Datanet %s", out, dn.ID)
	}

	old := strings.TrimSpace(c.ok("auth", "create-token", "--perm", "read"))
	if code := rpcStatus(t, base, old); code != http.StatusOK {
		t.Fatalf("token before the rotation: %d", code)
	}
	if out := c.ok("auth", "rotate"); !strings.Contains(out, "revoked") {
		t.Fatalf("auth rotate said %q", out)
	}
	if code := rpcStatus(t, base, old); code != http.StatusUnauthorized {
		t.Fatalf("token after the rotation: %d, want 401", code)
	}
	fresh := strings.TrimSpace(c.ok("auth", "create-token", "--perm", "read"))
	if code := rpcStatus(t, base, fresh); code != http.StatusOK {
		t.Fatalf("token made after the rotation: %d", code)
	}
}
