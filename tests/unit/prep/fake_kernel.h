// A fake kernel for prep tests: a copy of a fake host tree plus the effects the real kernel gives
// sysfs writes (sriov_numvfs makes VF devices, driver_override + drivers_probe binds, nr_hugepages is
// granted up to a cap), hugetlbfs mounts as /proc/mounts lines, and netlink VF settings in memory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>

#include "prep/host_ops.h"
#include "tests/unit/test_util.h"

namespace vnf::test {

namespace fs = std::filesystem;

class FakeKernel : public prep::HostOps {
 public:
  explicit FakeKernel(fs::path root) : root_(std::move(root)) {}

  // Faults to inject.
  std::uint64_t hugepage_cap = UINT64_MAX;  // the most pages nr_hugepages grants (fragmented memory)
  bool vf0_shares_pf_group = false;         // new VF 0 lands in its PF's IOMMU group (no ACS)
  int crash_after_writes = -1;              // _exit(9) at this write (an interrupted run)
  int writes = 0;
  std::vector<std::string> log;  // "path=value" of every attribute write

  fs::path real(const std::string& p) const { return root_ / fs::path(p).relative_path(); }
  std::string read(const std::string& p) const { return std::string(trim(readFile(real(p)))); }
  std::string driverOf(const std::string& addr) const {
    std::error_code ec;
    auto t = fs::read_symlink(real("/sys/bus/pci/devices/" + addr + "/driver"), ec);
    return ec ? "" : t.filename().string();
  }

  Result<void> writeAttr(const std::string& path, const std::string& value) override {
    if (++writes == crash_after_writes) ::_exit(9);
    log.push_back(path + "=" + value);
    const auto p = real(path);
    if (path.ends_with("/sriov_numvfs")) return numVfs(path, value);
    if (path == "/sys/bus/pci/drivers_probe") return probe(value);
    if (path.ends_with("/driver/unbind")) {
      fs::remove(real("/sys/bus/pci/devices/" + value) / "driver");
      return {};
    }
    if (path.ends_with("/driver_override")) {
      auto v = std::string(trim(value));
      writeFile(p, (v.empty() ? "(null)" : v) + "\n");
      return {};
    }
    if (path.ends_with("/nr_hugepages")) {
      auto want = parseUnsigned(value).value_or(0);
      auto got = std::to_string(std::min(want, hugepage_cap));
      writeFile(p, got + "\n");
      writeFile(p.parent_path() / "free_hugepages", got + "\n");
      return {};
    }
    if (!fs::exists(p)) return fail(Errc::kNotFound, "fake: no such attribute " + path);
    writeFile(p, value);
    return {};
  }
  Result<bool> makeDir(const std::string& path) override { return fs::create_directories(real(path)); }
  Result<void> removeDir(const std::string& path) override {
    fs::remove(real(path));
    return {};
  }
  Result<void> mountHugetlbfs(const std::string& dir, std::uint64_t kib) override {
    std::ofstream(real("/proc/mounts"), std::ios::app)
        << fmt::format("nodev {} hugetlbfs rw,relatime,pagesize={}K 0 0\n", dir, kib);
    return {};
  }
  Result<void> unmount(const std::string& dir) override {
    auto text = readFile(real("/proc/mounts"));
    std::string out, line;
    std::istringstream in(text);
    while (std::getline(in, line)) {
      if (line.find(" " + dir + " hugetlbfs") == std::string::npos) out += line + "\n";
    }
    writeFile(real("/proc/mounts"), out);
    return {};
  }
  Result<std::vector<prep::VfLinkState>> vfStates(const std::string& pf_netdev) override {
    std::vector<prep::VfLinkState> out;
    for (auto& [i, s] : vf_[pf_netdev]) out.push_back(s);
    return out;
  }
  Result<void> setVf(const std::string& pf_netdev, int vf, prep::VfField field, const std::string& value) override {
    log.push_back(fmt::format("netlink {} vf {} {}", pf_netdev, vf, value));
    auto it = vf_[pf_netdev].find(vf);
    if (it == vf_[pf_netdev].end()) return fail(Errc::kInvalidArgument, "fake: no such VF");
    auto& s = it->second;
    switch (field) {
      case prep::VfField::kMac: s.mac = *parseMac(value); break;
      case prep::VfField::kVlan: s.vlan = static_cast<int>(*parseUnsigned(value)); break;
      case prep::VfField::kTrust: s.trust = value == "on"; break;
      case prep::VfField::kSpoofchk: s.spoofchk = value == "on"; break;
    }
    return {};
  }
  std::map<int, prep::VfLinkState>& vfs(const std::string& netdev) { return vf_[netdev]; }

