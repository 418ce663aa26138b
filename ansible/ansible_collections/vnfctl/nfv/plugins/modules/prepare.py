#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vnfctl developers
# Apache License 2.0 (see LICENSE in the vnfctl tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prepare
short_description: Make a host ready for SR-IOV VNFs (VFs, vfio-pci, hugepages, persistence), or undo it
version_added: "0.1.0"
description:
  - V(present) runs C(vnfctl prepare --json) with the host spec (docs/prepare.md in the vnfctl tree),
    which creates VFs, sets their MAC/VLAN/trust/spoofchk, binds them to vfio-pci, reserves hugepages and, with
    C(persist), writes the boot-time unit and grub drop-in. Only what differs is changed; every change is
    journaled with the original state.
  - V(absent) runs C(vnfctl unprepare --json), restoring everything the journal recorded.
  - Check mode is vnfctl's C(--dry-run); diff mode shows each change (object, current, wanted).
  - C(changed) is true exactly when vnfctl changed the host.
author:
  - vnfctl developers
options:
  spec:
    description:
      - The host spec as a dictionary (keys C(pfs), C(hugepages), C(kernel)), or the path of a spec file
        on the managed host. Required with O(state=present).
    type: raw
  state:
    description: V(present) prepares; V(absent) undoes from the journal.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description: Also write the boot-time systemd unit and grub drop-in (vnfctl never runs update-grub).
    type: bool
    default: false
  persist_root:
    description: Write the persistence files under this folder.
    type: path
  journal:
    description: The journal of changes and original state.
    type: path
  lock_wait:
    description: Seconds to wait for another prepare on the host.
    type: float
    default: 5
  vnfctl:
    description: The vnfctl binary.
    type: path
    default: vnfctl
  connect:
    description: libvirt URI (not used by prepare; accepted for symmetry with the other modules).
    type: str
  host_root:
    description: Work on this host root instead of C(/) (tests, snapshots).
    type: path
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Four VFs on ens2f0 for VNFs, 1 GiB pages on its node
  vnfctl.nfv.prepare:
    spec:
      pfs:
        - pf: ens2f0
          vfs: 4
      hugepages:
        - size: 1G
          count: 8
    persist: true

- name: Undo it
  vnfctl.nfv.prepare:
    state: absent
"""

RETURN = r"""
changes:
  description: The changes made, or with check mode the changes that would be made.
  returned: always
  type: list
  elements: dict
  sample:
    - kind: num_vfs
      target: "0000:81:00.0"
      vf: null
      from: "0"
      to: "4"
      description: "0000:81:00.0 sriov_numvfs: 0 -> 4"
journal:
  description: The journal file.
  returned: always
  type: str
  sample: /var/lib/vnfctl/prepare-journal.json
activation_commands:
  description: With O(persist), the commands to run by hand to activate the boot-time files.
  returned: always
  type: list
  elements: str
  sample: []
error_kind:
  description: vnfctl's error kind on failure.
  returned: failure
  type: str
  sample: invalid-argument
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vnfctl.nfv.plugins.module_utils.vnfctl import (
    common_argument_spec,
    fail_from,
    run_vnfctl,
    write_json_file,
)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        spec=dict(type="raw"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        persist=dict(type="bool", default=False),
        persist_root=dict(type="path"),
        journal=dict(type="path"),
        lock_wait=dict(type="float", default=5),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[("state", "present", ("spec",))])
    p = module.params
    args = []
    if p["host_root"]:
        args += ["--host-root", p["host_root"]]
    args += ["prepare" if p["state"] == "present" else "unprepare", "--json", "--lock-wait", str(p["lock_wait"])]
    if p["journal"]:
        args += ["--journal", p["journal"]]
    if module.check_mode:
        args.append("--dry-run")
    if p["state"] == "present":
        spec = p["spec"]
        if isinstance(spec, dict):
            spec = write_json_file(module, spec, "host-spec.json")
        elif not isinstance(spec, str):
            module.fail_json(msg="spec must be a dictionary or the path of a host spec file")
        args += ["--spec", spec]
        if p["persist"]:
            args.append("--persist")
            if p["persist_root"]:
                args += ["--persist-root", p["persist_root"]]
    rc, doc, out, err = run_vnfctl(module, args)
    if rc != 0 or doc is None:
        fail_from(module, "vnfctl %s" % args[0 if not p["host_root"] else 2], rc, doc, err,
                  changes=(doc or {}).get("changes", []))
    changes = doc.get("changes", [])
    result = dict(changed=bool(doc.get("changed")) or (module.check_mode and bool(changes)), changes=changes,
                  journal=doc.get("journal", ""), activation_commands=doc.get("activation_commands", []))
    if module._diff:
        result["diff"] = dict(
            before="".join("%s %s: %s\n" % (c["target"], c["kind"], c["from"]) for c in changes),
            after="".join("%s %s: %s\n" % (c["target"], c["kind"], c["to"]) for c in changes),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
