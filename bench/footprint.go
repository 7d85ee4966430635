package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/ports"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// footprintMain is `bench footprint`: the local platform's own cost per
// instance. For each way fbrun can run a lab instance — the fbrun-lab
// binary, and fbrun re-executed as `fbrun lab-runtime` — it measures, in
// the same run and interleaved:
//
//   - raw spawn: exec the binary in HTTP mode and POST until the first 200
//     (what starting the same code costs with no platform in between);
//   - local Init Duration: the platform's REPORT Init Duration of a cold
//     start of the same binary in Lambda Runtime API mode;
//   - RSS: VmRSS (/proc/PID/status) of that live instance after its first
//     invocation, and its anonymous part (RssAnon): the rest are pages of
//     the binary's file, shared by every instance of the same binary.
//
// The goals (issue 16): Init Duration p50 ≤ 2× raw spawn p50, RSS ≤ 25 MB.
func footprintMain(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("footprint", flag.ContinueOnError)
	n := fs.Int("n", 30, "cold starts (and raw spawns) per binary")
	before := fs.String("reexec", "", "also measure this fbrun `BINARY` re-executed as lab-runtime (e.g. one built before the Pulumi split)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return errors.New("footprint: -n must be >= 1")
	}
	dir, err := os.MkdirTemp("", "fb-footprint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	build := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator), "./cmd/fbrun", "./cmd/fbrun-lab")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("footprint: building fbrun and fbrun-lab (run from the repository root): %w\n%s", err, out)
	}
	fbrun, lab := filepath.Join(dir, "fbrun"), filepath.Join(dir, "fbrun-lab")
	variants := []struct {
		name, size   string
		lambda, http []string
	}{
		{"fbrun-lab", fileSize(lab), []string{lab, "lambda"}, []string{lab, "http"}},
		{"fbrun lab-runtime (re-exec)", fileSize(fbrun), []string{fbrun, "lab-runtime", "lambda"}, []string{fbrun, "lab-runtime", "http"}},
	}
	if *before != "" {
		variants = append(variants, struct {
			name, size   string
			lambda, http []string
		}{
			*before + " lab-runtime", fileSize(*before), []string{*before, "lab-runtime", "lambda"}, []string{*before, "lab-runtime", "http"}})
	}
	load := loadAvg()
	fmt.Fprintf(w, "Local platform footprint: %d cold starts and %d raw spawns per binary, interleaved; load average before %s, after ", *n, *n, load)
	type row struct {
		spawn, init []time.Duration
		rss, anon   []float64
	}
	rows := make([]row, len(variants))
	plats := make([]*coldStarter, len(variants))
	for i, v := range variants {
		cs, err := newColdStarter(ctx, v.lambda)
		if err != nil {
			return err
		}
		defer cs.close()
		plats[i] = cs
	}
	for k := 0; k < *n; k++ {
		for i, v := range variants {
			d, err := rawSpawn(ctx, v.http)
			if err != nil {
				return fmt.Errorf("footprint: raw spawn of %s: %w", v.name, err)
			}
			rows[i].spawn = append(rows[i].spawn, d)
			init, mem, err := plats[i].coldStart(ctx, k)
			if err != nil {
				return fmt.Errorf("footprint: cold start of %s: %w", v.name, err)
			}
			rows[i].init = append(rows[i].init, init)
			rows[i].rss = append(rows[i].rss, mem.rss)
			rows[i].anon = append(rows[i].anon, mem.anon)
		}
	}
	fmt.Fprintf(w, "%s.\n\n", loadAvg())
	fmt.Fprintln(w, "| lab binary | file size | raw spawn → first response p50 (ms) | local Init Duration p50 (ms) | Init / raw spawn (goal ≤ 2) | RSS per instance p50 (MiB, goal ≤ 25) | of which anonymous p50 (MiB) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for i, v := range variants {
		s, in := p50(rows[i].spawn), p50(rows[i].init)
		slices.Sort(rows[i].rss)
		slices.Sort(rows[i].anon)
		fmt.Fprintf(w, "| %s | %s | %.1f | %.1f | %.2f | %.1f | %.1f |\n", v.name, v.size, ms(s), ms(in), float64(in)/float64(s),
			rows[i].rss[len(rows[i].rss)/2], rows[i].anon[len(rows[i].anon)/2])
	}
	return nil
}

func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.0f MB", float64(st.Size())/1e6)
}

