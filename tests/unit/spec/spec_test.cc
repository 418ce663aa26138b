#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/text.h"
#include "spec/load.h"
#include "tests/unit/test_util.h"

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
management:
  bridge: br0
  mac: 52:54:00:00:00:09
guest:
  kernel: /var/lib/vnfctl/vmlinuz
  initrd: /var/lib/vnfctl/initrd.img
  cmdline: console=ttyS0
  forwarder:
    mode: macswap
    peer_macs: [52:54:00:00:00:02]
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
  EXPECT_FALSE(instances[1].nics[0].vf) << "nor a VF";
  EXPECT_FALSE(instances[0].mgmt->mac) << "nor the management NIC's MAC";
  EXPECT_EQ(spec->mgmt->mac, parseMacText("52:54:00:00:00:09"));
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
  auto m = errorOf(
      "name: fw/1\nvcpus: 0\nmemory: 1500M\nnics:\n  - pf: ens2f0\n    vlan: 4095\n    mac: 01:00:5e:00:00:01\n    "
      "mtu: 67\n");
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
        BadCase{"name: fw\nmemory: 512M\n",
                "memory: 512 MiB is smaller than one 1G hugepage; use at least 1024 MiB or hugepages: 2M"},
        BadCase{"name: fw\nmemory: 3M\nhugepages: 2M\n",
                "memory: 3 MiB is not a multiple of the 2M hugepage size; use 2 MiB or 4 MiB"},
        BadCase{"name: fw\nmemory: lots\n",
                "memory: expected a size such as 4G or 4096M (MiB when no unit), found 'lots'"},
        BadCase{"name: fw\nnics:\n  - pf: x\n    mac: 52:54:00:zz:00:01\n",
                "nics[0].mac: '52:54:00:zz:00:01' is not a MAC address"},
        BadCase{"name: fw\nnics:\n  - pf: x\n    mac: 00:00:00:00:00:00\n", "00:00:00:00:00:00 is not a usable MAC"},
        BadCase{"name: fw\nnics:\n  - vlan: 3\n", "nics: each NIC needs 'pf'"},
        BadCase{"name: fw\nnics:\n  - pf: x\n    mode: hostdev\n    vlan: 3\n",
                "mode hostdev passes the VF as a bare PCI device"},
        BadCase{"name: fw\nsmt_policy: isolated\n",
                "smt_policy: 'isolated' is not one of prefer, isolate, require; did you mean 'isolate'?"},
        BadCase{"name: fw\ntaps:\n  - tap: a-very-long-tap-name0\n",
                "taps[0].tap: 'a-very-long-tap-name0' is not a Linux interface name"},
        BadCase{"name: fw\ncount: 3\ntaps:\n  - tap: t0\n",
                "taps[0].tap: 't0' is one host device and count 3 instances cannot share it"},
        BadCase{"name: fw\nmanagement: {network: default, bridge: br0}\n",
                "management: give either network or bridge, not both"},
        BadCase{"name: fw\nguest: {disk: /a.qcow2, kernel: /vmlinuz}\n",
                "guest: give either disk or kernel (+initrd), not both"},
        BadCase{"name: [fw\n", "not valid YAML"}, BadCase{"- just a list\n", "expected a map of VNF settings"},
        BadCase{"vcpus: 2\n", "name: missing; every VNF needs a name"},
        BadCase{"name: fw\ncount: 0\n", "count: expected an integer 1..1000, found '0'"},
        BadCase{"name: fw\nguest: {firmware: uefi}\n",
                "guest.firmware: 'uefi' is not a firmware: use auto, bios, qboot or the path of a ROM file (a name "
                "with a '/', such as /usr/share/qemu/qboot.rom or ./my.rom)"},
        BadCase{"name: fw\nguest: {firmware: qboot, disk: /a.qcow2}\n",
                "guest.firmware: qboot boots only a kernel given directly (guest.kernel), not guest.disk; use "
                "firmware: bios (or auto) with a disk"},
        BadCase{"name: fw\nguest: {firmware: qbot}\n",
                "guest.firmware: 'qbot' is not a firmware: use auto, bios, "
                "qboot or the path of a ROM file (a name with a '/', such as /usr/share/qemu/qboot.rom or ./my.rom); "
                "did you mean 'qboot'?"},
        BadCase{"name: fw\nguest: {fast_boot: maybe}\n", "guest.fast_boot: expected true or false, found 'maybe'"},
        BadCase{"name: fw\nguest: {fast_boot: [true]}\n", "guest.fast_boot"},
        BadCase{"name: fw\nguest: {forwarder: {rx_descriptors: 1000}}\n",
                "guest.forwarder.rx_descriptors: 1000 is not a power of two (the guest's NIC drivers take ring sizes "
                "in steps of up to 32): use 512 or 1024"},
        BadCase{"name: fw\nguest: {forwarder: {rx_descriptors: 32}}\n",
                "guest.forwarder.rx_descriptors: expected an integer 64..4096, found '32'; 1024 is vnf-fwd's "
                "default; 256 or 512 for small VNFs"},
        BadCase{"name: fw\nguest: {forwarder: {tx_descriptors: 8192}}\n",
                "guest.forwarder.tx_descriptors: expected an integer 64..4096, found '8192'"},
        BadCase{"name: fw\nguest: {forwarder: {tx_descriptors: 99999999999999999999}}\n",
                "guest.forwarder.tx_descriptors: expected an integer 64..4096"},
        BadCase{"name: fw\nguest: {forwarder: {tx_descriptors: -64}}\n",
                "guest.forwarder.tx_descriptors: expected an integer 64..4096, found '-64'"},
        BadCase{"name: fw\nguest: {forwarder: {rx_descriptors: [256]}}\n", "guest.forwarder.rx_descriptors"},
        BadCase{"name: fw\nguest: {forwarder: {rx_descriptor: 256}}\n", "did you mean 'rx_descriptors'?"},
        BadCase{"name: fw\nguest: {firmwre: bios}\n", "did you mean 'firmware'?"}));

