#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vnfctl developers
# Apache License 2.0 (see LICENSE in the vnfctl tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vnf
short_description: Define, start, stop or remove VNF virtual machines with vnfctl, idempotently
version_added: "0.1.0"
description:
  - Places VNF instances on the host's NUMA nodes, CPUs and SR-IOV VFs with C(vnfctl) and defines,
    starts, stops or removes their libvirt domains.
  - A VNF that already exists with the same spec is left alone (C(changed=false)). One whose spec changed
    fails with the field-by-field diff unless O(replace=true), which redefines it (a running one restarts).
  - Check mode runs vnfctl with C(--dry-run) (define, launch, start, stop, destroy, undefine), which makes
    the same checks and gives the same answer as the real run (C(changed), the field diff, the state each
    VNF would be left in, the error) and changes nothing. Diff mode shows each VNF's changed fields and
    state moves.
  - C(changed) is true exactly when a domain was defined, redefined, started, stopped or removed.
  - A VNF domain on the host whose vnfctl metadata was damaged (edited by hand) is a warning naming it and
    its repair, and is returned in RV(damaged); the task fails only when it acts on that VNF by name
    (O(state=absent), O(state=running) or O(state=stopped)). Defining VNFs on such a host fails, since what
    the damaged domain holds is unknown, so vnfctl plans nothing there until it is repaired.
  - The module calls the vnfctl binary with an argument list (no shell) and reads its C(--json) output.
author:
  - vnfctl developers
