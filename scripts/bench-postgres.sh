#!/usr/bin/env bash
# Device tokens and bulk registration on PostgreSQL against SQLite, and two instances against
# one (docs/benchmarks.md, "Device tokens and bulk registration on PostgreSQL"). Release builds;
# loopback only; the PostgreSQL of the API suite's run (scripts/lib.sh, postgres_for_tests: the
# one named by ANCHORAGE_TEST_POSTGRES_URL, the machine's, or a throwaway cluster), with a fresh
# database for this run, dropped at the end. In one invocation, in this order:
#   sqlite     one instance on its SQLite file: tokens (8 clients, DURATION s), then one
#              100,000-row certificate-device CSV;
#   postgres   one instance on PostgreSQL: the same;
#   postgres×2 two instances on that database (the same secret key and device certificate),
#              4 clients on each, DURATION s at once: summed tokens/s and each one's CPU per
#              token.
# Each token run uses the same 64 devices of a test PKI over fresh mutual-TLS connections
# (anchorage-device bench).
#
# Usage: scripts/bench-postgres.sh [DURATION_SECONDS]   (default 20)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"
duration="${1:-20}"

step "release builds"
cargo build --release -q -p anchorage-server -p anchorage-device
bin=target/release

work="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-bench.XXXXXX")"
pids=()
database=""
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "$database" ]]; then
        psql "$ANCHORAGE_TEST_POSTGRES_URL" -XAtqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    stop_throwaway_postgres
    rm -rf "$work"
}
trap cleanup EXIT

step "PostgreSQL"
postgres_for_tests
database="anchorage_bench_$$"
psql "$ANCHORAGE_TEST_POSTGRES_URL" -XAtqc "CREATE DATABASE $database" >/dev/null
pg_url="${ANCHORAGE_TEST_POSTGRES_URL%/*}/$database"
psql "$pg_url" -XAtqc "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit')"

"$bin/anchorage-device" pki --out "$work/pki" --devices 64 >/dev/null
echo "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME" >"$work/bulk-head.csv"

# bench_tokens LABEL URL CA API PID CLIENTS [more bench flags]
bench_tokens() {
    local label="$1" url="$2" ca="$3" api_url="$4" pid="$5" clients="$6"
    shift 6
    "$bin/anchorage-device" bench --url "$url" --ca "$ca" --pki "$work/pki" --admin-url "$api_url" \
        --server-pid "$pid" --clients "$clients" --duration "$duration" "$@" >"$work/$label.txt"
    grep -E "^(tokens/s|latency p50|latency p99|server CPU per token|client CPU per token)" "$work/$label.txt" |
        sed "s/^/$label: /"
}

# bulk LABEL API: one 100,000-row CSV of fresh ids; prints its wall time.
bulk() {
    local label="$1" api_url="$2"
    { cat "$work/bulk-head.csv"; seq -f "$label-%06g" 0 99999 | awk '{ print $1 ";CERTIFICATES;;c8y_Device;" $1 }'; } >"$work/bulk.csv"
    local start end status
    start=$(date +%s.%N)
    status=$(curl -sS -o "$work/bulk.json" -w '%{http_code}' -u "t100/admin:$ANCHORAGE_ADMIN_PASSWORD" \
        -F "file=@$work/bulk.csv" "$api_url/devicecontrol/bulkNewDeviceRequests")
    end=$(date +%s.%N)
    awk -v l="$label" -v st="$status" -v s="$start" -v e="$end" -v c="$(grep -o '"numberOfCreated":[0-9]*' "$work/bulk.json")" \
        'BEGIN { printf "%s: bulk registration of 100,000 rows: HTTP %s in %.2f s, %s\n", l, st, e - s, c }'
}

# run_one LABEL: one instance (the database from ANCHORAGE_DATABASE_URL, or its SQLite file).
run_one() {
    local label="$1"
    mkdir -p "$work/$label"
    start_anchorage "$work/$label" "$bin/anchorage"
    pids+=("$server")
    step "$label: tokens, one instance, 8 clients, $duration s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    bench_tokens "$label" "https://127.0.0.1:$device_port" "$work/$label/data/tls/ca.pem" "$api" "$server" 8 --upload-root
    step "$label: bulk registration"
    bulk "$label" "$api"
    kill "$server"
    wait "$server" 2>/dev/null || true
}

run_one sqlite
ANCHORAGE_DATABASE_URL="$pg_url" run_one postgres

step "postgres×2: two instances on one database, 4 clients each, $duration s at once"
mkdir -p "$work/b"
export ANCHORAGE_DATABASE_URL="$pg_url"
# The first instance is the postgres run's again (its data folder holds the secret key that
# sealed the database's signing key, and the device certificate); the second shares both.
start_anchorage "$work/postgres" "$bin/anchorage"
a_pid=$server a_device=$device_port a_api=$api
pids+=("$a_pid")
ANCHORAGE_SECRET_KEY_FILE="$work/postgres/data/secret.key" ANCHORAGE_TLS_CERT="$work/postgres/data/tls/server.pem" \
    ANCHORAGE_TLS_KEY="$work/postgres/data/tls/server-key.pem" start_anchorage "$work/b" "$bin/anchorage"
b_pid=$server b_device=$device_port b_api=$api
pids+=("$b_pid")
ca="$work/postgres/data/tls/ca.pem"
# Warm-up on both (the root is trusted already: the postgres run uploaded it).
bench_tokens "a" "https://127.0.0.1:$a_device" "$ca" "$a_api" "$a_pid" 4 &
first=$!
bench_tokens "b" "https://127.0.0.1:$b_device" "$ca" "$b_api" "$b_pid" 4
wait "$first"
awk '/^tokens\/s/ { sum += $2 } END { printf "postgres×2: %.1f tokens/s in all\n", sum }' "$work/a.txt" "$work/b.txt"

step "summary"
for f in sqlite postgres a b; do
    printf '%-10s %s tokens/s, server CPU per token %s\n' "$f" \
        "$(awk '/^tokens\/s/ { print $2 }' "$work/$f.txt")" \
        "$(awk '/^server CPU per token/ { print $5, $6 }' "$work/$f.txt")"
done
