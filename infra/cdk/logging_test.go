package main

import "testing"

// TestFunctionLogging: every function logs JSON with an application log
// level, so Lambda sets AWS_LAMBDA_LOG_LEVEL (which internal/logx honours)
// and filters the lines by their "level" key.
func TestFunctionLogging(t *testing.T) {
	fns := tmpl.ofType("AWS::Lambda::Function")
	if len(fns) == 0 {
		t.Fatal("no functions in the template")
	}
	for id, r := range fns {
		lc, _ := r.Properties["LoggingConfig"].(map[string]any)
		if lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] != "INFO" {
			t.Errorf("%s: LoggingConfig %v, want LogFormat JSON and ApplicationLogLevel INFO", id, lc)
		}
	}
}
