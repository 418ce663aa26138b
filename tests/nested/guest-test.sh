#!/bin/sh
# Runs inside the emulated SR-IOV host (busybox sh, as root). Prints "PASS name" / "FAIL name: why";
# the host-side harness (run-nested.sh) parses them from the serial console.
J=/run/prepare-journal.json
pass() { echo "PASS $1"; }
failed() { echo "FAIL $1: $2"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else failed "$name" "$*"; fi; }

PF_ADDR=""
for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = 0x8086 ] && [ -e $d/sriov_totalvfs ]; then PF_ADDR=$(basename $d); fi
done
[ -n "$PF_ADDR" ] || { failed find-pf "no SR-IOV capable igb"; exit 0; }
PFD=/sys/bus/pci/devices/$PF_ADDR
PF=$(ls $PFD/net | head -n1)
echo "INFO PF $PF_ADDR ($PF) numa_node=$(cat $PFD/numa_node) totalvfs=$(cat $PFD/sriov_totalvfs)"
check pf-on-node1 [ "$(cat $PFD/numa_node)" = 1 ]
ip link set dev "$PF" up
HP=/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
HP_BEFORE=$(cat $HP)

vnfctl doctor --no-libvirt > /tmp/doctor.out 2>&1; echo "INFO doctor exit $?"; grep -E "FAIL|WARN" /tmp/doctor.out | head -5

cat > /tmp/host.yaml <<YAML
pfs:
  - pf: $PF
    vfs: 2
    vf_settings:
      - {index: 0, mac: "52:54:00:aa:00:01", trust: true, spoofchk: false}
      - {index: 1, mac: "52:54:00:aa:00:02", vlan: 100}
hugepages:
  - {size: 2M, count: 16}
YAML

vnfctl prepare --spec /tmp/host.yaml --journal $J --dry-run > /tmp/dry.out 2>&1
cat /tmp/dry.out
check dry-run-lists-changes grep -q "sriov_numvfs: 0 -> 2" /tmp/dry.out
check dry-run-changes-nothing [ "$(cat $PFD/sriov_numvfs)" = 0 ]

T0=$(date +%s)
vnfctl prepare --spec /tmp/host.yaml --journal $J > /tmp/prep.out 2>&1; rc=$?
cat /tmp/prep.out
check prepare-exit-0 [ $rc = 0 ]
echo "INFO prepare took $(( $(date +%s) - T0 )) s"
check numvfs-2 [ "$(cat $PFD/sriov_numvfs)" = 2 ]
for i in 0 1; do
  VF=$(basename $(readlink $PFD/virtfn$i))
  check vf$i-vfio-pci [ "$(basename $(readlink /sys/bus/pci/devices/$VF/driver))" = vfio-pci ]
  G=$(basename $(readlink /sys/bus/pci/devices/$VF/iommu_group))
  check vf$i-dev-vfio-$G [ -c /dev/vfio/$G ]
  check vf$i-node1 [ "$(cat /sys/bus/pci/devices/$VF/numa_node)" = 1 ]
done
/usr/sbin/iproute2-ip link show dev "$PF" > /tmp/ip.out; cat /tmp/ip.out  # iproute2, not vnfctl: an independent reading
check vf0-mac grep -q "vf 0 .*52:54:00:aa:00:01" /tmp/ip.out
check vf1-mac grep -q "vf 1 .*52:54:00:aa:00:02" /tmp/ip.out
check vf1-vlan grep -q "vf 1 .*vlan 100" /tmp/ip.out
check vf0-spoofchk-off grep -q "vf 0 .*spoof checking off" /tmp/ip.out
check vf0-trust-on grep -q "vf 0 .*trust on" /tmp/ip.out
check hugepages-node1-16 [ "$(cat $HP)" = 16 ]
check journal-written [ -s $J ]

vnfctl plan --name t --vcpus 1 --memory 2M --hugepages 2M --nic "$PF" --json > /tmp/plan.out 2>&1; rc=$?
head -c 600 /tmp/plan.out
check plan-exit-0 [ $rc = 0 ]
tr -d ' \n' < /tmp/plan.out > /tmp/plan.flat
check plan-on-node1 grep -q '"node":1' /tmp/plan.flat
check plan-vcpu-on-node1-cpu grep -qE '"vcpu_pins":\[(2|3)\]' /tmp/plan.flat
# render (templates and libvirt's schema are in the initramfs): the prepared VF, managed='no',
# strict memory on node 1, the vCPU on a node-1 CPU.
vnfctl render --name t --vcpus 1 --memory 2M --hugepages 2M --nic "$PF" --image-dir /tmp -o /tmp/t.xml > /tmp/render.out 2>&1; rc=$?
cat /tmp/render.out
check render-exit-0 [ $rc = 0 ]
check render-vf-managed-no grep -q "interface type=\"hostdev\" managed=\"no\"" /tmp/t.xml
check render-numatune-node1 grep -q "memory mode=\"strict\" nodeset=\"1\"" /tmp/t.xml
check render-vcpupin-node1 grep -qE "vcpupin vcpu=\"0\" cpuset=\"(2|3)\"" /tmp/t.xml

