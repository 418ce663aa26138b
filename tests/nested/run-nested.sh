#!/bin/bash
# Host side of the nested test: builds a busybox initramfs holding vnfctl (with its shared libraries),
# iproute2's ip and ethtool (independent checks of the VF settings and the rings) and the kernel modules of the flow, boots
# Debian's kernel under QEMU 10 as an emulated SR-IOV host and parses PASS/FAIL lines from the serial log.
#   run-nested.sh VNFCTL CACHE_DIR
# QEMU is always killed and the temp dir removed, whatever happens.
set -euo pipefail
VNFCTL=$1
CACHE=$2
TIMEOUT=${VNF_NESTED_TIMEOUT:-420}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/vnfctl-nested-XXXXXX)
QPID=""
cleanup() {
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID" 2>/dev/null || true; sleep 0.5; kill -9 "$QPID" 2>/dev/null || true; fi
  [ -n "$QPID" ] && wait "$QPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
START=$(date +%s)

# Debian's kernel, downloaded once into the build dir.
mkdir -p "$CACHE"
PKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$PKG" ] || { echo "FAIL setup: cannot resolve linux-image-amd64's kernel package"; exit 1; }
DEB=$(ls "$CACHE"/${PKG}_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$DEB" ]; then
  (cd "$CACHE" && apt-get download "$PKG")
  DEB=$(ls "$CACHE"/${PKG}_*.deb | head -n1)
fi
if [ ! -d "$CACHE/$PKG" ]; then
  dpkg-deb -x "$DEB" "$CACHE/$PKG.tmp" && mv "$CACHE/$PKG.tmp" "$CACHE/$PKG"
fi
KROOT=$CACHE/$PKG
KERNEL=$(ls "$KROOT"/boot/vmlinuz-* | head -n1)
KVER=$(basename "$KERNEL" | sed 's/^vmlinuz-//')
echo "kernel: $KERNEL"

# The initramfs.
R=$WORK/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,run,tmp,etc,lib/modules,lib64,usr/bin}
cp /bin/busybox "$R/bin/busybox"
strip -o "$R/bin/vnfctl" "$VNFCTL"
mkdir -p "$R/usr/sbin"; cp /usr/sbin/ip "$R/usr/sbin/iproute2-ip"  # busybox --install would shadow /bin/ip
# The ethtool binary checks what vnfctl tune set through the ioctl (vnfctl never runs it).
[ -x /usr/sbin/ethtool ] || { echo "FAIL setup: /usr/sbin/ethtool missing (scripts/setup installs the ethtool package)"; exit 1; }
cp /usr/sbin/ethtool "$R/usr/sbin/ethtool-check"
copy_libs() {
  ldd "$1" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
    mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
  done
}
copy_libs "$R/bin/vnfctl"
copy_libs "$R/usr/sbin/iproute2-ip"
copy_libs "$R/usr/sbin/ethtool-check"
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$R/lib/x86_64-linux-gnu/" 2>/dev/null || true
for m in i2c-algo-bit dca igb igbvf irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci; do
  f=$(find "$KROOT/lib/modules/$KVER" \( -name "$m.ko*" -o -name "$(echo $m | tr - _).ko*" \) | head -n1)
  [ -n "$f" ] || { echo "FAIL setup: module $m not in $PKG"; exit 1; }
  case "$f" in
    *.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$R/lib/modules/$m.ko" ;;
    *) cp "$f" "$R/lib/modules/$m.ko" ;;
  esac
done
cp "$HERE/guest-test.sh" "$R/bin/guest-test.sh"
# vnfctl render inside the VM needs the domain templates and libvirt's RelaxNG schema.
mkdir -p "$R/usr/share/vnfctl" "$R/usr/share/libvirt"
cp -r "$HERE/../../domain-templates" "$R/usr/share/vnfctl/domain-templates"
cp -r /usr/share/libvirt/schemas "$R/usr/share/libvirt/schemas"
cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /run
export PATH=/bin:/sbin
dmesg -n 3  # the kernel's boot messages reached the log (where a boot stalls); from here only emerg/alert/crit, so the checks' lines stay whole
for m in i2c-algo-bit dca igb igbvf irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci; do
  insmod /lib/modules/$m.ko || echo "INFO insmod $m failed"
