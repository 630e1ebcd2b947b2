#!/usr/bin/env bash
# One benchmark command (issue 18): anchorage measured beside its peers in the same run, the
# results written to docs/bench/latest.json and drawn as SVG plots in docs/bench/
# (scripts/bench-plot.py). docs/benchmarks.md ("One command") explains every figure.
#
# What it measures, each target in the same rounds, one after the other (interleaved, so that
# other load on the machine falls on all of them alike), with the load average recorded:
#   1. device tokens over fresh mutual-TLS connections, ECDSA P-256 devices, then RSA 2048:
#      anchorage; the bare rustls server of anchorage-device (the limit); nginx from Debian's
#      packages with `ssl_verify_client on` against the same device root, answering a fixed
#      token (the server a user would put in front of a service). The same load tool
#      (`anchorage-device bench`) for all three.
#   2. the server's CPU instructions per token request, anchorage and the bare rustls server
#      (`anchorage-device baseline`), each under `valgrind --tool=callgrind` for two fixed
#      numbers of requests: the difference of the totals over the difference of the counts, so
#      that start-up and shutdown cancel out (stable on a noisy machine);
#   3. the token rate with the offline revocation check on, against the number of revoked
#      serials (0, 10,000, 100,000; --quick: 0 and 10,000), each beside bare rustls;
#   4. the token rate against the number of trusted CAs: 1, 1,000, 10,000, 100,000 (--quick:
#      1 and 1,000), each beside the bare rustls server measured in the same round;
#   5. the server: binary size, RSS idle and after every token of the run; bulk registration
#      of 100,000 and 1,000,000 certificate devices (--quick: 100,000): time and peak RSS;
#   6. the console: its first load as served, gzip and brotli (scripts/app-size.sh on the built
#      site; built with scripts/build-app.sh when there is none); in headless Chromium
#      (end2end/bench, Playwright): the bulk preview against PapaParse at 1,000 to 1,000,000
#      rows (--quick: up to 100,000), time and the tab's peak memory, and the time to
#      interactive and memory of the login page and of the trusted-certificates page with
#      2,000 rows (median of 9; --quick: 3).
#
# Usage: scripts/bench.sh [--quick]
#   --quick   2-second runs, 1 round, fewer and smaller steps: under 3 minutes once built.
# Needs: Debian's nginx and valgrind (installed when missing), Chromium and the end2end npm
# packages (scripts/setup-browser.sh), openssl, python3, curl.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"

quick=0
case "${1:-}" in
    --quick) quick=1 ;;
    "") ;;
    -h | --help)
        sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument: $1 (see --help)" ;;
esac
if [[ "$quick" == 1 ]]; then
    duration=2 rounds=1 clients=16 devices=32 ca_steps=(1000) revoked_steps=(10000) cg_counts=(10 40)
    bulk_steps=(100000) preview_rows=1000,10000,100000 preview_runs=1 tti_runs=3
else
    duration=10 rounds=3 clients=16 devices=64 ca_steps=(1000 10000 100000) revoked_steps=(10000 100000)
    cg_counts=(50 250) bulk_steps=(100000 1000000) preview_rows=1000,10000,100000,1000000 preview_runs=5 tti_runs=9
fi
started="$(date +%s)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

step "release builds (anchorage, anchorage-device)"
cargo build --release -q -p anchorage-server -p anchorage-device
bin=target/release
command -v nginx >/dev/null 2>&1 || apt_install required nginx
command -v openssl >/dev/null 2>&1 || apt_install required openssl
command -v python3 >/dev/null 2>&1 || apt_install required python3
command -v valgrind >/dev/null 2>&1 || apt_install required valgrind
scripts/setup-browser.sh
if [[ ! -f target/site/index.html ]]; then
    step "console build (for its first-load size)"
    scripts/build-app.sh >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-bench.XXXXXX")"