TEST(Spec, ForwarderDescriptorsArePowersOfTwoWithinWhatTheGuestDriversTake) {
  auto none = parseSpecYaml("name: fw\nguest: {forwarder: {mode: io}}\n", "t.yaml");
  ASSERT_TRUE(none) << none.error().str();
  EXPECT_FALSE(none->guest.rx_descriptors);
  EXPECT_FALSE(none->guest.tx_descriptors);
  for (int n : {64, 128, 256, 1024, 4096}) {
    auto s = parseSpecYaml(
        fmt::format("name: fw\nguest: {{forwarder: {{rx_descriptors: {}, tx_descriptors: {}}}}}\n", n, 4096 / n * 64),
        "t.yaml");
    ASSERT_TRUE(s) << n << ": " << s.error().str();
    EXPECT_EQ(s->guest.rx_descriptors, n);
    EXPECT_EQ(s->guest.tx_descriptors, 4096 / n * 64);
  }
  // Both wrong: both reported at once.
  auto both = parseSpecYaml("name: fw\nguest: {forwarder: {rx_descriptors: 100, tx_descriptors: 5000}}\n", "t.yaml");
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().str().find("rx_descriptors: 100 is not a power of two"), std::string::npos)
      << both.error().str();
  EXPECT_NE(both.error().str().find("tx_descriptors: expected an integer 64..4096, found '5000'"), std::string::npos)
      << both.error().str();
}

