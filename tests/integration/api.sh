#!/bin/bash
# vnfctl serve with real clients (curl, openssl s_client, a Python stdlib TLS client) against
# libvirt's test driver: TLS 1.3 and client certificates, roles, the whole SOL003 lifecycle, bad
# input, kill -9 during instantiate then retry and rollback, concurrent tasks on one instance.
# Usage: api.sh VNFCTL
source "$(dirname "$0")/api_lib.sh"

make_certs || { echo "FAIL: openssl could not make the test certificates"; exit 1; }
setup_host

# --- listening on every address needs --listen-any
"$vnfctl" serve --listen 0.0.0.0:8443 --cert "$work/pki/server.pem" --key "$work/pki/server.key" \
  --client-ca "$work/pki/ca.pem" --vnfd-dir "$work/vnfd" --state-dir "$work/state" 2> "$work/any.err"
rc=$?
check "--listen 0.0.0.0 refused without --listen-any (exit 2, names the fix)" \
  bash -c "[[ $rc == 2 ]] && grep -q -- '--listen-any' '$work/any.err'"

start_server || exit 1

# --- TLS
s_client() { timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$work/pki/ca.pem" "$@" < /dev/null 2>&1; }
out=$(s_client -tls1_2 -cert "$work/pki/operator.pem" -key "$work/pki/operator.key")
check "TLS 1.2 client refused (openssl s_client -tls1_2: alert protocol version, no cipher)" bash -c "grep -q 'alert protocol version' <<< \"\$1\" && grep -q 'Cipher is (NONE)' <<< \"\$1\"" _ "$out"
code=$(curl -sS -o /dev/null -w '%{http_code}' --tlsv1.2 --tls-max 1.2 --cacert "$work/pki/ca.pem" \
  --cert "$work/pki/operator.pem" --key "$work/pki/operator.key" -H 'Version: 2.0.0' \
  "https://127.0.0.1:$port/vnflcm/v2/vnf_instances" 2>/dev/null) || code=000
check "TLS 1.2 client refused (curl --tls-max 1.2: no HTTP answer, got $code)" test "$code" = 000
out=$(printf 'GET /vnflcm/v2/api_versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" -CAfile "$work/pki/ca.pem" 2>&1)
check "no client certificate: refused (s_client gets an alert, no HTTP)" bash -c "! grep -q 'HTTP/1.1' <<< \"\$1\" && grep -qiE 'alert|certificate required' <<< \"\$1\"" _ "$out"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$work/pki/ca.pem" -H 'Version: 2.0.0' \
  "https://127.0.0.1:$port/vnflcm/v2/vnf_instances" 2>/dev/null) || code=000
check "no client certificate: curl gets no HTTP answer ($code)" test "$code" = 000
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$work/pki/ca.pem" --cert "$work/pki/stranger.pem" \
  --key "$work/pki/stranger.key" -H 'Version: 2.0.0' "https://127.0.0.1:$port/vnflcm/v2/vnf_instances" 2>/dev/null) || code=000
check "a certificate of another CA (same subject as the operator) is refused ($code)" test "$code" = 000
out=$(s_client -cert "$work/pki/operator.pem" -key "$work/pki/operator.key")
check "TLS 1.3 with the operator's certificate negotiates" grep -q 'TLSv1.3' <<< "$out"

# --- roles
r=$(api reader POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw"}')
check "a reader gets 403 ProblemDetails on POST" bash -c "[[ $(status "$r") == 403 ]] && grep -q '\"status\":403' <<< \"\$1\"" _ "$r"
r=$(api plain POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw"}')
check "a verified client the roles file does not name is a reader (403 on POST)" test "$(status "$r")" = 403
r=$(api plain GET /vnflcm/v2/vnf_instances)
check "... and may read (200, empty list)" bash -c "[[ $(status "$r") == 200 ]] && [[ \$1 == '[]' ]]" _ "$(body "$r")"
r=$(api reader GET /vnflcm/v2/api_versions)
check "api_versions says 2.0.0" grep -q '"version":"2.0.0"' <<< "$r"
r=$(api reader GET /vnflcm/api_versions)
check "/vnflcm/api_versions too (200, uriPrefix /vnflcm/v2)" bash -c "[[ $(status "$r") == 200 ]] && grep -q '\"uriPrefix\":\"/vnflcm/v2\"' <<< \"\$1\" && grep -q '\"version\":\"2.0.0\"' <<< \"\$1\"" _ "$r"

# --- bad input: ProblemDetails, nothing created
count() { body "$(api reader GET '/vnflcm/v2/vnf_instances')" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
problem_is() { # problem_is STATUS RESPONSE
  [[ $(status "$2") == "$1" ]] && grep -qi 'content-type: application/problem+json' "$work/h" &&
    body "$2" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=='"$1"' and d["title"] and d["detail"] and d["type"]'
}
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId": "fw",')
check "malformed JSON: 400 ProblemDetails" problem_is 400 "$r"
check "... and audited as refused (subject, method and path, result 400)" \
  grep -q 'audit subject="CN=operator,O=vnfctl test" role=operator op=POST /vnflcm/v2/vnf_instances instance=- result=400' "$work/server.log"
code=$(curl -sS -o "$work/b" -D "$work/h" -w '%{http_code}' --cacert "$work/pki/ca.pem" --cert "$work/pki/operator.pem" \
  --key "$work/pki/operator.key" -H 'Content-Type: application/json' --data '{"vnfdId":"fw"}' \
  "https://127.0.0.1:$port/vnflcm/v2/vnf_instances")
check "missing Version header: 400 ProblemDetails naming it" bash -c "[[ $code == 400 ]] && grep -q 'Version header is missing' '$work/b'"
code=$(curl -sS -o "$work/b" -w '%{http_code}' --cacert "$work/pki/ca.pem" --cert "$work/pki/operator.pem" \
  --key "$work/pki/operator.key" -H 'Version: 9.0.0' "https://127.0.0.1:$port/vnflcm/v2/vnf_instances")
check "unsupported Version: 406" test "$code" = 406
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfdid":"x"}')
check "unknown field: 400 naming it" bash -c "[[ $(status "$r") == 400 ]] && grep -q \"unknown field 'vnfdid'\" <<< \"\$1\"" _ "$r"
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":42}')
check "wrong type: 400 naming the field and the types" bash -c "[[ $(status "$r") == 400 ]] && grep -q \"'vnfdId' must be a string, not number\" <<< \"\$1\"" _ "$r"
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"nope"}')
check "unknown vnfdId: 422 naming it" bash -c "[[ $(status "$r") == 422 ]] && grep -q \"vnfdId 'nope' is not offered\" <<< \"\$1\"" _ "$r"
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"../etc/passwd"}')
check "a vnfdId with a path: 422, not read" test "$(status "$r")" = 422
head -c 10485760 /dev/zero | tr '\0' ' ' > "$work/big"
code=$(curl -sS -o "$work/b" -w '%{http_code}' --max-time 20 --cacert "$work/pki/ca.pem" --cert "$work/pki/operator.pem" \
  --key "$work/pki/operator.key" -H 'Version: 2.0.0' -H 'Content-Type: application/json' --data-binary "@$work/big" \
  "https://127.0.0.1:$port/vnflcm/v2/vnf_instances" 2>/dev/null) || code=${code:-000}
check "10 MB body: 413 or the connection closed (got $code)" bash -c "[[ $code == 413 || $code == 000 ]]"
check "... the server's own 413 is audited with the client's subject" \
  grep -q 'audit subject="CN=operator,O=vnfctl test" role=operator op=POST /vnflcm/v2/vnf_instances instance=- result=413' "$work/server.log"
code=$(curl -sS -o "$work/b" -w '%{http_code}' --max-time 20 --cacert "$work/pki/ca.pem" --cert "$work/pki/reader.pem" \
  --key "$work/pki/reader.key" -H 'Version: 2.0.0' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" \
  "https://127.0.0.1:$port/vnflcm/v2/vnf_instances" 2>/dev/null) || code=${code:-000}
check "a 20 KB header: 431 (limit 16 KiB) or the connection closed (got $code)" bash -c "[[ $code == 431 || $code == 000 ]]"
t=$(python3 "$src/tests/integration/api_slow_client.py" 127.0.0.1 "$port" "$work/pki" 20)
check "a client sending one byte per second is cut at the 3 s request deadline (closed after $t s)" \
  python3 -c "import sys; t=sys.argv[1]; sys.exit(0 if t not in ('never',) and not t.startswith('answered') and float(t) <= 6 else 1)" "$t"
check "no bad request created an instance" test "$(count)" = 0
check "the server still runs after the bad input" kill -0 "$server_pid"

# --- the whole lifecycle
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"edge fw","metadata":{"site":"a"}}')
inst=$(body "$r" | jget '["id"]')
check "create: 201, Location, NOT_INSTANTIATED" bash -c "[[ $(status "$r") == 201 ]] && [[ '$(location)' == /vnflcm/v2/vnf_instances/$inst ]] && grep -q '\"instantiationState\":\"NOT_INSTANTIATED\"' <<< \"\$1\"" _ "$r"
ip=/vnflcm/v2/vnf_instances/$inst
r=$(api operator POST "$ip/instantiate" '{"flavourId":"default","additionalParams":{"vcpus":1,"bogus":1}}')
check "instantiate with an additionalParams field the spec does not know: 422, nothing started" \
  bash -c "[[ $(status "$r") == 422 ]] && grep -q bogus <<< \"\$1\"" _ "$r"
r=$(api operator POST "$ip/instantiate" '{"flavourId":"default","additionalParams":{"vcpus":1}}')
occ=$(location)
check "instantiate: 202, empty body, Location of an op occ" bash -c "[[ $(status "$r") == 202 ]] && [[ -z \$1 ]] && [[ '$occ' == /vnflcm/v2/vnf_lcm_op_occs/* ]]" _ "$(body "$r")"
check "instantiate's op occ reaches COMPLETED" wait_occ "$occ" COMPLETED
v=$(body "$(api reader GET "$ip")")
check "the instance is INSTANTIATED, STARTED, one VNFC running in libvirt" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); i=d["instantiatedVnfInfo"]
assert d["instantiationState"]=="INSTANTIATED" and i["vnfState"]=="STARTED", d
assert len(i["vnfcResourceInfo"])==1 and i["vnfcResourceInfo"][0]["metadata"]["libvirtState"]=="running", i' "$v"
check "an audit line names the subject, operation, instance and result" \
  grep -q "audit subject=\"CN=operator,O=vnfctl test\" role=operator op=INSTANTIATE instance=$inst result=202" "$work/server.log"
r=$(api operator PATCH "$ip" '{"vnfInstanceName":"renamed","metadata":{"site":null,"rack":"7"}}')
check "PATCH needs application/merge-patch+json or json: json accepted, 202 + MODIFY_INFO" bash -c "[[ $(status "$r") == 202 ]]"
wait_occ "$(location)" COMPLETED > /dev/null
v=$(body "$(api reader GET "$ip")")
check "the merge patch renamed it and merged metadata" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); assert d["vnfInstanceName"]=="renamed" and d["metadata"]=={"rack":"7"}, d' "$v"
r=$(API_CT=application/merge-patch+json api operator PATCH "$ip" '{"vnfInstanceDescription":"patched"}')
mocc=$(location)
check "PATCH as application/merge-patch+json: 202 + an op occ" bash -c "[[ $(status "$r") == 202 && '$mocc' == /vnflcm/v2/vnf_lcm_op_occs/* ]]"
wait_occ "$mocc" COMPLETED > /dev/null
mop=$(body "$(api reader GET "$mocc")" | jget '["operation"]')
mdesc=$(body "$(api reader GET "$ip")" | jget '["vnfInstanceDescription"]')
check "... whose operation is MODIFY_INFO ($mop), and the description changed ($mdesc)" \
  bash -c "[[ '$mop' == MODIFY_INFO && '$mdesc' == patched ]]"

task() { # task PATH BODY STATE -> waits for the op occ
  local r; r=$(api operator POST "$1" "$2")
  [[ $(status "$r") == 202 ]] || { echo "got $(status "$r"): $(body "$r")"; return 1; }
  wait_occ "$(location)" "$3" > /dev/null
}
vnfstate() { body "$(api reader GET "$ip")" | jget '["instantiatedVnfInfo"]["vnfState"]'; }
nvnfc() { body "$(api reader GET "$ip")" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["instantiatedVnfInfo"]["vnfcResourceInfo"]))'; }
check "operate STOPPED (forceful) completes" task "$ip/operate" '{"changeStateTo":"STOPPED"}' COMPLETED
check "... the VNF reads STOPPED from libvirt" test "$(vnfstate)" = STOPPED
check "operate STARTED completes" task "$ip/operate" '{"changeStateTo":"STARTED"}' COMPLETED
check "... and reads STARTED" test "$(vnfstate)" = STARTED
check "scale out by 2 (aspect vnfc) completes" task "$ip/scale" '{"type":"SCALE_OUT","aspectId":"vnfc","numberOfSteps":2}' COMPLETED
check "... 3 VNFCs" test "$(nvnfc)" = 3
r=$(api operator POST "$ip/scale" '{"type":"SCALE_OUT","aspectId":"disk","numberOfSteps":1}')
check "scale of an unknown aspect: 400" test "$(status "$r")" = 400
check "scale in by 1 completes" task "$ip/scale" '{"type":"SCALE_IN","aspectId":"vnfc","numberOfSteps":1}' COMPLETED
check "... 2 VNFCs, scaleLevel 1" bash -c "[[ $(nvnfc) == 2 ]] && [[ $(body "$(api reader GET "$ip")" | jget '["instantiatedVnfInfo"]["scaleStatus"][0]["scaleLevel"]') == 1 ]]"
check "heal (restart) completes" task "$ip/heal" '{"cause":"test"}' COMPLETED
check "heal (redefine) of one VNFC completes" task "$ip/heal" "{\"vnfcInstanceId\":[\"$(body "$(api reader GET "$ip")" | jget '["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"]')\"],\"additionalParams\":{\"healType\":\"redefine\"}}" COMPLETED
check "... STARTED after heal" test "$(vnfstate)" = STARTED
r=$(api operator DELETE "$ip")
check "DELETE while INSTANTIATED: 409" test "$(status "$r")" = 409
check "terminate (graceful, 2 s) completes" task "$ip/terminate" '{"terminationType":"GRACEFUL","gracefulTerminationTimeout":2}' COMPLETED
check "... NOT_INSTANTIATED" test "$(body "$(api reader GET "$ip")" | jget '["instantiationState"]')" = NOT_INSTANTIATED
r=$(api operator DELETE "$ip")
check "DELETE: 204" test "$(status "$r")" = 204
r=$(api reader GET "$ip")
check "GET after DELETE: 404 ProblemDetails" problem_is 404 "$r"

