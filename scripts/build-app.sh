#!/usr/bin/env bash
# Builds the browser console into target/site/ (index.html, boot.js, style.css, favicon,
# pkg/anchorage_app{.js,_bg.wasm}, and the bulk-registration worker: bulk-worker.js,
# pkg/anchorage_bulk_worker{.js,_bg.wasm}), precompressed (.gz, and .br when `brotli` exists), and
# prints the size of the first load.
#
# Idempotent; needs rustup and cargo. Installs the wasm32 target and, if missing or of
# another version, the wasm-bindgen CLI matching Cargo.lock. Runs without a TTY (CI=true).
# Runs `wasm-opt -Oz` only if a binaryen >= 116 is on PATH (older ones break wasm-bindgen's
# output; never installed from here).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
site="target/site"
# Cargo's output, wherever CARGO_TARGET_DIR puts it.
target_dir="${CARGO_TARGET_DIR:-target}"
out="$target_dir/wasm32-unknown-unknown/wasm-release"

step() { printf '==> %s\n' "$*"; }

# Leptos erases the types of components and view children (`AnyView`) under this cfg: one
# monomorphisation per output type instead of one per closure, 24 KB less gzip on this console.
# Set for every wasm step here, so that the two cargo calls share one build.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"

step "wasm32 target"
rustup target add wasm32-unknown-unknown >/dev/null

step "anchorage-common compiles to wasm"
cargo check --quiet -p anchorage-common --target wasm32-unknown-unknown

step "wasm-bindgen CLI"
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [[ -z "$want" ]]; then
    echo "wasm-bindgen is not in Cargo.lock" >&2
    exit 1
fi
have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [[ "$have" != "$want" ]]; then
    step "installing wasm-bindgen-cli $want (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want"
fi

step "cargo build (wasm-release): the console"
cargo build -p anchorage-app --lib --target wasm32-unknown-unknown --profile wasm-release

# The bulk-registration worker is the CSV parser's hot loop, loaded only on that page: built
# for speed (opt-level 3: bulk::parse of 100,000 rows in Chromium 170 -> 118 ms, for 19 KB
# more gzip on that page), in a target directory of its own so both builds stay cached.
step "cargo build (wasm-release, opt-level 3): the bulk registration worker"
worker_target="$target_dir/wasm-worker"
CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=3 CARGO_TARGET_DIR="$worker_target" \
    cargo build -p anchorage-app --bin anchorage_bulk_worker --target wasm32-unknown-unknown --profile wasm-release

step "wasm-bindgen"
rm -rf "$site"
mkdir -p "$site/pkg"
for module in "$out/anchorage_app.wasm" "$worker_target/wasm32-unknown-unknown/wasm-release/anchorage_bulk_worker.wasm"; do
    wasm-bindgen --target web --remove-name-section --no-typescript --out-dir "$site/pkg" "$module"
done

# wasm-opt (binaryen 132, -Oz or -Os) was measured on this console: the wasm gets 15 % smaller
# but 10 % larger after gzip, which is what is downloaded; so it is not run.

step "static files"
cp -R public/. "$site/"
cp style/main.css "$site/style.css"

step "precompress"
have_brotli=0
command -v brotli >/dev/null 2>&1 && have_brotli=1
while IFS= read -r -d '' f; do
    gzip -9 -k -f -n "$f"
    if [[ "$have_brotli" == 1 ]]; then
        brotli -q 11 -k -f "$f"
    fi
done < <(find "$site" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) -print0)

"$root/scripts/app-size.sh"
