#!/usr/bin/env python3
"""Throughput of vnf-fwd against dpdk-testpmd on the same virtual devices and the same core.

Both forwarders get the same EAL memory setup (--no-huge -m 512, --no-pci), lcores 0-1
(control on CPU 0, the one forwarding lcore on CPU 1), burst 32, 1024 RX/TX descriptors.
Rate = forwarded frames per second, read every second from vnf-fwd's rate line
("rate: rx X Mpps") and from testpmd --stats-period 1 (sum of Rx-pps over ports);
the first sample of a run is discarded, a run's value is the median of the rest,
a case's value the median over --runs runs.

Cases: net_null pair and net_ring pair (loopback rings seeded with --tx-first) in io and
mac mode, net_memif with a testpmd txonly peer (CPU 0) offering more than the forwarder can
take (frames sent back to the peer are dropped when its RX ring is full: the same for both
forwarders); 64 and 1518 bytes.
Writes a markdown table (stdout, and --output).

Usage: bench_fwd.py --vnf-fwd build-fwd/guest/vnf-fwd [--runs 3] [--seconds 4] [--output FILE]
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

EAL_COMMON = ["--no-huge", "-m", "512", "--no-pci", "--log-level=lib.eal:warning"]
PEER_MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02"]


def vdevs(kind, size, workdir):
    if kind == "null":
        return [f"net_null0,size={size}", f"net_null1,size={size}"]
    if kind == "ring":
        return ["net_ring0", "net_ring1"]
    return [f"net_memif0,role=server,socket={workdir}/memif.sock,socket-abstract=no"]


def vnf_fwd_cmd(binary, kind, mode, size, workdir):
    cmd = [binary, "--mode", mode, "--burst", "32", "--rxd", "1024", "--txd", "1024",
           "--log-file", f"{workdir}/vnf-fwd.log", "--stats-socket", "none", "--stats-interval-ms", "1000",
           "--link-wait-ms", "10000"]
    ports = 1 if kind == "memif" else 2
    if mode == "mac":
        for i in range(ports):
            cmd += ["--peer-mac", f"{i}={PEER_MACS[i]}"]
    if kind == "ring":
        cmd += ["--tx-first", "1", "--tx-first-size", str(size - 4)]
    cmd += ["--eal", "-l", "0-1", "--file-prefix", "bench-dut"] + EAL_COMMON
    for v in vdevs(kind, size - 4 if kind == "null" else size, workdir):
        cmd += ["--vdev", v]
    return cmd


def testpmd_cmd(kind, mode, size, workdir):
    cmd = ["dpdk-testpmd", "-l", "0-1", "--file-prefix", "bench-dut"] + EAL_COMMON
    for v in vdevs(kind, size - 4 if kind == "null" else size, workdir):
        cmd += ["--vdev", v]
    cmd += ["--", f"--forward-mode={mode}", "--burst=32", "--rxd=1024", "--txd=1024", "--stats-period=1", "--total-num-mbufs=16384",
            "--no-lsc-interrupt"]
    if mode == "mac":
        ports = 1 if kind == "memif" else 2
        for i in range(ports):
            cmd.append(f"--eth-peer={i},{PEER_MACS[i]}")
    if kind == "ring":
        cmd += ["--tx-first", f"--txpkts={size - 4}"]
    return cmd


def peer_cmd(size, workdir):
    return ["dpdk-testpmd", "--lcores=0@0,1@0", "--file-prefix", "bench-peer"] + EAL_COMMON + [
        "--vdev", f"net_memif1,role=client,socket={workdir}/memif.sock,socket-abstract=no",
        "--", "--forward-mode=txonly", f"--txpkts={size - 4}", "--burst=32", "--rxd=1024", "--txd=1024", "--stats-period=10", "--total-num-mbufs=16384",
        "--no-lsc-interrupt"]


def samples_vnf_fwd(text):
    return [float(x) * 1e6 for x in re.findall(r"rate: rx ([0-9.]+) Mpps", text)]


def samples_testpmd(text):
    # One "Rx-pps:" line per port per period; sum them per period.
    values = [float(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)]
    ports = max(1, len(set(re.findall(r"NIC statistics for port (\d+)", text))))
    return [sum(values[i:i + ports]) for i in range(0, len(values) - ports + 1, ports)]


def run_once(cmd, seconds, parse, workdir, peer=None):
    peer_proc = None
    out_path = f"{workdir}/out.txt"
    try:
        with open(out_path, "w") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            try:
                if peer:  # the forwarder under test is the memif server: start the client after it
                    time.sleep(0.5)
                    peer_proc = subprocess.Popen(peer, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)
                time.sleep(seconds + 1.5)  # EAL start + link wait, then `seconds` of samples
            finally:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        with open(out_path) as f:
            text = f.read()
        samples = parse(text)[1:]  # the first period includes the start
        if not samples:
            raise RuntimeError(f"no rate samples from {' '.join(cmd)}:\n{text[-2000:]}")
        return statistics.median(samples)
    finally:
        if peer_proc:
            peer_proc.send_signal(signal.SIGINT)
            try:
                peer_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                peer_proc.kill()
                peer_proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vnf-fwd", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--output")
    parser.add_argument("--cases", default="null,ring,memif")
    args = parser.parse_args()
    if shutil.which("dpdk-testpmd") is None:
        raise SystemExit("dpdk-testpmd not found: apt-get install dpdk")

    rows = []
    for kind in args.cases.split(","):
        for mode in ("io", "mac"):
            for size in (64, 1518):
                results = {}
                for name in ("vnf-fwd", "testpmd"):
                    values = []
                    for _ in range(args.runs):
                        with tempfile.TemporaryDirectory(prefix="vnf-fwd-bench-") as workdir:
                            if name == "vnf-fwd":
                                cmd, parse = vnf_fwd_cmd(args.vnf_fwd, kind, mode, size, workdir), samples_vnf_fwd
                            else:
                                cmd, parse = testpmd_cmd(kind, mode, size, workdir), samples_testpmd
                            peer = peer_cmd(size, workdir) if kind == "memif" else None
                            values.append(run_once(cmd, args.seconds, parse, workdir, peer))
                    results[name] = (statistics.median(values), values)
                ratio = results["vnf-fwd"][0] / results["testpmd"][0] if results["testpmd"][0] else float("nan")
                row = (f"| net_{kind} | {mode} | {size} | {results['vnf-fwd'][0] / 1e6:.2f} | "
                       f"{results['testpmd'][0] / 1e6:.2f} | {ratio:.2f} | "
                       f"{' '.join(f'{v / 1e6:.1f}' for v in results['vnf-fwd'][1])} / "
                       f"{' '.join(f'{v / 1e6:.1f}' for v in results['testpmd'][1])} |")
                print(row, flush=True)
                rows.append(row)
    table = ("| device | mode | frame bytes | vnf-fwd Mpps | testpmd Mpps | ratio | runs (vnf-fwd / testpmd) |\n"
             "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if args.output:
        with open(args.output, "w") as f:
            f.write(table)
    print(table)


if __name__ == "__main__":
    main()
