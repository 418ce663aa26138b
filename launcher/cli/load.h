#pragma once

#include <string>

#include "cli/context.h"
#include "common/error.h"
#include "discovery/discover.h"
#include "planning/plan.h"

namespace vnf::cli {

// Opens the host root and discovers it. Errors name the root or the file at fault.
Result<HostTopology> loadHost(const std::string& host_root);

// The host the command works on: a snapshot when --host-root is given; for a remote libvirt URI
// (qemu+ssh://, qemu+tls://, qemu://HOST/..., test:///...) libvirt's own host APIs, since this
// machine's /sys is not that host's; otherwise this machine's /sys.
Result<HostTopology> loadHostFor(const GlobalOptions& global);

// What every domain on the libvirt URI already holds (virt/holdings.h: from the XML libvirt runs,
// managed or foreign), so `plan` and `render` never hand out its CPUs, VFs or memory. Nothing when
// --host-root is given without -c (a snapshot of another host) or libvirt cannot be reached (a note
// on stderr says so).
Allocations existingAllocations(const GlobalOptions& global);

// Whether `uri` ("" = default) names a host other than this one.
bool isRemoteUri(const std::string& uri);

}  // namespace vnf::cli