# --- lists: paging (page size 2) and filters
for n in a b c; do api operator POST /vnflcm/v2/vnf_instances "{\"vnfdId\":\"fw\",\"vnfInstanceName\":\"$n\"}" > /dev/null; done
r=$(api reader GET /vnflcm/v2/vnf_instances)
next=$(sed -n 's/^[Ll]ink: *<\([^>]*\)>; rel="next".*/\1/p' "$work/h" | sed 's|https://[^/]*||')
check "list: a page of 2 with Link rel=next" bash -c "[[ $(body "$r" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 2 && -n '$next' ]]"
r=$(api reader GET "$next")
check "... the next page has the third, and no further Link" bash -c "[[ \$1 == c ]] && ! grep -qi '^link:' '$work/h'" _ "$(body "$r" | jget '[0]["vnfInstanceName"]')"
r=$(api reader GET '/vnflcm/v2/vnf_instances?filter=(eq,vnfInstanceName,b)')
check "filter (eq,vnfInstanceName,b): exactly that one" test "$(body "$r" | python3 -c 'import json,sys; print([i["vnfInstanceName"] for i in json.load(sys.stdin)])')" = "['b']"
bid=$(body "$r" | jget '[0]["id"]')
r=$(api reader GET "/vnflcm/v2/vnf_instances?filter=(eq,id,$bid)")
check "filter (eq,id,ID of b): exactly b" test "$(body "$r" | python3 -c 'import json,sys; print([(i["id"], i["vnfInstanceName"]) for i in json.load(sys.stdin)])')" = "[('$bid', 'b')]"
r=$(api reader GET '/vnflcm/v2/vnf_instances?filter=(neq,instantiationState,NOT_INSTANTIATED)')
check "filter (neq,instantiationState,NOT_INSTANTIATED): none (all three are not instantiated)" bash -c "[[ $(status "$r") == 200 && \$1 == '[]' ]]" _ "$(body "$r")"
r=$(api reader GET '/vnflcm/v2/vnf_instances?filter=(eq,password,b)')
check "filter on an unknown attribute: 400" test "$(status "$r")" = 400
code=$(curl -sS -o "$work/b" -w '%{http_code}' --cacert "$work/pki/ca.pem" --cert "$work/pki/reader.pem" \
  --key "$work/pki/reader.key" "https://127.0.0.1:$port/metrics" 2>/dev/null) || code=000
