package web

import (
	"os"
	"os/exec"
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
	cmd := exec.Command("node", "--test", "--test-concurrency=1", "tests/")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
