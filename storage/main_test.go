package storage

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		// A child process of TestCrashKill9: it kills itself, so leak
		// checking does not apply.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}
