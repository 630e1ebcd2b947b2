# Shared by the scripts (sourced, not run): where set-up puts the tools it installs, and how it
# installs them. Everything here is idempotent and runs without a TTY (CI=true).
#
# - Host tools from crates.io are installed into the checkout's own tool folder, target/tools
#   (bin/ first on PATH), never into ~/.cargo/bin: a clean clone installs them afresh, so a
#   broken install step fails the very next CI run instead of hiding behind a developer's copy.
#   A tool already there at the pinned version is reused.
# - They are installed in a clean environment: a RUSTFLAGS (or target) meant for the console's
#   wasm build would otherwise reach the host linker (`cc: unrecognized command-line option
#   '--emit-relocs'`).
# - Debian's packages: `apt-get update` once before the first install; a required package that
#   cannot be installed stops with a message and a non-zero exit, an optional one only warns.

# The checkout's root (this file lives in scripts/).
ANCHORAGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The checkout's tool folder. Not under CARGO_TARGET_DIR: it belongs to this checkout.
ANCHORAGE_TOOLS="${ANCHORAGE_TOOLS:-$ANCHORAGE_ROOT/target/tools}"
# First on PATH (moved to the front if it was elsewhere on it).
_path=":$PATH:"
_path="${_path//":$ANCHORAGE_TOOLS/bin:"/:}"
_path="${_path#:}"
export PATH="$ANCHORAGE_TOOLS/bin:${_path%:}"
unset _path

step() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command with none of the build settings the console's build exports.
clean_env() {
    env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u RUSTDOCFLAGS \
        -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET -u CARGO_BUILD_TARGET_DIR \
        -u CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL "$@"
}

# cargo_tool CRATE VERSION [cargo install arguments...]: CRATE at VERSION in the tool folder.
cargo_tool() {
    local crate="$1" version="$2"
    shift 2
    if clean_env cargo install --list --root "$ANCHORAGE_TOOLS" 2>/dev/null | grep -qx "$crate v$version:"; then
        return 0
    fi
    step "installing $crate $version into ${ANCHORAGE_TOOLS#"$ANCHORAGE_ROOT"/}"
    clean_env cargo install --quiet --root "$ANCHORAGE_TOOLS" "$crate" --version "$version" "$@" ||
        die "could not install $crate $version with cargo (see the output above)"
}

# The prefix that runs a command as root: nothing as root, else sudo without a prompt.
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        return 1
    fi
}

