// The rendered XML, element by element, for hand-built specs and placements.
#include <gtest/gtest.h>

#include "tests/unit/domain/fixtures.h"

namespace vnf::test {
namespace {

TEST(RenderCpu, DedicatedPinsEachVcpuAndTheEmulator) {
  auto xml = render(dedicatedSpec(), dedicatedPlacement());
  EXPECT_EQ(xpath(xml, "/domain/vcpu"), "4");
  EXPECT_EQ(xpath(xml, "/domain/vcpu/@placement"), "static");
  EXPECT_EQ(xpath(xml, "/domain/vcpu/@cpuset"), "2-5");
  EXPECT_EQ(xcount(xml, "/domain/cputune/vcpupin"), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(xpath(xml, "/domain/cputune/vcpupin[@vcpu='" + std::to_string(i) + "']/@cpuset"), std::to_string(2 + i));
  }
  EXPECT_EQ(xpath(xml, "/domain/cputune/emulatorpin/@cpuset"), "1");
  EXPECT_EQ(xpath(xml, "/domain/cpu/topology/@cores"), "4");
  EXPECT_EQ(xpath(xml, "/domain/cpu/topology/@threads"), "1");
}

TEST(RenderCpu, SmtPairsGiveTwoThreadsPerCore) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  p.vcpu_pins = {2, 18, 3, 19};  // siblings 2/18 and 3/19: guest cores of two threads
  p.guest_cores = 2;
  p.guest_threads = 2;
  auto xml = render(s, p);
  EXPECT_EQ(xpath(xml, "/domain/vcpu/@cpuset"), "2-3,18-19");
  EXPECT_EQ(xpath(xml, "/domain/cputune/vcpupin[@vcpu='1']/@cpuset"), "18");
  EXPECT_EQ(xpath(xml, "/domain/cputune/vcpupin[@vcpu='2']/@cpuset"), "3");
  EXPECT_EQ(xpath(xml,
                  "concat(/domain/cpu/topology/@sockets, /domain/cpu/topology/@dies, "
                  "/domain/cpu/topology/@cores, /domain/cpu/topology/@threads)"),
            "1122");
  EXPECT_EQ(xpath(xml, "/domain/cpu/numa/cell/@cpus"), "0-3");
}

TEST(RenderCpu, SharedPolicyFloatsOnTheSharedCpusWithoutVcpupin) {
  auto s = dedicatedSpec();
  s.cpu_policy = CpuPolicy::kShared;
  auto p = dedicatedPlacement();
  p.vcpu_pins.clear();
  p.shared_cpus = {0, 1, 2, 3, 4, 5, 6, 7};
  p.emulator_cpus = {0, 1, 2, 3, 4, 5, 6, 7};
  auto xml = render(s, p);
  EXPECT_EQ(xpath(xml, "/domain/vcpu/@cpuset"), "0-7");
  EXPECT_EQ(xcount(xml, "/domain/cputune/vcpupin"), 0);
  EXPECT_EQ(xpath(xml, "/domain/cputune/emulatorpin/@cpuset"), "0-7");
}

TEST(RenderCpu, NoEmulatorCpusAndNoPinsLeavesCputuneOut) {
  auto s = dedicatedSpec();
  s.cpu_policy = CpuPolicy::kShared;
  s.emulator_policy = EmulatorPolicy::kShare;
  auto p = dedicatedPlacement();
  p.vcpu_pins.clear();
  p.shared_cpus = {4, 5};
  p.emulator_cpus.clear();
  auto xml = render(s, p);
  EXPECT_EQ(xcount(xml, "/domain/cputune"), 0);
}

TEST(RenderCpu, KvmPassesTheHostCpuThroughAndTcgUsesMaximum) {
  auto kvm = render(dedicatedSpec(), dedicatedPlacement(), DomainType::kKvm);
  EXPECT_EQ(xpath(kvm, "/domain/@type"), "kvm");
  EXPECT_EQ(xpath(kvm, "/domain/cpu/@mode"), "host-passthrough");
  EXPECT_EQ(xpath(kvm, "/domain/cpu/@check"), "none");
  auto tcg = render(dedicatedSpec(), dedicatedPlacement(), DomainType::kQemu);
  EXPECT_EQ(xpath(tcg, "/domain/@type"), "qemu");
  EXPECT_EQ(xpath(tcg, "/domain/cpu/@mode"), "maximum");
  EXPECT_EQ(xcount(tcg, "/domain/cpu/@check"), 0);
}

TEST(RenderNuma, MemoryAndTheGuestCellAreStrictlyOnThePlacementNode) {
  auto p = dedicatedPlacement();
  p.node = 1;
  auto xml = render(dedicatedSpec(), p);
  EXPECT_EQ(xpath(xml, "/domain/numatune/memory/@mode"), "strict");
  EXPECT_EQ(xpath(xml, "/domain/numatune/memory/@nodeset"), "1");
  EXPECT_EQ(xpath(xml, "/domain/numatune/memnode[@cellid='0']/@nodeset"), "1");
  EXPECT_EQ(xpath(xml, "/domain/numatune/memnode/@mode"), "strict");
  EXPECT_EQ(xpath(xml, "/domain/cpu/numa/cell[@id='0']/@memory"), "4194304");
  EXPECT_EQ(xpath(xml, "/domain/cpu/numa/cell/@unit"), "KiB");
}

struct HugepageCase {
  std::uint64_t page_size_kib;
  std::uint64_t memory_kib;
};

class RenderHugepages : public testing::TestWithParam<HugepageCase> {};

TEST_P(RenderHugepages, PageSizeBacksGuestCellZero) {
  auto p = dedicatedPlacement();
  p.page_size_kib = GetParam().page_size_kib;
  p.memory_kib = GetParam().memory_kib;
  p.hugepages = p.page_size_kib ? p.memory_kib / p.page_size_kib : 0;
  auto xml = render(dedicatedSpec(), p);
  EXPECT_EQ(xpath(xml, "/domain/memory"), std::to_string(p.memory_kib));
  EXPECT_EQ(xpath(xml, "/domain/memory/@unit"), "KiB");
  EXPECT_EQ(xpath(xml, "/domain/currentMemory"), std::to_string(p.memory_kib));
  if (p.page_size_kib == 0) {
    EXPECT_EQ(xcount(xml, "/domain/memoryBacking"), 0);
  } else {
    EXPECT_EQ(xpath(xml, "/domain/memoryBacking/hugepages/page/@size"), std::to_string(p.page_size_kib));
    EXPECT_EQ(xpath(xml, "/domain/memoryBacking/hugepages/page/@unit"), "KiB");
    EXPECT_EQ(xpath(xml, "/domain/memoryBacking/hugepages/page/@nodeset"), "0");
  }
  EXPECT_EQ(xcount(xml, "/domain/memoryBacking/locked"), 0);
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:placement/@page-size-kib"), std::to_string(p.page_size_kib));
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:placement/@hugepages"), std::to_string(p.hugepages));
}

INSTANTIATE_TEST_SUITE_P(Sizes, RenderHugepages,
                         testing::Values(HugepageCase{1048576, 4194304}, HugepageCase{2048, 1048576},
                                         HugepageCase{0, 1048576}));

TEST(RenderNics, VfInterfaceCarriesMacVlanAndTrust) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  addVf(s, p, make<NicSpec>([](auto& n) {
          n.mac = mac("52:54:00:aa:bb:01");
          n.vlan = 100;
          n.trust = true;
          n.spoofchk = false;
        }),
        "0000:81:00.0", "0000:81:10.2", 1, "vfio-pci");
  addVf(s, p, {}, "0000:81:00.1", "0000:81:10.1", 0, "iavf");
  auto xml = render(s, p);
  ASSERT_EQ(xcount(xml, "/domain/devices/interface[@type='hostdev']"), 2);
  const std::string first = "/domain/devices/interface[@type='hostdev'][1]";
  EXPECT_EQ(xpath(xml, first + "/@managed"), "no");  // vnfctl bound it to vfio-pci
  EXPECT_EQ(xpath(xml, first + "/@trustGuestRxFilters"), "yes");
  EXPECT_EQ(xpath(xml, first + "/mac/@address"), "52:54:00:aa:bb:01");
  EXPECT_EQ(xpath(xml, first + "/source/address/@type"), "pci");
  EXPECT_EQ(xpath(xml, "concat(" + first + "/source/address/@domain, ' ', " + first + "/source/address/@bus, ' ', " +
                           first + "/source/address/@slot, ' ', " + first + "/source/address/@function)"),
            "0x0000 0x81 0x10 0x2");
  EXPECT_EQ(xpath(xml, first + "/vlan/tag/@id"), "100");
  const std::string second = "/domain/devices/interface[@type='hostdev'][2]";
  EXPECT_EQ(xpath(xml, second + "/@managed"), "yes");  // libvirt rebinds it from iavf
  EXPECT_EQ(xcount(xml, second + "/@trustGuestRxFilters"), 0);
  EXPECT_EQ(xcount(xml, second + "/vlan"), 0);
  EXPECT_EQ(xpath(xml, second + "/mac/@address"), formatMac(derivedMac(kUuid, "vf1")));
}

