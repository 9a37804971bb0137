package web

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBrowser runs the web app's browser tests (web/tests, Node's test
// runner driving Debian's Chromium with playwright-core) so that the README's
// test command covers them. They need Chromium and `npm ci` in web/; without
// them the test says so and skips, except under CI, where it fails.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	missing := ""
	switch {
	case !exists("/usr/bin/chromium") && os.Getenv("CHROMIUM") == "":
		missing = "Chromium is not installed (apt-get install chromium)"
	case !exists("node_modules/playwright-core"):
		missing = "web/node_modules is missing (cd web && npm ci)"
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = "Node.js is not installed"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(missing + "; CI must run the browser tests")
		}
		t.Skip(missing)
	}
	// One server binary for every file (the harness would build its own).
	bin := os.Getenv("PARLEY_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "parley")
		build := exec.Command("go", "build", "-o", bin, "../cmd/parley")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			t.Fatalf("building the server: %v", err)
		}
	}
	files, err := filepath.Glob("tests/*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no browser tests found: %v", err)
	}
	// Each file runs on its own; a file that fails is run once more and
	// must pass then, and the first failure is reported as a flake to
	// look into. (Since Debian's Chromium 156.0.8078.114 a few team-chat
	// steps time out now and then, at this session's start as well:
	// docs/decisions.md.)
	for _, f := range files {
		if run(bin, f) == nil {
			continue
		}
		t.Logf("FLAKY? %s failed; running it again", f)
		if err := run(bin, f); err != nil {
			t.Errorf("browser tests in %s failed twice: %v", f, err)
		}
	}
}

func run(bin, file string) error {
	cmd := exec.Command("node", "--test", "--test-concurrency=1", file)
	cmd.Env = append(os.Environ(), "PARLEY_BIN="+bin)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
