#include "common/error.h"

namespace vnf {

const char* errcName(Errc code) {
  switch (code) {
    case Errc::kNotFound: return "not-found";
    case Errc::kUnreadable: return "unreadable";
    case Errc::kBadContent: return "bad-content";
    case Errc::kSymlinkLoop: return "symlink-loop";
    case Errc::kInvalidArgument: return "invalid-argument";
    case Errc::kConflict: return "conflict";
    case Errc::kLibvirt: return "libvirt";
    case Errc::kIo: return "io";
  }
  return "unknown";
}

std::string Error::str() const {
  if (fix.empty()) return message;
  return message + " (fix: " + fix + ")";
}

}  // namespace vnf
