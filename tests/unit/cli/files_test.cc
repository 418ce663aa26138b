// Files vnfctl reads and writes, through the binary: specs and profiles that are pipes, devices,
// links, folders or missing; `render -o` onto links, pipes, folders, devices, the spec itself, a
// read-only and a full filesystem; stdout that is full or whose reader went away.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/cli/run_vnfctl.h"
#include "tests/unit/test_util.h"
#include "tests/unit/tmpfs.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;
using test::vnfctl;

const char* kSpec = "name: fw\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\n";

std::vector<std::string> render(std::vector<std::string> rest) {
  std::vector<std::string> args{
      "--host-root", test::hostTree("1node-tcg-vm"), "render", "--templates", VNF_TEMPLATES, "--no-validate",
      "--image-dir", "/var/lib/vnfctl/image"};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

std::string subst(std::string text, const fs::path& dir) {
  for (auto pos = text.find("DIR"); pos != std::string::npos; pos = text.find("DIR", pos)) {
    text.replace(pos, 3, dir.string());
  }
  return text;
}

std::string listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

class Files : public testing::Test {
 protected:
  void SetUp() override { dir_ = test::makeTempDir("cli-files"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

// ---- inputs: the spec and the profile a user names ----

struct InputCase {
  const char* name;
  std::function<std::string(const fs::path&)> make;  // the path to give
  int code;
  std::string err;  // with DIR for the test folder
};

std::string fifoAt(const fs::path& d, const char* name) {
  ::mkfifo((d / name).c_str(), 0600);
  return (d / name).string();
}

auto nameOf = [](const auto& info) {
  std::string n = info.param.name;
  for (auto& ch : n) ch = ch == '-' ? '_' : ch;
  return n;
};

class SpecInput : public Files, public testing::WithParamInterface<InputCase> {};

TEST_P(SpecInput, IsARegularFileOrARefusalThatNamesIt) {
  const auto& c = GetParam();
  auto r = vnfctl(render({c.make(dir_)}));
  EXPECT_EQ(r.code, c.code) << r.err;
  EXPECT_EQ(r.err, subst(c.err, dir_));
  if (c.code != 0) {
    EXPECT_EQ(r.out, "");
  }
}

const char* kNotRegularFix =
    "  fix: give the path of a regular file; vnfctl does not read pipes, devices or sockets, which can block it or "
    "feed it without end\n";

INSTANTIATE_TEST_SUITE_P(
    Table, SpecInput,
    testing::Values(
        InputCase{"fifo", [](const fs::path& d) { return fifoAt(d, "fw.yaml"); }, 2,
                  std::string("vnfctl: error: VNF spec DIR/fw.yaml is a FIFO (named pipe), not a regular file\n") +
                      kNotRegularFix},
        InputCase{"dev-zero", [](const fs::path&) { return std::string("/dev/zero"); }, 2,
                  std::string("vnfctl: error: VNF spec /dev/zero is a character device, not a regular file\n") +
                      kNotRegularFix},
        InputCase{"directory", [](const fs::path& d) { return d.string(); }, 2,
                  "vnfctl: error: VNF spec DIR is a directory, not a regular file\n"
                  "  fix: give the path of a file inside it (ls DIR)\n"},
        InputCase{"missing", [](const fs::path& d) { return (d / "fw.yaml").string(); }, 2,
                  "vnfctl: error: VNF spec DIR/fw.yaml does not exist\n"
                  "  fix: check the path: ls -l DIR\n"},
        InputCase{"symlink",
                  [](const fs::path& d) {
                    test::writeFile(d / "real.yaml", kSpec);
                    fs::create_symlink(d / "real.yaml", d / "fw.yaml");
                    return (d / "fw.yaml").string();
                  },
                  0, ""}),
    nameOf);

class ProfileInput : public Files, public testing::WithParamInterface<InputCase> {};

TEST_P(ProfileInput, IsARegularFileOrARefusalThatNamesIt) {
  const auto& c = GetParam();
  test::writeFile(dir_ / "fw.yaml", std::string(kSpec) + "profile: " + c.make(dir_) + "\n");
  auto r = vnfctl(render({(dir_ / "fw.yaml").string()}));
  EXPECT_EQ(r.code, c.code) << r.err;
  EXPECT_EQ(r.err, subst(c.err, dir_));
  if (c.code != 0) {
    EXPECT_EQ(r.out, "");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProfileInput,
    testing::Values(
        InputCase{
            "fifo", [](const fs::path& d) { return fifoAt(d, "mine.xml"); }, 2,
            std::string("vnfctl: error: domain template DIR/mine.xml is a FIFO (named pipe), not a regular file\n") +
                kNotRegularFix},
        InputCase{"dev-zero", [](const fs::path&) { return std::string("/dev/zero"); }, 2,
                  std::string("vnfctl: error: domain template /dev/zero is a character device, not a regular file\n") +
                      kNotRegularFix},
        InputCase{"directory",
                  [](const fs::path& d) {
                    fs::create_directory(d / "tmpl");
                    return (d / "tmpl").string();
                  },
                  2,
                  "vnfctl: error: domain template DIR/tmpl is a directory, not a regular file\n"
                  "  fix: give the path of a file inside it (ls DIR/tmpl)\n"},
        InputCase{"missing", [](const fs::path& d) { return (d / "mine.xml").string(); }, 3,
                  "vnfctl: error: domain template DIR/mine.xml does not exist\n"
                  "  fix: give the path of an existing template, or a profile name from domain-templates/\n"},
        InputCase{"symlink",
                  [](const fs::path& d) {
                    fs::create_symlink(fs::path(VNF_TEMPLATES) / "default.xml", d / "mine.xml");
                    return (d / "mine.xml").string();
                  },
                  0, ""}),
    nameOf);

TEST_F(Files, ARelativeProfileResolvesFromTheSpecsFolder) {
  fs::create_directories(dir_ / "specs");
  fs::copy_file(fs::path(VNF_TEMPLATES) / "default.xml", dir_ / "specs" / "mine.xml");
  test::writeFile(dir_ / "specs" / "fw.yaml", std::string(kSpec) + "profile: mine.xml\n");
  auto r = vnfctl(render({(dir_ / "specs" / "fw.yaml").string()}));  // run from another folder
  EXPECT_EQ(r.code, 0) << r.err;
}

// ---- render -o ----

struct OutputCase {
  const char* name;
  std::function<std::string(const fs::path&)> make;  // the -o value; the spec is DIR/fw.yaml
  std::string err;
};

class RenderOutput : public Files, public testing::WithParamInterface<OutputCase> {};

TEST_P(RenderOutput, IsRefusedAndNothingChanges) {
  const auto& c = GetParam();
  test::writeFile(dir_ / "fw.yaml", kSpec);
  auto out = c.make(dir_);
  auto before = listing(dir_);
  auto r = vnfctl(render({(dir_ / "fw.yaml").string(), "-o", out}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, subst(c.err, dir_));
  EXPECT_EQ(listing(dir_), before);
  EXPECT_EQ(test::readFile(dir_ / "fw.yaml"), kSpec);
}

const char* kWriteFix =
    "  fix: give a new file name or the path of a regular file; vnfctl replaces files by rename and never writes "
    "through links or into folders, pipes or devices\n";

INSTANTIATE_TEST_SUITE_P(
    Table, RenderOutput,
    testing::Values(
        OutputCase{"symlink-to-spec",
                   [](const fs::path& d) {
                     fs::create_symlink(d / "fw.yaml", d / "out.xml");
                     return (d / "out.xml").string();
                   },
                   "vnfctl: error: -o DIR/out.xml is the VNF spec DIR/fw.yaml given on the command line; writing "
                   "the XML there would destroy the spec\n"
                   "  fix: give another output file, e.g. -o DIR/fw.xml\n"},
        OutputCase{"spec", [](const fs::path& d) { return (d / "fw.yaml").string(); },
                   "vnfctl: error: -o DIR/fw.yaml is the VNF spec DIR/fw.yaml given on the command line; writing "
                   "the XML there would destroy the spec\n"
                   "  fix: give another output file, e.g. -o DIR/fw.xml\n"},
        OutputCase{"fifo", [](const fs::path& d) { return fifoAt(d, "out.xml"); },
                   std::string("vnfctl: error: DIR/out.xml is a FIFO (named pipe), not a regular file\n") + kWriteFix},
        OutputCase{"dev-null", [](const fs::path&) { return std::string("/dev/null"); },
                   "vnfctl: error: /dev/null is a character device, not a regular file\n"
                   "  fix: to discard the output, write to stdout and redirect it: > /dev/null\n"},
        OutputCase{"directory-in-folder",
                   [](const fs::path& d) {
                     fs::create_directories(d / "out" / "fw.xml");
                     return (d / "out").string();
                   },
                   std::string("vnfctl: error: DIR/out/fw.xml is a directory, not a regular file\n") + kWriteFix}),
    nameOf);

TEST_F(Files, RenderOntoASymlinkLeavesTheLinkAndItsTarget) {
  test::writeFile(dir_ / "fw.yaml", kSpec);
  test::writeFile(dir_ / "victim", "precious\n");
  fs::create_symlink(dir_ / "victim", dir_ / "out.xml");
  auto r = vnfctl(render({(dir_ / "fw.yaml").string(), "-o", (dir_ / "out.xml").string()}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "vnfctl: error: " + (dir_ / "out.xml").string() + " is a symbolic link to " +
                       (dir_ / "victim").string() +
                       "; vnfctl does not write through links\n"
                       "  fix: give the link's target as the path, or remove the link: rm " +
                       (dir_ / "out.xml").string() + "\n");
  EXPECT_EQ(fs::read_symlink(dir_ / "out.xml"), dir_ / "victim");
  EXPECT_EQ(test::readFile(dir_ / "victim"), "precious\n");
}

TEST_F(Files, SeveralVnfsIntoAFolderWriteNothingWhenOneTargetIsRefused) {
  test::writeFile(dir_ / "a.yaml", "name: a\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\n");
  test::writeFile(dir_ / "b.yaml", "name: b\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\n");
  fs::create_directories(dir_ / "out");
  test::writeFile(dir_ / "elsewhere", "keep\n");
  fs::create_symlink(dir_ / "elsewhere", dir_ / "out" / "b.xml");
  auto r = vnfctl(render({(dir_ / "a.yaml").string(), (dir_ / "b.yaml").string(), "-o", (dir_ / "out").string()}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(listing(dir_ / "out"), "b.xml ") << "a.xml must not be written either";
  EXPECT_EQ(test::readFile(dir_ / "elsewhere"), "keep\n");
  // Without the link both are written, as regular files.
  fs::remove(dir_ / "out" / "b.xml");
  r = vnfctl(render({(dir_ / "a.yaml").string(), (dir_ / "b.yaml").string(), "-o", (dir_ / "out").string()}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(listing(dir_ / "out"), "a.xml b.xml ");
}

TEST_F(Files, RenderIntoAReadOnlyFolderFailsClearly) {
  if (!test::isRoot()) GTEST_SKIP() << "mounting a read-only tmpfs needs root";
  test::writeFile(dir_ / "fw.yaml", kSpec);
  test::Tmpfs ro("cli-ro");
  ASSERT_TRUE(ro.mounted()) << ro.error();
  ASSERT_TRUE(ro.makeReadOnly()) << ro.error();
  auto out = (ro.dir() / "fw.xml").string();
  auto r = vnfctl(render({(dir_ / "fw.yaml").string(), "-o", out}));
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err, "vnfctl: error: cannot write " + out + ": the filesystem holding " + ro.dir().string() +
                       " is read-only\n  fix: write to a folder on a writable filesystem (findmnt -T " +
                       ro.dir().string() + " shows the mount)\n");
  EXPECT_EQ(listing(ro.dir()), "");
}

TEST_F(Files, RenderIntoAFullFilesystemFailsClearlyAndLeavesNoTemporaryFile) {
  if (!test::isRoot()) GTEST_SKIP() << "mounting a small tmpfs needs root";
  test::writeFile(dir_ / "fw.yaml", kSpec);
  test::Tmpfs full("cli-full", 64);
  ASSERT_TRUE(full.mounted()) << full.error();
  test::writeFile(full.dir() / "filler", std::string(64 * 1024, 'x'));  // as much as fits
  auto out = (full.dir() / "fw.xml").string();
  auto r = vnfctl(render({(dir_ / "fw.yaml").string(), "-o", out}));
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err.substr(0, r.err.find(" (")),
            "vnfctl: error: cannot write " + out + ": no space left on the filesystem holding " + full.dir().string());
  EXPECT_NE(r.err.find("  fix: free space there (df -h " + full.dir().string() + ") or write to another folder\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(listing(full.dir()), "filler ");
}

// ---- stdout ----

struct StdoutCase {
  const char* name;
  std::vector<std::string> args;
};

class FullStdout : public testing::TestWithParam<StdoutCase> {};

TEST_P(FullStdout, IsAnErrorWithExitCodeOne) {
  auto args = GetParam().args;
  auto r = vnfctl(args, test::Stdout{.path = "/dev/full"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.substr(r.err.find("vnfctl: error:")),
            "vnfctl: error: cannot write the output to stdout: no space left on the device it goes to\n"
            "  fix: free space there (df -h), or send the output elsewhere\n");
}

INSTANTIATE_TEST_SUITE_P(
    Table, FullStdout,
    testing::Values(StdoutCase{"host-json", {"--host-root", test::hostTree("1node-tcg-vm"), "host", "--json"}},
                    StdoutCase{"host-text", {"--host-root", test::hostTree("1node-tcg-vm"), "host"}},
                    StdoutCase{"plan-json",
                               {"--host-root", test::hostTree("1node-tcg-vm"), "plan", "--name", "fw", "--vcpus", "1",
                                "--memory", "512M", "--hugepages", "none", "--cpu-policy", "shared", "--json"}},
                    StdoutCase{"doctor-json",
                               {"--host-root", test::hostTree("2socket-ht-x710-node1"), "doctor", "--json"}},
                    StdoutCase{"render", render({"--name", "fw", "--vcpus", "1", "--memory", "512M", "--hugepages",
                                                 "none", "--cpu-policy", "shared"})}),
    nameOf);

// A reader that stopped reading (`vnfctl host --json | head -1`) is not an error: the output ends
// quietly and the exit code is the command's own, as with any filter.
TEST(ClosedStdout, EndsQuietlyWithTheCommandsExitCode) {
  auto r = vnfctl({"--host-root", test::hostTree("1node-tcg-vm"), "host", "--json"},
                  test::Stdout{.path = std::nullopt, .closed_pipe = true});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace vnf
