# Shared by the API tests (api.sh): certificates made now with openssl (never committed), a private
# libvirt test driver, a server started on a free loopback port, curl with a client certificate.
# Everything lives in $work and every server started is killed on exit, even on failure.
set -uo pipefail
vnfctl=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vnfctl-api.XXXXXX)
pass=0
failed=0
server_pid=
port=
extra_pids=()  # helpers a test started (a subscriber): killed on exit too

cleanup() {
  [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null
  for p in "${extra_pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "$(basename "$0"): $pass passed, $failed failed"; ((failed == 0)); }

# A CA, a server certificate for 127.0.0.1, and client certificates: reader, operator (named in
# the roles file), plain (named nowhere: a reader), and one of another CA.
make_certs() {
  local d=$work/pki
  mkdir -p "$d"
  ( cd "$d" || exit 1
    for ca in ca other; do
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/O=vnfctl test/CN=$ca" \
        -keyout $ca.key -out $ca.pem 2>/dev/null
    done
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    sign() { # sign NAME CA SUBJECT EXT
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$3" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 -extfile "$4" -out "$1.pem" 2>/dev/null
    }
    sign server ca "/O=vnfctl test/CN=127.0.0.1" server.ext
    sign operator ca "/O=vnfctl test/CN=operator" client.ext
    sign reader ca "/O=vnfctl test/CN=reader" client.ext
    sign plain ca "/O=vnfctl test/CN=plain" client.ext
    sign stranger other "/O=vnfctl test/CN=operator" client.ext
  ) || return 1
  printf '# test roles\noperator CN=operator,O=vnfctl test\nreader CN=reader,O=vnfctl test\n' > "$work/roles"
}

setup_host() {
  printf '<node>\n</node>\n' > "$work/node.xml"
  mkdir -p "$work/vnfd" "$work/image" "$work/state" "$work/run" "$work/logs"
  printf 'kernel' > "$work/image/vmlinuz"
  printf 'initrd' > "$work/image/initrd.img"
  printf 'name: fw\nvcpus: 2\nmemory: 1G\nhugepages: 1G\nnics:\n  - pf: ens2f0\n    vlan: 100\n' > "$work/vnfd/fw.yaml"
}

# start_server [ENV=VALUE...] -- starts vnfctl serve on a free port; sets server_pid and port.
start_server() {
  : > "$work/server.log"
  env "$@" "$vnfctl" --host-root "$src/tests/data/hosts/2socket-ht-x710-node1" -c "test://$work/node.xml" serve \
    --listen 127.0.0.1:0 --cert "$work/pki/server.pem" --key "$work/pki/server.key" --client-ca "$work/pki/ca.pem" \
    --roles "$work/roles" --vnfd-dir "$work/vnfd" --state-dir "$work/state" --run-dir "$work/run" \
    --log-dir "$work/logs" --image-dir "$work/image" --templates "$src/domain-templates" --domain-type qemu \
    --request-timeout "${REQUEST_TIMEOUT:-3}" --mutations-per-second 1000 --page-size "${PAGE_SIZE:-2}" \
    --test-ready-when-running ${SERVE_ARGS-} \
    2>> "$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "server did not start:"; cat "$work/server.log"; return 1
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=; }
kill9_server() { kill -9 "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=; }

# api WHO METHOD PATH [BODY] -> prints "STATUS" on line 1 and the body after; headers in $work/h.
# The body goes as application/json, or as $API_CT.
api() {
  local who=$1 method=$2 path=$3 body=${4-}
  local t=${API_TAG-}  # API_TAG=N: its own body and header files, for requests run in parallel
  local args=(-sS --max-time 20 -o "$work/b$t" -D "$work/h$t" -w '%{http_code}' --cacert "$work/pki/ca.pem"
    --cert "$work/pki/$who.pem" --key "$work/pki/$who.key" -X "$method" -H 'Version: 2.0.0')
  [[ -n $body ]] && args+=(-H "Content-Type: ${API_CT:-application/json}" --data-binary "$body")
  local code
  code=$(curl "${args[@]}" "https://127.0.0.1:$port$path" 2>/dev/null) || code=000
  echo "$code"
  cat "$work/b$t" 2>/dev/null
}
status() { head -1 <<< "$1"; }
body() { tail -n +2 <<< "$1"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
location() { sed -n 's/^[Ll]ocation: *\(.*\)\r$/\1/p' "$work/h" | sed 's|https://[^/]*||'; }

# Waits (up to 10 s) until the op occ at PATH is in one of the states (a regex).
wait_occ() {
  local path=$1 want=$2 st=
  for _ in $(seq 200); do
    st=$(body "$(api reader GET "$path")" | jget '["operationState"]' 2>/dev/null)
    [[ $st =~ ^($want)$ ]] && return 0
    sleep 0.05
  done
  echo "  $path is '$st', not $want" >&2; return 1
}