server="" nginx_pid=""
cleanup() {
    [[ -z "$nginx_pid" ]] || kill "$nginx_pid" 2>/dev/null || true
    [[ -z "$server" ]] || kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# rss_kb PID [FIELD]: the process's resident set (or FIELD of /proc/PID/status, e.g. VmHWM, the
# peak), KiB.
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"; }

step "device PKIs: $devices ECDSA P-256 and $devices RSA 2048 devices"
"$bin/anchorage-device" pki --out "$work/pki-ec" --root-cn "bench EC root" --devices "$devices" --prefix ec- \
    --p12-password bench >/dev/null
"$bin/anchorage-device" pki --out "$work/pki-rsa" --root-cn "bench RSA root" --devices "$devices" --prefix rsa- \
    --key-type rsa2048 --p12-password bench >/dev/null

step "anchorage (release, a fresh SQLite data folder)"
start_anchorage "$work" "$bin/anchorage"
sleep 2
idle_rss="$(rss_kb "$server")"
tenant="$(curl -s -u "admin:$ANCHORAGE_ADMIN_PASSWORD" "$api/tenant/currentTenant" | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')"

step "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') with ssl_verify_client on, answering a fixed token"
mkdir -p "$work/nginx/logs"
(
    cd "$work/nginx"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj '/CN=bench nginx CA' -addext basicConstraints=critical,CA:true 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
        -subj '/CN=127.0.0.1' 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 2 -extfile ext.cnf -out server.pem 2>/dev/null
    cat "$work/pki-ec/root.pem" "$work/pki-rsa/root.pem" >clients.pem
) || die "openssl could not make nginx's certificates"
nginx_port="$(free_port)"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $work/nginx/server.pem;
        ssl_certificate_key $work/nginx/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_client_certificate $work/nginx/clients.pem;
        ssl_verify_client on;
        ssl_verify_depth 3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location = /devicecontrol/deviceAccessToken {
            default_type application/json;
            return 200 '{"accessToken":"nginx"}';
        }
    }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
until curl -s -o /dev/null -k "https://127.0.0.1:$nginx_port/"; do
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$work/nginx/logs/error.log"; die "nginx did not start"; }
    sleep 0.2
done

bench() {
    "$bin/anchorage-device" bench --url "https://127.0.0.1:$device_port" --ca "$work/data/tls/ca.pem" \
        --admin-url "$api" --admin-user "$tenant/admin" --server-pid "$server" \
        --clients "$clients" --duration "$duration" --rounds "$rounds" "$@"
}

step "device tokens, ECDSA P-256: anchorage, bare rustls, nginx ($rounds round(s) of ${duration}s each)"
bench --pki "$work/pki-ec" --upload-root --baseline --peer "nginx=https://127.0.0.1:$nginx_port" \
    --peer-ca "$work/nginx/ca.pem" --json "$work/tokens-ecdsa.json"
step "device tokens, RSA 2048: anchorage, bare rustls, nginx"
bench --pki "$work/pki-rsa" --upload-root --baseline --peer "nginx=https://127.0.0.1:$nginx_port" \
    --peer-ca "$work/nginx/ca.pem" --json "$work/tokens-rsa.json"
after_rss="$(rss_kb "$server")"
issued="$(python3 -c 'import json,sys
n = 0
for f in sys.argv[1:]:
    for p in json.load(open(f))["phases"]:
        n += sum(t["tokens"] for t in p["targets"] if t["label"].startswith("anchorage"))
print(n)' "$work/tokens-ecdsa.json" "$work/tokens-rsa.json")"

