#!/usr/bin/env python3
"""Builds the host trees of the simulated fleet (tests/integration/ansible_fleet.sh): ten hosts of
different shapes (1, 2 or 4 sockets, 12..48 cores per node, with and without SMT, 16..128 GiB per
node), no hugepages reserved, no SR-IOV NIC. Together they hold 531 dedicated cores for VNFs (one
core per node is kept for the host).

    mkfleet.py OUT_DIR     writes OUT_DIR/host01 .. OUT_DIR/host10
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import mkhost  # noqa: E402

# (sockets, cores per node, SMT threads, GiB per node)
SHAPES = [
    (2, 48, 2, 128),
    (2, 24, 2, 64),
    (1, 48, 2, 96),
    (2, 16, 1, 32),
    (4, 12, 2, 32),
    (1, 64, 1, 128),
    (2, 40, 2, 64),
    (2, 20, 2, 48),
    (1, 32, 2, 16),
    (4, 16, 1, 32),
]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    for i, (sockets, cores, threads, gib) in enumerate(SHAPES, start=1):
        h = mkhost.Host("fleet host %d" % i, sockets=sockets, cores_per_node=cores, threads=threads,
                        node_mem_kib=gib * 1024 * 1024, hugepages={}, hugetlbfs=[])
        h.write(os.path.join(argv[1], "host%02d" % i),
                "Simulated fleet host %d: %d socket(s) x %d cores x %d thread(s), %d GiB per node, no hugepages, "
                "no SR-IOV NIC." % (i, sockets, cores, threads, gib))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
