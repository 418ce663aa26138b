// The project's error type: what failed, and the fix a person can act on.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace vnf {

enum class Errc {
  kNotFound,         // a file, device or object that should exist does not
  kUnreadable,       // exists but cannot be read (permissions, I/O)
  kBadContent,       // read fine, but the content is not what was expected
  kSymlinkLoop,      // too many symbolic links while resolving a path
  kInvalidArgument,  // the user gave a value outside its limits
  kConflict,         // the request collides with existing state
  kLibvirt,          // libvirt reported an error
  kIo,               // writing failed
  // Kinds a caller acts on differently (each has its own exit code, docs/cli.md):
  kDoesNotFit,    // the host has no room for the request (CPUs, memory, VFs)
  kNoSuchVnf,     // the named VNF does not exist (or is not one vnfctl manages)
  kTimeout,       // a guest did not report READY in time
  kGuestFailed,   // a guest reported VNF-FAILED or stopped before READY
  kBusy,          // another vnfctl holds the lock
  kNeedsReplace,  // the VNF exists with a different spec; --replace redefines it
  kHostNotReady,  // the host lacks something the request needs (hugepages at start, vfio, ...)
  kUnreachable,   // libvirt (or the host) cannot be reached
  kInterrupted,   // SIGINT/SIGTERM/SIGHUP: the run was cancelled and rolled back
};

const char* errcName(Errc code);

// The one table of exit codes (docs/cli.md). 0 success; 1 the command ran and found or caused a
// failure; 2 bad input, nothing changed; 3 the host or libvirt could not be read or reached;
// 4 does not fit; 5 no such VNF; 6 timeout; 7 guest failed; 8 busy; 9 needs --replace;
// 10 host not ready; 130 interrupted.
int exitCodeOf(Errc code);

struct Error {
  Errc code;
  std::string message;  // what failed, with the value seen and the limit
  std::string fix;      // what to do about it; empty when there is nothing to suggest

  // "message (fix: ...)" on one line, for logs.
  std::string str() const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message, std::string fix = {}) {
  return std::unexpected(Error{code, std::move(message), std::move(fix)});
}

}  // namespace vnf