vnfctl prepare --spec /tmp/host.yaml --journal $J > /tmp/again.out 2>&1; rc=$?
cat /tmp/again.out
check rerun-is-noop grep -q "nothing to do" /tmp/again.out
check rerun-exit-0 [ $rc = 0 ]

vnfctl unprepare --journal $J > /tmp/undo.out 2>&1; rc=$?
cat /tmp/undo.out
check unprepare-exit-0 [ $rc = 0 ]
check numvfs-restored-0 [ "$(cat $PFD/sriov_numvfs)" = 0 ]
check no-vfs-left [ ! -e $PFD/virtfn0 ]
check hugepages-restored [ "$(cat $HP)" = "$HP_BEFORE" ]
check journal-removed [ ! -e $J ]
check pf-driver-igb [ "$(basename $(readlink $PFD/driver))" = igb ]

vnfctl prepare --pf "$PF" --vfs 9 --journal $J > /tmp/bad.out 2>&1; rc=$?
cat /tmp/bad.out
check above-totalvfs-refused [ $rc = 2 ]
check above-totalvfs-message grep -q "can have at most 7 VFs (sriov_totalvfs), asked 9" /tmp/bad.out

# --- vnfctl tune/untune on the igb PF (issue 14). vnfctl reads and sets the rings through the ethtool
# ioctl; the ethtool binary here only checks what it did. No libvirt runs in this VM, so vnfctl cannot
# tell which VNFs use the NIC: tune refuses without --force.
TJ=/run/tune-journal.json
ET=/usr/sbin/ethtool-check
TUNE_T0=$(cut -d' ' -f1 /proc/uptime)
# "RX/TX" of the current (cur) or maximum (max) rings, one ethtool run.
ring() { "$ET" -g "$PF" | awk -v sec="$1" '/^Pre-set/ {s = "max"} /^Current/ {s = "cur"} s == sec && $1 == "RX:" {rx = $2} s == sec && $1 == "TX:" {tx = $2} END {print rx "/" tx}'; }
"$ET" -g "$PF" > /tmp/rings.before; cat /tmp/rings.before
CUR0=$(ring cur); MAX0=$(ring max)
RX0=${CUR0%/*}; TX0=${CUR0#*/}; RXMAX=${MAX0%/*}; TXMAX=${MAX0#*/}
check ethtool-reads-igb-rings sh -c "[ -n '$RX0' ] && [ -n '$RXMAX' ] && [ '$RX0' -lt '$RXMAX' ]"
# diagnose's ring check and the PF hop of its path, for a (recorded) running VNF with a VF on this PF.
cat > /tmp/answers.json <<JSON
{"schema": "vnfctl.diagnose-answers/v1", "domains": [{"name": "igb1", "state": "running", "xml":
 "<domain type=\"kvm\"><name>igb1</name><metadata><vnfctl:vnf xmlns:vnfctl=\"urn:vnfctl:domain:1\"><vnfctl:spec hash=\"0123456789abcdef\"/><vnfctl:tool version=\"0.1.0\"/><vnfctl:image hash=\"\"/><vnfctl:placement node=\"1\" memory-kib=\"2048\" page-size-kib=\"2048\" hugepages=\"1\"><vnfctl:vcpupin vcpu=\"0\" cpu=\"2\"/></vnfctl:placement><vnfctl:vf nic=\"0\" pf=\"$PF_ADDR\" address=\"0000:81:10.0\" index=\"0\" driver=\"vfio-pci\"/></vnfctl:vnf></metadata><vcpu>1</vcpu><os><type arch=\"x86_64\">hvm</type></os><devices/></domain>"}]}
JSON
vnfctl diagnose igb1 --answers /tmp/answers.json --seconds 1 --json > /tmp/diag1.out 2>&1
grep -E '"(check|seen|where)"' /tmp/diag1.out | grep -A2 'rings.size'
check diagnose-reads-rings grep -qF "\"seen\": \"$PF RX ring $RX0 of max $RXMAX, TX $TX0 of $TXMAX" /tmp/diag1.out
check diagnose-reads-igb-stats grep -qF "ETHTOOL_GSTATS $PF" /tmp/diag1.out
check igb-has-missed-counter sh -c "$ET -S $PF | grep -q rx_missed_errors"

