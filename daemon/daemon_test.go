package daemon

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
	"go.uber.org/goleak"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Badger's and glog's process-wide workers, started once per process.
		goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
		goleak.IgnoreTopFunction("github.com/dgraph-io/ristretto/v2.(*defaultPolicy[...]).processItems"),
		goleak.IgnoreAnyFunction("github.com/ethereum/go-ethereum/metrics.(*meterTicker).loop"),
		// The embedded dev chain's: go-ethereum's process-wide sender
		// cache, and leveldb's pool drainer, which exits on a timer after
		// its database closes.
		goleak.IgnoreTopFunction("github.com/ethereum/go-ethereum/core.(*txSenderCacher).cache"),
		goleak.IgnoreTopFunction("github.com/syndtr/goleveldb/leveldb.(*DB).mpoolDrain"),
	)
}

// testNode makes a repo in a temp dir and a started node on it.
func testNode(t *testing.T, mutate func(*Config)) (*Node, *Repo) {
	t.Helper()
	return testNodeOpts(t, mutate, Options{Version: "test"})
}

func testNodeOpts(t testing.TB, mutate func(*Config), opts Options) (*Node, *Repo) {
	t.Helper()
	n, repo, stop := startTestNode(t, mutate, opts)
	t.Cleanup(stop)
	return n, repo
}

// startTestNode starts a node on a new repo; stop closes both.
func startTestNode(t testing.TB, mutate func(*Config), opts Options) (*Node, *Repo, func()) {
	t.Helper()
	return startNodeAt(t, initTestRepo(t, mutate), opts)
}

