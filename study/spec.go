// Package study runs a campaign: a study file (YAML) names experiments and
// platforms; each study run executes every cell (experiment × platform ×
// repetition) in an interleaved order, records each cell in a journal in
// the results database, resumes after a crash without repeating a done
// cell, retries failed cells, and compares study runs over time with a
// change detector. It also generates the systemd units that repeat a study
// on a schedule. docs/studies.md describes the file and the behaviour.
package study

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Spec is a parsed and validated study file.
type Spec struct {
	// Name names the study (letters, digits and dashes): its study runs,
	// its systemd units and its report.
	Name string `json:"name"`
	// Platforms are the study's platform columns, in file order.
	Platforms []Platform `json:"platforms"`
	// Experiments run on every platform, in file order.
	Experiments []Experiment `json:"experiments"`
	// Repetitions is how often each cell runs per study run (default 1).
	Repetitions int `json:"repetitions"`
	// Schedule says when `fbrun study schedule` repeats the study (empty:
	// not scheduled).
	Schedule Schedule `json:"schedule"`
	// Path, Source and SHA256 describe the file the spec was read from.
	Path   string `json:"-"`
	Source []byte `json:"-"`
	SHA256 string `json:"-"`
}

// Platform is one platform column of a study.
type Platform struct {
	// Name is the label used in reports ("aws-eu").
	Name string `json:"name"`
	// Platform is the --platform value ("aws", "local", "local-stack"...).
	Platform string `json:"platform"`
	// Stack are --stack-set settings (fb: keys without the namespace).
	Stack map[string]string `json:"stack,omitempty"`
	// Local are --local-* knobs without the prefix ("idle-timeout": "2s").
	Local map[string]string `json:"local,omitempty"`
}

// StackSets are the column's stack settings as `--stack-set` values
// ("key=value"), sorted by key.
func (pl Platform) StackSets() []string {
	out := make([]string, 0, len(pl.Stack))
	for _, k := range slices.Sorted(maps.Keys(pl.Stack)) {
		out = append(out, k+"="+pl.Stack[k])
	}
	return out
}

// Experiment is one experiment of a study with its --set parameters.
type Experiment struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params,omitempty"`
	// PlatformParams are parameters for one platform column (by its
	// Name), added to Params there or replacing the same keys: a search
	// range that must differ between platforms (an idle timeout of minutes
	// on Lambda, of seconds on the local platform) in one study.
	PlatformParams map[string]map[string]string `json:"platform_params,omitempty"`
}

// ParamsOn returns the experiment's parameters on the platform column
// named platform: Params with that column's PlatformParams applied. The
// result is a new map (nil when there are none).
func (e Experiment) ParamsOn(platform string) map[string]string {
	over := e.PlatformParams[platform]
	if len(e.Params) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]string, len(e.Params)+len(over))
	maps.Copy(out, e.Params)
	maps.Copy(out, over)
	return out
}

// Vocabulary is what a study file may name besides experiments (which come
// from package experiments) and stack settings (package stackcfg): the
// CLI supplies its platforms and local-platform knobs, so that the study
// validates exactly what `fbrun experiment` accepts.
type Vocabulary struct {
	// Platforms are the --platform values a study may use.
	Platforms []string
	// LocalPlatforms are the platforms that take local knobs (the ones
	// that run the embedded platform).
	LocalPlatforms []string
	// LocalKnobs are the --local-* flag names without the prefix.
	LocalKnobs []string
	// CheckLocal validates a platform's knob values (as the flags would
	// be parsed); nil skips value checks.
	CheckLocal func(knobs map[string]string) error
	// IdleRange is the idle range `fbrun experiment` resolves parameters
	// on for a platform column (platforms.Platform.IdleRangeOn under its
	// stack settings; limited by its local knobs' function timeout where
	// it runs the embedded platform); nil: parameters are checked with
	// the experiments' declared defaults.
	IdleRange func(pl Platform, e experiments.Experiment) (providers.IdleRange, error)
}

