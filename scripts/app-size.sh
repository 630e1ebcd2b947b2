#!/usr/bin/env bash
# Prints the size of the console's first load (index.html, boot.js, style.css, the wasm-bindgen
# JS glue and the wasm) as a markdown table: raw bytes and gzip -9 bytes.
# Usage: scripts/app-size.sh [site-dir]   (default: target/site, built by scripts/build-app.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
site="${1:-$root/target/site}"
files=(index.html boot.js style.css favicon.svg pkg/anchorage_app.js pkg/anchorage_app_bg.wasm)

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

echo "| file | raw | gzip |"
echo "|---|---:|---:|"
total_raw=0
total_gz=0
for f in "${files[@]}"; do
    path="$site/$f"
    if [[ ! -f "$path" ]]; then
        echo "missing: $path (run scripts/build-app.sh)" >&2
        exit 1
    fi
    raw=$(wc -c <"$path")
    gz=$(gzip -9 -n -c "$path" | wc -c)
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    echo "| $f | $raw ($(kib "$raw")) | $gz ($(kib "$gz")) |"
done
echo "| **total** | **$total_raw ($(kib "$total_raw"))** | **$total_gz ($(kib "$total_gz"))** |"
