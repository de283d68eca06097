package proofs

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestPackageDoc keeps the package doc saying what the package owns and what
// it must not do.
func TestPackageDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatal("doc.go has no package comment")
	}
	doc := f.Doc.Text()
	for _, want := range []string{"What it owns", "What it must not do", "must not know Datanet rules"} {
		if !strings.Contains(doc, want) {
			t.Errorf("package doc does not say %q", want)
		}
	}
}
