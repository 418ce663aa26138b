"""Shared pieces of the end-to-end tests and the demo: taps, the VNF VM's life cycle
(vnfctl launch/destroy/undefine when vnfctl has them, else render + virsh), serial log
reading and vnf-traffic runs. Everything made here is registered for cleanup, which runs
even when a step fails or the process gets SIGTERM/SIGINT."""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

VIRSH = ["virsh", "-q", "-c", "qemu:///system"]
BOOT_TIMEOUT_S = 180


class Failure(Exception):
    """A check failed; the message says what was expected and what was seen."""


def log(msg):
    print(msg, flush=True)


def run(cmd, check=True, timeout=60, quiet=False):
    if not quiet:
        log("+ " + " ".join(shlex.quote(str(c)) for c in cmd))
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p


class Cleanup:
    """LIFO list of undo steps; runs once, on exit or on SIGTERM/SIGINT."""

    def __init__(self):
        self.steps = []
        self.done = False
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame):
        log(f"signal {signum}: cleaning up")
        self.run()
        sys.exit(128 + signum)

    def add(self, what, fn):
        self.steps.append((what, fn))

    def run(self):
        if self.done:
            return
        self.done = True
        while self.steps:
            what, fn = self.steps.pop()
            try:
                fn()
            except Exception as e:  # keep undoing the rest
                log(f"cleanup: {what}: {e}")


def ensure_libvirt(repo):
    if run(VIRSH + ["version"], check=False, quiet=True).returncode == 0:
        return
    run([os.path.join(repo, "scripts/libvirt"), "start"])


def domain_exists(name):
    return run(VIRSH + ["domstate", name], check=False, quiet=True).returncode == 0


def remove_domain(name, patience_s=60):
    """Destroys and undefines name. When libvirtd does not answer (someone restarts it), waits
    for it up to patience_s: a domain left running would outlive the test."""
    deadline = time.monotonic() + patience_s
    while True:
        p = run(VIRSH + ["domstate", name], check=False, quiet=True)
        if p.returncode != 0 and "failed to get domain" in (p.stderr + p.stdout):
            return
        if p.returncode == 0:
            run(VIRSH + ["destroy", name], check=False, quiet=True)
            run(VIRSH + ["undefine", name], check=False, quiet=True)
        if time.monotonic() > deadline:
            log(f"cleanup: domain {name} still there after {patience_s} s (libvirtd down?); "
                f"remove it with: virsh destroy {name}; virsh undefine {name}")
            return
        time.sleep(1)


