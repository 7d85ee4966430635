#!/usr/bin/env bash
# Installs headless Chromium (Debian packages chromium and chromium-driver)
# for the report tests: results/report/ opens the generated HTML report in headless
# Chromium through the DevTools protocol (chromedp), fails on console errors
# or empty figures, and saves a screenshot. scripts/screenshot-report uses it
# for the README screenshot. Idempotent: does nothing when /usr/bin/chromium
# exists. Needs root (or sudo) and the Debian mirror.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
echo "installing chromium with apt-get"
$sudo apt-get -o DPkg::Lock::Timeout=600 update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
  chromium chromium-driver fonts-liberation
/usr/bin/chromium --version
