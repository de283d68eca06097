package storage

import (
	"crypto/sha256"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// TestShardCIDVectors checks ShardCID against CIDs IPFS gives raw leaves
// (`ipfs add --raw-leaves --cid-version 1`), and against an independent
// computation with go-multihash and go-cid.
func TestShardCIDVectors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte{}, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello world", []byte("hello world"), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"},
		{"1 MiB", randBytes(1, DefaultChunkSize), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ShardCID(tt.data)
			mh, err := multihash.Sum(tt.data, multihash.SHA2_256, -1)
			if err != nil {
				t.Fatal(err)
			}
			independent := cid.NewCidV1(cid.Raw, mh)
			viaPrefix, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_256, MhLength: -1}.Sum(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equals(independent) || !got.Equals(viaPrefix) {
				t.Fatalf("ShardCID = %s, go-cid computes %s / %s", got, independent, viaPrefix)
			}
			if tt.want != "" && got.String() != tt.want {
				t.Fatalf("ShardCID = %s, IPFS gives %s", got, tt.want)
			}
			if got.Version() != 1 || got.Type() != cid.Raw {
				t.Fatalf("ShardCID = v%d codec %#x, want v1 raw", got.Version(), got.Type())
			}
		})
	}
}

func TestDigest(t *testing.T) {
	data := []byte("hello world")
	want := sha256.Sum256(data)
	for _, c := range []cid.Cid{ShardCID(data), ObjectCID(cid.DagCBOR, data), cid.NewCidV0(ShardCID(data).Hash())} {
		if got, err := Digest(c); err != nil || got != want {
			t.Errorf("Digest(%s) = %x, %v; want %x", c, got, err, want)
		}
	}
	blake, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.BLAKE2B_MIN + 31, MhLength: -1}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	sha512, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_512, MhLength: -1}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []cid.Cid{cid.Undef, blake, sha512} {
		if _, err := Digest(c); err == nil {
			t.Errorf("Digest(%s) accepted", c)
		}
	}
}

func TestObjectCID(t *testing.T) {
	data := []byte{0xa1, 0x61, 0x61, 0x01} // {"a": 1} in DAG-CBOR
	want, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_256, MhLength: -1}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := ObjectCID(cid.DagCBOR, data); !got.Equals(want) {
		t.Fatalf("ObjectCID = %s, want %s", got, want)
	}
	if got := ObjectCID(cid.Raw, data); !got.Equals(ShardCID(data)) {
		t.Fatalf("ObjectCID(raw) = %s, want the shard CID %s", got, ShardCID(data))
	}
}

func TestCheckChunkSize(t *testing.T) {
	tests := []struct {
		n  int
		ok bool
	}{
		{0, false},
		{-1, false},
		{MinChunkSize - 1, false},
		{MinChunkSize, true},
		{DefaultChunkSize, true},
		{MaxChunkSize, true},
		{MaxChunkSize + 1, false},
	}
	for _, tt := range tests {
		err := CheckChunkSize(tt.n)
		if (err == nil) != tt.ok {
			t.Errorf("CheckChunkSize(%d) = %v, want ok=%v", tt.n, err, tt.ok)
		}
		if err != nil {
			wantErr(t, err, ErrChunkSize)
		}
	}
}

func TestHashMatches(t *testing.T) {
	data := []byte("some bytes")
	sha512, err := multihash.Sum(data, multihash.SHA2_512, -1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mh      multihash.Multihash
		ok      bool
		wantErr bool
	}{
		{"sha2-256", sha256Multihash(data), true, false},
		{"sha2-256 other data", sha256Multihash([]byte("other")), false, false},
		{"sha2-512", sha512, true, false},
		{"garbage", multihash.Multihash{0xff}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := hashMatches(tt.mh, data)
			if (err != nil) != tt.wantErr || ok != tt.ok {
				t.Fatalf("hashMatches = %v, %v; want %v, error %v", ok, err, tt.ok, tt.wantErr)
			}
		})
	}
}