TEST(RenderNics, HostdevNicIsPlainPciPassthrough) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  addVf(s, p, make<NicSpec>([](auto& n) {
          n.vlan = 7;
          n.hostdev = true;
        }),
        "0000:3b:00.0", "0001:3b:02.7", 23, "vfio-pci");
  auto xml = render(s, p);
  EXPECT_EQ(xcount(xml, "/domain/devices/interface"), 0);
  EXPECT_EQ(xpath(xml, "/domain/devices/hostdev/@mode"), "subsystem");
  EXPECT_EQ(xpath(xml, "/domain/devices/hostdev/@type"), "pci");
  EXPECT_EQ(xpath(xml, "/domain/devices/hostdev/@managed"), "no");
  EXPECT_EQ(xpath(xml, "/domain/devices/hostdev/source/address/@domain"), "0x0001");
  EXPECT_EQ(xpath(xml, "/domain/devices/hostdev/source/address/@function"), "0x7");
  // The VLAN libvirt cannot set on a plain hostdev is kept for vnfctl to apply on the PF.
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:vf/@vlan"), "7");
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:vf/@index"), "23");
}

TEST(RenderNics, TapNicsAreVirtioOnUnmanagedTaps) {
  auto s = dedicatedSpec();
  s.tap_nics = {tap("vnf-a0", mac("02:00:00:00:00:0a"), 9000), tap("vnf-b0")};
  auto xml = render(s, dedicatedPlacement());
  ASSERT_EQ(xcount(xml, "/domain/devices/interface[@type='ethernet']"), 2);
  const std::string a = "/domain/devices/interface[@type='ethernet'][1]";
  EXPECT_EQ(xpath(xml, a + "/target/@dev"), "vnf-a0");
  EXPECT_EQ(xpath(xml, a + "/target/@managed"), "no");
  EXPECT_EQ(xpath(xml, a + "/model/@type"), "virtio");
  EXPECT_EQ(xpath(xml, a + "/mac/@address"), "02:00:00:00:00:0a");
  EXPECT_EQ(xpath(xml, a + "/mtu/@size"), "9000");
  const std::string b = "/domain/devices/interface[@type='ethernet'][2]";
  EXPECT_EQ(xpath(xml, b + "/mac/@address"), formatMac(derivedMac(kUuid, "tap1")));
  EXPECT_EQ(xcount(xml, b + "/mtu"), 0);
}

