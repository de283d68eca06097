package daemon

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestViewBigIntegers checks that the API's tally and contribution views
// give curator-weight sums as decimal strings that round-trip exactly.
func TestViewBigIntegers(t *testing.T) {
	const big = uint64(1)<<62 + 1 // a float64 rounds it
	for _, v := range []any{
		&TallyView{Approve: big, Reject: big - 1, Cast: big, Quorum: big, TotalWeight: big},
		&ContributionInfo{Approve: big, Reject: big - 1},
	} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"approve":"4611686018427387905"`) || !strings.Contains(string(data), `"reject":"4611686018427387904"`) {
			t.Errorf("%T: weights are not decimal strings: %s", v, data)
		}
		switch v := v.(type) {
		case *TallyView:
			var back TallyView
			if err := json.Unmarshal(data, &back); err != nil || back.Approve != big || back.TotalWeight != big || back.Quorum != big {
				t.Errorf("tally round trip: %+v %v", back, err)
			}
		case *ContributionInfo:
			var back ContributionInfo
			if err := json.Unmarshal(data, &back); err != nil || back.Approve != v.Approve || back.Reject != v.Reject {
				t.Errorf("contribution info round trip: %+v %v", back, err)
			}
		}
	}
}
