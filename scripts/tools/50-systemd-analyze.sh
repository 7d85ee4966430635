#!/usr/bin/env bash
# Installs systemd-analyze (Debian package systemd) for the study tests:
# study/ checks the systemd timer and service that `fbrun study schedule`
# generates with `systemd-analyze verify`. Nothing is started: the tool
# only parses unit files. Idempotent: does nothing when systemd-analyze is
# on PATH. Needs root (or sudo) and the Debian mirror.
set -euo pipefail
if command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze already installed: $(systemd-analyze --version | head -n 1)"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
echo "installing systemd (for systemd-analyze) with apt-get"
$sudo apt-get -o DPkg::Lock::Timeout=600 update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends systemd
systemd-analyze --version | head -n 1
