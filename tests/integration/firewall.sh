#!/usr/bin/env bash
# vnfctl firewall on the real kernel, inside network namespaces made for the test (the host's own
# ruleset is compared before and after and must not change). Needs root; no libvirt (--no-libvirt
# with the interfaces named on the command line, the override documented for tests).
#
#   ns A (10.77.1.2 allowed, 10.77.1.200 not) --veth-- [mgmt0 10.77.1.1]
#   ns B (10.77.2.2)                          --veth-- [other0 10.77.2.1]   ns H: vnfctl, listeners
#   ns V0 (10.77.9.1) --veth-- [vnftap0]-+- vnfbr0 -+-[vnftap1] --veth-- ns V1 (10.77.9.2)
#
# Checks: bad input (exit 2, message, nothing changed); pre-existing foreign and vnfctl tables;
# the API port answers only from the allowed network on the management NIC; SSH unless --no-ssh;
# frames between two VNF ports are dropped; apply twice is unchanged; remove restores the ruleset
# byte for byte; --confirm rolls back at its deadline, a confirm in time keeps it; SIGTERM during
# apply leaves the ruleset as before; two applies at once; a FIFO as journal; another netns.
set -uo pipefail
vnfctl=$(readlink -f "$1")
py=/usr/bin/python3
tag=fw$$
H=${tag}h A=${tag}a B=${tag}b V0=${tag}v0 V1=${tag}v1
work=$(mktemp -d /tmp/vnfctl-fw.XXXXXX)
st=$work/state
pass=0
failed=0
pids=()
host_before=$(nft list ruleset)

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for ns in $H $A $B $V0 $V1; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
inh() { ip netns exec "$H" "$@"; }
fwc() { inh "$vnfctl" firewall "$@"; }
paths=(--state-dir "$st" --lock "$work/fw.lock")
rules=(--no-libvirt --mgmt-nic mgmt0 --allow-from 10.77.1.0/25 --allow-from 10.77.2.0/24 --allow-from fd77::/64
       --vnf-port vnftap0 --vnf-port vnftap1 --vnf-bridge vnfbr0 --libvirt-bridge virbrfw)
# http CLIENT_NS [SOURCE] URL -> 0 when the listener answered within 1 s
http() {
  local ns=$1; shift
  local src=()
  [[ $1 != http* ]] && { src=(--interface "$1"); shift; }
  [[ $(ip netns exec "$ns" curl -s -o /dev/null --connect-timeout 1 --max-time 3 -w '%{http_code}' "${src[@]}" "$1") == 200 ]]
}
refused() { ! http "$@"; }
ruleset() { inh nft list ruleset; }
same_as() { [[ "$(ruleset)" == "$(cat "$1")" ]] || { diff <(cat "$1") <(ruleset) | head -20; return 1; }; }
applied() { local r; r=$(ruleset); [[ $r == *'table inet vnfctl {'*'vnfctl serve: the API'* ]]; }
listen() { # listen NS ADDR PORT
  mkdir -p "$work/www"
  ip netns exec "$1" "$py" -m http.server "$3" --bind "$2" --directory "$work/www" >/dev/null 2>&1 &
  pids+=($!)
  local i
  for i in $(seq 1 50); do
    [[ $(ip netns exec "$1" curl -s -o /dev/null -w '%{http_code}' "http://$2:$3/") == 200 ]] && return 0
    sleep 0.1
  done
  echo "listener on $2:$3 in $1 did not come up"; return 1
}
veth() { # veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B (ADDR "" = none)
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
  ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
  [[ -n $3 ]] && ip -n "$1" addr add "$3" dev "$2"
  [[ -n $6 ]] && ip -n "$4" addr add "$6" dev "$5"
  return 0
}

