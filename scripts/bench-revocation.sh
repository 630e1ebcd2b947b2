#!/usr/bin/env bash
# Device-token rate with the revocation checks on (docs/benchmarks.md, "Device tokens with
# revocation checks"). Release builds; one anchorage on loopback ports with a fresh data folder;
# 64 devices of a test PKI whose certificates name a CRL distribution point served on loopback
# (python3's http.server) with a CRL of 1,000 revoked serials made by openssl from the test
# root. Four runs of DURATION seconds, each over fresh mutual-TLS connections (anchorage-device
# bench, 8 clients), in this order:
#   off      no check;
#   offline  the offline check on, 100,000 revoked serials in the tenant's list (none of the
#            benchmark's devices);
#   off      no check again (the baseline of the next run, and a measure of the noise);
#   online   the online check on, the CRL cached after the warm-up.
# Prints each bench report and the ratios of each checked run to the run before it.
#
# Usage: scripts/bench-revocation.sh [DURATION_SECONDS]   (default 20)
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
crl_server=""
cleanup() {
    [[ -z "$server" ]] || kill "$server" 2>/dev/null || true
    [[ -z "$crl_server" ]] || kill "$crl_server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start_anchorage "$work" "$bin/anchorage"
crl_port="$(free_port)"

step "test PKI with a CRL distribution point, and its CRL (1,000 revoked serials, openssl)"
"$bin/anchorage-device" pki --out "$work/pki" --devices 64 --crl-url "http://127.0.0.1:$crl_port/root.crl" >/dev/null
mkdir -p "$work/ca" "$work/crl"
: >"$work/ca/index.txt"
for i in $(seq 1 1000); do
    printf 'R\t301231235959Z\t250101000000Z\t%06X\tunknown\t/CN=revoked-%d\n' $((0xB00000 + i)) "$i" >>"$work/ca/index.txt"
done
cat >"$work/ca/openssl.cnf" <<EOF
[ ca ]
default_ca = bench
[ bench ]
database = $work/ca/index.txt
crlnumber = $work/ca/crlnumber
default_md = sha256
default_crl_days = 7
EOF
echo 01 >"$work/ca/crlnumber"
openssl ca -batch -config "$work/ca/openssl.cnf" -gencrl -keyfile "$work/pki/root.key" -cert "$work/pki/root.pem" \
    -out "$work/ca/root.crl.pem" 2>/dev/null
openssl crl -in "$work/ca/root.crl.pem" -outform DER -out "$work/crl/root.crl"
python3 -m http.server "$crl_port" --bind 127.0.0.1 --directory "$work/crl" >"$work/crl.log" 2>&1 &
crl_server=$!
until curl -s -o /dev/null "http://127.0.0.1:$crl_port/root.crl"; do sleep 0.2; done

reports="$work/reports"
bench() {
    local name="$1"
    shift
    step "$name ($duration s; load average $(cut -d' ' -f1-3 /proc/loadavg))"
    "$bin/anchorage-device" bench --url "https://127.0.0.1:$device_port" --ca "$work/data/tls/ca.pem" \
        --pki "$work/pki" --admin-url "$api" --server-pid "$server" \
        --clients 8 --duration "$duration" "$@" | tee "$work/$name.txt"
    echo "$name $(awk '$1 == "tokens/s" { print $2 }' "$work/$name.txt")" >>"$reports"
}

bench off --upload-root

step "100,000 revoked serials in the tenant's list (20 CSV files of 5,000)"
revoke_serials "$api" t100/admin 0 20 "$work"
tenant_option "$api" t100/admin crl.offline.check.enabled true
bench offline-100k
tenant_option "$api" t100/admin crl.offline.check.enabled false
bench off-again
tenant_option "$api" t100/admin crl.online.check.enabled true
bench online-cached
requests=$(grep -c 'GET /root.crl' "$work/crl.log" || true)
echo "CRL downloads during the online run (warm-up included): $requests"

step "token rate of each checked run against the run before it"
awk '{ rate[NR] = $2; name[NR] = $1 }
     END { printf "%-14s %10s\n", "run", "tokens/s";
           for (i = 1; i <= NR; i++) printf "%-14s %10.1f\n", name[i], rate[i];
           printf "offline-100k / off      %.1f %%\n", 100 * rate[2] / rate[1];
           printf "online-cached / off-again %.1f %%\n", 100 * rate[4] / rate[3] }' "$reports"
