package localfaas

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// CodeEnvVar is the environment variable of a CreateFunction request that
// names the Config.CodeCatalog entry to run (see docs/local-platform.md).
const CodeEnvVar = "FB_LOCAL_CODE"

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
