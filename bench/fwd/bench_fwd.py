#!/usr/bin/env python3
"""Throughput of vnf-fwd against dpdk-testpmd on the same virtual devices and the same core.

Both forwarders get the same EAL setup: lcores 0-1 (control on CPU 0, the one forwarding lcore on
CPU 1), -m 512 from 2 MiB hugepages (--in-memory; --no-huge for the 4 KiB-page setup), --no-pci,
burst 32, 1024 RX/TX descriptors.

Method (each step answers a way an earlier version of this benchmark misled):
- A run starts the forwarder, drops the first --warmup per-second samples (the rate climbs for 2-3 s
  after start), then keeps --seconds samples; the run's value is their median.
- The two tools alternate run by run, and which goes first alternates too, so a slow period of the
  machine hits both.
- A case's value is the median of its run values; the table also shows every run, and "peak", the
  90th percentile of all kept samples, because on a shared vCPU the rate flips between two levels
  within one run (net_ring: ~550 and ~900 Mpps on this machine, for both tools).
- "p (runs differ)": the exact two-sided Mann-Whitney U test over the two tools' run values. With 5
  runs each the smallest possible value is 0.008; p >= 0.05 means the runs do not tell the tools
  apart, and the verdict says "within noise".
- --profile adds one run per tool and case under `perf record -C 1` (cpu-clock) and splits the worker
  core's time between the device driver (librte_net_*) and everything else (the forwarder's own
  loop, mbuf frees, counters): "own ns/frame" is the second part divided by the frames forwarded,
  a per-frame cost that does not move with the machine's load the way Mpps does. "bound" is
  1 / (testpmd's driver share): the ratio a forwarder whose own work cost nothing would reach.
  "profile ratio" is vnf-fwd's driver share / testpmd's: both drive the same device with the same
  frames, so the driver's time per frame is the same, and a frame's whole time is that divided by
  the driver's share; the quotient is the throughput ratio with the machine's speed taken out (a
  slower vCPU slows both parts alike). It assumes the forwarder is the bottleneck (full bursts).

Rates: vnf-fwd's rate line ("rate: rx X Mpps"), testpmd --stats-period 1 (sum of Rx-pps over ports).

Cases: net_null pair and net_ring pair (loopback rings seeded with --tx-first) in io and mac mode;
net_memif with a testpmd txonly peer (both its lcores on CPU 0) offering more than the forwarder can
take (frames sent back to the peer are dropped when its RX ring is full, the same for both); 64 and
1518 bytes (with FCS).

Targets (issue 5): vnf-fwd/testpmd >= 1.0 in io mode, >= 1.1 in mac mode.

Usage: sudo bench/fwd/bench_fwd.py --vnf-fwd build/guest/vnf-fwd [--runs 5] [--warmup 3] [--seconds 6]
       [--cases null,ring,memif] [--modes io,mac] [--sizes 64,1518] [--hugepages 1024 | --no-huge]
       [--profile] [--output table.md] [--json raw.json]
       bench/fwd/bench_fwd.py --from-json raw.json   (the table again, from recorded runs)
"""
import argparse
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

PEER_MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02"]
TARGETS = {"io": 1.0, "mac": 1.1}
HUGEPAGES_2M = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"


def vdevs(kind, size, workdir):
    if kind == "null":
        return [f"net_null0,size={size - 4}", f"net_null1,size={size - 4}"]
    if kind == "ring":
        return ["net_ring0", "net_ring1"]
    return [f"net_memif0,role=server,socket={workdir}/memif.sock,socket-abstract=no"]


def ports_of(kind):
    return 1 if kind == "memif" else 2


def eal_common(no_huge):
    return ["--no-huge" if no_huge else "--in-memory", "-m", "512", "--no-pci", "--log-level=lib.eal:warning"]


def vnf_fwd_cmd(binary, kind, mode, size, workdir, no_huge):
    cmd = [binary, "--mode", mode, "--burst", "32", "--rxd", "1024", "--txd", "1024",
           "--log-file", f"{workdir}/vnf-fwd.log", "--stats-socket", "none", "--stats-interval-ms", "1000",
           "--link-wait-ms", "10000"]
    if mode == "mac":
        for i in range(ports_of(kind)):
            cmd += ["--peer-mac", f"{i}={PEER_MACS[i]}"]
    if kind == "ring":
        cmd += ["--tx-first", "1", "--tx-first-size", str(size - 4)]
    cmd += ["--eal", "-l", "0-1", "--file-prefix", "bench-dut"] + eal_common(no_huge)
    for v in vdevs(kind, size, workdir):
        cmd += ["--vdev", v]
    return cmd


