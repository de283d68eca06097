package datanet

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

// TestCodecTypes checks that the codec refuses structs it cannot describe.
func TestCodecTypes(t *testing.T) {
	for name, v := range map[string]any{
		"no cbor tag": struct{ A string }{},
		"no json tag": struct {
			A string `cbor:"a"`
		}{},
		"nullable non-link": struct {
			A string `cbor:"a,nullable" json:"a"`
		}{},
		"float": struct {
			A float64 `cbor:"a" json:"a"`
		}{},
	} {
		if _, err := typeOf(reflect.TypeOf(v)); err == nil {
			t.Errorf("%s: typeOf accepted %T", name, v)
		}
	}
	ct, err := typeOf(reflect.TypeFor[Datanet]())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range ct.canonical {
		keys = append(keys, f.key)
	}
	if got := strings.Join(keys[:7], " "); got != "v seq kind name prev kinds owner" {
		t.Errorf("canonical keys start %q", got)
	}
}

// TestCodecMissingKeys checks what a missing key decodes as: an amount as 0
// (so the re-encoding differs), a fixed-length byte string as an error.
func TestCodecMissingKeys(t *testing.T) {
	data := encodeObject(t, signedAttribution(t))
	m := entries(t, data)
	var rewards map[string]cbor.RawMessage
	if err := cbor.Unmarshal(m["rewards"], &rewards); err != nil {
		t.Fatal(err)
	}
	delete(rewards, "rate_in")
	m["rewards"] = cborOf(t, rewards)
	if _, err := Decode(encodeEntries(t, m, cbor.SortLengthFirst)); !errors.Is(err, ErrNonCanonical) {
		t.Errorf("without rate_in: %v, want ErrNonCanonical", err)
	}
	delete(m, "rewards")
	if _, err := Decode(encodeEntries(t, m, cbor.SortLengthFirst)); !errors.Is(err, ErrMalformed) {
		t.Errorf("without rewards (and its addresses): %v, want ErrMalformed", err)
	}
}

// TestJSONReadRules checks the JSON reader's rules beyond a round trip.
func TestJSONReadRules(t *testing.T) {
	view, err := json.Marshal(signedVote(t))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(change func(map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(view, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for name, tc := range map[string]struct {
		data []byte
		ok   bool
	}{
		"as written":            {view, true},
		"upper-case keys":       {edit(func(m map[string]any) { m["KIND"], m["Seq"] = m["kind"], m["seq"]; delete(m, "kind"); delete(m, "seq") }), true},
		"unknown key":           {edit(func(m map[string]any) { m["score"] = 1 }), false},
		"missing link":          {edit(func(m map[string]any) { delete(m, "datanet") }), false},
		"null link":             {edit(func(m map[string]any) { m["contribution"] = nil }), false},
		"null signature":        {edit(func(m map[string]any) { m["signature"] = nil }), false},
		"short curator":         {edit(func(m map[string]any) { m["curator"] = "0x1234" }), false},
		"another kind":          {edit(func(m map[string]any) { m["kind"] = KindDatanet }), false},
		"missing reason (\"\")": {edit(func(m map[string]any) { delete(m, "reason") }), true},
	} {
		var v Vote
		if err := json.Unmarshal(tc.data, &v); (err == nil) != tc.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
	var d Datanet
	if err := json.Unmarshal([]byte(`{"kind":"datanet","prev":null}`), &d); err != nil || d.Prev != cid.Undef {
		t.Errorf("null prev: %v, %v", d.Prev, err)
	}
}
