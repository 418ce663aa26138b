#!/usr/bin/env bash
# The collection's documentation and the ansible-test sanity tests that run offline (label
# integration; docs/ansible.md lists the ones that need the network and are not run).
#   1. ansible-doc renders every module and the lookup (DOCUMENTATION, EXAMPLES, RETURN parse)
#   2. ansible-test sanity --python 3.11 --test T for each offline test
# Usage: ansible_sanity.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
coll=$(cd "$here/../../ansible/ansible_collections/vnfctl/nfv" && pwd)
export ANSIBLE_COLLECTIONS_PATH=$(cd "$coll/../../.." && pwd) ANSIBLE_NOCOLOR=1
pass=0
failed=0
for m in vnf prepare host_facts verify; do
  if out=$(ansible-doc "vnfctl.nfv.$m" 2>&1) && grep -q "RETURN VALUES" <<<"$out" && grep -q "EXAMPLES" <<<"$out"; then
    echo "PASS: ansible-doc vnfctl.nfv.$m"; pass=$((pass + 1))
  else
    echo "FAIL: ansible-doc vnfctl.nfv.$m: $out" | head -5; failed=$((failed + 1))
  fi
done
if ansible-doc -t lookup vnfctl.nfv.fleet_plan >/dev/null 2>&1; then
  echo "PASS: ansible-doc -t lookup vnfctl.nfv.fleet_plan"; pass=$((pass + 1))
else
  echo "FAIL: ansible-doc -t lookup vnfctl.nfv.fleet_plan"; failed=$((failed + 1))
fi
python=$(command -v python3.11 || true)
[[ -n $python ]] || { echo "FAIL: no python3.11 for ansible-test --python 3.11"; exit 1; }
cd "$coll"
for t in action-plugin-docs changelog compile empty-init future-import-boilerplate ignores line-endings \
  metaclass-boilerplate no-assert no-basestring no-dict-iteritems no-dict-iterkeys no-dict-itervalues \
  no-get-exception no-illegal-filenames no-main-display no-smart-quotes no-unicode-literals pslint \
  replace-urlopen shebang shellcheck symlinks use-argspec-type-path use-compat-six; do
  if out=$(ansible-test sanity --python 3.11 --color no --test "$t" 2>&1); then
    echo "PASS: ansible-test sanity $t"; pass=$((pass + 1))
  else
    echo "FAIL: ansible-test sanity $t:"; tail -5 <<<"$out"; failed=$((failed + 1))
  fi
done
echo "$(basename "$0"): $pass passed, $failed failed"
((failed == 0))
