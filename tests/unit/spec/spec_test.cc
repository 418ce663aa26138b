#include <gtest/gtest.h>

#include "spec/load.h"

namespace vnf {
namespace {

std::string errorOf(const std::string& yaml) {
  auto spec = parseSpecYaml(yaml, "fw.yaml");
  EXPECT_FALSE(spec) << "expected an error for:\n" << yaml;
  return spec ? "" : spec.error().message;
}

TEST(Spec, FullSpecParses) {
  auto spec = parseSpecYaml(R"(name: fw1
vcpus: 4
memory: 8G
hugepages: 2M
cpu_policy: dedicated
smt_policy: isolate
emulator_threads: share
numa_affinity: preferred
profile: default
count: 2
nics:
  - pf: ens2f0
    vf: 3
    mac: 52:54:00:00:00:01
    vlan: 100
    mtu: 9000
    trust: true
    spoofchk: off
  - pf: 0000:81:00.1
    mode: hostdev
taps:
  - tap: vnf0a
management:
  bridge: br0
guest:
  kernel: /var/lib/vnfctl/vmlinuz
  initrd: /var/lib/vnfctl/initrd.img
  cmdline: console=ttyS0
  forwarder:
    mode: macswap
    peer_macs: [52:54:00:00:00:02, 52:54:00:00:00:03]
)",
                            "fw.yaml");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->memory_mib, 8192u);
  EXPECT_EQ(spec->page_size_kib, 2048u);
  EXPECT_EQ(spec->smt_policy, SmtPolicy::kIsolate);
  EXPECT_EQ(spec->emulator_policy, EmulatorPolicy::kShare);
  EXPECT_EQ(spec->numa_affinity, NumaAffinity::kPreferred);
  ASSERT_EQ(spec->nics.size(), 2u);
  EXPECT_EQ(spec->nics[0].vf, 3);
  EXPECT_EQ(spec->nics[0].vlan, 100);
  EXPECT_EQ(spec->nics[0].trust, true);
  EXPECT_EQ(spec->nics[0].spoofchk, false);
  EXPECT_TRUE(spec->nics[1].hostdev);
  EXPECT_EQ(spec->mgmt->kind, MgmtNicSpec::Kind::kBridge);
  EXPECT_EQ(spec->guest.forwarder_mode, "macswap");
  auto instances = expandCount(*spec);
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[0].name, "fw1-1");
  EXPECT_EQ(instances[1].name, "fw1-2");
  EXPECT_FALSE(instances[1].nics[0].mac) << "a fixed MAC cannot be shared by several instances";
  EXPECT_NE(specHash(instances[0]), specHash(instances[1]));
  EXPECT_EQ(specHash(instances[0]), specHash(expandCount(*spec)[0])) << "hash is stable";
}

TEST(Spec, DefaultsAreNfvDefaults) {
  auto spec = parseSpecYaml("name: fw1\n", "fw.yaml");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->vcpus, 2);
  EXPECT_EQ(spec->page_size_kib, 1048576u);
  EXPECT_EQ(spec->cpu_policy, CpuPolicy::kDedicated);
  EXPECT_EQ(spec->smt_policy, SmtPolicy::kPrefer);
  EXPECT_EQ(spec->emulator_policy, EmulatorPolicy::kIsolate);
  EXPECT_EQ(spec->numa_affinity, NumaAffinity::kRequired);
}

TEST(Spec, UnknownKeysSuggestAndLocate) {
  auto m = errorOf("name: fw1\nvcpu: 4\nnics:\n  - pf: ens2f0\n    valn: 10\n");
  EXPECT_NE(m.find("fw.yaml:2:1: unknown key 'vcpu': did you mean 'vcpus'?"), std::string::npos) << m;
  EXPECT_NE(m.find("fw.yaml:5:5: unknown key 'valn': did you mean 'vlan'?"), std::string::npos) << m;
  EXPECT_NE(m.find("fw.yaml has 2 problems"), std::string::npos) << m;
}

TEST(Spec, EveryProblemIsReportedAtOnce) {
  auto m = errorOf("name: fw/1\nvcpus: 0\nmemory: 1500M\nnics:\n  - pf: ens2f0\n    vlan: 4095\n    mac: 01:00:5e:00:00:01\n    mtu: 67\n");
  for (const char* part :
       {"fw.yaml:2:8: vcpus: expected an integer 1..1024, found '0'",
        "fw.yaml:6:11: nics[0].vlan: expected an integer 1..4094, found '4095'; VLAN 0 means untagged: leave vlan out",
        "fw.yaml:8:10: nics[0].mtu: expected an integer 68..9216, found '67'",
        "name: 'fw/1' has the character '/'; names may use only letters, digits, '.', '_' and '-'",
        "memory: 1500 MiB is not a multiple of the 1G hugepage size; use 1024 MiB or 2048 MiB",
        "nics[0].mac: 01:00:5e:00:00:01 is a multicast MAC"}) {
    EXPECT_NE(m.find(part), std::string::npos) << "missing: " << part << "\nin:\n" << m;
  }
}

