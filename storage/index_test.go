package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestIndex checks the index key space: get, set, delete, scans forward
// and in reverse from a start, an update that fails leaves nothing, and
// an object and its index entries are stored in one transaction.
func TestIndex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		err := s.UpdateIndex(ctx, func(tx *IndexTxn) error {
			for i := range 10 {
				if err := tx.Set(fmt.Appendf(nil, "a/%02d", i), []byte{byte(i)}); err != nil {
					return err
				}
			}
			return tx.Set([]byte("b/00"), []byte("other"))
		})
		if err != nil {
			t.Fatal(err)
		}
		scan := func(prefix, start string, reverse bool, limit int) []string {
			t.Helper()
			var out []string
			var st []byte
			if start != "" {
				st = []byte(start)
			}
			err := s.ViewIndex(ctx, func(tx *IndexTxn) error {
				return tx.Scan([]byte(prefix), st, reverse, func(k, v []byte) (bool, error) {
					out = append(out, string(k))
					return len(out) < limit, nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := scan("a/", "", false, 3); !slices.Equal(got, []string{"a/00", "a/01", "a/02"}) {
			t.Fatalf("first page = %v", got)
		}
		if got := scan("a/", "a/05", false, 2); !slices.Equal(got, []string{"a/05", "a/06"}) {
			t.Fatalf("page from a/05 = %v", got)
		}
		if got := scan("a/", "", true, 2); !slices.Equal(got, []string{"a/09", "a/08"}) {
			t.Fatalf("last page = %v", got)
		}
		if got := scan("a/", "a/04", true, 2); !slices.Equal(got, []string{"a/04", "a/03"}) {
			t.Fatalf("reverse page from a/04 = %v", got)
		}
		if got := scan("a/", "", false, 100); len(got) != 10 {
			t.Fatalf("scan of a/ = %v, want the 10 keys and not b/00", got)
		}
		if got := scan("b/", "", true, 100); !slices.Equal(got, []string{"b/00"}) {
			t.Fatalf("reverse scan of b/ = %v", got)
		}

		// A failing update writes nothing.
		boom := errors.New("boom")
		err = s.UpdateIndex(ctx, func(tx *IndexTxn) error {
			if err := tx.Delete([]byte("a/00")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("UpdateIndex = %v", err)
		}
		err = s.ViewIndex(ctx, func(tx *IndexTxn) error {
			v, err := tx.Get([]byte("a/00"))
			if err != nil || len(v) != 1 || v[0] != 0 {
				return fmt.Errorf("a/00 after a failed update: %v %v", v, err)
			}
			if _, err := tx.Get([]byte("a/zz")); !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("Get(missing) = %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// An object and its entries together; a failing fn stores neither.
		data, c := testObject("indexed")
		err = s.PutObjectIndexed(ctx, ObjectPut{CID: c, Data: data, Pin: true}, func(tx *IndexTxn) error {
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("PutObjectIndexed = %v", err)
		}
		if has, err := s.HasObject(ctx, c); err != nil || has {
			t.Fatalf("the object of a failed indexed put is stored: %v %v", has, err)
		}
		err = s.PutObjectIndexed(ctx, ObjectPut{CID: c, Data: data, Pin: true}, func(tx *IndexTxn) error {
			return tx.Set([]byte("obj"), c.Bytes())
		})
		if err != nil {
			t.Fatal(err)
		}
		if pinned, err := s.IsPinned(ctx, c); err != nil || !pinned {
			t.Fatalf("pinned = %v %v", pinned, err)
		}
		if got := scan("obj", "", false, 10); len(got) != 1 {
			t.Fatalf("index entry of the object: %v", got)
		}
		// GC leaves index keys alone.
		if _, err := s.GC(ctx); err != nil {
			t.Fatal(err)
		}
		if got := scan("a/", "", false, 100); len(got) != 10 {
			t.Fatalf("after GC: %v", got)
		}
	})
}

// TestIndexOnCommit: a hook runs once its transaction has committed (it
// sees the writes), never for a transaction that fails, and after a
// conflict only the hooks of the run that committed run.
func TestIndexOnCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := openStore(t, cfg)
		var ran []string
		seen := func(name string, key []byte) func() {
			return func() {
				err := s.ViewIndex(ctx, func(tx *IndexTxn) error {
					_, err := tx.Get(key)
					return err
				})
				ran = append(ran, fmt.Sprintf("%s:%v", name, err == nil))
			}
		}
		if err := s.UpdateIndex(ctx, func(tx *IndexTxn) error {
			tx.OnCommit(seen("set", []byte("k")))
			return tx.Set([]byte("k"), []byte("1"))
		}); err != nil {
			t.Fatal(err)
		}
		failed := errors.New("failed")
		if err := s.UpdateIndex(ctx, func(tx *IndexTxn) error {
			tx.OnCommit(seen("failed", []byte("k2")))
			if err := tx.Set([]byte("k2"), nil); err != nil {
				return err
			}
			return failed
		}); !errors.Is(err, failed) {
			t.Fatal(err)
		}
		// The first run reads k, which another transaction writes before
		// the run commits: Badger refuses it and the update runs again.
		runs := 0
		err := s.UpdateIndex(ctx, func(tx *IndexTxn) error {
			runs++
			tx.OnCommit(seen(fmt.Sprint("run", runs), []byte("k3")))
			if _, err := tx.Get([]byte("k")); err != nil {
				return err
			}
			if runs == 1 {
				if err := s.UpdateIndex(ctx, func(tx *IndexTxn) error { return tx.Set([]byte("k"), []byte("2")) }); err != nil {
					return err
				}
			}
			return tx.Set([]byte("k3"), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		if runs != 2 {
			t.Fatalf("%d runs, want 2 (a conflict)", runs)
		}
		want := []string{"set:true", fmt.Sprintf("run%d:true", runs)}
		if !slices.Equal(ran, want) {
			t.Fatalf("hooks run: %v, want %v", ran, want)
		}
	})
}