TEST(RenderNics, MgmtOnNetworkOrBridge) {
  auto s = dedicatedSpec();
  s.mgmt = MgmtNicSpec{.kind = MgmtNicSpec::Kind::kNetwork, .source = "default", .mac = std::nullopt};
  auto xml = render(s, dedicatedPlacement());
  EXPECT_EQ(xpath(xml, "/domain/devices/interface[@type='network']/source/@network"), "default");
  EXPECT_EQ(xpath(xml, "/domain/devices/interface[@type='network']/model/@type"), "virtio");
  EXPECT_EQ(xpath(xml, "/domain/devices/interface[@type='network']/mac/@address"),
            formatMac(derivedMac(kUuid, "mgmt")));
  s.mgmt = MgmtNicSpec{.kind = MgmtNicSpec::Kind::kBridge, .source = "br-mgmt", .mac = mac("52:54:00:00:00:99")};
  xml = render(s, dedicatedPlacement());
  EXPECT_EQ(xcount(xml, "/domain/devices/interface[@type='network']"), 0);
  EXPECT_EQ(xpath(xml, "/domain/devices/interface[@type='bridge']/source/@bridge"), "br-mgmt");
  EXPECT_EQ(xpath(xml, "/domain/devices/interface[@type='bridge']/mac/@address"), "52:54:00:00:00:99");
}