struct BadCase {
  const char* yaml;
  const char* message;
};

class BadSpec : public testing::TestWithParam<BadCase> {};

TEST_P(BadSpec, GivesAClearMessage) {
  auto m = errorOf(GetParam().yaml);
  EXPECT_NE(m.find(GetParam().message), std::string::npos) << m;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadSpec,
    testing::Values(
        BadCase{"name: 'a<b>&c'\n", "name: 'a<b>&c' has the character '<'"},
        BadCase{"name: .hidden\n", "name: '.hidden' must start with a letter or a digit"},
        BadCase{"name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "is 50 characters, the limit is 48"},
        BadCase{"name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ncount: 10\n",
                "is 46 characters, the limit is 45 (with room for the -N suffix of count)"},
        BadCase{"name: fw\nmemory: 512M\n", "memory: 512 MiB is smaller than one 1G hugepage; use at least 1024 MiB or hugepages: 2M"},
        BadCase{"name: fw\nmemory: 3M\nhugepages: 2M\n", "memory: 3 MiB is not a multiple of the 2M hugepage size; use 2 MiB or 4 MiB"},
        BadCase{"name: fw\nmemory: lots\n", "memory: expected a size such as 4G or 4096M (MiB when no unit), found 'lots'"},
        BadCase{"name: fw\nnics:\n  - pf: x\n    mac: 52:54:00:zz:00:01\n", "nics[0].mac: '52:54:00:zz:00:01' is not a MAC address"},
        BadCase{"name: fw\nnics:\n  - pf: x\n    mac: 00:00:00:00:00:00\n", "00:00:00:00:00:00 is not a usable MAC"},
        BadCase{"name: fw\nnics:\n  - vlan: 3\n", "nics: each NIC needs 'pf'"},
        BadCase{"name: fw\nnics:\n  - pf: x\n    mode: hostdev\n    vlan: 3\n", "mode hostdev passes the VF as a bare PCI device"},
        BadCase{"name: fw\nsmt_policy: isolated\n", "smt_policy: 'isolated' is not one of prefer, isolate, require; did you mean 'isolate'?"},
        BadCase{"name: fw\ntaps:\n  - tap: a-very-long-tap-name0\n", "taps[0].tap: 'a-very-long-tap-name0' is not a Linux interface name"},
        BadCase{"name: fw\nmanagement: {network: default, bridge: br0}\n", "management: give either network or bridge, not both"},
        BadCase{"name: fw\nguest: {disk: /a.qcow2, kernel: /vmlinuz}\n", "guest: give either disk or kernel (+initrd), not both"},
        BadCase{"name: [fw\n", "not valid YAML"},
        BadCase{"- just a list\n", "expected a map of VNF settings"},
        BadCase{"vcpus: 2\n", "name: missing; every VNF needs a name"},
        BadCase{"name: fw\ncount: 0\n", "count: expected an integer 1..1000, found '0'"}));

TEST(Spec, MissingFileNamesIt) {
  auto spec = loadSpecFile("/nonexistent/fw.yaml");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, "cannot read VNF spec /nonexistent/fw.yaml: No such file or directory");
}

TEST(DidYouMean, OnlyCloseWords) {
  EXPECT_EQ(didYouMean("vcpu", {"vcpus", "memory"}), "did you mean 'vcpus'?");
  EXPECT_EQ(didYouMean("zzzzzz", {"vcpus", "memory"}), "");
}

// A spec with data ports and no forwarder boots (io), mac mode needs a peer per port.
TEST(Spec, ForwarderModeDefaultsAndPeerMacsOnePerPort) {
  auto plain = parseSpecYaml("name: fw1\ntaps:\n  - tap: a\n  - tap: b\n", "fw.yaml");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->guest.forwarder_mode, "") << "the manifest turns it into io (no peers) or mac (peers)";
  auto few = parseSpecYaml(
      "name: fw1\ntaps:\n  - tap: a\n  - tap: b\nguest:\n  forwarder:\n    peer_macs: [02:00:00:00:00:01]\n", "fw.yaml");
  ASSERT_FALSE(few);
  EXPECT_EQ(few.error().message,
            "fw.yaml has 1 problem:\n  fw.yaml:6:3: guest.forwarder.peer_macs: 1 MAC for 2 data ports (interface-mode "
            "nics, then taps); give one per port");
  auto mac = parseSpecYaml("name: fw1\ntaps:\n  - tap: a\nguest:\n  forwarder:\n    mode: mac\n", "fw.yaml");
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().message,
            "fw.yaml has 1 problem:\n  fw.yaml:5:3: guest.forwarder.mode: mac rewrites each frame's destination to the "
            "port's peer, and peer_macs is empty; give peer_macs (one per port), or use mode io or macswap");
}

}  // namespace
}  // namespace vnf
