package proofs

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func claimTree(t testing.TB) *StandardTree {
	t.Helper()
	values := [][]any{
		{common.HexToAddress("0x1111111111111111111111111111111111111111"), big.NewInt(5)},
		{common.HexToAddress("0x2222222222222222222222222222222222222222"), big.NewInt(2500)},
		{common.HexToAddress("0x3333333333333333333333333333333333333333"), uint64(7)},
	}
	st, err := NewStandardTree([]string{"address", "uint256"}, values)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStandardTreeValue(t *testing.T) {
	st := claimTree(t)
	v, err := st.Value(2)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != common.HexToAddress("0x3333333333333333333333333333333333333333") || v[1].(*big.Int).Cmp(big.NewInt(7)) != 0 {
		t.Errorf("Value(2) = %v", v)
	}
	if _, err := st.Value(3); !errors.Is(err, ErrIndex) {
		t.Errorf("Value(3) error = %v, want ErrIndex", err)
	}
	leaf, _ := st.Leaf(2)
	want, _ := ClaimLeaf(v[0].(common.Address), v[1].(*big.Int))
	if leaf != want {
		t.Errorf("Leaf(2) = %s, ClaimLeaf = %s", leaf, want)
	}
	if got := st.LeafEncoding(); len(got) != 2 || got[0] != "address" {
		t.Errorf("LeafEncoding = %v", got)
	}
}

// TestLoadStandardTreeErrors edits a good dump to break it in one way each.
func TestLoadStandardTreeErrors(t *testing.T) {
	good, err := claimTree(t).Dump()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadStandardTree(good); err != nil {
		t.Fatalf("LoadStandardTree(good dump): %v", err)
	}
	edit := func(f func(d map[string]any)) []byte {
		var d map[string]any
		if err := json.Unmarshal(good, &d); err != nil {
			t.Fatal(err)
		}
		f(d)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	value := func(d map[string]any, i int) map[string]any { return d["values"].([]any)[i].(map[string]any) }
	tests := []struct {
		name string
		data []byte
	}{
		{"not json", []byte("{")},
		{"format", edit(func(d map[string]any) { d["format"] = "simple-v1" })},
		{"no encoding", edit(func(d map[string]any) { delete(d, "leafEncoding") })},
		{"bad encoding", edit(func(d map[string]any) { d["leafEncoding"] = []any{"address", "uint7"} })},
		{"no values", edit(func(d map[string]any) { d["values"] = []any{}; d["tree"] = []any{} })},
		{"node count", edit(func(d map[string]any) { d["tree"] = d["tree"].([]any)[:4] })},
		{"tree index not a leaf", edit(func(d map[string]any) { value(d, 0)["treeIndex"] = 1 })},
		{"tree index out of range", edit(func(d map[string]any) { value(d, 0)["treeIndex"] = 5 })},
		{"tree index twice", edit(func(d map[string]any) { value(d, 0)["treeIndex"] = value(d, 1)["treeIndex"] })},
		{"wrong amount", edit(func(d map[string]any) { value(d, 1)["value"].([]any)[1] = "2501" })},
		{"field count", edit(func(d map[string]any) { value(d, 1)["value"] = []any{"0x2222222222222222222222222222222222222222"} })},
		{"amount not a number", edit(func(d map[string]any) { value(d, 1)["value"].([]any)[1] = "lots" })},
		{"amount negative", edit(func(d map[string]any) { value(d, 1)["value"].([]any)[1] = "-1" })},
		{"bad address", edit(func(d map[string]any) { value(d, 1)["value"].([]any)[0] = "0x22" })},
		{"bad node", edit(func(d map[string]any) { d["tree"].([]any)[0] = "0x" + strings.Repeat("00", 32) })},
		{"node not hex", edit(func(d map[string]any) { d["tree"].([]any)[1] = "0xnothex" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LoadStandardTree(tt.data); !errors.Is(err, ErrInvalidDump) {
				t.Errorf("LoadStandardTree error = %v, want ErrInvalidDump", err)
			}
		})
	}
}

func TestLoadStandardTreeNumberForms(t *testing.T) {
	st := claimTree(t)
	dumped, err := st.Dump()
	if err != nil {
		t.Fatal(err)
	}
	// The JS library also accepts JSON numbers and hex strings for integers,
	// and upper-case hex.
	s := strings.Replace(string(dumped), `"2500"`, `"0x9c4"`, 1)
	s = strings.Replace(s, `"5"`, `5`, 1)
	s = strings.Replace(s, `0x3333333333333333333333333333333333333333`, `0X3333333333333333333333333333333333333333`, 1)
	loaded, err := LoadStandardTree([]byte(s))
	if err != nil {
		t.Fatalf("LoadStandardTree: %v", err)
	}
	if loaded.Root() != st.Root() {
		t.Errorf("root = %s, want %s", loaded.Root(), st.Root())
	}
}

// FuzzLoadStandardTree feeds dumps, which may come from other nodes, to the
// loader: it must not panic, and what it accepts must survive Dump and Load.
func FuzzLoadStandardTree(f *testing.F) {
	for _, v := range loadVectors(f).Trees {
		if v.Dump != nil {
			f.Add([]byte(v.Dump))
		}
	}
	f.Add([]byte(`{"format":"standard-v1","leafEncoding":["uint8[99999999999999999999]"],"tree":["0x00"],"values":[{"value":[[]],"treeIndex":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := LoadStandardTree(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidDump) {
				t.Fatalf("error %v does not wrap ErrInvalidDump", err)
			}
			return
		}
		again, err := st.Dump()
		if err != nil {
			t.Fatalf("Dump of a loaded tree: %v", err)
		}
		back, err := LoadStandardTree(again)
		if err != nil {
			t.Fatalf("Load of Dump of a loaded tree: %v", err)
		}
		if back.Root() != st.Root() {
			t.Fatalf("root changed over Dump and Load")
		}
	})
}
