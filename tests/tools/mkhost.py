#!/usr/bin/env python3
"""Builds fake Linux host trees (the /sys, /proc, /dev files vnfctl's discovery reads) for host
shapes no test machine has: several sockets, SMT, many NUMA nodes, SR-IOV NICs with VFs.

    tests/tools/mkhost.py NAME OUT_DIR     build one named host (see HOSTS below)
    tests/tools/mkhost.py --all DATA_DIR   (re)build every committed tree under DATA_DIR/NAME
    tests/tools/mkhost.py --big OUT_DIR    the benchmark host: 2 sockets, 256 CPUs, 4 PFs, 256 VFs
    tests/tools/mkhost.py --big4 OUT_DIR   the planning benchmark host: 4 sockets, 448 CPUs, 1024 VFs

The layout follows the kernel's: PCI functions under /sys/devices/pciDDDD:BB/, reached through
/sys/bus/pci/devices links, with driver, iommu_group, physfn and virtfnN links as the kernel makes.
"""
import os
import shutil
import sys


def w(root, path, text):
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)


def link(root, path, target):
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if os.path.lexists(p):
        os.remove(p)
    os.symlink(target, p)


def mkdir(root, path):
    os.makedirs(os.path.join(root, path.lstrip("/")), exist_ok=True)


def cpulist(cpus):
    cpus = sorted(set(cpus))
    out, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(out)


