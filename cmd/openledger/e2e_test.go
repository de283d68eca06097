package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/storage/storagetest"
)

// The end-to-end tests build the real binary once and drive it as a user
// would, in temp dirs.
var binPath string

func TestMain(m *testing.M) {
	if dst := os.Getenv(holdPartEnv); dst != "" {
		holdPart(dst) // a get that is killed, for TestPartFiles
		return
	}
	dir, err := os.MkdirTemp("", "openledger-e2e-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "openledger")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build openledger:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against one repo.
type cli struct {
	t    testing.TB
	repo string
	// daemonDone is closed when the last daemon startDaemon started has
	// exited and been waited for.
	daemonDone chan struct{}
	// daemonLog is the file the last daemon startDaemon started logs to.
	daemonLog string
}

func newCLI(t testing.TB) *cli {
	t.Helper()
	c := &cli{t: t, repo: filepath.Join(t.TempDir(), "repo")}
	c.ok("init", "--profile", "test")
	return c
}

func (c *cli) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(binPath, append([]string{"--repo", c.repo}, args...)...)
	cmd.Env = append(os.Environ(), "OPENLEDGER_PASSWORD=", "OPENLEDGER_PATH=")
	return cmd
}

// run returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := c.cmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("openledger %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// fail checks a command exits non-zero with a one-line error containing want.
func (c *cli) fail(want string, args ...string) {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code == 0 {
		c.t.Fatalf("openledger %s: succeeded, want failure %q\nstdout: %s", strings.Join(args, " "), want, out)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "openledger: ") || !strings.Contains(last, want) {
		c.t.Fatalf("openledger %s: stderr %q, want a line containing %q", strings.Join(args, " "), errs, want)
	}
}

func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("openledger %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startDaemon runs `openledger daemon` until the test ends and returns the
// base URL of its HTTP API.
func (c *cli) startDaemon(args ...string) (string, *exec.Cmd) {
	c.t.Helper()
	cmd := c.cmd(append([]string{"daemon", "--log-level", "debug"}, args...)...)
	logf, err := os.Create(filepath.Join(c.t.TempDir(), "daemon.log"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	c.daemonLog = logf.Name()
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	c.daemonDone = done
	c.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if base, err := daemon.ReadAPIFile(c.repo); err == nil {
			return base, cmd
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			c.t.Fatalf("daemon exited: %v\n%s", err, log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.t.Fatal("daemon did not write its api file in 30s")
	return "", nil
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// dataset writes a directory with text, an empty file and a multi-shard file.
func dataset(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "corpus")
	files := map[string][]byte{
		"corpus/a.txt":        []byte("the quick brown fox\n"),
		"corpus/empty.txt":    {},
		"corpus/sub/big.bin":  randomBytes(t, 2<<20+777),
		"corpus/sub/rows.csv": []byte("id,text\n1,hello\n2,world\n"),
	}
	for name, data := range files {
		writeFile(t, filepath.Join(filepath.Dir(dir), name), data)
	}
	return dir, files
}

type addJSON struct {
	CID   string `json:"cid"`
	Root  string `json:"root"`
	Size  uint64 `json:"size"`
	Files []struct {
		Path   string   `json:"path"`
		Size   uint64   `json:"size"`
		Shards []string `json:"shards"`
	} `json:"files"`
}

// checkGet gets cidStr and checks the files, their mode (0666 less the
// umask, as other tools create files), and that get removed the part
// files a killed get left for them.
func checkGet(t *testing.T, c *cli, cidStr string, files map[string][]byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	var stale []string
	for name := range files {
		dir, base := filepath.Split(filepath.Join(out, filepath.FromSlash(name)))
		p := filepath.Join(dir, partName(base, "killed"))
		writeFile(t, p, []byte("partial"))
		stale = append(stale, p)
	}
	c.ok("get", cidStr, "-o", out)
	mode := umaskedMode(t)
	for name, want := range files {
		p := filepath.Join(out, filepath.FromSlash(name))
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("get %s: bytes differ (%d vs %d)", name, len(got), len(want))
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("get %s: mode %v, %v; want %v", name, fi.Mode().Perm(), err, mode)
		}
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("get left the stale part file %s: %v", p, err)
		}
	}
}

// umaskedMode returns the permissions a new file created with 0666 gets.
func umaskedMode(t *testing.T) fs.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestE2EOffline(t *testing.T) {
	c := newCLI(t)
	c.fail("already exists", "init")

	var dn struct {
		ID string `json:"id"`
	}
	c.json(&dn, "datanet", "create", "corpus", "--description", "test corpus", "--license", "CC-BY-4.0")
	if dn.ID == "" {
		t.Fatal("datanet create --json gave no id")
	}
	if got := strings.TrimSpace(c.ok("datanet", "list")); !strings.Contains(got, dn.ID) {
		t.Fatalf("datanet list does not show %s:\n%s", dn.ID, got)
	}

	dir, files := dataset(t)
	var added addJSON
	c.json(&added, "add", dir, "--datanet", dn.ID, "--chunk-size", "1048576")
	if len(added.Files) != len(files) {
		t.Fatalf("add listed %d files, want %d", len(added.Files), len(files))
	}
	for _, f := range added.Files {
		if want := uint64(len(files[f.Path])); f.Size != want {
			t.Fatalf("%s: size %d, want %d", f.Path, f.Size, want)
		}
		if f.Path == "corpus/sub/big.bin" && len(f.Shards) != 3 {
			t.Fatalf("big.bin has %d shards, want 3", len(f.Shards))
		}
	}
	// Adding the same files again gives the same shards (content addressing).
	ls := c.ok("ls", added.CID)
	if !strings.Contains(ls, "corpus/sub/big.bin") {
		t.Fatalf("ls: %s", ls)
	}
	if got := c.ok("cat", added.CID+"/corpus/a.txt"); got != string(files["corpus/a.txt"]) {
		t.Fatalf("cat: %q", got)
	}
	checkGet(t, c, added.CID, files)
	show := c.ok("datanet", "show", dn.ID)
	if !strings.Contains(show, added.CID) {
		t.Fatalf("datanet show lacks the contribution:\n%s", show)
	}
	c.ok("repo", "verify")

	// Bad input: a one-line error, a non-zero exit, nothing stored.
	var before daemon.StatResult
	c.json(&before, "repo", "stat")
	missing := filepath.Join(t.TempDir(), "nope.txt")
	c.fail("no such file", "add", missing, "--datanet", dn.ID)
	c.fail("chunk size", "add", dir, "--datanet", dn.ID, "--chunk-size", "16")
	c.fail("chunk size", "add", dir, "--datanet", dn.ID, "--chunk-size", "8388608")
	c.fail("not a CID", "add", dir, "--datanet", "bogus")
	c.fail("unknown datanet", "add", dir, "--datanet", added.Files[0].Shards[0])
	c.fail("invalid content path", "cat", "not-a-cid")
	c.fail("not found", "cat", "bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba")
	c.fail("no file or directory", "cat", added.CID+"/corpus/missing.txt")
	if os.Getuid() != 0 { // root reads anything
		locked := filepath.Join(t.TempDir(), "locked")
		writeFile(t, filepath.Join(locked, "x.txt"), []byte("x"))
		os.Chmod(locked, 0o000)
		t.Cleanup(func() { os.Chmod(locked, 0o755) })
		c.fail("permission denied", "add", locked, "--datanet", dn.ID)
	}
	var after daemon.StatResult
	c.json(&after, "repo", "stat")
	if after.Shards != before.Shards || after.Objects != before.Objects || after.ShardBytes != before.ShardBytes {
		t.Fatalf("failed adds changed the store: %+v -> %+v", before, after)
	}

	// Pins keep content through GC; unpinned content goes.
	var pins []string
	c.json(&pins, "pin", "ls")
	if !slices.Contains(pins, added.CID) || !slices.Contains(pins, dn.ID) {
		t.Fatalf("pin ls %v lacks %s or %s", pins, added.CID, dn.ID)
	}
	c.ok("repo", "gc")
	checkGet(t, c, added.CID, files)
	c.ok("pin", "rm", added.CID)
	c.fail("not found", "pin", "rm", added.CID)
	var gc daemon.GCResult
	c.json(&gc, "repo", "gc")
	if gc.ShardsRemoved != 6 || gc.ObjectsRemoved != 1 {
		t.Fatalf("gc after unpin: %+v, want 6 shards and 1 object", gc)
	}
	c.fail("not found", "ls", added.CID)
	var empty daemon.StatResult
	c.json(&empty, "repo", "stat")
	if empty.Shards != 0 || empty.Objects != 1 {
		t.Fatalf("after gc: %+v", empty)
	}
}

func TestE2EQuota(t *testing.T) {
	c := newCLI(t)
	cfgPath := filepath.Join(c.repo, daemon.ConfigFile)
	cfg, err := daemon.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Storage.Quota = "3 MiB"
	data, _ := cfg.MarshalTOML()
	writeFile(t, cfgPath, data)

	var dn struct{ ID string }
	c.json(&dn, "datanet", "create", "q")
	small := filepath.Join(t.TempDir(), "small.bin")
	writeFile(t, small, randomBytes(t, 2<<20))
	c.ok("add", small, "--datanet", dn.ID)
	big := filepath.Join(t.TempDir(), "big.bin")
	writeFile(t, big, randomBytes(t, 2<<20))
	var before daemon.StatResult
	c.json(&before, "repo", "stat")
	c.fail("quota", "add", big, "--datanet", dn.ID)
	var after daemon.StatResult
	c.json(&after, "repo", "stat")
	if after.ShardBytes != before.ShardBytes || after.Shards != before.Shards {
		t.Fatalf("refused add wrote data: %+v -> %+v", before, after)
	}
}

func TestE2EDaemon(t *testing.T) {
	c := newCLI(t)
	base, _ := c.startDaemon()

	// A second daemon on the same repo is refused.
	c.fail("locked", "daemon")

	var id daemon.IDResult
	c.json(&id, "id")
	if id.PeerID == "" || !strings.HasPrefix(id.Account, "0x") || id.API != base {
		t.Fatalf("id: %+v (api file says %s)", id, base)
	}
	var dn struct{ ID string }
	c.json(&dn, "datanet", "create", "through-daemon")
	dir, files := dataset(t)
	var added addJSON
	c.json(&added, "add", dir, "--datanet", dn.ID)
	checkGet(t, c, added.CID, files)
	if got := c.ok("cat", added.CID+"/corpus/sub/rows.csv"); got != string(files["corpus/sub/rows.csv"]) {
		t.Fatalf("cat through daemon: %q", got)
	}

	// HTTP content with a Range across a shard boundary.
	big := files["corpus/sub/big.bin"]
	req, _ := http.NewRequest("GET", base+"/content/"+added.CID+"/corpus/sub/big.bin", nil)
	req.Header.Set("Range", "bytes=1048570-1048585")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, big[1048570:1048586]) {
		t.Fatalf("range: %s, %d bytes", resp.Status, len(body))
	}
	// A shard by its CID alone.
	shard := added.Files[0].Shards[0]
	resp, err = http.Get(base + "/content/" + shard)
	if err != nil {
		t.Fatal(err)
	}
	shardBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(shardBody, files[added.Files[0].Path]) {
		t.Fatalf("GET shard %s: %s %q", shard, resp.Status, shardBody)
	}
	for path, status := range map[string]int{
		"/content/nonsense":                        400,
		"/content/" + added.CID + "/corpus/nope":   404,
		"/content/" + added.CID + "/../etc/passwd": 400,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status && !(status == 400 && resp.StatusCode == 404) {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, status)
		}
	}

	// Permissions: read needs no token; signing needs a sign token.
	rpcCall := func(token, method string, params ...any) (int, string) {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
		req, _ := http.NewRequest("POST", base+daemon.RPCPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if _, out := rpcCall("", "datanet_list"); !strings.Contains(out, dn.ID) {
		t.Fatalf("datanet_list without token: %s", out)
	}
	spec := map[string]any{"name": "via-http"}
	if _, out := rpcCall("", "datanet_create", spec); !strings.Contains(out, "permission denied") {
		t.Fatalf("datanet_create without token: %s", out)
	}
	readTok := strings.TrimSpace(c.ok("auth", "create-token", "--perm", "read"))
	if _, out := rpcCall(readTok, "datanet_create", spec); !strings.Contains(out, "permission denied") {
		t.Fatalf("datanet_create with read token: %s", out)
	}
	signTok := strings.TrimSpace(c.ok("auth", "create-token", "--perm", "sign"))
	if _, out := rpcCall(signTok, "datanet_create", spec); !strings.Contains(out, `"id"`) {
		t.Fatalf("datanet_create with sign token: %s", out)
	}
	if _, out := rpcCall(signTok, "repo_gc"); !strings.Contains(out, "permission denied") {
		t.Fatalf("repo_gc with sign token: %s", out)
	}
	if code, _ := rpcCall("forged.token.here", "datanet_list"); code != http.StatusUnauthorized {
		t.Fatalf("forged token: status %d", code)
	}

	resp, err = http.Get(base + daemon.MetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "openledger_content_adds_total 1") {
		t.Fatalf("metrics lack openledger_content_adds_total 1:\n%.2000s", metrics)
	}
}

// TestE2EKillDuringAdd kills `add` with SIGKILL in the middle of writing and
// checks that the store then holds nothing of the contribution.
func TestE2EKillDuringAdd(t *testing.T) {
	c := newCLI(t)
	var dn struct{ ID string }
	c.json(&dn, "datanet", "create", "kill")
	var before daemon.StatResult
	c.json(&before, "repo", "stat")

	big := filepath.Join(t.TempDir(), "big.bin")
	const size = 768 << 20
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8<<20)
	for written := 0; written < size; written += len(buf) {
		rand.Read(buf)
		f.Write(buf)
	}
	f.Close()

	cmd := c.cmd("add", big, "--datanet", dn.ID)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once a good part of the file is in the value log.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil && dirSize(filepath.Join(c.repo, daemon.DatastoreDir)) < 64<<20 {
		time.Sleep(2 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("add never wrote 64 MiB")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("add finished before it was killed (%v); make the file bigger", err)
	}

	var after daemon.StatResult
	c.json(&after, "repo", "stat")
	if after.Shards != before.Shards || after.ShardBytes != before.ShardBytes || after.Objects != before.Objects {
		t.Fatalf("killed add left data behind: %+v -> %+v", before, after)
	}
	c.ok("repo", "verify")
	// And the same add then works.
	var added addJSON
	c.json(&added, "add", big, "--datanet", dn.ID)
	if added.Size != size {
		t.Fatalf("add after kill: size %d", added.Size)
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// TestE2ECorruption flips a byte of two stored shards in Badger's value log
// and checks that verify names them, a read refuses the bad bytes and drops
// the copy, verify --repair drops the other (offline: there is no peer to
// fetch from), and adding the file again repairs it.
func TestE2ECorruption(t *testing.T) {
	c := newCLI(t)
	var dn struct{ ID string }
	c.json(&dn, "datanet", "create", "corrupt")
	file := filepath.Join(t.TempDir(), "victim.bin")
	data := randomBytes(t, 4<<20)
	writeFile(t, file, data)
	var added addJSON
	c.json(&added, "add", file, "--datanet", dn.ID)
	victims := added.Files[0].Shards[1:3] // bytes [1 MiB, 3 MiB)
	// Every open starts a new value-log file. Open once more so the shard's
	// file is no longer the newest: Badger truncates the newest file at its
	// first bad entry when it opens (torn-write recovery), which would lose
	// the shards after the victim too (see docs/operations.md).
	c.ok("repo", "stat")

	// Flip a byte of each in the value log.
	storagetest.FlipByte(t, filepath.Join(c.repo, daemon.DatastoreDir),
		storagetest.Marker(data[1<<20:2<<20]), storagetest.Marker(data[2<<20:3<<20]))
	out, _, code := c.run("repo", "verify")
	for _, v := range victims {
		if code == 0 || !strings.Contains(out, v) {
			t.Fatalf("repo verify: exit %d, output does not name %s:\n%s", code, v, out)
		}
	}
	for _, s := range added.Files[0].Shards {
		if !slices.Contains(victims, s) && strings.Contains(out, s) {
			t.Fatalf("repo verify names the intact shard %s:\n%s", s, out)
		}
	}
	// A read refuses the first damaged shard, and drops it.
	c.fail("corrupt", "cat", added.CID+"/victim.bin")
	// verify --repair drops the other: without a daemon there is no peer
	// to fetch a good copy from, so it is left to get or add again.
	out, _, code = c.run("repo", "verify", "--repair")
	if code == 0 || strings.Contains(out, victims[0]) || !strings.Contains(out, victims[1]) || !strings.Contains(out, "dropped") {
		t.Fatalf("repo verify --repair: exit %d, want %s dropped and exit 1:\n%s", code, victims[1], out)
	}
	c.ok("repo", "verify")
	c.fail("not", "cat", added.CID+"/victim.bin")
	// Adding the file again stores both again.
	c.ok("add", file, "--datanet", dn.ID)
	if got := c.ok("cat", added.CID+"/victim.bin"); got != string(data) {
		t.Fatalf("cat after adding the file again: %d bytes, not the file", len(got))
	}
	c.ok("repo", "verify")
}
