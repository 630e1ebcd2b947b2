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
#   2. the token rate against the number of trusted CAs: 1, 1,000, 10,000, 100,000 (--quick:
#      1 and 1,000), each beside the bare rustls server measured in the same round;
#   3. the server: binary size, RSS idle and after every token of the run;
#   4. the console: its first load as served, gzip and brotli (scripts/app-size.sh on the built
#      site; built with scripts/build-app.sh when there is none).
# Not yet here (the JSON lists them under "notMeasured"): CPU instructions per token from
# callgrind, the bulk preview against PapaParse and server-side registration at 1,000,000
# rows, the console's time to interactive and memory.
#
# Usage: scripts/bench.sh [--quick]
#   --quick   2-second runs, 1 round, CA steps 1 and 1,000: under 3 minutes once built.
# Needs: Debian's nginx (installed when missing), openssl, python3, curl.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"

quick=0
case "${1:-}" in
    --quick) quick=1 ;;
    "") ;;
    -h | --help)
        sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument: $1 (see --help)" ;;
esac
if [[ "$quick" == 1 ]]; then
    duration=2 rounds=1 clients=16 devices=32 ca_steps=(1000)
else
    duration=10 rounds=3 clients=16 devices=64 ca_steps=(1000 10000 100000)
fi
started="$(date +%s)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

step "release builds (anchorage, anchorage-device)"
cargo build --release -q -p anchorage-server -p anchorage-device
bin=target/release
command -v nginx >/dev/null 2>&1 || apt_install required nginx
command -v openssl >/dev/null 2>&1 || apt_install required openssl
command -v python3 >/dev/null 2>&1 || apt_install required python3
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

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

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

# The tenant trusts the two device roots now; each step uploads unrelated CAs up to the count.
have=2
for target_count in "${ca_steps[@]}"; do
    step "device tokens with $target_count trusted CAs (beside bare rustls)"
    bench --pki "$work/pki-ec" --baseline --extra-cas $((target_count - have)) --json "$work/cas-$target_count.json"
    have="$target_count"
done
final_rss="$(rss_kb "$server")"

step "results"
mkdir -p docs/bench
python3 - "$work" "$quick" "$idle_rss" "$after_rss" "$final_rss" "$issued" "$load_start" "$started" \
    "$(stat -c %s "$bin/anchorage")" "$(git rev-parse --short=12 HEAD)" "${ca_steps[*]}" <<'EOF'
import json, os, subprocess, sys, time
work, quick, idle, after, final, issued, load_start, started, size, commit, steps = sys.argv[1:]
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
    "caScaling": cas,
    "server": {"binaryBytes": int(size), "idleRssKiB": int(idle), "rssAfterTokensKiB": int(after),
               "tokensIssuedBefore": int(issued), "rssAtEndKiB": int(final)},
    "console": console,
    "goals": {"tokensShareOfBareRustls": 0.95, "tokensTimesNginx": 1.2, "mostCasRelativeToFewest": 0.9,
              "firstLoadBrotliBytes": 120 * 1024, "firstLoadGzipBytes": 145 * 1024, "idleRssKiB": 25 * 1024},
    "notMeasured": ["CPU instructions per token (callgrind)", "bulk preview against PapaParse in Chromium",
                    "bulk registration of 100,000 and 1,000,000 rows", "console time to interactive and memory"],
}
json.dump(doc, open("docs/bench/latest.json", "w"), indent=2)
print(json.dumps({k: doc[k] for k in ("tokens", "caScaling", "server", "console")}, indent=1)[:4000])
EOF
python3 scripts/bench-plot.py docs/bench/latest.json docs/bench
echo "wrote docs/bench/latest.json and docs/bench/*.svg in $(($(date +%s) - started)) s"
