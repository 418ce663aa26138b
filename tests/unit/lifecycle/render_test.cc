// The render pass's host-facing decisions: which kernel of the image boots, which firmware, and
// the image check through the boot files' hash records.
#include "lifecycle/render.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "common/hash_cache.h"
#include "spec/load.h"
#include "tests/unit/test_util.h"

namespace vnf::lifecycle {
namespace {

namespace fs = std::filesystem;

Template plainTemplate() { return *parseTemplate("<domain type='kvm'><name>t</name></domain>", "plain.xml"); }

RenderOptions withQboot(bool has_qboot) {
  RenderOptions o;
  o.firmware_exists = [has_qboot](const fs::path& p) { return has_qboot && p == kQbootRom; };
  return o;
}

VnfSpec kernelSpec(const std::string& firmware) {
  VnfSpec s;
  s.name = "fw";
  s.guest.kernel = "/img/vmlinux";
  s.guest.firmware = firmware;
  return s;
}

TEST(ResolveFirmware, AutoIsQbootForADirectKernelBootWhereTheHostHasIt) {
  auto s = kernelSpec("");
  ASSERT_TRUE(resolveFirmware(s, plainTemplate(), withQboot(true)));
  EXPECT_EQ(s.guest.firmware, kQbootRom);

  s = kernelSpec("");
  ASSERT_TRUE(resolveFirmware(s, plainTemplate(), withQboot(false)));
  EXPECT_EQ(s.guest.firmware, "bios") << "no qboot here: SeaBIOS";

  s = kernelSpec("");
  s.guest.kernel.clear();
  s.guest.disk = "/img/d.qcow2";
  ASSERT_TRUE(resolveFirmware(s, plainTemplate(), withQboot(true)));
  EXPECT_EQ(s.guest.firmware, "bios") << "qboot cannot boot a disk";
}

TEST(ResolveFirmware, TheTemplatesLoaderWinsOverAutoAndTheSpecOverTheTemplate) {
  auto tmpl = parseTemplate("<domain type='kvm'><os><loader type='rom'>/roms/mine.rom</loader></os></domain>", "t");
  ASSERT_TRUE(tmpl) << tmpl.error().str();
  RenderOptions o;
  o.firmware_exists = [](const fs::path& p) { return p == "/roms/mine.rom" || p == kQbootRom; };
  auto s = kernelSpec("");
  ASSERT_TRUE(resolveFirmware(s, *tmpl, o));
  EXPECT_EQ(s.guest.firmware, "/roms/mine.rom");
  s = kernelSpec("bios");
  ASSERT_TRUE(resolveFirmware(s, *tmpl, o));
  EXPECT_EQ(s.guest.firmware, "bios");
  s = kernelSpec("qboot");
  ASSERT_TRUE(resolveFirmware(s, *tmpl, o));
  EXPECT_EQ(s.guest.firmware, kQbootRom);
}

TEST(ResolveFirmware, QbootOnAHostWithoutItAndAMissingRomAreErrorsWithTheFix) {
  auto s = kernelSpec("qboot");
  auto r = resolveFirmware(s, plainTemplate(), withQboot(false));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message, "fw: guest.firmware: qboot, but this host has no qboot ROM (/usr/share/qemu/qboot.rom)");
  EXPECT_EQ(r.error().fix,
            "install QEMU's firmware files (apt-get install qemu-system-data), or set guest.firmware: bios");

  s = kernelSpec("/roms/none.rom");
  r = resolveFirmware(s, plainTemplate(), withQboot(true));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "fw: guest.firmware: /roms/none.rom does not exist");
}

// Without the test seam the real filesystem answers: a FIFO or /dev/zero as the ROM is refused
// before anything reads it.
TEST(ResolveFirmware, ARomThatIsNotARegularFileIsRefused) {
  auto dir = test::makeTempDir("firmware");
  const auto fifo = dir / "rom.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& rom : {fifo.string(), std::string("/dev/zero"), (dir / "missing.rom").string()}) {
    auto s = kernelSpec(rom);
    auto r = resolveFirmware(s, plainTemplate(), RenderOptions{});
    ASSERT_FALSE(r) << rom;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << rom;
    EXPECT_NE(r.error().message.find("guest.firmware"), std::string::npos) << r.error().message;
  }
  test::writeFile(dir / "ok.rom", "rom");
  auto s = kernelSpec((dir / "ok.rom").string());
  EXPECT_TRUE(resolveFirmware(s, plainTemplate(), RenderOptions{}));
  fs::remove_all(dir);
}

