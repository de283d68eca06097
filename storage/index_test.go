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
		err = s.PutObjectIndexed(ctx, c, data, nil, true, func(tx *IndexTxn) error {
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("PutObjectIndexed = %v", err)
		}
		if has, err := s.HasObject(ctx, c); err != nil || has {
			t.Fatalf("the object of a failed indexed put is stored: %v %v", has, err)
		}
		err = s.PutObjectIndexed(ctx, c, data, nil, true, func(tx *IndexTxn) error {
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
