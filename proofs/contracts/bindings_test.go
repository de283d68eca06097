package contracts_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

// TestBindingsMatchArtifacts checks that each binding is what the //go:generate
// abigen line of generate.go makes of the committed .abi and .bin, so a
// binding cannot drift from its artifacts. (CI checks that the artifacts
// match the Solidity sources: node contracts/build.mjs --check.)
func TestBindingsMatchArtifacts(t *testing.T) {
	gen, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(gen)))
	for sc.Scan() {
		args, ok := strings.CutPrefix(sc.Text(), "//go:generate go tool abigen ")
		if !ok {
			continue
		}
		n++
		flags := parseFlags(t, strings.Fields(args))
		t.Run(flags["type"], func(t *testing.T) {
			abiJSON := readFile(t, flags["abi"])
			bin := readFile(t, flags["bin"])
			code, err := abigen.Bind([]string{flags["type"]}, []string{abiJSON}, []string{bin}, nil, flags["pkg"], map[string]string{}, map[string]string{})
			if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, flags["out"]); got != code {
				t.Errorf("%s is not what abigen makes of %s and %s; run go generate ./proofs/contracts", flags["out"], flags["abi"], flags["bin"])
			}
		})
	}
	if n != 3 {
		t.Errorf("generate.go has %d abigen lines, want 3", n)
	}
}

// parseFlags reads "--name value" pairs.
func parseFlags(t *testing.T, args []string) map[string]string {
	t.Helper()
	flags := make(map[string]string)
	for i := 0; i+1 < len(args); i += 2 {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			t.Fatalf("abigen argument %q is not a flag", args[i])
		}
		flags[name] = args[i+1]
	}
	for _, f := range []string{"abi", "bin", "pkg", "type", "out"} {
		if flags[f] == "" {
			t.Fatalf("abigen line lacks --%s", f)
		}
	}
	return flags
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
