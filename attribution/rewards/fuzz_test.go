package rewards_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/openledger/openledger/attribution/rewards"
)

// FuzzEpochJSON decodes epochs as a node would decode one from a peer: what
// decodes must re-encode to a form that decodes to the same epoch, and
// prove every balance against its root.
func FuzzEpochJSON(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "epochs.json"))
	if err != nil {
		f.Fatal(err)
	}
	var epochs []json.RawMessage
	if err := json.Unmarshal(golden, &epochs); err != nil {
		f.Fatal(err)
	}
	for _, e := range epochs {
		f.Add([]byte(e))
	}
	f.Add([]byte(`{"number":1,"balances":[],"root":"0x00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e rewards.Epoch
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		enc, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		var again rewards.Epoch
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("re-encoded epoch does not decode: %v\n%s", err, enc)
		}
		if enc2, _ := json.Marshal(&again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
		for _, b := range e.Balances {
			cum, proof, err := e.Claim(b.Address)
			if err != nil || !rewards.VerifyClaim(e.Root, b.Address, cum, proof) {
				t.Fatalf("claim of %s = %v, %v", b.Address, cum, err)
			}
		}
	})
}

// FuzzParamsJSON decodes parameters: what decodes and validates must
// re-encode to itself.
func FuzzParamsJSON(f *testing.F) {
	def, err := json.Marshal(rewards.DefaultParams())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	f.Add([]byte(`{"rate_in":"0","rate_out":"1","platform_fee":"2","model_owner_bps":10000}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p rewards.Params
		if err := json.Unmarshal(data, &p); err != nil || p.Validate() != nil {
			return
		}
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var again rewards.Params
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("re-encoded params do not decode: %v\n%s", err, enc)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