for ns in $H $A $B $V0 $V1; do ip netns add "$ns" && ip -n "$ns" link set lo up || { echo "FAIL: netns"; exit 1; }; done
veth "$H" mgmt0 10.77.1.1/24 "$A" a0 10.77.1.2/24 &&
  ip -n "$A" addr add 10.77.1.200/24 dev a0 &&
  veth "$H" other0 10.77.2.1/24 "$B" b0 10.77.2.2/24 &&
  ip -n "$H" link add vnfbr0 type bridge && ip -n "$H" link set vnfbr0 up &&
  veth "$H" vnftap0 "" "$V0" v0 10.77.9.1/24 && veth "$H" vnftap1 "" "$V1" v1 10.77.9.2/24 &&
  ip -n "$H" link set vnftap0 master vnfbr0 && ip -n "$H" link set vnftap1 master vnfbr0 ||
  { echo "FAIL: topology"; exit 1; }
listen "$H" 0.0.0.0 8443 && listen "$H" 0.0.0.0 22 && listen "$V1" 10.77.9.2 8080 || exit 1
api_a=http://10.77.1.1:8443/ api_b=http://10.77.2.1:8443/ ssh_b=http://10.77.2.1:22/ vnf=http://10.77.9.2:8080/

# Pre-existing tables: a foreign one (counters and all) and vnfctl's own (another version's).
inh nft -f - <<'EOF'
table ip foreign {
	chain c {
		type filter hook input priority 10; policy accept;
		tcp dport 9 counter accept
	}
}
table inet vnfctl {
	set old_hosts {
		type ipv4_addr
		elements = { 192.0.2.7 }
	}
	chain legacy {
		ip saddr @old_hosts accept
	}
}
table bridge vnfctl {
	chain legacy {
	}
}
table ip6 other {
}
EOF
ruleset > "$work/before"
check "before apply: API reachable from B (no firewall yet)" http "$B" "$api_b"
check "before apply: VNF port to VNF port through the bridge works" http "$V0" "$vnf"

# 1. Bad input: exit 2, the problem named with its limit and fix, nothing changed.
bad_case() { # bad_case "what" "expected text" ARGS...
  local what=$1 want=$2; shift 2
  local out rc
  out=$(fwc apply "${paths[@]}" --no-libvirt "$@" 2>&1); rc=$?
  if [[ $rc == 2 && $out == *"$want"* ]] && same_as "$work/before" && [[ ! -e $st/firewall-journal.json ]]; then
    ok "bad input: $what"
  else
    bad "bad input: $what (exit $rc): $out"
  fi
}
bad_case "port out of range" "--api-port '70000' is not a TCP port (1..65535) (fix: give a number from 1 to 65535" --api-port 70000
bad_case "host bits set" "did you mean --allow-from 10.77.1.0/24?" --mgmt-nic mgmt0 --allow-from 10.77.1.1/24
bad_case "not a network" "--allow-from 'lan' is not an IPv4 or IPv6 network" --mgmt-nic mgmt0 --allow-from lan
bad_case "prefix too long" "the prefix length '33' is outside 0..32" --mgmt-nic mgmt0 --allow-from 10.0.0.0/33
bad_case "interface name too long" "--vnf-port 'aaaaaaaaaaaaaaaa': 16 bytes long, Linux allows at most 15" --vnf-port aaaaaaaaaaaaaaaa
bad_case "quote in a name" "--mgmt-nic 'a\"b': the character '\"' is not allowed" --mgmt-nic 'a"b' --allow-from 10.0.0.0/8
bad_case "wildcard in a name" "the character '*' is not allowed" --vnf-port 'tap*'
bad_case "allow-from without mgmt-nic" "--allow-from 10.0.0.0/8 needs --mgmt-nic" --allow-from 10.0.0.0/8
bad_case "mgmt-nic without allow-from" "opens the API port to no one without --allow-from" --mgmt-nic mgmt0
bad_case "confirm 0" "--confirm '0' is not a number of seconds from 1 to 86400" --confirm 0
bad_case "confirm huge" "--confirm '99999999999' is not a number of seconds from 1 to 86400" --confirm 99999999999
bad_case "all problems at once" "3 problem(s) with the firewall request" --api-port 0 --ssh-port x --vnf-port 'a b'

