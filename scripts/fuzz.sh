#!/usr/bin/env bash
# Fuzzes one target for a while with cargo-fuzz (libFuzzer), then prints the executions, the
# corpus it grew and any finding (issue 17; figures in docs/benchmarks.md, "Fuzzing").
#
#   scripts/fuzz.sh <target> <seconds>     e.g. scripts/fuzz.sh bulk_stream 600
#   scripts/fuzz.sh --list                 the targets
#
# Targets (fuzz/fuzz_targets/, each calling a check of anchorage_common::fuzzing,
# anchorage_server::fuzzing or anchorage_app::fuzzing): certificate, pem, bulk_stream, time,
# crl, csr, chain_header, wire.
#
# Needs nightly Rust (rustup toolchain nightly: libFuzzer's instrumentation) and cargo-fuzz,
# which this installs into the checkout's tool folder. The corpus starts from fuzz/seeds/<target>
# plus certificates, a CSR and a chain header made now with openssl (none is committed), and
# grows in target/fuzz-corpus/<target> (kept between runs; the ordinary tests replay it too when
# it is there). A crash or failed check is copied to fuzz/regressions/<target>/: fix it, keep the
# file (the replay test then holds the fix), and commit both.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"

targets=(certificate pem bulk_stream time crl csr chain_header wire)
if [[ "${1:-}" == --list ]]; then
    printf '%s\n' "${targets[@]}"
    exit 0
fi
target="${1:-}" seconds="${2:-}"
[[ " ${targets[*]} " == *" $target "* ]] || die "usage: scripts/fuzz.sh <target> <seconds> (targets: ${targets[*]})"
[[ "$seconds" =~ ^[0-9]+$ ]] || die "usage: scripts/fuzz.sh <target> <seconds>"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal ||
    die "nightly Rust is needed for libFuzzer's instrumentation (rustup toolchain install nightly)"
cargo_tool cargo-fuzz 0.13.1 --locked

corpus="target/fuzz-corpus/$target"
mkdir -p "$corpus" fuzz/regressions
cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
# Certificates, a CSR and a chain header made now, for the targets that read them.
made="$(mktemp -d)"
trap 'rm -rf "$made"' EXIT
(
    cd "$made"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 \
        -subj '/CN=Fuzz Root' -addext basicConstraints=critical,CA:true 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -keyout d.key -out d.csr -subj '/CN=fuzz-device' 2>/dev/null
    openssl x509 -req -in d.csr -CA ca.pem -CAkey ca.key -days 30 -out d.pem 2>/dev/null
) || die "openssl could not make the seed certificates"
case "$target" in
    certificate)
        openssl x509 -in "$made/ca.pem" -outform DER -out "$corpus/made-ca.der"
        openssl x509 -in "$made/d.pem" -outform DER -out "$corpus/made-device.der" ;;
    pem) cat "$made/d.pem" "$made/ca.pem" >"$corpus/made-bundle.pem" ;;
    csr)
        openssl req -in "$made/d.csr" -outform DER -out "$corpus/made.der"
        openssl req -in "$made/d.csr" -outform DER | base64 -w 64 >"$corpus/made.b64" ;;
    chain_header) cat "$made/d.pem" "$made/ca.pem" | tr '\n' ' ' >"$corpus/made-header" ;;
esac

# The same dependency versions as the workspace.
cp Cargo.lock fuzz/Cargo.lock
step "fuzzing $target for ${seconds}s"
log="target/fuzz-$target.log"
status=0
cargo +nightly fuzz run --fuzz-dir fuzz "$target" "$corpus" -- -max_total_time="$seconds" -print_final_stats=1 \
    2>&1 | tee "$log" | grep -E '^(#[0-9]+ +(INITED|DONE|pulse)|==[0-9]+==|SUMMARY|thread .* panicked)' || true
grep -q 'Done [0-9]* runs' "$log" || status=1
found=0
for f in fuzz/artifacts/"$target"/*; do
    [[ -f "$f" ]] || continue
    mkdir -p "fuzz/regressions/$target"
    cp "$f" "fuzz/regressions/$target/"
    echo "finding: $f (copied to fuzz/regressions/$target/)"
    found=$((found + 1))
done
runs="$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)"
echo "target $target: $runs executions in ${seconds}s, corpus $(find "$corpus" -type f | wc -l) inputs, findings: $found"
[[ "$found" == 0 && "$status" == 0 ]]
