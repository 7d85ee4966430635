package localfaas

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"
)

// hopHeaders are not forwarded between the gateway and a function.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Authorization": true,
	"Content-Length": true,
}

func copyHeaders(dst, src http.Header) {
	for k, vs := range src {
		if hopHeaders[k] {
			continue
		}
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

// forwardHTTP sends inv to an HTTP-runtime instance and finishes it. The
// function timeout (armed by deliver) kills the instance if it hangs.
func (in *instance) forwardHTTP(inv *invocation) {
	method := inv.method
	if method == "" {
		method = http.MethodPost
	}
	path := inv.path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequest(method, "http://"+in.httpAddr+path, bytes.NewReader(inv.payload))
	if err != nil {
		in.finish(inv, &result{status: http.StatusBadGateway, errorType: "Runtime.InvalidRequest",
			body: errorBody("Runtime.InvalidRequest", err.Error())})
		return
	}
	copyHeaders(req.Header, inv.header)
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Call-Id", inv.id)
	req.Header.Set("X-Amzn-Trace-Id", inv.traceID)
	resp, err := in.p.httpClient.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, MaxPayloadBytes+1))
		_ = resp.Body.Close()
		if err == nil && len(body) > MaxPayloadBytes {
			err = errors.New("response larger than 6 MB")
		}
	}
	if err != nil {
		// If the process died, let wait report Runtime.ExitError; reaping
		// can lag on a loaded machine, so give it time.
		select {
		case <-in.dead:
			return
		case <-time.After(2 * time.Second):
		}
		in.finish(inv, &result{status: http.StatusBadGateway, errorType: "Runtime.InvalidResponse",
			body: errorBody("Runtime.InvalidResponse", "calling the function: "+err.Error())})
		return
	}
	res := &result{status: resp.StatusCode, header: http.Header{}, body: body}
	copyHeaders(res.header, resp.Header)
	if resp.StatusCode >= 400 {
		res.errorType = "Function.HTTPError"
	}
	in.finish(inv, res)
}
