package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// PutObject stores an object under c with the links it declares (raw-codec
// CIDs are shards, others objects). c must hash to data, else the error
// wraps ErrBadCID; raw-codec CIDs name shards and are refused. Storing an
// object again adds any new links and repairs a damaged copy. Linked content
// need not be stored. Links are indexed both ways: see Links and Backlinks.
//
// Like a loose shard, an object is kept by GC only if a pin reaches it.
func (s *Store) PutObject(ctx context.Context, c cid.Cid, data []byte, links []cid.Cid) error {
	return s.PutObjectIndexed(ctx, ObjectPut{CID: c, Data: data, Links: links}, nil)
}

func checkObject(c cid.Cid, data []byte, links []cid.Cid) error {
	if err := checkObjectCID(c, data); err != nil {
		return err
	}
	for i, l := range links {
		if !l.Defined() {
			return fmt.Errorf("%w: link %d of %s is undefined", ErrBadCID, i, c)
		}
	}
	return nil
}

// checkPut is checkObject of p, and checks that p.KeptBy, if set, is an
// object p links to.
func checkPut(p ObjectPut) error {
	if err := checkObject(p.CID, p.Data, p.Links); err != nil {
		return err
	}
	if p.KeptBy.Defined() && (p.KeptBy.Type() == cid.Raw || !slices.ContainsFunc(p.Links, p.KeptBy.Equals)) {
		return fmt.Errorf("%w: %s is to be kept by %s, which is not an object it links to", ErrBadCID, p.CID, p.KeptBy)
	}
	return nil
}

// putObject adds to txn the writes that store object p.CID: its bytes
// (unless an intact copy is stored), its record with the union of old and
// new links (and the link it is kept by: the stored one, else p.KeptBy),
// and the reverse-index key of every new link (r for a shard, b for an
// object; see linkKey). When it stores the bytes again it writes the keys
// of all the links, old and new: an interrupted GC sweep may have deleted
// them (see schema.go). Links in p.Unlisted get no b key. Every write of
// an object goes through putObject.
func putObject(txn *badger.Txn, p ObjectPut) error {
	c, data := p.CID, p.Data
	rk := objectRecordKey(c)
	rec, stored, err := readObjectRecord(txn, c)
	if err != nil {
		return err
	}
	writeData := !stored
	if stored {
		item, err := txn.Get(objectDataKey(c))
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			writeData = true
		case err != nil:
			return err
		default:
			err = item.Value(func(v []byte) error {
				writeData = !bytes.Equal(v, data)
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	if writeData {
		if err := txn.Set(objectDataKey(c), data); err != nil {
			return err
		}
	}
	merged, changed := mergeLinks(rec.links, p.Links)
	keptBy := rec.keptBy
	if keptBy == 0 && p.KeptBy.Defined() {
		keptBy, changed = slices.IndexFunc(merged, p.KeptBy.Equals)+1, true
	}
	if stored && !changed && !writeData {
		return nil
	}
	indexed := merged[len(rec.links):]
	if writeData {
		indexed = merged
	}
	rec = objectRecord{size: int64(len(data)), links: merged, keptBy: keptBy}
	if err := txn.Set(rk, rec.encode()); err != nil {
		return err
	}
	for _, l := range indexed {
		if slices.ContainsFunc(p.Unlisted, l.Equals) {
			continue
		}
		if err := txn.Set(linkKey(l, c), nil); err != nil {
			return err
		}
	}
	return nil
}

// readObjectRecord returns the record of object c and whether it is stored.
func readObjectRecord(txn *badger.Txn, c cid.Cid) (objectRecord, bool, error) {
	item, err := txn.Get(objectRecordKey(c))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return objectRecord{}, false, nil
	}
	if err != nil {
		return objectRecord{}, false, err
	}
	var rec objectRecord
	err = item.Value(func(v []byte) error {
		rec, err = decodeObjectRecord(v)
		return err
	})
	if err != nil {
		return objectRecord{}, false, err
	}
	return rec, true, nil
}

// GetObject returns the object c after checking that it hashes to c. A
// mismatch returns an error wrapping ErrCorrupt that names c; a missing
// object, one wrapping ErrNotFound.
func (s *Store) GetObject(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, fmt.Errorf("get object %s: %w", c, err)
	}
	defer s.end()
	var data []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(objectDataKey(c))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if data, err = item.ValueCopy(nil); err != nil {
			return err
		}
		return checkStoredObject(c, data)
	})
	if err != nil {
		return nil, fmt.Errorf("get object %s: %w", c, err)
	}
	return data, nil
}

