# -*- coding: utf-8 -*-
# Copyright: vnfctl developers
# Apache License 2.0 (see LICENSE in the vnfctl tree)
"""Runs the vnfctl binary with an argument list (never a shell) and reads its --json document."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

# Exit codes of vnfctl (launcher/common/error.h exitCodeOf, docs/cli.md "Exit codes"): the kind a
# caller is told when vnfctl's document gives none. Exit 3 is any of unreachable, unreadable,
# bad-content, not-found, symlink-loop: something (libvirt, the host, a file, a domain's vnfctl
# metadata) could not be reached or read; "unreadable" says that without claiming the host is down.
EXIT_KINDS = {
    0: "ok",
    1: "failed",
    2: "invalid-argument",
    3: "unreadable",
    4: "does-not-fit",
    5: "no-such-vnf",
    6: "timeout",
    7: "guest-failed",
    8: "busy",
    9: "needs-replace",
    10: "host-not-ready",
    130: "interrupted",
}


def common_argument_spec():
    """Options every module shares: where vnfctl is and which host it works on."""
    return dict(
        vnfctl=dict(type="path", default="vnfctl"),
        connect=dict(type="str"),
        host_root=dict(type="path"),
    )


def global_args(params):
    """vnfctl's global options from the module parameters."""
    args = []
    if params.get("connect"):
        args += ["-c", params["connect"]]
    if params.get("host_root"):
        args += ["--host-root", params["host_root"]]
    return args


def run_vnfctl(module, args, json_doc=True):
    """Runs vnfctl ARGS; returns (rc, document or None, stdout, stderr). Fails the module when
    vnfctl cannot be executed, or when it was asked for JSON and printed something else."""
    cmd = [module.params.get("vnfctl") or "vnfctl"] + list(args)
    rc, out, err = module.run_command(cmd, check_rc=False, use_unsafe_shell=False, environ_update={"LC_ALL": "C"})
    doc = None
    if json_doc:
        try:
            doc = json.loads(out) if out.strip() else None
        except ValueError:
            module.fail_json(msg="vnfctl printed no JSON document", cmd=cmd, rc=rc, stdout=out, stderr=err)
    return rc, doc, out, err


def fail_from(module, cmd_desc, rc, doc, err, **extra):
    """Fails the module with vnfctl's own error (kind, message, fix) when it gave one."""
    error = (doc or {}).get("error") or {}
    kind = error.get("kind") or EXIT_KINDS.get(rc, "failed")
    msg = "%s failed (%s, exit %d): %s" % (cmd_desc, kind, rc, error.get("message") or err.strip())
    if error.get("fix"):
        msg += " (fix: %s)" % error["fix"]
    module.fail_json(msg=msg, rc=rc, error_kind=kind, error=error, stderr=err, **extra)


def write_json_file(module, data, name):
    """Writes DATA as JSON (which vnfctl reads as YAML) into the module's private temporary folder."""
    path = os.path.join(module.tmpdir, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    return path


def list_vnfs(module, cmd_args):
    """vnfctl ARGS list --json: (domains by name, damaged list). A domain whose vnfctl metadata is
    damaged does not hide the others: vnfctl exits 3 with the document listing the good ones under
    `domains` and each damaged one (name, state, error, fix) under `damaged`. That is accepted, and
    each damaged domain is a warning naming its repair; any other failure fails the module."""
    rc, doc, out, err = run_vnfctl(module, list(cmd_args) + ["list", "--json"])
    damaged = (doc or {}).get("damaged") if isinstance(doc, dict) else None
    if rc != 0 and not (rc == 3 and damaged and "error" not in doc):
        fail_from(module, "vnfctl list", rc, doc, err)
    for d in damaged or []:
        module.warn("VNF domain %s (%s) has damaged vnfctl metadata: %s (fix: %s)"
                    % (d.get("name"), d.get("state"), d.get("error"), d.get("fix")))
    domains = dict((d["name"], d) for d in (doc or {}).get("domains", []))
    return domains, list(damaged or [])


def fail_if_damaged(module, acting_on, damaged, **extra):
    """Fails the module when a VNF the task acts on (ACTING_ON, names) is itself damaged, naming the repair."""
    hit = [d for d in damaged if d.get("name") in acting_on]
    if hit:
        module.fail_json(
            msg="; ".join("VNF %s has damaged vnfctl metadata, so vnfctl will not act on it: %s (fix: %s)"
                          % (d.get("name"), d.get("error"), d.get("fix")) for d in hit),
            error_kind="bad-content", damaged=damaged, **extra)
