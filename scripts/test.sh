#!/usr/bin/env bash
# Every test of anchorage, with its own set-up on a fresh machine:
#   unit tests (common), API integration tests (server, real HTTP + SQLite),
#   the wasm check of common, and the Playwright suite in Debian's Chromium
#   against the real server and the built console.
# .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "==> toolchain and console build"
scripts/build-app.sh

echo "==> common compiles to wasm"
cargo check -q -p anchorage-common --target wasm32-unknown-unknown

echo "==> unit and API integration tests"
cargo test -p anchorage-common -p anchorage-server

echo "==> browser tests"
cargo build -q -p anchorage-server
scripts/setup-browser.sh
ANCHORAGE_BIN="$PWD/target/debug/anchorage" end2end/run.sh
