#!/usr/bin/env bash
# Every test of anchorage, with its own set-up on a fresh machine:
#   unit tests (common, app), API integration tests (server: real HTTP, mutual TLS, SQLite),
#   the device client's tests against an in-process server,
#   the wasm check of common, and the Playwright suite in Debian's Chromium
#   against the real server and the built console.
# .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "==> toolchain and console build (includes: common compiles to wasm)"
scripts/build-app.sh

echo "==> unit and API integration tests"
cargo test -p anchorage-common -p anchorage-server -p anchorage-device -p anchorage-app

echo "==> browser tests"
cargo build -q -p anchorage-server
scripts/setup-browser.sh
ANCHORAGE_BIN="$PWD/target/debug/anchorage" end2end/run.sh