vnfctl tune --nic "$PF" --rings max --journal $TJ > /tmp/tune0.out 2>&1; rc=$?
cat /tmp/tune0.out
check tune-without-libvirt-needs-force sh -c "[ $rc = 3 ] && grep -q 'add --force' /tmp/tune0.out"
vnfctl tune --nic "$PF" --rings $((RXMAX * 2)) --force --journal $TJ > /tmp/tune1.out 2>&1; rc=$?
cat /tmp/tune1.out
check tune-above-max-refused sh -c "[ $rc = 2 ] && grep -qF 'exceeds the driver'\''s maximum (RX $RXMAX, TX $TXMAX)' /tmp/tune1.out"
# (0, negative, huge and non-numeric sizes are refused before any NIC is read: tests/integration/diagnose.sh)
"$ET" -g "$PF" > /tmp/rings.now
check refused-tunes-changed-nothing cmp -s /tmp/rings.before /tmp/rings.now
check refused-tunes-wrote-no-journal [ ! -e $TJ ]

vnfctl tune --nic "$PF" --rings max --force --journal $TJ > /tmp/tune3.out 2>&1; rc=$?
cat /tmp/tune3.out
check tune-max-exit-0 [ $rc = 0 ]
check tune-max-rx-tx [ "$(ring cur)" = "$MAX0" ]
vnfctl diagnose igb1 --answers /tmp/answers.json --seconds 0 --json > /tmp/diag2.out 2>&1
check diagnose-sees-max-rings grep -qF "\"seen\": \"$PF RX ring $RXMAX (max), TX $TXMAX of $TXMAX" /tmp/diag2.out
# igb rounds a size up to its descriptor multiple (8): 1001 becomes 1008, journaled and said.
vnfctl tune --nic "$PF" --rings 1001 --force --journal $TJ > /tmp/tune4.out 2>&1; rc=$?
cat /tmp/tune4.out
check tune-1001-exit-0 [ $rc = 0 ]
check tune-1001-rx-tx-1008 [ "$(ring cur)" = 1008/1008 ]
check tune-1001-says-rounded grep -q "the driver set RX 1008 TX 1008" /tmp/tune4.out
check journal-has-what-the-nic-took grep -q '"applied": "1008/1008"' $TJ
check journal-keeps-first-original grep -q "\"original\": \"$RX0/$TX0\"" $TJ

vnfctl untune --journal $TJ > /tmp/untune.out 2>&1; rc=$?
cat /tmp/untune.out
check untune-exit-0 [ $rc = 0 ]
"$ET" -g "$PF" > /tmp/rings.after
check untune-restores-exactly cmp -s /tmp/rings.before /tmp/rings.after
check untune-removes-journal [ ! -e $TJ ]

# --- tune --persist: re-applied by prepare's unit after a "reboot" (igb reloaded: the driver's
# default rings back). No systemd here: the unit is a stand-in file, and the test runs the drop-in's
# ExecStartPost command line as systemd would. untune then restores and removes the hook.
mkdir -p /etc/systemd/system && printf '[Unit]\n' > /etc/systemd/system/vnfctl-prepare.service
DROPIN=/etc/systemd/system/vnfctl-prepare.service.d/vnfctl-tune.conf
vnfctl tune --nic "$PF" --rings max --force --persist --journal $TJ > /tmp/persist.out 2>&1; rc=$?
cat /tmp/persist.out; cat $DROPIN /etc/vnfctl/tune.json
check persist-exit-0 [ $rc = 0 ]
check persist-drop-in-runs-tune grep -q "^ExecStartPost=.*vnfctl tune --persisted /etc/vnfctl/tune.json --journal $TJ\$" $DROPIN
rmmod igb && insmod /lib/modules/igb.ko
for i in $(seq 50); do [ -d $PFD/net ] && break; sleep 0.1; done
PF=$(ls $PFD/net | head -n1)
check reboot-resets-rings [ "$(ring cur)" = "$CUR0" ]
BOOT=$(sed -n 's/^ExecStartPost=//p' $DROPIN)
$BOOT > /tmp/boot.out 2>&1; rc=$?  # word splitting on purpose: systemd's ExecStartPost= has no quotes here
cat /tmp/boot.out
check boot-run-exit-0 [ $rc = 0 ]
check boot-run-max-rings [ "$(ring cur)" = "$MAX0" ]
vnfctl untune --journal $TJ > /tmp/untune3.out 2>&1; rc=$?
cat /tmp/untune3.out
check persist-untune-exit-0 [ $rc = 0 ]
"$ET" -g "$PF" > /tmp/rings.after2
check persist-untune-restores-exactly cmp -s /tmp/rings.before /tmp/rings.after2
check persist-untune-removes-hook sh -c "[ ! -e $DROPIN ] && [ ! -e /etc/vnfctl/tune.json ]"
check persist-untune-keeps-prepare-unit [ -f /etc/systemd/system/vnfctl-prepare.service ]
echo "INFO tune checks took $(awk -v a="$TUNE_T0" '{printf "%.1f", $1 - a}' /proc/uptime) s of guest time"
