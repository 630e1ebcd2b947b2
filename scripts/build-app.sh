#!/usr/bin/env bash
# Builds the browser console into target/site/ (index.html, boot.js, style.css, favicon,
# pkg/anchorage_app{.js,_bg.wasm} and the split-off chunks pkg/__wasm_split.js + pkg/*.wasm, and
# the bulk-registration worker: bulk-worker.js, bulk-reader.js, pkg/anchorage_bulk_worker{.js,_bg.wasm}),
# shrunk (the main module by scripts/wasm-shrink.mjs, the JS by terser), precompressed (.gz
# with zopfli, and .br when `brotli` exists), and prints the sizes (scripts/app-size.sh).
#
# Code splitting (docs/architecture.md, "The console's chunks"): the console is linked with
# relocations kept, `wasm-split-cli` moves the code reachable only from the split points of
# app/src/lazy.rs into chunks, and wasm-bindgen then processes the main module alone.
#
# Idempotent; needs rustup and cargo. Installs, before it exports any build flag: the wasm32
# target; into the checkout's tool folder target/tools (scripts/lib.sh), if missing or of
# another version, the wasm-bindgen CLI matching Cargo.lock and the pinned wasm-split CLI; with
# Node.js and npm, the pinned npm packages of scripts/wasm-tools/ (binaryen's JS build, terser);
# with apt-get, Debian's zopfli. Without Node.js or zopfli it still builds, with larger
# downloads. Runs without a TTY (CI=true).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root="$ANCHORAGE_ROOT"
cd "$root"
site="target/site"
# Cargo's output, wherever CARGO_TARGET_DIR puts it.
target_dir="${CARGO_TARGET_DIR:-target}"
out="$target_dir/wasm32-unknown-unknown/wasm-release"

# --- Set-up, before any build flag is exported (scripts/lib.sh installs in a clean environment).

# wasm_split_cli_support: the splitter cargo-leptos runs for `--split`, pinned (0.2.4 builds on
# rustc 1.95; its output must match wasm_split_helpers 0.2.x, which leptos 0.8 uses).
wasm_split_version="0.2.4"

step "wasm32 target"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown ||
    die "rustup could not add the wasm32-unknown-unknown target"

step "wasm-bindgen CLI (the version in Cargo.lock) and the wasm-split CLI, in ${ANCHORAGE_TOOLS#"$root"/}"
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[[ -n "$want" ]] || die "wasm-bindgen is not in Cargo.lock"
cargo_tool wasm-bindgen-cli "$want"
cargo_tool wasm_split_cli_support "$wasm_split_version" --locked --features build-binary
[[ "$(command -v wasm-bindgen)" == "$ANCHORAGE_TOOLS/bin/wasm-bindgen" ]] || die "wasm-bindgen is not the tool folder's"

# binaryen's JS build, terser and clean-css, pinned in scripts/wasm-tools/ (see "shrink" below).
tools="$root/scripts/wasm-tools"
shrink=0
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    npm_ci "$tools"
    shrink=1
else
    echo "no Node.js/npm: the console's download will not be shrunk (about 15 KB gzip larger)" >&2
fi

# zopfli for the precompressed .gz files; `gzip -9` where it cannot be installed. brotli for
# the .br files, which browsers that take `br` get (smaller still); none where it cannot be.
command -v zopfli >/dev/null 2>&1 || apt_install optional zopfli || true
command -v brotli >/dev/null 2>&1 || apt_install optional brotli || true

# --- The build.

