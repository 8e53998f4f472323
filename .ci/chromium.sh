#!/usr/bin/env bash
# Install headless Chromium (the Debian package) when absent, for the report's browser tests
# (tests/report/test_browser.py). Needs root (apt-get). Idempotent: does nothing when a
# chromium binary is already on PATH.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
