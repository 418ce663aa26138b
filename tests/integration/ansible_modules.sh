#!/usr/bin/env bash
# The collection's modules one at a time (label "integration"; no libvirt daemon, no VM: libvirt's
# test driver runs in the vnfctl process, test:///FILE.xml, and prepare works on a copy of a
# snapshot folder). Each module runs as a user runs it: `ansible -m` against localhost, its result
# read from the json callback.
#   1. a host whose libvirt has a VNF with damaged vnfctl metadata (vnfctl list: exit 3 with the
#      document's `domains` and `damaged`): host_facts succeeds with the good VNF in vnfctl_vnfs and
#      the damaged one in vnfctl_damaged, warning with its fix; the vnf module's absent (the scale
#      playbook's remove task) works on the other names and warns; acting on the damaged VNF by name
#      fails saying so, with the fix
#   2. the vnf module with the spec given as a file (as it is, and with fleet-plan instances:
#      relative guest paths taken from the spec's folder), in check mode against the test driver
#   3. the prepare module's state absent (unprepare) over a folder root: check mode, real, again
#   4. ansible-galaxy collection build makes the collection's tarball (galaxy.yml's readme exists)
# Usage: ansible_modules.sh VNFCTL
set -uo pipefail
vnfctl=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
w=$(mktemp -d /tmp/vnfctl-ansmod.XXXXXX)
pass=0
failed=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
trap 'rm -rf "$w"' EXIT
export ANSIBLE_COLLECTIONS_PATH=$repo/ansible ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
  ANSIBLE_LOCAL_TEMP=$w/ansible-tmp ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False \
  ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=json
run() { # run NAME MODULE ARGS [ansible options...]: the module's result as JSON in $w/NAME.json
  local name=$1 module=$2 args=$3
  shift 3
  ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost -m "$module" -a "$args" \
    "$@" >"$w/$name.out" 2>"$w/$name.err"
  python3 - "$w/$name.out" >"$w/$name.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(json.dumps(doc["plays"][0]["tasks"][0]["hosts"]["localhost"]))
PY
}
# check NAME DESCRIPTION PYTHON-EXPRESSION over r (the result); prints the result when it is false.
check() {
  if python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
    "$w/$1.json" "$3" 2>/dev/null; then
    ok "$2"
  else
    bad "$2: $3 is false for: $(head -c 1500 "$w/$1.json" 2>/dev/null) $(tail -5 "$w/$1.err")"
  fi
}

echo "== 1. a VNF with damaged vnfctl metadata"
domain() { # domain NAME NODE: a VNF domain as vnfctl writes its metadata (NODE 'abc' damages it)
  printf "%s" "<domain type='test'><name>$1</name><memory unit='KiB'>1048576</memory><vcpu placement='static'>1</vcpu>" \
    "<metadata><vnfctl:vnf xmlns:vnfctl='urn:vnfctl:domain:1'><vnfctl:spec hash='sha256:aa'/>" \
    "<vnfctl:tool version='0.1.0'/><vnfctl:image hash='sha256:bb'/><vnfctl:placement node='$2'" \
    " memory-kib='1048576' page-size-kib='0' hugepages='0'><vnfctl:vcpupin vcpu='0' cpu='2'/>" \
    "</vnfctl:placement></vnfctl:vnf></metadata><os><type>hvm</type></os></domain>"
}
echo "<node>$(domain good 0)$(domain broken abc)</node>" >"$w/node.xml"
uri="test://$w/node.xml"
"$vnfctl" -c "$uri" list --json >"$w/list.json" 2>/dev/null
[[ $? == 3 ]] && grep -q '"damaged"' "$w/list.json" && ok "vnfctl list: exit 3 with domains and damaged" ||
  bad "vnfctl list on the damaged host: $(cat "$w/list.json")"
