package engine

import (
	"strconv"
	"sync/atomic"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// decodeLabFast decodes body as a lab.Response when it has the form the lab
// functions produce (encoding/json output: the schema's exact keys, ASCII
// strings without escapes, plain numbers), about four times faster than a
// general decoder. It reports false for anything else — an unknown or
// differently cased key, an escape or non-ASCII byte in a string, a number
// an integer field cannot hold, a non-null "result" or "nested", invalid
// JSON — and the caller then decodes with the general decoder, so the
// outcome is always the one encoding/json gives. Whatever it accepts is
// valid JSON (it checks every byte it consumes), and the Response is exactly
// what json.Unmarshal would produce (TestDecodeLabFastMatchesEncodingJSON,
// FuzzDecodeLabFast).
//
// Strings that repeat from response to response (function and instance
// fields, error kinds) come from strs when it is not nil, so that decoding
// them allocates nothing once seen.
func decodeLabFast(body []byte, strs *stringCache) (*lab.Response, bool) {
	d := fastDecoder{b: body, strs: strs}
	r := &lab.Response{}
	d.ws()
	if !object(&d, r, (*fastDecoder).responseField) {
		return nil, false
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, false
	}
	return r, true
}

// fastDecoder is a cursor over one body.
type fastDecoder struct {
	b    []byte
	i    int
	strs *stringCache // nil: none
}

// stringCache holds recently decoded strings, so that a string seen before
// is returned without allocating. It is a fixed table indexed by a hash of
// the bytes, each slot holding its last string: bounded, lock-free, safe
// for concurrent use; a collision only costs an allocation.
type stringCache struct {
	slots [256]atomic.Pointer[string]
}

// maxCachedString bounds the strings kept (ids, names, kinds are short).
const maxCachedString = 64

func (c *stringCache) get(b []byte) string {
	if c == nil || len(b) == 0 || len(b) > maxCachedString {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, x := range b {
		h = (h ^ uint32(x)) * 16777619
	}
	slot := &c.slots[h%uint32(len(c.slots))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

func (d *fastDecoder) ws() {
	if d.i < len(d.b) && d.b[d.i] > ' ' { // compact JSON: nothing to skip
		return
	}
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) consume(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDecoder) literal(lit string) bool {
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// null consumes a JSON null if one is next.
func (d *fastDecoder) null() bool { return d.literal("null") }

// object decodes a JSON object into v, one member at a time through field,
// which decodes the member's value (after the colon) or reports false.
func object[T any](d *fastDecoder, v *T, field func(*fastDecoder, *T, []byte) bool) bool {
	if !d.consume('{') {
		return false
	}
	d.ws()
	if d.consume('}') {
		return true
	}
	for {
		key, ok := d.rawString()
		if !ok {
			return false
		}
		d.ws()
		if !d.consume(':') {
			return false
		}
		d.ws()
		if !field(d, v, key) {
			return false
		}
		d.ws()
		if d.consume('}') {
			return true
		}
		if !d.consume(',') {
			return false
		}
		d.ws()
	}
}

// plainByte reports the bytes a raw string may hold: printable ASCII other
// than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// rawString returns the bytes of a JSON string made of printable ASCII
// without escapes (false for any other string).
func (d *fastDecoder) rawString() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	b, start := d.b, d.i
	i := start
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	if i == len(b) || b[i] != '"' { // the end, a control, escape or non-ASCII byte
		return nil, false
	}
	d.i = i + 1
	return b[start:i], true
}

// str decodes a string that is likely to repeat (through the cache).
func (d *fastDecoder) str(dst *string) bool {
	if d.null() { // encoding/json: null leaves a non-pointer field as it is
		return true
	}
	s, ok := d.rawString()
	if ok {
		*dst = d.strs.get(s)
	}
	return ok
}

// uniqueStr decodes a string that differs every time (request ids).
func (d *fastDecoder) uniqueStr(dst *string) bool {
	if d.null() {
		return true
	}
	s, ok := d.rawString()
	if ok {
		*dst = string(s)
	}
	return ok
}

func (d *fastDecoder) boolean(dst *bool) bool {
	switch {
	case d.null():
	case d.literal("true"):
		*dst = true
	case d.literal("false"):
		*dst = false
	default:
		return false
	}
	return true
}

// int64 decodes a JSON integer that fits an int64 (epoch nanoseconds have
// 19 digits); fractions and exponents, which encoding/json refuses for
// integer fields, are left to the general decoder, which says so.
func (d *fastDecoder) int64(dst *int64) bool {
	if d.null() {
		return true
	}
	neg := d.consume('-')
	start := d.i
	var u uint64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		u = u*10 + uint64(d.b[d.i]-'0') // at most 19 digits: no uint64 overflow
		d.i++
		if d.i-start > 19 {
			return false
		}
	}
	n := d.i - start
	if n == 0 || (n > 1 && d.b[start] == '0') {
		return false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return false
	}
	switch {
	case neg && u > 1<<63, !neg && u > 1<<63-1:
		return false
	case neg:
		*dst = -int64(u) // u == 1<<63 gives math.MinInt64, as it should
	default:
		*dst = int64(u)
	}
	return true
}

func (d *fastDecoder) int(dst *int) bool {
	var v int64
	if d.null() {
		return true
	}
	if !d.int64(&v) || int64(int(v)) != v {
		return false
	}
	*dst = int(v)
	return true
}

// float64 decodes a JSON number (the full grammar) into a float64.
func (d *fastDecoder) float64(dst *float64) bool {
	if d.null() {
		return true
	}
	start := d.i
	d.consume('-')
	if d.consume('0') {
	} else if !d.digits() {
		return false
	}
	if d.consume('.') && !d.digits() {
		return false
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if !d.digits() {
			return false
		}
	}
	tok := d.b[start:d.i]
	if len(tok) == 1 && tok[0] == '0' {
		*dst = 0
		return true
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil { // out of range: encoding/json fails too; let it say so
		return false
	}
	*dst = v
	return true
}

func (d *fastDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

func (d *fastDecoder) responseField(r *lab.Response, key []byte) bool {
	switch string(key) {
	case "schema_version":
		return d.int(&r.SchemaVersion)
	case "function":
		return d.str(&r.Function)
	case "request_id":
		return d.uniqueStr(&r.RequestID)
	case "parent":
		return d.uniqueStr(&r.Parent)
	case "depth":
		return d.int(&r.Depth)
	case "instance":
		return d.null() || object(d, &r.Instance, (*fastDecoder).instanceField)
	case "timing":
		return d.null() || object(d, &r.Timing, (*fastDecoder).timingField)
	case "result":
		if d.null() {
			r.Result = nil
			return true
		}
		return false // monolith results (raw JSON values): the general decoder
	case "nested":
		if d.null() {
			r.Nested = nil
			return true
		}
		return false // nested calls: the general decoder
	case "error":
		if d.null() {
			r.Error = nil
			return true
		}
		if r.Error == nil {
			r.Error = &lab.Error{}
		}
		return object(d, r.Error, (*fastDecoder).errorField)
	}
	return false
}

func (d *fastDecoder) instanceField(in *lab.Instance, key []byte) bool {
	switch string(key) {
	case "id":
		return d.str(&in.ID)
	case "cold":
		return d.boolean(&in.Cold)
	case "invocation_count":
		return d.int64(&in.InvocationCount)
	case "init_started_at":
		return d.int64(&in.InitStartedAt)
	case "init_started_source":
		return d.str(&in.InitStartedSource)
	case "started_at":
		return d.int64(&in.StartedAt)
	case "boot_id":
		return d.str(&in.BootID)
	case "host_boot_time":
		return d.int64(&in.HostBootTime)
	case "cgroup":
		return d.str(&in.Cgroup)
	case "hostname":
		return d.str(&in.Hostname)
	case "cpu_model":
		return d.str(&in.CPUModel)
	case "cpus":
		return d.int(&in.CPUs)
	case "memory_limit_mb":
		return d.int(&in.MemoryLimitMB)
	case "memory_limit_source":
		return d.str(&in.MemoryLimitSource)
	case "platform":
		return d.str(&in.Platform)
	case "runtime":
		return d.str(&in.Runtime)
	case "platform_hint":
		return d.str(&in.PlatformHint)
	}
	return false
}

func (d *fastDecoder) timingField(t *lab.Timing, key []byte) bool {
	switch string(key) {
	case "start":
		return d.int64(&t.Start)
	case "end":
		return d.int64(&t.End)
	case "sleep_ms":
		return d.float64(&t.SleepMS)
	case "throughput":
		if d.null() {
			t.Throughput = nil
			return true
		}
		if t.Throughput == nil {
			t.Throughput = &lab.Throughput{}
		}
		return object(d, t.Throughput, (*fastDecoder).throughputField)
	}
	return false
}

func (d *fastDecoder) throughputField(t *lab.Throughput, key []byte) bool {
	switch string(key) {
	case "requested_s":
		return d.float64(&t.RequestedS)
	case "iterations":
		return d.int64(&t.Iterations)
	case "cpu_s":
		return d.float64(&t.CPUS)
	}
	return false
}

func (d *fastDecoder) errorField(e *lab.Error, key []byte) bool {
	switch string(key) {
	case "kind":
		return d.str(&e.Kind)
	case "message":
		return d.uniqueStr(&e.Message)
	}
	return false
}
