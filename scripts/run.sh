#!/usr/bin/env bash
# Builds the console and the server, then starts anchorage on its embedded default: an SQLite
# file under ./data (created on first start), console and API on http://127.0.0.1:8080.
# Extra arguments go to `anchorage` (see `scripts/run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-app.sh
cargo build --release -q -p anchorage-server
exec target/release/anchorage --assets-dir target/site "$@"
