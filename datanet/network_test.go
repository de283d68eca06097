package datanet

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestCheckAndPut(t *testing.T) {
	ctx := context.Background()
	// The author's node makes a Datanet and a contribution.
	src, _ := newTestRegistry(t)
	dn := createTestDatanet(t, src, DatanetSpec{Name: "net", Kinds: []string{"txt"}})
	root := writeTree(t, map[string][]byte{"a.txt": []byte("hello")})
	kc, _, err := src.Add(ctx, []string{filepath.Join(root, "a.txt")}, AddOptions{Datanet: dn, ChunkSize: 1 << 20}, contributorSigner(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	dnBytes, _ := src.Get(ctx, dn)
	kBytes, _ := src.Get(ctx, kc)

	// Another node receives them.
	dst, _ := newTestRegistry(t)
	if _, err := dst.Check(ctx, dn, kBytes); !errors.Is(err, ErrUnknownDatanet) {
		t.Fatalf("contribution before its datanet: %v, want ErrUnknownDatanet (ignore)", err)
	}
	other := createTestDatanet(t, dst, DatanetSpec{Name: "other"})
	if _, err := dst.Check(ctx, other, dnBytes); !errors.Is(err, ErrWrongTopic) {
		t.Fatalf("datanet on another's topic: %v", err)
	}
	ch, err := dst.Put(ctx, dnBytes)
	if err != nil || !ch.CID.Equals(dn) || !ch.Datanet.Equals(dn) {
		t.Fatalf("put datanet: %+v %v", ch, err)
	}
	if _, err := dst.Check(ctx, other, kBytes); !errors.Is(err, ErrWrongTopic) {
		t.Fatalf("contribution on another's topic: %v", err)
	}
	ch, err = dst.Put(ctx, kBytes)
	if err != nil || !ch.CID.Equals(kc) || !ch.Datanet.Equals(dn) {
		t.Fatalf("put contribution: %+v %v", ch, err)
	}
	ids, err := dst.IDs(ctx, dn)
	if err != nil || len(ids) != 2 {
		t.Fatalf("IDs: %v %v", ids, err)
	}
	if has, _ := dst.Has(ctx, kc); !has {
		t.Fatal("contribution not stored")
	}

	// Bad bytes.
	forged := append([]byte(nil), kBytes...)
	forged[len(forged)-10] ^= 1 // inside the signature
	flipped := append([]byte(nil), kBytes...)
	flipped[40] ^= 1
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"garbage":         {[]byte("not cbor"), ErrMalformed},
		"forged":          {forged, ErrBadSignature},
		"flipped content": {flipped, nil},
	} {
		_, err := dst.Check(ctx, cid.Undef, tc.data)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