# The host's shape from a snapshot folder (the test driver's file has no NUMA cells), its VNFs from $uri.
tree=$repo/tests/data/hosts/2socket-ht-x710-node1
run facts vnfctl.nfv.host_facts "vnfctl=$vnfctl connect=$uri host_root=$tree"
check facts "host_facts does not fail on a damaged VNF" 'not r.get("failed") and not r.get("changed")'
check facts "vnfctl_vnfs holds the VNF that reads well" '[d["name"] for d in r["ansible_facts"]["vnfctl_vnfs"]] == ["good"]'
check facts "vnfctl_damaged names the damaged one with its state and fix" \
  '[(d["name"], d["state"]) for d in r["ansible_facts"]["vnfctl_damaged"]] == [("broken", "running")] and "undefine broken" in r["ansible_facts"]["vnfctl_damaged"][0]["fix"]'
check facts "a warning names it and its fix" \
  'any("broken" in x and "virsh -c" in x and "fix:" in x for x in r.get("warnings", []))'
# Exit 3 without a document is "unreadable" (docs/cli.md): here libvirt answers, but the test
# driver's file gives no NUMA cells for vnfctl host to read; the host is not unreachable.
run nocells vnfctl.nfv.host_facts "vnfctl=$vnfctl connect=$uri"
check nocells "an exit 3 without a document is error kind unreadable, not unreachable" \
  'r.get("failed") and r["error_kind"] == "unreadable" and "NUMA" in r["msg"]'
run nofacts vnfctl.nfv.host_facts "vnfctl=$vnfctl connect=$uri host_root=$tree list_vnfs=false"
check nofacts "host_facts without list_vnfs reads no VNFs" 'not r.get("failed") and "vnfctl_damaged" not in r["ansible_facts"]'

# The scale playbook's remove task on that host: the names it removes are not the damaged one.
run absent vnfctl.nfv.vnf "vnfctl=$vnfctl connect=$uri names=good,gone state=absent" --check --diff
check absent "vnf absent of other names works beside the damaged VNF (check mode)" \
  'not r.get("failed") and r["changed"] and r["removed"] == ["good"]'
check absent "and returns the damaged one, warning with its fix" \
  '[d["name"] for d in r["damaged"]] == ["broken"] and any("broken" in x for x in r.get("warnings", []))'
run absent_broken vnfctl.nfv.vnf "vnfctl=$vnfctl connect=$uri names=gone,broken state=absent"
check absent_broken "vnf absent of the damaged VNF fails, saying so with the fix" \
  'r.get("failed") and "VNF broken has damaged vnfctl metadata" in r["msg"] and "edit broken" in r["msg"] and r["error_kind"] == "bad-content"'
run stop_broken vnfctl.nfv.vnf "vnfctl=$vnfctl connect=$uri names=broken state=stopped"
check stop_broken "vnf stopped by name of the damaged VNF fails with the fix" \
  'r.get("failed") and "edit broken" in r["msg"] and "unreachable" not in r["msg"]'
run stop_good vnfctl.nfv.vnf "vnfctl=$vnfctl connect=$uri names=good state=stopped" --check
check stop_good "vnf stopped by name of the good VNF works (check mode)" \
  'not r.get("failed") and r["changed"] and r["names"] == ["good"]'

echo "== 2. the vnf module with a spec file"
# A guest image as guest/image/build-image writes it (small stand-in files: define --dry-run checks
# their recorded hashes, nothing boots).
mkdir -p "$w/image" "$w/specs/boot"
for f in vmlinuz initrd.img; do echo "guest $f of $$" >"$w/image/$f"; done
python3 - "$w/image" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
files = ("vmlinuz", "initrd.img")
boot = {f: hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest() for f in files}
json.dump({"schema": "vnfctl.image/v1", "kernel": "vmlinuz", "boot_files": boot,
           "sha256": hashlib.sha256("".join(boot[f] for f in files).encode()).hexdigest()},
          open(os.path.join(d, "image.json"), "w"))
PY
printf 'name: fwf\ncount: 2\nvcpus: 1\nmemory: 128M\nhugepages: none\n' >"$w/specs/fwf.yaml"
common="vnfctl=$vnfctl connect=test:///default host_root=$tree image_dir=$w/image templates=$repo/domain-templates"
run specfile vnfctl.nfv.vnf "$common spec=$w/specs/fwf.yaml state=present" --check --diff
check specfile "a spec file as it is: both instances would be defined (check mode)" \
  'not r.get("failed") and r["changed"] and sorted(v["name"] for v in r["vnfs"]) == ["fwf-1", "fwf-2"] and all(v["verdict"] == "new" for v in r["vnfs"])'
