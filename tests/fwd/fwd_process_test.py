#!/usr/bin/env python3
"""Whole-process functional tests of vnf-fwd on virtual devices.

Each scenario starts vnf-fwd (EAL with --no-huge --no-pci and a distinct --file-prefix),
waits for the READY line, checks forwarded bytes (net_pcap), counters (stats socket JSON,
final summary) and exit codes. Processes are killed and temp files removed on any outcome.
Writes and reads pcap files itself (no scapy).
"""
import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

READY_TIMEOUT_S = 20
DONE_TIMEOUT_S = 20


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# ---------------------------------------------------------------- pcap files
def write_pcap(path, frames):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            out.write(struct.pack("<IIII", i, 0, len(frame), len(frame)))
            out.write(frame)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) >= 24, f"{path}: no pcap header ({len(data)} bytes)")
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    frames, offset = [], 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frames.append(data[offset + 16:offset + 16 + caplen])
        offset += 16 + caplen
    return frames


def make_frames(count, sizes=(64, 128, 512, 1514), vlan_every=3):
    """Frame i: length from sizes, every vlan_every-th one VLAN-tagged (VID 100), sequence in bytes 18..21."""
    frames = []
    for i in range(count):
        length = sizes[i % len(sizes)]
        dst = bytes([0x02, 0xAA, 0, 0, 0, 0x02])
        src = bytes([0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xFE])  # differs from every port MAC in every byte
        if i % vlan_every == 0:
            header = dst + src + bytes([0x81, 0x00, 0x00, 0x64, 0x08, 0x00])
        else:
            header = dst + src + bytes([0x08, 0x00])
        payload = struct.pack(">I", i) + bytes((i * 7 + k) & 0xFF for k in range(length - len(header) - 4))
        frames.append(header + payload)
    return frames


def mac_bytes(text):
    return bytes(int(part, 16) for part in text.split(":"))


