// The stable JSON form of a HostTopology (schema "vnfctl.host/v1", documented in docs/host-json.md).
// Fields are only ever added within v1; a rename or removal bumps the version.
#pragma once

#include <nlohmann/json.hpp>

#include "discovery/topology.h"

namespace vnf {

inline constexpr const char* kHostSchema = "vnfctl.host/v1";

nlohmann::ordered_json toJson(const HostTopology& host);

}  // namespace vnf
