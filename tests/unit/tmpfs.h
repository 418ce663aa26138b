// A small tmpfs the test mounts (root only) to make a full or a read-only filesystem; unmounted
// and removed when the object goes, also when an assertion failed.
#pragma once

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/unit/test_util.h"

namespace vnf::test {

class Tmpfs {
 public:
  // size_kib: the filesystem's size; read_only: remounted read-only after `fill` ran.
  explicit Tmpfs(const std::string& tag, unsigned size_kib = 64) : dir_(makeTempDir(tag)) {
    std::string opts = "size=" + std::to_string(size_kib) + "k,mode=0755";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Remounts read-only; false (and error()) on failure.
  bool makeReadOnly() {
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0) return true;
    error_ = std::strerror(errno);
    return false;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string error_;
};

inline bool isRoot() { return ::geteuid() == 0; }

}  // namespace vnf::test
