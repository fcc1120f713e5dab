#!/usr/bin/env bash
# The browser tests (test/ui) and bench:ui drive Debian's Chromium with playwright-core (Playwright's own browser
# download is not reachable). Installs it when missing; needs root (CI runs as root).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
echo "chromium missing: installing Debian's package"
apt-get update -qq -o DPkg::Lock::Timeout=900
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=900 chromium
/usr/bin/chromium --version