TEST(RenderOs, DirectKernelBootJoinsVnfctlAndSpecArguments) {
  auto xml = render(dedicatedSpec(), dedicatedPlacement());
  EXPECT_EQ(xpath(xml, "/domain/os/type"), "hvm");
  EXPECT_EQ(xpath(xml, "/domain/os/type/@arch"), "x86_64");
  EXPECT_EQ(xpath(xml, "/domain/os/type/@machine"), "q35");
  EXPECT_EQ(xpath(xml, "/domain/os/kernel"), "/var/lib/vnfctl/images/vmlinuz");
  EXPECT_EQ(xpath(xml, "/domain/os/initrd"), "/var/lib/vnfctl/images/initrd.img");
  EXPECT_EQ(xpath(xml, "/domain/os/cmdline"), "console=ttyS0 vnf.mode=mac");
  EXPECT_EQ(xcount(xml, "/domain/os/boot"), 0);
  EXPECT_EQ(xcount(xml, "/domain/devices/disk"), 0);
}

// A firmware path becomes <loader type='rom'> between <type> and <kernel> (libvirt's order);
// "bios" (SeaBIOS, QEMU's default) writes no loader.
TEST(RenderOs, AFirmwareRomIsTheLoader) {
  auto s = dedicatedSpec();
  s.guest.firmware = "/usr/share/qemu/qboot.rom";
  auto xml = render(s, dedicatedPlacement());
  EXPECT_EQ(xpath(xml, "/domain/os/loader"), "/usr/share/qemu/qboot.rom");
  EXPECT_EQ(xpath(xml, "/domain/os/loader/@type"), "rom");
  EXPECT_EQ(xpath(xml, "/domain/os/loader/@readonly"), "yes");
  EXPECT_EQ(xpath(xml, "local-name(/domain/os/loader/preceding-sibling::*[1])"), "type");
  EXPECT_EQ(xpath(xml, "local-name(/domain/os/loader/following-sibling::*[1])"), "kernel");
  EXPECT_TRUE(validateDomainXml(xml)) << xml;
  s.guest.firmware = "bios";
  EXPECT_EQ(xcount(render(s, dedicatedPlacement()), "/domain/os/loader"), 0);
  s.guest.firmware = "";
  EXPECT_EQ(xcount(render(s, dedicatedPlacement()), "/domain/os/loader"), 0);
}

TEST(RenderOs, DiskBootAttachesTheImageAsVda) {
  auto s = dedicatedSpec();
  s.guest = {};
  s.guest.disk = "/var/lib/vnfctl/images/fw.qcow2";
  auto xml = render(s, dedicatedPlacement());
  EXPECT_EQ(xpath(xml, "/domain/os/boot/@dev"), "hd");
  EXPECT_EQ(xcount(xml, "/domain/os/kernel"), 0);
  EXPECT_EQ(xpath(xml, "/domain/devices/disk/source/@file"), "/var/lib/vnfctl/images/fw.qcow2");
  EXPECT_EQ(xpath(xml, "/domain/devices/disk/driver/@type"), "qcow2");
  EXPECT_EQ(xpath(xml, "/domain/devices/disk/target/@dev"), "vda");
  EXPECT_EQ(xpath(xml, "/domain/devices/disk/target/@bus"), "virtio");
}

TEST(RenderOs, FeaturesLifecycleSerialAndBalloon) {
  auto xml = render(dedicatedSpec(), dedicatedPlacement());
  EXPECT_EQ(xcount(xml, "/domain/features/acpi"), 1);
  EXPECT_EQ(xcount(xml, "/domain/features/apic"), 1);
  EXPECT_EQ(xpath(xml, "/domain/on_poweroff"), "destroy");
  EXPECT_EQ(xpath(xml, "/domain/on_reboot"), "restart");
  EXPECT_EQ(xpath(xml, "/domain/on_crash"), "destroy");
  EXPECT_EQ(xpath(xml, "/domain/devices/serial/@type"), "file");
  EXPECT_EQ(xpath(xml, "/domain/devices/serial/source/@path"), "/var/log/vnfctl/fw.serial.log");
  EXPECT_EQ(xpath(xml, "/domain/devices/serial/target/@port"), "0");
  EXPECT_EQ(xpath(xml, "/domain/devices/console/target/@type"), "serial");
  EXPECT_EQ(xcount(xml, "/domain/devices/memballoon"), 1);
  EXPECT_EQ(xpath(xml, "/domain/devices/memballoon/@model"), "none");
}

