#!/usr/bin/env bash
# Boots a real VM through vnfctl with 2 MiB hugepage backing, vcpupin, emulatorpin and numatune;
# verify must confirm the placement; relaunch is a no-op; destroy and undefine leave no domain,
# no hugepages held and no files behind.
. "$(dirname "$0")/lib.sh"
name=${tag}-lc
f=$(spec "$name")
echo 128 > "$hp"
out=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" --timeout 300 2>&1); rc=$?
echo "$out"
check "launch exits 0" test $rc = 0
check "launch reports READY" grep -q "ready in" <<<"$out"
check "launch names the domain type" grep -qE "domain type (kvm|qemu)" <<<"$out"
check "list shows it running" sh -c "'$vnfctl' list | grep -q '^$name .*running'"
v=$("$vnfctl" verify "$name" 2>&1); rc=$?
echo "$v"
check "verify confirms the placement" test $rc = 0
check "verify read the hugepages' node" grep -q "hugepages' NUMA node.*ok\|\[ok\] guest hugepages" <<<"$v"
check "the guest holds 128 hugepages" test "$(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages)" = 0
busy=$("$vnfctl" plan --name "${tag}-other" --vcpus 1 --memory 256M --hugepages none 2>&1); rc=$?
[[ $rc == 4 && $busy == *"0 free cores for dedicated vCPUs"* ]]
check "plan sees the running VNF's CPUs as taken (does not fit: exit 4)" test $? = 0
again=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" 2>&1); rc=$?
[[ $rc == 0 && $again == *"nothing to do"* ]]
check "relaunch of the same spec changes nothing" test $? = 0
changed=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" --memory 128M 2>&1); rc=$?
echo "$changed"
[[ $rc == 9 && $changed == *"memory_mib: 256 -> 128"* ]]
check "a changed spec needs --replace (exit 9) and shows the field that changed" test $? = 0
# A replacement that fails (it cannot be READY within 1 s) puts the old definition back and starts it.
repl=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" --memory 128M --replace --timeout 1 2>&1); rc=$?
echo "$repl"
check "a failed --replace exits with the timeout code 6" test $rc = 6
check "a failed --replace says the old definition is back and running" \
  grep -q "$name: the previous definition is back and running again (the guest rebooted)" <<<"$repl"
check "the old definition (256 MiB) is defined again" sh -c "virsh -q -c qemu:///system dumpxml '$name' | grep -q '<memory unit=.KiB.>262144</memory>'"
check "and running" sh -c "'$vnfctl' list | grep -q '^$name .*running'"
check "relaunch of the old spec is a no-op again" sh -c "'$vnfctl' launch '$f' --image-dir '$image' --log-dir '$logs' | grep -q 'nothing to do'"
check "destroy" "$vnfctl" destroy "$name"
check "undefine" "$vnfctl" undefine "$name"
check "no domain left" test -z "$(domains)"
check "no hugepages held" test "$(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages)" = 128
check "serial log removed" test ! -e "$logs/$name.serial.log"
finish
