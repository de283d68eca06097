package datanet

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// Well-known development keys (Hardhat and Anvil accounts 0 and 1). Never
// use them for anything of value.
const (
	ownerKeyHex       = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	contributorKeyHex = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
	testChainID       = 1612 // OPEN mainnet
)

func testKey(t testing.TB, hexKey string) *ecdsa.PrivateKey {
	t.Helper()
	key, err := crypto.HexToECDSA(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func ownerSigner(t testing.TB) Signer { return NewKeySigner(testKey(t, ownerKeyHex)) }

func contributorSigner(t testing.TB) Signer { return NewKeySigner(testKey(t, contributorKeyHex)) }

// rawCID returns the CID of a shard holding data.
func rawCID(t testing.TB, data []byte) cid.Cid {
	t.Helper()
	sum := sha256.Sum256(data)
	mh, err := multihash.Encode(sum[:], multihash.SHA2_256)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// testDatanet returns the unsigned first version of the golden Datanet.
func testDatanet(t testing.TB) *Datanet {
	t.Helper()
	return &Datanet{
		Name:                "Medical QA",
		Description:         "Question and answer pairs from open medical textbooks.\nOne pair per line.",
		License:             "CC-BY-4.0",
		Owner:               ownerSigner(t).Address(),
		ChainID:             testChainID,
		Kinds:               []string{"csv", "jsonl", "md", "txt"},
		MaxContributionSize: 1 << 30,
		// The owner and a curator decide, 2:1.
		Curators:     sortedCurators(Curator{ownerSigner(t).Address(), 2}, Curator{curatorSigner(t).Address(), 1}),
		Quorum:       2,
		ThresholdBps: 6667,
		Window:       7 * 24 * 3600,
		Created:      1767225600, // 2026-01-01T00:00:00Z
	}
}

// sortedCurators returns cs sorted by address, as Validate wants them.
func sortedCurators(cs ...Curator) []Curator {
	SortCurators(cs)
	return cs
}

// signedDatanet returns the golden Datanet, signed.
func signedDatanet(t testing.TB) *Datanet {
	t.Helper()
	d := testDatanet(t)
	if err := SignDatanet(d, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return d
}

// signedDatanetUpdate returns the golden second version of the Datanet.
func signedDatanetUpdate(t testing.TB) *Datanet {
	t.Helper()
	first := signedDatanet(t)
	prev, err := first.CID()
	if err != nil {
		t.Fatal(err)
	}
	d := testDatanet(t)
	d.Description = "Question and answer pairs from open medical textbooks."
	d.Kinds = []string{"jsonl"}
	d.MaxContributionSize = 0
	d.Seq = 1
	d.Prev = prev
	d.Created = 1767312000 // 2026-01-02T00:00:00Z
	if err := SignDatanet(d, ownerSigner(t)); err != nil {
		t.Fatal(err)
	}
	return d
}

// testFiles returns files of chunk size 1 MiB with deterministic shards.
func testFiles(t testing.TB) []File {
	t.Helper()
	mk := func(path string, size uint64) File {
		f := File{Path: path, Size: size}
		for i := range shardCount(size, 1<<20) {
			if size == 0 {
				f.Shards = append(f.Shards, rawCID(t, nil))
				continue
			}
			f.Shards = append(f.Shards, rawCID(t, fmt.Appendf(nil, "shard %d of %s", i, path)))
		}
		return f
	}
	return []File{
		mk("README.md", 100),
		mk("data/a.txt", 5<<19), // 2.5 MiB: 3 shards
		mk("data/b.jsonl", 0),   // empty: 1 shard
	}
}

// testContribution returns the unsigned golden Contribution to the golden
// Datanet.
func testContribution(t testing.TB) *Contribution {
	t.Helper()
	dn, err := signedDatanet(t).CID()
	if err != nil {
		t.Fatal(err)
	}
	return &Contribution{
		Datanet:     dn,
		Contributor: contributorSigner(t).Address(),
		Files:       testFiles(t),
		Root:        crypto.Keccak256Hash([]byte("golden root")),
		Size:        100 + 5<<19,
		ChunkSize:   1 << 20,
		License:     "CC-BY-4.0",
		Metadata:    map[string]string{"language": "en", "source": "openstax"},
		Created:     1767229200, // 2026-01-01T01:00:00Z
	}
}

func signedContribution(t testing.TB) *Contribution {
	t.Helper()
	c := testContribution(t)
	if err := SignContribution(c, testChainID, contributorSigner(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

// bigContribution returns a signed contribution of one file with n shards.
func bigContribution(t testing.TB, n int) *Contribution {
	t.Helper()
	c := testContribution(t)
	f := File{Path: "big.txt", Size: uint64(n) << 20}
	for i := range n {
		f.Shards = append(f.Shards, rawCID(t, fmt.Appendf(nil, "%d", i)))
	}
	c.Files, c.Size = []File{f}, f.Size
	if err := SignContribution(c, testChainID, contributorSigner(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDatanetValidate(t *testing.T) {
	objectCID := func() cid.Cid {
		c, err := signedDatanet(t).CID()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}()
	tests := []struct {
		name   string
		change func(d *Datanet)
		ok     bool
	}{
		{"golden", func(d *Datanet) {}, true},
		{"signed", func(d *Datanet) { d.Signature = make([]byte, 65) }, true},
		{"unsigned draft without chain ID", func(d *Datanet) { d.ChainID = 0 }, true},
		{"any kind", func(d *Datanet) { d.Kinds = nil }, true},
		{"update", func(d *Datanet) { d.Seq, d.Prev = 1, objectCID }, true},
		{"unicode name", func(d *Datanet) { d.Name = "Médecine 医学" }, true},
		{"longest name", func(d *Datanet) { d.Name = strings.Repeat("n", MaxNameLen) }, true},
		{"empty license", func(d *Datanet) { d.License = "" }, true},

		{"empty name", func(d *Datanet) { d.Name = "" }, false},
		{"long name", func(d *Datanet) { d.Name = strings.Repeat("n", MaxNameLen+1) }, false},
		{"newline in name", func(d *Datanet) { d.Name = "a\nb" }, false},
		{"invalid utf-8 name", func(d *Datanet) { d.Name = "a\xffb" }, false},
		{"long description", func(d *Datanet) { d.Description = strings.Repeat("d", MaxDescriptionLen+1) }, false},
		{"NUL in description", func(d *Datanet) { d.Description = "a\x00b" }, false},
		{"long license", func(d *Datanet) { d.License = strings.Repeat("l", MaxLicenseLen+1) }, false},
		{"zero owner", func(d *Datanet) { d.Owner = common.Address{} }, false},
		{"signed without chain ID", func(d *Datanet) { d.ChainID, d.Signature = 0, make([]byte, 65) }, false},
		{"unsorted kinds", func(d *Datanet) { d.Kinds = []string{"txt", "csv"} }, false},
		{"duplicate kinds", func(d *Datanet) { d.Kinds = []string{"csv", "csv"} }, false},
		{"upper-case kind", func(d *Datanet) { d.Kinds = []string{"TXT"} }, false},
		{"dotted kind", func(d *Datanet) { d.Kinds = []string{".txt"} }, false},
		{"empty kind", func(d *Datanet) { d.Kinds = []string{""} }, false},
		{"long kind", func(d *Datanet) { d.Kinds = []string{strings.Repeat("k", MaxKindLen+1)} }, false},
		{"too many kinds", func(d *Datanet) {
			d.Kinds = nil
			for i := range MaxKinds + 1 {
				d.Kinds = append(d.Kinds, fmt.Sprintf("k%03d", i))
			}
		}, false},
		{"first version with prev", func(d *Datanet) { d.Prev = objectCID }, false},
		{"update without prev", func(d *Datanet) { d.Seq = 1 }, false},
		{"prev is a shard", func(d *Datanet) { d.Seq, d.Prev = 1, rawCID(t, []byte("x")) }, false},
		{"zero created", func(d *Datanet) { d.Created = 0 }, false},
		{"negative created", func(d *Datanet) { d.Created = -1 }, false},
		{"short signature", func(d *Datanet) { d.Signature = make([]byte, 64) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDatanet(t)
			tt.change(d)
			err := d.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, encErr := d.Encode(); (encErr == nil) != tt.ok {
				t.Errorf("Encode error %v, want error: %t", encErr, !tt.ok)
			}
		})
	}
}

func TestContributionValidate(t *testing.T) {
	empty := rawCID(t, nil)
	shard := rawCID(t, []byte("shard"))
	file := func(path string, size uint64) File {
		f := File{Path: path, Size: size}
		for range shardCount(size, 1<<20) {
			f.Shards = append(f.Shards, shard)
		}
		return f
	}
	setFiles := func(files ...File) func(c *Contribution) {
		return func(c *Contribution) {
			c.Files, c.Size = files, 0
			for _, f := range files {
				c.Size += f.Size
			}
		}
	}
	tests := []struct {
		name   string
		change func(c *Contribution)
		ok     bool
	}{
		{"golden", func(c *Contribution) {}, true},
		{"signed", func(c *Contribution) { c.ChainID, c.Signature = testChainID, make([]byte, 65) }, true},
		{"no metadata", func(c *Contribution) { c.Metadata = nil }, true},
		{"exact chunks", setFiles(file("a", 2<<20)), true},
		{"one byte over", setFiles(file("a", 2<<20+1)), true},
		{"deep path", setFiles(file("a/b/c/d.txt", 1)), true},
		{"dot file", setFiles(file(".env", 1)), true},
		{"dots in name", setFiles(file("a..b", 1)), true},
		{"unicode path", setFiles(file("données/été.txt", 1)), true},
		{"sibling prefix", setFiles(file("a", 1), file("a-b", 1), file("ab/c", 1)), true},
		{"min chunk", func(c *Contribution) {
			c.ChunkSize = MinChunkSize
			setFiles(File{Path: "a", Size: 2 * MinChunkSize, Shards: []cid.Cid{shard, shard}})(c)
		}, true},

		{"undefined datanet", func(c *Contribution) { c.Datanet = cid.Undef }, false},
		{"datanet is a shard", func(c *Contribution) { c.Datanet = shard }, false},
		{"zero contributor", func(c *Contribution) { c.Contributor = common.Address{} }, false},
		{"signed without chain ID", func(c *Contribution) { c.Signature = make([]byte, 65) }, false},
		{"zero chunk size", func(c *Contribution) { c.ChunkSize = 0 }, false},
		{"small chunk size", func(c *Contribution) { c.ChunkSize = MinChunkSize - 1 }, false},
		{"big chunk size", func(c *Contribution) { c.ChunkSize = MaxChunkSize + 1 }, false},
		{"no files", setFiles(), false},
		{"unsorted files", setFiles(file("b", 1), file("a", 1)), false},
		{"duplicate files", setFiles(file("a", 1), file("a", 1)), false},
		{"file and directory", setFiles(file("a", 1), file("a/b", 1)), false},
		{"file and deep directory", setFiles(file("a/b", 1), file("a/b/c/d", 1)), false},
		{"empty path", setFiles(file("", 1)), false},
		{"absolute path", setFiles(file("/etc/passwd", 1)), false},
		{"dot-dot", setFiles(file("a/../b", 1)), false},
		{"leading dot-dot", setFiles(file("../b", 1)), false},
		{"dot segment", setFiles(file("./b", 1)), false},
		{"trailing slash", setFiles(file("a/", 1)), false},
		{"double slash", setFiles(file("a//b", 1)), false},
		{"backslash", setFiles(file(`..\b`, 1)), false},
		{"newline", setFiles(file("a\nb", 1)), false},
		{"invalid utf-8", setFiles(file("a\xff", 1)), false},
		{"long path", setFiles(file(strings.Repeat("a/", MaxPathLen/2)+"a", 1)), false},
		{"long segment", setFiles(file(strings.Repeat("a", MaxPathSegmentLen+1), 1)), false},
		{"empty file without shard", setFiles(File{Path: "a"}), false},
		{"empty file with two shards", setFiles(File{Path: "a", Shards: []cid.Cid{empty, empty}}), false},
		{"missing shard", setFiles(File{Path: "a", Size: 2 << 20, Shards: []cid.Cid{shard}}), false},
		{"extra shard", setFiles(File{Path: "a", Size: 1, Shards: []cid.Cid{shard, shard}}), false},
		{"undefined shard", setFiles(File{Path: "a", Size: 1, Shards: []cid.Cid{cid.Undef}}), false},
		{"dag-cbor shard", setFiles(File{Path: "a", Size: 1, Shards: []cid.Cid{c0(t)}}), false},
		{"CIDv0 shard", setFiles(File{Path: "a", Size: 1, Shards: []cid.Cid{cid.NewCidV0(shard.Hash())}}), false},
		{"sha3 shard", setFiles(File{Path: "a", Size: 1, Shards: []cid.Cid{sha3Shard(t)}}), false},
		{"wrong size", func(c *Contribution) { c.Size++ }, false},
		{"zero root", func(c *Contribution) { c.Root = [32]byte{} }, false},
		{"control in license", func(c *Contribution) { c.License = "MIT\x1b[31m" }, false},
		{"empty metadata key", func(c *Contribution) { c.Metadata = map[string]string{"": "x"} }, false},
		{"long metadata key", func(c *Contribution) { c.Metadata = map[string]string{strings.Repeat("k", MaxMetadataKeyLen+1): "x"} }, false},
		{"long metadata value", func(c *Contribution) { c.Metadata = map[string]string{"k": strings.Repeat("v", MaxMetadataValueLen+1)} }, false},
		{"newline in metadata", func(c *Contribution) { c.Metadata = map[string]string{"k": "a\nb"} }, false},
		{"too much metadata", func(c *Contribution) {
			c.Metadata = map[string]string{}
			for i := range MaxMetadataEntries + 1 {
				c.Metadata[fmt.Sprint(i)] = "x"
			}
		}, false},
		{"zero created", func(c *Contribution) { c.Created = 0 }, false},
		{"long signature", func(c *Contribution) { c.ChainID, c.Signature = testChainID, make([]byte, 66) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testContribution(t)
			tt.change(c)
			err := c.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

// c0 is a dag-cbor CID, which is not a shard.
func c0(t testing.TB) cid.Cid {
	c, err := signedDatanet(t).CID()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sha3Shard(t testing.TB) cid.Cid {
	mh, err := multihash.Sum([]byte("x"), multihash.SHA3_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, mh)
}

func TestLinks(t *testing.T) {
	d := signedDatanet(t)
	if links := d.Links(); len(links) != 0 {
		t.Errorf("first version links %v, want none", links)
	}
	u := signedDatanetUpdate(t)
	if links := u.Links(); len(links) != 1 || !links[0].Equals(u.Prev) {
		t.Errorf("update links %v, want [%s]", links, u.Prev)
	}
	c := signedContribution(t)
	links := c.Links()
	want := []cid.Cid{c.Datanet}
	for _, f := range c.Files {
		want = append(want, f.Shards...)
	}
	if len(links) != len(want) {
		t.Fatalf("contribution has %d links, want %d", len(links), len(want))
	}
	for i := range want {
		if !links[i].Equals(want[i]) {
			t.Errorf("links[%d] = %s, want %s", i, links[i], want[i])
		}
	}
}

func TestAdmits(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Datanet, c *Contribution)
		ok     bool
	}{
		{"golden", func(d *Datanet, c *Contribution) {}, true},
		{"any kind", func(d *Datanet, c *Contribution) { d.Kinds = nil; c.Files[0].Path = "x.bin" }, true},
		{"upper-case extension", func(d *Datanet, c *Contribution) { c.Files[0].Path = "README.MD" }, true},
		{"no limit", func(d *Datanet, c *Contribution) { d.MaxContributionSize = 0; c.Size = 1 << 40 }, true},
		{"at the limit", func(d *Datanet, c *Contribution) { d.MaxContributionSize = c.Size }, true},

		{"other chain", func(d *Datanet, c *Contribution) { c.ChainID = 161201 }, false},
		{"over the limit", func(d *Datanet, c *Contribution) { d.MaxContributionSize = c.Size - 1 }, false},
		{"kind not accepted", func(d *Datanet, c *Contribution) { c.Files[0].Path = "x.pdf" }, false},
		{"no extension", func(d *Datanet, c *Contribution) { c.Files[0].Path = "README" }, false},
		{"extension of a directory", func(d *Datanet, c *Contribution) { c.Files[0].Path = "a.txt/README" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, c := testDatanet(t), testContribution(t)
			c.ChainID = d.ChainID
			tt.change(d, c)
			err := d.Admits(c)
			if tt.ok && err != nil {
				t.Fatalf("Admits: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrNotAdmitted) {
				t.Fatalf("Admits = %v, want ErrNotAdmitted", err)
			}
		})
	}
}

func TestShardCount(t *testing.T) {
	tests := []struct{ size, chunk, want uint64 }{
		{0, 1024, 1},
		{1, 1024, 1},
		{1024, 1024, 1},
		{1025, 1024, 2},
		{1<<64 - 1, MaxChunkSize, 1 << 42},
		{1<<64 - 1, MinChunkSize, 1 << 54},
	}
	for _, tt := range tests {
		if got := shardCount(tt.size, tt.chunk); got != tt.want {
			t.Errorf("shardCount(%d, %d) = %d, want %d", tt.size, tt.chunk, got, tt.want)
		}
	}
}
