package localfaas

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Response headers the platform adds besides Lambda's, naming the instance
// that served an invocation (handy for debugging; the ground truth is
// GET /_local/events).
const (
	HeaderInstanceID = "X-Localfaas-Instance-Id"
	HeaderLogStream  = "X-Localfaas-Log-Stream"
	HeaderCold       = "X-Localfaas-Cold"
)

// CodeEnvVar is the environment variable of a CreateFunction request that
// names the Config.CodeCatalog entry to run (see docs/local-platform.md).
const CodeEnvVar = "FB_LOCAL_CODE"

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

// functionConfiguration is the Lambda FunctionConfiguration shape.
type functionConfiguration struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	Environment      *environment      `json:"Environment,omitempty"`
	State            string            `json:"State"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	RevisionID       string            `json:"RevisionId"`
	EphemeralStorage map[string]int    `json:"EphemeralStorage"`
	LoggingConfig    map[string]string `json:"LoggingConfig"`
	TracingConfig    map[string]string `json:"TracingConfig"`
	SnapStart        map[string]string `json:"SnapStart"`
}

type environment struct {
	Variables map[string]string `json:"Variables"`
}

// codeSHA256 stands in for the hash of the deployment package: the hash
// of the runtime and command line.
func codeSHA256(runtime string, command []string) string {
	sum := sha256.Sum256([]byte(runtime + "\x00" + strings.Join(command, "\x00")))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func secondsCeil(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

func (f *function) configuration() functionConfiguration {
	spec, meta := f.snapshot()
	vars := spec.Env
	if vars == nil {
		vars = map[string]string{}
	}
	return functionConfiguration{
		FunctionName:     spec.Name,
		FunctionArn:      functionARN(spec.Name),
		Runtime:          meta.runtimeName,
		Role:             meta.role,
		Handler:          meta.handler,
		Description:      meta.description,
		Timeout:          secondsCeil(spec.Timeout),
		MemorySize:       spec.MemoryMB,
		LastModified:     meta.lastModified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		CodeSha256:       codeSHA256(spec.Runtime, spec.Command),
		Version:          "$LATEST",
		Environment:      &environment{Variables: vars},
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{"x86_64"},
		RevisionID:       meta.revisionID,
		EphemeralStorage: map[string]int{"Size": 512},
		LoggingConfig:    map[string]string{"LogFormat": "Text", "LogGroup": "/aws/lambda/" + spec.Name},
		TracingConfig:    map[string]string{"Mode": "PassThrough"},
		SnapStart:        map[string]string{"ApplyOn": "None", "OptimizationStatus": "Off"},
	}
}

func (p *Platform) handleGetConfiguration(w http.ResponseWriter, r *http.Request) {
	f, apiErr := p.lookup(r)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, f.configuration())
}

func (p *Platform) handleGetFunction(w http.ResponseWriter, r *http.Request) {
	f, apiErr := p.lookup(r)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"Configuration": f.configuration(),
		"Code":          map[string]string{"RepositoryType": "Local", "Location": "localfaas://" + f.name},
		"Tags":          map[string]string{},
	})
}

func (p *Platform) handleListFunctions(w http.ResponseWriter, _ *http.Request) {
	names := p.Functions()
	out := make([]functionConfiguration, 0, len(names))
	for _, n := range names {
		if f := p.function(n); f != nil {
			out = append(out, f.configuration())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Functions": out})
}

// UpdateFunctionConfiguration request body (the subset honoured).
type updateConfigurationRequest struct {
	Environment *environment `json:"Environment"`
	MemorySize  *int         `json:"MemorySize"`
	Timeout     *int         `json:"Timeout"`
	Description *string      `json:"Description"`
	Handler     *string      `json:"Handler"`
	Runtime     *string      `json:"Runtime"`
	Role        *string      `json:"Role"`
}

func checkMemoryTimeout(memory, timeout *int) *apiError {
	if memory != nil && (*memory < MinMemoryMB || *memory > MaxMemoryMB) {
		return errInvalidParam("MemorySize %d must be between %d and %d", *memory, MinMemoryMB, MaxMemoryMB)
	}
	if timeout != nil && (*timeout < 1 || *timeout > int(MaxTimeout/time.Second)) {
		return errInvalidParam("Timeout %d must be between 1 and %d seconds", *timeout, int(MaxTimeout/time.Second))
	}
	return nil
}

func (p *Platform) handleUpdateConfiguration(w http.ResponseWriter, r *http.Request) {
	f, apiErr := p.lookup(r)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	var req updateConfigurationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		writeAPIError(w, errInvalidParam("cannot parse request: %v", err))
		return
	}
	if apiErr := checkMemoryTimeout(req.MemorySize, req.Timeout); apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	f.mu.Lock()
	if req.Environment != nil {
		f.spec.Env = cloneMap(req.Environment.Variables)
	}
	if req.MemorySize != nil {
		f.spec.MemoryMB = *req.MemorySize
	}
	if req.Timeout != nil {
		f.spec.Timeout = time.Duration(*req.Timeout) * time.Second
	}
	if req.Description != nil {
		f.meta.description = *req.Description
	}
	if req.Handler != nil {
		f.meta.handler = *req.Handler
	}
	if req.Runtime != nil {
		f.meta.runtimeName = *req.Runtime
	}
	if req.Role != nil {
		f.meta.role = *req.Role
	}
	f.meta.lastModified = time.Now()
	f.meta.revisionID = newRequestID()
	f.mu.Unlock()
	// Like a Lambda configuration update: every current environment is
	// retired, so the next invocation is a cold start.
	f.retire(ReasonConfigUpdate, false, false)
	writeJSON(w, http.StatusOK, f.configuration())
}

// createFunctionRequest is the CreateFunction request body (the subset
// honoured; Code is ignored because the code comes from Config.CodeCatalog).
type createFunctionRequest struct {
	FunctionName string       `json:"FunctionName"`
	Runtime      string       `json:"Runtime"`
	Role         string       `json:"Role"`
	Handler      string       `json:"Handler"`
	Description  string       `json:"Description"`
	MemorySize   *int         `json:"MemorySize"`
	Timeout      *int         `json:"Timeout"`
	Environment  *environment `json:"Environment"`
}

// codeFor picks the catalog entry a CreateFunction request runs: the
// FB_LOCAL_CODE environment variable, else the Handler, else the Runtime
// field, else "bootstrap".
func (p *Platform) codeFor(req createFunctionRequest) (string, Code, *apiError) {
	var candidates []string
	if req.Environment != nil && req.Environment.Variables[CodeEnvVar] != "" {
		candidates = []string{req.Environment.Variables[CodeEnvVar]}
	} else {
		candidates = []string{req.Handler, req.Runtime, "bootstrap"}
	}
	for _, c := range candidates {
		if code, ok := p.cfg.CodeCatalog[c]; ok && c != "" {
			return c, code, nil
		}
	}
	keys := make([]string, 0, len(p.cfg.CodeCatalog))
	for k := range p.cfg.CodeCatalog {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "", Code{}, errInvalidParam("localfaas runs no uploaded code: set Handler or the %s environment variable to one of %v", CodeEnvVar, keys)
}

func (p *Platform) handleCreateFunction(w http.ResponseWriter, r *http.Request) {
	var req createFunctionRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 80<<20)).Decode(&req); err != nil {
		writeAPIError(w, errInvalidParam("cannot parse request: %v", err))
		return
	}
	if apiErr := checkMemoryTimeout(req.MemorySize, req.Timeout); apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	key, code, apiErr := p.codeFor(req)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	spec := FunctionSpec{Name: req.FunctionName, Runtime: code.Runtime, Command: code.Command}
	if req.Environment != nil {
		spec.Env = cloneMap(req.Environment.Variables)
	}
	if req.MemorySize != nil {
		spec.MemoryMB = *req.MemorySize
	}
	if req.Timeout != nil {
		spec.Timeout = time.Duration(*req.Timeout) * time.Second
	}
	meta := functionMeta{handler: req.Handler, runtimeName: req.Runtime, description: req.Description,
		role: req.Role, codeKey: key}
	f, err := p.deploy(spec, meta)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			writeAPIError(w, ae)
		} else {
			writeAPIError(w, errInvalidParam("%v", err))
		}
		return
	}
	writeJSON(w, http.StatusCreated, f.configuration())
}

func (p *Platform) handleDeleteFunction(w http.ResponseWriter, r *http.Request) {
	f, apiErr := p.lookup(r)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	if err := p.Delete(f.name); err != nil {
		writeAPIError(w, errNotFound(f.name))
		return
	}
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(http.StatusNoContent)
}

// Deploy adds a function. It fails if the spec is invalid or the name is
// taken.
func (p *Platform) Deploy(spec FunctionSpec) error {
	_, err := p.deploy(spec, functionMeta{codeKey: "api"})
	return err
}

func (p *Platform) deploy(spec FunctionSpec, meta functionMeta) (*function, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("localfaas: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errServiceUnavailable("the platform is shutting down")
	}
	if _, ok := p.funcs[spec.Name]; ok {
		return nil, &apiError{status: http.StatusConflict, Type: "ResourceConflictException",
			Message: "Function already exist: " + spec.Name}
	}
	f := newFunction(p, spec, meta)
	p.funcs[spec.Name] = f
	return f, nil
}

// Delete removes a function and kills its instances (reason deleted).
func (p *Platform) Delete(name string) error {
	p.mu.Lock()
	f := p.funcs[name]
	delete(p.funcs, name)
	p.mu.Unlock()
	if f == nil {
		return fmt.Errorf("localfaas: no function %q", name)
	}
	f.retire(ReasonDeleted, true, true)
	return nil
}