TEST(Spec, FirmwareAndFastBoot) {
  auto fw = parseSpecYaml("name: fw\nguest: {firmware: auto}\n", "t.yaml");
  ASSERT_TRUE(fw) << fw.error().str();
  EXPECT_EQ(fw->guest.firmware, "") << "auto is the default, stored as empty";
  EXPECT_FALSE(fw->guest.fast_boot);
  for (const std::string f : {"bios", "qboot", "/usr/share/qemu/qboot.rom", "./roms/my.rom"}) {
    auto s = parseSpecYaml("name: fw\nguest: {kernel: /k, firmware: '" + f + "', fast_boot: true}\n", "t.yaml");
    ASSERT_TRUE(s) << f << ": " << s.error().str();
    EXPECT_EQ(s->guest.firmware, f);
    EXPECT_TRUE(s->guest.fast_boot);
  }
  auto dir = test::makeTempDir("spec-fw");
  test::writeFile(dir / "fw.yaml", "name: fw\nguest: {firmware: roms/q.rom}\n");
  auto rel = loadSpecFile((dir / "fw.yaml").string());
  ASSERT_TRUE(rel) << rel.error().str();
  EXPECT_EQ(rel->guest.firmware, (dir / "roms" / "q.rom").string()) << "a ROM path is relative to the spec file";
  std::filesystem::remove_all(dir);
}

TEST(Spec, MissingFileNamesIt) {
  auto spec = loadSpecFile("/nonexistent/fw.yaml");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, "VNF spec /nonexistent/fw.yaml does not exist");
  EXPECT_EQ(spec.error().fix, "check the path: ls -l /nonexistent");
  EXPECT_EQ(spec.error().code, Errc::kInvalidArgument);
}

TEST(Spec, ADeviceIsRefusedBeforeItIsRead) {
  auto spec = loadSpecFile("/dev/zero");  // would never end if read
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, "VNF spec /dev/zero is a character device, not a regular file");
}

TEST(Spec, AFileOverOneMibIsRefused) {
  auto dir = test::makeTempDir("spec-big");
  test::writeFile(dir / "fw.yaml", "name: fw\n" + std::string(kMaxSpecFileBytes, '#'));
  auto spec = loadSpecFile((dir / "fw.yaml").string());
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message,
            "VNF spec " + (dir / "fw.yaml").string() + " is 1048585 bytes, the limit is 1048576 bytes (1 MiB)");
  std::filesystem::remove_all(dir);
}

TEST(Spec, ADuplicateKeyAtAnyLevelIsAProblem) {
  EXPECT_EQ(errorOf("name: fw\nvcpus: 2\nvcpus: 4\nnics:\n  - pf: a\n    vlan: 3\n    vlan: 4\n"),
            "fw.yaml has 2 problems:\n"
            "  fw.yaml:3:1: duplicate key 'vcpus' (first given at line 2); remove one of them\n"
            "  fw.yaml:7:5: duplicate key 'vlan' (first given at line 6); remove one of them");
  EXPECT_EQ(errorOf("name: fw\nguest:\n  forwarder: {mode: io, mode: mac}\n"),
            "fw.yaml has 1 problem:\n"
            "  fw.yaml:3:25: duplicate key 'mode' (first given at line 3); remove one of them");
}

TEST(Spec, ASecondDocumentIsAProblem) {
  EXPECT_EQ(errorOf("name: fw1\n---\nname: fw2\n"),
            "fw.yaml has 1 problem:\n"
            "  fw.yaml:3:1: a second YAML document ('---'); a spec file describes one VNF: put each VNF in its own "
            "file");
  // A trailing '---' with nothing after it is not a second document.
  EXPECT_TRUE(parseSpecYaml("name: fw1\n---\n# the end\n", "fw.yaml"));
}

