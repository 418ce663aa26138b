#!/usr/bin/env bash
# vnfctl diagnose against the real kernel, in a private network namespace: a bridge br9 (MTU 9000
# path) with a VNF port vd9a (a veth standing in for the tap, so frames can enter it) and a second
# port eth9 at MTU 1500, a bridge-family nftables rule that drops what comes in on vd9a (its
# counter raised by frames sent into the peer), a policy-drop chain whose only accept is not for
# the VNF, an iptables-nft REJECT (when iptables-nft is installed), and bad inputs: an unknown VNF,
# a stopped VNF, a NIC without ethtool ring support. The VNFs' domain XML is a recorded answer; everything else is
# read live (sysfs, libnftables, SIOCETHTOOL, /dev/kmsg). Needs root; no libvirt, no VM.
set -uo pipefail
vnfctl=$1
ns=vnfdiag$$
work=$(mktemp -d /tmp/vnfctl-diag.XXXXXX)
pass=0
failed=0
cleanup() {
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
in_ns() { ip netns exec "$ns" "$@"; }
# jq-like: python3 -c over the JSON in $out
js() { python3 -c "import json,sys; d=json.load(open('$work/out.json')); $1"; }

ip netns add "$ns" || { echo "FAIL: cannot create a network namespace (root needed)"; exit 1; }
in_ns ip link set lo up
in_ns ip link add br9 type bridge
in_ns ip link add vd9a mtu 9000 type veth peer name vd9g mtu 9000
in_ns ip link add eth9 mtu 1500 type veth peer name eth9p mtu 1500
in_ns ip link set vd9a master br9
in_ns ip link set eth9 master br9
for d in br9 vd9a vd9g eth9 eth9p; do in_ns ip link set "$d" up; done
in_ns nft -f - <<'NFT'
table bridge vnfdiagtest {
  chain vnffwd {
    type filter hook forward priority 0; policy accept;
    iifname "vd9a" counter drop
  }
}
NFT
# Frames into the bridge through vd9a: flooded towards eth9, so the forward hook sees (and drops) them.
in_ns python3 - <<'PY'
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vd9g", 0))
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x09\x01" + b"\x88\xb5" + b"vnfctl-diagnose-test".ljust(46, b".")
for _ in range(7):
    s.send(frame)
PY
sleep 0.3

xml() { # xml NAME TAP MTU
  printf '<domain type="kvm"><name>%s</name><metadata><vnfctl:vnf xmlns:vnfctl="urn:vnfctl:domain:1"><vnfctl:spec hash="0123456789abcdef"/><vnfctl:tool version="0.1.0"/><vnfctl:image hash=""/><vnfctl:placement node="0" memory-kib="524288" page-size-kib="0" hugepages="0"><vnfctl:shared cpus="0"/></vnfctl:placement></vnfctl:vnf></metadata><devices><interface type="ethernet"><target dev="%s" managed="no"/><mtu size="%s"/></interface></devices></domain>' "$1" "$2" "$3"
}
python3 - "$work/answers.json" "$(xml net9 vd9a 9000)" "$(xml idle9 vd9a 9000)" <<'PY'
import json, sys
json.dump({"schema": "vnfctl.diagnose-answers/v1",
           "domains": [{"name": "net9", "state": "running", "xml": sys.argv[2]},
                       {"name": "idle9", "state": "shut off", "xml": sys.argv[3]}]}, open(sys.argv[1], "w"))
PY

# 1. The drop rule, by name, with its counter; the 1500 hop in the 9000 path.
in_ns "$vnfctl" diagnose net9 --answers "$work/answers.json" --seconds 1 --json > "$work/out.json"; rc=$?
cat "$work/out.json"
check "net9: exit 1 (a finding failed)" test $rc = 1
check "forward.rule names the rule's chain, the tap and a counter > 0" js "
f=[x for x in d['findings'] if x['check']=='forward.rule']
import re
m=re.search(r'in chain bridge vnfdiagtest vnffwd drops traffic on vd9a \(counter (\d+) packets\)', f[0]['seen'])
sys.exit(0 if f and f[0]['severity']=='fail' and m and int(m.group(1))>=7 and 'nft delete rule bridge vnfdiagtest vnffwd handle' in f[0]['fix'] else 1)"
check "mtu.path: eth9 is the 1500 hop in the 9000 path" js "
f=[x for x in d['findings'] if x['check']=='mtu.path' and 'port eth9' in x['seen']]
sys.exit(0 if f and f[0]['severity']=='fail' and 'has MTU 1500, the spec wants 9000' in f[0]['seen'] and f[0]['fix']=='ip link set dev eth9 mtu 9000' else 1)"
check "mtu.tap: vd9a at 9000 is fine" js "
f=[x for x in d['findings'] if x['check']=='mtu.tap']
sys.exit(0 if f and f[0]['severity']=='ok' else 1)"
check "the path was sampled (a hop for vd9a)" js "
sys.exit(0 if any(h['hop']=='tap vd9a -> guest' for h in d['path']) else 1)"

# 1b. iptables-nft -j REJECT on the VNF's port (an xtables target in libnftables' JSON): found as a
# reject rule with its counter, when iptables-nft is installed.
if command -v iptables-nft >/dev/null 2>&1; then
  in_ns iptables-nft -A FORWARD -i vd9a -j REJECT
  in_ns "$vnfctl" diagnose net9 --answers "$work/answers.json" --seconds 0 --json > "$work/out.json"
  check "iptables-nft REJECT on vd9a: a forward.rule that rejects, with the fix" js "
f=[x for x in d['findings'] if x['check']=='forward.rule' and 'in chain ip filter FORWARD rejects traffic on vd9a' in x['seen']]
sys.exit(0 if f and f[0]['severity']=='fail' and 'nft delete rule ip filter FORWARD handle' in f[0]['fix'] else 1)"
  in_ns iptables-nft -F FORWARD
  in_ns nft delete table ip filter 2>/dev/null
else
  echo "SKIP: iptables-nft is not installed (the xt REJECT rule is tested on recorded fixtures)"
fi

# 1c. A forward chain with policy drop whose only accept matches something else than the VNF's
# interfaces (as ufw's and Docker's "ct state established,related accept" does; this kernel's bridge
# family may lack conntrack, so an ARP accept stands in): forward.policy fails.
in_ns nft -f - <<'NFT'
table bridge vnfdiagufw {
  chain ufwfwd {
    type filter hook forward priority 0; policy drop;
    ether type arp counter accept
  }
}
NFT
in_ns "$vnfctl" diagnose net9 --answers "$work/answers.json" --seconds 0 --json > "$work/out.json"
check "policy drop with only an ARP accept: forward.policy fails" js "
f=[x for x in d['findings'] if x['check']=='forward.policy' and 'chain bridge vnfdiagufw ufwfwd' in x['seen']]
sys.exit(0 if f and f[0]['severity']=='fail' else 1)"
in_ns nft delete table bridge vnfdiagufw

# 2. Remove the rule and raise eth9's MTU: those findings clear.
in_ns nft delete table bridge vnfdiagtest
in_ns ip link set eth9 mtu 9000
in_ns ip link set br9 mtu 9000
in_ns "$vnfctl" diagnose net9 --answers "$work/answers.json" --seconds 0 --json > "$work/out.json"; rc=$?
check "fixed: no forward.rule and no failing mtu.* finding" js "
bad=[x for x in d['findings'] if x['check']=='forward.rule' or (x['check'].startswith('mtu.') and x['severity']=='fail')]
sys.exit(0 if not bad else 1)"

# 3. Bad input: an unknown VNF (exit 5, did you mean), a stopped one (a finding, exit 1), no name.
out=$(in_ns "$vnfctl" diagnose net8 --answers "$work/answers.json" --seconds 0 2>&1); rc=$?
echo "$out"
check "unknown VNF: exit 5" test $rc = 5
check "unknown VNF: did you mean net9" grep -q "did you mean net9" <<<"$out"
out=$(in_ns "$vnfctl" diagnose idle9 --answers "$work/answers.json" --seconds 0 2>&1); rc=$?
echo "$out"
check "stopped VNF: exit 1 with the state finding and its fix" bash -c "test $rc = 1 && grep -q 'fix: vnfctl start idle9' <<<\"\$0\"" "$out"
out=$("$vnfctl" diagnose 2>&1); rc=$?
check "no name and no --all: exit 2" test $rc = 2
out=$("$vnfctl" diagnose net9 --answers /dev/zero 2>&1); rc=$?
check "/dev/zero as answers: exit 2, refused by name" bash -c "test $rc = 2 && grep -q /dev/zero <<<\"\$0\"" "$out"

# 4. A NIC without ethtool ring support (a veth, lo): tune refuses with the driver's reason.
out=$(in_ns "$vnfctl" tune --nic vd9a --rings max --dry-run 2>&1); rc=$?
echo "$out"
check "tune on a veth: a clear error, not a crash (exit 1..3)" bash -c "test $rc -ge 1 && test $rc -le 3 && grep -q 'ETHTOOL_GRINGPARAM on vd9a: not supported' <<<\"\$0\"" "$out"
# Bad input for tune, for real (no --dry-run, --force so libvirt's answer does not matter): a veth
# and a tap (no ring support; this kernel has no dummy module), an unknown NIC, a path as a NIC, and sizes 0, huge, non-numeric,
# negative, above 65536. Each: exit 2, the value named, no journal written, nothing changed.
in_ns ip tuntap add d9 mode tap
tj=$work/tune-bad.json
tune_bad() { # tune_bad WHAT EXPECTED_TEXT ARGS...
  local what=$1 want=$2; shift 2
  out=$(in_ns "$vnfctl" tune --force --journal "$tj" "$@" 2>&1); rc=$?
  echo "$out"
  check "tune $what: exit 2, says '$want', no journal" bash -c "test $rc = 2 && grep -qF -- \"\$1\" <<<\"\$0\" && test ! -e '$tj'" "$out" "$want"
}
mtu_before=$(in_ns cat /sys/class/net/vd9a/mtu /sys/class/net/d9/mtu)
tune_bad "on a veth" "ETHTOOL_GRINGPARAM on vd9a: not supported" --nic vd9a --rings max
tune_bad "on a tap" "ETHTOOL_GRINGPARAM on d9: not supported" --nic d9 --rings 1024
tune_bad "on an unknown NIC" "no network interface named 'nosuch9'" --nic nosuch9 --rings max
tune_bad "on a path as a NIC" "no network interface named '../d9'" --nic ../d9 --rings max
tune_bad "two bad NICs at once: both named" "ETHTOOL_GRINGPARAM on vd9a: not supported by its driver (Operation not supported); no network interface named 'nosuch9'; nothing was changed" --nic vd9a --nic nosuch9 --rings max
for n in 0 abc 99999999999999999999 -5 65537; do
  tune_bad "--rings '$n'" "--rings $n: not 'max' or a number 1..65536" --nic d9 --rings="$n"
done
tune_bad "with nothing to tune" "nothing to tune" --nic d9
check "refused tunes changed nothing (MTUs, links still there)" test "$(in_ns cat /sys/class/net/vd9a/mtu /sys/class/net/d9/mtu)" = "$mtu_before"

# 5. SIGINT during the sample window: the run ends at once, says so, exit 130.
start=$(date +%s%N)
in_ns "$vnfctl" diagnose net9 --answers "$work/answers.json" --seconds 30 > "$work/int.out" 2>&1 &
pid=$!
sleep 3  # into the window (the static checks take well under a second)
# `ip netns exec` forks and waits: the signal goes to vnfctl, its child.
child=$(pgrep -P "$pid" | head -1)
kill -INT "${child:-$pid}"
wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$work/int.out"
check "SIGINT in the window: exit 130" test $rc = 130
check "SIGINT in the window: ended within 5 s of 30 (took $ms ms)" test $ms -lt 5000
check "SIGINT in the window: says it was interrupted" grep -q "interrupted during the sample window" "$work/int.out"

# 6. Two untune runs at once on an empty journal: both finish, neither corrupts anything.
"$vnfctl" untune --journal "$work/tune.json" > "$work/u1" 2>&1 & p1=$!
"$vnfctl" untune --journal "$work/tune.json" > "$work/u2" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
check "two untunes at once: both exit 0 with nothing to undo" bash -c "test $r1 = 0 && test $r2 = 0 && grep -q 'nothing to undo' '$work/u1' && grep -q 'nothing to undo' '$work/u2'"

echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
