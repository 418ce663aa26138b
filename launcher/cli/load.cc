#include "cli/load.h"

#include "virt/connection.h"
#include "virt/holdings.h"
#include "virt/remote_host.h"
#include "virt/vnf_domains.h"

#include <cstdio>

namespace vnf::cli {

Result<HostTopology> loadHost(const std::string& host_root) {
  auto fs = HostFs::open(host_root);
  if (!fs) return std::unexpected(fs.error());
  return discoverHost(*fs);
}

bool isRemoteUri(const std::string& uri_in) {
  const std::string uri = uri_in.empty() ? defaultUri() : uri_in;
  auto scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = uri.substr(0, scheme_end);
  if (scheme.find('+') != std::string::npos || scheme == "test") return true;  // transport or test driver
  auto host_end = uri.find('/', scheme_end + 3);
  return host_end != scheme_end + 3;  // "qemu://HOST/system"
}

Result<HostTopology> loadHostFor(const GlobalOptions& global) {
  if (global.host_root != "/" || !isRemoteUri(global.uri)) return loadHost(global.host_root);
  auto conn = Connection::open(global.uri, true);
  if (!conn) return std::unexpected(conn.error());
  return discoverViaLibvirt(*conn);
}

Allocations existingAllocations(const GlobalOptions& global) {
  // A snapshot of another host: that host's libvirt only when named with -c.
  if (global.host_root != "/" && global.uri.empty()) return {};
  auto conn = Connection::open(global.uri, true);
  auto holdings = conn ? readHoldings(*conn) : Result<std::vector<DomainHolding>>(std::unexpected(conn.error()));
  if (!holdings) {
    std::fprintf(stderr, "vnfctl: note: planned without what the existing domains hold (%s)\n",
                 holdings.error().message.c_str());
    return {};
  }
  return allocationsOf(*holdings);
}

}  // namespace vnf::cli
