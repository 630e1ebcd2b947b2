#!/usr/bin/env bash
# Installs what the browser tests need, if missing: Debian's Chromium and the npm packages of
# end2end/. Idempotent. (Playwright's own browser download does not work on these machines.)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

command -v npm >/dev/null || { echo "npm is required (Node.js 20 or later)" >&2; exit 1; }
if [ ! -d end2end/node_modules/@playwright/test ]; then
  echo "==> installing end2end npm packages"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi
