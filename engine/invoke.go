package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	fastjson "github.com/segmentio/encoding/json"
	"net"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// connTiming learns, through httptrace, which connection a request went
// out on and, when that connection was opened for it, how long its setup
// took: DNS and connect from the connection itself (providers.ConnSetup,
// timed once per connection by the provider's transport), the TLS handshake
// from the hooks. The TLS hooks may fire from the transport's dialing
// goroutine even after the request has returned (a dial started for it
// that another request's idle connection overtook), hence the mutex, and
// why a connTiming is never reused for another request. The hooks and the
// ClientTrace live in the same allocation as the times.
type connTiming struct {
	mu                     sync.Mutex
	tlsStart               time.Time
	tls                    time.Duration
	reused, fresh, gotConn bool
	conn                   net.Conn // when fresh: the connection opened for the request
	trace                  httptrace.ClientTrace
}

// newConnTiming returns a connTiming with its hooks. The hooks run at the
// deepest point of a request (inside the transport, under the provider), so
// they only note what they see: a deeper GotConn would grow the stack of
// every invoking goroutine (see invoke). The connection is looked at
// afterwards, in setup. It is not inlined: inlined, its trace literal
// would widen invoke's frame, which sits under the provider's call, by
// 136 bytes, enough to keep the stacks of parked invoking goroutines from
// shrinking back at GC (8 KiB more per in-flight request in the bench's
// memory measurement).
//
//go:noinline
func newConnTiming() *connTiming {
	c := &connTiming{}
	c.trace = httptrace.ClientTrace{
		TLSHandshakeStart: func() { c.mu.Lock(); c.tlsStart = time.Now(); c.mu.Unlock() },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			c.mu.Lock()
			if !c.tlsStart.IsZero() {
				c.tls += time.Since(c.tlsStart)
			}
			c.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			c.mu.Lock()
			// The first connection obtained is the request's; retries inside
			// a provider would be a bug (providers disable them).
			if !c.gotConn {
				c.gotConn, c.reused = true, info.Reused
				// Neither used before nor taken from the idle pool: the
				// connection was dialed for this request, which waited for
				// its setup.
				if c.fresh = !info.Reused && !info.WasIdle; c.fresh {
					c.conn = info.Conn
				}
			}
			c.mu.Unlock()
		},
	}
	return c
}

// setup returns what the request's connection cost to set up: zero unless
// it was opened for the request. DNS and connect come from the connection
// (providers.ConnSetup, under TLS through NetConn), the TLS handshake from
// the hooks.
func (c *connTiming) setup() (reused bool, dns, connect, tls time.Duration) {
	c.mu.Lock()
	reused, fresh, conn, tls := c.reused, c.fresh, c.conn, c.tls
	c.mu.Unlock()
	if !fresh {
		return reused, 0, 0, 0
	}
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		conn = nc.NetConn()
	}
	if cs, ok := conn.(providers.ConnSetup); ok {
		dns, connect = cs.SetupTimes()
	}
	return reused, dns, connect, tls
}

// invoke performs and records one client invocation. scheduled is the
// planned send offset (-1 when not scheduled). It keeps a small stack frame
// under the provider's call, the deepest point of a request; the record
// is built after the call returns (see record).
func (b *Benchmarker) invoke(ctx context.Context, fn string, payload []byte, scheduled time.Duration) *Result {
	s := b.shared
	ct := newConnTiming()
	ictx, cancel := context.WithTimeout(httptrace.WithClientTrace(ctx, &ct.trace), s.cfg.Timeout)
	seq := s.seq.Add(1)
	sentUnix := time.Now().UnixNano()
	sent := time.Since(s.start)
	reply, err := s.cfg.Invoker.Invoke(ictx, fn, payload)
	latency := time.Since(s.start) - sent
	deadlineHit := ictx.Err() != nil // before cancel: our own deadline passed
	cancel()
	return b.record(ctx, invocation{fn: fn, seq: seq, scheduled: scheduled, sent: sent, latency: latency,
		sentUnix: sentUnix, ct: ct, deadlineHit: deadlineHit}, reply, err)
}