done
sleep 1
echo "GUEST-START $(cut -d' ' -f1 /proc/uptime)"
sh /bin/guest-test.sh 2>&1
echo "GUEST-DONE $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.gz"

ACCEL=tcg
grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ] && ACCEL=kvm
echo "accelerator: $ACCEL"
LOG=$WORK/serial.log
# The emulated host's boot (firmware, Debian's kernel, /init) runs none of vnfctl; under TCG on a loaded
# machine it stalled once in CI with nothing on the serial line for 300 s (loglevel=3 hid where). A boot that
# shows no GUEST-START within BOOT_TIMEOUT (normally ~10 s) is killed and started once more, saying so
# with the first log's tail; a stall after GUEST-START (vnfctl's part) is never retried.
BOOT_TIMEOUT=${VNF_NESTED_BOOT_TIMEOUT:-150}
boot() {
  : > "$LOG"
  qemu-system-x86_64 -accel "$ACCEL" -machine q35,kernel-irqchip=split -cpu max \
    -device intel-iommu,intremap=on,caching-mode=on \
    -smp 4,sockets=2 -m 1G \
    -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
    -numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1 \
    -device pxb-pcie,id=pxb1,bus_nr=128,numa_node=1,bus=pcie.0 \
    -device pcie-root-port,id=rp1,bus=pxb1,chassis=1,slot=1 \
    -netdev user,id=n0,restrict=on -device igb,netdev=n0,bus=rp1 \
    -global q35-pcihost.pci-hole64-size=0 \
    -kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 intel_iommu=on iommu=pt panic=-1" \
    -display none -serial "file:$LOG" -monitor none -no-reboot &
  QPID=$!
}
stop_qemu() {
  kill "$QPID" 2>/dev/null || true; sleep 0.5; kill -9 "$QPID" 2>/dev/null || true
  wait "$QPID" 2>/dev/null || true; QPID=""
}
ATTEMPT=1
BOOT_START=$(date +%s)
boot
while kill -0 "$QPID" 2>/dev/null; do
  if grep -q "GUEST-DONE" "$LOG" 2>/dev/null; then break; fi
  NOW=$(date +%s)
  if [ "$ATTEMPT" = 1 ] && ! grep -q "GUEST-START" "$LOG" 2>/dev/null && [ $(( NOW - BOOT_START )) -ge "$BOOT_TIMEOUT" ]; then
    echo "INFO boot stalled: no GUEST-START after $BOOT_TIMEOUT s (before vnfctl runs); serial log tail:"
    tr -d '\r' < "$LOG" | tail -15
    stop_qemu
    echo "INFO booting the emulated host once more"
    ATTEMPT=2; BOOT_START=$NOW
    boot
    continue
  fi
  if [ $(( NOW - START )) -ge "$TIMEOUT" ]; then echo "FAIL timeout: no GUEST-DONE after $TIMEOUT s"; break; fi
  sleep 1
done
sleep 0.5
tr -d '\r' < "$LOG" | sed -n '/GUEST-START/,$p'
echo "---"
PASSES=$(tr -d '\r' < "$LOG" | grep -c '^PASS ' || true)
FAILS=$(tr -d '\r' < "$LOG" | grep -c '^FAIL ' || true)
echo "nested: accelerator $ACCEL, $PASSES passed, $FAILS failed, $(( $(date +%s) - START )) s total"
if ! grep -q "GUEST-DONE" "$LOG"; then echo "FAIL: the guest did not finish; serial log tail:"; tail -30 "$LOG"; exit 1; fi
[ "$FAILS" = 0 ] && [ "$PASSES" -gt 0 ]