class Host:
    """sockets x nodes_per_socket x cores_per_node x threads. CPU numbering as Linux does on
    Intel/AMD servers: first thread of every core first, then the second threads."""

    def __init__(self, desc, vendor="GenuineIntel", model="Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz",
                 sockets=2, nodes_per_socket=1, cores_per_node=8, threads=2,
                 release="6.1.0-18-amd64", version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
                 cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet",
                 flags="fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc vmx",
                 node_mem_kib=64 * 1024 * 1024, hugepages=None, hugetlbfs=(), iommu=True, vfio=True,
                 isolated=(), nohz_full=(), kvm=True, distances=None):
        self.__dict__.update(locals())
        del self.__dict__["self"]
        self.nodes = sockets * nodes_per_socket
        self.ncpus = self.nodes * cores_per_node * threads
        self.nics = []
        self.iommu_group = 0
        self.quirks = []

    def quirk(self, path, text=None, link_to=None):
        """After the tree is written: replace a file's text, make `path` a link, or (neither) remove it.
        For firmware and kernel oddities seen on real hosts."""
        self.quirks.append((path, text, link_to))

    def cpu_of(self, node, core, thread):
        per_thread = self.nodes * self.cores_per_node
        return thread * per_thread + node * self.cores_per_node + core

    def node_cpus(self, node):
        return [self.cpu_of(node, c, t) for t in range(self.threads) for c in range(self.cores_per_node)]

    def add_pf(self, addr, vendor, device, vf_device, driver, node, netdev, mac, total_vfs=0, vfs=(),
               mtu=1500, speed=10000, vf_stride=1, vf_first="02.0"):
        """vfs: list of (driver or None, netdev or None); VF addresses follow the PF's bus."""
        self.nics.append(dict(addr=addr, vendor=vendor, device=device, driver=driver, node=node,
                              netdev=netdev, mac=mac, total=total_vfs, mtu=mtu, speed=speed,
                              vf_device=vf_device, vfs=list(vfs), vf_first=vf_first))

    def write(self, root, readme):
        if os.path.exists(root):
            shutil.rmtree(root)
        os.makedirs(root)
        w(root, "README", readme.strip() + "\n")
        # Kernel and CPU
        w(root, "/proc/sys/kernel/osrelease", self.release + "\n")
        w(root, "/proc/sys/kernel/version", self.version + "\n")
        w(root, "/proc/cmdline", self.cmdline + "\n")
        blocks = []
        for cpu in range(self.ncpus):
            node, core, thread = self.locate(cpu)
            blocks.append("processor\t: %d\nvendor_id\t: %s\nmodel name\t: %s\nphysical id\t: %d\n"
                          "core id\t\t: %d\nflags\t\t: %s\n" % (cpu, self.vendor, self.model,
                                                                 node // self.nodes_per_socket, core, self.flags))
        w(root, "/proc/cpuinfo", "\n".join(blocks) + "\n")
        total = self.node_mem_kib * self.nodes
        default_hp = 1048576 if "pdpe1gb" in self.flags.split() and any(
            s == 1048576 for s in (self.hugepages or {})) else 2048
        w(root, "/proc/meminfo", "MemTotal:       %d kB\nMemFree:        %d kB\nHugepagesize:       %d kB\n"
          % (total, total // 2, default_hp))
        mounts = "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,relatime 0 0\n"
        for path, opt in self.hugetlbfs:
            mounts += "hugetlbfs %s hugetlbfs rw,relatime%s 0 0\n" % (path, ",pagesize=" + opt if opt else "")
        w(root, "/proc/mounts", mounts)
        cdir = "/sys/devices/system/cpu"
        allc = list(range(self.ncpus))
        for f in ("online", "possible", "present"):
            w(root, cdir + "/" + f, cpulist(allc) + "\n")
        w(root, cdir + "/isolated", cpulist(self.isolated) + "\n")
        w(root, cdir + "/nohz_full", (cpulist(self.nohz_full) if self.nohz_full else "(null)") + "\n")
        for cpu in allc:
            node, core, thread = self.locate(cpu)
            t = "%s/cpu%d/topology/" % (cdir, cpu)
            w(root, t + "physical_package_id", "%d\n" % (node // self.nodes_per_socket))
            w(root, t + "die_id", "0\n")
            w(root, t + "core_id", "%d\n" % ((node % self.nodes_per_socket) * self.cores_per_node + core))
            sib = [self.cpu_of(node, core, th) for th in range(self.threads)]
            w(root, t + "thread_siblings_list", cpulist(sib) + "\n")
            sock = node // self.nodes_per_socket
            pkg = [c for n in range(sock * self.nodes_per_socket, (sock + 1) * self.nodes_per_socket)
                   for c in self.node_cpus(n)]
            w(root, t + "core_siblings_list", cpulist(pkg) + "\n")
            if cpu:
                w(root, "%s/cpu%d/online" % (cdir, cpu), "1\n")
        ndir = "/sys/devices/system/node"
        w(root, ndir + "/online", cpulist(range(self.nodes)) + "\n")
        w(root, ndir + "/possible", cpulist(range(self.nodes)) + "\n")
        for n in range(self.nodes):
            d = "%s/node%d/" % (ndir, n)
            w(root, d + "cpulist", cpulist(self.node_cpus(n)) + "\n")
            w(root, d + "meminfo", "Node %d MemTotal:       %d kB\nNode %d MemFree:        %d kB\n"
              "Node %d MemUsed:        %d kB\n" % (n, self.node_mem_kib, n, self.node_mem_kib * 3 // 4, n,
                                                   self.node_mem_kib // 4))
            dist = self.distances[n] if self.distances else [10 if m == n else 21 for m in range(self.nodes)]
            w(root, d + "distance", " ".join(map(str, dist)) + "\n")
            for size in (2048, 1048576):
                count, free = (self.hugepages or {}).get(size, {}).get(n, (0, 0))
                h = d + "hugepages/hugepages-%dkB/" % size
                w(root, h + "nr_hugepages", "%d\n" % count)
                w(root, h + "free_hugepages", "%d\n" % free)
                w(root, h + "surplus_hugepages", "0\n")
        for size in (2048, 1048576):
            mkdir(root, "/sys/kernel/mm/hugepages/hugepages-%dkB" % size)
        if self.iommu:
            mkdir(root, "/sys/kernel/iommu_groups")
            mkdir(root, "/sys/class/iommu/%s0" % ("ivhd" if self.vendor == "AuthenticAMD" else "dmar"))
        if self.kvm:
            w(root, "/dev/kvm", "")
        if self.vfio:
            w(root, "/dev/vfio/vfio", "")
            mkdir(root, "/sys/bus/pci/drivers/vfio-pci")
        mkdir(root, "/sys/bus/pci/devices")
        # Two non-network devices, so discovery has to skip them: a host bridge and a SATA controller.
        self.pci(root, "0000:00:00.0", 0x060000, 0x8086, 0x09a2, None, 0, None)
        self.pci(root, "0000:00:17.0", 0x010601, 0x8086, 0xa182, "ahci", 0, None)
        for nic in self.nics:
            self.write_nic(root, nic)
        for path, text, link_to in self.quirks:
            if link_to is not None:
                link(root, path, link_to)
            elif text is not None:
                w(root, path, text)
            else:
                os.remove(os.path.join(root, path.lstrip("/")))
        # git keeps no empty folders, and discovery looks at some (an IOMMU unit, a driver): give
        # each one the "uevent" file every sysfs folder has.
        for d, subdirs, files in os.walk(root):
            if not subdirs and not files and not os.path.islink(d):
                w(root, os.path.relpath(os.path.join(d, "uevent"), root), "")

    def locate(self, cpu):
        per_thread = self.nodes * self.cores_per_node
        thread, rest = divmod(cpu, per_thread)
        node, core = divmod(rest, self.cores_per_node)
        return node, core, thread

    def pci(self, root, addr, cls, vendor, device, driver, node, netdev, extra=None):
        bus = addr[:7]
        dev = "/sys/devices/pci%s/%s" % (bus, addr)
        w(root, dev + "/class", "0x%06x\n" % cls)
        w(root, dev + "/vendor", "0x%04x\n" % vendor)
        w(root, dev + "/device", "0x%04x\n" % device)
        w(root, dev + "/numa_node", "%d\n" % node)
        w(root, dev + "/local_cpulist", cpulist(self.node_cpus(node) if node >= 0 else []) + "\n")
        link(root, "/sys/bus/pci/devices/" + addr, "../../../devices/pci%s/%s" % (bus, addr))
        if driver:
            mkdir(root, "/sys/bus/pci/drivers/" + driver)
            link(root, dev + "/driver", "../../../bus/pci/drivers/" + driver)
        if self.iommu:
            g = self.iommu_group
            self.iommu_group += 1
            link(root, "/sys/kernel/iommu_groups/%d/devices/%s" % (g, addr), "../../../../devices/pci%s/%s" % (bus, addr))
            link(root, dev + "/iommu_group", "../../../kernel/iommu_groups/%d" % g)
        if netdev:
            name, mac, mtu, speed, state = netdev
            n = dev + "/net/" + name + "/"
            w(root, n + "address", mac + "\n")
            w(root, n + "mtu", "%d\n" % mtu)
            w(root, n + "operstate", state + "\n")
            w(root, n + "speed", ("%d\n" % speed) if state == "up" else "-1\n")
        return dev

    def write_nic(self, root, nic):
        dev = self.pci(root, nic["addr"], 0x020000, nic["vendor"], nic["device"], nic["driver"], nic["node"],
                       (nic["netdev"], nic["mac"], nic["mtu"], nic["speed"], "up"))
        if nic["total"]:
            w(root, dev + "/sriov_totalvfs", "%d\n" % nic["total"])
            w(root, dev + "/sriov_numvfs", "%d\n" % len(nic["vfs"]))
            bus = int(nic["addr"][5:7], 16)
            first_dev, first_fn = (int(x, 16) for x in nic["vf_first"].split("."))
            for i, (drv, netdev) in enumerate(nic["vfs"]):
                # Past device 31 the VFs continue on the next bus, as the kernel's VF routing does.
                bus_off, slot = divmod(first_dev * 8 + first_fn + i, 256)
                vaddr = "%s:%02x:%02x.%d" % (nic["addr"][:4], bus + bus_off, slot // 8, slot % 8)
                mac = "52:54:%02x:%02x:%02x:%02x" % (bus, int(nic["addr"][-1]), i // 256, i % 256)
                vdev = self.pci(root, vaddr, 0x020000, nic["vendor"], nic["vf_device"], drv, nic["node"],
                                (netdev, mac, nic["mtu"], nic["speed"], "up") if netdev else None)
                link(root, dev + "/virtfn%d" % i, "../" + vaddr)
                link(root, vdev + "/physfn", "../" + nic["addr"])


def hosts():
    out = {}

    h = Host("two-socket Intel", sockets=2, cores_per_node=8, threads=2,
             cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet intel_iommu=on iommu=pt "
                     "default_hugepagesz=1G hugepagesz=1G hugepages=16",
             hugepages={1048576: {0: (8, 8), 1: (8, 6)}, 2048: {0: (0, 0), 1: (512, 512)}},
             hugetlbfs=[("/dev/hugepages", None), ("/dev/hugepages2M", "2M")])
    vfs = [("vfio-pci", None)] * 4 + [("iavf", "ens2f0v%d" % i) for i in range(4, 8)]
    h.add_pf("0000:81:00.0", 0x8086, 0x1572, 0x154c, "i40e", 1, "ens2f0", "3c:fd:fe:a0:00:00", 64, vfs, mtu=9000)
    h.add_pf("0000:81:00.1", 0x8086, 0x1572, 0x154c, "i40e", 1, "ens2f1", "3c:fd:fe:a0:00:01", 64, [], mtu=9000,
             vf_first="0a.0")
    h.add_pf("0000:18:00.0", 0x8086, 0x1521, 0, "igb", 0, "eno1", "3c:ec:ef:00:00:01", 0, [], speed=1000)
    out["2socket-ht-x710-node1"] = (h, "Two-socket Intel Xeon server, 2x8 cores with SMT (32 CPUs), one NUMA "
                                       "node per socket; an X710 (i40e) SR-IOV NIC on node 1 with 8 of 64 VFs on "
                                       "port 0 (VFs 0-3 bound to vfio-pci, 4-7 to iavf); an onboard igb on node 0; "
                                       "IOMMU on with iommu=pt; 1G and 2M hugepages reserved; vfio-pci loaded.")

    amd = Host("AMD", vendor="AuthenticAMD", model="AMD EPYC 7543 32-Core Processor", sockets=2,
               nodes_per_socket=2, cores_per_node=4, threads=2,
               flags="fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc svm",
               cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/nvme0n1p2 ro iommu=pt",
               distances=[[10, 12, 32, 32], [12, 10, 32, 32], [32, 32, 10, 12], [32, 32, 12, 10]],
               hugepages={1048576: {0: (2, 2), 1: (2, 2), 2: (2, 2), 3: (4, 4)}},
               hugetlbfs=[("/dev/hugepages", None)], node_mem_kib=32 * 1024 * 1024)
    amd.add_pf("0000:c1:00.0", 0x15b3, 0x1017, 0x1018, "mlx5_core", 3, "enp193s0f0np0", "b8:ce:f6:00:00:00", 8,
               [("mlx5_core", "enp193s0f0v%d" % i) for i in range(4)], mtu=1500, speed=25000)
    out["amd-epyc-2socket-nps2"] = (amd, "Two-socket AMD EPYC, NPS2: two NUMA nodes per socket (4 nodes), 4 cores "
                                         "with SMT per node (32 CPUs), distances 10/12/32; a Mellanox ConnectX-5 "
                                         "on node 3 with 4 of 8 VFs on mlx5_core; AMD IOMMU on by default, "
                                         "iommu=pt; 1G hugepages on every node.")

    off = Host("iommu off", sockets=1, cores_per_node=6, threads=2, iommu=False, vfio=False,
               cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet",
               hugepages={2048: {0: (1024, 1024)}}, hugetlbfs=[("/dev/hugepages", None)])
    off.add_pf("0000:3b:00.0", 0x8086, 0x1572, 0x154c, "i40e", 0, "ens1f0", "3c:fd:fe:b0:00:00", 64, [])
    out["1socket-iommu-off"] = (off, "Single-socket Intel server, 6 cores with SMT (12 CPUs); IOMMU off in "
                                     "firmware and not on the kernel command line (no IOMMU groups), vfio-pci "
                                     "not loaded; an X710 with SR-IOV but no VFs; 2M hugepages only.")

    iso = Host("isolcpus", sockets=1, cores_per_node=8, threads=2,
               version="#1 SMP PREEMPT_RT Debian 6.1.76-1 (2024-02-01)", release="6.1.0-18-rt-amd64",
               cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-rt-amd64 root=/dev/sda1 ro intel_iommu=on iommu=pt "
                       "isolcpus=managed_irq,domain,2-7,10-15 nohz_full=2-7,10-15 rcu_nocbs=2-7,10-15",
               isolated=list(range(2, 8)) + list(range(10, 16)), nohz_full=list(range(2, 8)) + list(range(10, 16)),
               hugepages={1048576: {0: (16, 16)}}, hugetlbfs=[("/dev/hugepages1G", "1G")])
    iso.add_pf("0000:5e:00.0", 0x8086, 0x159b, 0x1889, "ice", 0, "ens5f0", "b4:96:91:00:00:00", 128,
               [("vfio-pci", None)] * 2)
    out["1socket-isolcpus-rt"] = (iso, "Single-socket Intel server tuned for NFV: 8 cores with SMT (16 CPUs), "
                                       "isolcpus/nohz_full/rcu_nocbs on CPUs 2-7,10-15, PREEMPT_RT kernel, IOMMU "
                                       "on with iommu=pt, 16 1G hugepages; an E810 (ice) with 2 VFs on vfio-pci.")

    q = Host("firmware quirks", sockets=2, cores_per_node=4, threads=2,
             cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro intel_iommu=on iommu=pt",
             hugepages={1048576: {0: (4, 4), 1: (4, 4)}}, hugetlbfs=[("/dev/hugepages", None)])
    q.add_pf("0000:81:00.0", 0x8086, 0x1572, 0x154c, "i40e", 1, "ens2f0", "3c:fd:fe:a0:00:00", 64,
             [("vfio-pci", None)] * 4, mtu=9000)
    q.add_pf("0000:81:00.1", 0x8086, 0x1572, 0x154c, "i40e", 1, "ens2f1", "3c:fd:fe:a0:00:01", 64, [], mtu=9000,
             vf_first="0a.0")
    q.add_pf("0000:18:00.0", 0x8086, 0x1521, 0, "igb", 0, "eno1", "3c:ec:ef:00:00:01", 0, [], speed=1000)
    q.quirk("/sys/devices/pci0000:81/0000:81:00.0/sriov_numvfs", "4294967295\n")  # a -1 printed unsigned
    q.quirk("/sys/devices/pci0000:81/0000:81:00.0/virtfn3", link_to="../0000:81:00.0")  # the PF itself
    q.quirk("/sys/devices/pci0000:18/0000:18:00.0/numa_node", "999999\n")
    q.quirk("/sys/devices/pci0000:81/0000:81:00.1/numa_node", "4294967295\n")
    q.quirk("/proc/cmdline")  # unreadable: as in a container without /proc/cmdline
    out["2socket-x710-firmware-quirks"] = (
        q, "Two-socket Intel server (2x4 cores with SMT, 16 CPUs) whose files are odd: ens2f0's sriov_numvfs "
           "reads 4294967295 (of 64) and its virtfn3 link points at the PF itself (3 real VFs on vfio-pci); "
           "numa_node reads 999999 on eno1 and 4294967295 on ens2f1; /proc/cmdline is missing.")
    return out


def big():
    h = Host("benchmark", sockets=2, cores_per_node=64, threads=2,
             cmdline="BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt",
             hugepages={1048576: {0: (64, 64), 1: (64, 64)}}, hugetlbfs=[("/dev/hugepages", "1G")])
    for i, (bus, node) in enumerate([(0x17, 0), (0x18, 0), (0x81, 1), (0x82, 1)]):
        vfs = [("vfio-pci", None) if j % 2 else ("iavf", "p%dv%d" % (i, j)) for j in range(64)]
        h.add_pf("0000:%02x:00.0" % bus, 0x8086, 0x1572, 0x154c, "i40e", node, "p%d" % i,
                 "3c:fd:fe:c0:00:%02x" % i, 64, vfs, vf_first="02.0")
    return h


def big4():
    h = Host("benchmark", sockets=4, cores_per_node=56, threads=2,
             cmdline="BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt",
             hugepages={2048: {n: (40000, 40000) for n in range(4)}, 1048576: {n: (64, 64) for n in range(4)}},
             hugetlbfs=[("/dev/hugepages", "2M")], node_mem_kib=512 * 1024 * 1024)
    for i, bus in enumerate([0x17, 0x5d, 0x85, 0xd7]):
        vfs = [("vfio-pci", None)] * 256
        h.add_pf("0000:%02x:00.0" % bus, 0x8086, 0x1592, 0x1889, "ice", i, "p%d" % i,
                 "b4:96:91:c0:00:%02x" % i, 256, vfs, vf_first="01.0")
    return h


def main(argv):
    if len(argv) == 3 and argv[1] == "--all":
        for name, (h, readme) in hosts().items():
            h.write(os.path.join(argv[2], name), readme)
        return 0
    if len(argv) == 3 and argv[1] == "--big":
        big().write(argv[2], "Benchmark host: two sockets, 64 cores with SMT each (256 CPUs), 4 X710 PFs with "
                             "64 VFs each (256 VFs).")
        return 0
    if len(argv) == 3 and argv[1] == "--big4":
        big4().write(argv[2], "Benchmark host: four sockets, 56 cores with SMT each (448 CPUs), 4 E810 PFs "
                              "(one per node) with 256 VFs each, 40000 free 2M pages per node.")
        return 0
    if len(argv) == 3 and argv[1] in hosts():
        h, readme = hosts()[argv[1]]
        h.write(argv[2], readme)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
