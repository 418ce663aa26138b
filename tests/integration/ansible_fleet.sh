#!/usr/bin/env bash
# Many hosts (label "integration"): ten simulated hosts of different shapes (ansible_fleet/mkfleet.py),
# each a real libvirt daemon with its own state: a per-user session daemon run as nobody with its own
# XDG folders, reached by root with qemu:///session?socket=..., its shape from a snapshot folder
# (--host-root) and --domain-type qemu (a session daemon cannot use KVM). The collection's scale
# playbook over them with 10 forks:
#   1. COUNT instances planned and defined (not started); every host gets its planned share
#   2. a second run changes nothing (changed=0 on every host)
#   3. check mode (scale to COUNT/10) changes nothing: every daemon's domains and XML are as before
#   4. scale COUNT -> COUNT/10 removes exactly COUNT - COUNT/10, the highest-numbered
#   5. scale back up while one host's daemon is stopped mid-run (its vnfctl held after a define by
#      the VNFCTL_TEST_HOLD seam, then the daemon is killed): the run fails on that host only, the
#      other hosts hold exactly their planned share; with the daemon back, a rerun finishes.
# Usage: ansible_fleet.sh VNFCTL [COUNT]   (CI runs COUNT=100; bench/run-fleet-ansible runs 500)
set -uo pipefail
vnfctl=$(realpath "$1")
count=${2:-100}
small=$((count / 10))
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
w=$(mktemp -d /tmp/vnfctl-fleet.XXXXXX)
chmod 755 "$w"
hosts=(host01 host02 host03 host04 host05 host06 host07 host08 host09 host10)
spec_name=fleet-$$
pass=0
failed=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
uri() { echo "qemu:///session?socket=$w/$1/run/libvirt/libvirt-sock"; }

