package daemon

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lockHolderEnv makes TestRepoLockHolder, run as a child process, hold the
// lock of the repo it names until it is killed.
const lockHolderEnv = "OPENLEDGER_TEST_LOCK_HOLDER"

// newLockTestRepo makes the smallest repo OpenRepo opens: a config file.
func newLockTestRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeConfig(filepath.Join(dir, ConfigFile), DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func wantLocked(t *testing.T, dir string) {
	t.Helper()
	r, err := OpenRepo(dir)
	if err == nil {
		r.Close()
		t.Fatal("opened a repo another opener holds")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "is a daemon running on it?") {
		t.Fatalf("second open: %v, want ErrLocked saying a daemon may be running", err)
	}
}

func TestRepoLock(t *testing.T) {
	dir := newLockTestRepo(t)
	r, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantLocked(t, dir)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	r, err = OpenRepo(dir)
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	r.Close()
}

// TestRepoLockKilledHolder kills a process holding the lock, as kill -9
// would: the OS releases the lock, so the repo opens again.
func TestRepoLockKilledHolder(t *testing.T) {
	dir := newLockTestRepo(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRepoLockHolder$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("holder said %q, %v; want it to hold the lock", line, err)
	}
	wantLocked(t, dir)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	r, err := OpenRepo(dir)
	if err != nil {
		t.Fatalf("open after the holder was killed: %v", err)
	}
	r.Close()
}

// TestRepoLockHolder is the child of TestRepoLockKilledHolder: it locks the
// repo, says so and waits to be killed.
func TestRepoLockHolder(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("run by TestRepoLockKilledHolder")
	}
	if _, err := OpenRepo(dir); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	os.Stdin.Read(make([]byte, 1)) // until killed (or the parent goes)
}