_apt_updated=""
# apt_install required|optional PACKAGE... : installs the Debian packages that are missing.
apt_install() {
    local need="$1" missing=() p
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        [[ "$need" == optional ]] && { echo "no apt-get: ${missing[*]} not installed (optional)" >&2; return 1; }
        die "${missing[*]} is needed and this machine has no apt-get: install it with your package manager"
    fi
    step "installing Debian's ${missing[*]}"
    local log
    log="$(mktemp)"
    if [[ -z "$_apt_updated" ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 && _apt_updated=1
    fi
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    if [[ "$need" == optional ]]; then
        echo "could not install ${missing[*]} (optional, carrying on without it): $(tail -n 3 "$log")" >&2
        rm -f "$log"
        return 1
    fi
    cat "$log" >&2
    rm -f "$log"
    die "could not install ${missing[*]} with apt-get (run as root, or with passwordless sudo, or install it yourself)"
}

# npm_ci DIR: the pinned npm packages of DIR (its package-lock.json), when node_modules is older.
npm_ci() {
    local dir="$1"
    command -v npm >/dev/null 2>&1 || die "npm is required (Node.js 20 or later with npm)"
    if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
        step "installing the npm packages of ${dir#"$ANCHORAGE_ROOT"/}"
        (cd "$dir" && clean_env npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# free_port: a free TCP port on 127.0.0.1 (python3, or node where there is no python3).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    else
        node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
    fi
}

# start_anchorage WORK BINARY: starts the anchorage BINARY in the background on two free
# loopback ports, with the data folder WORK/data, no console assets, RUST_LOG=warn and its
# output in WORK/server.log, and waits until its API answers (stops with the log if it exits
# first). The admin's password is ANCHORAGE_ADMIN_PASSWORD, exported as bench-password-1.
# Sets: server (its pid: the caller stops it), api_port, device_port, and api (the API's URL).
start_anchorage() {
    local work="$1" binary="$2"
    api_port="$(free_port)"
    device_port="$(free_port)"
    api="http://127.0.0.1:$api_port"
    export ANCHORAGE_ADMIN_PASSWORD=bench-password-1
    RUST_LOG=warn "$binary" --data-dir "$work/data" --listen "127.0.0.1:$api_port" \
        --device-listen "127.0.0.1:$device_port" --assets-dir "$work/none" >"$work/server.log" 2>&1 &
    server=$!
    until curl -s -o /dev/null "$api/tenant/currentTenant"; do
        kill -0 "$server" || { cat "$work/server.log"; die "anchorage did not start"; }
        sleep 0.2
    done
}

# tenant_option API USER KEY VALUE: sets the tenant option configuration/KEY to the JSON VALUE
# as the admin USER (<tenant>/<name>, password ANCHORAGE_ADMIN_PASSWORD) of the anchorage at API.
tenant_option() {
    curl -sS -o /dev/null -w '%{http_code}' -u "$2:$ANCHORAGE_ADMIN_PASSWORD" -X PUT \
        -H 'Content-Type: application/json' -d "{\"value\": $4}" "$1/tenant/options/configuration/$3" |
        grep -q 200 || die "setting $3 failed"
}

# revoke_serials API USER FIRST FILES WORK: adds FILES x 5,000 made-up serials (none of a test
# PKI's devices) to the tenant's offline revocation list, as CSV files of 5,000 rows (the
# platform's most a file) numbered FIRST, FIRST+1, … (each number its own serials), written in
# the folder WORK.
revoke_serials() {
    local api="$1" user="$2" first="$3" files="$4" work="$5" k status
    for ((k = first; k < first + files; k++)); do
        {
            echo "SERIALNO,DATE"
            seq 1 5000 | awk -v k="$k" '{ printf "%x%06x,\n", 0xA0000000 + k, $1 }'
        } >"$work/revoked.csv"
        status=$(curl -sS -o "$work/revoked.out" -w '%{http_code}' -u "$user:$ANCHORAGE_ADMIN_PASSWORD" -X PUT \
            -F "file=@$work/revoked.csv" "$api/tenant/trusted-certificates/settings/crl")
        [[ "$status" == 204 ]] || { cat "$work/revoked.out"; die "revocation list upload $k: HTTP $status"; }
    done
}

# The PostgreSQL server for the API suite's PostgreSQL run, exported as
# ANCHORAGE_TEST_POSTGRES_URL (a URL of any database of it; each test makes its own):
#   1. ANCHORAGE_TEST_POSTGRES_URL when it is set;
#   2. else the server on 127.0.0.1:5432 if it lets user postgres in without a password;
#   3. else a throwaway cluster of Debian's PostgreSQL (installed when missing) in a temporary
#      folder on a free port, stopped and removed by stop_throwaway_postgres.
# ANCHORAGE_TEST_POSTGRES_THROWAWAY=1 goes straight to 3 (how a machine without PostgreSQL is
# checked on one with it). Never "none": the PostgreSQL run is not skipped.
_pg_throwaway=""
_pg_given=""
postgres_for_tests() {
    if [[ "${ANCHORAGE_TEST_POSTGRES_THROWAWAY:-}" == 1 ]]; then
        :
    elif [[ -n "${ANCHORAGE_TEST_POSTGRES_URL:-}" ]]; then
        _pg_given=1
        echo "PostgreSQL: ANCHORAGE_TEST_POSTGRES_URL as given"
        return 0
    fi
    local url="postgres://postgres@127.0.0.1:5432/postgres"
    if [[ "${ANCHORAGE_TEST_POSTGRES_THROWAWAY:-}" != 1 ]] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
        command -v psql >/dev/null 2>&1 || apt_install required postgresql-client
        # -w: never prompt for a password (a server asking for one is not ours to use).
        if PGCONNECT_TIMEOUT=5 psql -w "$url" -XAtqc 'SELECT 1' >/dev/null 2>&1; then
            export ANCHORAGE_TEST_POSTGRES_URL="$url"
            echo "PostgreSQL: the server on 127.0.0.1:5432"
            return 0
        fi
        echo "PostgreSQL on 127.0.0.1:5432 does not let user postgres in; starting a throwaway cluster" >&2
    fi
    local bin
    bin="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
        apt_install required postgresql
        bin="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
        [[ -n "$bin" && -x "$bin/initdb" ]] || die "Debian's postgresql package installed no initdb"
    fi
    local dir port run_as=()
    dir="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-pg.XXXXXX")"
    port="$(free_port)"
    if [[ "$(id -u)" -eq 0 ]]; then
        # initdb and postgres refuse to run as root: as the postgres user (made by the package),
        # else nobody.
        local user=postgres
        id -u postgres >/dev/null 2>&1 || user=nobody
        chown "$user" "$dir"
        run_as=(runuser -u "$user" --)
    fi
    _pg_throwaway="$dir"
    "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || die "the throwaway PostgreSQL did not start: $(tail -n 5 "$dir/server.log")"
    export ANCHORAGE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "PostgreSQL: a throwaway cluster ($("$bin/postgres" --version)) on 127.0.0.1:$port in $dir"
}

# Stops and removes the cluster postgres_for_tests started, if any.
stop_throwaway_postgres() {
    [[ -n "$_pg_throwaway" ]] || return 0
    local bin run_as=()
    bin="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    [[ "$(id -u)" -eq 0 ]] && run_as=(runuser -u "$(stat -c %U "$_pg_throwaway")" --)
    "${run_as[@]}" "$bin/pg_ctl" -D "$_pg_throwaway/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$_pg_throwaway"
    _pg_throwaway=""
}

# Drops the databases that API test processes no longer running left on the PostgreSQL server
# of ANCHORAGE_TEST_POSTGRES_URL (each test drops its own; a killed run cannot). Their names
# carry the test process's id: anchorage_test_<pid>_<n>_<random>.
# Only on a server this machine started or owns: names of processes of another machine (a
# shared server) cannot be told apart, so a server named by ANCHORAGE_TEST_POSTGRES_URL is left
# alone, and so is anything when psql is missing.
drop_stale_test_databases() {
    [[ -z "${_pg_given:-}" ]] || return 0
    command -v psql >/dev/null 2>&1 || return 0
    local name pid names
    names="$(PGCONNECT_TIMEOUT=5 psql -w "$ANCHORAGE_TEST_POSTGRES_URL" -XAtqc \
        "SELECT datname FROM pg_database WHERE datname LIKE 'anchorage\_test\_%'" 2>/dev/null)" || return 0
    for name in $names; do
        pid="${name#anchorage_test_}"
        pid="${pid%%_*}"
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        # Alive, whoever runs it.
        [[ -d "/proc/$pid" ]] && continue
        PGCONNECT_TIMEOUT=5 psql -w "$ANCHORAGE_TEST_POSTGRES_URL" -XAtqc \
            "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
