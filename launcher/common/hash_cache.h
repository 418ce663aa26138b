// A file's SHA-256 hashed once and checked cheaply afterwards. A boot file (a 64 MiB vmlinux, an
// initrd) is hashed when the image is built or staged, and the digest is kept beside it in
// PATH.sha256 together with what stat(2) says of the file then:
//
//   vnfctl-sha256/v1 HEX SIZE MTIME_NS CTIME_NS DEV INO CHECKED_NS\n
//
// The record is used only while all five still match the file; any write to the file changes its
// ctime (which no user can set back, unlike mtime), a replaced file has another inode, so a changed
// file is always hashed again. One case is left, as in git's "racily clean" files: a write in the
// same timestamp tick as the one before keeps ctime and mtime. So a record counts only when it was
// checked (CHECKED_NS, wall clock) at least kRacyMarginNs after the file's last change; a record of
// a file changed just before is not written (the next use writes it). The record speaks for the file only as far as the
// folder holding both is trusted: whoever can rewrite the record can rewrite the file as well.
#pragma once

#include <sys/stat.h>

#include <string>

#include "common/error.h"

namespace vnf {

inline constexpr const char* kHashRecordSuffix = ".sha256";
// More than the timestamp granularity of any filesystem a boot file sits on (1 s: ext3, NFSv2).
inline constexpr long long kRacyMarginNs = 1'000'000'000LL;

// The record's text for a digest, the file's stat and when that stat was taken (ns since the epoch).
std::string hashRecordText(const std::string& hex, const struct stat& st, long long checked_ns);

// The digest a record gives for a file with stat `st`; "" when the record is malformed, does not
// match `st` (the file changed since it was written), or was checked less than `racy_margin_ns`
// after the file's ctime.
std::string digestFromRecord(const std::string& record, const struct stat& st,
                             long long racy_margin_ns = kRacyMarginNs);

struct CachedDigest {
  std::string hex;
  bool from_record = false;  // true: the record was valid, the file was not read
  bool recorded = false;     // true: a new record was written
};

// The SHA-256 of the regular file at `path` (links followed): from PATH.sha256 when that record
// matches the file, else by reading the file; then, when `write_record` and the file did not change
// while it was read and its last change is racy_margin_ns old, a new record is written (writeFileSafely; a failure to
// write it is not an error: the digest is still right). Errors: kInvalidArgument when `path` is missing or not a
// regular file (a FIFO or /dev/zero is refused before any read), kUnreadable when reading fails.
// `racy_margin_ns`: kRacyMarginNs (tests give less, so they need not wait a second).
Result<CachedDigest> cachedSha256(const std::string& path, bool write_record, long long racy_margin_ns = kRacyMarginNs);

}  // namespace vnf
