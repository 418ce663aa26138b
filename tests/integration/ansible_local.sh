#!/usr/bin/env bash
# The collection on this machine (label "integration"): ansible-playbook against localhost and the
# real libvirt daemon (qemu:///system), two TCG VNFs (vnf-fwd in mode mac on host taps):
#   1. both running and forwarding (the e2e check at its rate, 500 frames/s: every frame out once with the MACs mode mac
#      writes), prepare of what this machine allows reports no change, verify passes
#   2. a second run: changed=0
#   3. a changed spec fails without replace (needs-replace, with the field diff) and converges with it
#   4. check mode (scale 2 -> 1) changes nothing in libvirt (the domains, states, XML compared), and
#      neither does the vnf module's check mode of stop/absent/running (its answers, the engine's
#      --dry-run, are checked: changed and the state moves in the diff)
#   5. scale 2 -> 1: the changed count check mode gave is the real run's; the second VNF is gone,
#      the first still runs
# VMs run under flock /tmp/vnfctl-vm.lock; domain names start with fleet-; all is removed on exit.
# Usage: ansible_local.sh VNFCTL GUEST_IMAGE_DIR VNF_TRAFFIC
set -uo pipefail
vnfctl=$(realpath "$1")
image=$(realpath "$2")
traffic=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [[ -z ${VNFCTL_VM_LOCKED:-} ]]; then
  exec env VNFCTL_VM_LOCKED=1 flock /tmp/vnfctl-vm.lock "$0" "$@"
