package datanet

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
)

// trainerKeyHex is Hardhat and Anvil account 4, the golden model's owner.
// Never use it for anything of value.
const trainerKeyHex = "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"

func trainerSigner(t testing.TB) Signer { return NewKeySigner(testKey(t, trainerKeyHex)) }

// testModel returns the unsigned golden ModelRecord: a LoRA adapter trained
// on the golden snapshot.
func testModel(t testing.TB) *ModelRecord {
	t.Helper()
	mk := func(path string, size uint64) File {
		f := File{Path: path, Size: size}
		for i := range shardCount(size, 1<<20) {
			f.Shards = append(f.Shards, rawCID(t, fmt.Appendf(nil, "artifact shard %d of %s", i, path)))
		}
		return f
	}
	return &ModelRecord{
		Name: "Medical QA assistant",
		Base: "meta-llama/Llama-3.1-8B",
		Snapshots: []ModelSnapshot{{
			Datanet:  mustCID(t, signedDatanet(t)),
			Snapshot: mustCID(t, signedSnapshot(t)),
		}},
		Artifacts: []File{
			mk("adapter_config.json", 700),
			mk("adapter_model.safetensors", 5<<19), // 3 shards
		},
		ChunkSize: 1 << 20,
		Metadata:  map[string]string{"method": "lora", "rank": "16"},
		Created:   1767312000, // 2026-01-02T00:00:00Z
	}
}

// signedModel returns the golden ModelRecord, signed by the trainer.
func signedModel(t testing.TB) *ModelRecord {
	t.Helper()
	m := testModel(t)
	if err := SignModel(m, testChainID, trainerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestModelRoundTrip(t *testing.T) {
	m := signedModel(t)
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	if m.Owner != trainerSigner(t).Address() || m.ChainID != testChainID {
		t.Fatalf("signed model: owner %s chain %d", m.Owner, m.ChainID)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, m)
	}
	if err := back.Verify(); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON ModelRecord
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&fromJSON, m) {
		t.Fatalf("JSON round trip\n%+v\nwant\n%+v", &fromJSON, m)
	}
	if _, err := DecodeModel(encodeObject(t, signedSnapshot(t))); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("DecodeModel(snapshot) = %v, want ErrWrongKind", err)
	}
	if k, err := KindOf(data); err != nil || k != KindModel {
		t.Fatalf("KindOf = %q, %v", k, err)
	}

	// Without artifacts.
	m = testModel(t)
	m.Artifacts, m.ChunkSize = nil, 0
	if err := SignModel(m, testChainID, trainerSigner(t)); err != nil {
		t.Fatal(err)
	}
	back, err = DecodeModel(encodeObject(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", back, m)
	}
}

func TestModelLinks(t *testing.T) {
	m := testModel(t)
	other := mustCID(t, signedDatanetUpdate(t)) // any object CID
	// Two snapshots of the golden Datanet and one of another: the Datanet
	// is linked once.
	m.Snapshots = append(m.Snapshots,
		ModelSnapshot{Datanet: m.Snapshots[0].Datanet, Snapshot: mustCID(t, signedVote(t))},
		ModelSnapshot{Datanet: other, Snapshot: mustCID(t, signedContribution(t))},
	)
	SortModelSnapshots(m.Snapshots)
	m.Owner = trainerSigner(t).Address()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	want := m.Datanets()
	if len(want) != 2 {
		t.Fatalf("Datanets = %v, want 2", want)
	}
	for _, s := range m.Snapshots {
		want = append(want, s.Snapshot)
	}
	for _, f := range m.Artifacts {
		want = append(want, f.Shards...)
	}
	if got := m.Links(); !sameCIDs(got, want) {
		t.Fatalf("Links = %v\nwant %v", got, want)
	}
	for _, s := range m.Snapshots {
		if !m.HasSnapshot(s.Snapshot) {
			t.Errorf("HasSnapshot(%s) = false", s.Snapshot)
		}
	}
	if m.HasSnapshot(other) {
		t.Error("HasSnapshot of an unlisted CID")
	}
}