def testpmd_cmd(kind, mode, size, workdir, no_huge):
    cmd = ["dpdk-testpmd", "-l", "0-1", "--file-prefix", "bench-dut"] + eal_common(no_huge)
    for v in vdevs(kind, size, workdir):
        cmd += ["--vdev", v]
    cmd += ["--", f"--forward-mode={mode}", "--burst=32", "--rxd=1024", "--txd=1024", "--stats-period=1",
            "--total-num-mbufs=16384", "--no-lsc-interrupt"]
    if mode == "mac":
        for i in range(ports_of(kind)):
            cmd.append(f"--eth-peer={i},{PEER_MACS[i]}")
    if kind == "ring":
        cmd += ["--tx-first", f"--txpkts={size - 4}"]
    return cmd


def peer_cmd(size, workdir, no_huge):
    return ["dpdk-testpmd", "--lcores=0@0,1@0", "--file-prefix", "bench-peer"] + eal_common(no_huge) + [
        "--vdev", f"net_memif1,role=client,socket={workdir}/memif.sock,socket-abstract=no",
        "--", "--forward-mode=txonly", f"--txpkts={size - 4}", "--burst=32", "--rxd=1024", "--txd=1024",
        "--stats-period=10", "--total-num-mbufs=16384", "--no-lsc-interrupt"]


def samples_vnf_fwd(text):
    return [float(x) * 1e6 for x in re.findall(r"rate: rx ([0-9.]+) Mpps", text)]


def samples_testpmd(text):
    # One "Rx-pps:" line per port per period; sum them per period.
    values = [float(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)]
    ports = max(1, len(set(re.findall(r"NIC statistics for port (\d+)", text))))
    return [sum(values[i:i + ports]) for i in range(0, len(values) - ports + 1, ports)]


def stop(proc, timeout):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def profile_shares(perf_data):
    """Share of the worker core's cpu-clock samples per DSO, from `perf report --sort dso`."""
    out = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--sort", "dso"],
                         capture_output=True, text=True, check=True).stdout
    shares = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)", line)
        if m:
            shares[m.group(2)] = float(m.group(1)) / 100.0
    return shares


def run_once(cmd, parse, args, workdir, peer=None, perf_data=None):
    """Returns (run value, kept samples[, profile]) for one start of a forwarder."""
    out_path = f"{workdir}/out.txt"
    proc = peer_proc = perf = None
    try:
        with open(out_path, "w") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            if peer:  # the forwarder under test is the memif server: start the client after it
                time.sleep(0.5)
                peer_proc = subprocess.Popen(peer, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL)
            time.sleep(1.5 + args.warmup)  # EAL start and link wait, then the warm-up samples
            if perf_data:
                perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-C", "1", "-o", perf_data,
                                         "--", "sleep", str(args.seconds)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                perf.wait()
            else:
                time.sleep(args.seconds)
            time.sleep(0.5)
            stop(proc, 15)
        with open(out_path) as f:
            text = f.read()
    finally:
        stop(perf, 5)
        stop(proc, 15)
        stop(peer_proc, 10)
    samples = parse(text)
    kept = samples[args.warmup + 1:args.warmup + 1 + args.seconds]  # sample 0 covers the start
    if not kept:
        raise RuntimeError(f"no rate samples after the warm-up from {' '.join(cmd)}:\n{text[-2000:]}")
    return statistics.median(kept), kept


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Hugepages:
    """Makes sure `pages` free 2 MiB pages exist for the run; puts the old count back afterwards."""

    def __init__(self, pages):
        self.pages = pages
        self.original = None

    def __enter__(self):
        if self.pages == 0:
            return self
        if not any(line.split()[2] == "hugetlbfs" for line in open("/proc/mounts") if len(line.split()) > 2):
            raise SystemExit("no hugetlbfs is mounted: mount one (mount -t hugetlbfs nodev /dev/hugepages; "
                             "scripts/libvirt start does) or pass --no-huge")
        meminfo = dict(line.split(":", 1) for line in open("/proc/meminfo"))
        free = int(meminfo["HugePages_Free"].split()[0])
        if free >= self.pages:
            return self
        try:
            with open(HUGEPAGES_2M) as f:
                self.original = int(f.read())
            with open(HUGEPAGES_2M, "w") as f:
                f.write(str(self.original + self.pages - free))
        except PermissionError:
            raise SystemExit(f"cannot reserve {self.pages} hugepages in {HUGEPAGES_2M}: run as root or pass --no-huge")
        meminfo = dict(line.split(":", 1) for line in open("/proc/meminfo"))
        if int(meminfo["HugePages_Free"].split()[0]) < self.pages:
            self.__exit__()
            raise SystemExit(f"the kernel gave fewer than {self.pages} free 2 MiB pages (memory too fragmented "
                             "or too small): lower --hugepages (2 x 256 pages is the least the memif case needs) "
                             "or pass --no-huge")
        return self

    def __exit__(self, *exc):
        if self.original is not None:
            with open(HUGEPAGES_2M, "w") as f:
                f.write(str(self.original))
            self.original = None


