// A host-wide lock: flock(2) on a file under /run/vnfctl, so two vnfctl processes never interleave
// a critical section (prepare's sysfs writes; launch's plan+define). The kernel drops it when the
// process dies, so a killed vnfctl never leaves it held.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"

namespace vnf {

class HostLock {
 public:
  // Waits up to `wait` for the lock, then fails naming the holder's pid (written into the file).
  // `what` names the critical section in messages ("prepare/unprepare", "launch").
  static Result<HostLock> acquire(const std::string& path, std::chrono::milliseconds wait, const std::string& what);
  HostLock(HostLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  HostLock& operator=(HostLock&&) = delete;
  HostLock(const HostLock&) = delete;
  ~HostLock();
  // Drops the lock before the object goes away (idempotent).
  void release();

 private:
  explicit HostLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace vnf
