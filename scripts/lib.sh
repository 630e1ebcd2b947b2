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