def make_tap(name, cleanup, mtu=None):
    """A persistent tap in this (the root) namespace: libvirtd opens managed='no' taps in its
    own namespace, so they cannot live in a test namespace. IPv6 off, no address, so the
    host sends nothing into the guest on its own. mtu: the tap's MTU (jumbo frames)."""
    run(["ip", "tuntap", "add", "dev", name, "mode", "tap"])
    cleanup.add(f"delete tap {name}", lambda: run(["ip", "link", "del", name], check=False, quiet=True))
    with open(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6", "w") as f:
        f.write("1\n")
    if mtu:
        run(["ip", "link", "set", name, "mtu", str(mtu)])
    run(["ip", "link", "set", name, "up"])


def reap_stale(prefix_tap, prefix_dom):
    """Taps and domains left by an earlier run that was SIGKILLed (a ctest timeout): their
    names carry the creator's pid; remove those whose pid is gone."""
    for name in os.listdir("/sys/class/net"):
        m = re.fullmatch(prefix_tap + r"(\d+)[ab]", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            log(f"removing stale tap {name} (its creator, pid {m.group(1)}, is gone)")
            run(["ip", "link", "del", name], check=False, quiet=True)
    listed = run(VIRSH + ["list", "--all", "--name"], check=False, quiet=True).stdout.split()
    for name in listed:
        m = re.fullmatch(prefix_dom + r"(\d+)(-.*)?", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            log(f"removing stale domain {name}")
            remove_domain(name)


def write_spec(path, name, taps, macs, mode, peers=None, mtus=None, memory="512M", rx_descriptors=None):
    lines = [f"name: {name}", "vcpus: 1", f"memory: {memory}", "hugepages: none", "cpu_policy: shared", "taps:"]
    for i, (tap, mac) in enumerate(zip(taps, macs)):
        lines += [f"  - tap: {tap}", f"    mac: {mac}"]
        if mtus:
            lines.append(f"    mtu: {mtus[i]}")
    lines += ["guest:", "  forwarder:", f"    mode: {mode}"]
    if peers:
        lines.append(f"    peer_macs: [{', '.join(peers)}]")
    if rx_descriptors:
        lines.append(f"    rx_descriptors: {rx_descriptors}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def serial_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def tail(text, n=25):
    return "\n".join(text.splitlines()[-n:])


class Vm:
    """One VNF VM. launch() returns the READY line or raises Failure with the serial tail."""

    def __init__(self, vnfctl, spec, name, image_dir, log_dir, cleanup):
        self.vnfctl, self.spec, self.name = vnfctl, spec, name
        self.image_dir, self.log_dir = image_dir, log_dir
        self.serial = os.path.join(log_dir, f"{name}.serial.log")
        self.accelerator = "unknown"
        self.ready_s = None
        cleanup.add(f"remove domain {name}", self.remove)

    def remove(self):
        run([self.vnfctl, "destroy", self.name], check=False, quiet=True)
        run([self.vnfctl, "undefine", self.name], check=False, quiet=True)
        remove_domain(self.name)  # belt and braces: nothing of ours survives

    def launch(self, timeout_s=BOOT_TIMEOUT_S):
        start = time.monotonic()
        p = run([self.vnfctl, "launch", self.spec, "--image-dir", self.image_dir, "--log-dir", self.log_dir,
                 "--timeout", str(timeout_s)], check=False, timeout=timeout_s + 60)
        self.launch_output = p.stdout + p.stderr
        self._read_accelerator()
        if p.returncode != 0:
            raise Failure(f"vnfctl launch exited {p.returncode}:\n{self.launch_output}")
        m = re.search(r"^.*VNF-READY .*$", p.stdout, re.M)
        if not m:
            raise Failure(f"vnfctl launch exited 0 but printed no VNF-READY line:\n{self.launch_output}")
        self.ready_s = time.monotonic() - start
        return m.group(0).strip()

    def launch_error(self, timeout_s):
        """Launches where the launch must fail: vnfctl's error text, or None if it succeeded."""
        try:
            self.launch(timeout_s=timeout_s)
        except Failure as e:
            log(str(e))
            return str(e)
        return None

    def _read_accelerator(self):
        p = run(VIRSH + ["dumpxml", self.name], check=False, quiet=True)
        if p.returncode == 0:
            self.accelerator = accelerator_of(p.stdout)

    def last_stats(self):
        """The last 'VNF-FWD STATS <json>' the guest printed (vnf-fwd --stats-line-ms)."""
        lines = [l for l in serial_text(self.serial).splitlines() if l.startswith("VNF-FWD STATS ")]
        if not lines:
            return None
        try:
            return json.loads(lines[-1][len("VNF-FWD STATS "):])
        except json.JSONDecodeError:  # a line cut by the console: use the one before
            return json.loads(lines[-2][len("VNF-FWD STATS "):]) if len(lines) > 1 else None


def accelerator_of(xml):
    m = re.search(r"<domain[^>]*type=['\"](\w+)['\"]", xml)
    kind = m.group(1) if m else "?"
    return {"kvm": "KVM", "qemu": "TCG (software emulation: no vmx/svm here)"}.get(kind, kind)


def vnfctl_stats_json(vnfctl, name):
    """The guest's stats document as `vnfctl stats NAME --json` prints it."""
    p = run([vnfctl, "stats", name, "--json"], check=False)
    if p.returncode != 0:
        raise Failure(f"vnfctl stats {name} --json exited {p.returncode}:\n{p.stdout}{p.stderr}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Failure(f"vnfctl stats --json printed no JSON ({e}):\n{p.stdout}")


def traffic(tool, tx, rx, count, rate, src, dst, expect_src, expect_dst, run_id, extra=()):
    """Runs vnf-traffic run; returns (exit code, dict of the summary line, whole output)."""
    cmd = [tool, "run", "--tx-if", tx, "--rx-if", rx, "--count", count, "--rate", rate, "--src", src, "--dst", dst,
           "--run-id", run_id]
    if expect_src:
        cmd += ["--expect-src", expect_src]
    if expect_dst:
        cmd += ["--expect-dst", expect_dst]
    p = run(cmd + list(extra), check=False, timeout=count / max(rate, 1) * 3 + 60)
    summary = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
    return p.returncode, summary, p.stdout + p.stderr
