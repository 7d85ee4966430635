// Package scaffold creates a new experiment from a template: the experiment
// file, a test stub that fails until it is written, and its line in the
// catalog (the seed's --create-experiment, done as Go code).
package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// Marker is the catalog line above which new experiments are inserted.
const Marker = "// fbrun:new-experiment"

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Experiment writes <dir>/<name>.go and <dir>/<name>_test.go for a new
// experiment called name (lower-case words joined by hyphens) and registers
// it in <dir>/catalog.go. It returns the files written or changed. Nothing
// is written when any step would fail.
func Experiment(dir, name string) ([]string, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("bad experiment name %q: use lower-case words joined by hyphens, e.g. memory-sweep", name)
	}
	typeName := goName(name)
	base := strings.ReplaceAll(name, "-", "_")
	src := filepath.Join(dir, base+".go")
	test := filepath.Join(dir, base+"_test.go")
	catalog := filepath.Join(dir, "catalog.go")
	for _, f := range []string{src, test} {
		if _, err := os.Stat(f); err == nil {
			return nil, fmt.Errorf("%s already exists", f)
		}
	}
	cat, err := os.ReadFile(catalog)
	if err != nil {
		return nil, fmt.Errorf("cannot read the catalog (run this in a source checkout, or pass --dir): %w", err)
	}
	if bytes.Contains(cat, []byte("\t\t"+typeName+"{},")) {
		return nil, fmt.Errorf("%s is already registered in %s", typeName, catalog)
	}
	i := bytes.Index(cat, []byte(Marker))
	if i < 0 {
		return nil, fmt.Errorf("%s has no %q line", catalog, Marker)
	}
	lineStart := bytes.LastIndexByte(cat[:i], '\n') + 1
	newCat := append(append(append([]byte{}, cat[:lineStart]...), []byte("\t\t"+typeName+"{},\n")...), cat[lineStart:]...)
	newCat, err = format.Source(newCat)
	if err != nil {
		return nil, fmt.Errorf("registering in %s: %w", catalog, err)
	}
	data := struct{ Name, Type string }{name, typeName}
	var outs [2][]byte
	for i, t := range []*template.Template{srcTmpl, testTmpl} {
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, err
		}
		if outs[i], err = format.Source(b.Bytes()); err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
	}
	if err := os.WriteFile(src, outs[0], 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(test, outs[1], 0o644); err != nil {
		return nil, errors.Join(err, os.Remove(src))
	}
	if err := os.WriteFile(catalog, newCat, 0o644); err != nil {
		return nil, errors.Join(err, os.Remove(src), os.Remove(test))
	}
	return []string{src, test, catalog}, nil
}

// goName turns "memory-sweep" into "MemorySweep".
func goName(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

var srcTmpl = template.Must(template.New("src").Parse(`package experiments

import (
	"context"
	"errors"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
)

// {{.Type}} is the {{.Name}} experiment.
//
// Question: (what does it answer?)
//
// Method: (how, and why that way; what makes the estimate trustworthy)
//
// Estimates: (stable keys and their units; document them in docs/experiments.md)
type {{.Type}} struct{}

// Name implements Experiment.
func ({{.Type}}) Name() string { return "{{.Name}}" }

// Summary implements Experiment.
func ({{.Type}}) Summary() string { return "(one line: the question it answers)" }

// Params implements Experiment.
func ({{.Type}}) Params() []Param {
	return []Param{
		StringParam("function", "function1", "lab function to invoke").Required(),
		IntParam("samples", "10", "number of invocations").AtLeast(1),
	}
}

// Run implements Experiment. Use b.Invoke / b.InvokeConcurrently /
// b.InvokeAtRate, b.WithPhase for grouping, b.Record for metrics and
// b.Sleep (never time.Sleep) for waiting.
func ({{.Type}}) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	return nil, errors.New("{{.Name}}: not written yet")
}
`))

var testTmpl = template.Must(template.New("test").Parse(`package experiments

import "testing"

// Test{{.Type}} must check the estimate against the local platform's ground
// truth (see the other experiments' tests). It fails until it does.
func Test{{.Type}}(t *testing.T) {
	t.Fatal("{{.Name}}: write the ground-truth test for this experiment")
}
`))
