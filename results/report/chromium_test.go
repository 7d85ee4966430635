package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// figureCheck is what the page reports about one <figure>.
type figureCheck struct {
	ID     string  `json:"id"`
	SVGs   int     `json:"svgs"`
	Paths  int     `json:"paths"`
	Texts  int     `json:"texts"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// Drawn is the area of the union of the bounding boxes of the drawn
	// paths, relative to the SVG: 0 means nothing visible.
	Drawn float64 `json:"drawn"`
}

const figureScript = `Array.from(document.querySelectorAll('figure')).map(f => {
  const s = f.querySelector('svg');
  const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
  let area = 0;
  if (s) {
    const vb = s.viewBox.baseVal;
    for (const p of s.querySelectorAll('path')) {
      const b = p.getBBox();
      area = Math.max(area, (b.width * b.height) / (vb.width * vb.height));
    }
  }
  return {id: f.id, svgs: f.querySelectorAll('svg').length, paths: s ? s.querySelectorAll('path').length : 0,
    texts: s ? s.querySelectorAll('text').length : 0, width: r.width, height: r.height, drawn: area};
})`

// browserCheck is what checkInChromium found on a page.
type browserCheck struct {
	problems []string
	figures  int
	shot     []byte
}

// checkInChromium opens page in headless Chromium (the flags of the
// issue: it runs as root on a machine without internet) and reports console
// errors and warnings, uncaught exceptions, figures without a drawn SVG and
// the embedded font not loading. It returns a full-page PNG screenshot.
func checkInChromium(t *testing.T, chromium, page string) browserCheck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1280, 900),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Start the browser, then subscribe to the console before loading.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var (
		mu       sync.Mutex
		messages []chromedp.ConsoleMessage
		wg       sync.WaitGroup
		res      browserCheck
	)
	console := chromedp.Console(bctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()

	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("load %s: %v", page, err)
	}
	fontOK, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.fonts.ready.then(() => document.fonts.check('12px "Liberation Sans"') && Array.from(document.fonts).some(f => f.family.includes('Liberation Sans') && f.status === 'loaded'))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !fontOK {
		res.problems = append(res.problems, "the embedded Liberation Sans font did not load")
	}
	figs, err := chromedp.Run(bctx, chromedp.Evaluate[[]figureCheck](figureScript))
	if err != nil {
		t.Fatal(err)
	}
	res.figures = len(figs)
	for _, f := range figs {
		if f.SVGs != 1 || f.Paths < 3 || f.Texts < 4 || f.Width < 200 || f.Height < 100 || f.Drawn < 0.05 {
			res.problems = append(res.problems, fmt.Sprintf("figure %s looks empty: %+v", f.ID, f))
		}
	}
	res.shot, err = chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	bcancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, m := range messages {
		if m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning {
			res.problems = append(res.problems, "console "+m.String())
		}
	}
	return res
}

// TestReportInChromium opens the generated report in headless Chromium,
// fails on console errors or an empty figure, and saves a screenshot.
func TestReportInChromium(t *testing.T) {
	chromium := testtools.Require(t, "chromium", "FB_CHROMIUM")
	db, _ := fixtureDB(t)
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := Generate(context.Background(), db, Config{}, &buf); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res := checkInChromium(t, chromium, page)
	for _, p := range res.problems {
		t.Error(p)
	}
	if res.figures < 15 {
		t.Errorf("only %d figures rendered", res.figures)
	}
	out := filepath.Join(dir, "report.png")
	if err := os.WriteFile(out, res.shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("FB_REPORT_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, res.shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot: %s (%d bytes), %d figures", out, len(res.shot), res.figures)
}

// TestChromiumCheckCatchesProblems shows the browser check can fail: a
// page with a console error, an uncaught exception, an empty figure and no
// embedded font must be reported on every count.
func TestChromiumCheckCatchesProblems(t *testing.T) {
	chromium := testtools.Require(t, "chromium", "FB_CHROMIUM")
	page := filepath.Join(t.TempDir(), "broken.html")
	html := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<figure id="empty"><svg viewBox="0 0 100 100" width="400" height="200"></svg><figcaption>n = 0</figcaption></figure>
<script>console.error("boom"); throw new Error("uncaught");</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	res := checkInChromium(t, chromium, page)
	all := strings.Join(res.problems, "\n")
	for _, want := range []string{"boom", "uncaught", "figure empty looks empty", "font did not load"} {
		if !strings.Contains(all, want) {
			t.Errorf("problem %q not detected; got:\n%s", want, all)
		}
	}
}
