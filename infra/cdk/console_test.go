package main

import (
	"strings"
	"testing"
)

// TestConsoleIsServedByTheAPIFunction: the operator console (/console/…,
// HTML pages and form posts) has no route of its own, so API Gateway hands
// every console path to the $default route, which is the api function's
// (the function that mounts the console).
func TestConsoleIsServedByTheAPIFunction(t *testing.T) {
	if defaultRouteFunction != "api" {
		t.Fatalf("$default goes to %s, not the api function that serves /console/", defaultRouteFunction)
	}
	defaults := 0
	for _, r := range tmpl.ofType("AWS::ApiGatewayV2::Route") {
		key, _ := r.Properties["RouteKey"].(string)
		if strings.Contains(key, "/console") {
			t.Errorf("route %s takes console paths away from the $default route", key)
		}
		if key == "$default" {
			defaults++
		}
	}
	if defaults != 1 {
		t.Errorf("%d $default routes", defaults)
	}
}
