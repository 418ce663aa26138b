#!/usr/bin/env bash
# The collection's host role (label "integration", no libvirt daemon, no VM; ~15 s): localhost with a
# copy of the snapshot folder tests/data/hosts/2socket-ht-x710-node1 as the host's root and every
# destination in a private folder, so it runs in CI on this machine and changes nothing outside it.
#   1. the first run installs the vnfctl binary, the domain templates and the guest image (every boot
#      file image.json records, here a PVH image booting vmlinux) and prepares the host: the 2 MiB
#      pools of both nodes set, the persistence files written, the journal holding the old counts.
#      The installed vnfctl, templates and image work: define --dry-run (libvirt's test driver)
#      resolves the image, checks its recorded hashes and renders.
#   2. a second run changes nothing (changed=0)
#   3. check mode with a bigger pool reports the change and changes nothing
#   4. a changed pool converges (changed=1: only prepare) and the journal keeps the original count
# (The role prepares only; undoing it, the prepare module's state absent, runs over a folder root in
# ansible_modules.sh: a write under --host-root replaces the file's value, as sysfs does.)
# VFs, vfio-pci and hugetlbfs mounts need the live kernel and cannot be prepared in a folder.
# Usage: ansible_host_role.sh VNFCTL
set -uo pipefail
vnfctl=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
w=$(mktemp -d /tmp/vnfctl-hostrole.XXXXXX)
pass=0
failed=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
trap 'rm -rf "$w"' EXIT
t0=$(date +%s.%N)
root=$w/root
cp -a "$repo/tests/data/hosts/2socket-ht-x710-node1" "$root" || { echo "FAIL: copy the host tree"; exit 1; }
pool() { cat "$root/sys/devices/system/node/node$1/hugepages/hugepages-2048kB/nr_hugepages"; }
pool0=$(pool 0)
pool1=$(pool 1)
# A guest image as guest/image/build-image writes it (PVH: image.json names vmlinux), small files.
mkdir -p "$w/image-src"
for f in vmlinuz vmlinux initrd.img; do echo "guest $f of $$" >"$w/image-src/$f"; done
python3 - "$w/image-src" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
files = ("vmlinuz", "vmlinux", "initrd.img")
boot = {f: hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest() for f in files}
# A hostile entry: a boot file name that leads out of the image folder is not copied anywhere.
json.dump({"schema": "vnfctl.image/v1", "kernel": "vmlinux", "pvh": True,
           "boot_files": dict(boot, **{"../escape": "0" * 64, "..": "0" * 64}),
           "sha256": hashlib.sha256("".join(boot[f] for f in files).encode()).hexdigest()},
          open(os.path.join(d, "image.json"), "w"))
PY
echo "outside the image folder" >"$w/escape" # what image-src/../escape names: a naive copy would take it
inst=$w/inst
write_vars() { # write_vars NODE0_PAGES NODE1_PAGES
  cat >"$w/vars.yml" <<YAML
vnfctl_binary_src: $vnfctl
vnfctl_binary_dest: $inst/bin/vnfctl
vnfctl_templates_src: $repo/domain-templates
vnfctl_templates_dest: $inst/templates
vnfctl_image_src: $w/image-src
vnfctl_image_dest: $inst/image
vnfctl_host_root: $root
vnfctl_prepare_spec:
  hugepages:
    - {size: 2M, count: $1, node: 0}
    - {size: 2M, count: $2, node: 1}
vnfctl_prepare_persist: true
vnfctl_prepare_persist_root: $w/persist
vnfctl_prepare_journal: $w/journal.json
YAML
}
export ANSIBLE_COLLECTIONS_PATH=$repo/ansible ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
  ANSIBLE_LOCAL_TEMP=$w/ansible-tmp ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
play() { # play LOG EXTRA...
  local log=$1
  shift
  ansible-playbook -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 \
    "$here/ansible_host_role/site.yml" -e "@$w/vars.yml" "$@" >"$w/$log" 2>&1
}
changed_of() { sed -n 's/^localhost .*changed=\([0-9]*\).*/\1/p' "$w/$1"; }

