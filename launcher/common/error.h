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
};

const char* errcName(Errc code);

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