 private:
  std::string netdevOf(const fs::path& pf_dir) const {
    for (const auto& e : fs::directory_iterator(pf_dir / "net")) return e.path().filename().string();
    return "";
  }

  Result<void> numVfs(const std::string& path, const std::string& value) {
    const auto pf_dir = fs::canonical(real(path).parent_path());
    const auto pf = pf_dir.filename().string();
    const auto want = static_cast<int>(*parseUnsigned(value));
    const auto have = static_cast<int>(*parseUnsigned(readFile(pf_dir / "sriov_numvfs")));
    if (want != 0 && have != 0 && want != have) return fail(Errc::kIo, "fake: EBUSY, write 0 first");
    const auto netdev = netdevOf(pf_dir);
    for (int i = 0; i < have && want == 0; ++i) {
      auto vf = fs::read_symlink(pf_dir / fmt::format("virtfn{}", i)).filename().string();
      auto group = fs::read_symlink(pf_dir.parent_path() / vf / "iommu_group").filename().string();
      fs::remove_all(pf_dir.parent_path() / vf);
      fs::remove(pf_dir / fmt::format("virtfn{}", i));
      fs::remove(real("/sys/bus/pci/devices/" + vf));
      fs::remove(real(fmt::format("/sys/kernel/iommu_groups/{}/devices/{}", group, vf)));
      vf_[netdev].erase(i);
    }
    for (int i = 0; i < want && have == 0; ++i) {
      auto vf = fmt::format("{}:{:02x}.{}", pf.substr(0, 7), 0x10 + i / 8 + 4 * (pf.back() - '0'), i % 8);
      auto dir = pf_dir.parent_path() / vf;
      fs::create_directories(dir);
      writeFile(dir / "class", "0x020000\n");
      writeFile(dir / "vendor", "0x8086\n");
      writeFile(dir / "device", "0x154c\n");
      writeFile(dir / "numa_node", readFile(pf_dir / "numa_node"));
      writeFile(dir / "local_cpulist", readFile(pf_dir / "local_cpulist"));
      writeFile(dir / "driver_override", "(null)\n");
      fs::create_directory_symlink("../" + pf, dir / "physfn");
      auto group = i == 0 && vf0_shares_pf_group ? fs::read_symlink(pf_dir / "iommu_group").filename().string()
                                                 : std::to_string(200 + 10 * (pf.back() - '0') + i);
      fs::create_directories(real("/sys/kernel/iommu_groups/" + group + "/devices"));
      fs::create_directory_symlink("../../../../devices/" + pf_dir.parent_path().filename().string() + "/" + vf,
                                   real("/sys/kernel/iommu_groups/" + group + "/devices/" + vf));
      fs::create_directory_symlink("../../../kernel/iommu_groups/" + group, dir / "iommu_group");
      fs::create_directory_symlink("../../../devices/" + pf_dir.parent_path().filename().string() + "/" + vf,
                                   real("/sys/bus/pci/devices/" + vf));
      fs::create_directory_symlink("../" + vf, pf_dir / fmt::format("virtfn{}", i));
      if (fs::exists(real("/sys/bus/pci/drivers/iavf")))
        fs::create_directory_symlink("../../../bus/pci/drivers/iavf", dir / "driver");
      prep::VfLinkState s;
      s.index = i;
      s.trust = 0;
      s.spoofchk = 1;
      vf_[netdev][i] = s;
    }
    writeFile(pf_dir / "sriov_numvfs", value + "\n");
    return {};
  }

  Result<void> probe(const std::string& addr) {
    const auto dev = real("/sys/bus/pci/devices/" + addr);
    if (fs::is_symlink(dev / "driver")) return {};
    auto over = std::string(trim(readFile(dev / "driver_override")));
    auto drv = over.empty() || over == "(null)" ? std::string("iavf") : over;
    if (!fs::exists(real("/sys/bus/pci/drivers/" + drv))) return {};
    fs::create_directory_symlink("../../../bus/pci/drivers/" + drv, fs::canonical(dev) / "driver");
    return {};
  }

  fs::path root_;
  std::map<std::string, std::map<int, prep::VfLinkState>> vf_;
};

// A private copy of a committed fake host tree.
inline fs::path copyHost(const std::string& name) {
  auto dir = makeTempDir("prep");
  fs::copy(dataDir() / "hosts" / name, dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  return dir;
}

}  // namespace vnf::test
