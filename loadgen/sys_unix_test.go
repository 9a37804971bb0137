//go:build unix

package loadgen

import (
	"syscall"
	"testing"
)

func fileLimit(t *testing.T) syscall.Rlimit {
	t.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	return l
}
