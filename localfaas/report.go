package localfaas

import (
	"bytes"
	"fmt"
	"time"
)

// report fills res's platform fields and, when the caller asked for it,
// its START/END/REPORT log with Max Memory Used read from /proc.
func (in *instance) report(inv *invocation, res *result, dur time.Duration, extraLog string) {
	res.instanceID = in.id
	res.logStream = in.logStream
	res.cold = inv.cold
	res.duration = dur
	res.initDuration = inv.initDuration
	res.memoryMB = in.spec.MemoryMB
	if !inv.wantLog {
		return
	}
	in.mu.Lock()
	if m := maxRSSMB(in.pid); m > 0 {
		in.lastMaxMemMB = m
	}
	res.maxMemoryMB = in.lastMaxMemMB
	out := bytes.Clone(inv.log.buf)
	truncated := inv.log.total > int64(len(out))
	in.mu.Unlock()

	var b bytes.Buffer
	if !truncated {
		fmt.Fprintf(&b, "START RequestId: %s Version: $LATEST\n", inv.id)
	}
	b.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(extraLog)
	fmt.Fprintf(&b, "END RequestId: %s\n", inv.id)
	b.WriteString(reportLine(inv.id, res))
	log := b.Bytes()
	if len(log) > tailBytes {
		log = log[len(log)-tailBytes:]
	}
	res.log = log
}

// reportLine formats a Lambda REPORT line (TAB-separated, text format).
// Billed Duration includes the init phase on cold starts, as AWS bills
// provided runtimes.
func reportLine(requestID string, res *result) string {
	billed := res.duration
	if res.cold {
		billed += res.initDuration
	}
	billedUnits := (billed + time.Millisecond - 1) / time.Millisecond
	if billedUnits < 1 {
		billedUnits = 1
	}
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		requestID, ms(res.duration), billedUnits, res.memoryMB, res.maxMemoryMB)
	if res.cold {
		line += fmt.Sprintf("\tInit Duration: %.2f ms", ms(res.initDuration))
	}
	return line + "\n"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
