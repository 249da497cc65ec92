package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestSecurityDocListsEachFunctionsTableActions: docs/security.md names the
// DynamoDB actions each function's role holds; they are minimumTableActions
// (what TestFunctionPermissions holds the template to), so the page cannot
// drift from the grants as it once did.
func TestSecurityDocListsEachFunctionsTableActions(t *testing.T) {
	b, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	const lead = "each function's role holds exactly the DynamoDB actions its code uses ("
	doc := string(b)
	i := strings.Index(doc, lead)
	if i < 0 {
		t.Fatalf("docs/security.md no longer says %q", lead)
	}
	list, _, ok := strings.Cut(doc[i+len(lead):], ") and no wildcard actions")
	if !ok {
		t.Fatal("docs/security.md: the list of each function's actions does not end as expected")
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(list, "; ") {
		names, actions, ok := strings.Cut(part, ": ")
		if !ok {
			t.Fatalf("docs/security.md: %q is not \"functions: actions\"", part)
		}
		var got []string
		if actions != "the stream only" {
			for _, a := range strings.Split(actions, ", ") {
				got = append(got, "dynamodb:"+a)
			}
		}
		slices.Sort(got)
		for _, name := range strings.Split(names, " and ") {
			seen[name] = true
			want, ok := minimumTableActions[name]
			if !ok {
				t.Errorf("docs/security.md names %q, which is no function", name)
				continue
			}
			var table []string
			for _, a := range want {
				if !slices.Contains([]string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}, a) {
					table = append(table, a)
				}
			}
			slices.Sort(table)
			if !slices.Equal(got, table) {
				t.Errorf("docs/security.md: %s holds %v; its grant is %v", name, got, table)
			}
		}
	}
	for name := range minimumTableActions {
		if !seen[name] {
			t.Errorf("docs/security.md does not list %s's DynamoDB actions", name)
		}
	}
}
