#!/usr/bin/env python3
"""End-to-end test of the management API's indicators (ctest e2e.api_indicators, root, libvirt,
one TCG VM): `vnfctl serve` on loopback instantiates the demo's VNF shape (one vCPU, two virtio
NICs on host taps, the forwarder in macswap mode) through the SOL003 API from a vnfd the test
writes, a known stream goes through the guest (e2e_lib's vnf-traffic helper), and then
GET /vnfind/v1/indicators/{id} and /metrics must show the forwarder's counters: rx and tx at least
the frames sent. Then the rest of the lifecycle on the real VM: operate STOPPED and STARTED, heal
(restart), each followed by the whole stream forwarded again, and a scale out that cannot place a
second VNFC on the spec's named taps: refused (422, naming them), the running VNFC untouched. The API instantiates the VNF itself (it does not adopt one the CLI launched: an
instance is what serve's own database records). Terminate and delete go through the API too; the
cleanup removes whatever is left (server, domain, taps, files) even on failure or a signal.
Exit 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE)."""
import argparse
import ctypes
import glob
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import (VIRSH, Cleanup, Failure, ensure_libvirt, log, make_tap, reap_stale, remove_domain, run,
                     serial_text, tail, traffic, write_spec)

SKIP = 77
PORT_MACS = ["52:54:00:e2:e0:11", "52:54:00:e2:e0:12"]
SENDER_MAC = "02:00:00:00:0a:11"
FRAMES = 1000
RATE_PPS = 500
BOOT_TIMEOUT_S = 120