// Error is a problem in a study file, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors are all the problems found in a study file.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// namePattern is the characters of a study or platform name; validName
// adds the length (at most 40), kept out of the pattern because a counted
// repetition compiles into that many instructions at every fbrun start.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// validName reports whether s is a valid study or platform column name.
func validName(s string) bool { return len(s) <= 40 && namePattern.MatchString(s) }

// Top-level, platform and experiment keys of the file.
var (
	topKeys        = []string{"name", "platforms", "experiments", "repetitions", "schedule"}
	platformKeys   = []string{"name", "platform", "stack", "local"}
	experimentKeys = []string{"name", "params", "platform_params"}
)

// Load reads and validates the study file at path.
func Load(path string, v Vocabulary) (*Spec, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	return Parse(path, src, v)
}

// Parse validates a study file's content. Every problem is reported, each
// with file:line and the valid choices; nothing is run.
func Parse(file string, src []byte, v Vocabulary) (*Spec, error) {
	p := &parser{file: file, vocab: v}
	sum := sha256.Sum256(src)
	spec := &Spec{Path: file, Source: src, SHA256: hex.EncodeToString(sum[:]), Repetitions: 1}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		msg := regexp.MustCompile(`^yaml: (line \d+: )?`).ReplaceAllString(err.Error(), "")
		return nil, Errors{{File: file, Line: yamlErrLine(err), Msg: "not valid YAML: " + msg}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: 1, Msg: "a study file is a mapping with the keys " + strings.Join(topKeys, ", ")}}
	}
	top := p.mapping(doc.Content[0], "study file", topKeys)
	if n, ok := top["name"]; ok {
		spec.Name = p.scalar(n, "name")
		if spec.Name != "" && !validName(spec.Name) {
			p.errf(n, "name %q: use lower-case letters, digits and dashes (at most 40, e.g. nightly)", spec.Name)
		}
	} else {
		p.errf(doc.Content[0], "name is missing (e.g. name: nightly)")
	}
	if n, ok := top["repetitions"]; ok {
		s := p.scalar(n, "repetitions")
		r, err := strconv.Atoi(s)
		if err != nil || r < 1 || r > 1000 {
			p.errf(n, "repetitions %q: want a whole number from 1 to 1000", s)
		} else {
			spec.Repetitions = r
		}
	}
	if n, ok := top["schedule"]; ok {
		s := p.scalar(n, "schedule")
		sch, err := ParseSchedule(s)
		if err != nil {
			p.errf(n, "%v", err)
		}
		spec.Schedule = sch
	}
	if n, ok := top["platforms"]; ok {
		spec.Platforms = p.platforms(n)
	} else {
		p.errf(doc.Content[0], "platforms is missing (a list of {name, platform})")
	}
	if n, ok := top["experiments"]; ok {
		spec.Experiments = p.experiments(n, spec.Platforms)
	} else {
		p.errf(doc.Content[0], "experiments is missing (a list of {name, params})")
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return spec, nil
}

// yamlErrLine extracts the line of a yaml.v3 syntax error ("yaml: line 3: ...").
func yamlErrLine(err error) int {
	m := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

type parser struct {
	file  string
	vocab Vocabulary
	errs  Errors
}

func (p *parser) errf(n *yaml.Node, format string, a ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

// mapping returns the values of a mapping node by key; unknown and
// duplicate keys are errors (known lists the valid keys; nil: any key).
func (p *parser) mapping(n *yaml.Node, what string, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping (key: value)", what)
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := out[k.Value]; dup {
			p.errf(k, "%s: %s is given twice", what, k.Value)
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.errf(k, "%s: unknown key %q (valid: %s)", what, k.Value, strings.Join(known, ", "))
			continue
		}
		out[k.Value] = v
	}
	return out
}

// orderedKeys returns a mapping's keys in file order with their nodes.
func orderedKeys(n *yaml.Node) (keys []*yaml.Node, vals []*yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys, vals = append(keys, n.Content[i]), append(vals, n.Content[i+1])
	}
	return keys, vals
}

func (p *parser) scalar(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a single value", what)
		return ""
	}
	return n.Value
}

