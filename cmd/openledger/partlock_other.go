//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import (
	"errors"
	"os"
)

// lockPart reports that part files cannot be locked here: get then never
// removes part files it did not write itself.
func lockPart(*os.File) (bool, error) { return false, errors.ErrUnsupported }

// partLocks says whether lockPart works here.
const partLocks = false
