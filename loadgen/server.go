package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Server is a parley server that the bench started as a child process.
type Server struct {
	URL string

	cmd  *exec.Cmd
	dir  string
	temp bool          // dir is the server's own: removed at Stop
	exit chan struct{} // closed when the process has ended
	err  error         // the process's exit status, once exit is closed

	mu   sync.Mutex
	tail []string // the last log lines, for error messages
	warn int      // log lines at WARN or ERROR
}

// ServerArgs are the arguments the bench starts `parley serve` with, after
// --data and --database: limits that would throttle the simulated users are
// lifted and passwords are hashed cheaply so that signing in a thousand
// users takes a moment.
var ServerArgs = []string{"--addr", "127.0.0.1:0", "--send-rate", "1000000", "--send-burst", "1000000",
	"--login-rate", "100000", "--password-memory", "64", "--log-format", "json"}

// ServerOptions say how StartServer runs the server.
type ServerOptions struct {
	// Dir is the data directory, kept when the server stops; "" for a new
	// temporary one, removed at Stop.
	Dir string
	// Database is the server's --database; "" for SQLite in Dir.
	Database string
	// Args are more arguments of `parley serve`.
	Args []string
}

// StartServer runs `exe serve` with ServerArgs and opt, and returns once the
// server is listening. The child does not inherit PARLEY_* variables, which
// could point it at another database. Stop ends it.
func StartServer(ctx context.Context, exe string, opt ServerOptions) (*Server, error) {
	dir, temp := opt.Dir, opt.Dir == ""
	if temp {
		var err error
		if dir, err = os.MkdirTemp("", "parley-bench-"); err != nil {
			return nil, err
		}
	}
	removeDir := func() {
		if temp {
			os.RemoveAll(dir)
		}
	}
	database := opt.Database
	if database == "" {
		database = "sqlite:" + filepath.Join(dir, "parley.db")
	}
	args := append([]string{"serve", "--data", dir, "--database", database}, ServerArgs...)
	cmd := exec.Command(exe, append(args, opt.Args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		removeDir()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		removeDir()
		return nil, err
	}
	s := &Server{cmd: cmd, dir: dir, temp: temp, exit: make(chan struct{})}
	found := make(chan string, 1)
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		s.readLog(stderr, found)
	}()
	go func() {
		<-logsDone // Wait must not close the pipe while it is being read
		s.err = cmd.Wait()
		close(s.exit)
	}()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	select {
	case s.URL = <-found:
		return s, nil
	case <-s.exit:
		err = fmt.Errorf("the server ended before serving: %v\n%s", s.err, s.Log())
	case <-timeout.C:
		err = fmt.Errorf("the server did not start within 60 s\n%s", s.Log())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.Stop()
	return nil, err
}

// readLog reads the server's JSON log until it ends, reporting the URL of
// the "parley is serving" line on found.
func (s *Server) readLog(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			URL   string `json:"url"`
		}
		json.Unmarshal([]byte(line), &rec)
		s.mu.Lock()
		if len(s.tail) == 30 {
			s.tail = append(s.tail[:0], s.tail[1:]...)
		}
		s.tail = append(s.tail, line)
		if rec.Level == "WARN" || rec.Level == "ERROR" {
			s.warn++
		}
		s.mu.Unlock()
		if !sent && rec.Msg == "parley is serving" && rec.URL != "" {
			found <- rec.URL
			sent = true
		}
	}
	io.Copy(io.Discard, r)
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns the server's last log lines.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// Warnings returns how many lines the server logged at WARN or ERROR.
func (s *Server) Warnings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warn
}

// Kill ends the server at once (SIGKILL), as a crash or a power cut
// would: nothing of it shuts down. Its data directory is kept.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.exit
}

// Stop asks the server to shut down (SIGTERM), kills it if it has not
// ended within 20 s, and removes its data directory if it made it.
func (s *Server) Stop() error {
	defer func() {
		if s.temp {
			os.RemoveAll(s.dir)
		}
	}()
	select {
	case <-s.exit:
	default:
		if err := terminate(s.cmd.Process); err != nil {
			s.cmd.Process.Kill()
		}
		select {
		case <-s.exit:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.exit
			return errors.New("the server did not stop within 20 s after SIGTERM and was killed")
		}
	}
	if s.err != nil {
		return fmt.Errorf("the server ended with %v\n%s", s.err, s.Log())
	}
	return nil
}