# ---------------------------------------------------------------- process control
class Fwd:
    """One vnf-fwd process; always stopped by close()."""

    counter = 0

    def __init__(self, binary, workdir, args, vdevs, lcores="0-1", name=None):
        Fwd.counter += 1
        self.name = name or f"fwd{Fwd.counter}"
        self.log_file = os.path.join(workdir, f"{self.name}.log")
        self.socket = os.path.join(workdir, f"{self.name}.sock")
        self.stdout_path = os.path.join(workdir, f"{self.name}.stdout")
        self.stderr_path = os.path.join(workdir, f"{self.name}.stderr")
        eal = ["-l", lcores] if "@" not in lcores else [f"--lcores={lcores}"]
        eal += ["--no-huge", "-m", "256", "--no-pci", f"--file-prefix=vnffwd{os.getpid()}{self.name}",
                "--log-level=lib.eal:warning"]
        for vdev in vdevs:
            eal += ["--vdev", vdev]
        self.cmd = [binary, "--log-file", self.log_file, "--stats-socket", self.socket,
                    "--stats-interval-ms", "200"] + args + ["--eal"] + eal
        self.stdout = open(self.stdout_path, "w+")
        self.stderr = open(self.stderr_path, "w+")
        self.proc = subprocess.Popen(self.cmd, stdout=self.stdout, stderr=self.stderr)

    def output(self):
        with open(self.stdout_path) as f:
            return f.read()

    def errors(self):
        with open(self.stderr_path) as f:
            return f.read()

    def describe(self):
        return (f"\n--- command: {' '.join(self.cmd)}\n--- stdout:\n{self.output()}\n--- stderr:\n{self.errors()}")

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in self.output().splitlines():
                if line.startswith("VNF-FWD READY"):
                    return line
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited with {self.proc.returncode} before READY" + self.describe())
            time.sleep(0.05)
        raise Failure(f"{self.name}: no READY line after {READY_TIMEOUT_S} s" + self.describe())

    def stats(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.socket)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def wait_stats(self, predicate, what):
        deadline = time.monotonic() + DONE_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            last = self.stats()
            if predicate(last):
                return last
            time.sleep(0.05)
        raise Failure(f"{self.name}: {what} not reached in {DONE_TIMEOUT_S} s; last stats {json.dumps(last)}"
                      + self.describe())

    def terminate(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise Failure(f"{self.name} did not stop within 15 s of {sig.name}" + self.describe())
        check(rc == 0, f"{self.name} exited {rc} after {sig.name}" + self.describe())
        return self.output()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stdout.close()
        self.stderr.close()


def parse_ready(line):
    """'VNF-FWD READY mode=M workers=N port=I,NAME,MAC ...' -> list of (index, name, mac)."""
    check(re.fullmatch(r"VNF-FWD READY mode=\w+ workers=\d+( port=\d+,[^, ]+,([0-9a-f]{2}:){5}[0-9a-f]{2})+", line),
          f"READY line has the wrong format: {line!r}")
    ports = []
    for token in line.split()[4:]:
        index, name, mac = token[len("port="):].split(",")
        ports.append((int(index), name, mac))
    return ports


def summary_totals(text):
    m = re.search(r"total: rx (\d+) tx (\d+) drops (\d+)", text)
    check(m, f"no summary in output:\n{text}")
    return tuple(int(x) for x in m.groups())


def check_counters_add_up(stats):
    total_rx = sum(p["rx"] for p in stats["ports"])
    total_tx = sum(p["tx"] for p in stats["ports"])
    check(stats["schema"] == "vnf-fwd-stats" and stats["version"] == 1, f"bad schema header: {stats}")
    check(stats["totals"]["rx"] == total_rx and stats["totals"]["tx"] == total_tx, f"totals do not add up: {stats}")
    for p in stats["ports"]:
        check(sum(q["rx"] for q in p["rx_queues"]) == p["rx"], f"port {p['index']} rx queues != rx: {p}")
        check(sum(q["tx"] for q in p["tx_queues"]) == p["tx"], f"port {p['index']} tx queues != tx: {p}")
        check(p["drops"] == p["imissed"] + p["rx_nombuf"] + p["ierrors"] + p["tx_full_drops"] + p["mtu_drops"],
              f"port {p['index']} drops do not add up: {p}")


# ---------------------------------------------------------------- scenarios
def scenario_null(binary, workdir, mode):
    fwd = Fwd(binary, workdir, ["--mode", mode], ["net_null0", "net_null1"])
    try:
        ports = parse_ready(fwd.wait_ready())
        check([p[1] for p in ports] == ["net_null0", "net_null1"], f"unexpected ports {ports}")
        first = fwd.wait_stats(lambda s: all(p["rx"] > 10000 for p in s["ports"]), "traffic on both ports")
        check_counters_add_up(first)
        # Past a few --stats-interval-ms periods, so the rate line has been logged.
        second = fwd.wait_stats(lambda s: s["totals"]["rx"] > first["totals"]["rx"] and s["uptime_s"] > 0.7,
                                "counters increasing")
        check(second["uptime_s"] > first["uptime_s"], "uptime does not increase")
        out = fwd.terminate(signal.SIGINT)
        rx, tx, drops = summary_totals(out)
        # net_null never refuses a frame: after the final flush every received frame was sent.
        check(rx == tx and drops == 0 and rx >= second["totals"]["rx"], f"summary rx {rx} tx {tx} drops {drops}")
        with open(fwd.log_file) as f:
            log = f.read()
        check("rate: rx " in log and " Mpps" in log, f"no rate line in the log file:\n{log}")
        check("vnf-fwd summary" in log, "no summary in the log file")
    finally:
        fwd.close()


def scenario_pcap(binary, workdir, mode, frames, extra_args=()):
    count = len(frames)
    src_pcap = os.path.join(workdir, "in.pcap")
    dst_pcap = os.path.join(workdir, "out.pcap")
    write_pcap(src_pcap, frames)
    peer = "02:00:00:00:00:99"
    args = ["--mode", mode, *extra_args]
    if mode == "mac":
        args += ["--peer-mac", "0=02:00:00:00:00:98", "--peer-mac", f"1={peer}"]
    fwd = Fwd(binary, workdir, args,
              [f"net_pcap0,rx_pcap={src_pcap},phy_mac=0", f"net_pcap1,tx_pcap={dst_pcap}"])
    try:
        ports = parse_ready(fwd.wait_ready())
        check(len(ports) == 2, f"expected 2 ports, READY says {ports}")
        stats = fwd.wait_stats(lambda s: s["ports"][1]["tx"] + s["ports"][1]["drops"] >= count,
                               f"{count} frames sent on port 1")
        check_counters_add_up(stats)
        check(stats["ports"][0]["rx"] == count, f"port 0 rx {stats['ports'][0]['rx']} != {count}")
        check(stats["ports"][1]["tx"] == count, f"port 1 tx {stats['ports'][1]['tx']} != {count}: {stats}")
        check(stats["totals"]["drops"] == 0, f"drops: {stats['totals']}")
        out = fwd.terminate()
        check(summary_totals(out) == (count, count, 0), f"summary: {summary_totals(out)}")
    finally:
        fwd.close()
    got = read_pcap(dst_pcap)
    check(len(got) == count, f"{len(got)} frames in the output pcap, {count} sent")
    port1_mac = mac_bytes(ports[1][2])
    for i, (sent, received) in enumerate(zip(frames, got)):
        if mode == "io":
            expected = sent
        elif mode == "mac":
            expected = mac_bytes(peer) + port1_mac + sent[12:]
        elif mode == "l2fwd":
            expected = bytes([2, 0, 0, 0, 0, 1]) + port1_mac + sent[12:]
        else:  # macswap
            expected = sent[6:12] + sent[0:6] + sent[12:]
        check(received == expected, f"frame {i} differs:\n sent     {sent[:22].hex()}\n expected "
                                    f"{expected[:22].hex()}\n received {received[:22].hex()} (len {len(received)})")


def scenario_pcap_mtu_drops(binary, workdir):
    """--mtu 9000 --port-mtu 0=1500: port 0 drops what MTU 1500 does not take and counts it as mtu_drops."""
    sizes = (1514, 1515, 1518, 1519, 9014, 64)
    frames = make_frames(300, sizes=sizes, vlan_every=2)  # frame i is VLAN-tagged when i is even

    def fits(i):
        return len(frames[i]) <= 1500 + 14 + (4 if i % 2 == 0 else 0)

    kept = [f for i, f in enumerate(frames) if fits(i)]
    dropped = len(frames) - len(kept)
    check(dropped == 150, f"frame plan changed: {dropped} over MTU")  # 1515 and 1519 (untagged), 9014 (tagged)
    src_pcap = os.path.join(workdir, "in.pcap")
    dst_pcap = os.path.join(workdir, "out.pcap")
    write_pcap(src_pcap, frames)
    fwd = Fwd(binary, workdir, ["--mode", "io", "--mtu", "9000", "--port-mtu", "0=1500", "--stats-line-ms", "100"],
              [f"net_pcap0,rx_pcap={src_pcap},phy_mac=0", f"net_pcap1,tx_pcap={dst_pcap}"])
    try:
        parse_ready(fwd.wait_ready())
        stats = fwd.wait_stats(lambda s: s["ports"][0]["rx"] == len(frames) and
                               s["ports"][1]["tx"] == len(kept), f"{len(kept)} frames sent on port 1")
        check_counters_add_up(stats)
        p0, p1 = stats["ports"]
        check((p0["mtu"], p1["mtu"]) == (1500, 9000), f"port MTUs {p0['mtu']}, {p1['mtu']}")
        check(p0["mtu_drops"] == dropped and p0["drops"] == dropped, f"port 0: {p0}")
        check(p1["mtu_drops"] == 0, f"port 1: {p1}")
        check(stats["totals"]["mtu_drops"] == dropped, f"totals: {stats['totals']}")
        time.sleep(0.5)  # past a few --stats-line-ms periods
        out = fwd.terminate()
        lines = [json.loads(line.split(" ", 2)[2]) for line in out.splitlines() if line.startswith("VNF-FWD STATS ")]
        check(lines and lines[-1]["ports"][0]["mtu_drops"] == dropped, f"no STATS line with mtu_drops:\n{out}")
        check(summary_totals(out) == (len(frames), len(kept), dropped), f"summary: {summary_totals(out)}")
        check(f"mtu_drops {dropped}" in out, f"summary lacks mtu_drops {dropped}:\n{out}")
    finally:
        fwd.close()
    got = read_pcap(dst_pcap)
    check(got == kept, f"{len(got)} frames in the output pcap, expected the {len(kept)} that fit, in order")


def scenario_memif(binary, workdir):
    """pcap -> process B (io) -> memif -> process A (mac) -> pcap."""
    count = 600
    frames = make_frames(count)
    src_pcap = os.path.join(workdir, "in.pcap")
    dst_pcap = os.path.join(workdir, "out.pcap")
    memif_sock = os.path.join(workdir, "memif.sock")
    write_pcap(src_pcap, frames)
    peer = "02:00:00:00:00:77"
    a = Fwd(binary, workdir, ["--mode", "mac", "--peer-mac", "0=02:00:00:00:00:76", "--peer-mac", f"1={peer}",
                              "--link-wait-ms", "0"],
            [f"net_memif0,role=server,socket={memif_sock},socket-abstract=no", f"net_pcap0,tx_pcap={dst_pcap}"],
            lcores="0@0,1@1", name="A")
    b = None
    try:
        a_ports = parse_ready(a.wait_ready())
        # B waits for the memif link before its workers start, so no frame meets a down link.
        b = Fwd(binary, workdir, ["--mode", "io", "--link-wait-ms", "10000"],
                [f"net_pcap1,rx_pcap={src_pcap}", f"net_memif1,role=client,socket={memif_sock},socket-abstract=no"],
                lcores="0@1,1@0", name="B")
        parse_ready(b.wait_ready())
        b_stats = b.wait_stats(lambda s: s["ports"][1]["tx"] + s["ports"][1]["drops"] >= count, "B sent all")
        check(b_stats["ports"][1]["tx"] == count and b_stats["totals"]["drops"] == 0, f"B: {b_stats}")
        a_stats = a.wait_stats(lambda s: s["ports"][1]["tx"] >= count, "A forwarded all")
        check_counters_add_up(a_stats)
        check(a_stats["ports"][0]["rx"] == count and a_stats["ports"][1]["tx"] == count, f"A: {a_stats}")
        # DPDK 22.11's memif driver unmaps the shared memory in its control thread when the peer
        # disconnects, without waiting for a worker inside rx/tx: a process whose worker still polls
        # when the other one closes the link can crash (SIGSEGV, a few % of runs). So B is frozen
        # (SIGSTOP) while A stops cleanly, and then killed: it never runs after A's disconnect.
        # Clean SIGTERM shutdown itself is checked on A here and on every process of the other tests.
        b.proc.send_signal(signal.SIGSTOP)
        a.terminate()
        b.proc.kill()
        b.proc.wait()
    finally:
        if b:
            b.close()
        a.close()
    got = read_pcap(dst_pcap)
    check(len(got) == count, f"{len(got)} frames in the output pcap, {count} sent")
    a_mac = mac_bytes(a_ports[1][2])
    for i, (sent, received) in enumerate(zip(frames, got)):
        check(received == mac_bytes(peer) + a_mac + sent[12:], f"frame {i} differs: {received[:22].hex()}")


def expect_failure(binary, workdir, args, vdevs, exit_code, texts):
    fwd = Fwd(binary, workdir, args, vdevs)
    try:
        rc = fwd.proc.wait(timeout=30)
        err = fwd.errors()
        check(rc == exit_code, f"exit code {rc}, expected {exit_code}" + fwd.describe())
        check("VNF-FWD READY" not in fwd.output(), "READY printed although startup failed")
        for text in texts:
            check(text in err, f"stderr lacks {text!r}" + fwd.describe())
    finally:
        fwd.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("scenario")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vnf-fwd-test-") as workdir:
        binary = args.binary
        s = args.scenario
        if s == "null_io":
            scenario_null(binary, workdir, "io")
        elif s == "null_macswap":
            scenario_null(binary, workdir, "macswap")
        elif s == "pcap_mac":
            scenario_pcap(binary, workdir, "mac", make_frames(500))
        elif s == "pcap_l2fwd":
            scenario_pcap(binary, workdir, "l2fwd", make_frames(500))
        elif s == "pcap_jumbo_vlan":
            frames = make_frames(200, sizes=(9014, 64, 9018, 1522), vlan_every=2)
            scenario_pcap(binary, workdir, "macswap", frames, ["--mtu", "9000"])
        elif s == "pcap_mtu_drops":
            scenario_pcap_mtu_drops(binary, workdir)
        elif s == "memif_two_process":
            scenario_memif(binary, workdir)
        elif s == "port_not_found":
            expect_failure(binary, workdir, ["--port", "0000:00:09.0", "--port", "52:54:00:00:00:09"],
                           ["net_null0"], 1,
                           ["requested ports not found: 0000:00:09.0, 52:54:00:00:00:09. Available: port 0 net_null0",
                            "dpdk-devbind.py --status"])
        elif s == "no_ports":
            expect_failure(binary, workdir, [], [], 1, ["no DPDK ports found: bind the NICs to a DPDK driver"])
        elif s == "bad_config":
            expect_failure(binary, workdir, ["--mode", "maс", "--rxd", "1", "--mtu", "10000"], ["net_null0"], 2,
                           ["vnf-fwd: 3 problems in the configuration:", "--rxd 1 is out of range",
                            "--mtu 10000 is out of range: allowed 68..9216"])
        else:
            parser.error(f"unknown scenario {s}")
    print(f"PASS {args.scenario}")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