# Leptos erases the types of components and view children (`AnyView`) under this cfg: one
# monomorphisation per output type instead of one per closure, 24 KB less gzip on this console.
# Set for every wasm step here, so that the two cargo calls share one build.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"
# The console is linked keeping its relocations, which wasm-split needs to move code into
# chunks. (The worker is not split: it is built without them.)
worker_rustflags="$RUSTFLAGS"
export RUSTFLAGS="$RUSTFLAGS -C link-arg=--emit-relocs"
# Panic locations (`#[track_caller]`, `unwrap`) keep the source path of every crate in the wasm:
# shorten them to `<crate>-<version>/src/…` (about 8 KB raw of the console's first load).
for src in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    RUSTFLAGS="$RUSTFLAGS --remap-path-prefix=$src="
done
export RUSTFLAGS="$RUSTFLAGS --remap-path-prefix=$root/="

step "anchorage-common compiles to wasm"
cargo check --quiet -p anchorage-common --target wasm32-unknown-unknown

step "cargo build (wasm-release): the console"
cargo build -p anchorage-app --lib --target wasm32-unknown-unknown --profile wasm-release

# The bulk-registration worker is the CSV parser's hot loop, loaded only on that page: built
# for speed (opt-level 3: bulk::parse of 100,000 rows in Chromium 170 -> 118 ms, for 19 KB
# more gzip on that page), in a target directory of its own so both builds stay cached.
step "cargo build (wasm-release, opt-level 3): the bulk registration worker"
worker_target="$target_dir/wasm-worker"
CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=3 CARGO_TARGET_DIR="$worker_target" RUSTFLAGS="$worker_rustflags" \
    cargo build -p anchorage-app --bin anchorage_bulk_worker --target wasm32-unknown-unknown --profile wasm-release

# Writes split/anchorage_app.wasm (the main module, still to be bound), one .wasm per chunk,
# and __wasm_split.js, which fetches a chunk on first use and links it to the main module
# (it imports `initSync` from ./anchorage_app.js for that).
step "wasm-split"
split="$target_dir/wasm-split"
rm -rf "$split"
mkdir -p "$split"
wasm-split-cli --target web --out-name anchorage_app "$out/anchorage_app.wasm" "$split"
# The chunks keep the linked console's function names (wasm-bindgen strips only the main
# module's): drop their custom sections with a dependency-free tool of ours.
strip_tool="$target_dir/tools/wasm-strip-custom"
if [[ ! -x "$strip_tool" || "$root/scripts/wasm-strip-custom.rs" -nt "$strip_tool" ]]; then
    mkdir -p "$(dirname "$strip_tool")"
    rustc -O --edition 2024 "$root/scripts/wasm-strip-custom.rs" -o "$strip_tool"
fi
find "$split" -maxdepth 1 -name '*.wasm' ! -name anchorage_app.wasm -exec "$strip_tool" {} +

step "wasm-bindgen"
rm -rf "$site"
mkdir -p "$site/pkg"
# --keep-lld-exports: the chunks import the main module's function table, which wasm-bindgen
# would otherwise stop exporting.
wasm-bindgen --target web --remove-name-section --no-typescript --keep-lld-exports --out-dir "$site/pkg" "$split/anchorage_app.wasm"
wasm-bindgen --target web --remove-name-section --no-typescript --out-dir "$site/pkg" \
    "$worker_target/wasm32-unknown-unknown/wasm-release/anchorage_bulk_worker.wasm"
find "$split" -maxdepth 1 -type f \( -name '*.wasm' ! -name anchorage_app.wasm -o -name '*.js' \) -exec cp {} "$site/pkg/" \;

