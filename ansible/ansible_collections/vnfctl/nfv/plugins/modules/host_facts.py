#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vnfctl developers
# Apache License 2.0 (see LICENSE in the vnfctl tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_facts
short_description: The host as vnfctl sees it (NUMA nodes, CPUs, hugepages, SR-IOV NICs) as facts
version_added: "0.1.0"
description:
  - Runs C(vnfctl host --json) and sets the fact C(vnfctl_host) to its document, and C(vnfctl_vnfs) to
    the VNF domains vnfctl manages on the host's libvirt (C(vnfctl list --json)).
  - A VNF domain whose vnfctl metadata was damaged (edited by hand) does not fail the module. It is a
    warning naming the domain and its repair, and the fact C(vnfctl_damaged) lists it; the other VNFs are
    in C(vnfctl_vnfs) as usual.
  - Reads only; never changes anything.
author:
  - vnfctl developers
options:
  list_vnfs:
    description: Also read the VNFs libvirt has (needs libvirt to answer).
    type: bool
    default: true
  vnfctl:
    description: The vnfctl binary.
    type: path
    default: vnfctl
  connect:
    description: libvirt URI (C(vnfctl -c)).
    type: str
  host_root:
    description: Read the host from this snapshot folder instead of C(/).
    type: path
notes:
  - Supports check mode (it changes nothing in any mode).
"""

EXAMPLES = r"""
- name: Read the host
  vnfctl.nfv.host_facts:

- name: Show its NUMA nodes
  ansible.builtin.debug:
    msg: "{{ vnfctl_host.nodes | map(attribute='id') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: The facts set.
  returned: always
  type: dict
  contains:
    vnfctl_host:
      description: C(vnfctl host --json) (NUMA nodes, CPUs, hugepages, NICs and VFs, IOMMU, notes).
      type: dict
      returned: always
    vnfctl_vnfs:
      description: C(vnfctl list --json) domains (name, state, node, CPUs, VFs, spec hash).
      type: list
      elements: dict
      returned: when O(list_vnfs=true)
    vnfctl_damaged:
      description:
        - VNF domains whose vnfctl metadata is damaged (name, state, error, fix), from C(vnfctl list --json).
          vnfctl plans nothing on the host until each is repaired or removed as its C(fix) says.
      type: list
      elements: dict
      returned: when O(list_vnfs=true)
      sample:
        - name: fw-3
          state: running
          error: "domain 'fw-3' on qemu:///system: vnfctl's metadata ..."
          fix: "virsh -c qemu:///system edit fw-3 ..."
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vnfctl.nfv.plugins.module_utils.vnfctl import (
    common_argument_spec,
    fail_from,
    global_args,
    list_vnfs,
    run_vnfctl,
)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(list_vnfs=dict(type="bool", default=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    rc, host, out, err = run_vnfctl(module, global_args(module.params) + ["host", "--json"])
    if rc != 0:
        fail_from(module, "vnfctl host", rc, host, err)
    facts = dict(vnfctl_host=host)
    if module.params["list_vnfs"]:
        domains, damaged = list_vnfs(module, global_args(module.params))
        facts["vnfctl_vnfs"] = sorted(domains.values(), key=lambda d: d["name"])
        facts["vnfctl_damaged"] = damaged
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
