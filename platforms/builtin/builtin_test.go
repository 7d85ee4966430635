package builtin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// support is what one platform offers. The table below is the list of
// what every platform supports: registering a platform, or changing what
// one supports, without updating it fails.
type support struct {
	direct, stack, settings, embedded bool
	program                           string
	options                           []platforms.Option
	caps                              []providers.Capability
}

var (
	fn, ep, rg, le  = platforms.OptFunction, platforms.OptEndpoint, platforms.OptRegion, platforms.OptLocalEndpoint
	cold, mem, acct = providers.ForceColdStart, providers.SetMemory, providers.AccountConcurrency
)

var want = map[string]support{
	"local":       {direct: true, embedded: true, options: []platforms.Option{fn, le}, caps: []providers.Capability{cold, mem}},
	"aws":         {direct: true, stack: true, settings: true, program: "aws", options: []platforms.Option{fn, ep, rg}, caps: []providers.Capability{cold, mem, acct}},
	"azure":       {direct: true, stack: true, settings: true, program: "azure", options: []platforms.Option{fn}},
	"openfaas":    {direct: true, stack: true, settings: true, program: "openfaas", options: []platforms.Option{fn, ep}, caps: []providers.Capability{cold}},
	"http":        {direct: true, options: []platforms.Option{fn, ep}},
	"local-stack": {stack: true, embedded: true, program: "local-stack", options: []platforms.Option{le}, caps: []providers.Capability{cold, mem}},
}

func TestSupportMatrix(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]support{}
	for _, p := range reg.All() {
		s := support{direct: p.Direct != nil, stack: p.Stack != nil, embedded: p.Embedded, options: p.Options, caps: p.Capabilities}
		if p.Stack != nil {
			s.program, s.settings = p.Stack.Program, p.Stack.Settings
		}
		got[p.Name] = s
		t.Logf("%-12s direct=%-5v stack=%-12q embedded=%-5v options=%v capabilities=%v", p.Name, s.direct, s.program, s.embedded, s.options, s.caps)
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("platform %s is not registered", name)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("platform %s supports\n  %+v\nwant\n  %+v", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("platform %s is registered but missing from the support table of this test", name)
		}
	}
}

// TestStackProgramsAreStackcfgPlatforms: a stack taking fb: settings is
// named after a stackcfg program (stacks/program builds exactly those; its
// own test checks every one has a program).
func TestStackProgramsAreStackcfgPlatforms(t *testing.T) {
	for _, p := range builtin.All() {
		if p.Stack == nil || !p.Stack.Settings {
			continue
		}
		if _, err := stackcfg.New(stackcfg.Platform(p.Stack.Program)); err != nil {
			t.Errorf("%s: stack program %q has no stack settings: %v", p.Name, p.Stack.Program, err)
		}
	}
}

// TestCapabilitiesAreReal builds every platform's invoker (direct path
// against a loopback stand-in, and from stack outputs) and checks that it
// implements exactly the capabilities its descriptor declares.
func TestCapabilitiesAreReal(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("OPENFAAS_PASSWORD", "secret")
	target := platforms.Target{Functions: map[string]string{"function1": srv.URL + "/function1"}, Endpoint: srv.URL, Region: "us-east-1", LocalEndpoint: srv.URL}
	outputs := map[string]any{
		stackcfg.OutFunctionNames:   map[string]any{"function1": "fb-x-function1"},
		stackcfg.OutFunctionURLs:    map[string]any{"function1": srv.URL + "/function1"},
		stackcfg.OutFunctionKeys:    map[string]any{"function1": "key"},
		stackcfg.OutRegion:          "eu-west-1",
		stackcfg.OutGatewayURL:      srv.URL,
		stackcfg.OutGatewayUser:     "admin",
		stackcfg.OutGatewayPassword: "secret",
		stackcfg.OutEndpoint:        srv.URL,
		stackcfg.OutKubeconfig:      "apiVersion: v1\nkind: Config\ncurrent-context: eks\nclusters:\n- name: eks\n  cluster: {server: \"https://127.0.0.1:6443\"}\ncontexts:\n- name: eks\n  context: {cluster: eks, user: eks}\nusers:\n- name: eks\n  user: {token: t}\n",
		stackcfg.OutFunctionTimeout: "180",
	}
	for _, p := range builtin.All() {
		var setups []*platforms.Setup
		if p.Direct != nil {
			tg := target
			if p.Name != "azure" && p.Name != "http" { // these take URLs, the others deployed names
				tg.Functions = map[string]string{"function1": "fb-x-function1"}
			}
			if p.Name == "http" {
				tg.Endpoint = srv.URL + "/{name}"
			}
			for _, o := range platforms.Options() {
				if !p.Reads(o) {
					switch o {
					case fn:
						tg.Functions = nil
					case ep:
						tg.Endpoint = ""
					case rg:
						tg.Region = ""
					case le:
						tg.LocalEndpoint = ""
					}
				}
			}
			if err := p.Validate(tg); err != nil {
				t.Fatalf("%s: Validate(%+v): %v", p.Name, tg, err)
			}
			s, err := p.Direct(context.Background(), tg)
			if err != nil {
				t.Fatalf("%s: Direct: %v", p.Name, err)
			}
			setups = append(setups, s)
		}
		if p.Stack != nil {
			s, err := p.Stack.FromOutputs(outputs, nil)
			if err != nil {
				t.Fatalf("%s: FromOutputs: %v", p.Name, err)
			}
			setups = append(setups, s)
		}
		var keys []string
		for i, s := range setups {
			_, cold := s.Invoker.(providers.ColdStarter)
			_, mem := s.Invoker.(providers.MemorySetter)
			if cold != p.Has(providers.ForceColdStart) || mem != p.Has(providers.SetMemory) {
				t.Errorf("%s: invoker can force cold starts %v, set memory %v; the descriptor says %v", p.Name, cold, mem, p.Capabilities)
			}
			for _, c := range p.Capabilities {
				if !providers.Implements(s.Invoker, c) {
					t.Errorf("%s: declares %s, which its invoker does not implement", p.Name, c)
				}
			}
			if s.Invoker.Platform() == "" {
				t.Errorf("%s: invoker has no platform name", p.Name)
			}
			// The stored config has the same keys whichever path built it.
			var ks []string
			for k := range s.Config {
				ks = append(ks, k)
			}
			slices.Sort(ks)
			if i == 0 {
				keys = ks
			} else if p.Name != "local" && !slices.Equal(ks, keys) {
				t.Errorf("%s: stored config keys %v from stack outputs, %v from flags", p.Name, ks, keys)
			}
		}
	}
}

