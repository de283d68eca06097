package datanet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER, 2^53 - 1: a JSON
// number above it is read wrongly by JSON.parse.
const maxSafeInteger = 1<<53 - 1

// unsafeNumbers lists the paths of the JSON numbers in view that
// JavaScript cannot read exactly.
func unsafeNumbers(t *testing.T, view []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(view))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case json.Number:
			if x, err := strconv.ParseFloat(string(v), 64); err != nil || math.Abs(x) > maxSafeInteger {
				out = append(out, path+"="+string(v))
			}
		}
	}
	walk("", v)
	return out
}

// TestJSONBigIntegers checks that integers which may pass 2^53 (weights'
// parts, curator weights, quorums) are decimal strings in the JSON views,
// that they round-trip exactly, and that the readers still take the
// numbers older views and hand-written JSON hold.
func TestJSONBigIntegers(t *testing.T) {
	const big = uint64(1)<<62 + 12345 // far above 2^53: a float64 rounds it
	r := testAttribution(t)
	r.Weights[0].Parts = 567307692307692308
	d := testDatanet(t)
	d.Curators[0].Weight, d.Curators[1].Weight = big, big
	d.Quorum = big + 1
	for _, obj := range []Object{r, d} {
		view, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if bad := unsafeNumbers(t, view); len(bad) > 0 {
			t.Errorf("%s view: numbers JavaScript misreads: %v", obj.Kind(), bad)
		}
		back := newOfKind(t, obj.Kind())
		if err := json.Unmarshal(view, back); err != nil {
			t.Fatal(err)
		}
		want, _ := obj.Encode()
		got, _ := back.Encode()
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the JSON round trip changed the object:\n%s", obj.Kind(), view)
		}
	}
	view, _ := json.Marshal(r)
	if !strings.Contains(string(view), `"parts":"567307692307692308"`) {
		t.Errorf("parts not a decimal string: %s", view)
	}

	// Numbers, as views had them before, read the same.
	dview, _ := json.Marshal(d)
	old := strings.ReplaceAll(string(dview), `"`+strconv.FormatUint(big, 10)+`"`, strconv.FormatUint(big, 10))
	old = strings.ReplaceAll(old, `"quorum":"`+strconv.FormatUint(big+1, 10)+`"`, `"quorum":`+strconv.FormatUint(big+1, 10))
	if old == string(dview) {
		t.Fatal("no number to put back")
	}
	var d2 Datanet
	if err := json.Unmarshal([]byte(old), &d2); err != nil || d2.Quorum != big+1 || d2.Curators[0].Weight != big {
		t.Fatalf("a view with numbers: %v, quorum %d, weight %d", err, d2.Quorum, d2.Curators[0].Weight)
	}
	for _, bad := range []string{`"1e3"`, `"-1"`, `"0x10"`, `""`, `"1 "`} {
		var c Datanet
		in := strings.Replace(string(dview), `"quorum":"`+strconv.FormatUint(big+1, 10)+`"`, `"quorum":`+bad, 1)
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("quorum %s accepted", bad)
		}
	}

	// The inputs of the API take a string or a number.
	var spec DatanetSpec
	in := fmt.Sprintf(`{"name":"n","curators":[{"address":"%s","weight":"%d"},{"address":"%s","weight":7}],"quorum":"%d"}`,
		common.Address{1}.Hex(), big, common.Address{2}.Hex(), big)
	if err := json.Unmarshal([]byte(in), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Name != "n" || spec.Quorum != big || spec.Curators[0].Weight != big || spec.Curators[1].Weight != 7 {
		t.Fatalf("spec %+v", spec)
	}
	var u DatanetUpdate
	if err := json.Unmarshal([]byte(`{"name":"m","quorum":"`+strconv.FormatUint(big, 10)+`"}`), &u); err != nil {
		t.Fatal(err)
	}
	if u.Name == nil || *u.Name != "m" || u.Quorum == nil || *u.Quorum != big {
		t.Fatalf("update %+v", u)
	}
	if err := json.Unmarshal([]byte(`{"quorum":3}`), &u); err != nil || u.Quorum == nil || *u.Quorum != 3 {
		t.Fatalf("update with a number: %v %+v", err, u)
	}
	if err := json.Unmarshal([]byte(`{"quorum":"x"}`), &u); err == nil {
		t.Fatal("quorum \"x\" accepted")
	}
}
