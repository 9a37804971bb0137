//go:build !unix

package loadgen

import (
	"os"
	"time"
)

func terminate(p *os.Process) error { return p.Kill() }

func cpuTime() time.Duration { return 0 }

// RaiseFileLimit does nothing here.
func RaiseFileLimit(n uint64) error { return nil }
