//go:build unix

package loadgen

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// terminate asks a process to shut down gracefully.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RaiseFileLimit lets this process, and the server it starts (a child
// inherits the limit), open n files: it raises the soft limit on open
// files to at least n, and the hard limit too where that is allowed (as
// root, up to fs.nr_open). It returns an error saying what to do when the
// limit cannot be raised.
func RaiseFileLimit(n uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return nil
	}
	want := syscall.Rlimit{Cur: max(l.Cur, n), Max: max(l.Max, n)}
	// Set even when nothing changes: Go restores a child's soft limit to
	// the one this process started with unless the program sets it.
	err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	switch {
	case err == syscall.EPERM:
		return fmt.Errorf("loadgen: the bench and its server need about %d open files each; the hard limit is %d and only a process with CAP_SYS_RESOURCE (root, usually) may raise it: raise it before (ulimit -Hn) or use fewer connections",
			n, l.Max)
	case err != nil:
		return fmt.Errorf("loadgen: the bench and its server need about %d open files each; raising the limit from %d failed: %v (fs.nr_open bounds it)",
			n, l.Max, err)
	}
	return nil
}
