#!/usr/bin/env bash
# Load and slow clients (issue 17): a bounded run anyone can repeat, on the release build.
#
#   scripts/load.sh [--quick]
#
# 1. 200 concurrent devices for 60 s, each token request on a fresh mutual-TLS connection
#    (anchorage-device bench with a test PKI of 200 devices): requests, errors, p50/p99, and
#    the server's RSS before, during (every 2 s) and after.
# 2. 1,000 idle TCP connections to each listener for 30 s (python3 holds them open, sending
#    nothing), while a legitimate API call and a device token request are made every second:
#    how many succeed.
# 3. A burst of 40 wrong logins for one user from one address: how many are answered 401
#    and how many 429 (the login limiter, docs/decisions.md).
# --quick: 50 devices for 10 s, 200 idle connections for 5 s.
# Prints a summary; docs/reliability.md quotes it. Nothing else should run on the machine.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"

devices=200 duration=60 idle=1000 idle_seconds=30
if [[ "${1:-}" == --quick ]]; then
    devices=50 duration=10 idle=200 idle_seconds=5
fi

step "release builds"
cargo build --release -q -p anchorage-server -p anchorage-device
bin=target/release

work="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-load.XXXXXX")"
server="" sampler="" holder=""
cleanup() {
    for pid in "$sampler" "$holder" "$server"; do
        [[ -z "$pid" ]] || kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

start_anchorage "$work" "$bin/anchorage"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
"$bin/anchorage-device" pki --out "$work/pki" --devices "$devices" >/dev/null
ca="$work/data/tls/ca.pem"

rss_idle="$(rss)"
step "$devices devices for ${duration}s, a fresh mutual-TLS connection per token (load average $(cut -d' ' -f1-3 /proc/loadavg))"
(while kill -0 "$server" 2>/dev/null; do rss >>"$work/rss.txt"; sleep 2; done) &
sampler=$!
"$bin/anchorage-device" bench --url "https://127.0.0.1:$device_port" --ca "$ca" --pki "$work/pki" --upload-root \
    --admin-url "$api" --server-pid "$server" --clients "$devices" --duration "$duration" | tee "$work/bench.txt"
kill "$sampler" 2>/dev/null || true
sampler=""
rss_peak="$(sort -n "$work/rss.txt" | tail -1)"
sleep 5
rss_after="$(rss)"

step "$idle idle connections to each listener for ${idle_seconds}s, with legitimate calls every second"
python3 - "$api_port" "$device_port" "$idle" "$idle_seconds" >"$work/idle.txt" 2>&1 <<'EOF' &
import socket, sys, time
api, device, n, seconds = (int(a) for a in sys.argv[1:])
held = []
for port in (api, device):
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            held.append(s)
        except OSError as e:
            print("connect failed:", e)
            break
print("opened", len(held))
time.sleep(seconds)
closed = 0
for s in held:
    try:
        s.setblocking(False)
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print("closed by the server", closed)
EOF
holder=$!
sleep 2
api_ok=0 api_bad=0 token_ok=0 token_bad=0
device_cert="$(find "$work/pki" -maxdepth 1 -name 'dev-*.pem' | sort | head -1)"
device_key="${device_cert%.pem}.key"
for _ in $(seq 1 "$idle_seconds"); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "t100/admin:$ANCHORAGE_ADMIN_PASSWORD" "$api/tenant/currentTenant" || true)"
    if [[ "$code" == 200 ]]; then api_ok=$((api_ok + 1)); else api_bad=$((api_bad + 1)); fi
    if timeout 5 "$bin/anchorage-device" token --url "https://127.0.0.1:$device_port" --ca "$ca" \
        --cert "$device_cert" --key "$device_key" >/dev/null 2>&1; then
        token_ok=$((token_ok + 1))
    else
        token_bad=$((token_bad + 1))
    fi
    sleep 1
done
wait "$holder" || true
holder=""

step "a burst of 40 wrong logins"
declare -A codes=()
for _ in $(seq 1 40); do
    code="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
        --data 'grant_type=PASSWORD&username=admin&password=wrong-password' "$api/tenant/oauth?tenant_id=t100" || true)"
    codes[$code]=$((${codes[$code]:-0} + 1))
done
login_codes="$(for c in "${!codes[@]}"; do printf '%s×%s ' "${codes[$c]}" "$c"; done)"

echo
echo "== summary (load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
grep -E 'requests|errors|tokens/s|latency p50|latency p99' "$work/bench.txt" | sed 's/^/  /'
echo "  RSS: idle $(mb "$rss_idle"), peak during the run $(mb "$rss_peak"), 5 s after $(mb "$rss_after")"
sed 's/^/  idle flood: /' "$work/idle.txt"
echo "  during the flood: API calls $api_ok ok, $api_bad failed; device tokens $token_ok ok, $token_bad failed"
echo "  wrong logins: $login_codes"
