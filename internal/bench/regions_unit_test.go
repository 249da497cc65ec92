package bench_test

import (
	"os"
	"strings"
	"testing"
)

// handWritten is the text of doc outside its generated regions (markers
// included), the part TestReport must never change.
func handWritten(t *testing.T, doc string) string {
	t.Helper()
	var out strings.Builder
	in := false
	for _, line := range strings.SplitAfter(doc, "\n") {
		m := markerRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		switch {
		case m != nil && m[1] == "begin":
			in = true
			out.WriteString(line)
		case m != nil:
			in = false
			out.WriteString(line)
		case !in:
			out.WriteString(line)
		}
	}
	return out.String()
}

func TestSpliceKeepsHandWrittenTextByteForByte(t *testing.T) {
	const doc = "# Title  \n\nHand-written goals | ≤ 3× |\n\t(tab, trailing spaces)   \n" +
		"<!-- generated:begin one -->\nold one\n<!-- generated:end one -->\n" +
		"\n\n## 0. Hand-written section\r\nwith a CRLF line and <!-- an ordinary comment -->\n" +
		"<!-- generated:begin two -->\n<!-- generated:end two -->\n" +
		"last hand-written line, no newline at the end"
	regions := []region{{"one", "## 1. New one\n\nfigure 1.5×"}, {"two", "## 2. New two\n\n\n"}}
	got, err := spliceRegions(doc, regions)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title  \n\nHand-written goals | ≤ 3× |\n\t(tab, trailing spaces)   \n" +
		"<!-- generated:begin one -->\n## 1. New one\n\nfigure 1.5×\n\n<!-- generated:end one -->\n" +
		"\n\n## 0. Hand-written section\r\nwith a CRLF line and <!-- an ordinary comment -->\n" +
		"<!-- generated:begin two -->\n## 2. New two\n\n<!-- generated:end two -->\n" +
		"last hand-written line, no newline at the end"
	if got != want {
		t.Fatalf("spliced:\n%q\nwant:\n%q", got, want)
	}
	if handWritten(t, got) != handWritten(t, doc) {
		t.Fatalf("hand-written text changed:\n%q\nwas:\n%q", handWritten(t, got), handWritten(t, doc))
	}
	// regenerating with other figures changes only the regions, and the
	// same figures give the same bytes
	again, err := spliceRegions(got, []region{{"one", "figure 2.0×\n"}, {"two", "x\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if handWritten(t, again) != handWritten(t, doc) || !strings.Contains(again, "begin one -->\nfigure 2.0×\n\n<!--") {
		t.Fatalf("second regeneration:\n%q", again)
	}
	same, err := spliceRegions(got, regions)
	if err != nil || same != got {
		t.Fatalf("regenerating the same figures: err %v, changed %v", err, same != got)
	}
}

func TestSpliceRefusesMissingOrBrokenMarkers(t *testing.T) {
	regions := []region{{"one", "1\n"}, {"two", "2\n"}}
	pair := func(n string) string { return beginMarker(n) + "\nold\n" + endMarker(n) + "\n" }
	for _, c := range []struct{ name, doc, want string }{
		{"a region without markers", "hand\n" + pair("one") + "hand\n",
			`no marker pair for region "two": add the lines <!-- generated:begin two --> and <!-- generated:end two -->`},
		{"no markers at all", "# a report written wholesale\n", `no marker pair for region "one"`},
		{"a region the generator does not write", pair("one") + pair("two") + pair("three"), `region "three" is not one the generator writes`},
		{"begin without end", pair("one") + beginMarker("two") + "\nold\n", `region "two" (begun on line 4) has no <!-- generated:end two -->`},
		{"end without begin", pair("one") + "old\n" + endMarker("two") + "\n", `line 5: end of region "two" without its begin`},
		{"nested", beginMarker("one") + "\n" + pair("two") + endMarker("one") + "\n", `line 2: region "two" begins inside region "one"`},
		{"crossed", beginMarker("one") + "\n" + endMarker("two") + "\n", `line 2: end of region "two" inside region "one"`},
		{"repeated", pair("one") + pair("two") + pair("one"), `line 7: region "one" appears twice`},
		{"a typo in a marker", pair("one") + "<!-- generated:begin two-->\nold\n" + endMarker("two") + "\n", `line 4: "<!-- generated:begin two-->" looks like a region marker`},
		{"an indented marker", pair("one") + "  " + pair("two"), `line 4: "  <!-- generated:begin two -->" looks like a region marker`},
	} {
		got, err := spliceRegions(c.doc, regions)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want it to contain %q", c.name, err, c.want)
		}
		if got != "" {
			t.Errorf("%s: returned a document with the error", c.name)
		}
	}
	if _, err := spliceRegions(pair("one"), []region{{"one", ""}, {"one", ""}}); err == nil || !strings.Contains(err.Error(), `writes region "one" twice`) {
		t.Errorf("a region generated twice: err %v", err)
	}
}

// TestBenchmarksDocHasTheReportsRegions checks the committed report against
// the generator: every region TestReport writes has its marker pair in
// docs/benchmarks.md, and regenerating it keeps the hand-written parts.
func TestBenchmarksDocHasTheReportsRegions(t *testing.T) {
	b, err := os.ReadFile(reportDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	regions := append(report(microResults{Bench: map[string]map[string][]float64{}}, initResult{}, burstResult{}),
		region{"usage", usageSection(usageResult{})})
	got, err := spliceRegions(doc, regions)
	if err != nil {
		t.Fatalf("%s: %v", reportDoc, err)
	}
	if handWritten(t, got) != handWritten(t, doc) {
		t.Fatal("regenerating changed the hand-written parts")
	}
	for _, s := range []string{"## Goals of issues 17, 18 and 19", "## 0. Gateway-sweeper cost per run", "`service/dynamodb/schemas` (dynamodb v1.69 and later)"} {
		if !strings.Contains(handWritten(t, doc), s) {
			t.Errorf("%q is not in a hand-written part of %s", s, reportDoc)
		}
	}
}
