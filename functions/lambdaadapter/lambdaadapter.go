// Package lambdaadapter runs a lab.Handler as an AWS Lambda function on
// the provided.al2023 runtime (and on anything that speaks the Lambda
// Runtime API: the Runtime Interface Emulator, the embedded local
// platform), and performs nested calls with the AWS SDK's Invoke.
//
// Error reporting: a failed invocation (Response.Error set) is returned to
// Lambda as a function error whose errorType is "LabError" and whose
// errorMessage is the complete lab Response JSON. The caller therefore
// sees the platform-level failure (X-Amz-Function-Error: Unhandled) and can
// still decode the instance id, cold flag and timings from the error
// payload (see DecodeErrorPayload).
//
// Invocations through a Lambda function URL or API Gateway arrive as proxy
// events: the adapter takes the lab request from the event's body and
// answers with a proxy response whose statusCode carries the failure
// (lab.HTTPStatus) and whose body is the lab Response.
package lambdaadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// ErrorType is the errorType of the function error returned for a failed
// lab invocation; its errorMessage is the lab Response JSON.
const ErrorType = "LabError"

// RuntimeAPIEnv is the environment variable holding the Lambda Runtime
// API address; Run refuses to start without it.
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// Config configures Run.
type Config struct {
	// Handler serves every invocation. Required.
	Handler *lab.Handler
	// Logger receives adapter errors; nil means slog.Default().
	Logger *slog.Logger
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Run serves invocations from the Lambda Runtime API with aws-lambda-go's
// runtime loop. It returns an error only when it cannot start (no Runtime
// API in the environment, no handler). Once started it does not return:
// aws-lambda-go ends the process when the Runtime API connection fails,
// which happens outside any handler and is how a Lambda runtime reports a
// broken sandbox. ctx becomes the base context of every invocation.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Handler == nil {
		return errors.New("lambdaadapter: Config.Handler is nil")
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv(RuntimeAPIEnv) == "" {
		return fmt.Errorf("lambdaadapter: %s is not set: not running under a Lambda Runtime API", RuntimeAPIEnv)
	}
	lambda.StartWithOptions(NewHandler(cfg.Handler, cfg.Logger), lambda.WithContext(ctx))
	return errors.New("lambdaadapter: the Lambda runtime loop returned")
}

// Handler adapts a lab.Handler to aws-lambda-go's lambda.Handler interface,
// taking the raw payload so that malformed JSON reaches the lab handler
// (and is reported as an input error) instead of failing in the library.
type Handler struct {
	h      *lab.Handler
	logger *slog.Logger
}

// NewHandler returns the Lambda handler for h. logger may be nil.
func NewHandler(h *lab.Handler, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{h: h, logger: logger}
}

var _ lambda.Handler = (*Handler)(nil)

// Invoke serves one invocation. It returns the lab Response JSON, or, when
// the Response reports an error, a messages.InvokeResponse_Error of type
// ErrorType carrying that JSON. It never panics.
func (a *Handler) Invoke(ctx context.Context, payload []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			a.logger.Error("lambdaadapter: panic", "panic", p)
			out, err = nil, messages.InvokeResponse_Error{Type: "LabPanic", Message: fmt.Sprintf("panic: %v", p)}
		}
	}()
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	body, proxied := unwrapProxyEvent(payload)
	if !proxied {
		body = payload
	}
	resp := a.h.Handle(ctx, requestID, body)
	b, merr := json.Marshal(resp)
	if merr != nil {
		return nil, messages.InvokeResponse_Error{Type: "LabInternal", Message: "encoding the lab response: " + merr.Error()}
	}
	if proxied {
		// Function URLs and API Gateway report the failure as the HTTP
		// status of a normal proxy response.
		out, err := json.Marshal(proxyResponse{StatusCode: lab.HTTPStatus(resp.Error), Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)})
		if err != nil {
			return nil, messages.InvokeResponse_Error{Type: "LabInternal", Message: "encoding the proxy response: " + err.Error()}
		}
		return out, nil
	}
	if resp.Error != nil {
		return nil, messages.InvokeResponse_Error{Type: ErrorType, Message: string(b)}
	}
	return b, nil
}

// errorPayload is Lambda's function-error body.
type errorPayload struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// DecodeErrorPayload extracts the lab Response JSON from a Lambda
// function-error payload of type ErrorType. ok is false for any other
// payload (a crash, a timeout reported by Lambda, another runtime's error).
func DecodeErrorPayload(payload []byte) (response []byte, ok bool) {
	var e errorPayload
	if err := json.Unmarshal(payload, &e); err != nil || e.Type != ErrorType {
		return nil, false
	}
	if !strings.HasPrefix(strings.TrimSpace(e.Message), "{") {
		return nil, false
	}
	return []byte(e.Message), true
}
