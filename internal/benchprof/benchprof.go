// Package benchprof writes CPU profiles of parts of benchmarks: the part
// measured, without the building of its data.
package benchprof

import (
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"testing"
)

// Start writes a CPU profile to path until stop is called; with path
// empty it does nothing. Benchmarks take path from an environment variable
// (OPENLEDGER_FETCH_PROFILE, OPENLEDGER_CUT_PROFILE...). A path ending in
// ".allocs" gets the allocations instead: path+".base" is the allocation
// profile at Start and path the one at stop, so
// `go tool pprof -diff_base path.base path` shows the part measured. A
// path ending in ".trace" gets an execution trace (`go tool trace`; its
// -pprof=sync and -pprof=sched profiles say where goroutines wait).
func Start(tb testing.TB, path string) (stop func()) {
	tb.Helper()
	if path == "" {
		return func() {}
	}
	if strings.HasSuffix(path, ".allocs") {
		writeAllocs(tb, path+".base")
		return func() { writeAllocs(tb, path) }
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	begin, end := pprof.StartCPUProfile, pprof.StopCPUProfile
	if strings.HasSuffix(path, ".trace") {
		begin, end = trace.Start, trace.Stop
	}
	if err := begin(f); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	return func() {
		end()
		f.Close()
	}
}

func writeAllocs(tb testing.TB, path string) {
	tb.Helper()
	runtime.GC() // the profile is as of the last GC
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}
