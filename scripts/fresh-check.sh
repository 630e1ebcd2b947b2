#!/usr/bin/env bash
# The fresh-machine check: clones the current commit (HEAD; uncommitted changes are not part of
# it) into a temporary folder and runs the README's two commands there, as a new user would:
#   1. scripts/test.sh, every test;
#   2. scripts/run.sh, on free ports and a data folder of its own, until the console answers;
#      then it is stopped.
# The clone starts with an empty tool folder (target/tools: no wasm-bindgen, no wasm-split), no
# node_modules and an empty npm cache, so every install step of the scripts runs. Debian's
# packages and rustup's toolchain are the machine's: the check says which of the packages the
# scripts install were already there (only on a machine without them is that path exercised).
# Prints how long each step took (docs/benchmarks.md, "Fresh machine").
#
# Usage: scripts/fresh-check.sh [--cold-cargo] [--no-postgres] [--keep] [--only test|run]
#   --cold-cargo   an empty CARGO_HOME too: every crate is downloaded again (slower)
#   --no-postgres  as on a machine without a PostgreSQL server: test.sh starts a throwaway
#                  cluster for the API suite's PostgreSQL run (ANCHORAGE_TEST_POSTGRES_THROWAWAY=1)
#   --keep         keep the temporary folder (its path is printed)
#   --only X       run only one of the two commands
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cold_cargo=0 keep=0 only=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --cold-cargo) cold_cargo=1 ;;
        --keep) keep=1 ;;
        --no-postgres) export ANCHORAGE_TEST_POSTGRES_THROWAWAY=1 ;;
        --only)
            only="${2:-}"
            shift
            [[ "$only" == test || "$only" == run ]] || die "--only takes test or run"
            ;;
        -h | --help)
            sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

commit="$(git -C "$ANCHORAGE_ROOT" rev-parse HEAD)"
[[ -z "$(git -C "$ANCHORAGE_ROOT" status --porcelain)" ]] ||
    echo "note: the work tree has uncommitted changes; the check runs the commit ${commit:0:12} without them" >&2

tmp="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-fresh.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill -TERM -- "-$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ "$keep" == 1 ]]; then
        echo "kept: $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

timings=()
record() { timings+=("$(printf '%-60s %6ss' "$1" "$2")"); }
total_start=$SECONDS

step "clone of $commit into $tmp/anchorage"
git clone --quiet --no-hardlinks "$ANCHORAGE_ROOT" "$tmp/anchorage"
git -C "$tmp/anchorage" checkout --quiet --detach "$commit"
cd "$tmp/anchorage"

# A clean environment: an empty npm cache, no tool folder or build settings from outside (the
# original checkout's tool folder, which lib.sh put on PATH, is taken off it again).
export npm_config_cache="$tmp/npm-cache"
_path=":$PATH:"
_path="${_path//":$ANCHORAGE_TOOLS/bin:"/:}"
_path="${_path#:}"
export PATH="${_path%:}"
unset ANCHORAGE_TOOLS CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTFLAGS CARGO_ENCODED_RUSTFLAGS _path
export CI="${CI:-true}"
# The x509-limbo corpus is not in the repository: the clone's test run reads this checkout's.
if [[ -z "${ANCHORAGE_LIMBO:-}" ]]; then
    for dir in "$ANCHORAGE_ROOT" "$ANCHORAGE_ROOT/.." "$ANCHORAGE_ROOT/../.."; do
        if [[ -f "$dir/shared/testdata/x509-limbo/limbo.json.gz" ]]; then
            ANCHORAGE_LIMBO="$(cd "$dir" && pwd)/shared/testdata/x509-limbo/limbo.json.gz"
            export ANCHORAGE_LIMBO
            break
        fi
    done
fi
if [[ "$cold_cargo" == 1 ]]; then
    export CARGO_HOME="$tmp/cargo-home"
fi
[[ ! -e target/tools ]] || die "the clone has a tool folder already"

present=()
for p in chromium zopfli brotli; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && present+=("$p")
done
if [[ ${#present[@]} -gt 0 ]]; then
    echo "note: Debian's ${present[*]} already installed on this machine: their install step is not exercised"
fi

if [[ "$only" != run ]]; then
    step "README command 2: scripts/test.sh"
    t=$SECONDS
    scripts/test.sh 2>&1 | tee "$tmp/test.log"
    record "scripts/test.sh (set-up and every test)" "$((SECONDS - t))"
    grep -q 'installing wasm-bindgen-cli' "$tmp/test.log" || die "test.sh did not install wasm-bindgen into the tool folder"
fi

if [[ "$only" != test ]]; then
    step "README command 1: scripts/run.sh, until the console answers"
    port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    device_port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    t=$SECONDS
    # A process group of its own, so that the build and the server stop together.
    ANCHORAGE_ADMIN_PASSWORD="fresh-check-password" setsid scripts/run.sh --listen "127.0.0.1:$port" \
        --device-listen "127.0.0.1:$device_port" --data-dir "$tmp/data" >"$tmp/run.log" 2>&1 &
    server_pid=$!
    until [[ "$(curl -fsS "http://127.0.0.1:$port/" 2>/dev/null || true)" == *"<html"* ]]; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$tmp/run.log" >&2
            die "scripts/run.sh stopped before the console answered"
        fi
        if ((SECONDS - t > 1800)); then
            cat "$tmp/run.log" >&2
            die "the console did not answer within 30 minutes"
        fi
        sleep 1
    done
    record "scripts/run.sh until the console answers on :$port" "$((SECONDS - t))"
    curl -fsS -o /dev/null -w '    GET / -> %{http_code}\n' "http://127.0.0.1:$port/"
    curl -sS -o /dev/null -w '    GET /tenant/currentTenant (no credentials) -> %{http_code}\n' \
        "http://127.0.0.1:$port/tenant/currentTenant"
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
fi

record "whole check (clone included)" "$((SECONDS - total_start))"
step "fresh-machine check of ${commit:0:12} passed ($(nproc) cores)"
printf '    %s\n' "${timings[@]}"
