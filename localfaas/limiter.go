package localfaas

import "time"

// tokenBucket is the scale-out limiter: up to burst new instances at once,
// then rate per second. It is not safe for concurrent use (the function's
// mutex guards it) and takes the time as an argument so it is testable
// without a clock.
type tokenBucket struct {
	burst  float64
	rate   float64
	tokens float64
	last   time.Time
}

func newTokenBucket(burst int, rate float64, now time.Time) *tokenBucket {
	return &tokenBucket{burst: float64(burst), rate: rate, tokens: float64(burst), last: now}
}

// allow takes one token if available at now.
func (b *tokenBucket) allow(now time.Time) bool {
	if now.After(b.last) {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
