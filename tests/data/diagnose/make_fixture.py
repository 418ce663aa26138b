#!/usr/bin/env python3
"""Writes a diagnose fixture: a host tree (what `vnfctl --host-root` reads) plus a recorded-answers
file and domain XMLs (what `vnfctl diagnose --answers` replays). Checked in as generated, so a
reviewer reads the files and the test reads no generator.

  make_fixture.py faults OUT      the fault fixture (2node-igb-faults: one VNF per fault, one healthy)
  make_fixture.py bench N OUT     N healthy VNFs on 4 PFs with VFs, for bench/run-diagnose
"""
import json
import os
import sys

def w(root, path, text):
    full = os.path.join(root, path.lstrip('/'))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as f:
        f.write(text if text.endswith('\n') else text + '\n')

def mkdir(root, path):
    os.makedirs(os.path.join(root, path.lstrip('/')), exist_ok=True)

def fill_empty(root):
    # git keeps no empty folders, and discovery looks at some (a PF's net/NAME, an IOMMU group's
    # members): give each one the "uevent" file every sysfs folder has (as tests/tools/mkhost.py does).
    for d, subdirs, files in os.walk(root):
        if not subdirs and not files and not os.path.islink(d):
            w(root, os.path.relpath(os.path.join(d, 'uevent'), root), '')

def domain_xml(name, node, vcpus, vfs, taps=(), serial=True):
    pins = ''.join(f'<vnfctl:vcpupin vcpu="{i}" cpu="{c}"/>' for i, c in enumerate(vcpus))
    vf = ''
    for v in vfs:
        extra = ''.join(f' {k}="{v[k]}"' for k in ('vlan', 'mtu') if k in v)
        vf += (f'<vnfctl:vf nic="{v["nic"]}" pf="{v["pf"]}" address="{v["vf"]}" index="{v["index"]}" '
               f'driver="vfio-pci"{extra}/>')
    ifs = ''
    for t in taps:
        mtu = f'<mtu size="{t["mtu"]}"/>' if 'mtu' in t else ''
        ifs += (f'<interface type="ethernet"><mac address="52:54:00:00:00:01"/>'
                f'<target dev="{t["dev"]}" managed="no"/><model type="virtio"/>{mtu}</interface>')
    ser = (f'<serial type="file"><source path="/var/log/vnfctl/{name}.serial.log"/><target port="0"/></serial>'
           if serial else '')
    return (f'<domain type="kvm"><name>{name}</name><memory unit="KiB">1048576</memory>'
            f'<metadata><vnfctl:vnf xmlns:vnfctl="urn:vnfctl:domain:1"><vnfctl:spec hash="0123456789abcdef"/>'
            f'<vnfctl:tool version="0.1.0"/><vnfctl:image hash=""/>'
            f'<vnfctl:placement node="{node}" memory-kib="1048576" page-size-kib="2048" hugepages="512">{pins}'
            f'<vnfctl:emulatorpin cpus="{vcpus[0]}"/></vnfctl:placement>{vf}</vnfctl:vnf></metadata>'
            f'<vcpu>{len(vcpus)}</vcpu><os><type arch="x86_64">hvm</type></os>'
            f'<devices>{ifs}{ser}</devices></domain>\n')

def host(root, nodes, pfs):
    """nodes: {node: 'cpulist'}; pfs: [(pci, netdev, node, mtu, irqs)]."""
    ncpu = 0
    for n, cpus in nodes.items():
        w(root, f'/sys/devices/system/node/node{n}/cpulist', cpus)
        lo, hi = map(int, cpus.split('-'))
        ncpu = max(ncpu, hi + 1)
    for c in range(ncpu):
        w(root, f'/sys/devices/system/cpu/cpu{c}/thermal_throttle/core_throttle_count', '0')
        w(root, f'/sys/devices/system/cpu/cpu{c}/thermal_throttle/package_throttle_count', '0')
    for pci, dev, node, mtu, irqs in pfs:
        mkdir(root, f'/sys/bus/pci/devices/{pci}/net/{dev}')
        w(root, f'/sys/bus/pci/devices/{pci}/numa_node', str(node))
        w(root, f'/sys/class/net/{dev}/mtu', str(mtu))
        for irq, aff in irqs:
            w(root, f'/sys/bus/pci/devices/{pci}/msi_irqs/{irq}', 'msix')
            w(root, f'/proc/irq/{irq}/smp_affinity_list', aff)

