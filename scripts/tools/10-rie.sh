#!/usr/bin/env bash
# Installs the AWS Lambda Runtime Interface Emulator (aws-lambda-rie) into
# $FB_TOOLS_DIR/bin. The lab functions' Lambda adapter is tested against it
# (functions/lambdaadapter). Idempotent: skips when the pinned version is
# already installed. Cold build: about 40 s.
#
# The emulator listens on 0.0.0.0:8080 by default: tests always pass
# --runtime-interface-emulator-address 127.0.0.1:<port>.
set -euo pipefail
version="v0.0.0-20261030222936-bef5c4ba774d"
module="github.com/aws/aws-lambda-runtime-interface-emulator"
: "${FB_TOOLS_DIR:=$HOME/.cache/faas-benchmarker/tools}"
bin="$FB_TOOLS_DIR/bin/aws-lambda-rie"
mkdir -p "$FB_TOOLS_DIR/bin"

if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+$module[[:space:]]+$version"; then
  echo "aws-lambda-rie $version already installed at $bin"
  exit 0
fi

echo "building aws-lambda-rie $version into $bin"
GOBIN="$FB_TOOLS_DIR/bin" GOWORK=off go install "$module/cmd/aws-lambda-rie@$version"
go version -m "$bin" | head -3
