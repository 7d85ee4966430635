// Command importrule checks the import rule of docs/architecture.md: every
// package of the module belongs to a layer (the longest package prefix listed
// in that document's layer table), and a package may import only packages of
// a lower layer, or packages of its own row. The rule binds production code:
// a test may drive its package from above (an end-to-end test of an
// experiment runs it through runner/session), and Go itself refuses the
// cycles that would make that wrong. scripts/lint runs it; it prints one line
// per broken import and exits 1.
//
//	go run ./scripts/importrule [-doc docs/architecture.md]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

func main() {
	doc := flag.String("doc", "docs/architecture.md", "the document holding the layer table")
	flag.Parse()
	if err := run(*doc, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "importrule:", err)
		os.Exit(1)
	}
}

func run(docPath string, out io.Writer) error {
	f, err := os.Open(docPath)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := parseTable(f)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	module, pkgs, err := listPackages()
	if err != nil {
		return err
	}
	broken := check(rows, module, pkgs)
	for _, b := range broken {
		fmt.Fprintln(out, b)
	}
	if len(broken) > 0 {
		return fmt.Errorf("%d import(s) break the rule of %s", len(broken), docPath)
	}
	return nil
}

// Row is one row of the layer table: its layer number and the package
// prefixes (relative to the module path) it holds.
type Row struct {
	Layer    int
	Prefixes []string
}

// Package is what the check needs of one package: its path and what its
// non-test files import.
type Package struct {
	ImportPath string
	Imports    []string
}

const tableMark = "<!-- import-rule -->"

// parseTable reads the markdown table that follows the line tableMark: its
// first column is the layer number, its second the package prefixes, each
// in backquotes.
func parseTable(r io.Reader) ([]Row, error) {
	sc := bufio.NewScanner(r)
	found := false
	var rows []Row
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !found {
			found = line == tableMark
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		layer, err := strconv.Atoi(strings.TrimSpace(cells[0]))
		if err != nil {
			continue // the header and its separator
		}
		var prefixes []string
		for _, part := range strings.Split(cells[1], "`")[1:] {
			if p := strings.Trim(strings.TrimSpace(part), "/"); p != "" && !strings.ContainsAny(p, " ,") {
				prefixes = append(prefixes, p)
			}
		}
		if len(prefixes) == 0 {
			return nil, fmt.Errorf("layer %d row names no package prefix in backquotes", layer)
		}
		rows = append(rows, Row{Layer: layer, Prefixes: prefixes})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no line %q before the layer table", tableMark)
	}
	if len(rows) == 0 {
		return nil, errors.New("the layer table has no rows")
	}
	return rows, nil
}

// rowOf gives the index of the row holding the package at rel (a path
// relative to the module), by longest prefix, or -1.
func rowOf(rows []Row, rel string) int {
	best, bestLen := -1, -1
	for i, r := range rows {
		for _, p := range r.Prefixes {
			if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > bestLen {
				best, bestLen = i, len(p)
			}
		}
	}
	return best
}

// check returns one line per package outside the table and per import that
// breaks the rule, sorted.
func check(rows []Row, module string, pkgs []Package) []string {
	var broken []string
	rel := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	for _, p := range pkgs {
		from, _ := rel(p.ImportPath)
		fi := rowOf(rows, from)
		if fi < 0 {
			broken = append(broken, fmt.Sprintf("%s: in no row of the layer table", from))
			continue
		}
		for _, imp := range p.Imports {
			to, ok := rel(imp)
			if !ok {
				continue
			}
			ti := rowOf(rows, to)
			if ti < 0 {
				continue // reported as a package of its own
			}
			if ti == fi || rows[ti].Layer < rows[fi].Layer {
				continue
			}
			broken = append(broken, fmt.Sprintf("%s (layer %d) imports %s (layer %d)", from, rows[fi].Layer, to, rows[ti].Layer))
		}
	}
	sort.Strings(broken)
	return broken
}

func listPackages() (string, []Package, error) {
	mod, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -m: %w", err)
	}
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(raw))
	for dec.More() {
		var p Package
		if err := dec.Decode(&p); err != nil {
			return "", nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return strings.TrimSpace(string(mod)), pkgs, nil
}