TEST(Spec, DuplicateMacsAndTapsAreProblems) {
  auto m = errorOf(
      "name: fw\nhugepages: none\n"
      "nics:\n  - {pf: a, mac: '52:54:00:00:00:01'}\n  - {pf: b, mac: '52:54:00:00:00:01'}\n"
      "taps:\n  - {tap: t0, mac: '52:54:00:00:00:02'}\n  - {tap: t0, mac: '52:54:00:00:00:01'}\n"
      "management: {network: default, mac: '52:54:00:00:00:02'}\n"
      "guest:\n  forwarder: {peer_macs: ['52:54:00:00:00:03', '52:54:00:00:00:03', '02:00:00:00:00:04', "
      "'02:00:00:00:00:05']}\n");
  EXPECT_EQ(m,
            "fw.yaml has 5 problems:\n"
            "  fw.yaml:4:3: nics[1].mac: 52:54:00:00:00:01 is also nics[0].mac; every MAC must be different: change "
            "one of them, or leave mac out to get one generated\n"
            "  fw.yaml:7:3: taps[1].mac: 52:54:00:00:00:01 is also nics[0].mac; every MAC must be different: change "
            "one of them, or leave mac out to get one generated\n"
            "  fw.yaml:7:3: taps[1].tap: tap 't0' is also taps[0].tap; each data NIC needs its own tap device\n"
            "  fw.yaml:9:13: management.mac: 52:54:00:00:00:02 is also taps[0].mac; every MAC must be different: "
            "change one of them, or leave mac out to get one generated\n"
            "  fw.yaml:11:3: guest.forwarder.peer_macs[1]: 52:54:00:00:00:03 is also guest.forwarder.peer_macs[0]; "
            "every MAC must be different: change one of them, or leave mac out to get one generated");
}

TEST(Spec, OnlyTheFirstTwentyProblemsAreListed) {
  std::string yaml = "name: fw\n";
  for (int i = 0; i < 50; ++i) yaml += "zz" + std::to_string(i) + ": 1\n";
  std::string want = "fw.yaml has 50 problems:";
  for (int i = 0; i < 20; ++i) {
    want += "\n  fw.yaml:" + std::to_string(i + 2) + ":1: unknown key 'zz" + std::to_string(i) +
            "'; a VNF spec takes: name, vcpus, memory, hugepages, cpu_policy, smt_policy, emulator_threads, "
            "numa_affinity, nics, taps, management, profile, guest, count";
  }
  want += "\n  ... and 30 more problems";
  EXPECT_EQ(errorOf(yaml), want);
}

TEST(Spec, RelativePathsResolveFromTheSpecFilesFolder) {
  auto dir = test::makeTempDir("spec-rel");
  test::writeFile(dir / "specs" / "fw.yaml",
                  "name: fw\nprofile: ../tmpl/mine.xml\nguest:\n  kernel: vmlinuz\n  initrd: ./img/../img/initrd\n");
  test::writeFile(dir / "specs" / "disk.yaml", "name: d\nprofile: dpdk-fwd\nguest:\n  disk: /abs/disk.qcow2\n");
  test::writeFile(dir / "specs" / "rel-disk.yaml", "name: d\nguest:\n  disk: disks/d.qcow2\n");
  // A relative spec path too: the folder is made absolute from the current directory.
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  auto fw = loadSpecFile("specs/fw.yaml");
  auto disk = loadSpecFile("specs/disk.yaml");
  auto rel_disk = loadSpecFile("specs/rel-disk.yaml");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(fw) << fw.error().str();
  ASSERT_TRUE(disk) << disk.error().str();
  ASSERT_TRUE(rel_disk) << rel_disk.error().str();
  EXPECT_EQ(fw->profile, (dir / "tmpl" / "mine.xml").string());
  EXPECT_EQ(fw->guest.kernel, (dir / "specs" / "vmlinuz").string());
  EXPECT_EQ(fw->guest.initrd, (dir / "specs" / "img" / "initrd").string());
  EXPECT_EQ(disk->profile, "dpdk-fwd");  // a profile name, not a path
  EXPECT_EQ(disk->guest.disk, "/abs/disk.qcow2");
  EXPECT_EQ(rel_disk->guest.disk, (dir / "specs" / "disks" / "d.qcow2").string());
  std::filesystem::remove_all(dir);
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
      "name: fw1\ntaps:\n  - tap: a\n  - tap: b\nguest:\n  forwarder:\n    peer_macs: [02:00:00:00:00:01]\n",
      "fw.yaml");
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
