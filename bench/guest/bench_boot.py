#!/usr/bin/env python3
"""Boot benchmark: `vnfctl launch` of the demo's VNF shape (1 vCPU, 512 MiB, no hugepages, two
tap ports, vnf-fwd in mode mac) to VNF-READY, broken into phases, for several variants run
alternately in one sitting (variant A boot 1, B boot 1, A boot 2, ...), medians per variant.

A variant is NAME=VNFCTL,IMAGE_DIR[,TEMPLATES_DIR][,+fast][,+firmware=F][,+cmdline=ARGS] (`+fast`
adds `guest.fast_boot: true` to the spec, `+firmware=bios` `guest.firmware: bios`, `+cmdline=ARGS`
`guest.cmdline: ARGS`, extra kernel arguments, no commas). Example, main as it is against this tree, default and fast:
  bench/guest/bench_boot.py --boots 5 \\
    --variant before=/tmp/before/vnfctl,/tmp/before/image,/tmp/before/templates \\
    --variant after=build/launcher/cli/vnfctl,build/guest-image \\
    --variant fast=build/launcher/cli/vnfctl,build/guest-image,,+fast

Phases, each from a timestamp (wall clock unless said):
  vnfctl->QEMU    `vnfctl launch` started -> libvirt's "starting up" line in its domain log
  firmware+load   QEMU started -> the guest kernel's clock 0 (firmware, kernel load and, for a
                  bzImage, its decompression): the kernel's zero is placed on the wall clock from
                  the serial lines with printk times, as min(arrival - printk time)
  kernel->/init   printk time of "Run /init as init process" (a quiet kernel prints no such line:
                  then clock 0 and /init's start come from init's own uptime stamps)
  init            /init started -> init's "starting vnf-fwd" (the guest's uptime where init prints
                  it, else the line's arrival on the serial log)
  vnf-fwd->READY  "starting vnf-fwd" -> the VNF-READY line
  READY->vnfctl   VNF-READY in the log -> `vnfctl launch` returned
Serial lines' arrival is sampled every 5 ms by this script (the log is a file QEMU appends to).
Every boot takes /tmp/vnfctl-vm.lock (other users' VMs would skew it). Run as root, libvirt
running (scripts/libvirt start). Prints a Markdown table; --json FILE writes the raw numbers."""
import argparse
import fcntl
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "tests/e2e"))
from e2e_lib import Cleanup, Failure, ensure_libvirt, log, make_tap, reap_stale, remove_domain, run, write_spec  # noqa: E402

PORT_MACS = ["52:54:00:bb:00:01", "52:54:00:bb:00:02"]
PEER_MACS = ["02:00:00:00:bb:01", "02:00:00:00:bb:02"]
PHASES = ["vnfctl->QEMU", "firmware+load", "kernel->/init", "init", "vnf-fwd->READY", "READY->vnfctl"]
PRINTK = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
UPTIME = re.compile(r"^vnf-guest: \[(\d+\.\d+)\] (.*)$")


