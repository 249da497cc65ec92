package httpapi

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// EventHandler answers one API Gateway HTTP API (v2) event as it is: what
// Mount hands a path prefix to (the console's HTML pages and form posts).
type EventHandler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

type mount struct {
	prefix string
	h      EventHandler
}

// Mount serves prefix ("/console") and every path below it with h instead
// of the routes: h gets the raw event and answers it itself, and these
// paths are not in Routes (they are no API operations).
func (rt *Router) Mount(prefix string, h EventHandler) {
	rt.mounts = append(rt.mounts, mount{prefix: strings.TrimSuffix(prefix, "/"), h: h})
}

// mounted returns the handler mounted over the event's path, or nil.
func (rt *Router) mounted(ev events.APIGatewayV2HTTPRequest) EventHandler {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	for _, m := range rt.mounts {
		if path == m.prefix || strings.HasPrefix(path, m.prefix+"/") {
			return m.h
		}
	}
	return nil
}
