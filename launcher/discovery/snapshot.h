// `vnfctl snapshot`: capture exactly the host files discovery reads into a folder, so the host can
// be planned against elsewhere with --host-root.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"
#include "host/host_fs.h"

namespace vnf {

struct SnapshotStats {
  std::size_t files = 0;
  std::size_t links = 0;
  std::size_t dirs = 0;
};

// Writes what `log` recorded under `out`, which must not exist yet. Files keep the content that
// discovery read (one consistent moment); links keep their targets verbatim; directory entries
// that were only listed become empty placeholders. The folder is built under a temporary name
// and renamed at the end, so a failure leaves nothing behind.
Result<SnapshotStats> writeSnapshot(const AccessLog& log, const std::filesystem::path& out,
                                    const std::string& source_description);

}  // namespace vnf