options:
  spec:
    description:
      - The VNF spec (docs/spec.md in the vnfctl tree) as a dictionary, or the path of a spec file on the
        managed host.
      - Required with O(state=present); with the other states O(names) can be given instead.
    type: raw
  instances:
    description:
      - Instances from C(vnfctl fleet plan) (the C(vnfs) list of a host in the plan that the
        C(vnfctl.nfv.fleet_plan) lookup returns). Each item's C(overrides) (name, VF per NIC,
        MACs) are merged into O(spec), giving one VNF per instance.
      - Without it, O(spec) is used as it is (its C(count) gives C(NAME-1..NAME-N)).
    type: list
    elements: dict
  names:
    description:
      - VNF names to act on, for O(state=absent), O(state=stopped) or O(state=running) without O(spec).
    type: list
    elements: str
  state:
    description:
      - V(present) defines the VNFs (not started); V(running) defines and starts them and waits until
        each guest reports READY; V(stopped) defines them and shuts running ones down; V(absent) powers
        them off and removes their definitions.
    type: str
    choices: [present, running, stopped, absent]
    default: present
  replace:
    description:
      - Redefine a VNF whose spec changed. Without it a changed spec fails and shows the diff.
    type: bool
    default: false
  domain_type:
    description:
      - C(kvm) or C(qemu) (TCG emulation). Without it, kvm where the host CPU has vmx/svm.
    type: str
    choices: [kvm, qemu]
  image_dir:
    description: The vnfctl guest image folder for specs without C(guest.kernel) or C(guest.disk).
    type: path
  log_dir:
    description: Folder of the guests' serial logs.
    type: path
  templates:
    description: Folder of domain templates.
    type: path
  timeout:
    description: Seconds to wait for each guest's READY line (O(state=running)).
    type: int
    default: 240
  lock_wait:
    description: Seconds to wait for another vnfctl run on the same libvirt URI.
    type: int
    default: 60
  vnfctl:
    description: The vnfctl binary.
    type: path
    default: vnfctl
  connect:
    description: libvirt URI (C(vnfctl -c)); default C(qemu:///system).
    type: str
  host_root:
    description: Read the host's shape from this snapshot folder (C(vnfctl --host-root)).
    type: path
notes:
  - Supports check mode and diff mode.
  - The spec's MACs, uuids and VF choices are derived from the instance names, so a rerun renders the same domains.
seealso:
  - module: vnfctl.nfv.verify
  - module: vnfctl.nfv.host_facts
"""

EXAMPLES = r"""
- name: Two firewall instances, defined and running
  vnfctl.nfv.vnf:
    spec:
      name: fw
      vcpus: 2
      memory: 2G
      count: 2
      nics:
        - pf: ens2f0
    state: running

- name: Apply a changed spec, restarting the VNFs that run it
  vnfctl.nfv.vnf:
    spec: /etc/vnfctl/fw.yaml
    state: running
    replace: true

- name: The instances the fleet plan gives this host
  vnfctl.nfv.vnf:
    spec: "{{ vnf_spec }}"
    instances: "{{ fleet.hosts[inventory_hostname].vnfs }}"
    state: present

- name: Remove what the plan says is above the wanted count
  vnfctl.nfv.vnf:
    names: "{{ fleet.hosts[inventory_hostname].remove }}"
    state: absent
"""

RETURN = r"""
vnfs:
  description: One entry per VNF, as vnfctl reports it (verdict new/unchanged/changed, field diff, placement).
  returned: always
  type: list
  elements: dict
  sample:
    - name: fw-1
      verdict: new
      changed: true
      state_before: absent
      diff: []
      placement: {node: 1, vcpu_pins: [9, 25], memory_kib: 2097152}
names:
  description: The VNF names the task acted on.
  returned: always
  type: list
  elements: str
  sample: [fw-1, fw-2]
removed:
  description: VNFs removed (O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [fw-3]
stopped:
  description: VNFs shut down (O(state=stopped)).
  returned: always
  type: list
  elements: str
  sample: []
damaged:
  description:
    - VNF domains on the host whose vnfctl metadata is damaged (name, state, error, fix), when the task
      listed the host's VNFs (O(state=absent), O(state=running) or O(state=stopped)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: fw-9
      state: shut off
      error: "domain 'fw-9' on qemu:///system: vnfctl's metadata ..."
      fix: "virsh -c qemu:///system edit fw-9 ..."
error_kind:
  description: vnfctl's error kind on failure (needs-replace, does-not-fit, busy, unreachable, ...).
  returned: failure
  type: str
  sample: needs-replace
"""

import copy
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vnfctl.nfv.plugins.module_utils.vnfctl import (
    common_argument_spec,
    fail_from,
    fail_if_damaged,
    global_args,
    list_vnfs,
    run_vnfctl,
    write_json_file,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False


def load_spec(module):
    """The spec as a dictionary, with the folder relative paths in it are taken from."""
    spec = module.params["spec"]
    if isinstance(spec, dict):
        return copy.deepcopy(spec), None
    if not isinstance(spec, str):
        module.fail_json(msg="spec must be a dictionary or the path of a spec file, got %s" % type(spec).__name__)
    if not HAS_YAML:
        module.fail_json(msg="reading the spec file %s needs PyYAML on the managed host (python3-yaml)" % spec)
    try:
        with open(spec) as f:
            data = yaml.safe_load(f)
    except (IOError, OSError, yaml.YAMLError) as e:
        module.fail_json(msg="cannot read the spec file %s: %s" % (spec, e))
    if not isinstance(data, dict):
        module.fail_json(msg="the spec file %s does not hold a mapping" % spec)
    base = os.path.dirname(os.path.abspath(spec))
    guest = data.get("guest") or {}
    for key in ("kernel", "initrd", "disk"):
        if isinstance(guest.get(key), str) and guest[key] and not os.path.isabs(guest[key]):
            guest[key] = os.path.join(base, guest[key])
    profile = data.get("profile")
    if isinstance(profile, str) and ("/" in profile or profile.endswith(".xml")) and not os.path.isabs(profile):
        data["profile"] = os.path.join(base, profile)
    return data, base


def merge_list(base, over, key):
    items = [dict(x) for x in (base.get(key) or [])]
    for i, o in enumerate(over.get(key) or []):
        if i < len(items) and isinstance(o, dict):
            items[i].update(o)
    return items


def instance_specs(module, spec):
    """One spec per instance (overrides merged), or the spec itself."""
    instances = module.params["instances"]
    if instances is None:
        return [spec]
    out = []
    for inst in instances:
        over = inst.get("overrides") or {"name": inst.get("name"), "count": 1}
        if not over.get("name"):
            module.fail_json(msg="an item of instances has no name: %s" % inst)
        s = copy.deepcopy(spec)
        s["name"] = over["name"]
        s["count"] = 1
        for key in ("nics", "taps"):
            if key in over:
                s[key] = merge_list(spec, over, key)
        if "management" in over and isinstance(s.get("management"), dict):
            s["management"].update(over["management"])
        out.append(s)
    return out


def spec_names(specs):
    names = []
    for s in specs:
        count = int(s.get("count", 1) or 1)
        if count == 1:
            names.append(s["name"])
        else:
            names += ["%s-%d" % (s["name"], i) for i in range(1, count + 1)]
    return names


def listed(module, names, result):
    """The host's VNFs by name; damaged ones are warnings and go to result["damaged"], and the task
    fails when one of NAMES is damaged (vnfctl would refuse to act on it: the message says the fix)."""
    domains, damaged = list_vnfs(module, global_args(module.params))
    result["damaged"] = damaged
    fail_if_damaged(module, names, damaged, names=names, removed=result["removed"], stopped=result["stopped"])
    return domains


def field_diff_text(vnfs):
    before, after = [], []
    for v in vnfs:
        if v.get("verdict") == "new":
            after.append("%s: defined (%s)" % (v["name"], "new"))
        for d in v.get("diff") or []:
            before.append("%s.%s: %s" % (v["name"], d["field"], d["before"]))
            after.append("%s.%s: %s" % (v["name"], d["field"], d["after"]))
    return {"before": "\n".join(before) + ("\n" if before else ""), "after": "\n".join(after) + ("\n" if after else "")}


def define(module, specs, start):
    """vnfctl define/launch over every instance in one run; returns (changed, vnfs)."""
    p = module.params
    args = global_args(p) + ["launch" if start else "define", "--json", "--lock-wait", str(p["lock_wait"])]
    if start:
        args += ["--timeout", str(p["timeout"])]
    for opt, flag in (("domain_type", "--domain-type"), ("image_dir", "--image-dir"), ("log_dir", "--log-dir"),
                      ("templates", "--templates")):
        if p.get(opt):
            args += [flag, str(p[opt])]
    if p["replace"]:
        args.append("--replace")
    if module.check_mode:
        args.append("--dry-run")
    if p["instances"] is None and isinstance(p["spec"], str):
        args.append(p["spec"])
    else:
        for i, s in enumerate(specs):
            args.append(write_json_file(module, s, "spec-%d.json" % i))
    rc, doc, out, err = run_vnfctl(module, args)
    vnfs = (doc or {}).get("vnfs", [])
    if rc != 0:
        extra = {"vnfs": vnfs}
        if module._diff:
            extra["diff"] = field_diff_text(vnfs)
        fail_from(module, "vnfctl %s" % ("launch" if start else "define"), rc, doc, err, **extra)
    if module.check_mode:
        changed = any(v.get("verdict") in ("new", "changed") or (start and v.get("state_before") != "running")
                      for v in vnfs)
    else:
        changed = bool(doc.get("changed"))
    return changed, vnfs


def on_domain(module, op, name):
    """vnfctl OP NAME --json, in check mode with --dry-run (the engine's own answer: the same checks,
    changed and the state it would leave, nothing done). Returns the document."""
    args = global_args(module.params) + [op, name, "--json"]
    if module.check_mode:
        args.append("--dry-run")
    rc, doc, out, err = run_vnfctl(module, args)
    if rc != 0:
        fail_from(module, "vnfctl %s %s" % (op, name), rc, doc, err)
    return doc or {}


def state_diff(moves):
    """Diff mode text of (name, state before, state after) moves."""
    before = "".join("%s: %s\n" % (n, b) for n, b, a in moves)
    after = "".join("%s: %s\n" % (n, a) for n, b, a in moves if a != "absent")
    return {"before": before, "after": after}


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        spec=dict(type="raw"),
        instances=dict(type="list", elements="dict"),
        names=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=["present", "running", "stopped", "absent"]),
        replace=dict(type="bool", default=False),
        domain_type=dict(type="str", choices=["kvm", "qemu"]),
        image_dir=dict(type="path"),
        log_dir=dict(type="path"),
        templates=dict(type="path"),
        timeout=dict(type="int", default=240),
        lock_wait=dict(type="int", default=60),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("spec", "names")],
        mutually_exclusive=[("spec", "names"), ("instances", "names")],
        required_if=[("state", "present", ("spec",))],
    )
    p = module.params
    state = p["state"]
    result = dict(changed=False, vnfs=[], names=[], removed=[], stopped=[], damaged=[])

    specs = None
    if p["spec"] is not None:
        spec, _ = load_spec(module) if not (isinstance(p["spec"], str) and p["instances"] is None) else (None, None)
        specs = instance_specs(module, spec) if spec is not None else None
    if p["names"] is not None:
        names = list(p["names"])
    elif specs is not None:
        names = spec_names(specs)
    else:  # a spec file used as it is: vnfctl expands it; names come from its document
        names = []

    if state == "absent":
        if not names and isinstance(p["spec"], str):
            spec, _ = load_spec(module)
            names = spec_names([spec])
        result["names"] = names
        existing = listed(module, names, result) if names else {}
        moves = []
        for name in names:
            d = existing.get(name)
            if d is None:
                continue
            before = d.get("state")
            if before in ("running", "paused"):
                op = on_domain(module, "destroy", name)
                before = op.get("state_before", before)
                if module.check_mode:
                    # undefine --dry-run would refuse the domain that still runs: the real run
                    # destroys it first, so the destroy's dry-run answer stands for both.
                    moves.append((name, before, "absent"))
                    result["removed"].append(name)
                    continue
            op = on_domain(module, "undefine", name)
            if op.get("changed"):
                moves.append((name, before, op.get("state_after", "absent")))
                result["removed"].append(name)
        result["changed"] = bool(result["removed"])
        if module._diff:
            result["diff"] = state_diff(moves)
        module.exit_json(**result)

    if state in ("running", "stopped") and p["spec"] is None:
        existing = listed(module, names, result)
        missing = [n for n in names if n not in existing]
        if missing:
            module.fail_json(msg="no VNF named %s; give spec to define it" % ", ".join(missing), error_kind="no-such-vnf")
        result["names"] = names
        moves = []
        for name in names:
            op = on_domain(module, "start" if state == "running" else "stop", name)
            if op.get("changed"):
                moves.append((name, op.get("state_before"), op.get("state_after")))
                result["changed"] = True
                if state == "stopped":
                    result["stopped"].append(name)
        if module._diff:
            result["diff"] = state_diff(moves)
        module.exit_json(**result)

    changed, vnfs = define(module, specs, state == "running")
    result["vnfs"] = vnfs
    result["names"] = names or [v["name"] for v in vnfs]
    result["changed"] = changed
    moves = []
    if state == "stopped":
        existing = listed(module, result["names"], result)
        for name in result["names"]:
            d = existing.get(name)
            if d is not None and d.get("state") in ("running", "paused"):
                op = on_domain(module, "stop", name)
                if op.get("changed"):
                    moves.append((name, op.get("state_before"), op.get("state_after")))
                    result["stopped"].append(name)
                    result["changed"] = True
    if state == "running":
        for v in vnfs:
            if v.get("started") or (module.check_mode and v.get("state_before") != "running"):
                moves.append((v["name"], v.get("state_before"), "running"))
    if module._diff:
        result["diff"] = field_diff_text(vnfs)
        for name, before, after in moves:
            result["diff"]["before"] += "%s: %s\n" % (name, before)
            result["diff"]["after"] += "%s: %s\n" % (name, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
