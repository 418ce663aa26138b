#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vnfctl developers
# Apache License 2.0 (see LICENSE in the vnfctl tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: verify
short_description: Check that running VNFs run as planned (pinning, memory node, VFs)
version_added: "0.1.0"
description:
  - Runs C(vnfctl verify NAME --json) for each VNF, which reads the running domain back from libvirt and
    compares its CPU pinning, memory node and VFs with its plan. Fails when one does not match.
  - Reads only; never changes anything.
author:
  - vnfctl developers
options:
  names:
    description: The VNFs to verify.
    type: list
    elements: str
    required: true
  vnfctl:
    description: The vnfctl binary.
    type: path
    default: vnfctl
  connect:
    description: libvirt URI (C(vnfctl -c)).
    type: str
  host_root:
    description: Host snapshot folder (C(vnfctl --host-root)).
    type: path
notes:
  - Supports check mode (it changes nothing in any mode).
"""

EXAMPLES = r"""
- name: The firewalls run as planned
  vnfctl.nfv.verify:
    names: [fw-1, fw-2]
"""

RETURN = r"""
results:
  description: One document per VNF (schema vnfctl.verify/v1) with its checks (what, expected, actual, ok).
  returned: always
  type: list
  elements: dict
  sample:
    - name: fw-1
      ok: true
      checks: [{what: "vCPU 0 pinned", expected: "9", actual: "9", ok: true}]
mismatched:
  description: Names of the VNFs that do not run as planned.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vnfctl.nfv.plugins.module_utils.vnfctl import (
    common_argument_spec,
    fail_from,
    global_args,
    run_vnfctl,
)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(names=dict(type="list", elements="str", required=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    results, mismatched = [], []
    for name in module.params["names"]:
        rc, doc, out, err = run_vnfctl(module, global_args(module.params) + ["verify", name, "--json"])
        if doc is None or (rc != 0 and "checks" not in doc):
            fail_from(module, "vnfctl verify %s" % name, rc, doc, err, results=results)
        results.append(doc)
        if not doc.get("ok"):
            mismatched.append(name)
    if mismatched:
        module.fail_json(msg="%s do(es) not run as planned" % ", ".join(mismatched), results=results,
                         mismatched=mismatched)
    module.exit_json(changed=False, results=results, mismatched=mismatched)


if __name__ == "__main__":
    main()
