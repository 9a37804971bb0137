// Package leaktest fails a package's tests when a goroutine outlives them:
// a server, a store or a service whose Close returns while its goroutines
// still run. Every test package that starts one calls Main from its
// TestMain.
package leaktest

import (
	"testing"

	"go.uber.org/goleak"
)

// Main runs the tests, then fails the run if goroutines other than the
// ones listed in ignored are still running (goleak retries for a while, so
// goroutines that are ending get the time to end).
func Main(m *testing.M) { goleak.VerifyTestMain(m, ignored...) }

// Find reports the goroutines left over, for a TestMain with work of its
// own after the tests.
func Find() error { return goleak.Find(ignored...) }

// ignored are third-party goroutines that live as long as the process by
// design, each with the reason; none of Parley's own belongs here. It is
// empty: the libraries' goroutines (modernc.org/sqlite, pgx, nats.go,
// net/http) all end when their owners are closed.
var ignored = []goleak.Option{}
