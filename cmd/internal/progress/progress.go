// Package progress is the live progress display of a run on a terminal,
// drawn by whichever binary runs the engine (fbrun, or fbrun-cloud for a
// run that deploys a stack).
package progress

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Bar shows a live bar on a terminal: invocations done of those the
// experiment announced, errors, the current phase and an ETA. It implements
// engine.Progress. When disabled every method is a no-op.
type Bar struct {
	enabled bool
	p       *mpb.Progress
	bar     *mpb.Bar
	mu      sync.Mutex
	total   int64
	failed  atomic.Int64
	phase   atomic.Value // string
	start   time.Time
	until   atomic.Int64 // unix ns of the expected end of a waiting stage; 0: none
}

// New returns the display on w; a disabled one does nothing.
func New(w io.Writer, enabled bool) *Bar {
	pr := &Bar{enabled: enabled, start: time.Now()}
	pr.phase.Store("")
	if !enabled {
		return pr
	}
	pr.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
	pr.bar = pr.p.AddBar(0,
		mpb.PrependDecorators(
			decor.Any(func(decor.Statistics) string { return pr.phase.Load().(string) }, decor.WCSyncSpaceR),
			decor.CountersNoUnit("%d/%d", decor.WCSyncSpace),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				if n := pr.failed.Load(); n > 0 {
					return " errors: " + itoa(n)
				}
				return ""
			}),
			decor.Any(func(st decor.Statistics) string {
				return " " + pr.eta(time.Now(), st.Current, st.Total)
			}),
		),
	)
	return pr
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// eta is the remaining time: until the expected end of a waiting stage when
// one was announced (engine.TimedProgress), else extrapolated from the
// invocations done so far.
func (p *Bar) eta(now time.Time, current, total int64) string {
	if u := p.until.Load(); u > 0 {
		if left := time.Unix(0, u).Sub(now); left > 0 {
			return "phase ends in ~" + left.Round(time.Second).String()
		}
	}
	if current <= 0 || total <= current {
		return "ETA -"
	}
	elapsed := now.Sub(p.start)
	left := time.Duration(float64(elapsed) * float64(total-current) / float64(current))
	return "ETA ~" + left.Round(time.Second).String()
}

// ExpectUntil implements engine.TimedProgress.
func (p *Bar) ExpectUntil(end time.Time) { p.until.Store(end.UnixNano()) }

// Expect implements engine.Progress.
func (p *Bar) Expect(n int64) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	p.total += n
	p.bar.SetTotal(p.total, false)
	p.mu.Unlock()
}

// Done implements engine.Progress.
func (p *Bar) Done(failed bool) {
	if !p.enabled {
		return
	}
	if failed {
		p.failed.Add(1)
	}
	p.mu.Lock()
	if p.bar.Current()+1 > p.total {
		p.total = p.bar.Current() + 1
		p.bar.SetTotal(p.total, false)
	}
	p.mu.Unlock()
	p.bar.Increment()
}

// Phase implements engine.Progress.
func (p *Bar) Phase(name string) { p.phase.Store(name) }

// Close finishes the display.
func (p *Bar) Close() {
	if !p.enabled {
		return
	}
	p.bar.SetTotal(p.bar.Current(), true)
	p.p.Wait()
}

// IsTerminal reports whether f is a terminal (the bar is drawn only there).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