class Image : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::makeTempDir("image");
    test::writeFile(dir_ / "vmlinux", "elf kernel\n");
    test::writeFile(dir_ / "vmlinuz", "bzimage\n");
    test::writeFile(dir_ / "initrd.img", "initrd\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void writeImageJson(const std::string& kernel) {
    std::string files;
    for (const char* f : {"vmlinux", "vmlinuz", "initrd.img"}) {
      auto d = cachedSha256((dir_ / f).string(), false, 0);
      ASSERT_TRUE(d);
      files += fmt::format("{}\"{}\": \"{}\"", files.empty() ? "" : ", ", f, d->hex);
    }
    test::writeFile(dir_ / "image.json",
                    fmt::format(R"({{"kernel": "{}", "sha256": "x", "boot_files": {{{}}}}})", kernel, files));
  }
  VnfSpec resolved() {
    VnfSpec s;
    s.name = "fw";
    RenderOptions o;
    o.image_dir = dir_;
    resolveBootFiles(s, o);
    return s;
  }
  fs::path dir_;
};

TEST_F(Image, TheKernelImageJsonNamesBoots) {
  writeImageJson("vmlinux");
  EXPECT_EQ(resolved().guest.kernel, (dir_ / "vmlinux").string());
  writeImageJson("vmlinuz");
  EXPECT_EQ(resolved().guest.kernel, (dir_ / "vmlinuz").string());
  writeImageJson("../../etc/passwd");  // a name, never a path out of the image
  EXPECT_EQ(resolved().guest.kernel, (dir_ / "vmlinuz").string());
  fs::remove(dir_ / "image.json");
  EXPECT_EQ(resolved().guest.kernel, (dir_ / "vmlinuz").string()) << "an image without image.json boots vmlinuz";
  EXPECT_EQ(resolved().guest.initrd, (dir_ / "initrd.img").string());
}

// As the image build leaves them: each boot file with a record checked a second after its change.
TEST_F(Image, TheCheckUsesTheRecordsAndStillSeesAChangedFile) {
  writeImageJson("vmlinux");
  for (const char* f : {"vmlinux", "initrd.img"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / f).c_str(), &st), 0);
    auto d = cachedSha256((dir_ / f).string(), false, 0);
    ASSERT_TRUE(d);
    const long long ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
    test::writeFile(dir_ / (std::string(f) + kHashRecordSuffix), hashRecordText(d->hex, st, ctime_ns + kRacyMarginNs));
  }
  auto s = resolved();
  ASSERT_TRUE(verifyImageHash(s));
  auto d = cachedSha256((dir_ / "vmlinux").string(), false);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->from_record) << "the check reads the record, not the file";

  test::writeFile(dir_ / "vmlinux", "elf kernal\n");  // same size, new content: the record no longer matches
  auto r = verifyImageHash(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("fw: guest image " + dir_.string() +
                                   " is corrupt or changed: " + (dir_ / "vmlinux").string() + " has sha256 "),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().fix, "rebuild the image: cmake --build build --target guest_image");
}

TEST_F(Image, AnImageWithoutBootFilesIsHashedWhole) {
  // image.json as images built before "boot_files": sha256 of kernel then initrd.
  test::writeFile(dir_ / "image.json",
                  R"({"sha256": "0000000000000000000000000000000000000000000000000000000000000000"})");
  auto s = resolved();
  auto r = verifyImageHash(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("but its build recorded 0000"), std::string::npos) << r.error().message;
  test::writeFile(dir_ / "image.json", "{not json");
  r = verifyImageHash(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, (dir_ / "image.json").string() + " is not valid JSON");
}

}  // namespace
}  // namespace vnf::lifecycle
