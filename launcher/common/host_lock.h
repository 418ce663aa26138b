// A host-wide lock: flock(2) on a file under /run/vnfctl, so two vnfctl processes never interleave
// a critical section (prepare's sysfs writes; launch's gather+plan+define against one libvirt URI).
// The kernel drops it when the process dies (even by SIGKILL), so a killed vnfctl never leaves it
// held. The holder writes "PID COMMAND" into the file, so a waiter can say at once who holds it.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/error.h"

namespace vnf {

class HostLock {
 public:
  // Waits up to `wait` for the lock. When it is busy, `waiting(holder)` is called once at once,
  // with the holder described as "pid 1234 (vnfctl launch fw.yaml)", before the wait begins. On
  // time-out: kBusy naming the holder, the lock file and the time waited. `what` names the critical
  // section ("prepare/unprepare", "launch"); `command` is what this process writes as holder.
  static Result<HostLock> acquire(const std::string& path, std::chrono::milliseconds wait, const std::string& what,
                                  const std::function<void(const std::string& holder)>& waiting = {},
                                  const std::string& command = {});
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

// This process's command line, arguments joined by spaces (from /proc/self/cmdline), at most 200 chars.
std::string selfCommandLine();

}  // namespace vnf