step "CPU instructions per token request under callgrind: ${cg_counts[*]} requests, anchorage and bare rustls"
# callgrind_total OUT N URL CA -- COMMAND…: runs COMMAND under callgrind, makes N token requests
# to URL (ECDSA devices, 2 clients, fresh mutual-TLS connections, CA the server's), stops it
# with SIGTERM and prints the instructions counted in all its threads.
callgrind_total() {
    local out="$1" n="$2" url="$3" ca="$4" pid
    shift 5
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$out.log" 2>&1 &
    pid=$!
    # This runs in a command substitution: a failure below ends only it, so the server under
    # valgrind is stopped here, not by the script's cleanup (which does not know it).
    trap 'kill "$pid" 2>/dev/null || true' EXIT
    until [[ -s "$ca" ]] && (exec 3<>"/dev/tcp/127.0.0.1/${url##*:}") 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$out.log" >&2; die "$1 did not start under valgrind"; }
        sleep 1
    done
    "$bin/anchorage-device" bench --url "$url" --ca "$ca" --pki "$work/pki-ec" --clients 2 --duration 3600 \
        --max-requests "$n" --no-warmup --json "$out.json" >"$out.bench" 2>&1 ||
        { kill "$pid"; cat "$out.bench" >&2; die "the requests under callgrind failed"; }
    kill -TERM "$pid"
    wait "$pid" || true
    python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["phases"][0]["targets"][0]
sys.exit(0 if t["tokens"] == int(sys.argv[2]) else "only %d of %s requests got a token: %s" % (t["tokens"], sys.argv[2], t["errors"]))' \
        "$out.json" "$n" >&2 || die "requests under callgrind failed"
    total="$(awk '$1 == "totals:" { print $2 }' "$out")"
    [[ "$total" =~ ^[0-9]+$ ]] || die "no instruction total in $out"
    echo "$total"
}
kill "$server"
wait "$server" 2>/dev/null || true
server=""
mkdir -p "$work/cg"
export RUST_LOG=warn
cg_api="$(free_port)" cg_device="$(free_port)" cg_baseline="$(free_port)"
cg_results=()
for n in "${cg_counts[@]}"; do
    total="$(callgrind_total "$work/cg/anchorage-$n" "$n" "https://127.0.0.1:$cg_device" "$work/data/tls/ca.pem" -- \
        "$bin/anchorage" --data-dir "$work/data" --listen "127.0.0.1:$cg_api" --device-listen "127.0.0.1:$cg_device" \
        --assets-dir "$work/none")"
    cg_results+=("anchorage $n $total")
    total="$(callgrind_total "$work/cg/baseline-$n" "$n" "https://127.0.0.1:$cg_baseline" "$work/cg/baseline-$n.ca.pem" -- \
        "$bin/anchorage-device" baseline --pki "$work/pki-ec" --port "$cg_baseline" --ca-out "$work/cg/baseline-$n.ca.pem")"
    cg_results+=("baseline $n $total")
done
printf '%s\n' "${cg_results[@]}" >"$work/callgrind.txt"
start_anchorage "$work" "$bin/anchorage"

step "device tokens with the offline revocation check on: 0 revoked serials (beside bare rustls)"
tenant_option "$api" "$tenant/admin" crl.offline.check.enabled true
bench --pki "$work/pki-ec" --baseline --json "$work/revoked-0.json"
have=0
for target_count in "${revoked_steps[@]}"; do
    step "device tokens with $target_count revoked serials in the tenant's list (beside bare rustls)"
    revoke_serials "$api" "$tenant/admin" $((have / 5000)) $(((target_count - have) / 5000)) "$work"
    bench --pki "$work/pki-ec" --baseline --json "$work/revoked-$target_count.json"
    have="$target_count"
done
tenant_option "$api" "$tenant/admin" crl.offline.check.enabled false

# The tenant trusts the two device roots now; each step uploads unrelated CAs up to the count.
have=2
for target_count in "${ca_steps[@]}"; do
    step "device tokens with $target_count trusted CAs (beside bare rustls)"
    bench --pki "$work/pki-ec" --baseline --extra-cas $((target_count - have)) --json "$work/cas-$target_count.json"
    have="$target_count"
done
final_rss="$(rss_kb "$server")"

