// What domains hold, read from the XML libvirt keeps (test:///default: in process, no daemon).
#include "virt/holdings.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "discovery/discover.h"
#include "host/parse.h"

// g++ 12 warns about members left out of a designated initializer; here leaving them out is the
// point (each test names only the parts it is about).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace vnf {
namespace {

// A domain for the test driver; the parts under test are passed in as XML text.
struct Xml {
  std::string name;
  std::string uuid;
  std::uint64_t memory_kib = 1048576;
  std::string cputune;
  std::string numatune;
  std::string backing;
  std::string metadata;
  std::string devices;

  std::string str() const {
    return fmt::format(
        "<domain type='test'><name>{}</name>{}<memory unit='KiB'>{}</memory><vcpu placement='static'>2</vcpu>"
        "{}{}{}{}<os><type arch='x86_64'>hvm</type></os><devices>{}</devices></domain>",
        name, uuid.empty() ? "" : "<uuid>" + uuid + "</uuid>", memory_kib,
        metadata.empty() ? "" : "<metadata>" + metadata + "</metadata>", backing, cputune, numatune, devices);
  }
};

// vnfctl's element recording vCPUs on CPUs 2 and 3 of node 0.
std::string vnfMetadata(const std::string& node = "0") {
  return "<vnfctl:vnf xmlns:vnfctl='urn:vnfctl:domain:1'><vnfctl:spec hash='sha256:aa'/><vnfctl:tool version='0.1.0'/>"
         "<vnfctl:image hash='sha256:bb'/><vnfctl:placement node='" +
         node +
         "' memory-kib='1048576' page-size-kib='0' hugepages='0'><vnfctl:vcpupin vcpu='0' cpu='2'/>"
         "<vnfctl:vcpupin vcpu='1' cpu='3'/><vnfctl:emulatorpin cpus='1'/></vnfctl:placement></vnfctl:vnf>";
}

std::string pins(int a, int b, int emulator) {
  return fmt::format(
      "<cputune><vcpupin vcpu='0' cpuset='{}'/><vcpupin vcpu='1' cpuset='{}'/><emulatorpin cpuset='{}'/></cputune>", a,
      b, emulator);
}

const char* kNode0 = "<numatune><memory mode='strict' nodeset='0'/></numatune>";
const char* kPages1G = "<memoryBacking><hugepages><page size='1048576' unit='KiB'/></hugepages></memoryBacking>";

class Holdings : public testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::open("test:///default", false);
    ASSERT_TRUE(c) << c.error().message;
    conn_.emplace(std::move(*c));
  }
  void define(const Xml& x) { ASSERT_TRUE(defineDomain(*conn_, x.str())) << x.str(); }
  // The holding of `name`; fails the test when readHoldings fails or misses it.
  DomainHolding holding(const std::string& name) {
    auto all = readHoldings(*conn_);
    EXPECT_TRUE(all) << all.error().message;
    if (!all) return {};
    for (const auto& h : *all) {
      if (h.name == name) return h;
    }
    ADD_FAILURE() << "no holding for " << name;
    return {};
  }
  std::optional<Connection> conn_;
};

PciAddress pci(const char* s) { return *parsePciAddress(s); }

TEST_F(Holdings, ManagedDomainRepinnedByHandHoldsWhatItsXmlSays) {
  // Metadata says CPUs 2,3 (emulator 1); `virsh vcpupin --config` moved the vCPUs to 4,5.
  define({.name = "fw", .cputune = pins(4, 5, 1), .numatune = kNode0, .metadata = vnfMetadata()});
  auto h = holding("fw");
  EXPECT_TRUE(h.managed);
  ASSERT_TRUE(h.meta);
  EXPECT_EQ(h.meta->vcpu_pins, (std::vector<int>{2, 3}));
  EXPECT_EQ(h.cpus, (std::set<int>{1, 4, 5})) << "the XML wins over the metadata";
  EXPECT_EQ(h.state, DomainState::kShutOff);
  EXPECT_EQ(h.node, 0);
  EXPECT_EQ(h.memory_kib, 1048576u);
  Allocations a;
  addHolding(a, h);
  EXPECT_EQ(a.cpus, (std::set<int>{1, 4, 5}));
  EXPECT_EQ(a.memory_kib, (std::map<int, std::uint64_t>{{0, 1048576}})) << "normal pages, held running or not";
}

