# -*- coding: utf-8 -*-
# Copyright: vnfctl developers
# Apache License 2.0 (see LICENSE in the vnfctl tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_plan
author:
  - vnfctl developers
version_added: "0.1.0"
short_description: Place N instances of a VNF spec over the inventory's hosts with vnfctl fleet plan
description:
  - Runs C(vnfctl fleet plan INVENTORY SPEC --count N --json) on the controller and returns its document
    (schema vnfctl.fleet-plan/v1). C(hosts.<name>.vnfs) is the list of instances a host should have
    (give it to M(vnfctl.nfv.vnf) as O(vnfctl.nfv.vnf#module:instances)); C(hosts.<name>.remove) are the
    existing instances numbered above the count, highest first.
  - Each host is read with no agent, through its libvirt URI (host variable C(vnfctl_uri)) or from a
    snapshot folder (host variable C(vnfctl_host_root)); instances that exist stay where they are.
  - Fails with vnfctl's reasons, per host and NUMA node, when the instances do not all fit.
options:
  _terms:
    description: Not used.
    required: false
  spec:
    description: The VNF spec as a dictionary, or the path of a spec file on the controller.
    type: raw
    required: true
  count:
    description: How many instances the fleet should run.
    type: int
    required: true
  hosts:
    description:
      - Inventory host names (their C(vnfctl_uri) and C(vnfctl_host_root) variables are read), or
        dictionaries with C(name), C(uri), C(snapshot).
    type: list
    elements: raw
  inventory:
    description: A vnfctl fleet inventory file instead of O(hosts).
    type: path
  anti_affinity:
    description: Group name; no two instances on one host.
    type: str
  allow_unreachable:
    description: Plan over the hosts that answer.
    type: bool
    default: false
  vnfctl:
    description: The vnfctl binary on the controller.
    type: path
    default: vnfctl
"""

EXAMPLES = r"""
- name: Plan the fleet once
  ansible.builtin.set_fact:
    fleet: "{{ lookup('vnfctl.nfv.fleet_plan', spec=vnf_spec, count=vnf_count, hosts=ansible_play_hosts_all) }}"
  run_once: true

- name: This host's share
  vnfctl.nfv.vnf:
    spec: "{{ vnf_spec }}"
    instances: "{{ fleet.hosts[inventory_hostname].vnfs }}"
"""

RETURN = r"""
_raw:
  description: The plan document (one element).
  type: list
  elements: dict
"""

import json
import os
import shutil
import subprocess
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

display = Display()


class LookupModule(LookupBase):
    def _hosts(self, hosts, variables):
        hostvars = (variables or {}).get("hostvars", {})
        out = []
        for h in hosts:
            if isinstance(h, dict):
                entry = dict((k, h[k]) for k in ("name", "uri", "snapshot") if h.get(k))
            else:
                hv = hostvars.get(h, {})
                entry = {"name": str(h)}
                if hv.get("vnfctl_uri"):
                    entry["uri"] = self._templar.template(hv["vnfctl_uri"])
                if hv.get("vnfctl_host_root"):
                    entry["snapshot"] = self._templar.template(hv["vnfctl_host_root"])
                if "uri" not in entry and "snapshot" not in entry:
                    entry["uri"] = "qemu+ssh://root@%s/system" % hv.get("ansible_host", h)
            out.append(entry)
        return out

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        spec = self.get_option("spec")
        count = self.get_option("count")
        hosts = self.get_option("hosts")
        inventory = self.get_option("inventory")
        if (hosts is None) == (inventory is None):
            raise AnsibleError("fleet_plan: give exactly one of hosts or inventory")
        tmp = tempfile.mkdtemp(prefix="vnfctl-fleet-")
        try:
            if inventory is None:
                inventory = os.path.join(tmp, "inventory.json")
                with open(inventory, "w") as f:
                    json.dump({"hosts": self._hosts(hosts, variables)}, f)
            if isinstance(spec, dict):
                spec_path = os.path.join(tmp, "spec.json")
                with open(spec_path, "w") as f:
                    json.dump(spec, f)
            elif isinstance(spec, str):
                spec_path = spec
            else:
                raise AnsibleError("fleet_plan: spec must be a dictionary or a file path")
            cmd = [self.get_option("vnfctl"), "fleet", "plan", inventory, spec_path, "--count", str(int(count)),
                   "--json"]
            if self.get_option("anti_affinity"):
                cmd += ["--anti-affinity", self.get_option("anti_affinity")]
            if self.get_option("allow_unreachable"):
                cmd.append("--allow-unreachable")
            try:
                proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            except OSError as e:
                raise AnsibleError("fleet_plan: cannot run %s: %s" % (cmd[0], to_native(e)))
            out, err = to_native(proc.stdout), to_native(proc.stderr)
            try:
                doc = json.loads(out)
            except ValueError:
                raise AnsibleError("fleet_plan: vnfctl exited %d without a JSON plan: %s" % (proc.returncode, err))
            if proc.returncode != 0:
                error = doc.get("error") or {}
                why = "".join("\n  %s: %s" % (h, t) for h, t in sorted((doc.get("unplaced") or {}).get("why", {}).items()))
                raise AnsibleError("fleet_plan: %s (%s, exit %d)%s%s" % (
                    error.get("message", err.strip()), error.get("kind", "failed"), proc.returncode,
                    " (fix: %s)" % error["fix"] if error.get("fix") else "", why))
            for name, h in sorted((doc.get("hosts") or {}).items()):
                if h.get("closed"):
                    display.warning("fleet_plan: host %s takes no new instance: %s" % (name, h["closed"]))
            return [doc]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
