package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// checkVersion writes the schema version into a new database, upgrades a
// database of an older version it knows, one version at a time, and refuses
// any other.
func (s *Store) checkVersion() error {
	for {
		raw, err := s.readVersion()
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		v, n := binary.Uvarint(raw)
		switch {
		case n <= 0 || n != len(raw):
			// Not a version this package wrote.
		case v == schemaVersion:
			return nil
		case v == 1:
			if err := s.upgradeFrom1(); err != nil {
				return fmt.Errorf("upgrade schema version 1 to 2: %w", err)
			}
			continue
		case v == 2:
			if err := s.upgradeFrom2(); err != nil {
				return fmt.Errorf("upgrade schema version 2 to 3: %w", err)
			}
			continue
		}
		return fmt.Errorf("schema version %x is not supported (want %d)", raw, schemaVersion)
	}
}

// readVersion returns the stored schema version, writing schemaVersion
// first into a database that has none (a new one).
func (s *Store) readVersion() ([]byte, error) {
	var raw []byte
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(versionKey())
		if errors.Is(err, badger.ErrKeyNotFound) {
			raw = binary.AppendUvarint(nil, schemaVersion)
			return txn.Set(versionKey(), raw)
		}
		if err != nil {
			return err
		}
		raw, err = item.ValueCopy(nil)
		return err
	})
	return raw, err
}

// upgradeFrom1 upgrades a version 1 database to version 2: it writes the b
// key of every link between objects, found in the object records, then the
// new version. The version goes last, after a sync, so an upgrade cut short
// (crash, power loss, error) is done again by the next Open; writing a key
// that is already there is harmless. It runs in Open, before the store is
// used. A WriteBatch splits the keys into transactions below Badger's size
// limit.
func (s *Store) upgradeFrom1() error {
	start := time.Now()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	var objects, backlinks int
	err := s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, []byte{prefixObjectRecord}, func(item *badger.Item) error {
			c, err := cidFromKey(item.Key())
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				rec, err := decodeObjectRecord(v)
				if err != nil {
					return fmt.Errorf("object %s: %w", c, err)
				}
				objects++
				for _, l := range rec.links {
					if l.Type() == cid.Raw {
						continue
					}
					if err := wb.Set(backlinkKey(l, c), nil); err != nil {
						return fmt.Errorf("object %s: %w", c, err)
					}
					backlinks++
				}
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("index object links: %w", err)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write backlinks: %w", err)
	}
	// Without SyncWrites, a power loss could keep the version written below
	// and lose backlinks written before it.
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(versionKey(), binary.AppendUvarint(nil, 2))
	}); err != nil {
		return fmt.Errorf("write version: %w", err)
	}
	s.log.Info("upgraded storage schema",
		slog.Int("from", 1), slog.Int("to", 2),
		slog.Int("objects", objects), slog.Int("backlinks", backlinks),
		slog.Duration("took", time.Since(start)))
	return nil
}

// upgradeFrom2 upgrades a version 2 database to version 3. Version 3 only
// adds a field to object records (ObjectPut.KeptBy), so the upgrade writes
// the version: what it changes is that a build of version 2, which would
// refuse such a record and collect the object, refuses the database.
func (s *Store) upgradeFrom2() error {
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(versionKey(), binary.AppendUvarint(nil, 3))
	}); err != nil {
		return fmt.Errorf("write version: %w", err)
	}
	s.log.Info("upgraded storage schema", slog.Int("from", 2), slog.Int("to", 3))
	return nil
}