// value reads a setting's value: a scalar, or a list of scalars, which is
// written the way fbrun experiment takes a list (comma-separated: [20, 40]
// is --set steps=20,40). Commas inside a list item would merge items, so
// they are refused.
func (p *parser) value(n *yaml.Node, what string) (string, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, true
	case yaml.SequenceNode:
		items := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				p.errf(c, "%s: a list item must be a single value", what)
				return "", false
			}
			if strings.Contains(c.Value, ",") {
				p.errf(c, "%s: list item %q contains a comma (lists are passed comma-separated)", what, c.Value)
				return "", false
			}
			items = append(items, c.Value)
		}
		return strings.Join(items, ","), true
	}
	p.errf(n, "%s must be a value or a list of values", what)
	return "", false
}

// settings reads a mapping of settings in file order.
func (p *parser) settings(n *yaml.Node, what string) (map[string]string, map[string]*yaml.Node) {
	vals, lines := map[string]string{}, map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping (key: value)", what)
		return vals, lines
	}
	keys, nodes := orderedKeys(n)
	for i, k := range keys {
		if _, dup := vals[k.Value]; dup {
			p.errf(k, "%s: %s is given twice", what, k.Value)
			continue
		}
		if v, ok := p.value(nodes[i], what+"."+k.Value); ok {
			vals[k.Value], lines[k.Value] = v, k
		}
	}
	return vals, lines
}

func (p *parser) platforms(n *yaml.Node) []Platform {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "platforms must be a non-empty list of {name, platform}")
		return nil
	}
	var out []Platform
	seen := map[string]int{}
	for _, item := range n.Content {
		m := p.mapping(item, "platform", platformKeys)
		var pl Platform
		if v, ok := m["name"]; ok {
			pl.Name = p.scalar(v, "platform name")
			if pl.Name != "" && !validName(pl.Name) {
				p.errf(v, "platform name %q: use lower-case letters, digits and dashes (e.g. aws-eu)", pl.Name)
			}
			if first, dup := seen[pl.Name]; dup {
				p.errf(v, "platform name %q is used twice (first on line %d): each platform column needs its own name", pl.Name, first)
			} else {
				seen[pl.Name] = v.Line
			}
		} else {
			p.errf(item, "platform without a name (the label used in reports, e.g. name: aws-eu)")
		}
		pnode, ok := m["platform"]
		if !ok {
			p.errf(item, "platform %q: platform is missing (one of %s)", pl.Name, strings.Join(p.vocab.Platforms, ", "))
		} else {
			pl.Platform = p.scalar(pnode, "platform")
			if !slices.Contains(p.vocab.Platforms, pl.Platform) {
				p.errf(pnode, "unknown platform %q (valid: %s)", pl.Platform, strings.Join(p.vocab.Platforms, ", "))
				pnode = nil
			}
		}
		if v, ok := m["stack"]; ok {
			var lines map[string]*yaml.Node
			pl.Stack, lines = p.settings(v, "stack")
			if pnode != nil {
				p.checkStack(v, pl, lines)
			}
		}
		if v, ok := m["local"]; ok {
			var lines map[string]*yaml.Node
			pl.Local, lines = p.settings(v, "local")
			if pnode != nil {
				p.checkLocal(v, pl, lines)
			}
		}
		out = append(out, pl)
	}
	return out
}