# Smaller downloads (docs/benchmarks.md): the main module and the chunks through
# scripts/wasm-shrink.mjs (a few binaryen passes, then similar functions placed side by side:
# 12 KB less after gzip on the main module, 8 % on the chunks), and the JS of pkg/ minified
# with terser (the wasm-bindgen glue and the chunk loader: 2.7 KB less).
# binaryen's JS build and terser come from the npm registry, pinned in scripts/wasm-tools/;
# without Node.js and npm the step is skipped (the console works the same, its first load is
# about 15 KB gzip larger). (wasm-opt -Oz or -Os, binaryen 132, was measured too: the wasm gets
# 15 % smaller but 7-10 % larger after gzip, which is what is downloaded; so it is not run.)
step "shrink: the console's wasm (binaryen) and its JS (terser)"
if [[ "$shrink" == 1 ]]; then
    # The main module drops the JS classes wasm-streams exports (IntoUnderlyingSource, …Sink,
    # …ByteSource): Leptos always links server_fn's browser client, whose streaming bodies make
    # them, but this console calls no server functions, so nothing creates one (the glue would
    # have a `__wrap` for a class Rust can return to JS). With them goes the code only they reach:
    # 6 KB raw, 1.6 KB gzip of the first load. The glue keeps the unused classes' JS.
    main_wasm="$site/pkg/anchorage_app_bg.wasm"
    if grep -q 'IntoUnderlying[A-Za-z]*\.__wrap' "$site/pkg/anchorage_app.js"; then
        echo "error: the console's glue can create wasm-streams' classes now; their exports must stay" >&2
        exit 1
    fi
    node scripts/wasm-shrink.mjs "$main_wasm" "$main_wasm.shrunk" '--drop-exports=^(__wbg_)?intounderlying' &
    main_shrink=$!
    # Every chunk, meanwhile; not the parser worker, whose speed was measured as built.
    find "$site/pkg" -maxdepth 1 -name '*.wasm' ! -name 'anchorage_bulk_worker_bg.wasm' ! -name 'anchorage_app_bg.wasm' -print0 |
        xargs -0 -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c 'node "$1" "$2" "$2.shrunk" && mv "$2.shrunk" "$2"' _ "$root/scripts/wasm-shrink.mjs" {}
    wait "$main_shrink"
    mv "$main_wasm.shrunk" "$main_wasm"
    for js in "$site"/pkg/*.js; do
        node "$tools/node_modules/terser/bin/terser" "$js" --module --compress --mangle --output "$js.min"
        mv "$js.min" "$js"
    done
else
    echo "shrinking skipped (no Node.js/npm)" >&2
fi

step "static files"
cp -R public/. "$site/"
# The stylesheets minified with clean-css (level 1: comments, whitespace, shorter values; rules
# kept in order): about 470 B less after gzip. Copied as written without Node.js. style.css is
# the first load's; pages.css, what loads later, is added with the first chunk (app/src/lazy.rs).
for sheet in main:style pages:pages; do
    from="style/${sheet%%:*}.css" to="$site/${sheet##*:}.css"
    if [[ "$shrink" == 1 ]]; then
        node -e 'const fs = require("fs"); const CleanCSS = require(process.argv[1]);
            const out = new CleanCSS({ level: 1 }).minify(fs.readFileSync(process.argv[2], "utf8"));
            if (out.errors.length) { console.error(out.errors.join("\n")); process.exit(1); }
            fs.writeFileSync(process.argv[3], out.styles);' \
            "$tools/node_modules/clean-css" "$from" "$to"
    else
        cp "$from" "$to"
    fi
done

# The .gz files are what the server sends to browsers that take gzip: made with zopfli, which
# writes standard gzip about 4 % smaller than `gzip -9` (6 KB less on the console's first
# load), at some seconds of build time. Installed from Debian's packages when missing; where it
# cannot be, `gzip -9` does. The .br files (brotli -q 11) go to browsers that take br (every
# current one, over HTTPS or on localhost); the server prefers them to .gz.
step "precompress"
compress() {
    local f="$1"
    if command -v zopfli >/dev/null 2>&1; then
        zopfli -c "$f" >"$f.gz"
    else
        gzip -9 -k -f -n "$f"
    fi
    if command -v brotli >/dev/null 2>&1; then
        brotli -q 11 -k -f "$f"
    fi
}
export -f compress
find "$site" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) -print0 |
    xargs -0 -P "$(nproc 2>/dev/null || echo 2)" -I{} bash -c 'set -e; compress "$1"' _ {}

"$root/scripts/app-size.sh"
