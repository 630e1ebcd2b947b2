#!/usr/bin/env bash
# Prints the sizes of the built console as markdown tables: raw bytes, gzip bytes as served (the
# precompressed .gz the build wrote, with zopfli; gzip -9 where there is none), and brotli -q 11
# bytes when a `brotli` command exists.
#
#   1. first load: every file the browser fetches to show the login page and then, after the
#      login, the home page (trusted certificates): index.html, boot.js, style.css,
#      favicon.svg, the wasm-bindgen glue, the chunk loader and the main wasm module.
#      (end2end/tests/first-load.spec.ts checks in Chromium that this is all it fetches.)
#   2. each chunk, fetched when first needed, with the split points it serves (a chunk shared
#      by several split points is fetched by whichever comes first), and the bulk
#      registration page's parser worker;
#   3. everything: every file of the site.
#
# Usage: scripts/app-size.sh [site-dir]   (default: target/site, built by scripts/build-app.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
site="${1:-$root/target/site}"
first_load=(index.html boot.js style.css favicon.svg pkg/anchorage_app.js pkg/__wasm_split.js pkg/anchorage_app_bg.wasm)
bulk_worker=(bulk-worker.js bulk-reader.js pkg/anchorage_bulk_worker.js pkg/anchorage_bulk_worker_bg.wasm)

# The chunk loader as wasm-split wrote it (the site's copy is minified): its comments name the
# split points of each chunk.
loader="${CARGO_TARGET_DIR:-$root/target}/wasm-split/__wasm_split.js"
[[ -f "$loader" ]] || loader="$site/pkg/__wasm_split.js"

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

has_br=0
command -v brotli >/dev/null 2>&1 && has_br=1

# row LABEL FILE...: one row for the files together; adds them to the running totals.
total_raw=0 total_gz=0 total_br=0
row() {
    local label="$1" raw=0 gz=0 br=0 f path line
    shift
    for f in "$@"; do
        path="$site/$f"
        if [[ ! -f "$path" ]]; then
            echo "missing: $path (run scripts/build-app.sh)" >&2
            exit 1
        fi
        raw=$((raw + $(wc -c <"$path")))
        # What the server sends: the precompressed .gz the build wrote (zopfli), else gzip -9.
        if [[ -f "$path.gz" ]]; then
            gz=$((gz + $(wc -c <"$path.gz")))
        else
            gz=$((gz + $(gzip -9 -n -c "$path" | wc -c)))
        fi
        [[ "$has_br" == 1 ]] && br=$((br + $(brotli -q 11 -c "$path" | wc -c)))
    done
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    total_br=$((total_br + br))
    line="| $label | $raw ($(kib "$raw")) | $gz ($(kib "$gz")) |"
    [[ "$has_br" == 1 ]] && line="$line $br ($(kib "$br")) |"
    echo "$line"
}

header() {
    total_raw=0 total_gz=0 total_br=0
    if [[ "$has_br" == 1 ]]; then
        echo "| $1 | raw | gzip | brotli |"
        echo "|---|---:|---:|---:|"
    else
        echo "| $1 | raw | gzip |"
        echo "|---|---:|---:|"
    fi
}

footer() {
    local line="| **${1:-total}** | **$total_raw ($(kib "$total_raw"))** | **$total_gz ($(kib "$total_gz"))** |"
    [[ "$has_br" == 1 ]] && line="$line **$total_br ($(kib "$total_br"))** |"
    echo "$line"
}

header "first load (login, then the home page)"
for f in "${first_load[@]}"; do
    row "$f" "$f"
done
footer
first_gz=$total_gz

# What each split point fetches the first time it is called: its own chunk, the chunks of code
# it shares with other split points (the deps list of its loader in __wasm_split.js), and the
# later parts' stylesheet (pages.css, added with the first chunk: app/src/lazy.rs).
echo
header "split point (app/src/lazy.rs): all it fetches when first called"
while IFS=$'\t' read -r split files; do
    # shellcheck disable=SC2086 # a list of file names without spaces
    row "$split" pages.css $files
done < <(awk '
    match($0, /^export const __wasm_split_load_[A-Za-z0-9_]+/) { sp = substr($0, 32, RLENGTH - 31); own = "" }
    sp != "" && match($0, /"\.\/split_[^"]+\.wasm"/) { own = "pkg/" substr($0, RSTART + 3, RLENGTH - 4) }
    sp != "" && /^, \[/ {
        deps = $0
        gsub(/[^0-9,]/, "", deps)
        n = split(deps, ids, ",")
        files = own
        for (i = 1; i <= n; i++) if (ids[i] != "") files = files " pkg/chunk_" ids[i] ".wasm"
        print sp "\t" files
        sp = ""
    }
' "$loader" | sort)
echo "(a chunk shared by several split points is counted in each; it is fetched once; so is pages.css, the styles of every later part)"

# The chunks, as __wasm_split.js lists them: a `/* split, split */` comment, then the loader
# of "./<file>.wasm".
echo
header "chunk file, loaded when first needed (split points)"
chunks=()
while IFS=$'\t' read -r splits file; do
    chunks+=("pkg/$file")
    row "pkg/$file ($splits)" "pkg/$file"
done < <(awk '
    match($0, /^\/\* .* \*\/$/) { splits = substr($0, 4, length($0) - 6) }
    match($0, /^export const __wasm_split_load_[A-Za-z0-9_]+/) { splits = substr($0, 32, RLENGTH - 31) }
    match($0, /"\.\/[^"]+\.wasm"/) { print splits "\t" substr($0, RSTART + 3, RLENGTH - 4) }
' "$loader")
row "bulk registration parser worker: ${bulk_worker[*]}" "${bulk_worker[@]}"
footer "all chunks"

# Everything the site holds (what a visit to every page fetches, at most).
echo
header "everything"
all=()
while IFS= read -r -d '' f; do
    all+=("${f#"$site"/}")
done < <(find "$site" -type f ! -name '*.gz' ! -name '*.br' -print0 | sort -z)
row "${#all[@]} files" "${all[@]}"
footer
if [[ "${#chunks[@]}" == 0 ]]; then
    echo "no chunks found in $loader" >&2
    exit 1
fi

echo
goal=150000
if ((first_gz <= goal)); then
    echo "First load: $first_gz bytes gzip, within the goal of $goal (issue 2)."
else
    echo "First load: $first_gz bytes gzip, over the goal of $goal (issue 2)."
fi