check "/metrics: Prometheus text for a reader without a Version header ($code)" \
  bash -c "[[ $code == 200 ]] && grep -q 'vnfctl_vnf_instances{state=\"NOT_INSTANTIATED\"} 3' '$work/b'"
stop_server

# --- kill -9 during instantiate, then retry; concurrent tasks on one instance
start_server VNFCTL_TEST_HOLD=define || exit 1
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"killed"}')
k=/vnflcm/v2/vnf_instances/$(body "$r" | jget '["id"]')
API_TAG=1 api operator POST "$k/instantiate" '{"flavourId":"default"}' > "$work/i1" &
p1=$!
API_TAG=2 api operator POST "$k/instantiate" '{"flavourId":"default"}' > "$work/i2" &
p2=$!
wait "$p1" "$p2"
codes=$(sort <(head -1 "$work/i1") <(head -1 "$work/i2") | tr '\n' ' ')
check "two instantiates at once on one instance: one 202, one 409 ($codes)" test "$codes" = "202 409 "
occk=$(body "$(api reader GET "/vnflcm/v2/vnf_lcm_op_occs?filter=(eq,vnfInstanceId,${k##*/})")" | jget '[0]["id"]')
check "the op occ is PROCESSING (held after define)" wait_occ "/vnflcm/v2/vnf_lcm_op_occs/$occk" PROCESSING
r=$(api operator POST "$k/terminate" '{"terminationType":"FORCEFUL"}')
check "another task while one is in progress: 409 OtherOperationInProgress" bash -c "[[ $(status "$r") == 409 ]] && grep -q OtherOperationInProgress <<< \"\$1\"" _ "$r"
kill9_server
start_server || exit 1
o=$(body "$(api reader GET "/vnflcm/v2/vnf_lcm_op_occs/$occk")")
check "after kill -9 and a restart the op occ is FAILED_TEMP with the reason" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); assert d["operationState"]=="FAILED_TEMP" and "server stopped" in d["error"]["detail"], d' "$o"
check "the server log says so" grep -q "FAILED_TEMP" "$work/server.log"
r=$(api operator POST "/vnflcm/v2/vnf_lcm_op_occs/$occk/retry")
check "retry: 202" test "$(status "$r")" = 202
check "... the retried instantiate reaches COMPLETED" wait_occ "/vnflcm/v2/vnf_lcm_op_occs/$occk" COMPLETED
check "... the instance is INSTANTIATED" test "$(body "$(api reader GET "$k")" | jget '["instantiationState"]')" = INSTANTIATED
r=$(api reader GET '/vnflcm/v2/vnf_instances?filter=(eq,instantiationState,INSTANTIATED)')
check "filter (eq,instantiationState,INSTANTIATED): exactly the retried one among four" \
  test "$(body "$r" | python3 -c 'import json,sys; print([i["vnfInstanceName"] for i in json.load(sys.stdin)])')" = "['killed']"
stop_server

# --- kill -9 during instantiate, restart, then rollback
start_server VNFCTL_TEST_HOLD=define || exit 1
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"killed-rolled-back"}')
kr=/vnflcm/v2/vnf_instances/$(body "$r" | jget '["id"]')
api operator POST "$kr/instantiate" '{"flavourId":"default"}' > /dev/null
occkr=$(location)
wait_occ "$occkr" PROCESSING > /dev/null
kill9_server
start_server || exit 1
check "killed during instantiate: FAILED_TEMP after the restart" wait_occ "$occkr" FAILED_TEMP
r=$(api operator POST "$occkr/rollback")
check "rollback after kill -9: 202" test "$(status "$r")" = 202
check "... ROLLED_BACK" wait_occ "$occkr" ROLLED_BACK
check "... the instance is NOT_INSTANTIATED with no VNFC" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); assert d["instantiationState"]=="NOT_INSTANTIATED" and "instantiatedVnfInfo" not in d, d' \
  "$(body "$(api reader GET "$kr")")"
