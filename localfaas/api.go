package localfaas

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Response headers the platform adds besides Lambda's, naming the instance
// that served an invocation (handy for debugging; the ground truth is
// GET /_local/events).
const (
	HeaderInstanceID = "X-Localfaas-Instance-Id"
	HeaderLogStream  = "X-Localfaas-Log-Stream"
	HeaderCold       = "X-Localfaas-Cold"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func jsonValid(b []byte) bool { return json.Valid(b) }

// apiError is a Lambda API error: an HTTP status, the error type the SDK
// maps to a typed error (X-Amzn-ErrorType and "__type") and a message.
type apiError struct {
	status  int
	Type    string
	Message string
	Reason  string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errNotFound(name string) *apiError {
	return &apiError{status: http.StatusNotFound, Type: "ResourceNotFoundException",
		Message: "Function not found: " + functionARN(name)}
}

func errThrottled(reason string) *apiError {
	return &apiError{status: http.StatusTooManyRequests, Type: "TooManyRequestsException",
		Message: "Rate Exceeded.", Reason: reason}
}

func errService(msg string) *apiError {
	return &apiError{status: http.StatusInternalServerError, Type: "ServiceException", Message: msg}
}

func errServiceUnavailable(msg string) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, Type: "ServiceException", Message: msg}
}

func errCanceled(err error) *apiError {
	return &apiError{status: http.StatusRequestTimeout, Type: "RequestCanceled", Message: err.Error()}
}

func errInvalidParam(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "InvalidParameterValueException", Message: fmt.Sprintf(format, args...)}
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	kind := "User"
	if e.status >= 500 {
		kind = "Service"
	}
	body := map[string]any{"Type": kind, "message": e.Message, "__type": e.Type}
	if e.Reason != "" {
		body["Reason"] = e.Reason
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readLimited reads a request body of at most limit bytes. A larger body
// is drained (up to 64 MB) so the client finishes sending and reads the 413
// answer instead of a connection reset.
func readLimited(body io.Reader, limit int) (payload []byte, tooLarge bool, err error) {
	payload, err = io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	if len(payload) > limit {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<20))
		return nil, true, nil
	}
	return payload, false, nil
}

func (p *Platform) handler() http.Handler {
	mux := http.NewServeMux()
	const fns = "/2015-03-31/functions"
	mux.HandleFunc("POST "+fns+"/{name}/invocations", p.handleInvoke)
	mux.HandleFunc("GET "+fns+"/{name}/configuration", p.handleGetConfiguration)
	mux.HandleFunc("PUT "+fns+"/{name}/configuration", p.handleUpdateConfiguration)
	mux.HandleFunc("GET "+fns+"/{name}", p.handleGetFunction)
	mux.HandleFunc("DELETE "+fns+"/{name}", p.handleDeleteFunction)
	mux.HandleFunc("POST "+fns, p.handleCreateFunction)
	mux.HandleFunc("POST "+fns+"/{$}", p.handleCreateFunction)
	mux.HandleFunc("GET "+fns, p.handleListFunctions)
	mux.HandleFunc("GET "+fns+"/{$}", p.handleListFunctions)
	mux.HandleFunc("/function/{name}", p.handleGateway)
	mux.HandleFunc("/function/{name}/{rest...}", p.handleGateway)
	mux.HandleFunc("GET /_local/events", p.handleEvents)
	mux.HandleFunc("GET /_local/config", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, p.cfg.Describe())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "OK")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, &apiError{status: http.StatusNotFound, Type: "UnknownOperationException",
			Message: "unsupported operation " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// parseFunctionName accepts a name, a name:qualifier, a partial ARN or a
// full ARN; only the $LATEST qualifier exists here.
func parseFunctionName(s string) (name string, ok bool) {
	if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	}
	name, qualifier, _ := strings.Cut(s, ":")
	if qualifier != "" && qualifier != "$LATEST" {
		return name, false
	}
	return name, name != ""
}

// lookup finds the function named by the {name} path value and the
// Qualifier query parameter.
func (p *Platform) lookup(r *http.Request) (*function, *apiError) {
	raw := r.PathValue("name")
	name, ok := parseFunctionName(raw)
	if q := r.URL.Query().Get("Qualifier"); q != "" && q != "$LATEST" {
		ok = false
	}
	if !ok {
		return nil, errNotFound(raw)
	}
	f := p.function(name)
	if f == nil {
		return nil, errNotFound(name)
	}
	return f, nil
}