# 2. Apply: changed, the API only from the allowed network on the management NIC.
out=$(fwc apply "${paths[@]}" "${rules[@]}" --json); rc=$?
check "apply: exit 0, changed (got $rc: $out)" [ "$rc" = 0 -a "${out:0:15}" = '{"changed":true' ]
check "apply: API answers from the allowed network (10.77.1.2 on mgmt0)" http "$A" 10.77.1.2 "$api_a"
check "apply: API refused from 10.77.1.200 (mgmt0, outside 10.77.1.0/25)" refused $A 10.77.1.200 $api_a
check "apply: API refused on another NIC (other0), though 10.77.2.0/24 is allowed" refused $B $api_b
check "apply: SSH open from anywhere" http "$B" "$ssh_b"
check "apply: traffic between two VNF ports is dropped" refused $V0 $vnf
check "apply: the foreign tables are untouched" bash -c "diff <(sed -n '/^table ip foreign/,/^}/p' $work/before) <(ip netns exec $H nft list table ip foreign) && ip netns exec $H nft list table ip6 other >/dev/null"
check "apply: no forward policy drop anywhere" bash -c "! ip netns exec $H nft list ruleset | grep -A1 'hook forward' | grep -q 'policy drop'"
applied_rules=$(ruleset)
out=$(fwc apply "${paths[@]}" "${rules[@]}" --json); rc=$?
check "apply twice: unchanged (got $rc: $out)" [ "$rc" = 0 -a "${out:0:16}" = '{"changed":false' ]
check "apply twice: the ruleset did not move" [ "$(ruleset)" = "$applied_rules" ]
out=$(fwc status "${paths[@]}"); check "status: applied ($out)" grep -q 'firewall: applied' <<<"$out"
out=$(fwc status "${paths[@]}" --json)
check "status --json: the VNF ports kept apart ($out)" grep -q '"isolated_ports":\["vnftap0","vnftap1"\]' <<<"$out"
# A journal written by a vnfctl that did not record the ports: an unchanged apply records them.
python3 -c 'import json,sys; p=sys.argv[1]; j=json.load(open(p)); del j["isolated_ports"]; open(p,"w").write(json.dumps(j))' "$st/firewall-journal.json"
out=$(fwc status "${paths[@]}" --json)
check "older journal: no isolated_ports ($out)" bash -c "! grep -q isolated_ports <<<'$out'"
out=$(fwc apply "${paths[@]}" "${rules[@]}" --json); rc=$?
check "older journal: apply again is unchanged (got $rc: $out)" [ "$rc" = 0 -a "${out:0:16}" = '{"changed":false' ]
out=$(fwc status "${paths[@]}" --json)
check "older journal: the unchanged apply recorded the ports ($out)" grep -q '"isolated_ports":\["vnftap0","vnftap1"\]' <<<"$out"
out=$(fwc confirm "${paths[@]}" 2>&1); rc=$?
check "confirm with nothing pending: exit 1, says so" [ "$rc" = 1 -a -n "$(grep 'no firewall change awaits a confirm' <<<"$out")" ]
out=$(ip netns exec "$B" "$vnfctl" firewall remove "${paths[@]}" 2>&1); rc=$?
check "remove from another netns: refused (exit $rc)" [ "$rc" = 1 -a -n "$(grep 'another network namespace' <<<"$out")" ]
check "remove from another netns: nothing changed" [ "$(ruleset)" = "$applied_rules" ]

# 3. Remove: byte for byte what was there, traffic as before.
out=$(fwc remove "${paths[@]}" --json); rc=$?
check "remove: exit 0, changed ($out)" [ "$rc" = 0 -a "$out" = '{"changed":true}' ]
check "remove: the ruleset is byte for byte as before" same_as "$work/before"
check "remove: journal gone" [ ! -e "$st/firewall-journal.json" ]
check "remove: VNF ports talk again" http "$V0" "$vnf"
out=$(fwc remove "${paths[@]}"); check "remove again: nothing to remove" grep -q 'nothing to remove' <<<"$out"

