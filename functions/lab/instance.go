package lab

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// packageInitTime is the earliest time this program can observe without
// help from the kernel: when the lab package is initialised, before main
// and before any handler. It is the fallback for the process start time
// when /proc/self/stat cannot be read.
var packageInitTime = time.Now()

// SandboxConfig configures NewSandbox. Zero values select the real
// environment; tests override them.
type SandboxConfig struct {
	// Platform is reported as Instance.Platform (see DetectPlatform).
	Platform string
	// MemoryLimitMB overrides memory detection when > 0.
	MemoryLimitMB int
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// ProcDir is the proc filesystem root; "" means "/proc".
	ProcDir string
	// CgroupDir is the cgroup filesystem root; "" means "/sys/fs/cgroup".
	CgroupDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sandbox is the identity of the process (the platform's sandbox,
// container or instance) serving lab invocations. It is captured once at
// init; Begin marks each invocation. A Sandbox is safe for concurrent use.
type Sandbox struct {
	info  Instance
	count atomic.Int64
}

// NewSandbox captures the instance identity: a fresh UUID, the process
// start time, host and cgroup identifiers, CPU and memory limits. Call it
// once per process, before serving the first invocation. Files that cannot
// be read leave their fields empty; NewSandbox never fails.
func NewSandbox(cfg SandboxConfig) *Sandbox {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	proc := cfg.ProcDir
	if proc == "" {
		proc = "/proc"
	}
	cg := cfg.CgroupDir
	if cg == "" {
		cg = "/sys/fs/cgroup"
	}
	platform := cfg.Platform
	if platform == "" {
		platform = DetectPlatform(getenv)
	}

	info := Instance{
		ID:       uuid.NewString(),
		Platform: platform,
		Runtime:  runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:     runtime.NumCPU(),
	}
	if start, ok := processStart(proc, now()); ok {
		info.InitStartedAt, info.InitStartedSource = start.UnixNano(), "proc"
	} else {
		info.InitStartedAt, info.InitStartedSource = packageInitTime.UnixNano(), "runtime"
	}
	info.BootID = strings.TrimSpace(readFile(filepath.Join(proc, "sys/kernel/random/boot_id")))
	info.HostBootTime = statField(filepath.Join(proc, "stat"), "btime")
	info.Cgroup = firstLine(readFile(filepath.Join(proc, "self/cgroup")))
	info.Hostname, _ = os.Hostname()
	info.CPUModel = cpuModel(readFile(filepath.Join(proc, "cpuinfo")))
	info.MemoryLimitMB, info.MemoryLimitSource = memoryLimit(cfg.MemoryLimitMB, getenv, proc, cg)
	for _, k := range []string{"AWS_LAMBDA_LOG_STREAM_NAME", "CONTAINER_NAME", "HOSTNAME"} {
		if v := getenv(k); v != "" {
			info.PlatformHint = v
			break
		}
	}
	if info.PlatformHint == "" {
		info.PlatformHint = info.Hostname
	}
	info.StartedAt = now().UnixNano()
	return &Sandbox{info: info}
}

// ID returns the instance UUID.
func (s *Sandbox) ID() string { return s.info.ID }

// Platform returns the platform name reported by this sandbox.
func (s *Sandbox) Platform() string { return s.info.Platform }

// Begin counts one invocation and returns the instance description for
// it: Cold is true for exactly one invocation per Sandbox (the first to
// call Begin), even under concurrent invocations.
func (s *Sandbox) Begin() Instance {
	n := s.count.Add(1)
	inst := s.info
	inst.InvocationCount = n
	inst.Cold = n == 1
	return inst
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// statField returns the integer value of a "name value" line of /proc/stat.
func statField(path, name string) int64 {
	sc := bufio.NewScanner(strings.NewReader(readFile(path)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return v
			}
		}
	}
	return 0
}

// cpuModel returns the CPU model from /proc/cpuinfo: "model name" on x86,
// the implementer and part numbers on arm64 (which has no model name).
func cpuModel(cpuinfo string) string {
	var impl, part string
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Model":
			if v != "" {
				return v
			}
		case "CPU implementer":
			if impl == "" {
				impl = v
			}
		case "CPU part":
			if part == "" {
				part = v
			}
		}
	}
	if impl != "" || part != "" {
		return "implementer " + impl + " part " + part
	}
	return ""
}

// memoryLimit returns the memory limit in MB and where it came from.
func memoryLimit(override int, getenv func(string) string, proc, cg string) (int, string) {
	if override > 0 {
		return override, "env"
	}
	for _, k := range []string{"FB_MEMORY_MB", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "WEBSITE_MEMORY_LIMIT_MB"} {
		if v, err := strconv.Atoi(strings.TrimSpace(getenv(k))); err == nil && v > 0 {
			return v, "env"
		}
	}
	for _, f := range []string{"memory.max", "memory/memory.limit_in_bytes"} {
		s := strings.TrimSpace(readFile(filepath.Join(cg, f)))
		if b, err := strconv.ParseInt(s, 10, 64); err == nil && b > 0 && b < 1<<60 {
			return int(b >> 20), "cgroup"
		}
	}
	if kb := meminfoTotalKB(readFile(filepath.Join(proc, "meminfo"))); kb > 0 {
		return int(kb >> 10), "meminfo"
	}
	return 0, ""
}

func meminfoTotalKB(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// statStartTicks returns field 22 (starttime, clock ticks since boot) of a
// /proc/<pid>/stat line. The command name (field 2) may contain spaces and
// parentheses, so fields are counted after its last ')'.
func statStartTicks(stat []byte) (int64, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(f[19], 10, 64)
	return v, err == nil
}
