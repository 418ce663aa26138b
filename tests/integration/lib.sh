# Shared by the integration scripts: a private log dir, hugepage reservation that is given back,
# and cleanup of every domain the test made, even when it fails.
set -uo pipefail
vnfctl=$1
image=$2
tag=vnfit$$
work=$(mktemp -d /tmp/vnfctl-it.XXXXXX)
logs=$work/logs
pass=0
failed=0
hp=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
hp_before=$(cat "$hp")
accel=$(grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && echo KVM || echo "TCG (no vmx/svm on this CPU)")

cleanup() {
  for d in $(virsh -q -c qemu:///system list --all --name 2>/dev/null | grep "^$tag" || true); do
    virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
    virsh -q -c qemu:///system undefine "$d" >/dev/null 2>&1
  done
  echo "$hp_before" > "$hp"
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
domains() { virsh -q -c qemu:///system list --all --name | grep "^$tag" || true; }
finish() {
  echo "guests ran under $accel"
  echo "$(basename "$0"): $pass passed, $failed failed"
  ((failed == 0))
}
spec() { # spec NAME EXTRA... -> path of a spec file
  local f=$work/$1.yaml
  printf 'name: %s\nvcpus: 1\nmemory: 256M\nhugepages: 2M\n' "$1" > "$f"
  shift
  for line in "$@"; do printf '%s\n' "$line" >> "$f"; done
  echo "$f"
}
[[ -f $image/vmlinuz ]] || { echo "FAIL: no guest image in $image (build the guest_image target)"; exit 1; }
virsh -q -c qemu:///system version >/dev/null 2>&1 || { echo "FAIL: libvirtd is not running (scripts/libvirt start)"; exit 1; }