# 4. --no-ssh.
fwc apply "${paths[@]}" "${rules[@]}" --no-ssh >/dev/null
check "--no-ssh: SSH refused" refused $B $ssh_b
check "--no-ssh: API still answers from the allowed network" http "$A" 10.77.1.2 "$api_a"
fwc remove "${paths[@]}" >/dev/null
check "--no-ssh then remove: as before" same_as "$work/before"

# 5. --confirm: no confirm -> rolled back by the watchdog after apply exited.
t0=$(date +%s)
out=$(fwc apply "${paths[@]}" "${rules[@]}" --confirm 3); rc=$?
check "apply --confirm 3: exit 0, names the deadline ($out)" [ "$rc" = 0 -a -n "$(grep 'rolled back at' <<<"$out")" ]
check "apply --confirm 3: applied meanwhile" applied
out=$(fwc status "${paths[@]}"); check "status: awaiting confirm" grep -q 'awaiting `vnfctl firewall confirm`' <<<"$out"
out=$(fwc apply "${paths[@]}" "${rules[@]}" --no-ssh 2>&1); rc=$?
check "apply while a confirm is pending: exit 1, refused" [ "$rc" = 1 -a -n "$(grep 'awaits its confirm' <<<"$out")" ]
for _ in $(seq 1 150); do same_as "$work/before" >/dev/null && break; sleep 0.1; done
check "no confirm: rolled back by the watchdog, byte for byte (after $(( $(date +%s) - t0 )) s)" same_as "$work/before"
check "no confirm: journal gone" [ ! -e "$st/firewall-journal.json" ]
check "no confirm: the watchdog logged the rollback" grep -q 'no confirm by the deadline: rolled back' "$st/firewall-watchdog.log"
out=$(fwc confirm "${paths[@]}" 2>&1); rc=$?
check "confirm after the rollback: exit 1" [ "$rc" = 1 ]

# 6. --confirm on top of an applied firewall: rolls back to that firewall, not further.
fwc apply "${paths[@]}" "${rules[@]}" >/dev/null
first=$(ruleset)
fwc apply "${paths[@]}" "${rules[@]}" --no-ssh --confirm 1 >/dev/null
for _ in $(seq 1 120); do [[ "$(ruleset)" == "$first" ]] && break; sleep 0.1; done
check "rollback of a second apply: back to the first apply" [ "$(ruleset)" = "$first" ]
fwc remove "${paths[@]}" >/dev/null
check "then remove: as before" same_as "$work/before"

# 7. Confirm in time keeps it.
fwc apply "${paths[@]}" "${rules[@]}" --confirm 3 >/dev/null
out=$(fwc confirm "${paths[@]}"); rc=$?
check "confirm in time: exit 0 ($out)" [ "$rc" = 0 ]
sleep 3.5
check "confirm in time: still applied after the deadline" applied
check "confirm in time: the watchdog stood down" grep -q 'confirmed or superseded' "$st/firewall-watchdog.log"
fwc remove "${paths[@]}" >/dev/null
check "then remove: as before" same_as "$work/before"

# 8. SIGTERM right after the transaction (test seam), and at random moments.
VNFCTL_TEST_HOLD=firewall-commit ip netns exec "$H" "$vnfctl" firewall apply "${paths[@]}" "${rules[@]}" > "$work/held" 2>&1 &
hp=$!
for _ in $(seq 1 100); do grep -q 'test hold after firewall-commit' "$work/held" && break; sleep 0.1; done
check "held after the commit: the firewall is in the kernel" applied
kill -TERM "$hp"; wait "$hp"; rc=$?
check "SIGTERM after the commit: exit 130 ($(tail -1 "$work/held"))" [ "$rc" = 130 ]
check "SIGTERM after the commit: the ruleset is as before" same_as "$work/before"
check "SIGTERM after the commit: no journal left" [ ! -e "$st/firewall-journal.json" ]
for delay in 0.005 0.02 0.05 0.1 0.2; do
  ip netns exec "$H" "$vnfctl" firewall apply "${paths[@]}" "${rules[@]}" >/dev/null 2>&1 &
  p=$!; sleep "$delay"; kill -TERM "$p" 2>/dev/null; wait "$p"; rc=$?
  if [[ $rc == 0 ]]; then  # finished before the signal: it must be a complete apply
    check "SIGTERM at +${delay}s: finished first, applied" applied
    fwc remove "${paths[@]}" >/dev/null
  fi
  check "SIGTERM at +${delay}s (exit $rc): as before" same_as "$work/before"
