#!/usr/bin/env bash
# Faults: libvirtd unreachable; a template libvirt rejects; not enough hugepages when the guest
# starts; a readiness timeout; kill -9 of vnfctl mid-launch then a rerun. After each: a clear error
# and the host as before (no domain, pages back).
. "$(dirname "$0")/lib.sh"

# 1. libvirtd unreachable (a socket that does not exist).
f=$(spec "${tag}-a")
out=$("$vnfctl" -c "qemu:///system?socket=/nonexistent/libvirt-sock" launch "$f" --image-dir "$image" --log-dir "$logs" 2>&1); rc=$?
echo "$out"
check "unreachable libvirtd: exit 3" test $rc = 3
check "unreachable libvirtd: blames the URI's socket path, not the daemon" \
  grep -q "the socket /nonexistent/libvirt-sock named in the URI does not exist" <<<"$out"
check "unreachable libvirtd: nothing defined" test -z "$(domains)"

# 2. A template libvirt rejects at define (its emulator does not exist).
mkdir -p "$work/t"
sed 's|<emulator>[^<]*</emulator>|<emulator>/nonexistent/qemu-system-x86_64</emulator>|' \
  "$(dirname "$0")/../../domain-templates/default.xml" > "$work/t/broken.xml"
f=$(spec "${tag}-b" "profile: $work/t/broken.xml")
echo 128 > "$hp"
out=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" 2>&1); rc=$?
echo "$out"
check "rejected template: exit 1 (libvirt refused the definition)" test $rc = 1
check "rejected template: libvirt's reason shown" grep -q "nonexistent/qemu-system-x86_64" <<<"$out"
check "rejected template: nothing defined" test -z "$(domains)"

# 3. Not enough hugepages when the guest starts: plan against a snapshot that shows 128 free
#    pages while the live host has none reserved.
echo 128 > "$hp"
"$vnfctl" snapshot "$work/snap" >/dev/null
echo 0 > "$hp"
f=$(spec "${tag}-c")
out=$("$vnfctl" --host-root "$work/snap" launch "$f" --image-dir "$image" --log-dir "$logs" 2>&1); rc=$?
echo "$out"
check "no hugepages at start: host not ready (exit 10)" test $rc = 10
check "no hugepages at start: rolled back" grep -q "rolled back: ${tag}-c: the domain this run defined was removed" <<<"$out"
check "no hugepages at start: nothing left" test -z "$(domains)"

# 4. Readiness timeout.
echo 128 > "$hp"
f=$(spec "${tag}-d")
out=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" --timeout 1 2>&1); rc=$?
echo "$out"
check "timeout: exit 6" test $rc = 6
check "timeout: says so" grep -q "did not report VNF-READY within 1 s" <<<"$out"
check "timeout: nothing left" test -z "$(domains)"
check "timeout: hugepages back" test "$(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages)" = 128

# 5. A corrupt guest image: refused before anything is defined. The copies' hash records come
#    along (cp -p keeps size and mtime) and must not hide the change.
mkdir -p "$work/badimage"
cp -p "$image"/vmlinu[xz] "$image"/*.sha256 "$image/initrd.img" "$image/image.json" "$work/badimage/"
printf 'x' | dd of="$work/badimage/initrd.img" bs=1 seek=1000 conv=notrunc status=none
f=$(spec "${tag}-f")
out=$("$vnfctl" launch "$f" --image-dir "$work/badimage" --log-dir "$logs" 2>&1); rc=$?
echo "$out"
check "corrupt image: usage error (exit 2)" test $rc = 2
check "corrupt image: says so, with the hashes" grep -q "is corrupt or changed: .*initrd.img has sha256 [0-9a-f]* but its build recorded [0-9a-f]*" <<<"$out"
check "corrupt image: nothing defined" test -z "$(domains)"

# 6. kill -9 mid-launch (after define), then a rerun finishes the job.
f=$(spec "${tag}-e")
"$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" --timeout 300 > "$work/killed.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q defined "$work/killed.out" && break; sleep 0.1; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
out=$("$vnfctl" launch "$f" --image-dir "$image" --log-dir "$logs" --timeout 300 2>&1); rc=$?
echo "$out"
[[ $rc == 0 && ( $out == *"ready in"* || $out == *"nothing to do"* ) ]]
check "rerun after kill -9: ready" test $? = 0
"$vnfctl" destroy "${tag}-e" >/dev/null; "$vnfctl" undefine "${tag}-e" >/dev/null
check "rerun after kill -9: cleaned up" test -z "$(domains)"

# 7. A checkout QEMU's user cannot read (root's home is mode 700): launch stages the boot files
#    content-addressed under /var/lib/vnfctl/boot and says so; the guest boots.
mkdir -p "$work/private/image"
chmod 700 "$work/private"
cp "$image"/vmlinu[xz] "$image/initrd.img" "$image/image.json" "$work/private/image/"
f=$(spec "${tag}-g")
out=$("$vnfctl" launch "$f" --image-dir "$work/private/image" --log-dir "$logs" --timeout 300 2>&1); rc=$?
echo "$out"
check "private checkout: ready" test $rc = 0
check "private checkout: says the boot files were staged" grep -q "staged" <<<"$out"
check "private checkout: the domain boots the staged copy" \
  sh -c "virsh -q -c qemu:///system dumpxml '${tag}-g' | grep -q '<kernel>/var/lib/vnfctl/boot/'"
"$vnfctl" destroy "${tag}-g" >/dev/null; "$vnfctl" undefine "${tag}-g" >/dev/null
check "private checkout: cleaned up" test -z "$(domains)"

# 8. A FIFO in place of a VNF's serial log (defined, not started): stats and console refuse it at
#    once, naming it and the fix, instead of blocking on the pipe; a log not there yet is no error.
f=$(spec "${tag}-h")
"$vnfctl" define "$f" --image-dir "$image" --log-dir "$logs" >/dev/null 2>&1
check "fifo log: defined" test -n "$(domains)"
rm -f "$logs/${tag}-h.serial.log"
out=$(timeout 20 "$vnfctl" console "${tag}-h" 2>&1); rc=$?
check "no log yet: console prints nothing, exit 0 (got $rc: $out)" test "$rc" = 0 -a -z "$out"
mkfifo "$logs/${tag}-h.serial.log"
for cmd in stats console; do
  out=$(timeout 20 "$vnfctl" "$cmd" "${tag}-h" 2>&1); rc=$?
  check "fifo log: $cmd exits 3, not blocked (got $rc)" test "$rc" = 3
  check "fifo log: $cmd names the FIFO and the fix" \
    grep -q "serial log $logs/${tag}-h.serial.log is a FIFO (named pipe), not a regular file" <<<"$out"
  check "fifo log: $cmd says remove it" grep -q "fix: remove it (rm $logs/${tag}-h.serial.log)" <<<"$out"
done
rm -f "$logs/${tag}-h.serial.log"
"$vnfctl" undefine "${tag}-h" >/dev/null
check "fifo log: cleaned up" test -z "$(domains)"
finish
