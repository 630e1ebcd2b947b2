#!/usr/bin/env bash
# Runs the Playwright suite against the real server. Assumes the server binary
# (ANCHORAGE_BIN, default target/debug/anchorage) and the console (target/site, from
# scripts/build-app.sh) are built. Uses Debian's Chromium at /usr/bin/chromium.
# Extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
else
    npm install --no-audit --no-fund --loglevel=error
fi
exec npx playwright test "$@"
