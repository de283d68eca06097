package daemon

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/openledger/openledger/internal/atomicfile"
)

// httpCall posts one JSON-RPC call with a bearer token and returns the
// HTTP status and body.
func httpCall(t *testing.T, n *Node, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+n.HTTPAddr()+RPCPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// TestAuthRotate checks that auth_rotate revokes every token of the running
// daemon at once, that a token made after it works, and that a secret
// replaced by hand is picked up the same way.
func TestAuthRotate(t *testing.T) {
	n, repo := testNode(t, nil)
	rc := n.InProc()
	defer rc.Close()
	api := NewAPI(rc)
	ctx := context.Background()
	const call = `{"jsonrpc":"2.0","id":1,"method":"repo_gc"}`
	old, err := api.AuthCreateToken(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpCall(t, n, old, call); code != 200 || strings.Contains(body, "error") {
		t.Fatalf("admin token before the rotation: %d %s", code, body)
	}
	if err := api.AuthRotate(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := httpCall(t, n, old, call); code != http.StatusUnauthorized {
		t.Fatalf("admin token after the rotation: %d %s, want 401", code, body)
	}
	fresh, err := api.AuthCreateToken(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpCall(t, n, fresh, call); code != 200 || strings.Contains(body, "error") {
		t.Fatalf("token made after the rotation: %d %s", code, body)
	}

	// An operator who replaces the file by hand revokes the tokens too.
	if err := atomicfile.WriteFile(repo.Path(KeystoreDir, APISecret), bytes.Repeat([]byte{9}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := httpCall(t, n, fresh, call); code != http.StatusUnauthorized {
		t.Fatalf("token after the secret was replaced by hand: %d %s, want 401", code, body)
	}
	// A secret removed or cut short fails closed: no token is valid.
	if err := os.WriteFile(repo.Path(KeystoreDir, APISecret), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _ := httpCall(t, n, fresh, call); code != http.StatusUnauthorized {
		t.Fatalf("token with a short secret: %d, want 401", code)
	}
	if _, err := api.AuthCreateToken(ctx, "read"); err == nil {
		t.Fatal("a token was made from a short secret")
	}
	if err := api.AuthRotate(ctx); err != nil {
		t.Fatal(err)
	}
	if tok, err := api.AuthCreateToken(ctx, "read"); err != nil {
		t.Fatal(err)
	} else if code, body := httpCall(t, n, tok, `{"jsonrpc":"2.0","id":1,"method":"node_version"}`); code != 200 {
		t.Fatalf("after rotating a broken secret: %d %s", code, body)
	}
}