api operator POST "$kr/instantiate" '{"flavourId":"default"}' > /dev/null
check "... and a new instantiate of it completes" wait_occ "$(location)" COMPLETED
stop_server

start_server VNFCTL_TEST_HOLD=start || exit 1
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"rolled"}')
rb=/vnflcm/v2/vnf_instances/$(body "$r" | jget '["id"]')
api operator POST "$rb/instantiate" '{"flavourId":"default"}' > /dev/null
occr=$(location)
wait_occ "$occr" PROCESSING > /dev/null
kill9_server
start_server || exit 1
check "killed during start: FAILED_TEMP after restart" wait_occ "$occr" FAILED_TEMP
r=$(api operator POST "$occr/fail")
r2=$(api operator POST "$occr/rollback")
check "fail from FAILED_TEMP: 200 FAILED; rollback after that: 409" bash -c "[[ $(status "$r") == 200 ]] && [[ $(body "$r" | jget '["operationState"]') == FAILED ]] && [[ $(status "$r2") == 409 ]]"
api operator POST "$rb/instantiate" '{"flavourId":"default"}' > /dev/null
check "a new instantiate after FAILED completes" wait_occ "$(location)" COMPLETED
stop_server

start_server VNFCTL_TEST_FAIL=define || exit 1
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"failing"}')
fi=/vnflcm/v2/vnf_instances/$(body "$r" | jget '["id"]')
api operator POST "$fi/instantiate" '{"flavourId":"default"}' > /dev/null
occf=$(location)
check "an instantiate that fails in define: FAILED_TEMP with a ProblemDetails error" wait_occ "$occf" FAILED_TEMP
o=$(body "$(api reader GET "$occf")")
check "... the error names the injected failure" grep -q 'injected failure after define' <<< "$o"
r=$(api operator POST "$occf/rollback")
check "rollback: 202, then ROLLED_BACK, instance NOT_INSTANTIATED" bash -c "[[ $(status "$r") == 202 ]]"
check "... ROLLED_BACK" wait_occ "$occf" ROLLED_BACK
check "... NOT_INSTANTIATED" test "$(body "$(api reader GET "$fi")" | jget '["instantiationState"]')" = NOT_INSTANTIATED
stop_server
check "SIGTERM stops the server cleanly" grep -q "stopped" "$work/server.log"

