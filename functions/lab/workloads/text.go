package workloads

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

var words = []string{"lambda", "azure", "faas", "cold", "warm", "start", "instance", "sandbox",
	"latency", "throughput", "nested", "invoke", "function", "memory", "timeout", "benchmark"}

// pageTemplate is parsed once per process on first use.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1>
<table>
<tr><th>#</th><th>Name</th><th>Price</th><th>Tags</th></tr>
{{range .Rows}}<tr><td>{{.ID}}</td><td>{{.Name}}</td><td>{{printf "%.2f" .Price}}</td><td>{{range $i, $t := .Tags}}{{if $i}}, {{end}}{{$t}}{{end}}</td></tr>
{{end}}</table>
<p>Total: {{printf "%.2f" .Total}}</p>
</body></html>
`))

// record is one row of the page and JSON workloads.
type record struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Price float64  `json:"price"`
	Tags  []string `json:"tags"`
}

// records generates n seeded records. Prices are whole cents so that sums
// are exact.
func records(n int, seed int64) []record {
	r := newRNG(seed)
	out := make([]record, n)
	for i := range out {
		tags := make([]string, 1+r.intn(3))
		for j := range tags {
			tags[j] = words[r.intn(uint64(len(words)))]
		}
		out[i] = record{
			ID:    i + 1,
			Name:  fmt.Sprintf("%s-%s <%d>", words[r.intn(uint64(len(words)))], words[r.intn(uint64(len(words)))], i),
			Price: float64(r.intn(100000)) / 100,
			Tags:  tags,
		}
	}
	return out
}

// renderPage renders an HTML table of n seeded records with html/template
// (which escapes the "<n>" in every name). The checksum covers the page.
func renderPage(_ context.Context, n int, seed int64) (string, any, error) {
	rows := records(n, seed)
	var total float64
	for _, r := range rows {
		total += r.Price
	}
	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, map[string]any{"Title": fmt.Sprintf("Catalogue (seed %d)", seed), "Rows": rows, "Total": total})
	if err != nil {
		return "", nil, fmt.Errorf("render: %w", err)
	}
	return hexSum(buf.Bytes()), map[string]int{"rows": n, "bytes": buf.Len()}, nil
}

// jsonRoundTrip encodes n seeded records as a JSON array, decodes them
// again and checks they survived. The checksum covers the encoded JSON.
func jsonRoundTrip(_ context.Context, n int, seed int64) (string, any, error) {
	rows := records(n, seed)
	enc, err := json.Marshal(rows)
	if err != nil {
		return "", nil, fmt.Errorf("encode: %w", err)
	}
	var back []record
	if err := json.Unmarshal(enc, &back); err != nil {
		return "", nil, fmt.Errorf("decode: %w", err)
	}
	if len(back) != n || (n > 0 && back[n-1].Name != rows[n-1].Name) {
		return "", nil, fmt.Errorf("round trip changed the records")
	}
	return hexSum(enc), map[string]int{"records": n, "bytes": len(enc)}, nil
}

// seededText returns n bytes of seeded space-separated words: text-like
// data that compresses like real payloads do.
func seededText(n int, seed int64) []byte {
	r := newRNG(seed)
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.intn(uint64(len(words)))]...)
		b = append(b, ' ')
	}
	return b[:n]
}

// hashCompress generates kib KiB of seeded text, hashes it with SHA-256,
// gzips it (level 6) and gunzips it again to verify. The checksum is the
// SHA-256 of the text; the compressed size depends on the Go version's
// compressor and is reported, not checksummed.
func hashCompress(_ context.Context, kib int, seed int64) (string, any, error) {
	data := seededText(kib*1024, seed)
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, 6)
	if err != nil {
		return "", nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return "", nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", nil, fmt.Errorf("gzip: %w", err)
	}
	compressed := z.Len()
	zr, err := gzip.NewReader(&z)
	if err != nil {
		return "", nil, fmt.Errorf("gunzip: %w", err)
	}
	back, err := io.ReadAll(zr)
	if err != nil {
		return "", nil, fmt.Errorf("gunzip: %w", err)
	}
	if !bytes.Equal(back, data) {
		return "", nil, fmt.Errorf("gzip round trip changed the data")
	}
	return hexSum(data), map[string]int{"bytes": len(data), "compressed_bytes": compressed}, nil
}