// initTestRepo makes a repo of the test profile, changed by mutate, and
// returns its directory.
func initTestRepo(t testing.TB, mutate func(*Config)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	cfg, err := ProfileConfig("test")
	if err != nil {
		t.Fatal(err)
	}
	benchMapped(&cfg)
	if mutate != nil {
		mutate(&cfg)
	}
	if _, err := InitRepo(dir, InitOptions{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startNodeAt starts a node on the repo in dir; stop closes both.
func startNodeAt(t testing.TB, dir string, opts Options) (*Node, *Repo, func()) {
	t.Helper()
	repo, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNode(repo, opts)
	if err != nil {
		repo.Close()
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		n.Close()
		repo.Close()
		t.Fatal(err)
	}
	return n, repo, func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
		repo.Close()
	}
}

func TestInitRepo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	res, err := InitRepo(dir, InitOptions{Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.PeerID, "12D3Koo") || !strings.HasPrefix(res.Account, "0x") {
		t.Fatalf("init result %+v", res)
	}
	if _, err := InitRepo(dir, InitOptions{}); !errors.Is(err, ErrRepoExists) {
		t.Fatalf("second init: %v, want ErrRepoExists", err)
	}
	repo, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if _, err := OpenRepo(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if _, err := repo.LoadAccountKey("wrong"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	key, err := repo.LoadAccountKey("secret")
	if err != nil {
		t.Fatal(err)
	}
	if got := datanet.NewKeySigner(key).Address().Hex(); got != res.Account {
		t.Fatalf("key address %s, config %s", got, res.Account)
	}
	sk, err := repo.LoadIdentity()
	if err != nil || sk == nil {
		t.Fatalf("identity: %v", err)
	}
	for _, f := range []string{ConfigFile, filepath.Join(KeystoreDir, IdentityFile), filepath.Join(KeystoreDir, APISecret)} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group/other access", f, info.Mode())
		}
	}
	if _, err := OpenRepo(t.TempDir()); !errors.Is(err, ErrNoRepo) {
		t.Fatalf("open empty dir: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"default":           {func(*Config) {}, ""},
		"quota units":       {func(c *Config) { c.Storage.Quota = "2 TiB" }, ""},
		"bad quota":         {func(c *Config) { c.Storage.Quota = "lots" }, "storage.quota"},
		"mapped memory off": {func(c *Config) { c.Storage.MappedMemory = "0" }, ""},
		"bad mapped memory": {func(c *Config) { c.Storage.MappedMemory = "-1 MiB" }, "storage.mapped_memory"},
		"no memory limit":   {func(c *Config) { c.Runtime.MemoryLimit = "0" }, ""},
		"bad memory limit":  {func(c *Config) { c.Runtime.MemoryLimit = "half" }, "runtime.memory_limit"},
		"small chunk":       {func(c *Config) { c.Storage.ChunkSize = 10 }, "chunk_size"},
		"big chunk":         {func(c *Config) { c.Storage.ChunkSize = 8 << 20 }, "chunk_size"},
		"public api":        {func(c *Config) { c.API.Address = "0.0.0.0:5180" }, "loopback"},
		"bad api":           {func(c *Config) { c.API.Address = "nonsense" }, "api.address"},
		"bad level":         {func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		"zero chain":        {func(c *Config) { c.Chain.ID = 0 }, "chain.id"},
		"localhost is ok":   {func(c *Config) { c.API.Address = "localhost:1" }, ""},
		"ipv6 loopback ok":  {func(c *Config) { c.API.Address = "[::1]:1" }, ""},
		"add roots":         {func(c *Config) { c.API.AddRoots = []string{"/srv/data"} }, ""},
		"relative add root": {func(c *Config) { c.API.AddRoots = []string{"data"} }, "api.add_roots"},
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadConfigRejectsUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(p, []byte("[storage]\nqouta = \"1 GB\"\n"), 0o600)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "qouta") {
		t.Fatalf("LoadConfig: %v, want an error naming the unknown key", err)
	}
	c := DefaultConfig()
	c.Storage.Quota = "10 GB"
	data, _ := c.MarshalTOML()
	os.WriteFile(p, data, 0o600)
	got, err := LoadConfig(p)
	if err != nil || got.Storage.Quota != "10 GB" {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}

func TestTokens(t *testing.T) {
	a := &Authority{secret: bytes.Repeat([]byte{7}, 32)}
	for _, p := range []Perm{PermRead, PermWrite, PermSign, PermAdmin} {
		tok, err := a.CreateToken(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Check(tok)
		if err != nil || got != p {
			t.Fatalf("Check(%s token) = %v, %v", p, got, err)
		}
	}
	other := &Authority{secret: bytes.Repeat([]byte{8}, 32)}
	tok, _ := other.CreateToken(PermAdmin)
	if _, err := a.Check(tok); !errors.Is(err, ErrPermission) {
		t.Fatalf("token of another secret: %v", err)
	}
	if _, err := a.Check("garbage"); !errors.Is(err, ErrPermission) {
		t.Fatalf("garbage token: %v", err)
	}
	if !(PermRead < PermWrite && PermWrite < PermSign && PermSign < PermAdmin) {
		t.Fatal("permission order")
	}
}

// TestTokensOfV4 checks that tokens made before the move to golang-jwt v5,
// by the v4 code with this secret, still verify with the same permission.
func TestTokensOfV4(t *testing.T) {
	a := &Authority{secret: bytes.Repeat([]byte("openledger-v4-token-fixture!"), 2)}
	for p, tok := range map[Perm]string{
		PermRead:  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJwZXJtIjoicmVhZCJ9.4v4d6ftdELJLvWpLBSmlMcC1s13eGYnM99Ez7hvkIy4",
		PermSign:  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJwZXJtIjoic2lnbiJ9.9zOehxVKMRIA111AG1RuBTB0DZsjWd9ETDW8Z8f3vOM",
		PermAdmin: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJwZXJtIjoiYWRtaW4ifQ.kp7nDTpxNbr-ueG2xObCRZw8ObODtQLSsqDQvrquu8I",
	} {
		got, err := a.Check(tok)
		if err != nil || got != p {
			t.Errorf("v4 %s token: %v, %v", p, got, err)
		}
		// The same claims give the same bytes: the format did not change.
		if again, err := a.CreateToken(p); err != nil || again != tok {
			t.Errorf("CreateToken(%s) = %s, %v; the v4 code made %s", p, again, err, tok)
		}
	}
	// A token whose header names another algorithm is refused, even with
	// the right secret (alg "none", HS512).
	for _, tok := range []string{
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJwZXJtIjoiYWRtaW4ifQ.",
		hs512(t, a.secret, `{"perm":"admin"}`),
	} {
		if _, err := a.Check(tok); !errors.Is(err, ErrPermission) {
			t.Errorf("token %s: %v, want a permission error", tok, err)
		}
	}
}

func hs512(t *testing.T, secret []byte, claims string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha512.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// rpcHTTP calls a method over HTTP with an optional bearer token.
func rpcHTTP(t *testing.T, n *Node, token, method string, result any, args ...any) error {
	t.Helper()
	var opts []rpc.ClientOption
	if token != "" {
		opts = append(opts, rpc.WithHeader("Authorization", "Bearer "+token))
	}
	c, err := rpc.DialOptions(context.Background(), "http://"+n.HTTPAddr()+RPCPath, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.Call(result, method, args...)
}

// TestPermissions calls every method the servers expose, found by
// reflection as go-ethereum's rpc package finds them, over HTTP with a
// token of each level (none is read), and checks that exactly the levels
// below the one methodPerms gives it are refused: a method added without
// an entry fails here, and so does a table the server does not apply.
// Arguments are zero values, so an allowed call fails on them, not on its
// permission. Subscriptions, which plain HTTP does not carry, are called
// through the HTTP server's service with the level in their context.
func TestPermissions(t *testing.T) {
	n, _ := testNode(t, nil)
	var calls, subs []rpcMethod
	for _, a := range n.apis() {
		for _, m := range exposedMethods(t, a.ns, a.impl) {
			if _, ok := methodPerms[m.rpcName]; !ok {
				t.Errorf("%s has no entry in methodPerms", m.rpcName)
				continue
			}
			if m.sub {
				subs = append(subs, m)
			} else {
				calls = append(calls, m)
			}
		}
	}
	zeroArgs := func(m rpcMethod) []any {
		args := make([]any, 0, m.fn.NumIn()-1)
		for i := 1; i < m.fn.NumIn(); i++ {
			args = append(args, reflect.Zero(m.fn.In(i)).Interface())
		}
		return args
	}
	denied := func(err error) bool { return rpcName(err) == "permission_denied" }
	// Admin last: it runs auth_rotate, which revokes the tokens.
	for _, level := range []Perm{0, PermRead, PermWrite, PermSign, PermAdmin} {
		var opts []rpc.ClientOption
		have := PermRead
		if level != 0 {
			tok, err := n.auth.CreateToken(level)
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, rpc.WithHeader("Authorization", "Bearer "+tok))
			have = level
		}
		c, err := rpc.DialOptions(context.Background(), "http://"+n.HTTPAddr()+RPCPath, opts...)
		if err != nil {
			t.Fatal(err)
		}
		batch := make([]rpc.BatchElem, len(calls))
		for i, m := range calls {
			batch[i] = rpc.BatchElem{Method: m.rpcName, Args: zeroArgs(m), Result: new(json.RawMessage)}
		}
		if err := c.BatchCall(batch); err != nil {
			t.Fatal(err)
		}
		c.Close()
		for i, m := range calls {
			if want := have < methodPerms[m.rpcName]; denied(batch[i].Error) != want {
				t.Errorf("%s with a %s token: %v; refused should be %v", m.rpcName, have, batch[i].Error, want)
			}
		}
	}
	svcs := map[string]reflect.Value{}
	for _, a := range n.apis() {
		svc, err := service(a.impl, tokenPerm)
		if err != nil {
			t.Fatal(err)
		}
		svcs[a.ns] = reflect.ValueOf(svc)
	}
	for _, m := range subs {
		for _, have := range []Perm{PermRead, PermWrite, PermSign, PermAdmin} {
			in := []reflect.Value{reflect.ValueOf(withPerm(context.Background(), have))}
			for _, a := range zeroArgs(m) {
				in = append(in, reflect.ValueOf(a))
			}
			out := svcs[m.ns].MethodByName(m.goName).Call(in)
			err, _ := out[len(out)-1].Interface().(error)
			refused := err != nil && errors.Is(err, ErrPermission)
			if want := have < methodPerms[m.rpcName]; refused != want {
				t.Errorf("subscription %s at %s: %v; refused should be %v", m.rpcName, have, err, want)
			}
		}
	}

	// The unix socket and in-process clients are trusted with admin.
	ipc, err := rpc.Dial(n.repo.Path(IPCFile))
	if err != nil {
		t.Fatal(err)
	}
	defer ipc.Close()
	var dv DatanetView
	if err := ipc.Call(&dv, "datanet_create", datanet.DatanetSpec{Name: "perm"}); err != nil || dv.ID == "" {
		t.Fatalf("datanet_create over ipc: %v", err)
	}
	info, err := os.Stat(n.repo.Path(IPCFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("ipc socket mode: %v %v", info.Mode(), err)
	}
}

func TestPprofNeedsAdmin(t *testing.T) {
	n, _ := testNode(t, nil)
	get := func(token string) int {
		req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+PprofPath+"goroutine?debug=1", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusForbidden {
		t.Fatalf("pprof without token: %d", code)
	}
	admin, _ := n.auth.CreateToken(PermAdmin)
	if code := get(admin); code != http.StatusOK {
		t.Fatalf("pprof with admin token: %d", code)
	}
}

// TestMappedMemory checks that storage.mapped_memory reaches the store: with
// a bound of one byte every process is above it, so the store releases its
// mapped pages each second, and the metric counts it.
func TestMappedMemory(t *testing.T) {
	n, _ := testNode(t, func(c *Config) { c.Storage.MappedMemory = "1 B" })
	deadline := time.Now().Add(10 * time.Second)
	for n.store.MappedTrims() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n.store.MappedTrims() == 0 {
		t.Fatal("no release of mapped pages in 10 s with storage.mapped_memory = 1 B")
	}
	resp, err := http.Get("http://" + n.HTTPAddr() + MetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^openledger_storage_mapped_releases_total [1-9]`).Match(body) {
		t.Fatalf("metrics lack a non-zero openledger_storage_mapped_releases_total:\n%.3000s", body)
	}
}

// TestApplyMemoryLimit checks runtime.memory_limit: it sets the process's
// limit, "0" leaves it alone, and a GOMEMLIMIT in the environment wins.
func TestApplyMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	c := DefaultConfig()
	if limit, from, err := ApplyMemoryLimit(c); err != nil || limit != 640<<20 || from != "config" {
		t.Fatalf("default: %d from %q, %v; want 640 MiB from config", limit, from, err)
	}
	if got := debug.SetMemoryLimit(-1); got != 640<<20 {
		t.Fatalf("the runtime's limit is %d after the default, want 640 MiB", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	c.Runtime.MemoryLimit = "0"
	if limit, from, err := ApplyMemoryLimit(c); err != nil || limit != math.MaxInt64 || from != "none" {
		t.Fatalf(`"0": %d from %q, %v; want no limit`, limit, from, err)
	}
	c.Runtime.MemoryLimit = "1 GiB"
	t.Setenv("GOMEMLIMIT", "300MiB")
	debug.SetMemoryLimit(300 << 20) // what the runtime read at start
	if limit, from, err := ApplyMemoryLimit(c); err != nil || limit != 300<<20 || from != "environment" {
		t.Fatalf("with GOMEMLIMIT: %d from %q, %v; want 300 MiB from the environment", limit, from, err)
	}
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Fatalf("GOMEMLIMIT was overridden: %d", got)
	}
	c.Runtime.MemoryLimit = "lots"
	if _, _, err := ApplyMemoryLimit(c); err == nil || !strings.Contains(err.Error(), "runtime.memory_limit") {
		t.Fatalf("a bad limit: %v", err)
	}
}

func TestHTTPRejectsForeignHost(t *testing.T) {
	n, _ := testNode(t, nil)
	req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+MetricsPath, nil)
	req.Host = "evil.example:80"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Host: %s", resp.Status)
	}
}

func TestContentOverHTTP(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	var dv DatanetView
	if err := c.Call(&dv, "datanet_create", datanet.DatanetSpec{Name: "http"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	body := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.05 MiB
	os.WriteFile(filepath.Join(dir, "data.csv"), body, 0o644)
	var added AddResult
	if err := c.Call(&added, "content_add", AddArgs{Paths: []string{filepath.Join(dir, "data.csv")}, Datanet: dv.ID, ChunkSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	url := "http://" + n.HTTPAddr() + ContentPath + added.CID + "/data.csv"
	for _, tc := range []struct{ rng, want string }{
		{"", string(body)},
		{"bytes=0-9", string(body[:10])},
		{"bytes=1048570-1048590", string(body[1048570:1048591])},
		{"bytes=-5", string(body[len(body)-5:])},
	} {
		req, _ := http.NewRequest("GET", url, nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != tc.want {
			t.Fatalf("range %q: %s, %d bytes", tc.rng, resp.Status, len(got))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
	}
	// The contribution itself is a JSON listing.
	resp, err := http.Get("http://" + n.HTTPAddr() + ContentPath + added.CID)
	if err != nil {
		t.Fatal(err)
	}
	listing, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(listing), `"data.csv"`) || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("listing: %s", listing)
	}
	resp, err = http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST content: %s", resp.Status)
	}
}

func TestAddProgressAndAbort(t *testing.T) {
	n, _ := testNode(t, nil)
	c := n.InProc()
	defer c.Close()
	var dv DatanetView
	if err := c.Call(&dv, "datanet_create", datanet.DatanetSpec{Name: "progress"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := make([]byte, 5<<20)
	for i := range data {
		data[i] = byte(i * 7 >> 3)
	}
	os.WriteFile(filepath.Join(dir, "x.bin"), data, 0o644)
	events := make(chan AddEvent, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := c.Subscribe(ctx, "content", events, "addProgress", AddArgs{Paths: []string{filepath.Join(dir, "x.bin")}, Datanet: dv.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var final AddEvent
	for final.Result == nil && final.Error == nil {
		select {
		case final = <-events:
		case err := <-sub.Err():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatal("no final event")
		}
	}
	if final.Error != nil || final.Result.Size != uint64(len(data)) {
		t.Fatalf("final event %+v", final)
	}

	// An add of a missing file reports a coded error in its final event.
	sub2, err := c.Subscribe(ctx, "content", events, "addProgress", AddArgs{Paths: []string{filepath.Join(dir, "missing")}, Datanet: dv.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Unsubscribe()
	select {
	case ev := <-events:
		if ev.Error == nil || ev.Error.Code != CodeBadRequest {
			t.Fatalf("missing file event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no event for a missing file")
	}
}

func TestErrorCodes(t *testing.T) {
	for err, code := range map[error]int{
		storage.ErrNotFound:          CodeNotFound,
		storage.ErrQuota:             CodeQuota,
		datanet.ErrUnknownDatanet:    CodeUnknownDatanet,
		datanet.ErrBadSignature:      CodeBadSignature,
		errors.New("something else"): CodeInternal,
	} {
		wrapped := apiError(errors.Join(errors.New("context"), err))
		if got := wrapped.(*codedError).code; got != code {
			t.Errorf("%v: code %d, want %d", err, got, code)
		}
	}
	if apiError(nil) != nil {
		t.Fatal("apiError(nil) != nil")
	}
}