# --- subscriptions: the test GET, notifications over HTTPS, a retry after a 503
python3 "$src/tests/integration/api_subscriber.py" "$work/subport" "$work/pki/server.pem" "$work/pki/server.key" \
  "$work/notes" 1 &
sub_pid=$!
extra_pids+=("$sub_pid")
for _ in $(seq 50); do [[ -s $work/subport ]] && break; sleep 0.1; done
SERVE_ARGS="--notify-ca $work/pki/ca.pem" start_server || exit 1
r=$(api operator POST /vnflcm/v2/subscriptions "{\"callbackUri\":\"https://127.0.0.1:$(cat "$work/subport")/notify\",\"filter\":{\"notificationTypes\":[\"VnfLcmOperationOccurrenceNotification\",\"VnfIdentifierCreationNotification\",\"VnfIdentifierDeletionNotification\"]}}")
check "subscribe: 201 after the subscriber's test GET answered 204" test "$(status "$r")" = 201
r=$(api operator POST /vnflcm/v2/subscriptions '{"callbackUri":"https://127.0.0.1:1/none"}')
check "a callbackUri that does not answer: 422 naming it" bash -c "[[ $(status "$r") == 422 ]] && grep -q 'test GET' <<< \"\$1\"" _ "$r"
r=$(api operator POST /vnflcm/v2/subscriptions '{"callbackUri":"http://127.0.0.1:1/none"}')
check "an http:// callbackUri: 422" test "$(status "$r")" = 422
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"notified"}')
ni=/vnflcm/v2/vnf_instances/$(body "$r" | jget '["id"]')
api operator POST "$ni/instantiate" '{"flavourId":"default"}' > /dev/null
wait_occ "$(location)" COMPLETED
notes_ok() {
  python3 - "$work/notes" "${ni##*/}" <<'PY'
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
inst = sys.argv[2]
kinds = [(n["notificationType"], n.get("operationState", "")) for n in seen if n["vnfInstanceId"] == inst]
want = [("VnfIdentifierCreationNotification", ""), ("VnfLcmOperationOccurrenceNotification", "STARTING"),
        ("VnfLcmOperationOccurrenceNotification", "PROCESSING"), ("VnfLcmOperationOccurrenceNotification", "COMPLETED")]
sys.exit(0 if sorted(kinds) == sorted(want) and all(n["subscriptionId"] for n in seen) else 1)
PY
}
for _ in $(seq 60); do notes_ok && break; sleep 0.1; done
check "creation and STARTING/PROCESSING/COMPLETED notifications arrive (the first after a 503 and a retry)" notes_ok
check "... the failed delivery was retried with backoff" grep -q "attempt 2 of 5" "$work/server.log"
r=$(api operator POST /vnflcm/v2/vnf_instances '{"vnfdId":"fw","vnfInstanceName":"deleted"}')
di=$(body "$r" | jget '["id"]')
r=$(api operator DELETE "/vnflcm/v2/vnf_instances/$di")
deletion_seen() {
  python3 -c '
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(n["notificationType"] == "VnfIdentifierDeletionNotification" and n["vnfInstanceId"] == sys.argv[2]
                  for n in seen) else 1)' "$work/notes" "$di"
}
for _ in $(seq 60); do deletion_seen && break; sleep 0.1; done
check "DELETE of an instance: 204" test "$(status "$r")" = 204
check "... delivers a VnfIdentifierDeletionNotification for it" deletion_seen
sid=$(body "$(api reader GET /vnflcm/v2/subscriptions)" | jget '[0]["id"]')
r=$(api operator DELETE "/vnflcm/v2/subscriptions/$sid")
check "unsubscribe: 204, then 404" bash -c "[[ $(status "$r") == 204 && $(status "$(api reader GET "/vnflcm/v2/subscriptions/$sid")") == 404 ]]"
kill "$sub_pid" 2>/dev/null
stop_server