// rawSpawn starts argv in HTTP mode on a free loopback port and returns the
// time from exec to its first 200 response. The child binds the port it is
// given itself: when another process took that port first, the child exits
// saying so and is started again on a new one (ports.Attempts at most).
func rawSpawn(ctx context.Context, argv []string) (time.Duration, error) {
	var err error
	for range ports.Attempts {
		var d time.Duration
		if d, err = rawSpawnOnce(ctx, argv); !errors.Is(err, ports.ErrInUse) {
			return d, err
		}
	}
	return 0, err
}

func rawSpawnOnce(ctx context.Context, argv []string) (time.Duration, error) {
	r, err := ports.Reserve()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	addr := r.Addr()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"FB_HTTP_ADDR=" + addr, "FB_FUNCTION_NAME=function1"}
	// Read only once the process has been waited for: Wait finishes
	// copying its output first.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	for deadline := start.Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		select {
		case <-exited:
			if ports.InUse(out.String()) {
				return 0, fmt.Errorf("%w: %s", ports.ErrInUse, out.String())
			}
			return 0, fmt.Errorf("exited before answering: %s", out.String())
		default:
		}
		resp, err := client.Post("http://"+addr+"/", "application/json", strings.NewReader(`{}`))
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return time.Since(start), nil
		}
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return 0, errors.New("no response within 20 s")
}

// coldStarter is a local platform serving function1 with one lab binary.
type coldStarter struct {
	p      *localfaas.Platform
	client *http.Client
}

func newColdStarter(ctx context.Context, argv []string) (*coldStarter, error) {
	cfg := localfaas.DefaultConfig()
	cfg.IdleTimeout, cfg.MaxLifetime = time.Hour, 0
	cfg.MaxInstances, cfg.ScaleBurst = 4, 1<<30
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Functions = []localfaas.FunctionSpec{{Name: "function1", Runtime: localfaas.RuntimeLambda,
		Command: argv, MemoryMB: 128, Timeout: 30 * time.Second}}
	p, err := localfaas.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("local platform: %w", err)
	}
	if err := p.Start(ctx); err != nil {
		return nil, fmt.Errorf("local platform: %w", err)
	}
	return &coldStarter{p: p, client: &http.Client{Timeout: time.Minute}}, nil
}

func (cs *coldStarter) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = cs.p.Close(ctx)
}

// coldStart retires the current instance with a configuration update,
// invokes once (a cold start), and returns the platform's Init Duration
// and the new instance's memory.
func (cs *coldStarter) coldStart(ctx context.Context, k int) (time.Duration, instanceMem, error) {
	base := cs.p.URL() + "/2015-03-31/functions/function1"
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, base+"/configuration",
		bytes.NewBufferString(`{"Environment":{"Variables":{"NONCE":"`+strconv.Itoa(k)+`"}}}`))
	resp, err := cs.client.Do(req)
	if err != nil {
		return 0, instanceMem{}, err
	}
	resp.Body.Close()
	var seq int64
	if evs := cs.p.Events(); len(evs) > 0 {
		seq = evs[len(evs)-1].Seq
	}
	resp, err = cs.client.Post(base+"/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		return 0, instanceMem{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return 0, instanceMem{}, fmt.Errorf("invoke: HTTP %d %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	for _, e := range cs.p.Events() {
		if e.Seq > seq && e.Kind == localfaas.EventInitDone {
			mem, err := memOf(e.PID)
			return time.Duration(e.InitDurationMS * float64(time.Millisecond)), mem, err
		}
	}
	return 0, instanceMem{}, errors.New("no init_done event: the invocation was not a cold start")
}

// instanceMem is an instance's memory in MiB: its resident set (VmRSS) and
// the anonymous part of it (RssAnon: heap, stacks, runtime data). The rest
// of the resident set is pages of the binary's file, which every instance of
// the same binary shares through the page cache; the anonymous part is
// what each further instance adds.
type instanceMem struct{ rss, anon float64 }

// memOf reads an instance's memory from /proc/PID/status (Linux).
func memOf(pid int) (instanceMem, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return instanceMem{}, fmt.Errorf("memory of instance %d: %w", pid, err)
	}
	var m instanceMem
	var found int
	for _, line := range strings.Split(string(b), "\n") {
		for _, f := range []struct {
			key string
			dst *float64
		}{{"VmRSS:", &m.rss}, {"RssAnon:", &m.anon}} {
			if v, ok := strings.CutPrefix(line, f.key); ok {
				kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				if err != nil {
					return instanceMem{}, fmt.Errorf("memory of instance %d: %s %w", pid, f.key, err)
				}
				*f.dst = kb / 1024
				found++
			}
		}
	}
	if found != 2 {
		return instanceMem{}, fmt.Errorf("memory of instance %d: no VmRSS or RssAnon in /proc/%d/status", pid, pid)
	}
	return m, nil
}
