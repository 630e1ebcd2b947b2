#!/usr/bin/env bash
# Installs what the browser tests need, if missing: Debian's Chromium (required: a clear error
# and a non-zero exit when it cannot be installed) and the pinned npm packages of end2end/.
# Idempotent. (Playwright's own browser download does not work on these machines.)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then
    apt_install required chromium
fi
npm_ci "$ANCHORAGE_ROOT/end2end"