func TestModelValidate(t *testing.T) {
	shard := rawCID(t, []byte("shard"))
	snap := mustCID(t, signedSnapshot(t))
	tests := []struct {
		name   string
		change func(m *ModelRecord)
		ok     bool
	}{
		{"golden", func(m *ModelRecord) {}, true},
		{"signed", func(m *ModelRecord) { m.ChainID, m.Signature = testChainID, make([]byte, 65) }, true},
		{"unsigned draft without chain ID", func(m *ModelRecord) { m.ChainID = 0 }, true},
		{"no artifacts", func(m *ModelRecord) { m.Artifacts, m.ChunkSize = nil, 0 }, true},
		{"no base", func(m *ModelRecord) { m.Base = "" }, true},
		{"no metadata", func(m *ModelRecord) { m.Metadata = nil }, true},
		{"longest name", func(m *ModelRecord) { m.Name = strings.Repeat("n", MaxNameLen) }, true},
		{"longest base", func(m *ModelRecord) { m.Base = strings.Repeat("b", MaxBaseModelLen) }, true},

		{"empty name", func(m *ModelRecord) { m.Name = "" }, false},
		{"long name", func(m *ModelRecord) { m.Name = strings.Repeat("n", MaxNameLen+1) }, false},
		{"newline in name", func(m *ModelRecord) { m.Name = "a\nb" }, false},
		{"long base", func(m *ModelRecord) { m.Base = strings.Repeat("b", MaxBaseModelLen+1) }, false},
		{"control in base", func(m *ModelRecord) { m.Base = "llama\x1b" }, false},
		{"no snapshots", func(m *ModelRecord) { m.Snapshots = nil }, false},
		{"too many snapshots", func(m *ModelRecord) {
			m.Snapshots = nil
			for i := range MaxSnapshotsPerModel + 1 {
				m.Snapshots = append(m.Snapshots, ModelSnapshot{Datanet: snap, Snapshot: objectCIDOf(t, fmt.Sprint(i))})
			}
			SortModelSnapshots(m.Snapshots)
		}, false},
		{"duplicate snapshot", func(m *ModelRecord) { m.Snapshots = append(m.Snapshots, m.Snapshots[0]) }, false},
		{"unsorted snapshots", func(m *ModelRecord) {
			m.Snapshots = append(m.Snapshots, ModelSnapshot{Datanet: snap, Snapshot: objectCIDOf(t, "x")})
			SortModelSnapshots(m.Snapshots)
			m.Snapshots[0], m.Snapshots[1] = m.Snapshots[1], m.Snapshots[0]
		}, false},
		{"undefined snapshot", func(m *ModelRecord) { m.Snapshots[0].Snapshot = cid.Undef }, false},
		{"undefined datanet", func(m *ModelRecord) { m.Snapshots[0].Datanet = cid.Undef }, false},
		{"snapshot is a shard", func(m *ModelRecord) { m.Snapshots[0].Snapshot = shard }, false},
		{"datanet is a shard", func(m *ModelRecord) { m.Snapshots[0].Datanet = shard }, false},
		{"chunk size without artifacts", func(m *ModelRecord) { m.Artifacts = nil }, false},
		{"no chunk size", func(m *ModelRecord) { m.ChunkSize = 0 }, false},
		{"small chunk size", func(m *ModelRecord) { m.ChunkSize = MinChunkSize - 1 }, false},
		{"big chunk size", func(m *ModelRecord) { m.ChunkSize = MaxChunkSize + 1 }, false},
		{"unsorted artifacts", func(m *ModelRecord) { m.Artifacts[0], m.Artifacts[1] = m.Artifacts[1], m.Artifacts[0] }, false},
		{"duplicate artifacts", func(m *ModelRecord) { m.Artifacts[1] = m.Artifacts[0] }, false},
		{"artifact and directory", func(m *ModelRecord) {
			m.Artifacts = []File{{Path: "a", Size: 1, Shards: []cid.Cid{shard}}, {Path: "a/b", Size: 1, Shards: []cid.Cid{shard}}}
		}, false},
		{"absolute artifact path", func(m *ModelRecord) { m.Artifacts[0].Path = "/etc/passwd" }, false},
		{"dot-dot artifact path", func(m *ModelRecord) { m.Artifacts[0].Path = "../adapter" }, false},
		{"missing artifact shard", func(m *ModelRecord) { m.Artifacts[1].Shards = m.Artifacts[1].Shards[1:] }, false},
		{"artifact shard is an object", func(m *ModelRecord) { m.Artifacts[0].Shards[0] = snap }, false},
		{"empty metadata key", func(m *ModelRecord) { m.Metadata = map[string]string{"": "x"} }, false},
		{"newline in metadata", func(m *ModelRecord) { m.Metadata = map[string]string{"k": "a\nb"} }, false},
		{"too much metadata", func(m *ModelRecord) {
			m.Metadata = map[string]string{}
			for i := range MaxMetadataEntries + 1 {
				m.Metadata[fmt.Sprint(i)] = "x"
			}
		}, false},
		{"zero owner", func(m *ModelRecord) { m.Owner = common.Address{} }, false},
		{"signed without chain ID", func(m *ModelRecord) { m.ChainID, m.Signature = 0, make([]byte, 65) }, false},
		{"zero created", func(m *ModelRecord) { m.Created = 0 }, false},
		{"short signature", func(m *ModelRecord) { m.Signature = make([]byte, 64) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t)
			m.Owner, m.ChainID = trainerSigner(t).Address(), testChainID
			tt.change(m)
			err := m.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, encErr := m.Encode(); (encErr == nil) != tt.ok {
				t.Errorf("Encode error %v, want error: %t", encErr, !tt.ok)
			}
		})
	}
}