TEST_F(Holdings, RunningDomainRepinnedForNextBootHoldsBothPinnings) {
  const std::string uuid = "6b4c2a1e-0000-4000-8000-000000000001";
  define({.name = "fw", .uuid = uuid, .cputune = pins(2, 3, 1), .metadata = vnfMetadata()});
  ASSERT_TRUE(startDomain(*conn_, "fw"));
  // `virsh edit` of a running domain: the new pins apply at its next start.
  define({.name = "fw", .uuid = uuid, .cputune = pins(6, 7, 1), .metadata = vnfMetadata()});
  auto h = holding("fw");
  EXPECT_EQ(h.state, DomainState::kRunning);
  EXPECT_EQ(h.cpus, (std::set<int>{1, 2, 3, 6, 7})) << "running on 2,3 now, on 6,7 after a restart";
  ASSERT_TRUE(destroyDomain(*conn_, "fw"));
}

TEST_F(Holdings, ForeignDomainsPinnedCpusAndVfsAreHeld) {
  define({.name = "theirs",
          .cputune = pins(8, 9, 10),
          .devices = "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x81' "
                     "slot='0x02' function='0x1'/></source></hostdev>"});
  auto h = holding("theirs");
  EXPECT_FALSE(h.managed);
  EXPECT_FALSE(h.meta);
  EXPECT_EQ(h.cpus, (std::set<int>{8, 9, 10}));
  EXPECT_EQ(h.vfs, (std::set<PciAddress>{pci("0000:81:02.1")}));
  EXPECT_EQ(h.node, -1);
  Allocations a;
  addHolding(a, h);
  EXPECT_EQ(a.vfs, h.vfs);
  EXPECT_EQ(a.memory_kib, (std::map<int, std::uint64_t>{{-1, 1048576}})) << "bound to no node: counted on every node";
  // Foreign domains stay foreign for everything else.
  auto managed = listVnfDomains(*conn_);
  ASSERT_TRUE(managed) << managed.error().message;
  EXPECT_TRUE(managed->empty());
}

TEST_F(Holdings, FloatingVcpusHoldNoCpu) {
  // vCPUs without a <vcpupin> float over <vcpu cpuset> (vnfctl's shared policy, unpinned guests).
  Xml x{.name = "floating"};
  std::string text = x.str();
  text.replace(text.find("<vcpu placement='static'>"), 25, "<vcpu placement='static' cpuset='4-7'>");
  ASSERT_TRUE(defineDomain(*conn_, text)) << text;
  auto h = holding("floating");
  EXPECT_TRUE(h.cpus.empty());
}

TEST_F(Holdings, HostdevInterfaceVfIsHeld) {
  define({.name = "net",
          .devices =
              "<interface type='hostdev' managed='no'><mac address='52:54:00:00:00:01'/><source><address "
              "type='pci' domain='0x0000' bus='0x81' slot='0x02' function='0x2'/></source></interface>"
              "<interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/></interface>"});
  auto h = holding("net");
  EXPECT_EQ(h.vfs, (std::set<PciAddress>{pci("0000:81:02.2")})) << "a defined network interface holds no VF yet";
}

TEST_F(Holdings, DamagedMetadataIsAnErrorNotAForeignDomain) {
  define({.name = "broken", .cputune = pins(2, 3, 1), .metadata = vnfMetadata("abc")});
  const std::string message =
      "domain 'broken' on test:///default: vnfctl's metadata (urn:vnfctl:domain:1) is malformed:\n"
      "  <placement> node='abc' is not a number";
  const std::string fix =
      "repair the element with: virsh -c test:///default edit broken, or remove the domain with: virsh -c "
      "test:///default undefine broken; until then vnfctl cannot tell what broken holds and will not plan on this "
      "host";
  auto all = readHoldings(*conn_);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, Errc::kBadContent);
  EXPECT_EQ(all.error().message, message);
  EXPECT_EQ(all.error().fix, fix);
  auto listed = listVnfDomains(*conn_);
  ASSERT_FALSE(listed) << "a damaged element must not read as 'not ours'";
  EXPECT_EQ(listed.error().message, message);
  EXPECT_EQ(listed.error().fix, fix);
  auto found = findVnfDomain(*conn_, "broken");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message, message);
}