// checkStack validates stack settings with the stack's own settings type.
func (p *parser) checkStack(n *yaml.Node, pl Platform, lines map[string]*yaml.Node) {
	if len(pl.Stack) == 0 {
		return
	}
	s, err := stackcfg.New(stackcfg.Platform(pl.Platform))
	if err != nil || pl.Platform == string(stackcfg.PlatformPermanent) {
		p.errf(n, "platform %s deploys no stack: stack settings are for %s", pl.Platform, strings.Join(stackPlatforms(), ", "))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(pl.Stack)) {
		if env, secret := stackcfg.SecretEnv(k); secret {
			p.errf(lines[k], "%s is a secret and never goes in a study file: leave it out, or export %s in the "+
				"environment of the study's runs (the root-only /etc/faas-benchmarker/credentials on the orchestrator)", k, env)
			continue
		}
		if err := s.Set(k, pl.Stack[k]); err != nil {
			p.errf(lines[k], "%s", strings.TrimPrefix(err.Error(), "stackcfg: "))
		}
	}
	// The runner sets the secrets from the environment at run time, and
	// generates the ones a platform makes per run (RunSecrets) when none is
	// given; stand in for them here so that only what the file says is judged.
	if rs, ok := s.(stackcfg.RunSecrets); ok {
		if err := rs.FillRunSecrets(func() (string, error) { return "set-at-run-time", nil }); err != nil {
			p.errf(n, "%v", err)
		}
	}
	if err := s.Validate(); err != nil {
		// Problems of settings the file does not set (e.g. required ones)
		// are reported at the stack mapping.
		for _, e := range splitJoined(err) {
			line := n
			for k, ln := range lines {
				if strings.Contains(e, stackcfg.Namespace+":"+k+":") {
					line = ln
				}
			}
			p.errf(line, "%s", strings.TrimPrefix(e, "stackcfg: "))
		}
	}
}

func stackPlatforms() []string {
	var out []string
	for _, pl := range stackcfg.Platforms() {
		if pl != stackcfg.PlatformPermanent {
			out = append(out, string(pl))
		}
	}
	return out
}

// splitJoined splits an error made by errors.Join (possibly wrapped with a
// prefix) into its lines.
func splitJoined(err error) []string {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) > 1 {
		// "stackcfg: invalid aws stack config: fb:x: ..." then one per line.
		if i := strings.Index(lines[0], ": "+stackcfg.Namespace+":"); i >= 0 {
			lines[0] = lines[0][i+2:]
		}
	}
	return lines
}

// checkLocal validates local knobs: names against the CLI's flags, values
// with the CLI's own parsing and the platform's validation.
func (p *parser) checkLocal(n *yaml.Node, pl Platform, lines map[string]*yaml.Node) {
	if len(pl.Local) == 0 {
		return
	}
	if !slices.Contains(p.vocab.LocalPlatforms, pl.Platform) {
		p.errf(n, "platform %s runs no local platform: local knobs are for %s", pl.Platform, strings.Join(p.vocab.LocalPlatforms, ", "))
		return
	}
	bad := false
	for _, k := range slices.Sorted(maps.Keys(pl.Local)) {
		if !slices.Contains(p.vocab.LocalKnobs, k) {
			p.errf(lines[k], "unknown local knob %q (valid: %s)", k, strings.Join(p.vocab.LocalKnobs, ", "))
			bad = true
		}
	}
	if bad || p.vocab.CheckLocal == nil {
		return
	}
	if err := p.vocab.CheckLocal(pl.Local); err != nil {
		line := n
		for k, ln := range lines {
			if strings.Contains(err.Error(), "local-"+k) {
				line = ln
			}
		}
		p.errf(line, "platform %s: %v", pl.Name, err)
	}
}

func (p *parser) experiments(n *yaml.Node, plats []Platform) []Experiment {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "experiments must be a non-empty list of {name, params}")
		return nil
	}
	var out []Experiment
	seen := map[string]int{}
	for _, item := range n.Content {
		var e Experiment
		var nameNode *yaml.Node
		var params map[string]*yaml.Node
		var overLines map[string]map[string]*yaml.Node
		if item.Kind == yaml.ScalarNode { // - cold-start
			e.Name, nameNode = item.Value, item
		} else {
			m := p.mapping(item, "experiment", experimentKeys)
			v, ok := m["name"]
			if !ok {
				p.errf(item, "experiment without a name (see fbrun experiments)")
				continue
			}
			e.Name, nameNode = p.scalar(v, "experiment name"), v
			if pv, ok := m["params"]; ok {
				e.Params, params = p.settings(pv, "params")
			}
			if pp, ok := m["platform_params"]; ok {
				e.PlatformParams, overLines = p.platformParams(pp, plats)
			}
		}
		if first, dup := seen[e.Name]; dup {
			p.errf(nameNode, "experiment %q is listed twice (first on line %d): use repetitions for more runs", e.Name, first)
			continue
		}
		seen[e.Name] = nameNode.Line
		exp, err := experiments.Lookup(e.Name)
		if err != nil {
			p.errf(nameNode, "%v", err)
			continue
		}
		p.checkParams(exp, e, plats, nameNode, params, overLines)
		out = append(out, e)
	}
	return out
}

