#!/usr/bin/env bash
# Installs MinIO, a real S3-compatible server (SigV4-checked), into
# $FB_TOOLS_DIR/bin/minio. It is only a test peer for results/blobstore/ (results
# shipping): MinIO is AGPL, so it is never linked into or shipped with
# faas-benchmarker. Idempotent: skips when the pinned version is installed.
# Cold build: about 4 min.
set -euo pipefail
version="v0.0.0-20260212201848-7aac2a2c5b7c"
: "${FB_TOOLS_DIR:=$HOME/.cache/faas-benchmarker/tools}"
bin="$FB_TOOLS_DIR/bin/minio"
mkdir -p "$FB_TOOLS_DIR/bin"

if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/minio/minio[[:space:]]+$version"; then
  echo "minio $version already installed at $bin"
  exit 0
fi

echo "building minio $version into $bin"
GOBIN="$FB_TOOLS_DIR/bin" GOWORK=off go install "github.com/minio/minio@$version"
go version -m "$bin" | head -3