# --- a subscriber that accepts TLS and never answers: the test GET is bounded (--notify-timeout 2)
# and the other HTTP thread serves meanwhile
python3 - "$work/hungport" "$work/pki/server.pem" "$work/pki/server.key" "$work/hungaccepts" <<'PY' &
import socket, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
held = []
while True:
    c, _ = srv.accept()
    try:
        held.append(ctx.wrap_socket(c, server_side=True))  # the handshake, then silence
        open(sys.argv[4], "a").write("accepted\n")
    except Exception:
        pass
PY
extra_pids+=($!)
for _ in $(seq 50); do [[ -s $work/hungport ]] && break; sleep 0.1; done
SERVE_ARGS="--notify-ca $work/pki/ca.pem --notify-timeout 2" start_server || exit 1
t0=$(date +%s.%N)
API_TAG=3 api operator POST /vnflcm/v2/subscriptions "{\"callbackUri\":\"https://127.0.0.1:$(cat "$work/hungport")/notify\"}" > "$work/hung" &
hp=$!
for _ in $(seq 100); do [[ -s $work/hungaccepts ]] && break; sleep 0.05; done  # the test GET is connected
r=$(api reader GET /vnflcm/v2/vnf_instances)
check "while a test GET waits on a silent subscriber, other requests are served ($(status "$r"))" \
  bash -c "[[ -s '$work/hungaccepts' && $(status "$r") == 200 ]] && kill -0 $hp 2>/dev/null"