def bench_case(args, kind, mode, size):
    tools = {
        "vnf-fwd": (lambda wd: vnf_fwd_cmd(args.vnf_fwd, kind, mode, size, wd, args.no_huge), samples_vnf_fwd),
        "testpmd": (lambda wd: testpmd_cmd(kind, mode, size, wd, args.no_huge), samples_testpmd),
    }
    result = {name: {"runs": [], "samples": []} for name in tools}
    for run in range(args.runs):
        order = list(tools) if run % 2 == 0 else list(reversed(tools))
        for name in order:
            make_cmd, parse = tools[name]
            with tempfile.TemporaryDirectory(prefix="vnf-fwd-bench-") as workdir:
                peer = peer_cmd(size, workdir, args.no_huge) if kind == "memif" else None
                value, kept = run_once(make_cmd(workdir), parse, args, workdir, peer)
            result[name]["runs"].append(value)
            result[name]["samples"].extend(kept)
    if args.profile:
        for name, (make_cmd, parse) in tools.items():
            with tempfile.TemporaryDirectory(prefix="vnf-fwd-bench-") as workdir:
                peer = peer_cmd(size, workdir, args.no_huge) if kind == "memif" else None
                perf_data = f"{workdir}/perf.data"
                value, _ = run_once(make_cmd(workdir), parse, args, workdir, peer, perf_data)
                shares = profile_shares(perf_data)
            driver = sum(v for dso, v in shares.items() if dso.startswith("librte_net_"))
            result[name]["profile"] = {"rate": value, "driver_share": driver, "shares": shares,
                                       "own_ns_per_frame": (1.0 - driver) * 1e9 / value if value else None}
    for name in tools:
        r = result[name]
        r["median"] = statistics.median(r["runs"])
        r["peak"] = percentile(r["samples"], 0.9)
    return result


def mpps(value):
    return f"{value / 1e6:.2f}"


def mann_whitney_p(a, b):
    """Exact two-sided p-value of the Mann-Whitney U test (mid-ranks for ties): the chance that runs
    this far apart come from one distribution. Enumerates every split of the pooled runs."""
    pooled = sorted(a + b)
    rank = {}
    for value in set(pooled):
        positions = [i + 1 for i, x in enumerate(pooled) if x == value]
        rank[value] = sum(positions) / len(positions)
    ranks = [rank[x] for x in a + b]
    n, total = len(a), len(a) + len(b)
    mean = n * (total + 1) / 2
    observed = abs(sum(rank[x] for x in a) - mean)
    extreme = count = 0
    for chosen in itertools.combinations(range(total), n):
        count += 1
        if abs(sum(ranks[i] for i in chosen) - mean) >= observed - 1e-9:
            extreme += 1
    return extreme / count


def verdict(ratio, target, p):
    """Against the target, and whether the runs of the two tools differ beyond their noise (p < 0.05)."""
    noise = "" if p < 0.05 else ", within noise"
    if ratio >= target:
        return f"met{noise}"
    if ratio >= 1.0:
        return f"not met (faster by less{noise})"
    return f"not met{' (within noise)' if noise else ''}"


HEADER_COLUMNS = ["device", "mode", "frame bytes", "vnf-fwd Mpps", "testpmd Mpps", "ratio", "target",
                  "p (runs differ)", "peak ratio"]


def table_header(profile):
    columns = HEADER_COLUMNS + (["profile ratio", "own ns/frame (vnf-fwd / testpmd)", "bound"] if profile else []) + \
        ["runs, Mpps (vnf-fwd / testpmd)"]
    return "| " + " | ".join(columns) + " |\n" + "|" + "---|" * len(columns) + "\n"


