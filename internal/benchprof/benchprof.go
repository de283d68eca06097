// Package benchprof writes CPU profiles of parts of benchmarks: the part
// measured, without the building of its data.
package benchprof

import (
	"os"
	"runtime/pprof"
	"testing"
)

// Start writes a CPU profile to path until stop is called; with path
// empty it does nothing. Benchmarks take path from an environment variable
// (OPENLEDGER_FETCH_PROFILE, OPENLEDGER_CUT_PROFILE...).
func Start(tb testing.TB, path string) (stop func()) {
	tb.Helper()
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