echo "== 1. first run"
write_vars 64 640
play run1.log && ok "first run" || { bad "first run failed"; tail -30 "$w/run1.log"; }
cmp -s "$vnfctl" "$inst/bin/vnfctl" && [[ -x $inst/bin/vnfctl ]] && ok "vnfctl installed, executable" || bad "vnfctl not installed"
diff -r "$repo/domain-templates" "$inst/templates" >/dev/null && ok "domain templates installed" || bad "templates differ"
missing=
for f in vmlinuz vmlinux initrd.img image.json; do cmp -s "$w/image-src/$f" "$inst/image/$f" || missing+=" $f"; done
[[ -z $missing ]] && ok "guest image installed: $(ls "$inst/image" | paste -sd' ')" || bad "guest image files not installed:$missing"
[[ ! -e $inst/escape && $(ls "$inst/image" | wc -l) == 4 ]] && ok "a boot file name leading out of the image folder (../escape) is not copied" ||
  bad "image.json's ../escape: $(ls "$inst" "$inst/image")"
[[ $(pool 0) == 64 && $(pool 1) == 640 ]] && ok "hugepages: node0 $pool0 -> 64, node1 $pool1 -> 640" ||
  bad "hugepages: node0 $(pool 0), node1 $(pool 1)"
missing=
for f in etc/vnfctl/host.yaml etc/systemd/system/vnfctl-prepare.service etc/default/grub.d/vnfctl.cfg; do
  [[ -f $w/persist/$f ]] || missing+=" $f"
done
[[ -z $missing ]] && grep -q "ExecStart=$inst/bin/vnfctl prepare" "$w/persist/etc/systemd/system/vnfctl-prepare.service" &&
  ok "persistence files written; the boot unit runs the installed vnfctl" || bad "persistence: missing$missing; $(grep ExecStart "$w/persist/etc/systemd/system/vnfctl-prepare.service" 2>&1)"
grep -q '"0"' "$w/journal.json" && ok "the journal holds the original counts" || bad "journal: $(head -c 300 "$w/journal.json")"
grep -q "systemctl enable vnfctl-prepare.service" "$w/run1.log" && ok "the activation commands are shown" || bad "no activation commands shown"
printf 'name: hostrole-%s\nvcpus: 1\nmemory: 128M\nhugepages: none\n' $$ >"$w/spec.yaml"
if "$inst/bin/vnfctl" -c test:///default --host-root "$root" define --dry-run --json --image-dir "$inst/image" \
  --templates "$inst/templates" "$w/spec.yaml" >"$w/define.json" 2>"$w/define.err"; then
  ok "the installed vnfctl, templates and image render a VNF (define --dry-run)"
else
  bad "define --dry-run with what the role installed: $(cat "$w/define.err")"
fi

echo "== 2. second run"
play run2.log || bad "second run failed"
[[ $(changed_of run2.log) == 0 ]] && ok "second run: changed=0" || { bad "second run changed $(changed_of run2.log)"; grep -B2 "^changed" "$w/run2.log"; }

echo "== 3. check mode"
write_vars 128 640
before=$(find "$root" "$inst" "$w/persist" "$w/journal.json" -type f -exec sha256sum {} + | sort | sha256sum)
play check.log --check --diff || bad "check mode run failed"
after=$(find "$root" "$inst" "$w/persist" "$w/journal.json" -type f -exec sha256sum {} + | sort | sha256sum)
[[ $before == "$after" ]] && ok "check mode changed no file (host root, installed files, persistence, journal)" || bad "check mode changed files"
[[ $(changed_of check.log) == 1 ]] && [[ $(pool 0) == 64 ]] && grep -q "^+.*node0/hugepages/hugepages-2048kB/nr_hugepages hugepages: 128" "$w/check.log" &&
  ok "check mode reports the one change with its diff (node0 64 -> 128)" || bad "check mode: $(grep -A6 'TASK \[vnfctl.nfv.host : Prepare' "$w/check.log")"

echo "== 4. a changed pool"
play run3.log || bad "run with a changed pool failed"
[[ $(changed_of run3.log) == 1 && $(pool 0) == 128 ]] && ok "a changed pool converges (changed=1, node0 128)" ||
  bad "changed pool: changed=$(changed_of run3.log), node0 $(pool 0)"
! grep -q '"64"' "$w/journal.json" && grep -q '"0"' "$w/journal.json" && ok "the journal still holds the original count, not the intermediate 64" ||
  bad "journal: $(head -c 300 "$w/journal.json")"

echo "wall time $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s"
echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