start_daemon() { # start_daemon HOST: libvirtd as nobody, in the host's own XDG folders
  local h=$1
  mkdir -p "$w/$h"/{run,config,cache,data,home}
  chown -R 65534:65534 "$w/$h"
  (cd "$w/$h" && setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$w/$h/home" \
    XDG_RUNTIME_DIR="$w/$h/run" XDG_CONFIG_HOME="$w/$h/config" XDG_CACHE_HOME="$w/$h/cache" \
    XDG_DATA_HOME="$w/$h/data" PATH=/usr/sbin:/usr/bin:/bin libvirtd --daemon --timeout 0)
  for _ in $(seq 1 100); do
    virsh -q -c "$(uri "$h")" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "libvirtd of $h did not answer"
  return 1
}
stop_daemon() { # by the pid the daemon wrote, never by name
  local pidf=$w/$1/run/libvirt/libvirtd.pid
  [[ -f $pidf ]] || return 0
  local pid
  pid=$(cat "$pidf")
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$pidf"
}
cleanup() {
  [[ -n ${bg:-} ]] && kill "$bg" 2>/dev/null
  for h in "${hosts[@]}"; do stop_daemon "$h"; done
  rm -rf "$w"
}
trap cleanup EXIT

t0=$(date +%s.%N)
python3 "$here/ansible_fleet/mkfleet.py" "$w/trees" || { echo "FAIL: mkfleet"; exit 1; }
# The first daemon probes QEMU once; the others start from a copy of its capabilities cache.
start_daemon host01 || exit 1
virsh -q -c "$(uri host01)" capabilities >/dev/null || { echo "FAIL: capabilities of host01"; exit 1; }
for h in "${hosts[@]:1}"; do
  mkdir -p "$w/$h/cache"
  cp -a "$w/host01/cache/libvirt" "$w/$h/cache/" 2>/dev/null
  start_daemon "$h" || exit 1
done
echo "daemons up after $(echo "$(date +%s.%N) - $t0" | bc) s"

# A guest kernel/initrd that exists (the domains are defined, never started).
echo kernel >"$w/vmlinuz"
echo initrd >"$w/initrd.img"
mkdir -p "$w/logs"
{
  echo "[fleet]"
  for h in "${hosts[@]}"; do
    echo "$h vnfctl_uri='$(uri "$h")' vnfctl_host_root=$w/trees/$h"
  done
  echo "[fleet:vars]"
  echo "ansible_connection=local"
  echo "ansible_python_interpreter=/usr/bin/python3"
  echo "vnfctl_domain_type=qemu"
  echo "vnfctl_log_dir=$w/logs"
  echo "vnfctl_bin=$vnfctl"
  echo "vnfctl_controller_bin=$vnfctl"
} >"$w/inventory.ini"
cat >"$w/vars.yml" <<EOF
vnfctl_hosts: fleet
vnf_spec:
  name: $spec_name
  vcpus: 1
  memory: 128M
  hugepages: none
  guest:
    kernel: $w/vmlinuz
    initrd: $w/initrd.img
EOF
# The same hosts and spec as vnfctl's own inventory and spec file, to compare with a re-plan.
{
  echo "hosts:"
  for h in "${hosts[@]}"; do echo "  - {name: $h, snapshot: \"$w/trees/$h\", uri: \"$(uri "$h")\"}"; done
} >"$w/fleet.yaml"
sed -n '/^vnf_spec:/,$p' "$w/vars.yml" | sed '1d; s/^  //' >"$w/spec.yaml"
export ANSIBLE_COLLECTIONS_PATH=$repo/ansible ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_FORKS=10 \
  ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_LOCAL_TEMP=$w/ansible-tmp
play() { # play LOG EXTRA-ARGS...: the scale playbook; its output in $w/LOG
  local log=$1
  shift
  local s
  s=$(date +%s.%N)
  ansible-playbook -i "$w/inventory.ini" vnfctl.nfv.scale -e "@$w/vars.yml" "$@" >"$w/$log" 2>&1
  local rc=$?
  echo "  ($log: exit $rc, $(printf '%.1f' "$(echo "$(date +%s.%N) - $s" | bc)") s)"
  return $rc
}
total_changed() { sed -n 's/.*changed=\([0-9]*\).*/\1/p' "$w/$1" | paste -sd+ | bc; }
domains_of() { virsh -q -c "$(uri "$1")" list --all --name 2>/dev/null | grep "^$spec_name-" | sort; }
all_domains() { for h in "${hosts[@]}"; do domains_of "$h"; done | sort; }
expect_names() { seq 1 "$1" | sed "s/^/$spec_name-/" | sort; }
libvirt_state() { # every daemon's domains, their state and XML, as one hash
  for h in "${hosts[@]}"; do
    local names cmds
    names=$(domains_of "$h")
    echo "$h: $names"
    cmds=$(for n in $names; do printf 'domstate %s; dumpxml %s; ' "$n" "$n"; done)
    [[ -n $cmds ]] && virsh -q -c "$(uri "$h")" "$cmds"
  done | sha256sum | cut -d' ' -f1
}
share_of() { # share_of PLAN.json HOST: the instance names the plan gives HOST
  python3 -c 'import json,sys; print("\n".join(sorted(v["name"] for v in json.load(open(sys.argv[1]))["hosts"][sys.argv[2]]["vnfs"])))' "$1" "$2"
}

echo "== 1. $count instances planned and defined over ${#hosts[@]} hosts"
if play run1.log -e vnf_count="$count"; then ok "first run of $count succeeded"; else bad "first run failed"; tail -30 "$w/run1.log"; fi
[[ $(all_domains) == "$(expect_names "$count")" ]] && ok "exactly $spec_name-1..$count are defined" ||
  bad "defined: $(all_domains | wc -l), want $count"
busy=0
for h in "${hosts[@]}"; do [[ -n $(domains_of "$h") ]] && busy=$((busy + 1)); done
((busy == ${#hosts[@]})) && ok "every host got instances (spread)" || bad "only $busy hosts got instances"
"$vnfctl" fleet plan "$w/fleet.yaml" "$w/spec.yaml" --count "$count" --json >"$w/plan1.json" 2>"$w/plan1.err"
consistent=1
for h in "${hosts[@]}"; do [[ $(domains_of "$h") == "$(share_of "$w/plan1.json" "$h")" ]] || consistent=0; done
((consistent)) && ok "each host holds exactly the share a re-plan gives it (a re-plan keeps everything where it is)" ||
  bad "a re-plan moves instances"

echo "== 2. second run"
play run2.log -e vnf_count="$count" || bad "second run failed"
c=$(total_changed run2.log)
[[ $c == 0 ]] && ok "second run: changed=0 on every host" || { bad "second run changed $c"; grep -A8 'changed:' "$w/run2.log" | head -30; }

echo "== 3. check mode changes nothing"
before=$(libvirt_state)
play check.log -e vnf_count="$small" --check --diff || bad "check mode run failed"
after=$(libvirt_state)
[[ $before == "$after" ]] && ok "check mode (scale to $small): every daemon's domains, states and XML unchanged" ||
  bad "check mode changed libvirt's state"
c=$(total_changed check.log)
((c > 0)) && ok "check mode reports the removals it would make ($c changed tasks)" || bad "check mode reported no change"

echo "== 4. scale $count -> $small"
play down.log -e vnf_count="$small" || bad "scale down failed"
[[ $(all_domains) == "$(expect_names "$small")" ]] &&
  ok "scale down removed exactly $((count - small)) (the highest-numbered); $spec_name-1..$small remain" ||
  bad "after scale down: $(all_domains | wc -l) defined"

echo "== 5. a daemon stopped mid-run"
victim=host05
"$vnfctl" fleet plan "$w/fleet.yaml" "$w/spec.yaml" --count "$count" --json >"$w/plan2.json" 2>"$w/plan2.err"
hold=$(python3 -c 'import json,sys; v=[x["name"] for x in json.load(open(sys.argv[1]))["hosts"][sys.argv[2]]["vnfs"] if not x["existing"]]; print(v[len(v)//2])' "$w/plan2.json" "$victim")
VNFCTL_TEST_HOLD="define:$hold" play midrun.log -e vnf_count="$count" &
bg=$!
held=0
for _ in $(seq 1 600); do
  if [[ $(domains_of "$victim" | grep -cx "$hold") == 1 ]]; then
    held=1
    break
  fi
  sleep 0.2
done
((held)) && ok "$victim's run is held after defining $hold" || bad "$victim never defined $hold"
stop_daemon "$victim"
# The held vnfctl waits for a signal (at most 120 s): wake it. It is the one vnfctl of this test
# that defines on the victim's socket (this run's unique folder is in its arguments).
pid=$(pgrep -f -- "socket=$w/$victim/run/libvirt/libvirt-sock --host-root $w/trees/$victim define " | head -1)
[[ -n $pid ]] && kill -TERM "$pid"
wait "$bg"
rc=$?
bg=
((rc != 0)) && ok "the run fails when $victim's daemon is gone (exit $rc)" || bad "the run succeeded without $victim's daemon"
grep -Eq "^$victim +: .*failed=1" "$w/midrun.log" && ok "the failure is $victim's" || bad "recap: $(grep -A12 RECAP "$w/midrun.log")"
others_failed=$(grep -E "^host[0-9]+ +: " "$w/midrun.log" | grep -v "^$victim " | grep -c "failed=[1-9]")
((others_failed == 0)) && ok "no other host failed" || bad "$others_failed other hosts failed"
consistent=1
for h in "${hosts[@]}"; do
  [[ $h == "$victim" ]] && continue
  [[ $(domains_of "$h") == "$(share_of "$w/plan2.json" "$h")" ]] || { consistent=0; echo "  $h differs from its share"; }
done
((consistent)) && ok "every other host holds exactly its planned share" || bad "other hosts are inconsistent"
start_daemon "$victim" || bad "restart $victim"
play rerun.log -e vnf_count="$count" && ok "with $victim back, a rerun finishes" || { bad "rerun failed"; tail -30 "$w/rerun.log"; }
[[ $(all_domains) == "$(expect_names "$count")" ]] && ok "exactly $spec_name-1..$count are defined after the rerun" ||
  bad "after the rerun: $(all_domains | wc -l) defined"
play last.log -e vnf_count="$count" || bad "the run after the rerun failed"
[[ $(total_changed last.log) == 0 ]] && ok "and one more run changes nothing" || bad "the run after the rerun changed something"

echo "wall time $(printf '%.0f' "$(echo "$(date +%s.%N) - $t0" | bc)") s for $count instances on ${#hosts[@]} hosts"
echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
