#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP after every pass of launch (new VNFs, --count, and --replace of a
# running VNF) on the real daemon: each run rolls back everything it did and puts back what
# --replace took away (defined and running again). The binary holds after a pass
# (VNFCTL_TEST_HOLD=PASS[:VNF]) until the signal, sent from outside with kill, arrives.
# Also: a second run waiting for the host lock names the holder at once; a holder killed with -9
# releases it.
. "$(dirname "$0")/lib.sh"
echo 128 > "$hp"
launch=(launch --image-dir "$image" --log-dir "$logs" --timeout 300)

held() { # held PASS SIGNAL ARGS... -> vnfctl's output; exit status: vnfctl's
  local at=$1 sig=$2
  shift 2
  VNFCTL_TEST_HOLD=$at "$vnfctl" "$@" > "$work/held.out" 2>&1 &
  local pid=$! i
  for i in $(seq 1 600); do grep -q "test hold after ${at%%:*}" "$work/held.out" && break; sleep 0.1; done
  kill -s "$sig" "$pid"
  wait "$pid"
  local rc=$?
  cat "$work/held.out"
  return $rc
}
free_pages() { cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages; }

# 1. A new VNF, a signal after each pass.
name=${tag}-sig
f=$(spec "$name")
passes=(gather reconcile plan render define start ready)
signals=(INT TERM HUP INT TERM HUP INT)
for i in "${!passes[@]}"; do
  at=${passes[$i]} sig=${signals[$i]}
  out=$(held "$at" "$sig" "${launch[@]}" "$f"); rc=$?
  echo "$out"
  check "new VNF, SIG$sig after $at: exit 130" test $rc = 130
  check "new VNF, SIG$sig after $at: says so" grep -q "interrupted by SIG$sig during" <<<"$out"
  check "new VNF, SIG$sig after $at: no domain left" test -z "$(domains)"
  check "new VNF, SIG$sig after $at: hugepages back" test "$(free_pages)" = 128
done

# 2. --count 2: the second instance is started when the signal comes; both go.
fc=$work/${tag}-cnt.yaml  # two instances on a 2-CPU machine: shared CPUs, normal pages
printf 'name: %s\nvcpus: 1\nmemory: 256M\nhugepages: none\ncpu_policy: shared\ncount: 2\n' "${tag}-cnt" > "$fc"
out=$(held "start:${tag}-cnt-2" TERM "${launch[@]}" "$fc"); rc=$?
echo "$out"
check "count 2, SIGTERM after the second start: exit 130" test $rc = 130
check "count 2: both instances rolled back" test -z "$(domains)"
check "count 2: hugepages back" test "$(free_pages)" = 128

# 3. --replace of a running VNF, a signal after each pass: the old definition is back and runs.
out=$("$vnfctl" "${launch[@]}" "$f" 2>&1); rc=$?
echo "$out"
check "launch for the replace cases" test $rc = 0
virsh -q -c qemu:///system dumpxml --inactive "$name" > "$work/before.xml"
for at in reconcile plan render define start; do
  out=$(held "$at" TERM "${launch[@]}" "$f" --memory 128M --replace); rc=$?
  echo "$out"
  check "replace, SIGTERM after $at: exit 130" test $rc = 130
  virsh -q -c qemu:///system dumpxml --inactive "$name" > "$work/after.xml"
  check "replace, SIGTERM after $at: the old definition is defined again" cmp -s "$work/before.xml" "$work/after.xml"
  check "replace, SIGTERM after $at: and running" sh -c "'$vnfctl' list | grep -q '^$name .*running'"
  check "replace, SIGTERM after $at: no kept definition left" test ! -e /var/lib/vnfctl/undo/$name.xml
done
grep -q "is back and running again (the guest rebooted)" <<<"$out" && ok "replace rollback says the guest rebooted" ||
  bad "replace rollback says the guest rebooted"

# A SIGKILL cannot be caught: after it, the definition --replace took away is still on disk, and
# the next run says where.
VNFCTL_TEST_HOLD=define "$vnfctl" "${launch[@]}" "$f" --memory 128M --replace > "$work/killed.out" 2>&1 &
victim=$!
for _ in $(seq 1 600); do grep -q "test hold after define" "$work/killed.out" && break; sleep 0.1; done
kill -9 "$victim"; wait "$victim" 2>/dev/null
check "kill -9 mid-replace: the old definition is kept on disk" cmp -s "$work/before.xml" /var/lib/vnfctl/undo/$name.xml
out=$("$vnfctl" "${launch[@]}" "$f" --dry-run 2>&1)
echo "$out"
check "kill -9 mid-replace: the next run names the kept definition" \
  grep -q "killed while replacing $name; its previous definition is kept in /var/lib/vnfctl/undo/$name.xml" <<<"$out"
"$vnfctl" destroy "$name" >/dev/null; "$vnfctl" undefine "$name" >/dev/null
rm -f /var/lib/vnfctl/undo/$name.xml

# 4. The host lock: a second run says at once who holds it, and gives up after --lock-wait.
f2=$(spec "${tag}-lk")
VNFCTL_TEST_HOLD=gather "$vnfctl" "${launch[@]}" "$f2" > "$work/holder.out" 2>&1 &
holder=$!
for _ in $(seq 1 300); do grep -q "test hold after gather" "$work/holder.out" && break; sleep 0.1; done
out=$("$vnfctl" "${launch[@]}" "$f2" --lock-wait 1 2>&1); rc=$?
echo "$out"
check "lock busy: exit 8" test $rc = 8
check "lock busy: names the holder's pid and command at once" grep -q "is held by pid $holder (vnfctl launch .*${tag}-lk.yaml.*); waiting up to 1 s" <<<"$out"
check "lock busy: the error names it too" grep -q "another vnfctl launch holds the host lock .*: pid $holder (vnfctl launch" <<<"$out"
kill -9 "$holder"; wait "$holder" 2>/dev/null
out=$("$vnfctl" "${launch[@]}" "$f2" --lock-wait 1 --dry-run 2>&1); rc=$?
echo "$out"
check "a holder killed with -9 released the lock" test $rc = 0

check "cleaned up" test -z "$(domains)"
finish