fi
w=$(mktemp -d /tmp/vnfctl-ansible.XXXXXX)
chmod 755 "$w"
mkdir -p "$w/logs"
name=fleet-$$
taps=("fl$$-1a" "fl$$-1b" "fl$$-2a" "fl$$-2b")
virsh=(virsh -q -c qemu:///system)
pass=0
failed=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
cleanup() {
  for d in $("${virsh[@]}" list --all --name 2>/dev/null | grep "^$name-"); do
    "${virsh[@]}" destroy "$d" >/dev/null 2>&1
    "${virsh[@]}" undefine "$d" >/dev/null 2>&1
  done
  for t in "${taps[@]}"; do ip link del "$t" 2>/dev/null; done
  rm -rf "$w"
}
trap cleanup EXIT
[[ -f $image/vmlinuz ]] || { echo "FAIL: no guest image in $image"; exit 1; }
"${virsh[@]}" version >/dev/null 2>&1 || { echo "FAIL: libvirtd is not running (scripts/libvirt start)"; exit 1; }
t0=$(date +%s)
for t in "${taps[@]}"; do
  ip tuntap add dev "$t" mode tap || { echo "FAIL: cannot make tap $t"; exit 1; }
  echo 1 >"/proc/sys/net/ipv6/conf/$t/disable_ipv6"
  ip link set "$t" up
done
peer_a=02:00:00:00:0e:01
peer_b=02:00:00:00:0e:02
write_vars() { # write_vars MEMORY COUNT
  {
    echo "work: $w"
    echo "vnfctl_bin: $vnfctl"
    echo "image_dir: $image"
    echo "hugepages_2m: $(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages)"
    echo "vnf_spec:"
    echo "  name: $name"
    echo "  vcpus: 1"
    echo "  memory: $1"
    echo "  hugepages: none"
    echo "  cpu_policy: shared"
    echo "  taps: [{tap: placeholder-a}, {tap: placeholder-b}]"
    echo "  guest: {forwarder: {mode: mac, peer_macs: [$peer_a, $peer_b]}}"
    echo "instances:"
    for i in $(seq 1 "$2"); do
      echo "  - {name: $name-$i, overrides: {name: $name-$i, count: 1, taps: [{tap: fl$$-${i}a}, {tap: fl$$-${i}b}]}}"
    done
    echo "remove: [$(seq $(($2 + 1)) 2 | sed "s/^/$name-/" | paste -sd, -)]"
  } >"$w/vars.yml"
}
export ANSIBLE_COLLECTIONS_PATH=$repo/ansible ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
  ANSIBLE_LOCAL_TEMP=$w/ansible-tmp ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
play() { # play LOG EXTRA...
  local log=$1 s
  shift
  s=$(date +%s.%N)
  ansible-playbook -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 \
    "$here/ansible_local/site.yml" -e "@$w/vars.yml" "$@" >"$w/$log" 2>&1
  local rc=$?
  echo "  ($log: exit $rc, $(printf '%.1f' "$(echo "$(date +%s.%N) - $s" | bc)") s)"
  return $rc
}
changed_of() { sed -n 's/^localhost .*changed=\([0-9]*\).*/\1/p' "$w/$1"; }
mac_of() { "${virsh[@]}" domiflist "$1" | awk -v t="$2" '$1 == t {print $5}'; }
forwards() { # forwards INSTANCE: frames into tap a come out of tap b with the MACs mode mac writes
  local i=$1 a b
  a=$(mac_of "$name-$i" "fl$$-${i}a")
  b=$(mac_of "$name-$i" "fl$$-${i}b")
  "$traffic" run --tx-if "fl$$-${i}a" --rx-if "fl$$-${i}b" --count 1000 --rate 500 --src 02:00:00:00:0c:01 \
    --dst "$a" --expect-dst "$peer_b" --expect-src "$b" --run-id $$ >"$w/traffic-$i.log" 2>&1
}
libvirt_state() { # this test's domains in libvirt's list (the daemon is shared), their states and XML
  for d in $("${virsh[@]}" list --all --name | grep "^$name-" | sort); do
    echo "$d"
    "${virsh[@]}" domstate "$d"
    "${virsh[@]}" dumpxml "$d"
  done | sha256sum | cut -d' ' -f1
}

echo "== 1. two VNFs running and forwarding"
write_vars 512M 2
play run1.log && ok "first run" || { bad "first run failed"; tail -40 "$w/run1.log"; }
for i in 1 2; do
  [[ $("${virsh[@]}" domstate "$name-$i" 2>/dev/null) == running ]] && ok "$name-$i runs" || bad "$name-$i does not run"
  forwards "$i" && ok "$name-$i forwards: $(cat "$w/traffic-$i.log")" || bad "$name-$i: $(cat "$w/traffic-$i.log")"
done
grep -q "TASK \[Prepare what this machine allows" -A2 "$w/run1.log" && grep -A2 "TASK \[Prepare" "$w/run1.log" | grep -q "^ok:" &&
  ok "prepare of the hugepage pool as it is: ok, not changed" || bad "prepare: $(grep -A3 'TASK \[Prepare' "$w/run1.log")"

echo "== 2. second run"
play run2.log || bad "second run failed"
[[ $(changed_of run2.log) == 0 ]] && ok "second run: changed=0" || { bad "second run changed $(changed_of run2.log)"; grep -B1 -A3 "^changed" "$w/run2.log"; }

echo "== 3. a changed spec"
write_vars 448M 2
if play norep.log; then bad "a changed spec without replace succeeded"; else
  grep -q "needs-replace" "$w/norep.log" && grep -q "memory" "$w/norep.log" &&
    ok "a changed spec without replace fails with needs-replace and the diff" || bad "$(tail -20 "$w/norep.log")"
fi
[[ $("${virsh[@]}" dominfo "$name-1" | awk '/Max memory/ {print $3}') == 524288 ]] && ok "and changes nothing" || bad "the failed run changed $name-1"
play rep.log -e replace=true && ok "with replace: true it converges" || { bad "replace failed"; tail -30 "$w/rep.log"; }
[[ $("${virsh[@]}" dominfo "$name-1" | awk '/Max memory/ {print $3}') == 458752 ]] && ok "$name-1 has 448 MiB now" || bad "memory not replaced"
play rep2.log -e replace=true || bad "run after replace failed"
[[ $(changed_of rep2.log) == 0 ]] && ok "the next run: changed=0" || bad "the run after replace changed $(changed_of rep2.log)"
forwards 1 && ok "$name-1 forwards after the replace" || bad "$name-1 after replace: $(cat "$w/traffic-1.log")"

echo "== 4. check mode changes nothing"
write_vars 448M 1
before=$(libvirt_state)
play check.log --check --diff || bad "check mode failed"
after=$(libvirt_state)
[[ $before == "$after" ]] && ok "check mode: libvirt's domains, states and XML are as before" || bad "check mode changed libvirt"
[[ $(changed_of check.log) -ge 1 ]] && ok "check mode reports the removal it would make" || bad "check mode reported nothing"

# The vnf module on its own in check mode: stop and remove a running VNF. The answers are the engine's
# (stop/destroy --dry-run): changed, and the state it would leave in the diff; nothing is done.
adhoc() { # adhoc LOG ARGS: the vnf module once, in check and diff mode
  local log=$1
  shift
  ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost -m vnfctl.nfv.vnf \
    -a "vnfctl=$vnfctl $*" --check --diff >"$w/$log" 2>&1
}
adhoc stopcheck.log "names=$name-1 state=stopped" || bad "check mode stop failed: $(cat "$w/stopcheck.log")"
grep -q "^localhost | CHANGED" "$w/stopcheck.log" && grep -q "^+$name-1: shut off" "$w/stopcheck.log" &&
  grep -q "^-$name-1: running" "$w/stopcheck.log" && ok "check mode stop: changed, diff running -> shut off" ||
  bad "check mode stop: $(cat "$w/stopcheck.log")"
adhoc abscheck.log "names=$name-1,$name-9 state=absent" || bad "check mode absent failed: $(cat "$w/abscheck.log")"
grep -q "^localhost | CHANGED" "$w/abscheck.log" && grep -q "^-$name-1: running" "$w/abscheck.log" &&
  ! grep -q "$name-9:" "$w/abscheck.log" && ok "check mode absent: changed for the running $name-1 only" ||
  bad "check mode absent: $(cat "$w/abscheck.log")"
adhoc runcheck.log "names=$name-1 state=running" || bad "check mode running failed"
grep -q "^localhost | SUCCESS" "$w/runcheck.log" && ok "check mode running on a running VNF: not changed" ||
  bad "check mode running: $(cat "$w/runcheck.log")"
[[ $before == "$(libvirt_state)" ]] && ok "the module's check mode changed nothing in libvirt" || bad "the module's check mode changed libvirt"

echo "== 5. scale 2 -> 1"
play down.log || bad "scale down failed"
[[ $(changed_of check.log) == "$(changed_of down.log)" ]] && ok "check mode predicted the real run's changed=$(changed_of down.log)" ||
  bad "check mode said changed=$(changed_of check.log), the real run $(changed_of down.log)"
"${virsh[@]}" domstate "$name-2" >/dev/null 2>&1 && bad "$name-2 still exists" || ok "$name-2 is gone"
[[ $("${virsh[@]}" domstate "$name-1" 2>/dev/null) == running ]] && ok "$name-1 still runs" || bad "$name-1 stopped"
echo "wall time $(($(date +%s) - t0)) s"
echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
