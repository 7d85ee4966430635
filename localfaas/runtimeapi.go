package localfaas

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// Runtime API paths (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	runtimeNextPath      = "/2018-06-01/runtime/invocation/next"
	runtimeResponsePath  = "/2018-06-01/runtime/invocation/{id}/response"
	runtimeErrorPath     = "/2018-06-01/runtime/invocation/{id}/error"
	runtimeInitErrorPath = "/2018-06-01/runtime/init/error"
	// metadataPath is the Lambda execution-environment metadata endpoint
	// (AWS_LAMBDA_METADATA_API, bearer AWS_LAMBDA_METADATA_TOKEN).
	metadataPath = "/2026-01-15/metadata/execution-environment"
)

// runtimeAPI is the Lambda Runtime API of one instance. Each instance has
// its own listener, so the platform knows which instance is calling.
func (in *instance) runtimeAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeNextPath, in.handleNext)
	mux.HandleFunc("POST "+runtimeResponsePath, in.handleResponse)
	mux.HandleFunc("POST "+runtimeErrorPath, in.handleError)
	mux.HandleFunc("POST "+runtimeInitErrorPath, in.handleInitError)
	mux.HandleFunc(metadataPath, in.handleMetadata)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeRuntimeError(w, http.StatusNotFound, "InvalidRequest", "unknown Runtime API path "+r.URL.Path)
	})
	return mux
}

func writeRuntimeError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(errType, msg))
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// handleNext blocks until the instance gets an invocation. The first call
// ends the init phase.
func (in *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	if !in.markReady() {
		writeRuntimeError(w, http.StatusGone, "InstanceStopped", "the instance is being stopped")
		return
	}
	in.mu.Lock()
	busy := in.current != nil
	in.mu.Unlock()
	if busy {
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition",
			"/next called while an invocation is still running")
		return
	}
	var inv *invocation
	select {
	case inv = <-in.work:
	case <-in.dead:
		writeRuntimeError(w, http.StatusGone, "InstanceStopped", "the instance is being stopped")
		return
	case <-r.Context().Done():
		return
	}
	in.deliver(inv)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", functionARN(in.spec.Name))
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	if inv.clientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// runningInvocation returns the invocation id names, or nil.
func (in *instance) runningInvocation(id string) *invocation {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.current != nil && in.current.id == id {
		return in.current
	}
	return nil
}

func (in *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := in.runningInvocation(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no running invocation "+r.PathValue("id"))
		return
	}
	body, tooLarge, err := readLimited(r.Body, MaxPayloadBytes)
	if tooLarge {
		msg := "Response payload size exceeded maximum allowed payload size (" + strconv.Itoa(MaxPayloadBytes) + " bytes)."
		in.finish(inv, &result{status: http.StatusOK, errorType: "Function.ResponseSizeTooLarge",
			body: errorBody("Function.ResponseSizeTooLarge", msg)})
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "Function.ResponseSizeTooLarge", msg)
		return
	}
	if err != nil {
		// The runtime broke the connection mid-body: its error, not ours.
		in.finish(inv, &result{status: http.StatusOK, errorType: "Runtime.InvalidResponse",
			body: errorBody("Runtime.InvalidResponse", "reading the runtime's response: "+err.Error())})
		return
	}
	if !in.finish(inv, &result{status: http.StatusOK, body: body}) {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "invocation "+inv.id+" already finished")
		return
	}
	writeAccepted(w)
}

func (in *instance) handleError(w http.ResponseWriter, r *http.Request) {
	inv := in.runningInvocation(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no running invocation "+r.PathValue("id"))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes))
	errType := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	if errType == "" {
		errType = "Unhandled"
	}
	if !jsonValid(body) {
		body = errorBody(errType, string(body))
	}
	if !in.finish(inv, &result{status: http.StatusOK, errorType: errType, body: body}) {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "invocation "+inv.id+" already finished")
		return
	}
	writeAccepted(w)
}

func (in *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	ready := in.isReady
	in.mu.Unlock()
	if ready {
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error after init finished")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes))
	errType := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	if errType == "" {
		errType = "Runtime.InitError"
	}
	in.mu.Lock()
	in.initErrType, in.initErrBody = errType, body
	in.mu.Unlock()
	writeAccepted(w)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// Like Lambda, stop the instance once it reported its init failure.
	go func() {
		time.Sleep(10 * time.Millisecond)
		in.kill(ReasonInitError, "init error: "+errType)
	}()
}

// handleMetadata serves the execution-environment metadata, like the AWS
// emulator: a fixed availability zone id.
func (in *instance) handleMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+in.metadataToken {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, max-age=43200, immutable")
	_, _ = io.WriteString(w, `{"AvailabilityZoneID":"use1-az1"}`)
}
