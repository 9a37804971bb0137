// Command vulndb lays out the Go vulnerability database for
// `govulncheck -db file://DIR` from the OSV entries of the
// golang.org/x/vulndb module (its data/osv), for machines that cannot reach
// vuln.go.dev. It writes what govulncheck reads: index/db.json,
// index/modules.json, index/vulns.json and ID/<id>.json. The modules index
// leaves out the optional "fixed" shortcut, so govulncheck reads every
// entry of a module it meets and decides from the entry itself.
//
//	go run .ci/vulndb/main.go OSV_DIR OUT_DIR [MODIFIED]
//
// MODIFIED (RFC 3339) is the database's date when the entries carry none:
// the snapshot's, which govulncheck shows.
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

func main() {
	if len(os.Args) != 3 && len(os.Args) != 4 {
		log.Fatal("usage: vulndb OSV_DIR OUT_DIR [MODIFIED]")
	}
	in, out := os.Args[1], os.Args[2]
	files, err := filepath.Glob(filepath.Join(in, "GO-*.json"))
	if err != nil || len(files) == 0 {
		log.Fatalf("no OSV entries in %s", in)
	}
	for _, dir := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(out, dir), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	modules := map[string]*module{}
	var vulns []map[string]any
	var latest time.Time
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil || e.ID == "" {
			log.Fatalf("%s: not an OSV entry: %v", f, err)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), raw, 0o644); err != nil {
			log.Fatal(err)
		}
		if e.Modified.After(latest) {
			latest = e.Modified
		}
		vulns = append(vulns, map[string]any{"id": e.ID, "modified": e.Modified, "aliases": e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &module{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			if !slices.ContainsFunc(m.Vulns, func(v moduleVuln) bool { return v.ID == e.ID }) {
				m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified})
			}
		}
	}
	list := make([]*module, 0, len(modules))
	for _, m := range modules {
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *module) int { return strings.Compare(a.Path, b.Path) })
	write := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "index", name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if len(os.Args) == 4 && latest.IsZero() {
		if latest, err = time.Parse(time.RFC3339, os.Args[3]); err != nil {
			log.Fatal(err)
		}
	}
	write("db.json", map[string]any{"modified": latest})
	write("modules.json", list)
	write("vulns.json", vulns)
	log.Printf("vulndb: %d entries, %d modules", len(files), len(list))
}