def table_row(case, profile):
    v, t = case["vnf-fwd"], case["testpmd"]
    ratio = v["median"] / t["median"]
    target = TARGETS[case["mode"]]
    p = mann_whitney_p(v["runs"], t["runs"])
    row = (f"| {case['device']} | {case['mode']} | {case['bytes']} | {mpps(v['median'])} | {mpps(t['median'])} | "
           f"{ratio:.2f} | {target:.1f} {verdict(ratio, target, p)} | {p:.2f} | {v['peak'] / t['peak']:.2f} |")
    if profile:
        # A forwarder whose own work cost nothing would still pay the driver's share of testpmd's time.
        row += (f" {v['profile']['driver_share'] / t['profile']['driver_share']:.2f} |"
                f" {v['profile']['own_ns_per_frame']:.2f} / {t['profile']['own_ns_per_frame']:.2f} |"
                f" {1.0 / t['profile']['driver_share']:.2f} |")
    row += (f" {' '.join(f'{x / 1e6:.1f}' for x in v['runs'])} / "
            f"{' '.join(f'{x / 1e6:.1f}' for x in t['runs'])} |")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vnf-fwd", help="the vnf-fwd binary (build/guest/vnf-fwd)")
    parser.add_argument("--runs", type=int, default=5, help="runs per tool and case (default 5)")
    parser.add_argument("--warmup", type=int, default=3, help="per-second samples dropped after start (default 3)")
    parser.add_argument("--seconds", type=int, default=6, help="per-second samples kept per run (default 6)")
    parser.add_argument("--cases", default="null,ring,memif")
    parser.add_argument("--modes", default="io,mac")
    parser.add_argument("--sizes", default="64,1518")
    parser.add_argument("--hugepages", type=int, default=1024,
                        help="free 2 MiB pages to make sure of (reserved for the run, given back after)")
    parser.add_argument("--no-huge", action="store_true", help="4 KiB pages (EAL --no-huge) for both tools")
    parser.add_argument("--profile", action="store_true", help="one more run per tool under perf record -C 1")
    parser.add_argument("--output", help="also write the markdown table here")
    parser.add_argument("--json", help="write every run and sample here")
    parser.add_argument("--from-json", help="print the table of an earlier --json file and exit")
    args = parser.parse_args()
    if args.from_json:
        data = json.load(open(args.from_json))
        profile = all("profile" in c["vnf-fwd"] for c in data["cases"])
        print(table_header(profile) + "\n".join(table_row(c, profile) for c in data["cases"]))
        return
    if not args.vnf_fwd:
        raise SystemExit("--vnf-fwd is required: the vnf-fwd binary to measure (build/guest/vnf-fwd)")
    if shutil.which("dpdk-testpmd") is None:
        raise SystemExit("dpdk-testpmd not found: apt-get install dpdk")
    if not os.access(args.vnf_fwd, os.X_OK):
        raise SystemExit(f"--vnf-fwd {args.vnf_fwd} is not an executable: build it (ninja -C build vnf-fwd)")
    if args.profile and shutil.which("perf") is None:
        raise SystemExit("--profile needs perf: apt-get install linux-perf")
    if args.runs < 1 or args.seconds < 1 or args.warmup < 0:
        raise SystemExit("--runs and --seconds must be at least 1, --warmup at least 0")

    header = table_header(args.profile)
    rows, raw = [], []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with Hugepages(0 if args.no_huge else args.hugepages):
        print(header, end="", flush=True)
        for kind in args.cases.split(","):
            for mode in args.modes.split(","):
                for size in (int(s) for s in args.sizes.split(",")):
                    case = {"device": f"net_{kind}", "mode": mode, "bytes": size, **bench_case(args, kind, mode, size)}
                    row = table_row(case, args.profile)
                    print(row, flush=True)
                    rows.append(row)
                    raw.append(case)
    table = header + "\n".join(rows) + "\n"
    load = open("/proc/loadavg").read().split()[:3]
    footer = (f"\nstarted {started}; {args.runs} runs x {args.seconds} s after a {args.warmup} s warm-up; "
              f"{'4 KiB pages (--no-huge)' if args.no_huge else '2 MiB hugepages'}; load average at the end "
              f"{' '.join(load)}\n")
    print(footer, end="")
    if args.output:
        with open(args.output, "w") as f:
            f.write(table + footer)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"started": started, "args": vars(args), "cases": raw}, f, indent=1)


if __name__ == "__main__":
    main()