def vf_dev(root, vf, node, group_members=None):
    w(root, f'/sys/bus/pci/devices/{vf}/numa_node', str(node))
    for m in group_members or [vf]:
        mkdir(root, f'/sys/bus/pci/devices/{vf}/iommu_group/devices/{m}')

def qemu(root, name, pid, cpus, numa_pages):
    w(root, f'/run/libvirt/qemu/{name}.pid', str(pid))
    threads = [('qemu-system-x86', cpus[0]), ('CPU 0/KVM', cpus[0]), ('CPU 1/KVM', cpus[-1])]
    for i, (comm, cpu) in enumerate(threads):
        tid = pid + i
        w(root, f'/proc/{pid}/task/{tid}/comm', comm)
        w(root, f'/proc/{pid}/task/{tid}/status', f'Name:\t{comm}\nCpus_allowed_list:\t{cpu}\n')
    nodes = ' '.join(f'N{n}={p}' for n, p in numa_pages.items())
    w(root, f'/proc/{pid}/numa_maps',
      f'7f0000000000 bind:1 file=/dev/hugepages/libvirt/qemu/x huge dirty=512 {nodes} kernelpagesize_kB=2048')

SIZE_CLASSES = ['64', '65-127', '128-255', '256-511', '512-1023', '1024-1518', '1519-max']

def fwd_stats(rx, tx, extra=None, vlans=None, big=0):
    """One guest port as vnf-fwd's stats channel reports it (guest/fwd/README.md): vlans {id: frames}
    (the rest of rx untagged), big: frames of the 1519-max size class (the rest 64-byte)."""
    vlans = vlans or {}
    p = {'index': 0, 'mac': '52:54:00:00:00:01', 'mtu': 9000, 'rx': rx, 'tx': tx, 'drops': 0, 'mtu_drops': 0,
         'imissed': 0, 'rx_nombuf': 0, 'tx_full_drops': 0, 'rxd': 1024, 'txd': 1024,
         'untagged': rx - sum(vlans.values()),
         'vlans': [{'vlan': v, 'frames': n} for v, n in sorted(vlans.items())],
         'sizes': [{'class': c, 'frames': (rx - big if c == '64' else big if c == '1519-max' else 0)}
                   for c in SIZE_CLASSES]}
    p.update(extra or {})
    return 'VNF-FWD STATS ' + json.dumps({'mode': 'macswap', 'uptime_s': 100, 'ports': [p]})

