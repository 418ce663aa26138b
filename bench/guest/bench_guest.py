#!/usr/bin/env python3
"""Guest data-path benchmark: the same VNF VM shape, the same two taps and the same offered
loads, forwarded once by vnf-fwd (DPDK, mode mac) and once by the guest kernel's Linux bridge
(vnf.forwarder=bridge); plus the time from start to VNF-READY over several boots.

Each load is COUNT = rate x --seconds frames of 64 bytes, sent by vnf-traffic into tap A
without retries (a full tap queue counts as loss, so the offered load stays fixed); what
leaves tap B is counted. The forwarded rate is measured over the arrival window.
Run as root with libvirt running (scripts/libvirt start), one VM at a time:
  sudo bench/guest/bench_guest.py --build build [--rates 20000,50000,100000] [--boots 5]
Prints a Markdown table; --json FILE also writes the raw numbers."""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "tests/e2e"))
from e2e_lib import Cleanup, Failure, Vm, ensure_libvirt, log, make_tap, reap_stale, traffic, write_spec  # noqa: E402

PORT_MACS = ["52:54:00:be:00:01", "52:54:00:be:00:02"]
PEER_MACS = ["02:00:00:00:be:01", "02:00:00:00:be:02"]
SENDER = "02:00:00:00:be:a1"
# A bridge forwards only frames for MACs it does not own: address them to a station behind port 1.
BRIDGE_DST = "02:00:00:00:be:b2"


def setup_vm(args, work, cleanup, forwarder, taps, tag):
    name = f"vnfbench{os.getpid()}-{tag}"
    spec = os.path.join(work, f"{name}.yaml")
    write_spec(spec, name, taps, PORT_MACS, "mac", PEER_MACS)
    if forwarder == "bridge":
        with open(spec, "a") as f:
            f.write('  cmdline: "vnf.forwarder=bridge"\n')
    return Vm(args.vnfctl, spec, name, args.image_dir, work, cleanup)


def loads(args, taps, forwarder):
    if forwarder == "bridge":
        dst, expect_src, expect_dst = BRIDGE_DST, SENDER, BRIDGE_DST
    else:
        dst, expect_src, expect_dst = PORT_MACS[0], PORT_MACS[1], PEER_MACS[1]
    # Warm-up: the first frames through a TCG guest run cold (untranslated) code paths.
    traffic(args.traffic, taps[0], taps[1], 1000, 1000, SENDER, dst, expect_src, expect_dst, 1,
            ["--allow-loss", "--linger-ms", "500"])
    rows = []
    for i, rate in enumerate(args.rates):
        rc, s, out = traffic(args.traffic, taps[0], taps[1], int(rate * args.seconds), rate, SENDER, dst, expect_src,
                             expect_dst, 10 + i, ["--allow-loss", "--retry-ms", "0", "--linger-ms", "1000"])
        log(f"{forwarder} @ {rate} pps: {out.strip()}")
        if "offered" not in s:
            raise Failure(f"vnf-traffic printed no summary:\n{out}")
        if rc != 0:
            raise Failure(f"vnf-traffic reports frames with the wrong header for {forwarder}:\n{out}")
        offered = int(s["offered"]) + int(s["send_errors"])
        rows.append({"rate_pps": rate, "offered": offered, "forwarded": int(s["forwarded"]),
                     "loss_pct": 100.0 * (offered - int(s["forwarded"])) / offered,
                     "offered_pps": float(s["offered_pps"]), "forwarded_pps": float(s["forwarded_pps"])})
        time.sleep(1)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="CMake build folder")
    ap.add_argument("--rates", default="20000,50000,100000,150000", help="offered loads, frames/s")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each load")
    ap.add_argument("--boots", type=int, default=5, help="boots of the vnf-fwd guest timed to VNF-READY")
    ap.add_argument("--json", help="write the raw results here")
    args = ap.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    args.build = os.path.abspath(args.build)
    args.vnfctl = os.path.join(args.build, "launcher/cli/vnfctl")
    args.traffic = os.path.join(args.build, "tools/traffic/vnf-traffic")
    args.image_dir = os.path.join(args.build, "guest-image")
    if os.geteuid() != 0:
        sys.exit("bench_guest: run as root (taps, raw sockets, libvirt)")
    for path in (args.vnfctl, args.traffic, os.path.join(args.image_dir, "image.json")):
        if not os.path.exists(path):
            sys.exit(f"bench_guest: {path} is missing: cmake --build {args.build}")

    cleanup = Cleanup()
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "host": platform.node(), "cpus": os.cpu_count(),
               "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
               "loadavg_at_start": open("/proc/loadavg").read().split()[:3], "seconds_per_load": args.seconds}
    try:
        ensure_libvirt(REPO)
        reap_stale("vnfbench", "vnfbench")
        work = tempfile.mkdtemp(prefix="vnfbench-")
        os.chmod(work, 0o755)
        cleanup.add("remove work folder", lambda: shutil.rmtree(work, ignore_errors=True))
        taps = [f"vnfbench{os.getpid()}a", f"vnfbench{os.getpid()}b"]
        for t in taps:
            make_tap(t, cleanup)
        ready = []
        for forwarder in ("vnf-fwd", "bridge"):
            vm = setup_vm(args, work, cleanup, forwarder, taps, forwarder)
            line = vm.launch()
            results.setdefault("accelerator", vm.accelerator)
            log(f"{forwarder}: ready after {vm.ready_s:.1f} s: {line}")
            if forwarder == "vnf-fwd":
                ready.append(vm.ready_s)
            results[forwarder] = loads(args, taps, forwarder)
            vm.remove()
        for i in range(1, args.boots):
            vm = setup_vm(args, work, cleanup, "vnf-fwd", taps, f"boot{i}")
            vm.launch()
            ready.append(vm.ready_s)
            log(f"boot {i + 1}: ready after {vm.ready_s:.1f} s")
            vm.remove()
        results["ready_s"] = ready
        results["ready_median_s"] = statistics.median(ready)
        results["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    except (Failure, subprocess.TimeoutExpired) as e:
        log(f"bench_guest: FAILED: {e}")
        return 1
    finally:
        cleanup.run()

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"\n{results['date']}, {results['host']}: {results['cpus']} x {results['cpu_model']}, "
          f"{results['accelerator']}, load average at start {' '.join(results['loadavg_at_start'])}\n")
    print("| offered (pps) | vnf-fwd forwarded (pps) | vnf-fwd loss | bridge forwarded (pps) | bridge loss | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for d, b in zip(results["vnf-fwd"], results["bridge"]):
        ratio = d["forwarded_pps"] / b["forwarded_pps"] if b["forwarded_pps"] else float("nan")
        print(f"| {d['rate_pps']} | {d['forwarded_pps']:.0f} | {d['loss_pct']:.2f} % | {b['forwarded_pps']:.0f} | "
              f"{b['loss_pct']:.2f} % | {ratio:.2f} |")
    print(f"\nstart to VNF-READY (vnf-fwd guest, {len(ready)} boots): median {results['ready_median_s']:.1f} s, "
          f"all: {', '.join(f'{r:.1f}' for r in ready)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