// checkParams resolves the experiment's parameters on each platform column
// as its cell will run them (experiments.ResolveOn with the platform's idle
// range under the column's stack settings, and the column's
// platform_params), and reports each distinct refusal once: without a
// prefix when every column refuses alike, else with the columns'.
func (p *parser) checkParams(exp experiments.Experiment, e Experiment, plats []Platform, nameNode *yaml.Node,
	params map[string]*yaml.Node, overLines map[string]map[string]*yaml.Node) {
	if len(plats) == 0 { // reported already; check the parameters alone
		if _, err := experiments.Resolve(exp, e.Params); err != nil {
			p.errf(paramLine(err, nameNode, params), "%v", err)
		}
		return
	}
	type refusal struct {
		err     error
		columns []string
		line    *yaml.Node
		over    bool // line is in the column's platform_params
	}
	var refusals []*refusal
	for _, pl := range plats {
		var idle providers.IdleRange
		if p.vocab.IdleRange != nil && slices.Contains(p.vocab.Platforms, pl.Platform) {
			idle, _ = p.vocab.IdleRange(pl, exp) // bad settings or knobs are reported with the platform
		}
		_, err := experiments.ResolveOn(exp, e.ParamsOn(pl.Name), idle)
		if err == nil {
			continue
		}
		i := slices.IndexFunc(refusals, func(r *refusal) bool { return r.err.Error() == err.Error() })
		if i < 0 {
			line := paramLine(err, nameNode, overLines[pl.Name])
			over := line != nameNode
			if !over {
				line = paramLine(err, nameNode, params)
			}
			refusals = append(refusals, &refusal{err: err, line: line, over: over})
			i = len(refusals) - 1
		}
		refusals[i].columns = append(refusals[i].columns, pl.Name)
	}
	for _, r := range refusals {
		switch {
		case len(r.columns) == 1 && r.over:
			p.errf(r.line, "platform_params.%s: %v", r.columns[0], r.err)
		case len(r.columns) == len(plats):
			p.errf(r.line, "%v", r.err)
		default:
			p.errf(r.line, "on platform %s: %v", strings.Join(r.columns, ", "), r.err)
		}
	}
}

// paramLine is the line of the parameter an error of experiments.Resolve
// names, among lines; def when it names none of them.
func paramLine(err error, def *yaml.Node, lines map[string]*yaml.Node) *yaml.Node {
	msg := err.Error()
	for k, ln := range lines {
		if strings.Contains(msg, " "+k+" ") || strings.Contains(msg, " "+k+"=") || strings.HasSuffix(msg, " "+k) {
			return ln
		}
	}
	return def
}

// platformParams reads an experiment's platform_params: a mapping from
// platform column names (each one of plats) to parameter settings.
func (p *parser) platformParams(n *yaml.Node, plats []Platform) (map[string]map[string]string, map[string]map[string]*yaml.Node) {
	names := make([]string, len(plats))
	for i, pl := range plats {
		names[i] = pl.Name
	}
	vals, lines := map[string]map[string]string{}, map[string]map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "platform_params must be a mapping of platform names to parameters")
		return vals, lines
	}
	keys, nodes := orderedKeys(n)
	for i, k := range keys {
		switch {
		case !slices.Contains(names, k.Value):
			p.errf(k, "platform_params: %q is not a platform of this study (its platforms: %s)", k.Value, strings.Join(names, ", "))
		case vals[k.Value] != nil:
			p.errf(k, "platform_params: %s is given twice", k.Value)
		default:
			vals[k.Value], lines[k.Value] = p.settings(nodes[i], "platform_params."+k.Value)
		}
	}
	return vals, lines
}

// ErrNotFound is returned when a study has no study runs.
var ErrNotFound = errors.New("study: no such study")