class SerialWatch(threading.Thread):
    """Records the wall time each serial line was first seen (sampled every 5 ms)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.lines, self.stop = path, [], threading.Event()

    def run(self):
        buf, pos = b"", 0
        while not self.stop.is_set():
            try:
                with open(self.path, "rb") as f:
                    f.seek(pos)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            now = time.time()
            if data:
                pos += len(data)
                buf += data
                *done, buf = buf.split(b"\n")
                for l in done:
                    self.lines.append((now, l.decode("utf-8", "replace").rstrip("\r")))
            time.sleep(0.005)


def libvirt_start_time(name):
    """Wall time of the last 'starting up' line in libvirt's log of this domain."""
    try:
        text = open(f"/var/log/libvirt/qemu/{name}.log", encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        return None
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\+0000: starting up", text, re.M)
    if not stamps:
        return None
    return datetime.strptime(stamps[-1], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=__import__("datetime").timezone.utc).timestamp()


def phases_of(t_start, t_end, t_qemu, lines):
    """The phase durations (s) of one boot from its timestamps; None where one is missing."""
    printk = [(t, float(m.group(1)), m.group(2)) for t, l in lines if (m := PRINTK.match(l))]
    stamped = [(t, float(m.group(1)), m.group(2)) for t, l in lines if (m := UPTIME.match(l))]
    up = {" ".join(text.split(" ")[:2]): u for _, u, text in stamped if len(text.split(" ")) > 1}
    if printk:
        k0 = min(t - p for t, p, _ in printk)  # the kernel's clock 0 on the wall clock
        run_init = next((p for _, p, text in printk if text.startswith("Run /init as init process")), None)
    elif stamped:
        # A quiet kernel (the default since the kernel's own lines are at loglevel 4): the clock 0
        # from init's uptime stamps (10 ms resolution), /init's start from its first line.
        k0 = min(t - u for t, u, _ in stamped)
        run_init = stamped[0][1]
    else:
        return None
    arrival = lambda pat: next((t for t, l in lines if re.search(pat, l)), None)  # noqa: E731
    # init's own uptime stamps where it prints them (this tree), else arrival times (main).
    t_fwd = k0 + up["starting vnf-fwd"] if "starting vnf-fwd" in up else arrival(r"vnf-guest: .*starting vnf-fwd")
    t_ready = arrival(r"^VNF-READY ")
    if None in (run_init, t_fwd, t_ready, t_qemu):
        return None
    return {"vnfctl->QEMU": t_qemu - t_start, "firmware+load": k0 - t_qemu, "kernel->/init": run_init,
            "init": t_fwd - (k0 + run_init), "vnf-fwd->READY": t_ready - t_fwd, "READY->vnfctl": t_end - t_ready}


def boot_once(variant, work, taps, tag, timeout_s):
    name = f"bootbench{os.getpid()}-{tag}"
    spec = os.path.join(work, f"{name}.yaml")
    write_spec(spec, name, taps, PORT_MACS, "mac", PEER_MACS)
    with open(spec, "a") as f:
        if variant["fast"]:
            f.write("  fast_boot: true\n")
        if variant["firmware"]:
            f.write(f"  firmware: {variant['firmware']}\n")
        if variant["cmdline"]:
            f.write(f"  cmdline: {json.dumps(variant['cmdline'])}\n")
    serial = os.path.join(work, f"{name}.serial.log")
    env = dict(os.environ)
    if variant["templates"]:
        env["VNFCTL_TEMPLATES"] = variant["templates"]
    watch = SerialWatch(serial)
    watch.start()
    try:
        with open("/tmp/vnfctl-vm.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            load = open("/proc/loadavg").read().split()[0]
            t_start = time.time()
            p = subprocess.run([variant["vnfctl"], "launch", spec, "--image-dir", variant["image"], "--log-dir", work,
                                "--timeout", str(timeout_s)], capture_output=True, text=True, env=env,
                               timeout=timeout_s + 60)
            t_end = time.time()
            time.sleep(0.05)
            watch.stop.set()
            watch.join()
            t_qemu = libvirt_start_time(name)
            run([variant["vnfctl"], "destroy", name], check=False, quiet=True)
            run([variant["vnfctl"], "undefine", name], check=False, quiet=True)
            remove_domain(name)
    finally:
        watch.stop.set()
    if p.returncode != 0:
        raise Failure(f"{variant['name']}: vnfctl launch exited {p.returncode}:\n{p.stdout}{p.stderr}")
    m = re.search(r"ready in ([\d.]+) s", p.stdout)
    ph = phases_of(t_start, t_end, t_qemu, watch.lines)
    return {"total_s": t_end - t_start, "ready_in_s": float(m.group(1)) if m else None, "phases": ph,
            "load1": float(load), "t_start": t_start, "lines": watch.lines, "fast_note": "guest.fast_boot is on" in p.stdout + p.stderr}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", required=True, help="NAME=VNFCTL,IMAGE_DIR[,TEMPLATES][,+fast][,+firmware=F][,+cmdline=ARGS]")
    ap.add_argument("--boots", type=int, default=5, help="boots per variant")
    ap.add_argument("--timeout", type=int, default=120, help="vnfctl launch --timeout")
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--keep-logs", help="copy each boot's serial log into this folder")
    args = ap.parse_args()
    variants = []
    for v in args.variant:
        name, _, rest = v.partition("=")
        parts = rest.split(",")
        if len(parts) < 2 or not name:
            sys.exit(f"bench_boot: --variant {v}: want NAME=VNFCTL,IMAGE_DIR[,TEMPLATES][,+fast]")
        fast = "+fast" in parts
        firmware = next((p.split("=", 1)[1] for p in parts if p.startswith("+firmware=")), "")
        cmdline = next((p.split("=", 1)[1] for p in parts if p.startswith("+cmdline=")), "")
        parts = [p for p in parts if not p.startswith("+")]
        variants.append({"name": name, "vnfctl": os.path.abspath(parts[0]), "image": os.path.abspath(parts[1]),
                         "templates": os.path.abspath(parts[2]) if len(parts) > 2 and parts[2] else "", "fast": fast,
                         "firmware": firmware, "cmdline": cmdline})
    if os.geteuid() != 0:
        sys.exit("bench_boot: run as root (taps, libvirt)")
    cleanup = Cleanup()
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "host": platform.node(), "cpus": os.cpu_count(),
               "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
               "loadavg_at_start": open("/proc/loadavg").read().split()[:3], "variants": {}}
    try:
        ensure_libvirt(REPO)
        reap_stale("bootbench", "bootbench")
        work = tempfile.mkdtemp(prefix="bootbench-")
        os.chmod(work, 0o755)
        cleanup.add("remove work folder", lambda: shutil.rmtree(work, ignore_errors=True))
        taps = [f"bootbench{os.getpid()}a", f"bootbench{os.getpid()}b"]
        for t in taps:
            make_tap(t, cleanup)
        for i in range(args.boots):
            for v in variants:
                r = boot_once(v, work, taps, f"{v['name']}{i}", args.timeout)
                lines = r.pop("lines")
                if args.keep_logs:  # the serial log as seen, each line with its arrival (s after launch)
                    os.makedirs(args.keep_logs, exist_ok=True)
                    with open(os.path.join(args.keep_logs, f"{v['name']}{i}.serial.log"), "w") as f:
                        f.writelines(f"{t - r['t_start']:8.3f} {l}\n" for t, l in lines)
                results["variants"].setdefault(v["name"], []).append(r)
                ph = r["phases"] or {}
                log(f"{v['name']} boot {i + 1}: launch {r['total_s']:.2f} s, ready in {r['ready_in_s']} s, load "
                    f"{r['load1']}: " + ", ".join(f"{k} {ph[k]:.2f}" for k in PHASES if k in ph))
        results["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    except (Failure, subprocess.TimeoutExpired) as e:
        log(f"bench_boot: FAILED: {e}")
        return 1
    finally:
        cleanup.run()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"\n{results['date']}, {results['host']}: {results['cpus']} x {results['cpu_model']}, load average "
          f"{' '.join(results['loadavg_at_start'])} at start, {' '.join(results['loadavg_at_end'])} at end; "
          f"medians of {args.boots} alternating boots\n")
    print("| variant | ready in (s) | launch (s) | " + " | ".join(PHASES) + " |")
    print("|---" * (3 + len(PHASES)) + "|")
    for name, runs in results["variants"].items():
        med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
        cells = [med([r["ready_in_s"] for r in runs if r["ready_in_s"] is not None]), med([r["total_s"] for r in runs])]
        cells += [med([r["phases"][k] for r in runs if r["phases"]]) for k in PHASES]
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