// objectCIDOf returns a dag-cbor CID of some bytes: a link to an object
// that field rules accept, whatever it holds.
func objectCIDOf(t testing.TB, s string) cid.Cid {
	t.Helper()
	c, err := ObjectCID([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignModel(t *testing.T) {
	t.Run("wrong signer", func(t *testing.T) {
		m := testModel(t)
		m.Owner = trainerSigner(t).Address()
		if err := SignModel(m, testChainID, ownerSigner(t)); !errors.Is(err, ErrWrongSigner) {
			t.Fatalf("SignModel by another account = %v, want ErrWrongSigner", err)
		}
		if m.Signature != nil {
			t.Fatal("a failed SignModel changed the model")
		}
	})
	t.Run("other chain", func(t *testing.T) {
		m := testModel(t)
		m.ChainID = 161201
		if err := SignModel(m, testChainID, trainerSigner(t)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SignModel under another chain = %v, want ErrInvalid", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		m := testModel(t)
		m.Name = ""
		if err := SignModel(m, testChainID, trainerSigner(t)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SignModel of an invalid model = %v, want ErrInvalid", err)
		}
	})
	tamper := []struct {
		name   string
		change func(m *ModelRecord)
	}{
		{"name", func(m *ModelRecord) { m.Name += "!" }},
		{"base", func(m *ModelRecord) { m.Base = "" }},
		{"snapshot", func(m *ModelRecord) { m.Snapshots[0].Snapshot = objectCIDOf(t, "x") }},
		{"snapshot's datanet", func(m *ModelRecord) { m.Snapshots[0].Datanet = objectCIDOf(t, "x") }},
		{"artifact path", func(m *ModelRecord) { m.Artifacts[0].Path = "config.json" }},
		{"artifact shard", func(m *ModelRecord) { m.Artifacts[1].Shards[2] = rawCID(t, []byte("x")) }},
		{"chunk size", func(m *ModelRecord) { m.ChunkSize = MinChunkSize }},
		{"metadata", func(m *ModelRecord) { m.Metadata["rank"] = "8" }},
		{"owner", func(m *ModelRecord) { m.Owner = ownerSigner(t).Address() }},
		{"chain", func(m *ModelRecord) { m.ChainID = 161201 }},
		{"created", func(m *ModelRecord) { m.Created++ }},
	}
	for _, tt := range tamper {
		t.Run("tampered "+tt.name, func(t *testing.T) {
			m := signedModel(t)
			tt.change(m)
			if err := m.Verify(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
	m := testModel(t)
	if err := m.Verify(); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("Verify of an unsigned model = %v, want ErrUnsigned", err)
	}
}