done

# 9. Two applies at once: the lock serializes them, one changes, the other finds it done.
fwc apply "${paths[@]}" "${rules[@]}" --json > "$work/c1" 2>&1 & p1=$!
fwc apply "${paths[@]}" "${rules[@]}" --json > "$work/c2" 2>&1 & p2=$!
wait "$p1"; r1=$?; wait "$p2"; r2=$?
check "two at once: both exit 0 ($r1 $r2)" [ "$r1" = 0 -a "$r2" = 0 ]
check "two at once: exactly one changed" [ "$(cat "$work/c1" "$work/c2" | grep -c '"changed":true')" = 1 ]
check "two at once: applied once" [ "$(ruleset)" = "$applied_rules" ]
fwc remove "${paths[@]}" >/dev/null
check "then remove: as before" same_as "$work/before"

# 10. A FIFO where the journal goes: refused at once, nothing changed.
mkdir -p "$st" && mkfifo "$st/firewall-journal.json"
out=$(timeout 10 ip netns exec "$H" "$vnfctl" firewall apply "${paths[@]}" "${rules[@]}" 2>&1); rc=$?
check "FIFO as journal: refused (exit $rc), not hung" [ "$rc" = 3 -a -n "$(grep 'FIFO' <<<"$out")" ]
check "FIFO as journal: nothing changed" same_as "$work/before"
rm -f "$st/firewall-journal.json"

# 11. A watchdog killed (-9) before its deadline: the next firewall command rolls back for it.
fwc apply "${paths[@]}" "${rules[@]}" --confirm 4 >/dev/null
wd=""
for f in /proc/[0-9]*/cmdline; do  # builtins only: the scan must end well before the deadline
  mapfile -d '' a < "$f" 2>/dev/null || continue
  [[ "${a[*]}" == *"firewall watchdog --state-dir $st "* ]] && { wd=${f#/proc/}; wd=${wd%/cmdline}; }
done
check "the watchdog runs detached (pid ${wd:-none})" [ -n "$wd" ]
[[ -n $wd ]] && kill -KILL "$wd"
sleep 5
check "watchdog killed: nothing rolled back by itself" applied
out=$(fwc status "${paths[@]}"); check "status: the deadline passed ($out)" grep -q 'deadline passed' <<<"$out"
out=$(fwc confirm "${paths[@]}" 2>&1); rc=$?
check "confirm after the deadline: exit 6, too late ($out)" [ "$rc" = 6 -a -n "$(grep 'too late' <<<"$out")" ]
check "confirm after the deadline: rolled back, byte for byte" same_as "$work/before"
check "confirm after the deadline: journal gone" [ ! -e "$st/firewall-journal.json" ]

# 12. The golden rulesets of the unit tests are what the kernel accepts (nft -c: checked, not applied).
for g in "$(dirname "$0")"/../data/golden/firewall/*.nft; do
  check "golden $(basename "$g") passes nft -c" inh nft -c -f "$g"
done
check "golden files: nothing changed" same_as "$work/before"

# 13. plan: prints the ruleset checked by the kernel, changes nothing.
out=$(fwc plan "${rules[@]}"); rc=$?
check "plan: exit 0, the ruleset" [ "$rc" = 0 -a -n "$(grep 'policy drop' <<<"$out")" ]
check "plan: nothing changed" same_as "$work/before"

check "the host's own ruleset is untouched" [ "$(nft list ruleset)" = "$host_before" ]
echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
