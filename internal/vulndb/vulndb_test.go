package vulndb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeReport(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The v1 layout govulncheck reads: index/db.json with the newest modified
// time, index/modules.json sorted by path with each module's report ids
// (once each, sorted), and every report copied byte for byte to ID/<id>.json.
func TestBuildWritesGovulncheckLayout(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "db")
	r1 := `{"id":"GO-2024-0002","modified":"2024-03-01T00:00:00Z","affected":[` +
		`{"package":{"name":"golang.org/x/net","ecosystem":"Go"}},` +
		`{"package":{"name":"golang.org/x/net","ecosystem":"Go"}},` +
		`{"package":{"name":"stdlib","ecosystem":"Go"}}]}`
	r2 := `{"id":"GO-2024-0001","modified":"2024-05-02T10:00:00Z","affected":[{"package":{"name":"golang.org/x/net"}}]}`
	writeReport(t, src, "GO-2024-0002.json", r1)
	writeReport(t, src, "GO-2024-0001.json", r2)
	writeReport(t, src, "README.md", "not a report")

	n, err := Build(src, out)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("Build counted %d reports, want 2", n)
	}

	var modules []map[string]any
	readJSON(t, filepath.Join(out, "index", "modules.json"), &modules)
	want := []map[string]any{
		{"path": "golang.org/x/net", "vulns": []any{
			map[string]any{"id": "GO-2024-0001", "modified": "2024-05-02T10:00:00Z"},
			map[string]any{"id": "GO-2024-0002", "modified": "2024-03-01T00:00:00Z"},
		}},
		{"path": "stdlib", "vulns": []any{
			map[string]any{"id": "GO-2024-0002", "modified": "2024-03-01T00:00:00Z"},
		}},
	}
	if !reflect.DeepEqual(modules, want) {
		t.Fatalf("modules.json = %v\nwant %v", modules, want)
	}
	var meta map[string]any
	readJSON(t, filepath.Join(out, "index", "db.json"), &meta)
	if meta["modified"] != "2024-05-02T10:00:00Z" {
		t.Fatalf("db.json = %v, want the newest modified time", meta)
	}
	for id, body := range map[string]string{"GO-2024-0001": r2, "GO-2024-0002": r1} {
		got, err := os.ReadFile(filepath.Join(out, "ID", id+".json"))
		if err != nil || string(got) != body {
			t.Fatalf("ID/%s.json = %q, %v; want the report unchanged", id, got, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(out, "ID"))
	if err != nil || len(entries) != 2 {
		t.Fatalf("ID/ holds %d files (%v), want 2", len(entries), err)
	}
}

// A rebuild replaces the old database whole: a report gone from the source is
// gone from ID/ and the index.
func TestBuildReplacesOldDatabase(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "db")
	writeReport(t, src, "GO-2024-0001.json", `{"id":"GO-2024-0001","affected":[{"package":{"name":"a.example/m"}}]}`)
	if _, err := Build(src, out); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "GO-2024-0001.json")); err != nil {
		t.Fatal(err)
	}
	writeReport(t, src, "GO-2024-0009.json", `{"id":"GO-2024-0009","affected":[{"package":{"name":"b.example/m"}}]}`)
	if _, err := Build(src, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "GO-2024-0001.json")); !os.IsNotExist(err) {
		t.Fatalf("old report still in the rebuilt database (stat err %v)", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "index", "modules.json"))
	if err != nil || strings.Contains(string(b), "a.example") || !strings.Contains(string(b), "b.example") {
		t.Fatalf("modules.json after rebuild = %s (%v)", b, err)
	}
}

// A source that would give an empty or partial database is refused, and an
// existing database is left as it was: govulncheck must never pass because
// its database is empty.
func TestBuildRefusesBadSource(t *testing.T) {
	cases := map[string]map[string]string{
		"no reports":          {"README.md": "x"},
		"bad json":            {"GO-2024-0001.json": `{"id":`},
		"id not file name":    {"GO-2024-0001.json": `{"id":"GO-2024-0002","affected":[{"package":{"name":"m"}}]}`},
		"no id":               {"GO-2024-0001.json": `{"affected":[{"package":{"name":"m"}}]}`},
		"no affected":         {"GO-2024-0001.json": `{"id":"GO-2024-0001"}`},
		"module without path": {"GO-2024-0001.json": `{"id":"GO-2024-0001","affected":[{"package":{}}]}`},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			good, src, out := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "db")
			writeReport(t, good, "GO-2020-0001.json", `{"id":"GO-2020-0001","affected":[{"package":{"name":"m"}}]}`)
			if _, err := Build(good, out); err != nil {
				t.Fatal(err)
			}
			for f, body := range files {
				writeReport(t, src, f, body)
			}
			if n, err := Build(src, out); err == nil {
				t.Fatalf("Build accepted it (%d reports)", n)
			}
			if _, err := os.Stat(filepath.Join(out, "ID", "GO-2020-0001.json")); err != nil {
				t.Fatalf("the previous database was touched: %v", err)
			}
			left, _ := filepath.Glob(out + ".tmp-*")
			if len(left) != 0 {
				t.Fatalf("temporary folders left behind: %v", left)
			}
		})
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