def die_with_parent():
    """In the server's child before exec: SIGTERM when this test dies, also by SIGKILL (a ctest
    timeout), so no server outlives it (PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def reap_stale_dirs():
    """Work folders of earlier runs that were SIGKILLed: their names carry the creator's pid."""
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "vnfapi*-*")):
        m = re.fullmatch(r"vnfapi(\d+)-.*", os.path.basename(d))
        if m and os.path.isdir(d) and not os.path.islink(d) and not os.path.exists(f"/proc/{m.group(1)}"):
            log(f"removing stale work folder {d}")
            shutil.rmtree(d, ignore_errors=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and an operator client certificate."""
    def openssl(*args):
        run(["openssl", *args], quiet=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/O=vnfctl e2e/CN=ca", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem")
    with open(f"{d}/server.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    with open(f"{d}/client.ext", "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, subj, ext in (("server", "/O=vnfctl e2e/CN=127.0.0.1", "server.ext"),
                            ("operator", "/O=vnfctl e2e/CN=operator", "client.ext")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subj,
                "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr")
        openssl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", f"{d}/{ext}", "-out", f"{d}/{name}.pem")
    with open(f"{d}/roles", "w") as f:
        f.write("operator CN=operator,O=vnfctl e2e\n")


class Api:
    """HTTPS with the operator's client certificate to the server on 127.0.0.1:port, over one
    keep-alive connection (a new one when the server closed it): polling costs no handshakes."""

    def __init__(self, port, pki):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=f"{pki}/ca.pem")
        self.ctx.load_cert_chain(f"{pki}/operator.pem", f"{pki}/operator.key")
        self.conn = None

    def call(self, method, path, body=None, version=True):
        headers = {"Version": "2.0.0"} if version else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                text = r.read().decode("utf-8", "replace")
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, dict(r.getheaders()), text
            except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError, http.client.CannotSendRequest,
                    http.client.BadStatusLine):
                self.close()  # the server closed an idle keep-alive connection: once more on a new one
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def json(self, method, path, body=None, want=200):
        status, headers, text = self.call(method, path, body)
        check(status == want, f"{method} {path}: {status}, expected {want}: {text[:2000]}")
        return headers, (json.loads(text) if text else None)


def wait_occ(api, location, timeout_s):
    path = re.sub(r"^https://[^/]+", "", location)
    deadline = time.monotonic() + timeout_s
    occ = None
    while time.monotonic() < deadline:
        _, occ = api.json("GET", path)
        if occ["operationState"] in ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK"):
            return occ
        time.sleep(0.5)
    raise Failure(f"{path} still {occ['operationState'] if occ else '?'} after {timeout_s} s")


def scenario(args, cleanup):
    pid = os.getpid()
    work = tempfile.mkdtemp(prefix=f"vnfapi{pid}-")
    os.chmod(work, 0o755)  # QEMU writes the serial log here
    cleanup.add(f"remove {work}", lambda: shutil.rmtree(work, ignore_errors=True))
    taps = [f"vnfapi{pid}a", f"vnfapi{pid}b"]
    for tap in taps:
        make_tap(tap, cleanup)
    name = f"apibench{pid}"
    os.makedirs(f"{work}/vnfd")
    os.makedirs(f"{work}/pki")
    write_spec(f"{work}/vnfd/demo.yaml", name, taps, PORT_MACS, "macswap")
    make_pki(f"{work}/pki")

    # Whatever domain the server made carries the spec's name: removed at the end in any case.
    def remove_ours():
        listed = run(VIRSH + ["list", "--all", "--name"], check=False, quiet=True).stdout.split()
        for dom in listed:
            if dom.startswith(name + "-"):
                remove_domain(dom)
    cleanup.add("remove the server's domains", remove_ours)

    server_log = open(f"{work}/server.log", "w+")
    server = subprocess.Popen(
        [args.vnfctl, "serve", "--listen", "127.0.0.1:0", "--cert", f"{work}/pki/server.pem",
         "--key", f"{work}/pki/server.key", "--client-ca", f"{work}/pki/ca.pem", "--roles", f"{work}/pki/roles",
         "--vnfd-dir", f"{work}/vnfd", "--state-dir", f"{work}/state", "--log-dir", work,
         "--image-dir", args.image_dir, "--ready-timeout", str(BOOT_TIMEOUT_S), "--mutations-per-second", "100"],
        stdout=server_log, stderr=server_log, preexec_fn=die_with_parent)

    def stop_server():
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    cleanup.add("stop vnfctl serve", stop_server)

    def server_text():
        with open(f"{work}/server.log") as f:
            return f.read()
    port = None
    deadline = time.monotonic() + 15
    while port is None and time.monotonic() < deadline:
        m = re.search(r"listening on https://127\.0\.0\.1:(\d+)", server_text())
        if m:
            port = int(m.group(1))
            break
        check(server.poll() is None, f"vnfctl serve exited {server.returncode}:\n{server_text()}")
        time.sleep(0.1)
    check(port is not None, f"vnfctl serve did not listen within 15 s:\n{server_text()}")
    api = Api(port, f"{work}/pki")

    started = time.monotonic()
    headers, inst = api.json("POST", "/vnflcm/v2/vnf_instances", {"vnfdId": "demo", "vnfInstanceName": name}, 201)
    iid = inst["id"]
    headers, _ = api.json("POST", f"/vnflcm/v2/vnf_instances/{iid}/instantiate", {"flavourId": "default"}, 202)
    occ = wait_occ(api, headers["Location"], BOOT_TIMEOUT_S + 30)
    check(occ["operationState"] == "COMPLETED",
          f"instantiate ended {occ['operationState']}: {json.dumps(occ.get('error'))}\n{tail(server_text())}")
    _, inst = api.json("GET", f"/vnflcm/v2/vnf_instances/{iid}")
    domain = inst["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"]
    serial = os.path.join(work, f"{domain}.serial.log")
    log(f"instance {iid}: domain {domain} COMPLETED after {time.monotonic() - started:.1f} s")

    # The forwarder prints a STATS line a second; wait for the first, then send the stream.
    deadline = time.monotonic() + 20
    while "VNF-FWD STATS " not in serial_text(serial):
        check(time.monotonic() < deadline, f"no VNF-FWD STATS line in 20 s; serial tail:\n{tail(serial_text(serial))}")
        time.sleep(0.5)
    rc, s, out = traffic(args.traffic, taps[0], taps[1], FRAMES, RATE_PPS, SENDER_MAC, PORT_MACS[0],
                         PORT_MACS[0], SENDER_MAC, pid)
    log(out.strip())
    check(rc == 0 and int(s.get("forwarded", 0)) == FRAMES,
          f"vnf-traffic exited {rc}, forwarded {s.get('forwarded')} of {FRAMES}:\n{out}")

    # The guest's counters reach the API at its next STATS line (one a second).
    values = {}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        _, items = api.json("GET", f"/vnfind/v1/indicators/{iid}")
        values = {i["id"]: i["value"] for i in items}
        if values.get("rxPackets", 0) >= FRAMES and values.get("txPackets", 0) >= FRAMES:
            break
        time.sleep(0.5)
    log(f"indicators of {iid}: {values}")
    check(values.get("rxPackets", 0) >= FRAMES and values.get("txPackets", 0) >= FRAMES,
          f"indicators show rx {values.get('rxPackets')} tx {values.get('txPackets')}, expected >= {FRAMES}")
    check("rxPacketsPerSecond" in values and "ringFullEvents" in values, f"indicators lack rates/ring-full: {values}")

    status, _, metrics = api.call("GET", "/metrics", version=False)
    check(status == 200, f"/metrics: {status}: {metrics[:500]}")
    got = {}
    for counter in ("rx", "tx"):
        m = re.search(rf'^vnfctl_fwd_packets_total\{{instance="{iid}",counter="{counter}"\}} (\S+)$', metrics, re.M)
        got[counter] = float(m.group(1)) if m else None
    log(f"/metrics: forwarder rx {got['rx']} tx {got['tx']}")
    check(all(v is not None and v >= FRAMES for v in got.values()),
          f"/metrics forwarder counters {got}, expected >= {FRAMES}:\n{metrics}")
    check(re.search(r'^vnfctl_vnf_instances\{state="INSTANTIATED"\} 1$', metrics, re.M),
          f"/metrics does not count 1 INSTANTIATED instance:\n{metrics}")
    check(re.search(r'^vnfctl_host_hugepages\{node="\d+",page_size_kib="\d+"\} \d+$', metrics, re.M),
          f"/metrics has no host hugepages line:\n{metrics}")

    # The rest of the lifecycle on the real VM: after operate STOPPED/STARTED and after heal (restart)
    # the VNF forwards the whole stream again.
    def task(op, body, want="COMPLETED"):
        headers, _ = api.json("POST", f"/vnflcm/v2/vnf_instances/{iid}/{op}", body, 202)
        occ = wait_occ(api, headers["Location"], BOOT_TIMEOUT_S + 30)
        check(occ["operationState"] == want,
              f"{op} ended {occ['operationState']} (expected {want}): {json.dumps(occ.get('error'))}\n"
              f"{tail(server_text())}")
        return headers["Location"], occ

    def domstate():
        return run(VIRSH + ["domstate", domain], check=False, quiet=True).stdout.strip()

    def forwards_again(after):
        # QEMU truncates the serial log when the domain starts, so a STATS line is this boot's.
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while "VNF-FWD STATS " not in serial_text(serial):
            check(time.monotonic() < deadline,
                  f"no VNF-FWD STATS line {BOOT_TIMEOUT_S} s after {after}; serial tail:\n{tail(serial_text(serial))}")
            time.sleep(0.5)
        rc, s, out = traffic(args.traffic, taps[0], taps[1], FRAMES, RATE_PPS, SENDER_MAC, PORT_MACS[0],
                             PORT_MACS[0], SENDER_MAC, pid)
        check(rc == 0 and int(s.get("forwarded", 0)) == FRAMES,
              f"after {after}: vnf-traffic exited {rc}, forwarded {s.get('forwarded')} of {FRAMES}:\n{out}")
        log(f"after {after}: forwarded {FRAMES}/{FRAMES}")

    task("operate", {"changeStateTo": "STOPPED"})
    check(domstate() == "shut off", f"after operate STOPPED the domain is '{domstate()}'")
    _, inst = api.json("GET", f"/vnflcm/v2/vnf_instances/{iid}")
    check(inst["instantiatedVnfInfo"]["vnfState"] == "STOPPED", f"vnfState {inst['instantiatedVnfInfo'].get('vnfState')}")
    task("operate", {"changeStateTo": "STARTED"})
    check(domstate() == "running", f"after operate STARTED the domain is '{domstate()}'")
    forwards_again("operate STARTED")
    task("heal", {"cause": "e2e"})
    check(domstate() == "running", f"after heal the domain is '{domstate()}'")
    forwards_again("heal (restart)")
    # Scale out of a spec whose NICs are named host taps: a tap belongs to one domain, so a second
    # VNFC cannot be placed; refused up front (422 naming the taps), the running VNFC untouched.
    status, _, text = api.call("POST", f"/vnflcm/v2/vnf_instances/{iid}/scale",
                               {"type": "SCALE_OUT", "aspectId": "vnfc", "numberOfSteps": 1})
    check(status == 422 and f"host tap {taps[0]}" in text, f"scale out on named taps: {status} {text[:500]}")
    log(f"scale out on named taps: {status}: {json.loads(text).get('detail')}")
    _, inst = api.json("GET", f"/vnflcm/v2/vnf_instances/{iid}")
    vnfcs = [r["id"] for r in inst["instantiatedVnfInfo"]["vnfcResourceInfo"]]
    check(vnfcs == [domain] and domstate() == "running", f"after the refused scale: VNFCs {vnfcs}, {domain} '{domstate()}'")

    headers, _ = api.json("POST", f"/vnflcm/v2/vnf_instances/{iid}/terminate", {"terminationType": "FORCEFUL"}, 202)
    occ = wait_occ(api, headers["Location"], 60)
    check(occ["operationState"] == "COMPLETED", f"terminate ended {occ['operationState']}")
    api.json("DELETE", f"/vnflcm/v2/vnf_instances/{iid}", want=204)
    done = run(VIRSH + ["domstate", domain], check=False, quiet=True)
    check(done.returncode != 0, f"domain {domain} still exists after terminate")
    log(f"scenario took {time.monotonic() - started:.1f} s")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vnfctl", required=True)
    ap.add_argument("--traffic", required=True)
    ap.add_argument("--image-dir", required=True)
    ap.add_argument("--repo", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: the e2e tests need root (taps, AF_PACKET, libvirt qemu:///system)")
        return SKIP
    if not os.path.exists(os.path.join(args.image_dir, "image.json")):
        log(f"FAIL: no guest image in {args.image_dir}: build it with 'cmake --build build --target guest_image'")
        return 1
    cleanup = Cleanup()
    try:
        ensure_libvirt(args.repo)
        reap_stale("vnfapi", "apibench")
        reap_stale_dirs()
        rc = scenario(args, cleanup)
        log("PASS: api_indicators")
        return rc
    except (Failure, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
        log(f"FAIL: api_indicators: {type(e).__name__}: {e}")
        return 1
    finally:
        cleanup.run()


if __name__ == "__main__":
    sys.exit(main())
