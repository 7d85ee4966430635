package main

import (
	"reflect"
	"strings"
	"testing"
)

const testDoc = `# Architecture

A table before the mark is not the rule:
| 9 | ` + "`a`" + ` | ignored |

<!-- import-rule -->
| layer | packages | role |
|---|---|---|
| 0 | ` + "`base`" + ` | foundations |
| 1 | ` + "`mid`, `top/low`" + ` | middle |
| 1 | ` + "`side`" + ` | beside the middle |
| 2 | ` + "`top`" + ` | top |

After the table.
`

func TestParseTable(t *testing.T) {
	rows, err := parseTable(strings.NewReader(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{0, []string{"base"}}, {1, []string{"mid", "top/low"}}, {1, []string{"side"}}, {2, []string{"top"}}}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows = %v, want %v", rows, want)
	}
	for _, bad := range []string{"no mark\n| 0 | `a` | x |\n", "<!-- import-rule -->\n| 0 | none | x |\n", "<!-- import-rule -->\n"} {
		if _, err := parseTable(strings.NewReader(bad)); err == nil {
			t.Errorf("parseTable(%q): no error", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	rows, err := parseTable(strings.NewReader(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	const m = "example.com/m"
	pkgs := []Package{
		{ImportPath: m + "/base", Imports: []string{"fmt"}},
		{ImportPath: m + "/base/sub", Imports: []string{m + "/base"}},                    // same row: allowed
		{ImportPath: m + "/mid", Imports: []string{m + "/base", m + "/top/low"}},         // lower, same row
		{ImportPath: m + "/top/low/x", Imports: []string{m + "/top"}},                    // longest prefix is top/low (layer 1): upward
		{ImportPath: m + "/top", Imports: []string{m + "/mid", m + "/top/low/x"}},        // lower
		{ImportPath: m + "/base/up", Imports: []string{m + "/mid", "example.com/other"}}, // upward
		{ImportPath: m + "/stray", Imports: nil},
		{ImportPath: m + "/side", Imports: []string{m + "/mid"}}, // same layer, another row
	}
	got := check(rows, m, pkgs)
	want := []string{
		"base/up (layer 0) imports mid (layer 1)",
		"side (layer 1) imports mid (layer 1)",
		"stray: in no row of the layer table",
		"top/low/x (layer 1) imports top (layer 2)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("check =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
