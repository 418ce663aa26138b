#!/bin/bash
# docs/api.md "Making the certificates with openssl": the commands as the page shows them (the
# indented block under that heading), run in a temporary folder instead of /etc/vnfctl/api; what they
# make must chain (openssl verify) and serve: vnfctl serve with the server certificate and the
# client CA answers the operator's certificate and refuses the reader's POST (403).
# Usage: api_certs_doc.sh VNFCTL
set -uo pipefail
vnfctl=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vnfctl-certs.XXXXXX)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; failed=1; }

# The block: indented lines after the heading, up to the first line that is neither indented nor blank.
awk '/^## Making the certificates with openssl/ { on = 1; next }
     on && /^## / { exit }
     on && /^    / { print substr($0, 5); seen = 1; next }
     on && seen && NF { exit }' "$src/docs/api.md" | sed "s|/etc/vnfctl/api|$work/api|g" > "$work/recipe.sh"
if ! grep -q 'openssl x509 -req' "$work/recipe.sh"; then
  bad "no recipe found under '## Making the certificates with openssl' in docs/api.md"; exit 1
fi
if bash -e "$work/recipe.sh" > "$work/recipe.out" 2>&1; then
  ok "the recipe in docs/api.md runs ($(grep -c . "$work/recipe.sh") lines)"
else
  bad "the recipe in docs/api.md fails:"; cat "$work/recipe.out"; exit 1
fi
d=$work/api
if openssl verify -CAfile "$d/client-ca.pem" "$d/server.pem" "$d/orchestrator.pem" "$d/monitoring.pem" > "$work/verify" 2>&1; then
  ok "server.pem, orchestrator.pem and monitoring.pem chain to client-ca.pem"
else
  bad "openssl verify: $(cat "$work/verify")"
fi
[[ $(stat -c %a "$d/server.key") == 600 ]] && ok "server.key is mode 0600 (umask 077)" || bad "server.key is mode $(stat -c %a "$d/server.key")"

# Serve with them (libvirt's test driver in-process: no daemon) and talk to it by the name in the
# server certificate.
printf '<node>\n</node>\n' > "$work/node.xml"
mkdir -p "$work/vnfd" "$work/state" "$work/run" "$work/logs"
"$vnfctl" --host-root "$src/tests/data/hosts/2socket-ht-x710-node1" -c "test://$work/node.xml" serve \
  --listen 127.0.0.1:0 --cert "$d/server.pem" --key "$d/server.key" --client-ca "$d/client-ca.pem" \
  --roles "$d/roles" --vnfd-dir "$work/vnfd" --state-dir "$work/state" --run-dir "$work/run" --log-dir "$work/logs" \
  2> "$work/server.log" &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n $port ]] || { bad "vnfctl serve did not start with the recipe's files: $(cat "$work/server.log")"; exit 1; }
req() { # req WHO METHOD PATH
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --resolve "vnfm1.example:$port:127.0.0.1" \
    --cacert "$d/client-ca.pem" --cert "$d/$1.pem" --key "$d/$1.key" -X "$2" -H 'Version: 2.0.0' \
    -H 'Content-Type: application/json' ${4:+--data "$4"} "https://vnfm1.example:$port$3" 2>&1
}
code=$(req orchestrator GET /vnflcm/v2/vnf_instances)
[[ $code == 200 ]] && ok "the operator's certificate is served (200)" || bad "operator GET: $code"
code=$(req monitoring POST /vnflcm/v2/vnf_instances '{"vnfdId":"x"}')
[[ $code == 403 ]] && ok "the reader's POST is refused by its role (403)" || bad "reader POST: $code"
grep -q 'role=reader' "$work/server.log" && ok "the roles file from the recipe named the reader" ||
  bad "no reader audit line: $(cat "$work/server.log")"
exit $failed
