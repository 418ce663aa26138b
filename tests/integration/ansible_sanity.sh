#!/usr/bin/env bash
# The collection's documentation and the ansible-test sanity tests that run offline (label
# integration; docs/ansible.md lists the ones that need the network and are not run).
#   1. ansible-doc renders every module, the lookup and the host role (DOCUMENTATION, EXAMPLES, RETURN,
#      meta/argument_specs.yml parse); the vnf module refuses option sets it cannot act on
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
if out=$(ansible-doc -t role vnfctl.nfv.host 2>&1) && grep -q "vnfctl_prepare_spec" <<<"$out"; then
  echo "PASS: ansible-doc -t role vnfctl.nfv.host (meta/argument_specs.yml)"; pass=$((pass + 1))
else
  echo "FAIL: ansible-doc -t role vnfctl.nfv.host: $out" | head -5; failed=$((failed + 1))
fi
# The vnf module refuses option sets it cannot act on, before running anything: a clear message and
# no Python traceback (state present needs a spec; instances go with a spec, not with names).
bad_args() { # bad_args WANT ARGS
  local want=$1 out
  shift
  out=$(ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost \
    -m vnfctl.nfv.vnf -a "vnfctl=/nonexistent/vnfctl $*" 2>&1)
  if grep -q "FAILED" <<<"$out" && grep -q "$want" <<<"$out" && ! grep -q Traceback <<<"$out"; then
    echo "PASS: vnf $*: $want"; pass=$((pass + 1))
  else
    echo "FAIL: vnf $*: $out" | head -8; failed=$((failed + 1))
  fi
}
bad_args "state is present but all of the following are missing: spec" "names=fw-1 state=present"
bad_args "mutually exclusive: instances|names" "names=fw-1 instances=[{}] state=absent"
bad_args "one of the following is required: spec, names" "state=absent"
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
