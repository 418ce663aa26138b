// The one seam through which host preparation changes the host: sysfs attribute writes, hugetlbfs
// mounts and netlink VF settings. Reads go through HostFs. LiveHostOps does the real thing, rooted at
// a directory like HostFs; unit tests substitute a fake kernel that simulates the effects in a tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/parse.h"

namespace vnf::prep {

// One VF as the PF's driver reports it over netlink (IFLA_VFINFO_LIST).
struct VfLinkState {
  int index = 0;
  MacAddress mac{};
  int vlan = 0;
  int trust = -1;     // 0/1; -1 when the driver does not report it
  int spoofchk = -1;  // 0/1; -1 when the driver does not report it
};

enum class VfField { kMac, kVlan, kTrust, kSpoofchk };

class HostOps {
 public:
  virtual ~HostOps() = default;
  // Writes `value` to an existing attribute file at a host path ("/sys/bus/pci/drivers_probe").
  // The error names the path, the value and the kernel's errno text.
  virtual Result<void> writeAttr(const std::string& path, const std::string& value) = 0;
  // Creates a directory (and parents) at a host path; true when it did not exist before.
  virtual Result<bool> makeDir(const std::string& path) = 0;
  virtual Result<void> removeDir(const std::string& path) = 0;
  virtual Result<void> mountHugetlbfs(const std::string& dir, std::uint64_t page_size_kib) = 0;
  virtual Result<void> unmount(const std::string& dir) = 0;
  // VF settings of a PF netdev. Fails when the PF has no netdev or netlink refuses.
  virtual Result<std::vector<VfLinkState>> vfStates(const std::string& pf_netdev) = 0;
  // `value`: a MAC "52:54:00:12:34:56", a VLAN id "0".."4094", or "on"/"off".
  virtual Result<void> setVf(const std::string& pf_netdev, int vf, VfField field, const std::string& value) = 0;
};

// The real host. Sysfs paths are taken under `root` (as HostFs does); mounts and netlink only work on
// the live host (root "/") and fail with an explanation otherwise.
class LiveHostOps final : public HostOps {
 public:
  explicit LiveHostOps(std::string root) : root_(std::move(root)) {}
  Result<void> writeAttr(const std::string& path, const std::string& value) override;
  Result<bool> makeDir(const std::string& path) override;
  Result<void> removeDir(const std::string& path) override;
  Result<void> mountHugetlbfs(const std::string& dir, std::uint64_t page_size_kib) override;
  Result<void> unmount(const std::string& dir) override;
  Result<std::vector<VfLinkState>> vfStates(const std::string& pf_netdev) override;
  Result<void> setVf(const std::string& pf_netdev, int vf, VfField field, const std::string& value) override;

 private:
  std::string real(const std::string& host_path) const;
  bool live() const { return root_ == "/" || root_.empty(); }
  std::string root_;
};

}  // namespace vnf::prep
