package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// apiError is the API's error envelope.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *apiError) Error() string { return e.Message }

// call sends one request to the API routes as the signed-in key, in
// process, and decodes the answer: out (when non-nil) gets the JSON body of
// a 2xx; any other status is an *apiError with the API's code, field and
// message. idem, when set, is sent as the Idempotency-Key.
func (c *Console) call(ctx context.Context, s session, method, path string, query url.Values, body any, idem string, out any) *apiError {
	headers := map[string]string{
		"authorization":    "Bearer " + s.Key,
		"x-environment-id": s.Env,
		"accept":           "application/json",
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Headers: headers}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	ev.RequestContext.HTTP.SourceIP = "console"
	if len(query) > 0 {
		ev.RawQueryString = query.Encode()
		ev.QueryStringParameters = map[string]string{}
		for k := range query {
			ev.QueryStringParameters[k] = query.Get(k)
		}
	}
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return &apiError{Status: 500, Code: "internal_error", Message: "the request could not be built"}
		}
		ev.Body = buf.String()
		headers["content-type"] = "application/json"
	}
	if idem != "" {
		headers["idempotency-key"] = idem
	}
	h := c.opt.API
	if path == "/api/v1/payments" || strings.HasPrefix(path, "/api/v1/payments/") {
		h = c.opt.Payments
	}
	resp, err := h(ctx, ev)
	if err != nil {
		c.opt.Log.ErrorContext(ctx, "console: API call failed", "method", method, "path", path, "error", err.Error())
		return &apiError{Status: 500, Code: "internal_error", Message: "the request could not be completed; try again"}
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal([]byte(resp.Body), &env) != nil || env.Error.Code == "" {
			env.Error = apiError{Code: "internal_error", Message: http.StatusText(resp.StatusCode)}
		}
		env.Error.Status = resp.StatusCode
		return &env.Error
	}
	if out != nil {
		dec := json.NewDecoder(strings.NewReader(resp.Body))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return &apiError{Status: 500, Code: "internal_error", Message: "the API's answer could not be read"}
		}
	}
	return nil
}

// obj is a decoded JSON object, as the views read it (get).
type obj = map[string]any

// list is a decoded list answer.
type list struct {
	Data    []obj `json:"data"`
	HasMore bool  `json:"has_more"`
}

// str renders a JSON value as text: "" for null.
func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "yes"
		}
		return "no"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// prettyJSON indents a JSON value for a <pre>.
func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