// invocation is what invoke measured around the provider's call.
type invocation struct {
	fn                       string
	seq, sentUnix            int64
	scheduled, sent, latency time.Duration
	ct                       *connTiming
	deadlineHit              bool // the per-invocation timeout expired
}

// record builds, stores and returns the result of one client invocation
// from what invoke measured and the provider returned.
func (b *Benchmarker) record(ctx context.Context, inv invocation, reply *providers.Reply, err error) *Result {
	s := b.shared
	res := &Result{}
	rec := &res.Record
	*rec = results.Invocation{
		RunID:       s.cfg.RunID,
		Seq:         inv.seq,
		Phase:       b.phase,
		Function:    inv.fn,
		ScheduledNS: int64(inv.scheduled),
		SentNS:      int64(inv.sent),
		LatencyNS:   int64(inv.latency),
		SentUnixNS:  inv.sentUnix,
	}
	if inv.scheduled < 0 {
		rec.ScheduledNS = -1
	}
	reused, dns, connect, tlsTime := inv.ct.setup()
	rec.ConnReused, rec.DNSNS, rec.ConnectNS, rec.TLSNS = reused, int64(dns), int64(connect), int64(tlsTime)

	if err != nil {
		// A timeout of our own per-invocation deadline is a timeout, even
		// when the provider saw it as a cancelled context.
		var pe *providers.Error
		if errors.As(err, &pe) && pe.Kind == providers.KindCanceled && ctx.Err() == nil && inv.deadlineHit {
			pe.Kind = providers.KindTimeout
		}
		kind := providers.KindOf(err)
		if kind == "" {
			kind = providers.KindTransport
			if ctx.Err() != nil {
				kind = providers.KindCanceled
			} else if inv.deadlineHit {
				kind = providers.KindTimeout
			}
		}
		rec.Status = results.InvError
		rec.ErrorKind = string(kind)
		rec.ErrorMessage = err.Error()
		if pe != nil {
			rec.HTTPStatus, rec.ErrorReason = pe.StatusCode, pe.Reason
		}
		res.Err = err
	}
	var nested []lab.NestedResult
	if reply != nil {
		rec.HTTPStatus = reply.StatusCode
		rec.RequestID = reply.RequestID
		if r := reply.Report; r != nil {
			rec.Report = &results.PlatformReport{DurationMS: r.DurationMS, BilledMS: r.BilledMS, MemorySizeMB: r.MemorySizeMB,
				MaxMemoryUsedMB: r.MaxMemoryUsedMB, InitDurationMS: r.InitDurationMS, RestoreMS: r.RestoreMS}
		}
		resp := decodeResponse(reply.Body, &s.strs)
		if resp != nil {
			rec.Raw = json.RawMessage(reply.Body) // decoded, so valid JSON: no second validation pass
		} else {
			rec.Raw = validJSON(reply.Body)
		}
		if resp != nil {
			res.Response = resp
			fillFromResponse(rec, resp)
			nested = resp.Nested
		}
		if err == nil {
			switch {
			case reply.FunctionError != "" || (resp != nil && resp.Error != nil):
				fe := &FunctionError{Kind: reply.FunctionError, Message: "the platform reported a function error"}
				if resp != nil && resp.Error != nil {
					fe.Kind, fe.Message = resp.Error.Kind, resp.Error.Message
				}
				rec.Status = results.InvFunctionError
				rec.ErrorKind, rec.ErrorMessage = fe.Kind, fe.Message
				res.Err = fe
			case resp == nil:
				rec.Status = results.InvFunctionError
				rec.ErrorKind, rec.ErrorMessage = "bad_response", "the response is not a lab function response"
				res.Err = &FunctionError{Kind: rec.ErrorKind, Message: rec.ErrorMessage}
			default:
				rec.Status = results.InvOK
			}
		}
	}
	b.store(rec)
	b.storeNested(inv.seq, 1, nested)
	s.cfg.Progress.Done(res.Err != nil)
	return res
}

