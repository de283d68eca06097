package storage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ipfs/go-cid"
)

// crashChildEnv names the environment variable that makes
// TestCrashKill9 run as the child process, storing into the directory it
// names.
const crashChildEnv = "STORAGE_CRASH_CHILD_DIR"

const (
	crashCommittedSeed = 100
	crashOpenSeed      = 200
	crashFileSize      = 5*DefaultChunkSize + 17
)

// TestCrashKill9 runs a child process that commits one contribution, starts a
// second session and writes its shards, then kills itself with SIGKILL (no
// Close, no deferred calls, nothing flushed by the process). The parent then
// opens the store: the committed contribution must be whole and the open
// session rolled back.
func TestCrashKill9(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := filepath.Join(t.TempDir(), "store")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out.String())
	}

	ctx := context.Background()
	s := openStore(t, DefaultConfig(dir))
	committed := randBytes(crashCommittedSeed, crashFileSize)
	objData, obj := testObject("crash-committed")
	links, err := s.Links(ctx, obj)
	if err != nil {
		t.Fatalf("committed object lost: %v", err)
	}
	if ok, _ := s.IsPinned(ctx, obj); !ok {
		t.Fatal("committed pin lost")
	}
	if got, err := s.GetObject(ctx, obj); err != nil || !bytes.Equal(got, objData) {
		t.Fatalf("GetObject = %v", err)
	}
	r, err := s.NewFileReader(ctx, links, DefaultChunkSize, crashFileSize)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(r); err != nil || !bytes.Equal(got.Bytes(), committed) {
		t.Fatalf("committed file did not survive: %v", err)
	}
	open := randBytes(crashOpenSeed, crashFileSize)
	for off := 0; off < len(open); off += DefaultChunkSize {
		c := ShardCID(open[off:min(off+DefaultChunkSize, len(open))])
		mustHaveShard(t, s, c, false)
	}
	if used, _ := s.Usage(); used != crashFileSize {
		t.Fatalf("usage %d after recovery, want %d", used, crashFileSize)
	}
	res, err := s.Verify(ctx, nil)
	if err != nil || len(res.Faults) != 0 || res.Shards != len(links) {
		t.Fatalf("Verify after recovery = %+v, %v", res, err)
	}
}

// crashChild is the child of TestCrashKill9. It never returns.
func crashChild(t *testing.T, dir string) {
	ctx := context.Background()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	add := func(seed uint64) (*Session, []cid.Cid) {
		ss, err := s.NewSession(ctx, crashFileSize)
		if err != nil {
			t.Fatal(err)
		}
		refs, err := ss.Chunk(ctx, bytes.NewReader(randBytes(seed, crashFileSize)), DefaultChunkSize, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ss, cidsOf(refs)
	}
	ss, links := add(crashCommittedSeed)
	objData, obj := testObject("crash-committed")
	if err := ss.Commit(ctx, obj, objData, links, true); err != nil {
		t.Fatal(err)
	}
	add(crashOpenSeed)
	fmt.Println("child: killing itself")
	if err := syscall.Kill(os.Getpid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {} // wait for the signal
}
