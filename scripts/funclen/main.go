// Command funclen lists the production functions (not in _test.go files)
// longer than a limit, longest first. scripts/lint runs it so that no
// function grows past the limit unnoticed (issue 24, item 8).
//
//	go run ./scripts/funclen [-max 80] [-allow file] [-top n] [dir]
//
// A function's length is the number of lines from its func keyword to its
// closing brace, both included (the count an editor shows). Functions named
// in the allow file (one "pkgdir.Func" or "pkgdir.Type.Method" a line, "#"
// comments) are reported but do not fail the check; an allow-list entry that
// no longer matches a long function fails it, so the list only shrinks.
// With -top n it prints the n longest functions and exits 0.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// fn is one function declaration and its length in lines.
type fn struct {
	name  string // pkgdir.Func or pkgdir.Type.Method
	pos   string // file:line
	lines int
}

func main() {
	maxLines := flag.Int("max", 80, "longest allowed function, in lines")
	allowPath := flag.String("allow", "", "file listing the functions allowed to be longer")
	top := flag.Int("top", 0, "print the n longest functions and exit")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	if err := run(root, *maxLines, *allowPath, *top); err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(1)
	}
}

func run(root string, maxLines int, allowPath string, top int) error {
	fns, err := collect(root)
	if err != nil {
		return err
	}
	sort.Slice(fns, func(i, j int) bool {
		if fns[i].lines != fns[j].lines {
			return fns[i].lines > fns[j].lines
		}
		return fns[i].name < fns[j].name
	})
	if top > 0 {
		for i := 0; i < top && i < len(fns); i++ {
			fmt.Printf("%4d  %s  (%s)\n", fns[i].lines, fns[i].name, fns[i].pos)
		}
		return nil
	}
	allow, err := readAllow(allowPath)
	if err != nil {
		return err
	}
	var bad []string
	allowed := 0
	for _, f := range fns {
		if f.lines <= maxLines {
			break
		}
		if _, ok := allow[f.name]; ok {
			allowed++
			delete(allow, f.name)
			continue
		}
		bad = append(bad, fmt.Sprintf("%s is %d lines (%s)", f.name, f.lines, f.pos))
	}
	for name := range allow {
		bad = append(bad, fmt.Sprintf("%s is on the allow list but is no longer over %d lines (or was renamed): remove it from %s", name, maxLines, allowPath))
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("functions over %d lines; split them into named steps:\n  %s", maxLines, strings.Join(bad, "\n  "))
	}
	fmt.Printf("funclen: no function over %d lines but the %d on the allow list\n", maxLines, allowed)
	return nil
}

// collect parses every non-test Go file under root (skipping testdata,
// vendor, hidden folders and nested modules) and returns its functions.
func collect(root string) ([]fn, error) {
	fset := token.NewFileSet()
	var fns []fn
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, decl := range file.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
			fns = append(fns, fn{
				name:  filepath.ToSlash(dir) + "." + funcName(fd),
				pos:   fmt.Sprintf("%s:%d", filepath.ToSlash(path), start.Line),
				lines: end.Line - start.Line + 1,
			})
		}
		return nil
	})
	return fns, err
}

// funcName is Func, or Type.Method for a method.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		}
		break
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// readAllow reads the allow list: "name  # reason" a line.
func readAllow(path string) (map[string]string, error) {
	allow := map[string]string{}
	if path == "" {
		return allow, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, "#")
		name, reason = strings.TrimSpace(name), strings.TrimSpace(reason)
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: %s has no reason (write it after a #)", path, n, name)
		}
		allow[name] = reason
	}
	return allow, sc.Err()
}