wait "$hp"
t=$(python3 -c "import sys,time; print(round(time.time()-float(sys.argv[1]),1))" "$t0")
check "POST /subscriptions to it: 422 ProblemDetails after the 2 s bound (took $t s)" bash -c "
  [[ \$(head -1 '$work/hung') == 422 ]] && grep -q 'no answer within 2000 ms' '$work/hung' &&
  python3 -c 'import sys; sys.exit(0 if 1.5 <= float(sys.argv[1]) <= 6 else 1)' $t"
stop_server

# --- the connection limit: with 2 held open, a third is closed at accept; later ones get in
REQUEST_TIMEOUT=30 SERVE_ARGS="--max-connections 2" start_server || exit 1
mkfifo "$work/hold"  # the two sessions read it; closing the writer ends both
for i in 1 2; do
  openssl s_client -connect "127.0.0.1:$port" -CAfile "$work/pki/ca.pem" \
    -cert "$work/pki/reader.pem" -key "$work/pki/reader.key" < "$work/hold" > "$work/held$i" 2>&1 &
  extra_pids+=($!)
done
exec 7> "$work/hold"
for _ in $(seq 100); do  # both handshakes done (s_client printed the verify result)
  grep -q 'verify return' "$work/held1" && grep -q 'verify return' "$work/held2" && break
  sleep 0.1
done
sleep 0.3
r=$(api reader GET /vnflcm/v2/api_versions)
check "a third connection over --max-connections 2 is closed ($(status "$r"))" test "$(status "$r")" = 000
exec 7>&-  # ends the two s_client sessions (their stdin closes)
for _ in $(seq 50); do r=$(api reader GET /vnflcm/v2/api_versions); [[ $(status "$r") == 200 ]] && break; sleep 0.1; done
check "... and once they are gone the next one is served" test "$(status "$r")" = 200
stop_server
finish
