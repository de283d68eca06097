//go:build !linux

package storage

import "errors"

// mappedSupported tells whether this platform can release mapped pages.
const mappedSupported = false

var errMappedUnsupported = errors.New("storage: releasing mapped pages needs Linux")

func fileRSS() (int64, error) { return 0, errMappedUnsupported }

func (s *Store) trimMapped() (TrimResult, error) { return TrimResult{}, errMappedUnsupported }

func resolveDir(dir string) (string, error) { return "", errMappedUnsupported }
