#!/usr/bin/env bash
# Runs the Playwright suite against the real server. Assumes the server binary
# (ANCHORAGE_BIN, default target/debug/anchorage) and the console (target/site, from
# scripts/build-app.sh) are built. Uses Debian's Chromium at /usr/bin/chromium; installs it and
# the pinned npm packages when missing (scripts/setup-browser.sh).
# Extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../scripts/setup-browser.sh
exec npx playwright test "$@"