def faults(out):
    root = os.path.join(out, 'root')
    host(root, {0: '0-3', 1: '4-7'}, [
        ('0000:81:00.0', 'ens1f0', 1, 9000, [(40, '4-7'), (41, '4-7'), (42, '0-3')]),
        ('0000:82:00.0', 'ens2f0', 1, 1500, [(50, '4-7')]),
        ('0000:83:00.0', 'ens3f0', 1, 9000, [(60, '4-7'), (61, '4-7')]),
    ])
    # A throttling CPU (counts grow during the sample: later_files) and a hot package.
    w(root, '/sys/devices/system/cpu/cpu5/thermal_throttle/core_throttle_count', '12')
    w(root, '/sys/class/thermal/thermal_zone0/type', 'x86_pkg_temp')
    w(root, '/sys/class/thermal/thermal_zone0/temp', '99000')
    w(root, '/sys/class/thermal/thermal_zone0/trip_point_0_type', 'passive')
    w(root, '/sys/class/thermal/thermal_zone0/trip_point_0_temp', '95000')
    w(root, '/sys/class/hwmon/hwmon0/name', 'igb')
    w(root, '/sys/class/hwmon/hwmon0/temp1_input', '61000')
    w(root, '/sys/class/hwmon/hwmon0/temp1_max', '100000')
    # The tap VNF: tap vnf9a (spec MTU 9000) on bridge br9, whose other port eth9 has MTU 1500.
    w(root, '/sys/class/net/vnf9a/mtu', '9000')
    w(root, '/sys/class/net/br9/mtu', '1500')
    w(root, '/sys/class/net/eth9/mtu', '1500')
    mkdir(root, '/sys/class/net/br9/brif/vnf9a')
    mkdir(root, '/sys/class/net/br9/brif/eth9')
    os.makedirs(os.path.join(root, 'sys/devices/virtual/net/br9'), exist_ok=True)
    link = os.path.join(root, 'sys/class/net/vnf9a/master')
    if not os.path.islink(link):
        os.symlink('../../../devices/virtual/net/br9', link)
    w(root, '/proc/sys/net/bridge/bridge-nf-call-iptables', '1')
    # Legacy (xtables) iptables tables next to the nftables ruleset: diagnose cannot read their rules.
    w(root, '/proc/net/ip_tables_names', 'nat\nfilter')
    for vf, node in [('0000:83:10.0', 1), ('0000:83:10.1', 1), ('0000:83:10.2', 1), ('0000:83:10.3', 1),
                     ('0000:83:10.4', 1), ('0000:82:10.0', 1), ('0000:81:10.0', 1)]:
        vf_dev(root, vf, node, ['0000:83:10.1', '0000:83:00.0'] if vf == '0000:83:10.1' else None)

    vnfs = {
        'good': dict(node=1, vcpus=[4, 5], vfs=[dict(nic=0, pf='0000:83:00.0', vf='0000:83:10.0', index=0, vlan=100,
                                                       mtu=9000)]),
        'dmar': dict(node=1, vcpus=[6, 7], vfs=[dict(nic=0, pf='0000:83:00.0', vf='0000:83:10.1', index=1, vlan=101)]),
        'vlan': dict(node=1, vcpus=[4, 5], vfs=[dict(nic=0, pf='0000:83:00.0', vf='0000:83:10.2', index=2, vlan=200)]),
        'tagged': dict(node=1, vcpus=[6, 7], vfs=[dict(nic=0, pf='0000:83:00.0', vf='0000:83:10.4', index=4,
                                                         vlan=104)]),
        'remote': dict(node=0, vcpus=[2, 3], vfs=[dict(nic=0, pf='0000:83:00.0', vf='0000:83:10.3', index=3,
                                                         vlan=103)]),
        'jumbo': dict(node=1, vcpus=[6, 7], vfs=[dict(nic=0, pf='0000:82:00.0', vf='0000:82:10.0', index=0,
                                                        mtu=9000)]),
        'rings': dict(node=1, vcpus=[4, 5], vfs=[dict(nic=0, pf='0000:81:00.0', vf='0000:81:10.0', index=0)]),
        'taps': dict(node=1, vcpus=[6, 7], vfs=[], taps=[dict(dev='vnf9a', mtu=9000)]),
        'stopped': dict(node=1, vcpus=[4, 5], vfs=[]),
    }
    os.makedirs(os.path.join(out, 'domains'), exist_ok=True)
    domains = []
    for i, (name, v) in enumerate(vnfs.items()):
        with open(os.path.join(out, 'domains', f'{name}.xml'), 'w') as f:
            f.write(domain_xml(name, v['node'], v['vcpus'], v['vfs'], v.get('taps', ())))
        domains.append({'name': name, 'state': 'shut off' if name == 'stopped' else 'running',
                        'xml_file': f'domains/{name}.xml'})
        if name != 'stopped':
            pages = {0: 512} if v['node'] == 0 else {1: 512}
            qemu(root, name, 1000 * (i + 1), v['vcpus'], pages)
    quiet = {'rx_packets': 1000, 'rx_dropped': 0, 'rx_missed_errors': 0, 'tx_packets': 1000, 'tx_dropped': 0}
    busy0 = dict(quiet, rx_packets=1_000_000, rx_missed_errors=100)
    busy1 = dict(quiet, rx_packets=3_000_000, rx_missed_errors=5100)
    answers = {
        'schema': 'vnfctl.diagnose-answers/v1',
        'domains': domains,
        'vf_vlans': {'ens3f0': [{'index': 0, 'vlan': 100}, {'index': 1, 'vlan': 101}, {'index': 2, 'vlan': 300},
                                {'index': 3, 'vlan': 103}, {'index': 4, 'vlan': 0}],
                     'ens2f0': [{'index': 0, 'vlan': 0}], 'ens1f0': [{'index': 0, 'vlan': 0}]},
        'rings': {'ens1f0': {'rx': 256, 'rx_max': 4096, 'tx': 256, 'tx_max': 4096},
                  'ens2f0': {'rx': 4096, 'rx_max': 4096, 'tx': 4096, 'tx_max': 4096},
                  'ens3f0': {'rx': 4096, 'rx_max': 4096, 'tx': 4096, 'tx_max': 4096}},
        'features': dict({d: {'tx-udp_tnl-segmentation': True, 'rx-udp_tunnel-port-offload': True,
                              'rx-checksum': True, 'tx-checksum-ipv4': True} for d in ('ens2f0', 'ens3f0')},
                         # RX checksum offload and the tunnel offloads turned off on the rings VNF's PF.
                         ens1f0={'tx-udp_tnl-segmentation': False, 'rx-udp_tunnel-port-offload': False,
                                 'rx-checksum': False, 'tx-checksum-ipv4': True}),
        'nic_stats': {'ens1f0': [{'rx_packets': 1_000_000, 'rx_missed_errors': 100, 'rx_no_buffer_count': 7},
                                 {'rx_packets': 3_000_000, 'rx_missed_errors': 5100, 'rx_no_buffer_count': 7}],
                      'ens2f0': {'rx_packets': 5, 'rx_missed_errors': 0},
                      'ens3f0': {'rx_packets': 5, 'rx_missed_errors': 0}},
        'link_stats': {'ens1f0': [busy0, busy1], 'ens2f0': quiet, 'ens3f0': quiet,
                       # The guest sends back (rx) what it forwards (tx, port 0 paired with itself).
                       'vnf9a': [dict(quiet, tx_packets=500_000, tx_dropped=10, rx_packets=500_000),
                                 dict(quiet, tx_packets=900_000, tx_dropped=4010, rx_packets=896_000)]},
        # IFLA_VF_STATS: the rings VNF's VF receives 200000 packets/s and sends as many back; the
        # VFs of ens3f0 and ens2f0 are idle.
        'vf_stats': {'ens1f0': [{'0': {'rx_packets': 1_000_000, 'tx_packets': 1_000_000, 'rx_dropped': 0,
                                       'tx_dropped': 0}},
                                {'0': {'rx_packets': 1_400_000, 'tx_packets': 1_400_000, 'rx_dropped': 0,
                                       'tx_dropped': 0}}],
                     'ens2f0': {'0': {'rx_packets': 5, 'tx_packets': 5}},
                     'ens3f0': {str(i): {'rx_packets': 5, 'tx_packets': 5, 'rx_dropped': 0, 'tx_dropped': 0}
                                for i in range(5)}},
        'later_files': {'/sys/devices/system/cpu/cpu5/thermal_throttle/core_throttle_count': '30'},
        'serial_logs': {
            '/var/log/vnfctl/taps.serial.log': [
                'VNF-READY\nvnf-app: Ring Buffer Full on port 0\n' +
                fwd_stats(500_000, 500_000, {'imissed': 3, 'rxd': 64}),
                'VNF-READY\nvnf-app: Ring Buffer Full on port 0\n' +
                fwd_stats(896_000, 896_000, {'imissed': 3, 'rxd': 64})],
            '/var/log/vnfctl/good.serial.log': 'VNF-READY\n' + fwd_stats(10, 10),
            # The VF should tag and strip VLAN 104 but has no VLAN: the forwarder sees the tags.
            '/var/log/vnfctl/tagged.serial.log': 'VNF-READY\n' + fwd_stats(1000, 1000, vlans={104: 990}),
            # Jumbo frames offered to a guest port of MTU 1500: counted by size and dropped for MTU.
            '/var/log/vnfctl/jumbo.serial.log': 'VNF-READY\n' + fwd_stats(
                1000, 950, {'mtu': 1500, 'mtu_drops': 50, 'drops': 50}, big=50),
        },
        'kmsg': [
            'igb 0000:83:00.0: 4 VFs allocated',
            'DMAR: DRHD: handling fault status reg 2',
            'DMAR: [DMA Read NO_PASID] Request device [83:10.1] fault addr 0x7f3c2000 [fault reason 0x06] PTE Read '
            'access is not set',
            'DMAR: [DMA Read NO_PASID] Request device [83:10.1] fault addr 0x7f3c3000 [fault reason 0x06] PTE Read '
            'access is not set',
            'DMAR: [DMA Read NO_PASID] Request device [83:10.7] fault addr 0x1000 [fault reason 0x06] PTE Read access '
            'is not set',
        ],
        'nft': {'nftables': [
            {'metainfo': {'version': '1.0.6', 'json_schema_version': 1}},
            {'table': {'family': 'ip', 'name': 'filter', 'handle': 1}},
            {'chain': {'family': 'ip', 'table': 'filter', 'name': 'FORWARD', 'handle': 1, 'type': 'filter',
                       'hook': 'forward', 'prio': 0, 'policy': 'drop'}},
            # ufw's and Docker's first FORWARD rule: it accepts replies, no new flow of the VNF.
            {'rule': {'family': 'ip', 'table': 'filter', 'chain': 'FORWARD', 'handle': 4, 'expr': [
                {'match': {'op': 'in', 'left': {'ct': {'key': 'state'}}, 'right': ['established', 'related']}},
                {'counter': {'packets': 900, 'bytes': 90000}}, {'accept': None}]}},
            {'rule': {'family': 'ip', 'table': 'filter', 'chain': 'FORWARD', 'handle': 5, 'expr': [
                {'match': {'op': '==', 'left': {'meta': {'key': 'iifname'}}, 'right': 'vnf9a'}},
                {'counter': {'packets': 42, 'bytes': 4200}}, {'drop': None}]}},
            # iptables-nft -A FORWARD -o vnf9a -j REJECT: an xtables target in libnftables' JSON.
            {'rule': {'family': 'ip', 'table': 'filter', 'chain': 'FORWARD', 'handle': 6, 'expr': [
                {'match': {'op': '==', 'left': {'meta': {'key': 'oifname'}}, 'right': 'vnf9a'}},
                {'counter': {'packets': 3, 'bytes': 180}}, {'xt': {'type': 'target', 'name': 'REJECT'}}]}},
        ]},
    }
    fill_empty(root)
    with open(os.path.join(out, 'answers.json'), 'w') as f:
        json.dump(answers, f, indent=1)
        f.write('\n')
    with open(os.path.join(out, 'README.md'), 'w') as f:
        f.write('2node-igb-faults: a 2-node host (CPUs 0-3, 4-7), three igb PFs on node 1 (ens1f0 with 256-entry '
                'rings and growing rx_missed, ens2f0 at MTU 1500, ens3f0 healthy), and one VNF per fault: dmar '
                '(DMAR faults name its VF), vlan (VF VLAN 300, spec 200), remote (placed on node 0, VF on node 1), '
                'tagged (spec VLAN 104, the VF has none: the forwarder counts VLAN 104 tags), '
                'jumbo (spec MTU 9000 on the 1500 PF; the forwarder drops 50 frames of 1519+ bytes for MTU 1500), rings (small rings, missed counters, RX checksum and tunnel offloads off on ens1f0, VF statistics through IFLA_VF_STATS), taps (a 1500 bridge '
                'port in a 9000 path, a forward-drop rule with counter 42, an iptables-nft REJECT (xt target) with counter 3, a FORWARD policy drop that only a ct state accept precedes, br_netfilter on, tap tx_dropped and '
                '"Ring Buffer Full" in the serial log, a 64-descriptor forwarder RX ring), stopped (shut off); good has nothing wrong. CPU 5 throttles '
                'during the sample; the package is above its passive trip; legacy iptables tables nat and filter exist. Generated by ../make_fixture.py faults.\n')

