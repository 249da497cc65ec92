package bench_test

import (
	"fmt"
	"regexp"
	"strings"
)

// docs/benchmarks.md mixes generated and hand-written text. TestReport
// rewrites only what lies between a pair of marker lines
//
//	<!-- generated:begin NAME -->
//	<!-- generated:end NAME -->
//
// and keeps every byte outside them as it was.

// reportDoc is the file TestReport writes, relative to this package.
const reportDoc = "../../docs/benchmarks.md"

// region is one generated part of the report: its marker name and text.
type region struct{ name, text string }

// regionWriter collects the report's regions in order; printf writes to the
// one begin opened last.
type regionWriter struct{ regions []*regionBuf }

type regionBuf struct {
	name string
	w    strings.Builder
}

func (r *regionWriter) begin(name string) { r.regions = append(r.regions, &regionBuf{name: name}) }

func (r *regionWriter) printf(format string, a ...any) {
	if len(r.regions) == 0 {
		panic("regionWriter: printf before begin")
	}
	fmt.Fprintf(&r.regions[len(r.regions)-1].w, format, a...)
}

func (r *regionWriter) done() []region {
	out := make([]region, len(r.regions))
	for i, b := range r.regions {
		out[i] = region{b.name, b.w.String()}
	}
	return out
}

var (
	markerRE = regexp.MustCompile(`^<!-- generated:(begin|end) ([a-z0-9][a-z0-9-]*) -->$`)
	// anything that looks like a marker but is not one exactly is refused,
	// so a typo cannot turn a generated region into hand-written text
	markerLikeRE = regexp.MustCompile(`^\s*<!--.*generated:`)
)

func beginMarker(name string) string { return "<!-- generated:begin " + name + " -->" }
func endMarker(name string) string   { return "<!-- generated:end " + name + " -->" }

// spliceRegions returns doc with the text between each region's markers
// replaced by the region's text (ending in one blank line before the end
// marker); everything outside the markers is kept byte for byte. It fails,
// returning no document, when a region the generator writes has no marker
// pair in doc, when doc has a region the generator does not write, or when
// the markers are malformed, unpaired, nested or repeated.
func spliceRegions(doc string, regions []region) (string, error) {
	text := map[string]string{}
	for _, r := range regions {
		if _, dup := text[r.name]; dup {
			return "", fmt.Errorf("the generator writes region %q twice", r.name)
		}
		if !markerRE.MatchString(beginMarker(r.name)) {
			return "", fmt.Errorf("region name %q: want lower-case letters, digits and dashes", r.name)
		}
		text[r.name] = strings.TrimRight(r.text, "\n") + "\n\n"
	}
	var out strings.Builder
	seen := map[string]bool{}
	open, openLine := "", 0
	for i, line := range strings.SplitAfter(doc, "\n") {
		n := i + 1
		m := markerRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		if m == nil {
			if markerLikeRE.MatchString(line) {
				return "", fmt.Errorf("line %d: %q looks like a region marker but is not one; a marker is a line of its own: %s or %s",
					n, strings.TrimRight(line, "\n"), beginMarker("NAME"), endMarker("NAME"))
			}
			if open == "" {
				out.WriteString(line)
			}
			continue
		}
		kind, name := m[1], m[2]
		switch {
		case kind == "begin" && open != "":
			return "", fmt.Errorf("line %d: region %q begins inside region %q (begun on line %d)", n, name, open, openLine)
		case kind == "begin" && seen[name]:
			return "", fmt.Errorf("line %d: region %q appears twice", n, name)
		case kind == "begin":
			if _, ok := text[name]; !ok {
				return "", fmt.Errorf("line %d: region %q is not one the generator writes (it writes %s): remove its markers or rename them", n, name, names(regions))
			}
			seen[name], open, openLine = true, name, n
			out.WriteString(line)
			out.WriteString(text[name])
		case open == "":
			return "", fmt.Errorf("line %d: end of region %q without its begin", n, name)
		case name != open:
			return "", fmt.Errorf("line %d: end of region %q inside region %q (begun on line %d)", n, name, open, openLine)
		default:
			open = ""
			out.WriteString(line)
		}
	}
	if open != "" {
		return "", fmt.Errorf("region %q (begun on line %d) has no %s", open, openLine, endMarker(open))
	}
	for _, r := range regions {
		if !seen[r.name] {
			return "", fmt.Errorf("no marker pair for region %q: add the lines %s and %s where that section belongs (nothing was written)",
				r.name, beginMarker(r.name), endMarker(r.name))
		}
	}
	return out.String(), nil
}

func names(regions []region) string {
	s := make([]string, len(regions))
	for i, r := range regions {
		s[i] = r.name
	}
	return strings.Join(s, ", ")
}
