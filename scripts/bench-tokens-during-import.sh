#!/usr/bin/env bash
# Device-token latency while a 100,000-row bulk import runs (docs/benchmarks.md, "Device tokens
# during a bulk import"). Release builds; one anchorage on loopback ports with a fresh data
# folder; 64 devices of a test PKI asking for tokens over fresh mutual-TLS connections
# (anchorage-device bench, 8 clients) for a fixed time, first with nothing else running
# ("idle"), then again while 100,000-row certificate-device CSVs are uploaded one after the
# other for the whole run ("import", at most 10 files). Prints both bench reports
# (p50/p90/p99/max) and each import's time. Bounded: two runs of DURATION seconds each, loopback
# only.
#
# Usage: scripts/bench-tokens-during-import.sh [DURATION_SECONDS]   (default 20)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"
duration="${1:-20}"

step "release builds"
cargo build --release -q -p anchorage-server -p anchorage-device
bin=target/release

work="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-bench.XXXXXX")"
server=""
cleanup() {
    [[ -z "$server" ]] || kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start_anchorage "$work" "$bin/anchorage"

step "test PKI"
"$bin/anchorage-device" pki --out "$work/pki" --devices 64 >/dev/null
# csv K: 100,000 certificate devices with ids of their own.
csv() {
    echo "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME"
    seq -f "import-$1-%06g" 0 99999 | awk '{ print $1 ";CERTIFICATES;;c8y_Device;" $1 }'
}

bench() {
    "$bin/anchorage-device" bench --url "https://127.0.0.1:$device_port" --ca "$work/data/tls/ca.pem" \
        --pki "$work/pki" --admin-url "$api" --server-pid "$server" \
        --clients 8 --duration "$duration" "$@"
}

step "idle: tokens with nothing else running ($duration s; load average $(cut -d' ' -f1-3 /proc/loadavg))"
bench --upload-root

step "import: the same while 100,000-row CSVs are uploaded back to back (load average $(cut -d' ' -f1-3 /proc/loadavg))"
(
    for k in 1 2 3 4 5 6 7 8 9 10; do
        [[ -e "$work/bench.done" ]] && break
        csv "$k" >"$work/import.csv"
        start=$(date +%s.%N)
        status=$(curl -sS -o "$work/import.json" -w '%{http_code}' -u "t100/admin:$ANCHORAGE_ADMIN_PASSWORD" \
            -F "file=@$work/import.csv" "$api/devicecontrol/bulkNewDeviceRequests")
        end=$(date +%s.%N)
        awk -v k="$k" -v st="$status" -v s="$start" -v e="$end" -v c="$(grep -o '"numberOfCreated":[0-9]*' "$work/import.json")" \
            'BEGIN { printf "import %d: HTTP %s in %.2f s, %s\n", k, st, e - s, c }'
    done
) &
importer=$!
sleep 1
bench --no-warmup
touch "$work/bench.done"
wait "$importer"
