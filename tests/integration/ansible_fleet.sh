#!/usr/bin/env bash
# Many hosts (label "integration"): ten simulated hosts of different shapes (ansible_fleet/mkfleet.py),
# each a real libvirt daemon with its own state: a per-user session daemon run as nobody with its own
# XDG folders, reached by root with qemu:///session?socket=..., its shape from a snapshot folder
# (--host-root) and --domain-type qemu (a session daemon cannot use KVM). The collection's scale
# playbook over them with 10 forks:
#   1. COUNT instances planned and defined (not started); every host gets its planned share
#   2. a second run changes nothing (changed=0 on every host)
#   3. check mode (scale to COUNT/10, --diff) changes nothing: every daemon's list of domains, their
#      states and XML are as before; its answer (the engine's --dry-run) names the instances it would
#      remove and, per host, equals what the real scale down then reports
#   4. scale COUNT -> COUNT/10 removes exactly COUNT - COUNT/10, the highest-numbered
#   5. scale back up while one host's daemon is stopped mid-run (its vnfctl held after a define by
#      the VNFCTL_TEST_HOLD seam, then the daemon is killed): the run fails on that host only, the
#      other hosts hold exactly their planned share; with the daemon back, a rerun finishes.
# Usage: ansible_fleet.sh VNFCTL [COUNT]   (CI and bench/run-fleet-ansible run COUNT=500)
set -uo pipefail
vnfctl=$(realpath "$1")
count=${2:-500}
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
libvirt_state() { # every daemon's list of domains (all of them), their states and XML, as one hash
  for h in "${hosts[@]}"; do
    local names cmds
    names=$(virsh -q -c "$(uri "$h")" list --all --name 2>/dev/null | sort)
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

if [[ -n ${FLEET_COMPARE:-} ]]; then
  # bench/run-fleet-ansible only: per host, vnfctl (one vnf task) against a community.libvirt virt
  # define loop over the same domain XML (libvirt's inactive XML of the domains vnfctl defined above),
  # each from no domains on every host, then a changed definition through each.
  echo "== 2b. vnfctl against community.libvirt's virt define, per host"
  domains() { # domains dump|undefine: every host's fleet domains, through libvirt's Python binding
    /usr/bin/python3 - "$1" "$w" "$spec_name" "${hosts[@]}" <<'PY'
import os, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
op, w, prefix, hosts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
for h in hosts:
    conn = libvirt.open("qemu:///session?socket=%s/%s/run/libvirt/libvirt-sock" % (w, h))
    os.makedirs(os.path.join(w, "xml", h), exist_ok=True)
    for d in conn.listAllDomains():
        if not d.name().startswith(prefix + "-"):
            continue
        if op == "dump":
            with open(os.path.join(w, "xml", h, d.name() + ".xml"), "w") as f:
                f.write(d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        else:
            d.undefine()
    conn.close()
PY
  }
  cmp_play() { # cmp_play LOG EXTRA...: tests/integration/ansible_fleet/compare.yml
    local log=$1
    shift
    ansible-playbook -i "$w/inventory.ini" "$here/ansible_fleet/compare.yml" -e "@$w/vars.yml" \
      -e plan_file="$w/plan1.json" -e xml_dir="$w/xml" "$@" >"$w/$log" 2>&1
  }
  times_of() { grep -o 'TIME host[0-9]* [0-9.]*' "$w/$1" | sort | awk '{print $3}'; }
  reference=$(libvirt_state)
  domains dump && domains undefine && [[ -z $(all_domains) ]] || bad "dump and remove the fleet's domains"
  s=$(date +%s.%N)
  cmp_play cmp-vnfctl.log -e mode=vnfctl || { bad "vnfctl timing run failed"; tail -20 "$w/cmp-vnfctl.log"; }
  wall_v=$(echo "$(date +%s.%N) - $s" | bc)
  [[ $(libvirt_state) == "$reference" ]] && ok "vnfctl's timing run defined the same domains" || bad "vnfctl's timing run differs"
  domains undefine
  s=$(date +%s.%N)
  cmp_play cmp-virt.log -e mode=virt || { bad "virt timing run failed"; tail -20 "$w/cmp-virt.log"; }
  wall_l=$(echo "$(date +%s.%N) - $s" | bc)
  [[ $(libvirt_state) == "$reference" ]] && ok "the virt define loop defined the same domains (same XML, names, states)" ||
    bad "the virt define loop's domains differ"
  echo "  per host (seconds, each host's own start to end, 10 hosts at once, forks 10):"
  printf '  %-7s %9s %8s %8s %6s
' host instances vnfctl virt ratio
  paste <(printf '%s\n' "${hosts[@]}") <(for h in "${hosts[@]}"; do ls "$w/xml/$h" | wc -l; done) \
    <(times_of cmp-vnfctl.log) <(times_of cmp-virt.log) |
    awk '{printf "  %-7s %9d %8.2f %8.2f %5.1fx\n", $1, $2, $3, $4, ($3 > 0 ? $4 / $3 : 0)}'
  printf '  whole playbook: vnfctl %.1f s, virt define loop %.1f s\n' "$wall_v" "$wall_l"

  echo "== 2c. a changed definition"
  target=$(python3 -c 'import json,sys; print(next(h for h, v in json.load(open(sys.argv[1]))["hosts"].items() if any(x["name"] == sys.argv[2] for x in v["vnfs"])))' "$w/plan1.json" "$spec_name-1")
  mem_of() { virsh -q -c "$(uri "$target")" dumpxml --inactive "$spec_name-1" | sed -n 's/.*<memory unit=.KiB.>\([0-9]*\)<.*/\1/p'; }
  orig=$w/xml/$target/$spec_name-1.xml
  # memory and the guest NUMA cell (libvirt sums the cells into <memory>): 128 -> 160 MiB
  sed "s/>131072</>163840</g; s/memory='131072'/memory='163840'/g" "$orig" >"$w/changed.xml"
  cmp_play chg-virt.log -e mode=virt-changed -e target="$target" -e xml_file="$w/changed.xml" -v || bad "virt define of the changed XML failed"
  echo "  virt define, memory 128 -> 160 MiB: $(grep -o '^changed: \[[a-z0-9]*\]\|^ok: \[[a-z0-9]*\]' "$w/chg-virt.log" | head -1), $(grep -o '"change_reason": "[^"]*"' "$w/chg-virt.log" | head -1), libvirt now holds $(mem_of) KiB (no diff shown, no guard)"
  grep -q "^changed: \[$target\]" "$w/chg-virt.log" && [[ $(mem_of) == 163840 ]] && ok "virt define of a changed definition: changed, redefined without a diff or a guard" ||
    bad "virt define of a changed definition: $(grep -A6 'TASK \[community' "$w/chg-virt.log")"
  cmp_play chg-virt-back.log -e mode=virt-changed -e target="$target" -e xml_file="$orig" || bad "virt define of the original XML failed"
  if cmp_play chg-vnfctl.log -e mode=vnfctl-changed -e target="$target" -e instance="$spec_name-1" -e memory=160M -e replace=false; then
    bad "the vnf module took a changed spec without replace"
  else
    echo "  vnfctl.nfv.vnf, memory 128M -> 160M without replace: fails, $(grep -o '"error_kind": "[^"]*"' "$w/chg-vnfctl.log" | head -1), diff $(grep -o '"after": "[^"]*", "before": "[^"]*", "field": "[^"]*"' "$w/chg-vnfctl.log" | head -1)"
    grep -q '"error_kind": "needs-replace"' "$w/chg-vnfctl.log" && [[ $(mem_of) == 131072 ]] &&
      ok "the vnf module refuses a changed spec without replace (needs-replace, the diff), nothing changed" || bad "$(tail -20 "$w/chg-vnfctl.log")"
  fi
  cmp_play chg-vnfctl-rep.log -e mode=vnfctl-changed -e target="$target" -e instance="$spec_name-1" -e memory=160M -e replace=true &&
    [[ $(mem_of) == 163840 ]] && ok "with replace: true it converges (libvirt holds $(mem_of) KiB)" || bad "$(tail -20 "$w/chg-vnfctl-rep.log")"
  cmp_play chg-vnfctl-back.log -e mode=vnfctl-changed -e target="$target" -e instance="$spec_name-1" -e memory=128M -e replace=true || bad "replace back failed"
  [[ $(libvirt_state) == "$reference" ]] && ok "the fleet is as before the comparison" || bad "the fleet differs after the comparison"
fi

echo "== 3. check mode changes nothing"
before=$(libvirt_state)
play check.log -e vnf_count="$small" --check --diff || bad "check mode run failed"
after=$(libvirt_state)
[[ $before == "$after" ]] && ok "check mode (scale to $small): every daemon's domains, states and XML unchanged" ||
  bad "check mode changed libvirt's state"
c=$(total_changed check.log)
((c > 0)) && ok "check mode reports the removals it would make ($c changed tasks)" || bad "check mode reported no change"
grep -q "^-$spec_name-$count: shut off" "$w/check.log" && ! grep -q "^-$spec_name-$small: " "$w/check.log" &&
  ok "check mode's diff names the highest-numbered ($spec_name-$count) and keeps $spec_name-$small" || bad "check mode's diff: $(grep -m5 "^-$spec_name" "$w/check.log")"

echo "== 4. scale $count -> $small"
play down.log -e vnf_count="$small" || bad "scale down failed"
recap() { grep -E "^host[0-9]+ +: " "$w/$1" | sed 's/ *: */ /; s/ *ok=[0-9]*//; s/ *skipped=.*//' | sort; }
[[ $(recap check.log) == "$(recap down.log)" ]] && ok "check mode predicted every host's changed count of the real run" ||
  bad "check mode vs real run: $(diff <(recap check.log) <(recap down.log) | head -6)"
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
