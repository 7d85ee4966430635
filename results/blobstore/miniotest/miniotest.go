// Package miniotest starts a real MinIO server (an S3-compatible server
// that checks SigV4 signatures) for tests, on free 127.0.0.1 ports with a
// temporary data directory. MinIO is an external program (AGPL): it is run
// as a separate process, never linked. Install it with
// scripts/tools/31-minio.sh; tests skip without it unless FB_REQUIRE_TOOLS=1.
package miniotest

import (
	"context"
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

// Start starts MinIO and stops it when the test ends. It skips (or fails
// under FB_REQUIRE_TOOLS=1) when the minio binary is missing. MinIO binds
// the addresses it is given itself; when one was taken first it exits
// saying so, and is started again on new ones (testtools.OnFreeAddrs).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testtools.Require(t, "minio", "FB_MINIO")
	dir := t.TempDir()
	s := &Server{AccessKey: "fbtestaccess", SecretKey: "fbtestsecret-0123456789"}
	testtools.OnFreeAddrs(t, 2, func(addrs []string) error {
		cmd := exec.Command(bin, "server", dir, "--address", addrs[0], "--console-address", addrs[1], "--quiet")
		cmd.Env = append(os.Environ(),
			"MINIO_ROOT_USER="+s.AccessKey,
			"MINIO_ROOT_PASSWORD="+s.SecretKey,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"HOME="+dir,
		)
		p := testtools.Start(t, cmd)
		s.Endpoint = "http://" + addrs[0]
		if err := waitReady(s.Endpoint, p, addrs[0]); err != nil {
			p.Kill()
			return err
		}
		return nil
	})
	return s
}

// waitReady polls MinIO's liveness endpoint until it answers 200, the
// process exits, or two minutes pass (a busy CI machine starts it slowly).
func waitReady(endpoint string, p *testtools.Proc, addr string) error {
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
		case <-p.Exited():
			return p.ListenErr(addr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
