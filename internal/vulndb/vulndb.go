// Package vulndb builds an offline Go vulnerability database for govulncheck
// from a folder of OSV reports, such as data/osv in the golang.org/x/vulndb
// module (one GO-YYYY-NNNN.json file per report).
//
// The output is the v1 layout that `govulncheck -db file://DIR` reads
// (golang.org/x/vuln/internal/client): index/db.json, index/modules.json and
// ID/<id>.json. The per-module "fixed" hint of the index is left out: it is
// optional, and without it govulncheck reads every report for a module and
// decides from the report's own version ranges.
package vulndb

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// report is the part of an OSV report the index needs.
type report struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// Build reads every *.json report directly in src and writes the database to
// out, replacing what was there only once the new one is complete. It returns
// the number of reports. A folder with no reports, a report that does not
// parse, has no id, is not named <id>.json or names no module is an error:
// an empty or partial database would make govulncheck pass for nothing.
func Build(src, out string) (int, error) {
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("vulndb: no OSV reports (*.json) in %s", src)
	}
	sort.Strings(names)

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), filepath.Base(out)+".tmp-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "ID"), 0o755); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "index"), 0o755); err != nil {
		return 0, err
	}

	var meta dbMeta
	modules := map[string]*module{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return 0, err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return 0, fmt.Errorf("vulndb: %s: %w", name, err)
		}
		if r.ID == "" || strings.ContainsAny(r.ID, `/\`) || filepath.Base(name) != r.ID+".json" {
			return 0, fmt.Errorf("vulndb: %s: report id %q does not match its file name", name, r.ID)
		}
		if len(r.Affected) == 0 {
			return 0, fmt.Errorf("vulndb: %s: report names no affected module", name)
		}
		if r.Modified.After(meta.Modified) {
			meta.Modified = r.Modified
		}
		seen := map[string]bool{}
		for _, a := range r.Affected {
			path := a.Package.Name
			if path == "" {
				return 0, fmt.Errorf("vulndb: %s: affected entry without a module path", name)
			}
			if seen[path] {
				continue
			}
			seen[path] = true
			m := modules[path]
			if m == nil {
				m = &module{Path: path}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: r.ID, Modified: r.Modified})
		}
		if err := os.WriteFile(filepath.Join(tmp, "ID", r.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
	}

	index := make([]*module, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		index = append(index, m)
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	if err := writeJSON(filepath.Join(tmp, "index", "modules.json"), index); err != nil {
		return 0, err
	}
	if err := writeJSON(filepath.Join(tmp, "index", "db.json"), meta); err != nil {
		return 0, err
	}

	if err := os.RemoveAll(out); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return 0, err
	}
	return len(names), nil
}

func writeJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}
