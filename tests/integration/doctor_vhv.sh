#!/usr/bin/env bash
# doctor against libvirt's virt-host-validate qemu on this host: every check of virt-host-validate
# that matters to a VNF host (hardware virtualization, /dev/vhost-net, /dev/net/tun, the cpuset and
# memory cgroup controllers) must get the same verdict from doctor, and where virt-host-validate
# says it does not know (the IOMMU) doctor must give pass or fail. Seconds; reads only.
set -uo pipefail
vnfctl=$1
pass=0
failed=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
command -v virt-host-validate >/dev/null || { echo "FAIL: virt-host-validate not installed (libvirt-clients)"; exit 1; }
work=$(mktemp -d /tmp/vnfctl-vhv.XXXXXX)
trap 'rm -rf "$work"' EXIT
virt-host-validate qemu > "$work/vhv.txt" 2>&1
"$vnfctl" doctor --json --no-libvirt > "$work/doctor.json"
cat "$work/vhv.txt"
# vhv line pattern -> doctor check id
while IFS='|' read -r pattern id; do
  line=$(grep -F "$pattern" "$work/vhv.txt" | head -1)
  [[ -n $line ]] || { bad "virt-host-validate has no line for '$pattern'"; continue; }
  vhv=$(sed -E 's/.*: (PASS|WARN|FAIL).*/\1/' <<<"$line")
  doc=$(python3 -c "import json,sys; d=json.load(open('$work/doctor.json')); print(next((c['verdict'] for c in d['checks'] if c['id']=='$id'), 'missing'))")
  want=$([[ $vhv == PASS ]] && echo pass || echo notpass)
  got=$([[ $doc == pass ]] && echo pass || echo notpass)
  if [[ $doc != missing && $want == "$got" ]]; then ok "$id: doctor $doc, virt-host-validate $vhv"
  else bad "$id: doctor $doc, virt-host-validate $vhv ($pattern)"; fi
done <<'MAP'
hardware virtualization|cpu.virt
'/dev/vhost-net'|dev.vhost_net
'/dev/net/tun'|dev.tun
cgroup 'cpuset' controller|cgroup.cpuset
cgroup 'memory' controller|cgroup.memory
MAP
iommu=$(python3 -c "import json; d=json.load(open('$work/doctor.json')); print(next(c['verdict'] for c in d['checks'] if c['id']=='iommu.firmware'))")
if [[ $iommu == pass || $iommu == fail ]]; then ok "IOMMU: doctor is exact ($iommu) where virt-host-validate says: $(grep -F 'IOMMU' "$work/vhv.txt" | sed -E 's/.*: //')"
else bad "IOMMU: doctor says $iommu"; fi
echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
