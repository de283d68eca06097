package attribution

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package off the network and the other layers: the
// daemon feeds it plain values.
func TestImports(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(p, "libp2p") {
				t.Errorf("%s imports %s", name, p)
			}
			for _, layer := range []string{"p2p", "daemon", "datanet", "storage", "curation", "proofs"} {
				if p == "github.com/openledger/openledger/"+layer {
					t.Errorf("%s imports %s", name, p)
				}
			}
		}
	}
}
