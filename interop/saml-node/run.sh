#!/usr/bin/env bash
# SAML 2.0 interop with node libraries, both ways (see README.md):
#   1. the mock IdP (`idconform idp saml serve`) → node-saml, SP- and IdP-initiated, Okta and Entra styles, each
#      signature placement;
#   2. a samlify IdP → the reference SP (`idconform serve`);
#   3. `idconform check saml` against a node-saml SP (`node sp.mjs`), SP-initiated and IdP-initiated;
#   4. the same suite against passport-saml 3.2.1 (vulnerable/), and CVE-2022-39299 against both SPs.
# Needs Node.js 18+ and npm. The binary is $IDCONFORM when set, else `cargo run --release --quiet --`. Extra
# arguments go to the `idconform check saml` of part 3 (e.g. --report junit --out node-saml.xml). Exit code 1
# when an interop step fails or the suite finds a failure not declared in target.toml.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ -n "${IDCONFORM:-}" ]]; then
  idc=("$IDCONFORM")
else
  idc=(cargo run --release --quiet --manifest-path "$root/Cargo.toml" --)
fi
IDP=127.0.0.1:18610 SP=127.0.0.1:18620 SP2=127.0.0.1:18621 REF=127.0.0.1:18630 VULN=127.0.0.1:18640

cd "$here"
npm ci --silent --no-audit --no-fund
(cd vulnerable && npm ci --silent --no-audit --no-fund)
run="$here/run"
rm -rf "$run"
mkdir -p "$run"

pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT
# start LOG PATTERN CMD…: runs CMD in the background, output to LOG, until PATTERN shows in LOG.
start() {
  local log="$1" pattern="$2"
  shift 2
  "$@" > "$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 600); do
    grep -q "$pattern" "$log" && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "did not start: $*" >&2
  cat "$log" >&2
  return 1
}
failed=0

# The mock IdP's key (trusted by the node SPs and used by the suite), and the samlify IdP's.
"${idc[@]}" idp metadata --listen "$IDP" --key-out "$run/idp-key.pem" --cert-out "$run/idp-cert.pem" \
  > "$run/idp-metadata.xml" 2> /dev/null
"${idc[@]}" idp metadata --listen 127.0.0.1:1 --key-out "$run/samlify-key.pem" --cert-out "$run/samlify-cert.pem" \
  > /dev/null 2>&1

echo "== 1. mock IdP → node-saml"
for style in okta entra; do
  for signing in assertion response both; do
    start "$run/idp-$style-$signing.log" "listening on" "${idc[@]}" idp saml serve --listen "$IDP" \
      --key "$run/idp-key.pem" --cert "$run/idp-cert.pem" --style "$style" --signing "$signing"
    node mock-idp-to-node-saml.mjs "http://$IDP" "$run/idp-cert.pem" "$signing" "$style" || failed=1
    stop_all
  done
done

echo "== 2. samlify IdP → reference SP"
start "$run/server.log" "listening" "${idc[@]}" serve --listen "$REF" --db "$run/reference.db" \
  --config "$here/idconform.toml" --log info
jwt="$("${idc[@]}" admin-token --db "$run/reference.db" --workspace acme --email owner@acme.example --ttl 600)"
SERVER="http://$REF" WORKSPACE=acme ADMIN_JWT="$jwt" USER_EMAIL=owner@acme.example \
  SAMLIFY_KEY_FILE="$run/samlify-key.pem" SAMLIFY_CERT_FILE="$run/samlify-cert.pem" \
  node samlify-to-reference-sp.mjs || failed=1
stop_all

echo "== 3. idconform check saml → node-saml SP"
start "$run/sp.log" "listening" env SP_PORT="${SP##*:}" IDP_SSO_URL="http://$IDP/sso" \
  IDP_CERT_FILE="$run/idp-cert.pem" SP_USERS=qa@example.com node sp.mjs
"${idc[@]}" check saml --target "$here/target.toml" "$@" || failed=1
# The same SP accepting IdP-initiated sign-on, every Response unsolicited.
start "$run/sp-idp-initiated.log" "listening" env SP_PORT="${SP2##*:}" IDP_SSO_URL="http://$IDP/sso" \
  IDP_CERT_FILE="$run/idp-cert.pem" SP_USERS=qa@example.com SP_UNSOLICITED=1 node sp.mjs
"${idc[@]}" check saml --target "$here/target-idp-initiated.toml" || failed=1

echo "== 4. passport-saml 3.2.1 (CVE-2022-39299) and node-saml 5 against a two-root document"
start "$run/vulnerable-sp.log" "listening" env SP_PORT="${VULN##*:}" IDP_SSO_URL="http://$IDP/sso" \
  IDP_CERT_FILE="$run/idp-cert.pem" SP_USERS=qa@example.com node vulnerable/sp.mjs
# The whole suite's verdict on the vulnerable SP is shown; saml.xml.second-root must catch the CVE (exit 1).
"${idc[@]}" check saml --target "$here/vulnerable/target.toml" || echo "(failures beyond the declared ones)"
if "${idc[@]}" check saml --target "$here/vulnerable/target.toml" --only saml.xml.second-root > "$run/second-root.txt" 2>&1; then
  echo "saml.xml.second-root did not catch CVE-2022-39299 in passport-saml 3.2.1" >&2
  failed=1
fi
start "$run/idp-okta-assertion.log" "listening on" "${idc[@]}" idp saml serve --listen "$IDP" \
  --key "$run/idp-key.pem" --cert "$run/idp-cert.pem" --style okta --signing assertion
node vulnerable/cve-2022-39299.mjs "http://$VULN" accepted || failed=1
node vulnerable/cve-2022-39299.mjs "http://$SP" refused || failed=1
stop_all

exit "$failed"
