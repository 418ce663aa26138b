#include "cli/load.h"

namespace vnf::cli {

Result<HostTopology> loadHost(const std::string& host_root) {
  auto fs = HostFs::open(host_root);
  if (!fs) return std::unexpected(fs.error());
  return discoverHost(*fs);
}

}  // namespace vnf::cli
