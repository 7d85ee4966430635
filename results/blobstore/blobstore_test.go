package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore/miniotest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newStore(t *testing.T, m *miniotest.Server, bucket, secret string, noServerChecksum bool) *blobstore.Store {
	t.Helper()
	s, err := blobstore.New(ctxT(t), blobstore.Config{
		Bucket: bucket, Endpoint: m.Endpoint, UsePathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: secret, NoServerChecksum: noServerChecksum,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUploadDownloadAgainstMinIO(t *testing.T) {
	m := miniotest.Start(t)
	for _, tc := range []struct {
		name             string
		noServerChecksum bool
	}{
		{"server-checksum", false},
		{"metadata-only (Spaces-safe)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			s := newStore(t, m, "results", m.SecretKey, tc.noServerChecksum)
			if err := s.EnsureBucket(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.EnsureBucket(ctx); err != nil { // idempotent
				t.Fatal(err)
			}
			dir := t.TempDir()
			content := bytes.Repeat([]byte("sqlite results page\n"), 5000)
			src := writeFile(t, dir, "run.sqlite", content)
			wantSum, _, err := blobstore.FileSHA256(src)
			if err != nil {
				t.Fatal(err)
			}
			key := "runs/" + filepath.Base(t.Name()) + ".sqlite"
			obj, err := s.Upload(ctx, key, src)
			if err != nil {
				t.Fatal(err)
			}
			if obj.SHA256 != wantSum || obj.Size != int64(len(content)) {
				t.Fatalf("uploaded %+v, want sha %s size %d", obj, wantSum, len(content))
			}
			dst := filepath.Join(dir, "out", "copy.sqlite")
			got, err := s.Download(ctx, key, dst)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, content) || got.SHA256 != wantSum {
				t.Fatalf("downloaded %d bytes sha %s, want %d bytes sha %s", len(b), got.SHA256, len(content), wantSum)
			}
			if _, err := os.Stat(src); err != nil {
				t.Fatalf("local file gone after upload: %v", err)
			}
		})
	}
}

// A wrong secret must be refused by the server (SigV4 is checked), and the
// failed upload must leave the local file alone.
func TestWrongSecretIsRefused(t *testing.T) {
	m := miniotest.Start(t)
	ctx := ctxT(t)
	good := newStore(t, m, "sigcheck", m.SecretKey, false)
	if err := good.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	bad := newStore(t, m, "sigcheck", m.SecretKey+"x", false)
	src := writeFile(t, t.TempDir(), "run.sqlite", []byte("data"))
	_, err := bad.Upload(ctx, "runs/x.sqlite", src)
	if err == nil {
		t.Fatal("upload with a wrong secret succeeded")
	}
	if !blobstore.IsAuthError(err) {
		t.Fatalf("want an auth error, got %v", err)
	}
	if b, err := os.ReadFile(src); err != nil || string(b) != "data" {
		t.Fatalf("local file after failed upload: %q, %v", b, err)
	}
	if objs, err := good.List(ctx, ""); err != nil || len(objs) != 0 {
		t.Fatalf("bucket after refused upload: %v, %v", objs, err)
	}
}

// An object whose content does not match its sha256 metadata is rejected
// and does not replace the local file.
func TestDownloadRejectsCorruptObject(t *testing.T) {
	m := miniotest.Start(t)
	ctx := ctxT(t)
	s := newStore(t, m, "corrupt", m.SecretKey, false)
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	// Write an object directly, with a sha256 metadata that lies.
	raw := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(m.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
	_, err := raw.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("corrupt"), Key: aws.String("runs/bad.sqlite"),
		Body:     bytes.NewReader([]byte("tampered")),
		Metadata: map[string]string{blobstore.MetaSHA256: "00" + string(bytes.Repeat([]byte("0"), 62))},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := writeFile(t, dir, "bad.sqlite", []byte("good local copy"))
	_, err = s.Download(ctx, "runs/bad.sqlite", dst)
	if !errors.Is(err, blobstore.ErrChecksum) {
		t.Fatalf("want ErrChecksum, got %v", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "good local copy" {
		t.Fatalf("local file replaced by a corrupt download: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// Pull downloads what is missing or different and skips identical files.
func TestPullIsIncremental(t *testing.T) {
	m := miniotest.Start(t)
	ctx := ctxT(t)
	s := newStore(t, m, "pull", m.SecretKey, false)
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if _, err := s.Upload(ctx, "runs/"+n+".sqlite", writeFile(t, src, n+".sqlite", []byte("run "+n))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Upload(ctx, "other/c.sqlite", writeFile(t, src, "c.sqlite", []byte("run c"))); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	count := func(ps []blobstore.Pulled) (all, downloaded int) {
		for _, p := range ps {
			all++
			if p.Downloaded {
				downloaded++
			}
		}
		return
	}
	for i, want := range []struct{ all, downloaded int }{{2, 2}, {2, 0}} {
		ps, err := s.Pull(ctx, "runs/", dst)
		if err != nil {
			t.Fatal(err)
		}
		if a, d := count(ps); a != want.all || d != want.downloaded {
			t.Fatalf("pull %d: %d objects, %d downloaded; want %+v", i, a, d, want)
		}
	}
	// A changed remote object is downloaded again.
	if _, err := s.Upload(ctx, "runs/a.sqlite", writeFile(t, src, "a.sqlite", []byte("run a v2"))); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Pull(ctx, "runs/", dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, d := count(ps); d != 1 {
		t.Fatalf("after a change: %d downloaded, want 1", d)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a.sqlite")); string(b) != "run a v2" {
		t.Fatalf("a.sqlite = %q", b)
	}
}

// TestDeleteAll empties a bucket (what `fbrun down permanent --empty-bucket`
// does before the destroy: S3 and Spaces refuse to delete a bucket that
// still holds objects, BucketNotEmpty) against MinIO, which enforces that
// refusal.
func TestDeleteAll(t *testing.T) {
	m := miniotest.Start(t)
	ctx := ctxT(t)
	s := newStore(t, m, "empty-me", m.SecretKey, false)
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for _, k := range []string{"runs/a.sqlite", "runs/b.sqlite", ".pulumi/stacks/x.json"} {
		if _, err := s.Upload(ctx, k, writeFile(t, src, filepath.Base(k), []byte(k))); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteAll(ctx, "")
	if err != nil || n != 3 {
		t.Fatalf("DeleteAll = %d, %v; want 3", n, err)
	}
	if left, err := s.List(ctx, ""); err != nil || len(left) != 0 {
		t.Fatalf("left after DeleteAll: %v, %v", left, err)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := blobstore.New(context.Background(), blobstore.Config{}); err == nil {
		t.Fatal("New without a bucket succeeded")
	}
	if got := blobstore.SpacesEndpoint("fra1"); got != "https://fra1.digitaloceanspaces.com" {
		t.Fatalf("SpacesEndpoint = %s", got)
	}
}
