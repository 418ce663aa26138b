#include "prep/host_ops.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <filesystem>

#include <fmt/format.h>

#include "prep/netlink.h"

namespace vnf::prep {
namespace {

Error notLive(const std::string& what, const std::string& root) {
  return Error{Errc::kInvalidArgument, fmt::format("{} needs the live host, but --host-root is {}", what, root),
               "run without --host-root (or with --host-root /) on the host to prepare"};
}

}  // namespace

std::string LiveHostOps::real(const std::string& host_path) const {
  if (live()) return host_path;
  return (std::filesystem::path(root_) / std::filesystem::path(host_path).relative_path()).string();
}

Result<void> LiveHostOps::writeAttr(const std::string& path, const std::string& value) {
  // No O_CREAT: sysfs attributes always exist, and a missing one means a wrong path, not a new file.
  // Under a --host-root folder the attributes are regular files: the value replaces the old one as
  // the kernel's would (O_TRUNC: "32" over "512" must not leave "322"), and anything else there (a
  // FIFO, a device) is refused without blocking.
  const bool folder = !live();
  int fd = ::open(real(path).c_str(), O_WRONLY | O_CLOEXEC | (folder ? O_NONBLOCK : 0));
  if (fd < 0) {
    return fail(errno == ENOENT ? Errc::kNotFound : Errc::kIo,
                fmt::format("cannot open {} to write '{}': {}", path, value, std::strerror(errno)),
                errno == EACCES ? "run as root" : "");
  }
  if (folder) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return fail(
          Errc::kInvalidArgument,
          fmt::format("{} under --host-root {} is not a regular file; not writing '{}' to it", path, root_, value),
          "point --host-root at a snapshot folder whose sysfs attributes are regular files");
    }
    if (::ftruncate(fd, 0) != 0) {
      int err = errno;
      ::close(fd);
      return fail(Errc::kIo, fmt::format("cannot truncate {} to write '{}': {}", path, value, std::strerror(err)));
    }
  }
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0 || static_cast<std::size_t>(n) != value.size()) {
    return fail(Errc::kIo,
                fmt::format("writing '{}' to {} failed: {}", value, path, n < 0 ? std::strerror(err) : "short write"));
  }
  return {};
}

Result<bool> LiveHostOps::makeDir(const std::string& path) {
  std::error_code ec;
  bool made = std::filesystem::create_directories(real(path), ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create directory {}: {}", path, ec.message()));
  return made;
}

Result<void> LiveHostOps::removeDir(const std::string& path) {
  if (::rmdir(real(path).c_str()) != 0 && errno != ENOENT) {
    return fail(Errc::kIo, fmt::format("cannot remove directory {}: {}", path, std::strerror(errno)));
  }
  return {};
}

Result<void> LiveHostOps::mountHugetlbfs(const std::string& dir, std::uint64_t page_size_kib) {
  if (!live()) return std::unexpected(notLive("mounting hugetlbfs", root_));
  const auto options = fmt::format("pagesize={}K", page_size_kib);
  if (::mount("nodev", dir.c_str(), "hugetlbfs", 0, options.c_str()) != 0) {
    return fail(Errc::kIo,
                fmt::format("mount -t hugetlbfs -o {} nodev {} failed: {}", options, dir, std::strerror(errno)),
                "check that the kernel has hugetlbfs (grep hugetlbfs /proc/filesystems) and that you are root");
  }
  return {};
}

Result<void> LiveHostOps::unmount(const std::string& dir) {
  if (!live()) return std::unexpected(notLive("unmounting hugetlbfs", root_));
  if (::umount2(dir.c_str(), 0) != 0 && errno != EINVAL) {
    return fail(Errc::kIo, fmt::format("umount {} failed: {}", dir, std::strerror(errno)),
                errno == EBUSY ? "stop the VMs that use its hugepages first" : "");
  }
  return {};
}

Result<std::vector<VfLinkState>> LiveHostOps::vfStates(const std::string& pf_netdev) {
  if (!live()) return std::unexpected(notLive("reading VF settings over netlink", root_));
  return netlink::vfStates(pf_netdev);
}

Result<void> LiveHostOps::setVf(const std::string& pf_netdev, int vf, VfField field, const std::string& value) {
  if (!live()) return std::unexpected(notLive("setting VF settings over netlink", root_));
  switch (field) {
    case VfField::kMac: {
      auto mac = parseMac(value);
      if (!mac) return fail(Errc::kInvalidArgument, fmt::format("'{}' is not a MAC address", value));
      return netlink::setVfMac(pf_netdev, vf, *mac);
    }
    case VfField::kVlan: {
      auto id = parseUnsigned(value);
      if (!id || *id > 4094) return fail(Errc::kInvalidArgument, fmt::format("VLAN '{}' is not 0..4094", value));
      return netlink::setVfVlan(pf_netdev, vf, static_cast<int>(*id));
    }
    case VfField::kTrust: return netlink::setVfTrust(pf_netdev, vf, value == "on");
    case VfField::kSpoofchk: return netlink::setVfSpoofchk(pf_netdev, vf, value == "on");
  }
  return fail(Errc::kInvalidArgument, "unknown VF field");
}

}  // namespace vnf::prep