TEST_F(Holdings, AListingForDisplayKeepsTheGoodDomainsBesideTheDamagedOne) {
  define({.name = "zz-broken", .cputune = pins(2, 3, 1), .metadata = vnfMetadata("abc")});
  define({.name = "aa-fw", .cputune = pins(4, 5, 1), .metadata = vnfMetadata()});
  define({.name = "foreign", .cputune = pins(6, 7, 1)});
  auto listing = listVnfDomainsKeepingDamaged(*conn_);
  ASSERT_TRUE(listing) << listing.error().message;
  ASSERT_EQ(listing->domains.size(), 1u);
  EXPECT_EQ(listing->domains[0].name, "aa-fw");
  ASSERT_EQ(listing->damaged.size(), 1u);
  EXPECT_EQ(listing->damaged[0].name, "zz-broken");
  EXPECT_EQ(listing->damaged[0].error.code, Errc::kBadContent);
  EXPECT_NE(listing->damaged[0].error.message.find("<placement> node='abc' is not a number"), std::string::npos)
      << listing->damaged[0].error.message;
  // Planning still refuses: what zz-broken holds is unknown.
  auto planned = listVnfDomains(*conn_);
  ASSERT_FALSE(planned);
  EXPECT_EQ(planned.error().message, listing->damaged[0].error.message);
}

// The fleet planner keeps MACs unique over every domain: each NIC's MAC is read, and a managed
// domain's are labelled as the renderer derives them (vf<nic> by the VF the metadata records,
// tap<N> for the Nth ethernet NIC, mgmt for the other).
TEST(HoldingsXml, EveryNicsMacIsReadAndAManagedDomainsAreLabelled) {
  std::string meta = vnfMetadata();
  meta.insert(meta.find("</vnfctl:vnf>"),
              "<vnfctl:vf nic='1' pf='0000:81:00.0' address='0000:81:02.3' index='3' driver='vfio-pci'/>");
  const std::string devices =
      "<interface type='ethernet'><mac address='52:54:00:00:00:01'/></interface>"
      "<interface type='hostdev' managed='yes'><mac address='52:54:00:00:00:02'/><source>"
      "<address type='pci' domain='0x0000' bus='0x81' slot='0x02' function='0x3'/></source></interface>"
      "<interface type='ethernet'><mac address='52:54:00:00:00:03'/></interface>"
      "<interface type='bridge'><mac address='52:54:00:00:00:04'/><source bridge='br0'/></interface>"
      "<interface type='user'/>";
  auto managed = holdingFromXml(Xml{.name = "fw-1", .metadata = meta, .devices = devices}.str(), "test:///default");
  ASSERT_TRUE(managed) << managed.error().message;
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& m : managed->macs) got.emplace_back(m.label, formatMac(m.mac));
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{{"tap0", "52:54:00:00:00:01"},
                                                                   {"vf1", "52:54:00:00:00:02"},
                                                                   {"tap1", "52:54:00:00:00:03"},
                                                                   {"mgmt", "52:54:00:00:00:04"}}));
  auto foreign = holdingFromXml(Xml{.name = "other", .devices = devices}.str(), "test:///default");
  ASSERT_TRUE(foreign);
  ASSERT_EQ(foreign->macs.size(), 4u);
  for (const auto& m : foreign->macs) EXPECT_EQ(m.label, "") << "a foreign domain's NICs are not vnfctl's";
}

TEST_F(Holdings, AListingForPlanningKeepsTheGoodDomainsAndNamesTheDamagedOnes) {
  define({.name = "zz-broken", .cputune = pins(2, 3, 1), .metadata = vnfMetadata("abc")});
  define({.name = "aa-fw", .cputune = pins(4, 5, 1), .metadata = vnfMetadata()});
  auto listing = readHoldingsKeepingDamaged(*conn_);
  ASSERT_TRUE(listing) << listing.error().message;
  std::vector<std::string> names;
  for (const auto& h : listing->holdings) names.push_back(h.name);
  EXPECT_EQ(names, (std::vector<std::string>{"aa-fw", "test"}));
  ASSERT_EQ(listing->damaged.size(), 1u);
  EXPECT_EQ(listing->damaged[0].name, "zz-broken");
  EXPECT_EQ(listing->damaged[0].state, DomainState::kShutOff);
  EXPECT_EQ(listing->damaged[0].error.code, Errc::kBadContent);
  EXPECT_NE(listing->damaged[0].error.fix.find("undefine zz-broken"), std::string::npos);
  auto all = readHoldings(*conn_);
  ASSERT_FALSE(all) << "readHoldings still refuses";
  EXPECT_EQ(all.error().message, listing->damaged[0].error.message);
}

