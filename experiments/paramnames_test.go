package experiments_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
)

// paramGetters are the Params methods that read a parameter by name.
var paramGetters = map[string]bool{"String": true, "Int": true, "Float": true, "Duration": true, "Bool": true,
	"List": true, "Ints": true, "Raw": true}

// paramReads is what the package's source reads through Params: per
// function (a method is "Type.Name"), the parameter names it reads itself
// and the functions it hands its Params to.
type paramReads struct {
	names   map[string][]string
	passes  map[string][]string
	methods map[string][]string // receiver type → its methods that take Params
	bad     []string            // reads whose name is not a constant
}

// TestParamNamesDeclared: every parameter name an experiment reads — in
// its methods that take Params and in the functions they hand Params to —
// is one it declares, so a misspelled name fails here, at test time,
// instead of after a run (Params.Err). The names are read from the source:
// string literals or package constants.
func TestParamNamesDeclared(t *testing.T) {
	r := readParamUses(t, ".")
	for _, b := range r.bad {
		t.Errorf("%s: a parameter read by a name that is not a constant cannot be checked", b)
	}
	for _, e := range experiments.Catalog() {
		typ := reflect.TypeOf(e)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		declared := map[string]bool{}
		for _, p := range e.Params() {
			declared[p.Name] = true
		}
		roots := r.methods[typ.Name()]
		if len(roots) == 0 {
			t.Errorf("%s (%s): no method that takes Params found in the source", e.Name(), typ.Name())
		}
		for _, n := range r.closure(roots) {
			if !declared[n] {
				t.Errorf("experiment %s reads parameter %q, which it does not declare (declared: %v)", e.Name(), n, paramNames(e))
			}
		}
	}
}

func paramNames(e experiments.Experiment) []string {
	var out []string
	for _, p := range e.Params() {
		out = append(out, p.Name)
	}
	return out
}

// closure returns the names read by fns and everything they hand Params to.
func (r paramReads) closure(fns []string) []string {
	seen, names := map[string]bool{}, map[string]bool{}
	var visit func(string)
	visit = func(f string) {
		if seen[f] {
			return
		}
		seen[f] = true
		for _, n := range r.names[f] {
			names[n] = true
		}
		for _, g := range r.passes[f] {
			visit(g)
		}
	}
	for _, f := range fns {
		visit(f)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// readParamUses parses the package's non-test files in dir.
func readParamUses(t *testing.T, dir string) paramReads {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var parsed []*ast.File
	consts := map[string]string{}
	byName := map[string][]string{} // function or method name → qualified names
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, s := range d.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[n.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			case *ast.FuncDecl:
				byName[d.Name.Name] = append(byName[d.Name.Name], funcName(d))
			}
		}
	}
	r := paramReads{names: map[string][]string{}, passes: map[string][]string{}, methods: map[string][]string{}}
	for _, af := range parsed {
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			pv := paramsVar(fd)
			if pv == "" {
				continue
			}
			name := funcName(fd)
			if fd.Recv != nil && recvType(fd) != "Params" {
				r.methods[recvType(fd)] = append(r.methods[recvType(fd)], name)
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && isIdent(sel.X, pv) && paramGetters[sel.Sel.Name] && len(call.Args) == 1 {
					switch a := call.Args[0].(type) {
					case *ast.BasicLit:
						v, _ := strconv.Unquote(a.Value)
						r.names[name] = append(r.names[name], v)
					case *ast.Ident:
						if v, ok := consts[a.Name]; ok {
							r.names[name] = append(r.names[name], v)
						} else {
							r.bad = append(r.bad, fset.Position(a.Pos()).String())
						}
					default:
						r.bad = append(r.bad, fset.Position(call.Args[0].Pos()).String())
					}
					return true
				}
				if !slices.ContainsFunc(call.Args, func(a ast.Expr) bool { return isIdent(a, pv) }) {
					return true
				}
				// Params handed on: to a function or method of the package.
				var callee string
				switch f := call.Fun.(type) {
				case *ast.Ident:
					callee = f.Name
				case *ast.SelectorExpr:
					callee = f.Sel.Name
				}
				r.passes[name] = append(r.passes[name], byName[callee]...)
				return true
			})
		}
	}
	return r
}

// paramsVar is the name of fd's parameter of type Params ("" if none).
func paramsVar(fd *ast.FuncDecl) string {
	for _, f := range fd.Type.Params.List {
		if isIdent(f.Type, "Params") && len(f.Names) == 1 {
			return f.Names[0].Name
		}
	}
	return ""
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil {
		return fd.Name.Name
	}
	return recvType(fd) + "." + fd.Name.Name
}

func recvType(fd *ast.FuncDecl) string {
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
