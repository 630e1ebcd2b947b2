#!/usr/bin/env bash
# Every test of anchorage, with its own set-up on a fresh machine (scripts/lib.sh):
#   the lints (rustfmt; clippy with -D warnings, on the host and for the wasm crates on the wasm
#   target), unit tests (common, app), API integration tests (server: real HTTP, mutual TLS),
#   once on SQLite and once on PostgreSQL (scripts/lib.sh, postgres_for_tests), the device client's tests against an in-process server, the wasm check of common,
#   the EST check with only openssl and curl (scripts/est-check.sh), and the Playwright suite in Debian's Chromium against the real server and the built console.
# .ci/run calls exactly this.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

started=$SECONDS
timed() {
    local label="$1" t=$SECONDS
    shift
    step "$label"
    "$@"
    printf '    (%s: %ss)\n' "$label" "$((SECONDS - t))"
}

# rustfmt and clippy are rustup components a minimal profile lacks.
rustup component add rustfmt clippy >/dev/null 2>&1 || rustup component add rustfmt clippy ||
    die "rustup could not add the rustfmt and clippy components"
timed "lint: rustfmt" cargo fmt --all --check
# A JDK for the test that checks common::dn against Java's X500Principal.
command -v javac >/dev/null 2>&1 || apt_install required default-jdk-headless
# Set-up and the console's build first: it installs the wasm32 target the wasm lints need.
timed "set-up and console build (includes: common compiles to wasm)" scripts/build-app.sh
timed "lint: clippy (host, every crate and target)" cargo clippy --quiet --workspace --all-targets -- -D warnings
timed "lint: clippy (wasm32: common and the console)" \
    cargo clippy --quiet -p anchorage-common -p anchorage-app --lib --bins --target wasm32-unknown-unknown -- -D warnings
# (server/tests/limbo.rs runs x509-limbo through anchorage's decision when the corpus is there:
# $ANCHORAGE_LIMBO, or shared/testdata above the repository; it writes target/limbo-report.md.)
rm -f target/limbo-report.md
timed "unit and API integration tests (the API suite on SQLite; x509-limbo)" \
    cargo test -p anchorage-common -p anchorage-server -p anchorage-device -p anchorage-app
if [[ -f target/limbo-report.md ]]; then
    sed -n '/^| \*\*compared/,/^| wrongly refused/p' target/limbo-report.md
else
    echo "x509-limbo: the corpus was not found, so its cases did not run (docs/reliability.md)"
fi
trap stop_throwaway_postgres EXIT
timed "PostgreSQL for the API suite's second run" postgres_for_tests
drop_stale_test_databases
timed "API integration tests on PostgreSQL (a database of their own per test)" \
    cargo test -p anchorage-server --test api
timed "server and device tool build for the outside checks" cargo build -q -p anchorage-server -p anchorage-device
timed "EST outside check (openssl and curl only)" scripts/est-check.sh "$PWD/target/debug/anchorage"
timed "browser tests" env ANCHORAGE_BIN="$PWD/target/debug/anchorage" \
    ANCHORAGE_DEVICE_BIN="$PWD/target/debug/anchorage-device" end2end/run.sh
printf '==> all tests passed in %ss\n' "$((SECONDS - started))"