// checkStoredObject returns ErrCorrupt unless data hashes to c.
func checkStoredObject(c cid.Cid, data []byte) error {
	ok, err := hashMatches(c.Hash(), data)
	if err != nil {
		return err
	}
	if !ok {
		return ErrCorrupt
	}
	return nil
}

// HasObject reports whether object c is stored. It does not read or check
// the object's bytes.
func (s *Store) HasObject(ctx context.Context, c cid.Cid) (bool, error) {
	if !c.Defined() {
		return false, nil
	}
	if err := s.begin(ctx); err != nil {
		return false, fmt.Errorf("has object %s: %w", c, err)
	}
	defer s.end()
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = exists(txn, objectDataKey(c))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("has object %s: %w", c, err)
	}
	return ok, nil
}

// Links returns the links declared for object c, in the order first
// declared, without duplicates.
func (s *Store) Links(ctx context.Context, c cid.Cid) ([]cid.Cid, error) {
	if err := s.begin(ctx); err != nil {
		return nil, fmt.Errorf("links of %s: %w", c, err)
	}
	defer s.end()
	var rec objectRecord
	err := s.db.View(func(txn *badger.Txn) error {
		var stored bool
		var err error
		rec, stored, err = readObjectRecord(txn, c)
		if err == nil && !stored {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", c, err)
	}
	return rec.links, nil
}

// Backlinks returns the CIDs of the stored objects that declare a link to
// target, in CID byte order. target need not be stored. A raw-codec target
// names a shard, and the answer is the objects that link to that shard.
// Backlinks reads the reverse index of links, never objects or their
// records; ForEachBacklink does the same without collecting a slice.
func (s *Store) Backlinks(ctx context.Context, target cid.Cid) ([]cid.Cid, error) {
	var out []cid.Cid
	err := s.ForEachBacklink(ctx, target, func(c cid.Cid) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForEachBacklink calls fn with the CID of every stored object that declares
// a link to target, in CID byte order, as Backlinks lists them. It stops at
// the first error fn returns and returns it. fn sees a snapshot taken when
// ForEachBacklink starts and may call the Store.
func (s *Store) ForEachBacklink(ctx context.Context, target cid.Cid, fn func(c cid.Cid) error) error {
	if !target.Defined() {
		return nil // an undefined CID is never a declared link (checkObject)
	}
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("backlinks of %s: %w", target, err)
	}
	defer s.end()
	ctx, release := s.opContext(ctx)
	defer release()
	prefix := backlinkPrefix(target)
	if target.Type() == cid.Raw {
		prefix = shardRefPrefix(target.Hash())
	}
	return s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, prefix, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return fmt.Errorf("backlinks of %s: %w", target, err)
			}
			k := item.Key()
			c, err := cid.Cast(k[len(prefix):])
			if err != nil {
				return fmt.Errorf("backlinks of %s: %w: key %x: %w", target, errBadKey, k, err)
			}
			return fn(c)
		})
	})
}

// ForEachObject calls fn for every stored object in CID byte order, with
// bytes checked against the CID; fn owns data. It stops at the first error,
// from fn or a corrupt object (wrapping ErrCorrupt and naming the CID). fn
// sees a snapshot taken when ForEachObject starts and may call the Store.
func (s *Store) ForEachObject(ctx context.Context, fn func(c cid.Cid, data []byte) error) error {
	if err := s.begin(ctx); err != nil {
		return fmt.Errorf("for each object: %w", err)
	}
	defer s.end()
	ctx, release := s.opContext(ctx)
	defer release()
	return s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, []byte{prefixObjectData}, func(item *badger.Item) error {
			if err := ctxErr(ctx); err != nil {
				return fmt.Errorf("for each object: %w", err)
			}
			c, err := cidFromKey(item.Key())
			if err != nil {
				return fmt.Errorf("for each object: %w", err)
			}
			data, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("read object %s: %w", c, err)
			}
			if err := checkStoredObject(c, data); err != nil {
				return fmt.Errorf("object %s: %w", c, err)
			}
			return fn(c, data)
		})
	})
}
