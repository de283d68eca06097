package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/datanet"
)

// httpAPI is the typed API over HTTP with a bearer token.
func httpAPI(t *testing.T, n *Node, token string) *API {
	t.Helper()
	c, err := rpc.DialOptions(context.Background(), "http://"+n.HTTPAddr()+RPCPath, rpc.WithHeader("Authorization", "Bearer "+token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return NewAPI(c)
}

// addOverHTTP calls content_add over HTTP with a token.
func addOverHTTP(t *testing.T, n *Node, token string, args AddArgs) (*AddResult, error) {
	t.Helper()
	return httpAPI(t, n, token).ContentAdd(context.Background(), args)
}

// storeCounts returns what the store holds, to check a refused add kept
// nothing.
func storeCounts(t *testing.T, n *Node) (objects, shards int) {
	t.Helper()
	st, err := n.store.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Objects, st.Shards
}

// TestAddRefusesTheRepo is the attack of issue 12: a sign token had the
// daemon add <repo>/keystore (the API secret, the identity key, the
// operator keystore), sign it, gossip it and serve it; a token signed with
// the stolen secret was admin. No caller may have the daemon read inside
// its repo, however the path reaches it (a link to it, a link inside an
// added directory, a directory that holds the repo, a hard link to a key),
// and a caller below admin reads only under api.add_roots. A refused add
// stores nothing, so nothing is gossiped or served.
func TestAddRefusesTheRepo(t *testing.T) {
	allowed := t.TempDir()
	outside := t.TempDir()
	n, repo := testNode(t, func(c *Config) { c.API.AddRoots = []string{allowed} })
	ctx := context.Background()
	ic := n.InProc()
	defer ic.Close()
	admin := NewAPI(ic)
	dv, err := admin.DatanetCreate(ctx, datanet.DatanetSpec{Name: "attack"})
	if err != nil {
		t.Fatal(err)
	}
	sign, err := n.auth.CreateToken(PermSign)
	if err != nil {
		t.Fatal(err)
	}
	adminTok, err := n.auth.CreateToken(PermAdmin)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	keystore := repo.Path(KeystoreDir)
	// Inside the allowed root: links into the repo, and a file outside it.
	must(os.Symlink(keystore, filepath.Join(allowed, "keys")))
	must(os.Symlink(repo.Dir, filepath.Join(allowed, "repo")))
	must(os.MkdirAll(filepath.Join(allowed, "dir"), 0o755))
	must(os.WriteFile(filepath.Join(allowed, "dir", "ok.txt"), []byte("fine"), 0o644))
	must(os.Symlink(filepath.Join(keystore, APISecret), filepath.Join(allowed, "dir", "secret")))
	must(os.MkdirAll(filepath.Join(allowed, "hard"), 0o755))
	must(os.Link(filepath.Join(keystore, APISecret), filepath.Join(allowed, "hard", "secret")))
	must(os.WriteFile(filepath.Join(outside, "data.txt"), []byte("outside the roots"), 0o644))
	must(os.Symlink(outside, filepath.Join(allowed, "out")))

	objects, shards := storeCounts(t, n)
	for _, tc := range []struct {
		name   string
		paths  []string
		tokens []string // "" is the in-process (CLI) client
		want   string   // error name
	}{
		{"the keystore", []string{keystore}, []string{sign, adminTok, ""}, "path_not_allowed"},
		{"the api secret", []string{filepath.Join(keystore, APISecret)}, []string{sign, adminTok, ""}, "path_not_allowed"},
		{"the repo", []string{repo.Dir}, []string{sign, adminTok, ""}, "path_not_allowed"},
		{"a directory holding the repo", []string{filepath.Dir(repo.Dir)}, []string{adminTok, ""}, "path_not_allowed"},
		{"a link to the keystore", []string{filepath.Join(allowed, "keys")}, []string{sign, adminTok, ""}, "path_not_allowed"},
		{"a path through a link to the repo", []string{filepath.Join(allowed, "repo", KeystoreDir)}, []string{sign, adminTok, ""}, "path_not_allowed"},
		{"a link in an added directory", []string{filepath.Join(allowed, "dir")}, []string{sign, adminTok, ""}, "bad_request"},
		{"a hard link to the api secret", []string{filepath.Join(allowed, "hard")}, []string{sign, adminTok, ""}, "path_not_allowed"},
		{"outside the roots", []string{filepath.Join(outside, "data.txt")}, []string{sign}, "path_not_allowed"},
		{"outside the roots through a link", []string{filepath.Join(allowed, "out", "data.txt")}, []string{sign}, "path_not_allowed"},
		{"a relative path", []string{"keystore"}, []string{sign, ""}, "bad_request"},
	} {
		for _, tok := range tc.tokens {
			args := AddArgs{Paths: tc.paths, Datanet: dv.ID}
			var err error
			if tok == "" {
				_, err = admin.ContentAdd(ctx, args)
			} else {
				_, err = addOverHTTP(t, n, tok, args)
			}
			if rpcName(err) != tc.want {
				t.Errorf("%s (token %.12s): %v (%s), want %s", tc.name, tok, err, rpcName(err), tc.want)
			}
		}
	}
	if o, s := storeCounts(t, n); o != objects || s != shards {
		t.Fatalf("refused adds stored something: objects %d -> %d, shards %d -> %d", objects, o, shards, s)
	}

	// What the roots allow, a sign token adds; an admin (and the CLI)
	// adds from anywhere outside the repo.
	res, err := addOverHTTP(t, n, sign, AddArgs{Paths: []string{filepath.Join(allowed, "dir", "ok.txt")}, Datanet: dv.ID})
	if err != nil || len(res.Files) != 1 || res.Files[0].Path != "ok.txt" {
		t.Fatalf("a sign token adding under api.add_roots: %+v %v", res, err)
	}
	if _, err := addOverHTTP(t, n, adminTok, AddArgs{Paths: []string{filepath.Join(outside, "data.txt")}, Datanet: dv.ID}); err != nil {
		t.Fatalf("an admin token adding outside the roots: %v", err)
	}

	// model_register's artifacts are judged the same way.
	_, err = httpAPI(t, n, sign).ModelRegister(ctx, RegisterModelArgs{Name: "m", Snapshots: []string{dv.ID}, Artifacts: []string{keystore}})
	if rpcName(err) != "path_not_allowed" {
		t.Fatalf("model_register with the keystore as an artifact: %v (%s)", err, rpcName(err))
	}
	var ce *codedError
	if err := apiError(errors.Join(errors.New("x"), ErrPathNotAllowed)); !errors.As(err, &ce) || ce.code != CodePermission {
		t.Fatalf("ErrPathNotAllowed maps to %v", err)
	}
}

// TestAddRootsEmpty checks the default: with api.add_roots empty a sign
// token cannot have the daemon read any local file, and the error says
// what to do.
func TestAddRootsEmpty(t *testing.T) {
	n, _ := testNode(t, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	ic := n.InProc()
	defer ic.Close()
	dv, err := NewAPI(ic).DatanetCreate(context.Background(), datanet.DatanetSpec{Name: "roots"})
	if err != nil {
		t.Fatal(err)
	}
	sign, _ := n.auth.CreateToken(PermSign)
	_, err = addOverHTTP(t, n, sign, AddArgs{Paths: []string{filepath.Join(dir, "a.txt")}, Datanet: dv.ID})
	if rpcName(err) != "path_not_allowed" || !strings.Contains(err.Error(), "api.add_roots") {
		t.Fatalf("a sign token without add_roots: %v (%s)", err, rpcName(err))
	}
	if _, err := NewAPI(ic).ContentAdd(context.Background(), AddArgs{Paths: []string{filepath.Join(dir, "a.txt")}, Datanet: dv.ID}); err != nil {
		t.Fatalf("the CLI's add: %v", err)
	}
}