TEST_F(Holdings, RunningDomainsHugepagesAreTakenDefinedOnesArePromised) {
  define({.name = "on", .memory_kib = 4 * 1048576, .numatune = kNode0, .backing = kPages1G});
  define({.name = "off", .memory_kib = 4 * 1048576, .numatune = kNode0, .backing = kPages1G});
  ASSERT_TRUE(startDomain(*conn_, "on"));
  auto on = holding("on");
  auto off = holding("off");
  for (const auto* h : {&on, &off}) {
    EXPECT_EQ(h->page_size_kib, 1048576u) << h->name;
    EXPECT_EQ(h->hugepages, 4u) << h->name;
    EXPECT_EQ(h->node, 0) << h->name;
  }
  EXPECT_EQ(on.state, DomainState::kRunning);
  EXPECT_EQ(off.state, DomainState::kShutOff);
  Allocations a;
  addHolding(a, on);
  addHolding(a, off);
  EXPECT_EQ(a.hugepages, (std::map<std::pair<int, std::uint64_t>, std::uint64_t>{{{0, 1048576}, 4}}))
      << "only the defined domain's pages are promised; the running one's are out of the free counts";
  EXPECT_TRUE(a.memory_kib.empty()) << "hugepage-backed memory is not normal memory";
  ASSERT_TRUE(destroyDomain(*conn_, "on"));
}

// The whole path the CLI will take: holdings -> Allocations -> planAll, on 2socket-ht-x710-node1.
// A foreign guest pins core [9,25] of node 1, has VF 0000:81:02.0 and 44 GiB of node 1's memory;
// the test driver's own running domain 'test' (8 GiB, no node binding) counts on every node.
TEST_F(Holdings, PlannerAvoidsWhatForeignDomainsHold) {
  auto hfs = HostFs::open(std::filesystem::path(VNF_TEST_DATA) / "hosts" / "2socket-ht-x710-node1");
  ASSERT_TRUE(hfs) << hfs.error().message;
  auto host = discoverHost(*hfs);
  ASSERT_TRUE(host) << host.error().message;
  VnfSpec fw;
  fw.name = "fw";
  fw.vcpus = 2;
  fw.memory_mib = 2048;
  fw.page_size_kib = 0;
  fw.nics = {NicSpec{.pf = "ens2f0"}};
  auto before = planAll(*host, {}, {fw});
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->front().vcpu_pins, (std::vector<int>{9, 25}));
  EXPECT_EQ(before->front().vfs[0].vf, pci("0000:81:02.0"));

  define({.name = "theirs",
          .memory_kib = 44ull * 1048576,
          .cputune = pins(9, 25, 8),
          .numatune = "<numatune><memory mode='strict' nodeset='1'/></numatune>",
          .devices = "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x81' "
                     "slot='0x02' function='0x0'/></source></hostdev>"});
  auto all = readHoldings(*conn_);
  ASSERT_TRUE(all) << all.error().message;
  const Allocations held = allocationsOf(*all);
  auto after = planAll(*host, held, {fw});
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->front().vcpu_pins, (std::vector<int>{10, 26}));
  EXPECT_EQ(after->front().vfs[0].vf, pci("0000:81:02.1"));
  // Node 1: 65536 MiB - 9216 of hugepages (8 x 1G, 512 x 2M) - 1024 reserve - 45056 - 8192 = 2048.
  fw.memory_mib = 3072;
  auto full = planAll(*host, held, {fw});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message,
            "cannot place fw (2 vCPUs, 3072 MiB): no NUMA node fits\n"
            "  node 1: 2048 MiB of normal memory free for VNFs (65536 MiB total - 9216 MiB reserved as hugepages - "
            "1024 MiB host reserve - 53248 MiB held by other VMs, 8192 MiB of it by VMs bound to no node), the VNF "
            "asks 3072 MiB: remove a VM here, lower memory, use hugepages, or return reserved hugepages (lower "
            "nr_hugepages under /sys/devices/system/node/node1/hugepages/)\n"
            "  node 0: NIC 0000:81:00.0 (ens2f0) is on node 1 and numa_affinity is required (numa_affinity: "
            "preferred accepts a remote NIC, at the cost of cross-node traffic)");
}

TEST(HoldingFromXml, UnitsAndLooseNodeBindings) {
  auto h = holdingFromXml(
      "<domain type='kvm'><name>x</name><memory unit='GiB'>3</memory>"
      "<numatune><memory mode='strict' nodeset='0-1'/></numatune>"
      "<memoryBacking><hugepages><page size='2' unit='M'/></hugepages></memoryBacking></domain>",
      "test:///default");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->memory_kib, 3u * 1048576);
  EXPECT_EQ(h->node, -1) << "two nodes are no single-node binding";
  EXPECT_EQ(h->page_size_kib, 2048u);
  EXPECT_EQ(h->hugepages, 1536u);
}

}  // namespace
}  // namespace vnf
