package localfaas

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (p *Platform) handleInvoke(w http.ResponseWriter, r *http.Request) {
	if p.isClosed() {
		writeAPIError(w, errServiceUnavailable("the platform is shutting down"))
		return
	}
	f, apiErr := p.lookup(r)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	invType := r.Header.Get("X-Amz-Invocation-Type")
	limit := MaxPayloadBytes
	switch invType {
	case "", "RequestResponse", "DryRun":
	case "Event":
		limit = MaxAsyncPayloadBytes
	default:
		writeAPIError(w, errInvalidParam("unknown X-Amz-Invocation-Type %q", invType))
		return
	}
	payload, tooLarge, err := readLimited(r.Body, limit)
	if err != nil {
		writeAPIError(w, &apiError{status: http.StatusBadRequest, Type: "InvalidRequestContentException", Message: err.Error()})
		return
	}
	if tooLarge {
		writeAPIError(w, &apiError{status: http.StatusRequestEntityTooLarge, Type: "RequestTooLargeException",
			Message: "Request must be smaller than " + strconv.Itoa(limit) + " bytes for the " + invType + " invocation type"})
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeAPIError(w, &apiError{status: http.StatusBadRequest, Type: "InvalidRequestContentException",
			Message: "Could not parse request body into json"})
		return
	}
	if invType == "DryRun" {
		w.Header().Set("X-Amzn-Requestid", newRequestID())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	inv := newInvocation(payload)
	inv.wantLog = r.Header.Get("X-Amz-Log-Type") == "Tail"
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		if dec, err := base64.StdEncoding.DecodeString(cc); err == nil {
			inv.clientContext = string(dec)
		}
	}
	if invType == "Event" {
		if !p.invokeAsync(f, inv) {
			writeAPIError(w, errServiceUnavailable("the platform is shutting down"))
			return
		}
		w.Header().Set("X-Amzn-Requestid", inv.id)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	res := p.invoke(r.Context(), f, inv)
	if res.apiErr != nil {
		writeAPIError(w, res.apiErr)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Requestid", inv.id)
	h.Set("X-Amzn-Trace-Id", inv.traceID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if res.errorType != "" {
		h.Set("X-Amz-Function-Error", "Unhandled")
	}
	if r.Header.Get("X-Amz-Log-Type") == "Tail" {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(res.log))
	}
	setInstanceHeaders(h, res)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

func setInstanceHeaders(h http.Header, res *result) {
	if res.instanceID != "" {
		h.Set(HeaderInstanceID, res.instanceID)
		h.Set(HeaderLogStream, res.logStream)
		h.Set(HeaderCold, strconv.FormatBool(res.cold))
	}
}

// handleGateway is the OpenFaaS-style route: the request body (and, for
// HTTP functions, method, path and headers) goes to the function; its
// response comes back as is.
func (p *Platform) handleGateway(w http.ResponseWriter, r *http.Request) {
	if u := p.cfg.GatewayUser; u != "" {
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(u)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(p.cfg.GatewayPassword)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="localfaas"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	f := p.function(r.PathValue("name"))
	if f == nil {
		http.Error(w, "error finding function "+r.PathValue("name")+": not found", http.StatusNotFound)
		return
	}
	payload, tooLarge, err := readLimited(r.Body, MaxPayloadBytes)
	switch {
	case err != nil:
		http.Error(w, "reading request: "+err.Error(), http.StatusBadRequest)
		return
	case tooLarge:
		http.Error(w, "request larger than "+strconv.Itoa(MaxPayloadBytes)+" bytes", http.StatusRequestEntityTooLarge)
		return
	}
	spec, _ := f.snapshot()
	if spec.Runtime == RuntimeLambda && len(payload) == 0 {
		payload = []byte("{}")
	}
	inv := newInvocation(payload)
	inv.method = r.Method
	inv.path = "/" + r.PathValue("rest")
	if r.URL.RawQuery != "" {
		inv.path += "?" + r.URL.RawQuery
	}
	inv.header = r.Header.Clone()
	start := time.Now()
	res := p.invoke(r.Context(), f, inv)
	h := w.Header()
	h.Set("X-Call-Id", inv.id)
	if res.apiErr != nil {
		http.Error(w, res.apiErr.Message, res.apiErr.status)
		return
	}
	copyHeaders(h, res.header)
	h.Set("X-Duration-Seconds", strconv.FormatFloat(time.Since(start).Seconds(), 'f', 6, 64))
	setInstanceHeaders(h, res)
	status := res.status
	switch {
	case res.timedOut:
		status = http.StatusGatewayTimeout
	case res.errorType == "" || res.errorType == "Function.HTTPError":
	case strings.HasPrefix(res.errorType, "Runtime.") || strings.HasPrefix(res.errorType, "Sandbox."):
		status = http.StatusBadGateway
	default:
		status = http.StatusInternalServerError
	}
	if h.Get("Content-Type") == "" && spec.Runtime == RuntimeLambda {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(res.body)
}

// handleEvents lists lifecycle events as a JSON array. Query parameters:
// since=N (only Seq > N), function=NAME.
func (p *Platform) handleEvents(w http.ResponseWriter, r *http.Request) {
	var since int64
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			writeAPIError(w, errInvalidParam("since must be an integer"))
			return
		}
		since = n
	}
	events, _ := p.events.since(since)
	if fn := r.URL.Query().Get("function"); fn != "" {
		events = slices.DeleteFunc(events, func(e Event) bool { return e.Function != fn })
	}
	if events == nil {
		events = []Event{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(events)
}