TEST(RenderEscaping, NamesAndPathsAreEscapedByLibxml2) {
  auto s = dedicatedSpec();
  s.guest.cmdline = "x=\"a b\" y='c'";
  s.tap_nics = {tap("t<&>")};
  auto p = dedicatedPlacement();
  p.name = "a&b<c>";
  auto in = inputFor(s, p);
  in.serial_log_path = "/tmp/it's \"here\" & <there>.log";
  auto xml = renderDomainXml(defaultTemplate(), in);
  ASSERT_TRUE(xml) << xml.error().str();
  EXPECT_NE(xml->find("<name>a&amp;b&lt;c&gt;</name>"), std::string::npos) << *xml;
  EXPECT_EQ(xml->find("a&b<c>"), std::string::npos);
  EXPECT_EQ(xpath(*xml, "/domain/name"), "a&b<c>");
  EXPECT_EQ(xpath(*xml, "/domain/devices/serial/source/@path"), "/tmp/it's \"here\" & <there>.log");
  EXPECT_EQ(xpath(*xml, "/domain/devices/interface/target/@dev"), "t<&>");
  EXPECT_EQ(xpath(*xml, "/domain/os/cmdline"), "console=ttyS0 x=\"a b\" y='c'");
}

TEST(RenderMetadata, OneElementInTheVnfctlNamespace) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  addVf(s, p, make<NicSpec>([](auto& n) {
          n.vlan = 100;
          n.mtu = 9000;
          n.trust = true;
          n.spoofchk = false;
        }),
        "0000:81:00.0", "0000:81:10.0", 0, "vfio-pci");
  auto xml = render(s, p);
  EXPECT_EQ(xcount(xml, "/domain/metadata/*"), 1);
  EXPECT_EQ(xpath(xml, "namespace-uri(/domain/metadata/*)"), "urn:vnfctl:domain:1");
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:spec/@hash"), "sha256:5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:tool/@version"), "0.1.0");
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:image/@hash"), "sha256:7d793037a0760186574b0282f2f435e7");
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:placement/@node"), "0");
  EXPECT_EQ(xcount(xml, "/domain/metadata/v:vnf/v:placement/v:vcpupin"), 4);
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:placement/v:vcpupin[@vcpu='3']/@cpu"), "5");
  EXPECT_EQ(xpath(xml, "/domain/metadata/v:vnf/v:placement/v:emulatorpin/@cpus"), "1");
  const std::string vf = "/domain/metadata/v:vnf/v:vf";
  EXPECT_EQ(xpath(xml, "concat(" + vf + "/@nic, ' ', " + vf + "/@pf, ' ', " + vf + "/@address, ' ', " + vf +
                           "/@index, ' ', " + vf + "/@vlan, ' ', " + vf + "/@trust, ' ', " + vf + "/@spoofchk, ' ', " +
                           vf + "/@mtu)"),
            "0 0000:81:00.0 0000:81:10.0 0 100 yes no 9000");
  // Only the prefix the renderer declared; no host names or paths in the namespace.
  EXPECT_NE(xml.find("<vnfctl:vnf xmlns:vnfctl=\"urn:vnfctl:domain:1\">"), std::string::npos) << xml;
}

