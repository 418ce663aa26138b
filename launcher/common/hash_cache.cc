#include "common/hash_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "common/file_io.h"
#include "common/sha256.h"

namespace vnf {
namespace {

constexpr std::string_view kMagic = "vnfctl-sha256/v1";
constexpr std::uint64_t kMaxRecordBytes = 512;

long long nanos(const struct timespec& t) { return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

bool sameFile(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && nanos(a.st_mtim) == nanos(b.st_mtim) && nanos(a.st_ctim) == nanos(b.st_ctim) &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool isHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string hashRecordText(const std::string& hex, const struct stat& st, long long checked_ns) {
  return fmt::format("{} {} {} {} {} {} {} {}\n", kMagic, hex, static_cast<long long>(st.st_size), nanos(st.st_mtim),
                     nanos(st.st_ctim), static_cast<unsigned long long>(st.st_dev),
                     static_cast<unsigned long long>(st.st_ino), checked_ns);
}

std::string digestFromRecord(const std::string& record, const struct stat& st, long long racy_margin_ns) {
  std::istringstream in(record);
  std::string magic, hex, rest;
  long long size = -1, mtime = -1, ctime = -1, checked = -1;
  unsigned long long dev = 0, ino = 0;
  if (!(in >> magic >> hex >> size >> mtime >> ctime >> dev >> ino >> checked) || (in >> rest)) return "";
  if (magic != kMagic || !isHex64(hex)) return "";
  if (checked - ctime < racy_margin_ns) return "";  // a change in the same tick would not show
  if (size != static_cast<long long>(st.st_size) || mtime != nanos(st.st_mtim) || ctime != nanos(st.st_ctim) ||
      dev != static_cast<unsigned long long>(st.st_dev) || ino != static_cast<unsigned long long>(st.st_ino)) {
    return "";
  }
  return hex;
}

Result<CachedDigest> cachedSha256(const std::string& path, bool write_record, long long racy_margin_ns) {
  if (auto ok = checkBootFile(path, "file to hash"); !ok) return std::unexpected(ok.error());
  // O_NONBLOCK: a FIFO swapped in after the check must not block the open.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    return fail(Errc::kInvalidArgument, fmt::format("cannot open {}: {}", path, std::strerror(errno)),
                "check the path and its permissions");
  }
  struct stat before {};
  if (::fstat(fd.get(), &before) != 0 || !S_ISREG(before.st_mode)) {
    return fail(Errc::kInvalidArgument, fmt::format("{} is not a regular file (any more)", path),
                "give the path of the file itself");
  }
  const std::string record_path = path + kHashRecordSuffix;
  struct stat rst {};
  if (::stat(record_path.c_str(), &rst) == 0 && S_ISREG(rst.st_mode) &&
      static_cast<std::uint64_t>(rst.st_size) <= kMaxRecordBytes) {
    if (auto text = readUserFile(record_path, kMaxRecordBytes, "hash record")) {
      if (auto hex = digestFromRecord(*text, before, racy_margin_ns); !hex.empty())
        return CachedDigest{hex, true, false};
    }
  }
  Sha256 sha;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return fail(Errc::kUnreadable, fmt::format("cannot read {}: {}", path, std::strerror(errno)),
                  "check the disk (dmesg) and the file");
    }
    if (n == 0) break;
    sha.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  CachedDigest out{sha.hexDigest(), false, false};
  struct stat after {};
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (write_record && ::fstat(fd.get(), &after) == 0 && sameFile(before, after) &&
      nanos(now) - nanos(after.st_ctim) >= racy_margin_ns) {
    out.recorded = writeFileSafely(record_path, hashRecordText(out.hex, after, nanos(now)), 0644).has_value();
  }
  return out;
}

}  // namespace vnf
