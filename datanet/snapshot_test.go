package datanet

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// testSnapshot returns the unsigned golden Snapshot: the golden contribution
// accepted by the golden vote.
func testSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	c := signedContribution(t)
	entries := []SnapshotEntry{{Contribution: mustCID(t, c), Root: common.Hash(c.Root)}}
	root, err := SnapshotRoot(entries)
	if err != nil {
		t.Fatal(err)
	}
	dn := mustCID(t, signedDatanet(t))
	return &Snapshot{
		Datanet:       dn,
		Policy:        dn,
		Version:       1,
		Contributions: entries,
		Root:          root,
		Evidence:      []*Vote{signedVote(t)},
		Created:       1767240000, // 2026-01-01T04:00:00Z
	}
}

// signedSnapshot returns the golden Snapshot, signed by the owner.
func signedSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	s := testSnapshot(t)
	if err := SignSnapshot(s, testChainID, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := signedSnapshot(t)
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	data, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, s)
	}
	if err := back.Evidence[0].Verify(); err != nil {
		t.Fatalf("evidence vote does not verify after the round trip: %v", err)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Snapshot
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&fromJSON, s) {
		t.Fatalf("JSON round trip\n%+v\nwant\n%+v", &fromJSON, s)
	}
	links := s.Links()
	if len(links) != 2 || !links[0].Equals(s.Datanet) || !links[1].Equals(s.Contributions[0].Contribution) {
		t.Fatalf("Links = %v", links)
	}
}

func TestSnapshotRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Snapshot)
	}{
		{"version 0", func(s *Snapshot) { s.Version = 0 }},
		{"version 2 without prev", func(s *Snapshot) { s.Version = 2 }},
		{"version 1 with prev", func(s *Snapshot) { s.Prev = s.Datanet }},
		{"no contributions", func(s *Snapshot) { s.Contributions, s.Evidence = nil, nil }},
		{"wrong root", func(s *Snapshot) { s.Root[0] ^= 1 }},
		{"duplicate contribution", func(s *Snapshot) {
			s.Contributions = append(s.Contributions, s.Contributions[0])
			s.Root, _ = SnapshotRoot(s.Contributions)
		}},
		{"evidence about another contribution", func(s *Snapshot) {
			v := *s.Evidence[0]
			v.Contribution = s.Datanet
			s.Evidence[0] = &v
		}},
		{"evidence from another datanet", func(s *Snapshot) {
			v := *s.Evidence[0]
			v.Datanet = s.Contributions[0].Contribution
			s.Evidence[0] = &v
		}},
		{"two votes of one curator", func(s *Snapshot) { s.Evidence = append(s.Evidence, s.Evidence[0]) }},
		{"unsigned evidence", func(s *Snapshot) {
			v := *s.Evidence[0]
			v.Signature = nil
			s.Evidence[0] = &v
		}},
		{"evidence on another chain", func(s *Snapshot) {
			v := *s.Evidence[0]
			v.ChainID++
			s.Evidence[0] = &v
		}},
		{"zero cutter", func(s *Snapshot) { s.Cutter = common.Address{} }},
		{"no creation time", func(s *Snapshot) { s.Created = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signedSnapshot(t)
			tt.change(s)
			if err := s.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, err := s.Encode(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Encode = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestTamperedSnapshotFails(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Snapshot)
	}{
		{"version", func(s *Snapshot) { s.Version = 2; s.Prev = s.Datanet }},
		{"policy", func(s *Snapshot) { s.Policy = s.Contributions[0].Contribution }},
		{"evidence dropped", func(s *Snapshot) { s.Evidence = nil }},
		{"created", func(s *Snapshot) { s.Created++ }},
		{"cutter", func(s *Snapshot) { s.Cutter = curatorSigner(t).Address() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signedSnapshot(t)
			tt.change(s)
			if err := s.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}
