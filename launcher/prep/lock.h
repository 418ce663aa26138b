// The host-wide prepare lock: flock(2) on a file (default /run/vnfctl/prepare.lock), so two prepare or
// unprepare runs never interleave their sysfs writes. The kernel drops it when the process dies.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"

namespace vnf::prep {

class PrepareLock {
 public:
  // Waits up to `wait` for the lock, then fails naming the holder's pid (written into the file).
  static Result<PrepareLock> acquire(const std::string& path, std::chrono::milliseconds wait);
  PrepareLock(PrepareLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  PrepareLock& operator=(PrepareLock&&) = delete;
  PrepareLock(const PrepareLock&) = delete;
  ~PrepareLock();

 private:
  explicit PrepareLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace vnf::prep