: >"$work/bulk.txt"
for rows in "${bulk_steps[@]}"; do
    step "bulk registration of $rows certificate devices (time, the server's peak RSS)"
    {
        echo "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME"
        seq -f "bulk-$rows-%07g" 0 $((rows - 1)) | awk '{ print $1 ";CERTIFICATES;;c8y_Device;" $1 }'
    } >"$work/bulk.csv"
    before="$(rss_kb "$server")"
    echo 5 >"/proc/$server/clear_refs" # the peak RSS starts again from now
    answer="$(curl -sS -o "$work/bulk.json" -w '%{http_code} %{time_total}' -u "$tenant/admin:$ANCHORAGE_ADMIN_PASSWORD" \
        -F "file=@$work/bulk.csv" "$api/devicecontrol/bulkNewDeviceRequests")"
    [[ "${answer%% *}" == 201 ]] || { cat "$work/bulk.json"; die "bulk registration of $rows rows: HTTP ${answer%% *}"; }
    python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["numberOfCreated"] != int(sys.argv[2]))' \
        "$work/bulk.json" "$rows" || { head -c 2000 "$work/bulk.json"; die "not every row of $rows was registered"; }
    echo "$rows $(stat -c %s "$work/bulk.csv") ${answer#* } $before $(rss_kb "$server" VmHWM) $(rss_kb "$server")" >>"$work/bulk.txt"
    cp "$work/bulk.json" "$work/bulk-$rows.json"
done
kill "$server" "$nginx_pid"
wait "$server" "$nginx_pid" 2>/dev/null || true
server="" nginx_pid=""

step "the console in Chromium: bulk preview against PapaParse ($preview_rows rows), time to interactive"
(
    cd end2end
    ANCHORAGE_BIN="$ANCHORAGE_ROOT/$bin/anchorage" ANCHORAGE_DEVICE_BIN="$ANCHORAGE_ROOT/$bin/anchorage-device" \
        BENCH_JSON="$work/browser.json" BENCH_ROWS="$preview_rows" BENCH_RUNS="$preview_runs" BENCH_TTI_RUNS="$tti_runs" \
        npx playwright test --config bench.config.ts --reporter=list
)

step "results"
mkdir -p docs/bench
python3 - "$work" "$quick" "$idle_rss" "$after_rss" "$final_rss" "$issued" "$load_start" "$started" \
    "$(stat -c %s "$bin/anchorage")" "$(git rev-parse --short=12 HEAD)" "${ca_steps[*]}" "${revoked_steps[*]}" <<'EOF'
import json, os, subprocess, sys, time
work, quick, idle, after, final, issued, load_start, started, size, commit, steps, revoked_steps = sys.argv[1:]
load = lambda f: json.load(open(os.path.join(work, f)))
def rates(doc, phase):
    return {t["label"].split(",")[0]: t for t in doc["phases"][phase]["targets"]}
tokens = {}
for kind in ("ecdsa", "rsa"):
    doc = load(f"tokens-{kind}.json")
    r = rates(doc, -1)
    a, b, n = r["anchorage"], r["baseline"], r["nginx"]
    tokens[kind] = {
        "anchorage": a, "bareRustls": b, "nginx": n,
        "shareOfBareRustls": a["tokensPerSecond"] / b["tokensPerSecond"] if b["tokensPerSecond"] else None,
        "timesNginx": a["tokensPerSecond"] / n["tokensPerSecond"] if n["tokensPerSecond"] else None,
    }
cas = []
first = load(f"cas-{steps.split()[0]}.json")
r = rates(first, 0)
cas.append({"trustedCas": 2, "anchorage": r["anchorage"]["tokensPerSecond"], "bareRustls": r["baseline"]["tokensPerSecond"]})
for n in steps.split():
    r = rates(load(f"cas-{n}.json"), -1)
    cas.append({"trustedCas": int(n), "anchorage": r["anchorage"]["tokensPerSecond"], "bareRustls": r["baseline"]["tokensPerSecond"]})
for c in cas:
    c["shareOfBareRustls"] = c["anchorage"] / c["bareRustls"] if c["bareRustls"] else None
base = cas[0]["shareOfBareRustls"]
for c in cas:
    c["relativeToFewest"] = c["shareOfBareRustls"] / base if base and c["shareOfBareRustls"] else None
revoked = []
for n in [0] + [int(x) for x in revoked_steps.split()]:
    r = rates(load(f"revoked-{n}.json"), -1)
    a, b = r["anchorage"]["tokensPerSecond"], r["baseline"]["tokensPerSecond"]
    revoked.append({"revokedSerials": n, "anchorage": a, "bareRustls": b, "shareOfBareRustls": a / b if b else None})
