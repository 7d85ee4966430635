package lambdaadapter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// proxyEvent is the part of a Lambda function URL / API Gateway (REST v1
// and HTTP v2) proxy event the adapter needs.
type proxyEvent struct {
	RequestContext  json.RawMessage `json:"requestContext"`
	RawPath         *string         `json:"rawPath"`
	HTTPMethod      *string         `json:"httpMethod"`
	RouteKey        *string         `json:"routeKey"`
	Body            *string         `json:"body"`
	IsBase64Encoded bool            `json:"isBase64Encoded"`
}

// proxyResponse is the proxy integration response format.
type proxyResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// unwrapProxyEvent returns the HTTP body of a function URL or API Gateway
// proxy event and true, or (nil, false) when payload is a direct
// invocation. A lab request never has "requestContext", so direct
// requests are never mistaken for events.
// A body that is not valid base64 although flagged so is passed on as is
// (and rejected by the lab request decoder).
func unwrapProxyEvent(payload []byte) ([]byte, bool) {
	t := bytes.TrimSpace(payload)
	if len(t) == 0 || t[0] != '{' || !bytes.Contains(t, []byte(`"requestContext"`)) {
		return nil, false
	}
	var ev proxyEvent
	if err := json.Unmarshal(t, &ev); err != nil || len(ev.RequestContext) == 0 ||
		(ev.RawPath == nil && ev.HTTPMethod == nil && ev.RouteKey == nil) {
		return nil, false
	}
	if ev.Body == nil {
		return nil, true
	}
	if !ev.IsBase64Encoded {
		return []byte(*ev.Body), true
	}
	b, err := base64.StdEncoding.DecodeString(*ev.Body)
	if err != nil {
		return []byte(*ev.Body), true
	}
	return b, true
}
