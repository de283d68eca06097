package datanet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

var testNow = time.Unix(1_760_000_000, 0)

func newTestRegistry(t testing.TB) (*Registry, *storage.Store) {
	t.Helper()
	store, err := storage.Open(storage.DefaultConfig(filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newRegistryOn(t, store), store
}

// CurationRules are the real curation rules (curation.Rules{}), set by the
// external test package's init (rules_ext_test.go): this package's own
// tests cannot import curation, which imports datanet, so they get the
// rules the daemon uses without an import cycle.
var CurationRules Rules

// newRegistryOn returns a registry over store with the curation rules.
func newRegistryOn(t testing.TB, store *storage.Store) *Registry {
	t.Helper()
	if CurationRules == nil {
		t.Fatal("CurationRules is not set (rules_ext_test.go's init)")
	}
	r, err := NewRegistry(store, Config{Rules: CurationRules})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// uncheckedSnapshots are the curation rules with every snapshot's evidence
// taken as proven, for tests of the registry's own checks of a snapshot's
// links.
type uncheckedSnapshots struct{ Rules }

func (uncheckedSnapshots) VerifyEntry(*Datanet, *Snapshot, *Contribution, *SnapshotEntry) error {
	return nil
}

func createTestDatanet(t testing.TB, r *Registry, spec DatanetSpec) cid.Cid {
	t.Helper()
	id, _, err := r.CreateDatanet(context.Background(), spec, 1337, ownerSigner(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// writeTree writes files (slash paths relative to root) and returns root.
func writeTree(t testing.TB, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestAddContribution(t *testing.T) {
	ctx := context.Background()
	r, store := newTestRegistry(t)
	dn := createTestDatanet(t, r, DatanetSpec{Name: "corpus", License: "CC0-1.0"})
	big := bytes.Repeat([]byte("abcdefghij"), 250_000) // 2.38 MiB: 3 shards of 1 MiB
	root := writeTree(t, map[string][]byte{
		"set/b.txt":       []byte("bee\n"),
		"set/a/empty.txt": {},
		"set/a/big.bin":   big,
		"single.md":       []byte("# one\n"),
	})
	c, k, err := r.Add(ctx, []string{filepath.Join(root, "set"), filepath.Join(root, "single.md")},
		AddOptions{Datanet: dn, ChunkSize: 1 << 20, Metadata: map[string]string{"lang": "en"}}, contributorSigner(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range k.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, ","); got != "set/a/big.bin,set/a/empty.txt,set/b.txt,single.md" {
		t.Fatalf("paths %s", got)
	}
	if k.License != "CC0-1.0" || k.Size != uint64(len(big)+4+6) || k.ChainID != 1337 {
		t.Fatalf("contribution fields: %+v", k)
	}
	// Shards are the IPFS raw-leaf CIDs of the chunks, and the root is the
	// OpenZeppelin tree over (index, digest, size) in file order.
	var leaves []proofs.Hash
	var want [][]byte
	for off := 0; off < len(big); off += 1 << 20 {
		want = append(want, big[off:min(off+1<<20, len(big))])
	}
	want = append(want, []byte{}, []byte("bee\n"), []byte("# one\n"))
	i := 0
	for _, f := range k.Files {
		for _, s := range f.Shards {
			if !s.Equals(storage.ShardCID(want[i])) {
				t.Fatalf("shard %d of %s: %s", i, f.Path, s)
			}
			leaves = append(leaves, proofs.ShardLeaf(uint64(i), sha256.Sum256(want[i]), uint64(len(want[i]))))
			i++
		}
	}
	tree, err := proofs.NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Root() != proofs.Hash(k.Root) {
		t.Fatalf("root %x, want %s", k.Root, tree.Root())
	}
	// Stored, decodable, verifiable, pinned.
	obj, err := r.Object(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := obj.Verify(); err != nil {
		t.Fatal(err)
	}
	if obj.Signer() != contributorSigner(t).Address() {
		t.Fatalf("signer %s", obj.Signer())
	}
	if pinned, err := store.IsPinned(ctx, c); err != nil || !pinned {
		t.Fatalf("pinned %v %v", pinned, err)
	}
	entries, err := r.Contributions(ctx, dn)
	if err != nil || len(entries) != 1 || !entries[0].CID.Equals(c) {
		t.Fatalf("Contributions: %v %v", entries, err)
	}

	// Resolution of paths.
	for _, tc := range []struct {
		path, kind string
		files      int
		err        error
	}{
		{c.String(), ResolvedDirectory, 4, nil},
		{c.String() + "/set", ResolvedDirectory, 3, nil},
		{c.String() + "/set/a/", ResolvedDirectory, 2, nil},
		{"/content/" + c.String() + "/set/b.txt", ResolvedFile, 0, nil},
		{c.String() + "/se", "", 0, ErrNoSuchPath},
		{c.String() + "/set/../single.md", "", 0, ErrBadPath},
		{"nonsense", "", 0, ErrBadPath},
		{k.Files[0].Shards[0].String(), ResolvedShard, 0, nil},
		{k.Files[0].Shards[0].String() + "/x", "", 0, ErrNoSuchPath},
		{dn.String(), ResolvedObject, 0, nil},
	} {
		res, err := r.Resolve(ctx, tc.path)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Resolve(%s): %v, want %v", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || res.Kind != tc.kind || len(res.Files) != tc.files {
			t.Errorf("Resolve(%s) = %+v, %v", tc.path, res, err)
		}
	}
	res, err := r.Resolve(ctx, c.String()+"/set/a/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.OpenFile(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}

// TestAddRefusesBadInput checks each refused add returns the right error and
// leaves the store exactly as it was.
func TestAddRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	r, store := newTestRegistry(t)
	open := createTestDatanet(t, r, DatanetSpec{Name: "open"})
	strict := createTestDatanet(t, r, DatanetSpec{Name: "strict", Kinds: []string{"TXT", ".md"}, MaxContributionSize: 100})
	root := writeTree(t, map[string][]byte{
		"ok/a.txt":   []byte("fine"),
		"big.txt":    bytes.Repeat([]byte("x"), 101),
		"data.csv":   []byte("a,b"),
		"dup1/x.txt": []byte("1"),
		"dup2/x.txt": []byte("2"),
	})
	os.MkdirAll(filepath.Join(root, "emptydir"), 0o755)
	os.Symlink(filepath.Join(root, "ok", "a.txt"), filepath.Join(root, "link.txt"))
	os.MkdirAll(filepath.Join(root, "x"), 0o755)
	os.WriteFile(filepath.Join(root, "x", "x.txt"), []byte("x"), 0o644)
	before, err := store.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(root, filepath.FromSlash(n)))
		}
		return out
	}
	for name, tc := range map[string]struct {
		paths []string
		opts  AddOptions
		want  error
	}{
		"missing file":    {p("nope.txt"), AddOptions{Datanet: open}, ErrBadInput},
		"no paths":        {nil, AddOptions{Datanet: open}, ErrBadInput},
		"empty directory": {p("emptydir"), AddOptions{Datanet: open}, ErrBadInput},
		"symlink":         {p("link.txt"), AddOptions{Datanet: open}, ErrBadInput},
		"same name twice": {p("dup1/x.txt", "x/x.txt"), AddOptions{Datanet: open}, ErrBadInput},
		"unknown datanet": {p("ok"), AddOptions{Datanet: storage.ShardCID([]byte("no"))}, ErrUnknownDatanet},
		"small chunks":    {p("ok"), AddOptions{Datanet: open, ChunkSize: 100}, storage.ErrChunkSize},
		"huge chunks":     {p("ok"), AddOptions{Datanet: open, ChunkSize: 5 << 20}, storage.ErrChunkSize},
		"wrong kind":      {p("data.csv"), AddOptions{Datanet: strict}, ErrNotAdmitted},
		"too big":         {p("big.txt"), AddOptions{Datanet: strict}, ErrNotAdmitted},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.opts.ChunkSize == 0 {
				tc.opts.ChunkSize = 1 << 20
			}
			_, _, err := r.Add(ctx, tc.paths, tc.opts, contributorSigner(t), testNow)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Add: %v, want %v", err, tc.want)
			}
			after, err := store.Stat(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after.Shards != before.Shards || after.Objects != before.Objects || after.ShardBytes != before.ShardBytes {
				t.Fatalf("refused add changed the store: %+v -> %+v", before, after)
			}
		})
	}
	// The strict Datanet admits what fits its rules; kinds were normalised.
	if _, _, err := r.Add(ctx, p("ok/a.txt"), AddOptions{Datanet: strict, ChunkSize: 1 << 20}, contributorSigner(t), testNow); err != nil {
		t.Fatalf("admissible add: %v", err)
	}
}

func TestAddCancelled(t *testing.T) {
	r, store := newTestRegistry(t)
	dn := createTestDatanet(t, r, DatanetSpec{Name: "cancel"})
	root := writeTree(t, map[string][]byte{"a.bin": bytes.Repeat([]byte{1, 2, 3}, 3<<20)})
	ctx, cancel := context.WithCancel(context.Background())
	opts := AddOptions{Datanet: dn, ChunkSize: 1 << 20, Progress: func(done, total int64) {
		if done >= 2<<20 {
			cancel()
		}
	}}
	if _, _, err := r.Add(ctx, []string{filepath.Join(root, "a.bin")}, opts, contributorSigner(t), testNow); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled add: %v", err)
	}
	st, err := store.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Shards != 0 || st.Objects != 1 {
		t.Fatalf("cancelled add left %+v", st)
	}
}

func TestDatanetsListed(t *testing.T) {
	r, _ := newTestRegistry(t)
	a := createTestDatanet(t, r, DatanetSpec{Name: "a"})
	b := createTestDatanet(t, r, DatanetSpec{Name: "b", Description: "second"})
	list, err := r.Datanets(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("Datanets: %v %v", list, err)
	}
	got := map[string]bool{list[0].ID.String(): true, list[1].ID.String(): true}
	if !got[a.String()] || !got[b.String()] {
		t.Fatalf("listed %v", got)
	}
	if _, err := r.Datanet(context.Background(), storage.ShardCID([]byte("x"))); !errors.Is(err, ErrUnknownDatanet) {
		t.Fatalf("unknown: %v", err)
	}
}

// checkKept fails unless object c survives a GC.
func checkKept(t *testing.T, store *storage.Store, c cid.Cid) {
	t.Helper()
	ctx := context.Background()
	if _, err := store.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.HasObject(ctx, c); err != nil || !ok {
		t.Fatalf("%s after GC: held %v, %v", c, ok, err)
	}
}
