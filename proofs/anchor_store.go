package proofs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// The anchorer's Badger key schema. The database at AnchorConfig.Dir is the
// anchorer's own; all integers are big-endian.
//
//	q/<seq u64>        queued item, in enqueue order: leaf (32 bytes) ‖ id
//	i/<id>             item: state (1 byte) ‖ n (u64) ‖ leaf (32) [‖ path (32 each)]
//	                   n is the queue seq while queued, the batch number after;
//	                   the path to the batch root is there once anchored
//	b/<batch u64>      batch header, JSON (anchorBatch)
//	x/<batch u64>      batch items in queue order, the tree's input order: (leaf (32) ‖ len(id) (u16) ‖ id)*
//	m/anchored         number of anchored items (u64)
//
// Cutting a batch writes b/ and x/, deletes the items' q/ keys and moves their
// i/ keys to itemBatched in one transaction; anchoring writes the paths into
// i/ and the chain facts into b/ in one transaction.
var (
	prefixQueue = []byte("q/")
	prefixItem  = []byte("i/")
	prefixBatch = []byte("b/")
	prefixItems = []byte("x/")
	keyAnchored = []byte("m/anchored")
)

// Item states, the first byte of an i/ value.
const (
	itemQueued   byte = 1
	itemBatched  byte = 2
	itemAnchored byte = 3
)

// Batch states.
const (
	batchCut      = "cut"      // items fixed, nothing sent
	batchSent     = "sent"     // a signed transaction stored and broadcast
	batchAnchored = "anchored" // proofs recorded
)

// maxIDLen bounds an item ID, well under Badger's key limit.
const maxIDLen = 1024

// anchorBatch is a batch header as stored under b/.
type anchorBatch struct {
	Number    uint64 `json:"number"`
	Root      Hash   `json:"root"`
	ItemCount uint64 `json:"itemCount"`
	// MinSeq and MaxSeq are the queue seqs of the first and last items.
	MinSeq uint64 `json:"minSeq"`
	MaxSeq uint64 `json:"maxSeq"`
	State  string `json:"state"`
	// The last signed transaction, set from State sent on.
	TxHash common.Hash   `json:"txHash,omitzero"`
	RawTx  hexutil.Bytes `json:"rawTx,omitempty"`
	SentAt time.Time     `json:"sentAt,omitzero"`
	// Set once anchored.
	ChainID     uint64         `json:"chainId,omitempty"`
	Contract    common.Address `json:"contract,omitzero"`
	BlockNumber uint64         `json:"blockNumber,omitempty"`
	// OnChainCount is the item count the registry holds for Root.
	OnChainCount uint64 `json:"onChainCount,omitempty"`

	// broadcast reports whether RawTx was broadcast by this process; not stored.
	broadcast bool
}

// batchItem is an item of a batch.
type batchItem struct {
	seq  uint64
	id   []byte
	leaf Hash
}

func u64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

func key(prefix, rest []byte) []byte {
	return append(append(make([]byte, 0, len(prefix)+len(rest)), prefix...), rest...)
}

func itemValue(state byte, n uint64, leaf Hash, path []Hash) []byte {
	v := make([]byte, 0, 41+32*len(path))
	v = append(v, state)
	v = binary.BigEndian.AppendUint64(v, n)
	v = append(v, leaf[:]...)
	for _, h := range path {
		v = append(v, h[:]...)
	}
	return v
}

// parseItem decodes an i/ value.
func parseItem(v []byte) (state byte, n uint64, leaf Hash, path []Hash, err error) {
	if len(v) < 41 || (len(v)-41)%32 != 0 {
		return 0, 0, Hash{}, nil, fmt.Errorf("anchor item record of %d bytes", len(v))
	}
	state, n = v[0], binary.BigEndian.Uint64(v[1:9])
	copy(leaf[:], v[9:41])
	for rest := v[41:]; len(rest) > 0; rest = rest[32:] {
		path = append(path, Hash(rest[:32]))
	}
	return state, n, leaf, path, nil
}

func encodeItems(items []batchItem) []byte {
	var v []byte
	for _, it := range items {
		v = append(v, it.leaf[:]...)
		v = binary.BigEndian.AppendUint16(v, uint16(len(it.id)))
		v = append(v, it.id...)
	}
	return v
}

func decodeItems(v []byte) ([]batchItem, error) {
	var items []batchItem
	for len(v) > 0 {
		if len(v) < 34 {
			return nil, errors.New("truncated batch items")
		}
		var it batchItem
		copy(it.leaf[:], v[:32])
		n := int(binary.BigEndian.Uint16(v[32:34]))
		if len(v) < 34+n {
			return nil, errors.New("truncated batch item id")
		}
		it.id = append([]byte(nil), v[34:34+n]...)
		items = append(items, it)
		v = v[34+n:]
	}
	return items, nil
}

func putBatch(txn *badger.Txn, b *anchorBatch) error {
	v, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode batch %d: %w", b.Number, err)
	}
	return txn.Set(key(prefixBatch, u64(b.Number)), v)
}

func getBatch(txn *badger.Txn, n uint64) (*anchorBatch, error) {
	it, err := txn.Get(key(prefixBatch, u64(n)))
	if err != nil {
		return nil, fmt.Errorf("read batch %d: %w", n, err)
	}
	b := new(anchorBatch)
	if err := it.Value(func(v []byte) error { return json.Unmarshal(v, b) }); err != nil {
		return nil, fmt.Errorf("decode batch %d: %w", n, err)
	}
	return b, nil
}

func getBatchItems(txn *badger.Txn, n uint64) ([]batchItem, error) {
	it, err := txn.Get(key(prefixItems, u64(n)))
	if err != nil {
		return nil, fmt.Errorf("read items of batch %d: %w", n, err)
	}
	var items []batchItem
	err = it.Value(func(v []byte) error {
		items, err = decodeItems(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("decode items of batch %d: %w", n, err)
	}
	return items, nil
}

func getU64(txn *badger.Txn, k []byte) (uint64, error) {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = it.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%s: %d bytes, want 8", k, len(v))
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	return n, err
}
