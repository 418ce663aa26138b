#pragma once

#include <string>

#include "common/error.h"
#include "discovery/discover.h"

namespace vnf::cli {

// Opens the host root and discovers it. Errors name the root or the file at fault.
Result<HostTopology> loadHost(const std::string& host_root);

}  // namespace vnf::cli
