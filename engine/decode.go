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
	// The decoder reaches the members' decode functions, which are values,
	// so it escapes to the heap; it shares the Response's allocation.
	st := &struct {
		r lab.Response
		d fastDecoder
	}{d: fastDecoder{b: body, strs: strs}}
	r, d := &st.r, &st.d
	d.ws()
	ok := object(d, r, responseMembers)
	if ok {
		d.ws()
		ok = d.i == len(d.b)
	}
	*d = fastDecoder{} // the Response keeps neither the body nor the cache
	if !ok {
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

// member is one key of a lab object and how to decode its value into the
// object.
type member[T any] struct {
	name   string // the key
	prefix string // the key as encoding/json writes it: quoted, then the colon
	decode func(*fastDecoder, *T) bool
}

// members lists an object's keys in the order encoding/json writes them
// (the struct's field order), with their decoders.
type members[T any] []member[T]

// newMembers fills in each member's prefix.
func newMembers[T any](ms ...member[T]) members[T] {
	for i := range ms {
		ms[i].prefix = `"` + ms[i].name + `":`
	}
	return ms
}

// find returns the index of the member named key, or -1.
func (ms members[T]) find(key []byte) int {
	for i := range ms {
		if ms[i].name == string(key) {
			return i
		}
	}
	return -1
}

// object decodes a JSON object into v, one member at a time. The members
// of encoding/json's output come in the order of ms, some left out
// (omitempty), and without space before the colon, so each key is first
// compared, as bytes, with the prefixes of the members that may come next;
// any other key (out of order, repeated, spaced) is read and looked up by
// name. A key that is no member of ms fails the decode.
func object[T any](d *fastDecoder, v *T, ms members[T]) bool {
	if !d.consume('{') {
		return false
	}
	d.ws()
	if d.consume('}') {
		return true
	}
	next := 0 // the members that may come next in encoding/json's order: ms[next:]
	for {
		m := -1
		for j := next; j < len(ms); j++ {
			if p := ms[j].prefix; len(d.b)-d.i >= len(p) && string(d.b[d.i:d.i+len(p)]) == p {
				d.i += len(p)
				m, next = j, j+1
				break
			}
		}
		if m < 0 {
			key, ok := d.rawString()
			if !ok {
				return false
			}
			d.ws()
			if !d.consume(':') {
				return false
			}
			if m = ms.find(key); m < 0 {
				return false
			}
		}
		d.ws()
		if !ms[m].decode(d, v) {
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

// optionalObject decodes a JSON null into *p as nil, or an object into *p,
// allocating it when nil (encoding/json decodes a repeated key into the
// value already there).
func optionalObject[T any](d *fastDecoder, p **T, ms members[T]) bool {
	if d.null() {
		*p = nil
		return true
	}
	if *p == nil {
		*p = new(T)
	}
	return object(d, *p, ms)
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
	b, i := d.b, d.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var u uint64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		u = u*10 + uint64(c) // wraps beyond 19 digits, which are refused below
	}
	n := i - start
	if n == 0 || n > 19 || (n > 1 && b[start] == '0') {
		return false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
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
	d.i = i
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

// The members of the lab objects, in lab's struct field order. A "result"
// or "nested" that is not null (a monolith result, nested calls) is left to
// the general decoder.
var (
	responseMembers = newMembers[lab.Response](
		member[lab.Response]{name: "schema_version", decode: func(d *fastDecoder, r *lab.Response) bool { return d.int(&r.SchemaVersion) }},
		member[lab.Response]{name: "function", decode: func(d *fastDecoder, r *lab.Response) bool { return d.str(&r.Function) }},
		member[lab.Response]{name: "request_id", decode: func(d *fastDecoder, r *lab.Response) bool { return d.uniqueStr(&r.RequestID) }},
		member[lab.Response]{name: "parent", decode: func(d *fastDecoder, r *lab.Response) bool { return d.uniqueStr(&r.Parent) }},
		member[lab.Response]{name: "depth", decode: func(d *fastDecoder, r *lab.Response) bool { return d.int(&r.Depth) }},
		member[lab.Response]{name: "instance", decode: func(d *fastDecoder, r *lab.Response) bool {
			return d.null() || object(d, &r.Instance, instanceMembers)
		}},
		member[lab.Response]{name: "timing", decode: func(d *fastDecoder, r *lab.Response) bool {
			return d.null() || object(d, &r.Timing, timingMembers)
		}},
		member[lab.Response]{name: "result", decode: func(d *fastDecoder, r *lab.Response) bool {
			if d.null() {
				r.Result = nil
				return true
			}
			return false
		}},
		member[lab.Response]{name: "nested", decode: func(d *fastDecoder, r *lab.Response) bool {
			if d.null() {
				r.Nested = nil
				return true
			}
			return false
		}},
		member[lab.Response]{name: "error", decode: func(d *fastDecoder, r *lab.Response) bool {
			return optionalObject(d, &r.Error, errorMembers)
		}},
	)
	instanceMembers = newMembers[lab.Instance](
		member[lab.Instance]{name: "id", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.ID) }},
		member[lab.Instance]{name: "cold", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.boolean(&in.Cold) }},
		member[lab.Instance]{name: "invocation_count", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.int64(&in.InvocationCount) }},
		member[lab.Instance]{name: "init_started_at", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.int64(&in.InitStartedAt) }},
		member[lab.Instance]{name: "init_started_source", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.InitStartedSource) }},
		member[lab.Instance]{name: "started_at", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.int64(&in.StartedAt) }},
		member[lab.Instance]{name: "boot_id", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.BootID) }},
		member[lab.Instance]{name: "host_boot_time", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.int64(&in.HostBootTime) }},
		member[lab.Instance]{name: "cgroup", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.Cgroup) }},
		member[lab.Instance]{name: "hostname", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.Hostname) }},
		member[lab.Instance]{name: "cpu_model", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.CPUModel) }},
		member[lab.Instance]{name: "cpus", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.int(&in.CPUs) }},
		member[lab.Instance]{name: "memory_limit_mb", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.int(&in.MemoryLimitMB) }},
		member[lab.Instance]{name: "memory_limit_source", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.MemoryLimitSource) }},
		member[lab.Instance]{name: "platform", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.Platform) }},
		member[lab.Instance]{name: "runtime", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.Runtime) }},
		member[lab.Instance]{name: "platform_hint", decode: func(d *fastDecoder, in *lab.Instance) bool { return d.str(&in.PlatformHint) }},
	)
	timingMembers = newMembers[lab.Timing](
		member[lab.Timing]{name: "start", decode: func(d *fastDecoder, t *lab.Timing) bool { return d.int64(&t.Start) }},
		member[lab.Timing]{name: "end", decode: func(d *fastDecoder, t *lab.Timing) bool { return d.int64(&t.End) }},
		member[lab.Timing]{name: "sleep_ms", decode: func(d *fastDecoder, t *lab.Timing) bool { return d.float64(&t.SleepMS) }},
		member[lab.Timing]{name: "throughput", decode: func(d *fastDecoder, t *lab.Timing) bool {
			return optionalObject(d, &t.Throughput, throughputMembers)
		}},
	)
	throughputMembers = newMembers[lab.Throughput](
		member[lab.Throughput]{name: "requested_s", decode: func(d *fastDecoder, t *lab.Throughput) bool { return d.float64(&t.RequestedS) }},
		member[lab.Throughput]{name: "iterations", decode: func(d *fastDecoder, t *lab.Throughput) bool { return d.int64(&t.Iterations) }},
		member[lab.Throughput]{name: "cpu_s", decode: func(d *fastDecoder, t *lab.Throughput) bool { return d.float64(&t.CPUS) }},
	)
	errorMembers = newMembers[lab.Error](
		member[lab.Error]{name: "kind", decode: func(d *fastDecoder, e *lab.Error) bool { return d.str(&e.Kind) }},
		member[lab.Error]{name: "message", decode: func(d *fastDecoder, e *lab.Error) bool { return d.uniqueStr(&e.Message) }},
	)
)