func TestValidateRefusesForeignOptions(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		platform string
		target   platforms.Target
		want     string
	}{
		{"local", platforms.Target{Region: "eu-west-1"}, "--region does not apply to platform local"},
		{"azure", platforms.Target{Endpoint: "http://127.0.0.1:1"}, "--endpoint does not apply to platform azure"},
		{"aws", platforms.Target{Endpoint: "not a url"}, `--endpoint "not a url": want an http:// or https:// URL`},
		{"azure", platforms.Target{Functions: map[string]string{"function1": "fb-x"}}, "--function function1"},
		{"local", platforms.Target{LocalEndpoint: "127.0.0.1:9000"}, "--local-endpoint"},
		{"http", platforms.Target{Endpoint: "ftp://x/{name}"}, "--endpoint"},
		{"http", platforms.Target{Endpoint: "http://x/fn"}, "with {name}"},
	}
	for _, tt := range tests {
		p, err := reg.Lookup(tt.platform)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(tt.target); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %+v: err = %v, want %q", tt.platform, tt.target, err, tt.want)
		}
	}
	if _, err := reg.Lookup("gcp"); err == nil || !strings.Contains(err.Error(), `unknown platform "gcp" (known: aws, azure, http, local, local-stack, openfaas)`) {
		t.Errorf("Lookup(gcp) = %v", err)
	}
}

// TestNoPulumi: the descriptors must not link the Pulumi SDKs (the light
// fbrun binary uses them).
func TestNoPulumi(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "pulumi") || strings.Contains(dep, "faas-benchmarker/stacks/program") {
			t.Errorf("platforms/builtin depends on %s", dep)
		}
	}
}

// TestIdleRangeOn: idle-timeout's release spread and invocation limit
// follow the function timeout a stack deployed for the run is given; an
// existing deployment keeps the declared spread and has no known limit;
// a stack without such a setting keeps the declared range.
func TestIdleRangeOn(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	existing := platforms.Target{Functions: map[string]string{"function1": "fb-x-function1"}}
	tests := []struct {
		platform      string
		target        platforms.Target
		sets          []string
		spread, limit time.Duration
	}{
		{"aws", platforms.Target{}, nil, 45 * time.Second, time.Minute},
		{"aws", platforms.Target{}, []string{"timeout=800"}, 10 * time.Minute, 800 * time.Second},
		{"aws", platforms.Target{}, []string{"memory=512"}, 45 * time.Second, time.Minute},
		{"aws", platforms.Target{}, []string{"lanes=5"}, 45 * time.Second, time.Minute},
		{"aws", existing, []string(nil), 45 * time.Second, 0}, // its timeout is not known
		{"openfaas", platforms.Target{}, nil, 135 * time.Second, 180 * time.Second},
		{"openfaas", platforms.Target{}, []string{"functionTimeout=60"}, 45 * time.Second, time.Minute},
		{"azure", platforms.Target{}, nil, 3 * time.Minute, 230 * time.Second},
		{"local", platforms.Target{}, nil, 10 * time.Second, 2 * time.Minute},                // its invoker's HTTP timeout; the CLI applies --local-timeout
		{"local-stack", platforms.Target{}, nil, 22500 * time.Millisecond, 30 * time.Second}, // its stack's lab timeout
	}
	for _, tt := range tests {
		p, err := reg.Lookup(tt.platform)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.IdleRangeOn(tt.target, tt.sets)
		if err != nil {
			t.Fatalf("%s %v: %v", tt.platform, tt.sets, err)
		}
		if r.Spread != tt.spread || r.Limit != tt.limit {
			t.Errorf("%s %v: spread %v, limit %v; want %v, %v", tt.platform, tt.sets, r.Spread, r.Limit, tt.spread, tt.limit)
		}
		// A stack deployed for the run on aws names its lanes (fb:lanes).
		wantLanes := []string(nil)
		if tt.platform == "aws" && len(tt.target.Functions) == 0 {
			wantLanes = []string{"function1", "function2", "function3"}
			if slices.Contains(tt.sets, "lanes=5") {
				wantLanes = append(wantLanes, "lane4", "lane5")
			}
		}
		if !slices.Equal(r.Lanes, wantLanes) {
			t.Errorf("%s %v: lanes %v, want %v", tt.platform, tt.sets, r.Lanes, wantLanes)
		}
	}
}
