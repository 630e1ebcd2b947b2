#!/usr/bin/env bash
# The outside check of EST enrollment, with only openssl and curl on the device's side (the
# commands the console shows, anchorage_common::est::openssl_curl_commands):
#   1. the admin makes the tenant's CA and a new device request with a one-time password;
#   2. the device makes a key and a CSR, enrolls (simpleenroll, Basic <id>:<one-time password>)
#      and unwraps the PKCS#7 answer with `openssl pkcs7 -print_certs`; a wrong or used password
#      is refused; the certificate verifies against the CA from cacerts;
#   3. it gets a device access token over mutual TLS with the issued certificate;
#   4. it re-enrolls over mutual TLS with a new key and gets a token with the new certificate;
#      the old one still works until then.
# Usage: scripts/est-check.sh [anchorage binary]   (default target/debug/anchorage, built when missing)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ANCHORAGE_ROOT"
command -v openssl >/dev/null 2>&1 || apt_install required openssl
command -v curl >/dev/null 2>&1 || apt_install required curl

bin="${1:-$ANCHORAGE_ROOT/target/debug/anchorage}"
[[ -x "$bin" ]] || cargo build -q -p anchorage-server
work="$(mktemp -d)"
server=""
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "est-check: $*" >&2
    [[ -f "$work/server.log" ]] && tail -20 "$work/server.log" >&2
    exit 1
}

start_anchorage "$work" "$bin"
admin=(-u "t100/admin:$ANCHORAGE_ADMIN_PASSWORD")
devices="https://127.0.0.1:$device_port"
server_ca="$work/data/tls/ca.pem"
id="est-check-01"
otp="$(openssl rand -hex 16)"

step "the admin makes the tenant CA and a one-time password for $id"
curl -fsS "${admin[@]}" -X POST -H 'Accept: application/json' "$api/certificate-authority" >"$work/ca.json" ||
    fail "POST /certificate-authority failed"
grep -q '"tenantCertificateAuthority":true' "$work/ca.json" || fail "the CA is not marked tenantCertificateAuthority: $(cat "$work/ca.json")"
curl -fsS "${admin[@]}" -H 'Content-Type: application/json' \
    -d "{\"id\":\"$id\",\"enrollmentToken\":\"$otp\"}" "$api/devicecontrol/newDeviceRequests" >/dev/null ||
    fail "POST /devicecontrol/newDeviceRequests failed"

cd "$work"
step "the device enrolls with openssl and curl"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -subj "/CN=$id" \
    -outform DER 2>/dev/null | base64 >device.csr
enroll() { # user:password → HTTP status, answer in enroll.out
    curl -sS -o enroll.out -w '%{http_code}' -u "$1" -H 'Content-Type: application/pkcs10' \
        --data-binary @device.csr "$api/.well-known/est/simpleenroll"
}
status="$(enroll "$id:wrong-password-0")"
[[ "$status" == 401 ]] || fail "a wrong one-time password got $status, not 401"
grep -q 'No newDeviceRequest found for this ID' enroll.out || fail "the refusal does not say why: $(cat enroll.out)"
status="$(enroll "$id:$otp")"
[[ "$status" == 200 ]] || fail "enrollment got $status: $(cat enroll.out)"
base64 -d enroll.out | openssl pkcs7 -inform DER -print_certs -out device.crt
openssl x509 -in device.crt -noout -subject | grep -q "CN *= *$id" || fail "the certificate's subject is not CN=$id"
openssl x509 -in device.crt -noout -text | grep -q 'TLS Web Client Authentication' || fail "no clientAuth EKU"
status="$(enroll "$id:$otp")"
[[ "$status" == 401 ]] || fail "the used one-time password got $status, not 401"
curl -fsS "$api/.well-known/est/cacerts" | base64 -d | openssl pkcs7 -inform DER -print_certs -out tenant-ca.pem
openssl verify -CAfile tenant-ca.pem -purpose sslclient device.crt >/dev/null || fail "device.crt does not verify against cacerts"

token() { # certificate key → prints the token
    curl -fsS --cacert "$server_ca" --cert "$1" --key "$2" -X POST -H 'Accept: application/json' \
        "$devices/devicecontrol/deviceAccessToken" | grep -o '"accessToken":"[^"]*"'
}
step "a device token over mutual TLS with the issued certificate"
token device.crt device.key >/dev/null || fail "no token with the issued certificate"

step "re-enrollment over mutual TLS with a new key"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device2.key -subj "/CN=$id" \
    -outform DER 2>/dev/null | base64 >device2.csr
curl -fsS --cacert "$server_ca" --cert device.crt --key device.key -H 'Content-Type: application/pkcs10' \
    --data-binary @device2.csr "$devices/.well-known/est/simplereenroll" >reenroll.out || fail "re-enrollment failed"
base64 -d reenroll.out | openssl pkcs7 -inform DER -print_certs -out device2.crt
[[ "$(openssl x509 -in device.crt -noout -serial)" != "$(openssl x509 -in device2.crt -noout -serial)" ]] ||
    fail "the renewed certificate has the old serial"
token device.crt device.key >/dev/null || fail "the old certificate stopped working before the new one was used"
token device2.crt device2.key >/dev/null || fail "no token with the renewed certificate"
echo "est-check: enrollment, token, re-enrollment and token with only openssl and curl: all good"
