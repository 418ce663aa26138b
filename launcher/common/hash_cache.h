// A file's SHA-256 hashed once and checked cheaply afterwards. A boot file (a 64 MiB vmlinux, an
// initrd) is hashed when the image is built or staged, and the digest is kept beside it in
// PATH.sha256 together with what stat(2) says of the file then:
//
//   vnfctl-sha256/v1 HEX SIZE MTIME_NS CTIME_NS DEV INO\n
//
// The record is used only while all five still match the file; any write to the file changes its
// ctime (which no user can set back, unlike mtime), a replaced file has another inode, so a changed
// file is always hashed again. The record speaks for the file only as far as the folder holding
// both is trusted: whoever can rewrite the record can rewrite the file as well.
#pragma once

#include <sys/stat.h>

#include <string>

#include "common/error.h"

namespace vnf {

inline constexpr const char* kHashRecordSuffix = ".sha256";

// The record's text for a digest and the file's stat.
std::string hashRecordText(const std::string& hex, const struct stat& st);

// The digest a record gives for a file with stat `st`; "" when the record is malformed or does not
// match `st` (the file changed since it was written).
std::string digestFromRecord(const std::string& record, const struct stat& st);

struct CachedDigest {
  std::string hex;
  bool from_record = false;  // true: the record was valid, the file was not read
  bool recorded = false;     // true: a new record was written
};

// The SHA-256 of the regular file at `path` (links followed): from PATH.sha256 when that record
// matches the file, else by reading the file; then, when `write_record` and the file did not change
// while it was read, a new record is written (writeFileSafely; a failure to write it is not an
// error: the digest is still right). Errors: kInvalidArgument when `path` is missing or not a
// regular file (a FIFO or /dev/zero is refused before any read), kUnreadable when reading fails.
Result<CachedDigest> cachedSha256(const std::string& path, bool write_record);

}  // namespace vnf
