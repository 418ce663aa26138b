// The recipe hash: every field that shapes a domain changes it, its value is pinned (a changed
// recipe must bump kRecipeVersion), and older recipes are compared so an upgrade changes nothing.
#include "lifecycle/recipe.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "spec/load.h"

namespace vnf {
inline void PrintTo(const FieldChange& c, std::ostream* os) { *os << c.field << ": " << c.before << " -> " << c.after; }
}  // namespace vnf

namespace vnf::lifecycle {
namespace {

// A field added to these structs must be added to canonicalFields (and a mutation below).
static_assert(sizeof(VnfSpec) == 488, "VnfSpec changed: add the new field to canonicalFields and to this test");
static_assert(sizeof(NicSpec) == 72, "NicSpec changed: add the new field to canonicalFields and to this test");
static_assert(sizeof(TapNicSpec) == 48, "TapNicSpec changed: add the new field to canonicalFields and to this test");
static_assert(sizeof(MgmtNicSpec) == 48, "MgmtNicSpec changed: add the new field to canonicalFields and to this test");
static_assert(sizeof(GuestSpec) == 240, "GuestSpec changed: add the new field to canonicalFields and to this test");

VnfSpec base() {
  auto s = parseSpecYaml(
      "name: fw1\nvcpus: 4\nmemory: 4G\nhugepages: 1G\n"
      "nics:\n  - pf: ens2f0\n    vlan: 100\n"
      "taps:\n  - tap: vnf0a\n"
      "management:\n  network: mgmt\n"
      "guest:\n  kernel: /img/vmlinuz\n  initrd: /img/initrd.img\n  forwarder:\n    mode: mac\n"
      "    peer_macs: [02:00:00:00:00:01, 02:00:00:00:00:02]\n",
      "base.yaml");
  EXPECT_TRUE(s) << s.error().message;
  return *s;
}

const RecipeInputs kInputs{"qemu", "/var/log/vnfctl/fw1.serial.log", "t" + std::string(63, '0'),
                           "i" + std::string(63, '0')};

TEST(Recipe, EveryFieldThatShapesTheDomainChangesTheHash) {
  const std::string h0 = recipeOf(base(), kInputs).hash;
  const MacAddress m{0x52, 0x54, 0, 1, 2, 3};
  const std::vector<std::pair<std::string, std::function<void(VnfSpec&, RecipeInputs&)>>> mutations = {
      {"name", [](VnfSpec& s, RecipeInputs&) { s.name = "fw2"; }},
      {"vcpus", [](VnfSpec& s, RecipeInputs&) { s.vcpus = 6; }},
      {"memory_mib", [](VnfSpec& s, RecipeInputs&) { s.memory_mib = 8192; }},
      {"page_size_kib", [](VnfSpec& s, RecipeInputs&) { s.page_size_kib = 2048; }},
      {"cpu_policy", [](VnfSpec& s, RecipeInputs&) { s.cpu_policy = CpuPolicy::kShared; }},
      {"smt_policy", [](VnfSpec& s, RecipeInputs&) { s.smt_policy = SmtPolicy::kIsolate; }},
      {"emulator_threads", [](VnfSpec& s, RecipeInputs&) { s.emulator_policy = EmulatorPolicy::kShare; }},
      {"numa_affinity", [](VnfSpec& s, RecipeInputs&) { s.numa_affinity = NumaAffinity::kPreferred; }},
      {"profile", [](VnfSpec& s, RecipeInputs&) { s.profile = "dpdk-fwd"; }},
      {"nics[0].pf", [](VnfSpec& s, RecipeInputs&) { s.nics[0].pf = "ens2f1"; }},
      {"nics[0].vf", [](VnfSpec& s, RecipeInputs&) { s.nics[0].vf = 3; }},
      {"nics[0].mac", [m](VnfSpec& s, RecipeInputs&) { s.nics[0].mac = m; }},
      {"nics[0].vlan", [](VnfSpec& s, RecipeInputs&) { s.nics[0].vlan = 200; }},
      {"nics[0].mtu", [](VnfSpec& s, RecipeInputs&) { s.nics[0].mtu = 9000; }},
      {"nics[0].trust", [](VnfSpec& s, RecipeInputs&) { s.nics[0].trust = true; }},
      {"nics[0].spoofchk", [](VnfSpec& s, RecipeInputs&) { s.nics[0].spoofchk = false; }},
      {"nics[0].mode", [](VnfSpec& s, RecipeInputs&) { s.nics[0].hostdev = true; }},
      {"nics", [](VnfSpec& s, RecipeInputs&) { s.nics.push_back(s.nics[0]); }},
      {"taps[0].tap", [](VnfSpec& s, RecipeInputs&) { s.tap_nics[0].tap = "vnf0b"; }},
      {"taps[0].mac", [m](VnfSpec& s, RecipeInputs&) { s.tap_nics[0].mac = m; }},
      {"taps[0].mtu", [](VnfSpec& s, RecipeInputs&) { s.tap_nics[0].mtu = 9000; }},
      {"taps", [](VnfSpec& s, RecipeInputs&) { s.tap_nics.clear(); }},
      {"management.kind", [](VnfSpec& s, RecipeInputs&) { s.mgmt->kind = MgmtNicSpec::Kind::kBridge; }},
      {"management.source", [](VnfSpec& s, RecipeInputs&) { s.mgmt->source = "oam"; }},
      {"management.mac", [m](VnfSpec& s, RecipeInputs&) { s.mgmt->mac = m; }},
      {"management", [](VnfSpec& s, RecipeInputs&) { s.mgmt.reset(); }},
      {"guest.kernel", [](VnfSpec& s, RecipeInputs&) { s.guest.kernel = "/img2/vmlinuz"; }},
      {"guest.initrd", [](VnfSpec& s, RecipeInputs&) { s.guest.initrd = "/img2/initrd.img"; }},
      {"guest.cmdline", [](VnfSpec& s, RecipeInputs&) { s.guest.cmdline = "quiet"; }},
      {"guest.disk", [](VnfSpec& s, RecipeInputs&) { s.guest.disk = "/img/disk.qcow2"; }},
      {"guest.firmware", [](VnfSpec& s, RecipeInputs&) { s.guest.firmware = "/usr/share/qemu/qboot.rom"; }},
      {"guest.fast_boot", [](VnfSpec& s, RecipeInputs&) { s.guest.fast_boot = true; }},
      {"guest.forwarder.mode", [](VnfSpec& s, RecipeInputs&) { s.guest.forwarder_mode = "io"; }},
      {"guest.forwarder.peer_macs", [m](VnfSpec& s, RecipeInputs&) { s.guest.peer_macs[1] = m; }},
      {"guest.forwarder.rx_descriptors", [](VnfSpec& s, RecipeInputs&) { s.guest.rx_descriptors = 256; }},
      {"guest.forwarder.tx_descriptors", [](VnfSpec& s, RecipeInputs&) { s.guest.tx_descriptors = 256; }},
      {"render.domain_type", [](VnfSpec&, RecipeInputs& i) { i.domain_type = "kvm"; }},
      {"render.serial_log", [](VnfSpec&, RecipeInputs& i) { i.serial_log = "/tmp/fw1.log"; }},
      {"template.sha256", [](VnfSpec&, RecipeInputs& i) { i.template_sha256 = "other"; }},
      {"image.sha256", [](VnfSpec&, RecipeInputs& i) { i.image_sha256 = "other"; }},
  };
  std::set<std::string> hashes{h0};
  for (const auto& [what, mutate] : mutations) {
    VnfSpec s = base();
    RecipeInputs in = kInputs;
    mutate(s, in);
    const auto r = recipeOf(s, in);
    EXPECT_TRUE(hashes.insert(r.hash).second) << what << " does not change the hash";
    auto diff = diffFields(recipeOf(base(), kInputs).fields, r.fields);
    ASSERT_FALSE(diff.empty()) << what;
    EXPECT_TRUE(diff.front().field.starts_with(what.substr(0, what.find('['))))
        << what << " shows as " << diff.front().field;
  }
  // source and count are not part of an instance's shape.
  VnfSpec s = base();
  s.source = "elsewhere.yaml";
  s.count = 1;
  EXPECT_EQ(recipeOf(s, kInputs).hash, h0);
}

TEST(Recipe, TheHashOfAKnownSpecIsPinned) {
  // A change here means every defined VNF would look changed: bump kRecipeVersion and keep the old
  // recipe comparable instead (compareWithDefined), then update this value.
  EXPECT_EQ(recipeOf(base(), kInputs).hash, "sha256:3f90dcc8a6c3671eee7e3cc354badce4e19f8b7cd038824f0e29844e5cd06c52");
  EXPECT_EQ(kRecipeVersion, 4);
}

TEST(Recipe, ADomainOfThisRecipeIsComparedFieldByField) {
  const auto now = recipeOf(base(), kInputs);
  VnfMetadata m;
  m.recipe = kRecipeVersion;
  m.spec_hash = now.hash;
  m.spec_fields = now.fields;
  EXPECT_EQ(compareWithDefined(m, base(), now).verdict, Verdict::kUnchanged);
  VnfSpec changed = base();
  changed.mgmt->source = "oam";  // recipe 1 missed the management NIC's kind and MAC
  auto c = compareWithDefined(m, changed, recipeOf(changed, kInputs));
  EXPECT_EQ(c.verdict, Verdict::kChanged);
  EXPECT_EQ(c.diff, (std::vector<FieldChange>{{"management.source", "mgmt", "oam"}}));
}

TEST(Recipe, AFieldAnOlderRecipeDidNotKnowIsNoChange) {
  auto now = recipeOf(base(), kInputs);
  VnfMetadata m;
  m.recipe = 2;
  m.spec_fields = now.fields;
  std::erase_if(m.spec_fields, [](const SpecField& f) { return f.first == "render.serial_log"; });
  m.spec_hash = "sha256:older";
  now.version = 3;  // as if a newer vnfctl added render.serial_log
  EXPECT_EQ(compareWithDefined(m, base(), now).verdict, Verdict::kUnchanged);
}

// Recipe 3 added guest.firmware and guest.fast_boot: a recipe-2 domain of the same spec is unchanged,
// and one whose spec now turns fast_boot on is changed.
TEST(Recipe, ARecipeTwoDomainIsUnchangedByTheFirmwareFields) {
  auto now = recipeOf(base(), kInputs);
  VnfMetadata m;
  m.recipe = 2;
  m.spec_fields = now.fields;
  std::erase_if(m.spec_fields,
                [](const SpecField& f) { return f.first == "guest.firmware" || f.first == "guest.fast_boot"; });
  m.spec_hash = "sha256:recipe2";
  EXPECT_EQ(compareWithDefined(m, base(), now).verdict, Verdict::kUnchanged);
  VnfSpec other = base();
  other.guest.cmdline = "quiet";
  auto c = compareWithDefined(m, other, recipeOf(other, kInputs));
  EXPECT_EQ(c.verdict, Verdict::kChanged);
  EXPECT_EQ(c.diff, (std::vector<FieldChange>{{"guest.cmdline", "-", "quiet"}}));
}

// Recipe 4 added the forwarder's descriptor counts: a recipe-3 domain was rendered without them
// (vnf-fwd's defaults), so the same spec is unchanged, and a spec that now sets them is changed,
// with the field named.
TEST(Recipe, ARecipeThreeDomainComparesTheDescriptorFieldsAsUnset) {
  auto now = recipeOf(base(), kInputs);
  VnfMetadata m;
  m.recipe = 3;
  m.spec_fields = now.fields;
  std::erase_if(m.spec_fields, [](const SpecField& f) { return f.first.ends_with("_descriptors"); });
  ASSERT_EQ(m.spec_fields.size() + 2, now.fields.size());
  m.spec_hash = "sha256:recipe3";
  EXPECT_EQ(compareWithDefined(m, base(), now).verdict, Verdict::kUnchanged) << "an upgrade alone is no change";
  VnfSpec small = base();
  small.guest.rx_descriptors = 64;
  auto c = compareWithDefined(m, small, recipeOf(small, kInputs));
  EXPECT_EQ(c.verdict, Verdict::kChanged);
  EXPECT_EQ(c.diff, (std::vector<FieldChange>{{"guest.forwarder.rx_descriptors", "-", "64"}}));
  // A recipe-2 domain (no firmware fields either) the same way.
  m.recipe = 2;
  std::erase_if(m.spec_fields,
                [](const SpecField& f) { return f.first == "guest.firmware" || f.first == "guest.fast_boot"; });
  EXPECT_EQ(compareWithDefined(m, base(), now).verdict, Verdict::kUnchanged);
  EXPECT_EQ(compareWithDefined(m, small, recipeOf(small, kInputs)).diff, c.diff);
}

TEST(Recipe, ARecipeOneDomainIsComparedWithRecipeOne) {
  VnfMetadata m;
  m.recipe = 1;
  m.spec_hash = specHash(base());
  m.memory_kib = 4194304;
  m.page_size_kib = 1048576;
  m.vfs.resize(1);
  const auto now = recipeOf(base(), kInputs);
  EXPECT_EQ(compareWithDefined(m, base(), now).verdict, Verdict::kUnchanged) << "an upgrade alone is no change";
  VnfSpec bigger = base();
  bigger.memory_mib = 8192;
  auto c = compareWithDefined(m, bigger, recipeOf(bigger, kInputs));
  EXPECT_EQ(c.verdict, Verdict::kChanged);
  EXPECT_EQ(c.diff, (std::vector<FieldChange>{{"memory_mib", "4096", "8192"}}));
  // vnfctl 0.1.0 filled in forwarder mode "mac" where a spec gave none; today it stays empty.
  VnfSpec no_mode = base();
  no_mode.guest.forwarder_mode = "mac";
  m.spec_hash = specHash(no_mode);
  no_mode.guest.forwarder_mode = "";
  EXPECT_EQ(compareWithDefined(m, no_mode, recipeOf(no_mode, kInputs)).verdict, Verdict::kUnchanged);
}

}  // namespace
}  // namespace vnf::lifecycle