for c in revoked:
    c["relativeToNone"] = c["shareOfBareRustls"] / revoked[0]["shareOfBareRustls"] if revoked[0]["shareOfBareRustls"] else None
cg = {}
for line in open(os.path.join(work, "callgrind.txt")):
    who, n, total = line.split()
    cg.setdefault(who, []).append((int(n), int(total)))
def per_request(runs):
    (n1, t1), (n2, t2) = sorted(runs)
    return (t2 - t1) / (n2 - n1)
instructions = {
    "requests": [n for n, _ in sorted(cg["anchorage"])],
    "totals": {k: [t for _, t in sorted(v)] for k, v in cg.items()},
    "anchorage": per_request(cg["anchorage"]),
    "bareRustls": per_request(cg["baseline"]),
}
instructions["timesBareRustls"] = instructions["anchorage"] / instructions["bareRustls"]
bulk = []
for line in open(os.path.join(work, "bulk.txt")):
    b_rows, b_bytes, b_seconds, b_before, b_peak, b_after = line.split()
    answer = load(f"bulk-{b_rows}.json")
    bulk.append({"rows": int(b_rows), "bytes": int(b_bytes), "seconds": float(b_seconds),
                 "created": answer.get("numberOfCreated"), "failed": answer.get("numberOfFailed"),
                 "rssBeforeKiB": int(b_before), "peakRssKiB": int(b_peak), "rssAfterKiB": int(b_after)})
browser = load("browser.json") if os.path.exists(os.path.join(work, "browser.json")) else {}
console = {}
try:
    out = subprocess.run(["scripts/app-size.sh"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("| **total**"):
            cells = [c.strip().strip("*").split(" ")[0] for c in line.strip("|").split("|")]
            console = {"firstLoadRawBytes": int(cells[1]), "firstLoadGzipBytes": int(cells[2])}
            if len(cells) > 3 and cells[3].isdigit():
                console["firstLoadBrotliBytes"] = int(cells[3])
            break
except Exception as e:
    console = {"error": str(e)}
if "console" in browser:
    console.update(browser["console"])
doc = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "commit": commit,
    "quick": quick == "1",
    "command": "scripts/bench.sh" + (" --quick" if quick == "1" else ""),
    "machine": {"cores": os.cpu_count(), "loadAverageAtStart": load_start,
                "loadAverageAtEnd": " ".join(open("/proc/loadavg").read().split()[:3])},
    "run": {"clients": first["clients"], "secondsPerRun": first["durationSeconds"], "rounds": first["rounds"],
            "devices": first["devices"], "wallSeconds": int(time.time()) - int(started)},
    "tokens": tokens,
    "instructionsPerToken": instructions,
    "revocation": revoked,
    "caScaling": cas,
    "bulkRegistration": bulk,
    "bulkPreview": browser.get("bulkPreview", []),
    "server": {"binaryBytes": int(size), "idleRssKiB": int(idle), "rssAfterTokensKiB": int(after),
               "tokensIssuedBefore": int(issued), "rssAtEndKiB": int(final)},
    "console": console,
    "goals": {"tokensShareOfBareRustls": 0.95, "tokensTimesNginx": 1.2, "mostCasRelativeToFewest": 0.9,
              "firstLoadBrotliBytes": 120 * 1024, "firstLoadGzipBytes": 145 * 1024, "idleRssKiB": 25 * 1024,
              "bulkPreviewTimesPapaParse": 1.5, "bulkPreviewMillionRowsMs": 2000, "bulkPreviewMemoryTimesFile": 3,
              "bulkRegistrationMillionRowsSeconds": 30, "timeToInteractiveMs": 300},
}
json.dump(doc, open("docs/bench/latest.json", "w"), indent=2)
print(json.dumps({k: doc[k] for k in ("tokens", "instructionsPerToken", "revocation", "caScaling", "server",
                                      "bulkRegistration", "bulkPreview", "console")}, indent=1)[:8000])
EOF
python3 scripts/bench-plot.py docs/bench/latest.json docs/bench
echo "wrote docs/bench/latest.json and docs/bench/*.svg in $(($(date +%s) - started)) s"
