package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEConfiguration keeps the README's configuration table equal to
// the flags `parley serve -h` prints: every flag is in the table with its
// environment variable, and every flag the table names exists.
func TestREADMEConfiguration(t *testing.T) {
	var help bytes.Buffer
	if _, err := parseConfig("serve", []string{"-h"}, &help); err != flag.ErrHelp {
		t.Fatalf("serve -h: %v", err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := DefaultConfig()
	cfg.bind(fs)

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Configuration\n")
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{} // flag → its row
	flagName := regexp.MustCompile("`--([a-z0-9-]+)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 3 {
			continue
		}
		for _, m := range flagName.FindAllStringSubmatch(cells[1], -1) {
			rows[m[1]] = line
		}
	}
	if len(rows) == 0 {
		t.Fatal("no configuration table in README.md")
	}
	envOf := regexp.MustCompile(`\((PARLEY_[A-Z0-9_]+)\)$`)
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(help.String(), "-"+f.Name+" ") && !strings.Contains(help.String(), "-"+f.Name+"\n") {
			t.Errorf("serve -h does not print -%s", f.Name)
		}
		row, ok := rows[f.Name]
		if !ok {
			t.Errorf("README.md's configuration table lacks --%s (%s)", f.Name, f.Usage)
			return
		}
		env := envOf.FindStringSubmatch(f.Usage)
		if env == nil {
			t.Errorf("--%s names no environment variable", f.Name)
			return
		}
		// A row may name a family of variables: PARLEY_S3_*.
		named := strings.Contains(row, "`"+env[1]+"`")
		for i := range env[1] {
			named = named || env[1][i] == '_' && strings.Contains(row, "`"+env[1][:i+1]+"*`")
		}
		if !named {
			t.Errorf("README.md's row of --%s lacks %s: %s", f.Name, env[1], row)
		}
		delete(rows, f.Name)
	})
	for name := range rows {
		t.Errorf("README.md's configuration table has --%s, which serve does not take", name)
	}
}
