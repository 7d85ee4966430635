#!/usr/bin/env bash
# Builds the pinned Pulumi CLI (the runner drives it through the Automation
# API) from the separate tools module scripts/tools/pulumi into $FB_TOOLS_DIR/bin/pulumi.
# Idempotent: does nothing when that binary already reports the pinned version.
# The version must be stamped with -ldflags, otherwise the Automation API
# refuses the CLI. Cold build: about 5 min and 2.3 GB of memory.
set -euo pipefail
version="v3.274.1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${FB_TOOLS_DIR:=$HOME/.cache/faas-benchmarker/tools}"
bin="$FB_TOOLS_DIR/bin/pulumi"
mkdir -p "$FB_TOOLS_DIR/bin"

if [ -x "$bin" ] && [ "$("$bin" version 2>/dev/null || true)" = "$version" ]; then
  echo "pulumi $version already installed at $bin"
  exit 0
fi

echo "building pulumi $version into $bin"
cd "$root/scripts/tools/pulumi"
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
GOWORK=off CGO_ENABLED=0 go build -trimpath \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$tmp" "$bin"
"$bin" version
