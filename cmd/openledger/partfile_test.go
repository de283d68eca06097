package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// holdPartEnv makes the test binary a get that writes a part file for the
// path in it, says its name on stdout, and waits to be killed.
const holdPartEnv = "OPENLEDGER_TEST_HOLD_PART"

func holdPart(dst string) {
	f, err := createPart(dst)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.WriteString("partial")
	fmt.Println(f.Name())
	io.Copy(io.Discard, os.Stdin) // until the parent kills it or closes stdin
	os.Exit(0)
}

// startHolder starts a process holding a part file for dst and returns the
// process and the file's path.
func startHolder(t *testing.T, dst string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdPartEnv+"="+dst)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	name, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("part holder: %v", err)
	}
	return cmd, strings.TrimSpace(name)
}

// TestPartFiles: a get killed with SIGKILL leaves its part file, which the
// next get of the same file removes; the part file of a get still running,
// and those of other files, stay. Files are created with 0666 less the
// umask.
func TestPartFiles(t *testing.T) {
	if !partLocks {
		t.Skip("no file locks on this system: stale part files are kept")
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "data.bin")
	killed, dead := startHolder(t, dst)
	_, live := startHolder(t, dst)
	other := filepath.Join(dir, partName("other.bin", "x"))
	writeFile(t, other, []byte("partial"))
	if err := killed.Process.Kill(); err != nil { // SIGKILL: no clean-up
		t.Fatal(err)
	}
	killed.Wait()
	if _, err := os.Stat(dead); err != nil {
		t.Fatalf("the killed get's part file is gone already: %v", err)
	}

	var stale staleParts
	n, err := stale.remove(dst)
	if err != nil || n != 1 {
		t.Fatalf("remove stale part files: %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed get's part file is still there: %v", err)
	}
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}

	// A get writes and renames its own part file.
	f, err := createPart(dst)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("complete")
	if err := finishPart(f, dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if want := umaskedMode(t); fi.Mode().Perm() != want {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), want)
	}
	if _, err := os.Stat(f.Name()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the part file is still there after the rename: %v", err)
	}
}

func TestPartOf(t *testing.T) {
	for name, want := range map[string]string{
		".data.bin.part-3kx9":     "data.bin",
		".a.part-b.part-c":        "a.part-b",
		".x.part-":                "",
		"data.bin.part-3kx9":      "",
		"..part-1":                "",
		partName("y z.csv", "q1"): "y z.csv",
	} {
		got, ok := partOf(name)
		if got != want || ok != (want != "") {
			t.Errorf("partOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