def bench(n, out):
    root = os.path.join(out, 'root')
    pfs = [(f'0000:8{p}:00.0', f'ens{p}f0', p % 2, 9000, [(100 + p * 10 + q, '0-15' if p % 2 == 0 else '16-31')
                                                          for q in range(8)]) for p in range(4)]
    host(root, {0: '0-15', 1: '16-31'}, pfs)
    os.makedirs(os.path.join(out, 'domains'), exist_ok=True)
    domains, vlans, stats, logs = [], {}, {}, {}
    for i in range(n):
        p = i % 4
        node = p % 2
        vf = f'0000:8{p}:1{i // 32}.{(i // 4) % 8}'
        vf_dev(root, vf, node)
        name = f'vnf{i:02d}'
        cpus = [node * 16 + (i % 8) * 2, node * 16 + (i % 8) * 2 + 1]
        with open(os.path.join(out, 'domains', f'{name}.xml'), 'w') as f:
            f.write(domain_xml(name, node, cpus, [dict(nic=0, pf=pfs[p][0], vf=vf, index=i // 4, vlan=100 + i,
                                                       mtu=9000)]))
        domains.append({'name': name, 'state': 'running', 'xml_file': f'domains/{name}.xml'})
        vlans.setdefault(pfs[p][1], []).append({'index': i // 4, 'vlan': 100 + i})
        qemu(root, name, 2000 + i * 10, cpus, {node: 512})
        logs[f'/var/log/vnfctl/{name}.serial.log'] = 'VNF-READY\n' + fwd_stats(100, 100)
    for _, dev, _, _, _ in pfs:
        stats[dev] = {'rx_packets': 1, 'rx_missed_errors': 0}
    answers = {'schema': 'vnfctl.diagnose-answers/v1', 'domains': domains, 'vf_vlans': vlans,
               'rings': {d: {'rx': 4096, 'rx_max': 4096, 'tx': 4096, 'tx_max': 4096} for d in stats},
               'features': {d: {'tx-udp_tnl-segmentation': True, 'rx-udp_tunnel-port-offload': True,
                                'rx-checksum': True, 'tx-checksum-ipv4': True} for d in stats},
               'nic_stats': stats, 'link_stats': stats, 'serial_logs': logs,
               'kmsg': ['DMAR: IOMMU enabled'] * 2000, 'nft': {'nftables': []}}
    fill_empty(root)
    with open(os.path.join(out, 'answers.json'), 'w') as f:
        json.dump(answers, f)

if __name__ == '__main__':
    if sys.argv[1:2] == ['faults'] and len(sys.argv) == 3:
        faults(sys.argv[2])
    elif sys.argv[1:2] == ['bench'] and len(sys.argv) == 4:
        bench(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)