// DecodeResponse decodes a lab response from a reply body. It accepts the
// response itself and the AWS Lambda error envelope
// ({"errorMessage": "<response JSON>", "errorType": ...}) that the Lambda
// adapter uses to deliver a failed invocation's response. It returns nil when
// body is neither. Bodies in the form the lab functions write take a fast
// path (see decodeLabFast); any other is decoded by a general JSON decoder,
// with encoding/json's outcome either way.
func DecodeResponse(body []byte) *lab.Response { return decodeResponse(body, nil) }

// decodeResponse is DecodeResponse with a string cache for the fast path
// (nil: none).
func decodeResponse(body []byte, strs *stringCache) *lab.Response {
	if len(body) == 0 {
		return nil
	}
	if r, ok := decodeLabFast(body, strs); ok && r.SchemaVersion > 0 {
		return r
	}
	var r lab.Response
	if err := fastjson.Unmarshal(body, &r); err == nil && r.SchemaVersion > 0 {
		return &r
	}
	var env struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if err := fastjson.Unmarshal(body, &env); err == nil && env.ErrorMessage != "" {
		var r lab.Response
		if err := fastjson.Unmarshal([]byte(env.ErrorMessage), &r); err == nil && r.SchemaVersion > 0 {
			return &r
		}
	}
	return nil
}

func validJSON(b []byte) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		if len(b) == 0 {
			return nil
		}
		q, _ := json.Marshal(string(b)) // keep non-JSON bodies as a JSON string
		return q
	}
	return json.RawMessage(b)
}

func fillFromResponse(rec *results.Invocation, r *lab.Response) {
	if rec.RequestID == "" {
		rec.RequestID = r.RequestID
	}
	rec.Cold = &r.Instance.Cold // r is this record's own response
	rec.InstanceID = r.Instance.ID
	rec.InvocationCount = r.Instance.InvocationCount
	rec.FnInitStartedNS = r.Instance.InitStartedAt
	rec.FnStartNS = r.Timing.Start
	rec.FnEndNS = r.Timing.End
	rec.BootID = r.Instance.BootID
	rec.Hostname = r.Instance.Hostname
	rec.PlatformHint = r.Instance.PlatformHint
}

// storeNested flattens nested calls into records with parent and depth.
func (b *Benchmarker) storeNested(parent int64, depth int, nested []lab.NestedResult) {
	s := b.shared
	for _, n := range nested {
		seq := s.seq.Add(1)
		rec := results.Invocation{
			RunID:            s.cfg.RunID,
			Seq:              seq,
			ParentSeq:        parent,
			Depth:            depth,
			Phase:            b.phase,
			Function:         n.FunctionName,
			ScheduledNS:      -1,
			LatencyNS:        n.DurationNS,
			CallerSentNS:     n.SentAt,
			CallerReceivedNS: n.ReceivedAt,
			Status:           results.InvOK,
		}
		var sub []lab.NestedResult
		if n.Response != nil {
			fillFromResponse(&rec, n.Response)
			sub = n.Response.Nested
			if n.Response.Error != nil {
				rec.Status, rec.ErrorKind, rec.ErrorMessage = results.InvFunctionError, n.Response.Error.Kind, n.Response.Error.Message
			}
		}
		if n.Error != nil {
			rec.Status, rec.ErrorKind, rec.ErrorMessage = results.InvError, n.Error.Kind, n.Error.Message
			if n.Response != nil && n.Response.Error != nil {
				rec.Status = results.InvFunctionError
			}
		}
		b.store(&rec)
		b.storeNested(seq, depth+1, sub)
	}
}

func (b *Benchmarker) store(rec *results.Invocation) {
	b.sinkFailed(b.shared.cfg.Sink.Add(*rec))
}