TEST(RenderTemplate, CustomTemplateKeepsItsOwnContentAndLosesWhatTheRendererOwns) {
  const std::string custom = R"(<domain type='kvm' id='7' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>placeholder</name>
  <title>edge router</title>
  <metadata><app:info xmlns:app='urn:example:app'>keep me</app:info>
    <vnfctl:vnf xmlns:vnfctl='urn:vnfctl:domain:1'><vnfctl:spec hash='stale'/></vnfctl:vnf></metadata>
  <memory unit='GiB'>1</memory>
  <vcpu>8</vcpu>
  <cputune><vcpupin vcpu='7' cpuset='63'/></cputune>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
  <features><pae/></features>
  <clock offset='localtime'/>
  <on_crash>coredump-restart</on_crash>
  <devices>
    <emulator>/opt/qemu/bin/qemu-system-x86_64</emulator>
    <!-- a comment the renderer drops -->
    <watchdog model='itco' action='reset'/>
    <interface type='user'><model type='e1000'/></interface>
    <serial type='pty'><target port='0'/></serial>
    <memballoon model='virtio'/>
  </devices>
  <qemu:commandline><qemu:arg value='-no-user-config'/></qemu:commandline>
</domain>)";
  auto tmpl = parseTemplate(custom, "custom.xml");
  ASSERT_TRUE(tmpl) << tmpl.error().str();
  auto xml = renderDomainXml(*tmpl, inputFor(dedicatedSpec(), dedicatedPlacement()));
  ASSERT_TRUE(xml) << xml.error().str();
  // Kept: emulator, extra device, clock, title, other metadata, features, the qemu namespace element.
  EXPECT_EQ(xpath(*xml, "/domain/devices/emulator"), "/opt/qemu/bin/qemu-system-x86_64");
  EXPECT_EQ(xpath(*xml, "/domain/devices/watchdog/@model"), "itco");
  EXPECT_EQ(xpath(*xml, "/domain/clock/@offset"), "localtime");
  EXPECT_EQ(xpath(*xml, "/domain/title"), "edge router");
  EXPECT_EQ(xpath(*xml, "/domain/metadata/*[local-name()='info']"), "keep me");
  EXPECT_EQ(xcount(*xml, "/domain/features/pae"), 1);
  EXPECT_EQ(xcount(*xml, "/domain/features/acpi"), 1);
  EXPECT_EQ(xcount(*xml, "/domain/*[local-name()='commandline']"), 1);
  // Replaced: name, memory, vcpu, cputune, os, lifecycle, interfaces, serial, balloon; id dropped.
  EXPECT_EQ(xpath(*xml, "/domain/name"), "fw");
  EXPECT_EQ(xcount(*xml, "/domain/@id"), 0);
  EXPECT_EQ(xpath(*xml, "/domain/memory/@unit"), "KiB");
  EXPECT_EQ(xpath(*xml, "/domain/vcpu"), "4");
  EXPECT_EQ(xcount(*xml, "/domain/cputune/vcpupin[@vcpu='7']"), 0);
  EXPECT_EQ(xpath(*xml, "/domain/os/type/@machine"), "q35");
  EXPECT_EQ(xpath(*xml, "/domain/on_crash"), "destroy");
  EXPECT_EQ(xcount(*xml, "/domain/devices/interface[@type='user']"), 0);
  EXPECT_EQ(xcount(*xml, "/domain/devices/serial"), 1);
  EXPECT_EQ(xpath(*xml, "/domain/devices/memballoon/@model"), "none");
  EXPECT_EQ(xcount(*xml, "/domain/metadata/v:vnf"), 1);
  EXPECT_EQ(xpath(*xml, "/domain/metadata/v:vnf/v:spec/@hash"), "sha256:5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(xml->find("<!--"), std::string::npos);
  // libvirt's element order: name first, devices after the lifecycle actions.
  EXPECT_EQ(xpath(*xml, "local-name(/domain/*[1])"), "name");
  EXPECT_EQ(xpath(*xml, "local-name(/domain/on_crash/following-sibling::*[1])"), "devices");
  EXPECT_EQ(xpath(*xml, "local-name(/domain/*[last()])"), "commandline");
  EXPECT_TRUE(validateDomainXml(*xml)) << *xml;
}

TEST(RenderTemplate, ATemplateRendersManyTimesUnchanged) {
  auto tmpl = defaultTemplate();
  auto s = dedicatedSpec();
  auto p1 = dedicatedPlacement();
  auto p2 = dedicatedPlacement();
  p1.name = "fw-1";
  p2.name = "fw-2";
  auto a = renderDomainXml(tmpl, inputFor(s, p1));
  auto b = renderDomainXml(tmpl, inputFor(s, p2));
  auto a2 = renderDomainXml(tmpl, inputFor(s, p1));
  ASSERT_TRUE(a && b && a2);
  EXPECT_EQ(*a, *a2);
  EXPECT_EQ(xpath(*b, "/domain/name"), "fw-2");
  EXPECT_EQ(xcount(*b, "/domain/cputune"), 1);
}

}  // namespace
}  // namespace vnf::test