# With instances the module reads the file itself: guest paths relative to the spec's folder.
cp "$w/image/vmlinuz" "$w/image/initrd.img" "$w/specs/boot/"
printf 'name: fwg\nvcpus: 1\nmemory: 128M\nhugepages: none\nguest: {kernel: boot/vmlinuz, initrd: boot/initrd.img}\n' \
  >"$w/specs/fwg.yaml"
python3 - "$w/inst.json" "$vnfctl" "$tree" "$w/specs/fwg.yaml" "$repo/domain-templates" <<'PY'
import json, sys
out, vnfctl, tree, spec, templates = sys.argv[1:]
json.dump({"vnfctl": vnfctl, "connect": "test:///default", "host_root": tree, "templates": templates,
           "spec": spec, "state": "present",
           "instances": [{"name": "fwg-7", "overrides": {"name": "fwg-7", "count": 1}}]}, open(out, "w"))
PY
run instances vnfctl.nfv.vnf "$(cat "$w/inst.json")" --check
check instances "a spec file with fleet-plan instances: relative guest paths from its folder (check mode)" \
  'not r.get("failed") and r["changed"] and [v["name"] for v in r["vnfs"]] == ["fwg-7"]'
run nofile vnfctl.nfv.vnf '{"vnfctl": "'"$vnfctl"'", "spec": "'"$w/specs/none.yaml"'", "instances": [{"name": "x"}]}' --check
check nofile "a spec file that does not exist: the module says which" \
  'r.get("failed") and "cannot read the spec file" in r["msg"] and "none.yaml" in r["msg"]'

echo "== 3. prepare state absent"
root=$w/root
cp -a "$tree" "$root" || { echo "FAIL: copy the host tree"; exit 1; }
pool() { cat "$root/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"; }
pool0=$(pool)
prep="vnfctl=$vnfctl host_root=$root journal=$w/journal.json"
run present vnfctl.nfv.prepare '{"vnfctl": "'"$vnfctl"'", "host_root": "'"$root"'", "journal": "'"$w/journal.json"'", "spec": {"hugepages": [{"size": "2M", "count": 96, "node": 0}]}}'
check present "prepare present changes the pool" 'not r.get("failed") and r["changed"]'
[[ $(pool) == 96 ]] && ok "pool 0: $pool0 -> 96" || bad "pool 0 is $(pool)"
run undo_check vnfctl.nfv.prepare "$prep state=absent" --check --diff
check undo_check "prepare absent in check mode reports the undo" \
  'not r.get("failed") and r["changed"] and len(r["changes"]) == 1 and r["changes"][0]["to"] == "'"$pool0"'"'
[[ $(pool) == 96 ]] && ok "and changes nothing" || bad "check mode changed pool 0 to $(pool)"
run undo vnfctl.nfv.prepare "$prep state=absent"
check undo "prepare absent undoes what prepare did" 'not r.get("failed") and r["changed"]'
[[ $(pool) == "$pool0" ]] && ok "pool 0 is $pool0 again" || bad "pool 0 is $(pool), not $pool0"
run undo2 vnfctl.nfv.prepare "$prep state=absent"
check undo2 "prepare absent again: nothing to undo, changed=false" 'not r.get("failed") and not r["changed"]'

echo "== 4. ansible-galaxy collection build"
if ansible-galaxy collection build --output-path "$w/galaxy" "$repo/ansible/ansible_collections/vnfctl/nfv" \
  >"$w/galaxy.log" 2>&1 && tar -tzf "$w/galaxy/vnfctl-nfv-"*.tar.gz >"$w/galaxy.list" 2>&1 &&
  grep -qx "README.md" "$w/galaxy.list" && grep -q "plugins/modules/vnf.py" "$w/galaxy.list"; then
  ok "ansible-galaxy collection build: $(basename "$w/galaxy/"*.tar.gz) with README.md and the modules"
else
  bad "ansible-galaxy collection build: $(cat "$w/galaxy.log" "$w/galaxy.list" 2>/dev/null | tail -5)"
fi

echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
