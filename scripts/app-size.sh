#!/usr/bin/env bash
# Prints the size of the console's first load (index.html, boot.js, style.css, the wasm-bindgen
# JS glue and the wasm) as a markdown table: raw bytes, gzip -9 bytes, and brotli -q 11 bytes
# when a `brotli` command exists. Then, outside that total, what the bulk registration page
# loads on top (its parser worker).
# Usage: scripts/app-size.sh [site-dir]   (default: target/site, built by scripts/build-app.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
site="${1:-$root/target/site}"
first_load=(index.html boot.js style.css favicon.svg pkg/anchorage_app.js pkg/anchorage_app_bg.wasm)
bulk_page=(bulk-worker.js pkg/anchorage_bulk_worker.js pkg/anchorage_bulk_worker_bg.wasm)

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

has_br=0
command -v brotli >/dev/null 2>&1 && has_br=1

# table TITLE FILE...: one row per file and a total row.
table() {
    local title="$1"
    shift
    local total_raw=0 total_gz=0 total_br=0 f path raw gz br line
    if [[ "$has_br" == 1 ]]; then
        echo "| $title | raw | gzip | brotli |"
        echo "|---|---:|---:|---:|"
    else
        echo "| $title | raw | gzip |"
        echo "|---|---:|---:|"
    fi
    for f in "$@"; do
        path="$site/$f"
        if [[ ! -f "$path" ]]; then
            echo "missing: $path (run scripts/build-app.sh)" >&2
            exit 1
        fi
        raw=$(wc -c <"$path")
        gz=$(gzip -9 -n -c "$path" | wc -c)
        total_raw=$((total_raw + raw))
        total_gz=$((total_gz + gz))
        line="| $f | $raw ($(kib "$raw")) | $gz ($(kib "$gz")) |"
        if [[ "$has_br" == 1 ]]; then
            br=$(brotli -q 11 -c "$path" | wc -c)
            total_br=$((total_br + br))
            line="$line $br ($(kib "$br")) |"
        fi
        echo "$line"
    done
    line="| **total** | **$total_raw ($(kib "$total_raw"))** | **$total_gz ($(kib "$total_gz"))** |"
    [[ "$has_br" == 1 ]] && line="$line **$total_br ($(kib "$total_br"))** |"
    echo "$line"
}

table "first load" "${first_load[@]}"
echo
table "bulk registration page, on top" "${bulk_page[@]}"
