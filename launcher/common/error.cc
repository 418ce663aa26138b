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
    case Errc::kDoesNotFit: return "does-not-fit";
    case Errc::kNoSuchVnf: return "no-such-vnf";
    case Errc::kTimeout: return "timeout";
    case Errc::kGuestFailed: return "guest-failed";
    case Errc::kBusy: return "busy";
    case Errc::kNeedsReplace: return "needs-replace";
    case Errc::kHostNotReady: return "host-not-ready";
    case Errc::kUnreachable: return "unreachable";
    case Errc::kInterrupted: return "interrupted";
  }
  return "unknown";
}

int exitCodeOf(Errc code) {
  switch (code) {
    case Errc::kConflict:
    case Errc::kLibvirt:
    case Errc::kIo: return 1;
    case Errc::kInvalidArgument: return 2;
    case Errc::kNotFound:
    case Errc::kUnreadable:
    case Errc::kBadContent:
    case Errc::kSymlinkLoop:
    case Errc::kUnreachable: return 3;
    case Errc::kDoesNotFit: return 4;
    case Errc::kNoSuchVnf: return 5;
    case Errc::kTimeout: return 6;
    case Errc::kGuestFailed: return 7;
    case Errc::kBusy: return 8;
    case Errc::kNeedsReplace: return 9;
    case Errc::kHostNotReady: return 10;
    case Errc::kInterrupted: return 130;
  }
  return 1;
}

std::string Error::str() const {
  if (fix.empty()) return message;
  return message + " (fix: " + fix + ")";
}

}  // namespace vnf
