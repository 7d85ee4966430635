// Package miniotest starts a real MinIO server (an S3-compatible server
// that checks SigV4 signatures) for tests, on free 127.0.0.1 ports with a
// temporary data directory. MinIO is an external program (AGPL): it is run
// as a separate process, never linked. Install it with
// scripts/tools/31-minio.sh; tests skip without it unless FB_REQUIRE_TOOLS=1.
package miniotest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// Server is a running MinIO.
type Server struct {
	// Endpoint is the S3 API base URL, http://127.0.0.1:<port>.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start starts MinIO and stops it when the test ends. It skips (or fails
// under FB_REQUIRE_TOOLS=1) when the minio binary is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testtools.Require(t, "minio", "FB_MINIO")
	dir := t.TempDir()
	s := &Server{AccessKey: "fbtestaccess", SecretKey: "fbtestsecret-0123456789"}
	for attempt := 0; ; attempt++ {
		addr, console := freePort(t), freePort(t)
		var out testtools.Buffer
		cmd := exec.Command(bin, "server", dir, "--address", addr, "--console-address", console, "--quiet")
		cmd.Env = append(os.Environ(),
			"MINIO_ROOT_USER="+s.AccessKey,
			"MINIO_ROOT_PASSWORD="+s.SecretKey,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"HOME="+dir,
		)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("miniotest: start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		s.Endpoint = "http://" + addr
		err := waitReady(s.Endpoint, exited, &waitErr)
		if err == nil {
			t.Cleanup(stop)
			return s
		}
		stop()
		if attempt >= 2 {
			t.Fatalf("miniotest: minio did not become ready: %v\n%s", err, out.String())
		}
	}
}

// waitReady polls MinIO's liveness endpoint until it answers 200, the
// process exits, or two minutes pass (a busy CI machine starts it slowly).
func waitReady(endpoint string, exited <-chan struct{}, waitErr *error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/minio/health/live", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("minio exited: %v", *waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
