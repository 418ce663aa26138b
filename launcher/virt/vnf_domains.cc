#include "virt/vnf_domains.h"

#include <libvirt/virterror.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/file_io.h"

namespace vnf {
namespace {

Result<DomainHandle> lookup(const Connection& conn, const std::string& name) {
  virDomainPtr d = virDomainLookupByName(conn.get(), name.c_str());
  if (!d) {
    virErrorPtr err = virGetLastError();
    if (err && err->code == VIR_ERR_NO_DOMAIN) {
      return fail(Errc::kNotFound, fmt::format("no domain named '{}' on {}", name, conn.uri()),
                  "see the VNFs vnfctl manages with: vnfctl list");
    }
    return std::unexpected(lastLibvirtError(fmt::format("look up domain {}", name)));
  }
  return DomainHandle(d);
}

// The file behind <serial type='file'><source path=.../>, found without a full XML parser: the
// renderer writes it in exactly this form.
std::string serialLogOf(const std::string& xml) {
  auto serial = xml.find("<serial type=\"file\">");
  if (serial == std::string::npos) serial = xml.find("<serial type='file'>");
  if (serial == std::string::npos) return "";
  auto path = xml.find("path=", serial);
  if (path == std::string::npos) return "";
  char quote = xml[path + 5];
  auto end = xml.find(quote, path + 6);
  return end == std::string::npos ? "" : xml.substr(path + 6, end - path - 6);
}

Result<ManagedDomain> describe(virDomainPtr d, const VnfMetadata& meta, const std::string& xml) {
  ManagedDomain m;
  m.name = virDomainGetName(d);
  char uuid[VIR_UUID_STRING_BUFLEN] = {};
  if (virDomainGetUUIDString(d, uuid) == 0) m.uuid = uuid;
  int state = 0, reason = 0;
  if (virDomainGetState(d, &state, &reason, 0) == 0) m.state = domainStateFromLibvirt(state);
  m.persistent = virDomainIsPersistent(d) == 1;
  m.meta = meta;
  m.serial_log = serialLogOf(xml);
  return m;
}

}  // namespace

DomainState domainStateFromLibvirt(int s) {
  switch (s) {
    case VIR_DOMAIN_RUNNING: return DomainState::kRunning;
    case VIR_DOMAIN_PAUSED: return DomainState::kPaused;
    case VIR_DOMAIN_SHUTOFF: return DomainState::kShutOff;
    case VIR_DOMAIN_CRASHED: return DomainState::kCrashed;
    default: return DomainState::kOther;
  }
}

Result<std::optional<VnfMetadata>> readDomainMetadata(const std::string& xml, const std::string& name,
                                                      const std::string& uri) {
  auto meta = readVnfMetadata(xml);
  if (meta) return meta;
  return fail(Errc::kBadContent, fmt::format("domain '{}' on {}: {}", name, uri, meta.error().message),
              fmt::format("repair the element with: virsh -c {1} edit {0}, or remove the domain with: virsh -c {1} "
                          "undefine {0}; until then vnfctl cannot tell what {0} holds and will not plan on this host",
                          name, uri));
}

const char* domainStateName(DomainState s) {
  switch (s) {
    case DomainState::kRunning: return "running";
    case DomainState::kPaused: return "paused";
    case DomainState::kShutOff: return "shut off";
    case DomainState::kCrashed: return "crashed";
    case DomainState::kOther: return "other";
  }
  return "?";
}

Result<std::vector<DomainHandle>> listAllDomains(const Connection& conn) {
  virDomainPtr* all = nullptr;
  int n = virConnectListAllDomains(conn.get(), &all, 0);
  if (n < 0) return std::unexpected(lastLibvirtError("list domains on " + conn.uri()));
  std::vector<DomainHandle> handles;
  for (int i = 0; i < n; ++i) handles.emplace_back(all[i]);
  free(all);
  return handles;
}

Result<VnfListing> listVnfDomainsKeepingDamaged(const Connection& conn) {
  auto handles = listAllDomains(conn);
  if (!handles) return std::unexpected(handles.error());
  VnfListing out;
  for (auto& d : *handles) {
    char* text = virDomainGetXMLDesc(d.get(), 0);
    if (!text) continue;  // vanished meanwhile
    std::string xml = text;
    free(text);
    const char* name = virDomainGetName(d.get());
    auto meta = readDomainMetadata(xml, name ? name : "?", conn.uri());
    if (!meta) {
      DamagedDomain damaged{name ? name : "?", DomainState::kOther, meta.error()};
      int state = 0, reason = 0;
      if (virDomainGetState(d.get(), &state, &reason, 0) == 0) damaged.state = domainStateFromLibvirt(state);
      out.damaged.push_back(std::move(damaged));
      continue;
    }
    if (!*meta) continue;  // not ours
    auto m = describe(d.get(), **meta, xml);
    if (m) out.domains.push_back(std::move(*m));
  }
  std::sort(out.domains.begin(), out.domains.end(),
            [](const ManagedDomain& a, const ManagedDomain& b) { return a.name < b.name; });
  std::sort(out.damaged.begin(), out.damaged.end(),
            [](const DamagedDomain& a, const DamagedDomain& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<ManagedDomain>> listVnfDomains(const Connection& conn) {
  auto listing = listVnfDomainsKeepingDamaged(conn);
  if (!listing) return std::unexpected(listing.error());
  if (!listing->damaged.empty()) return std::unexpected(listing->damaged.front().error);
  return std::move(listing->domains);
}

Result<std::optional<ManagedDomain>> findVnfDomain(const Connection& conn, const std::string& name) {
  auto d = lookup(conn, name);
  if (!d) {
    if (d.error().code == Errc::kNotFound) return std::optional<ManagedDomain>{};
    return std::unexpected(d.error());
  }
  char* text = virDomainGetXMLDesc(d->get(), 0);
  if (!text) return std::unexpected(lastLibvirtError("read the XML of " + name));
  std::string xml = text;
  free(text);
  auto meta = readDomainMetadata(xml, name, conn.uri());
  if (!meta) return std::unexpected(meta.error());
  if (!*meta) {
    return fail(Errc::kConflict,
                fmt::format("domain '{}' exists on {} but vnfctl does not manage it", name, conn.uri()),
                "choose another VNF name; vnfctl never changes domains it did not define");
  }
  auto m = describe(d->get(), **meta, xml);
  if (!m) return std::unexpected(m.error());
  return std::optional<ManagedDomain>(std::move(*m));
}

Allocations allocationsOf(const std::vector<ManagedDomain>& domains) {
  Allocations a;
  for (const auto& d : domains) {
    a.cpus.insert(d.meta.vcpu_pins.begin(), d.meta.vcpu_pins.end());
    for (const auto& vf : d.meta.vfs) a.vfs.insert(vf.vf);
    bool holds_pages = d.state == DomainState::kRunning || d.state == DomainState::kPaused;
    if (!holds_pages && d.meta.hugepages > 0) a.hugepages[{d.meta.node, d.meta.page_size_kib}] += d.meta.hugepages;
    if (d.meta.page_size_kib == 0 && d.meta.memory_kib > 0) a.memory_kib[d.meta.node] += d.meta.memory_kib;
  }
  return a;
}

Result<void> defineDomain(const Connection& conn, const std::string& xml) {
  virDomainPtr d = virDomainDefineXMLFlags(conn.get(), xml.c_str(), VIR_DOMAIN_DEFINE_VALIDATE);
  if (!d) return std::unexpected(lastLibvirtError("define the domain"));
  virDomainFree(d);
  return {};
}

Result<void> startDomain(const Connection& conn, const std::string& name) {
  auto d = lookup(conn, name);
  if (!d) return std::unexpected(d.error());
  if (virDomainCreate(d->get()) != 0) return std::unexpected(lastLibvirtError("start " + name));
  return {};
}

Result<DomainState> domainState(const Connection& conn, const std::string& name) {
  auto d = lookup(conn, name);
  if (!d) return std::unexpected(d.error());
  int state = 0, reason = 0;
  if (virDomainGetState(d->get(), &state, &reason, 0) != 0)
    return std::unexpected(lastLibvirtError("read the state of " + name));
  return domainStateFromLibvirt(state);
}

Result<void> shutdownDomain(const Connection& conn, const std::string& name, std::chrono::seconds grace) {
  auto d = lookup(conn, name);
  if (!d) return std::unexpected(d.error());
  if (virDomainIsActive(d->get()) != 1) return {};
  if (virDomainShutdown(d->get()) != 0) return std::unexpected(lastLibvirtError("shut down " + name));
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (virDomainIsActive(d->get()) != 1) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return fail(Errc::kTimeout,
              fmt::format("{} did not shut down within {} s (the guest ignored the ACPI request)", name, grace.count()),
              fmt::format("force it off with: vnfctl destroy {}", name));
}

Result<void> destroyDomain(const Connection& conn, const std::string& name) {
  auto d = lookup(conn, name);
  if (!d) return std::unexpected(d.error());
  if (virDomainIsActive(d->get()) != 1) return {};
  if (virDomainDestroy(d->get()) != 0) return std::unexpected(lastLibvirtError("destroy " + name));
  return {};
}

Result<void> undefineDomain(const Connection& conn, const std::string& name) {
  auto d = lookup(conn, name);
  if (!d) return std::unexpected(d.error());
  if (virDomainIsActive(d->get()) == 1) {
    return fail(Errc::kConflict, fmt::format("{} is running; it cannot be undefined while it runs", name),
                fmt::format("stop it first: vnfctl destroy {}", name));
  }
  char* text = virDomainGetXMLDesc(d->get(), VIR_DOMAIN_XML_INACTIVE);
  std::string log = text ? serialLogOf(text) : "";
  free(text);
  if (virDomainUndefineFlags(d->get(), VIR_DOMAIN_UNDEFINE_NVRAM) != 0 && virDomainUndefine(d->get()) != 0) {
    return std::unexpected(lastLibvirtError("undefine " + name));
  }
  if (!log.empty()) {
    std::error_code ec;
    std::filesystem::remove(log, ec);
  }
  return {};
}

Result<std::string> domainXml(const Connection& conn, const std::string& name, bool inactive) {
  auto d = lookup(conn, name);
  if (!d) return std::unexpected(d.error());
  char* text = virDomainGetXMLDesc(d->get(), inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
  if (!text) return std::unexpected(lastLibvirtError("read the XML of " + name));
  std::string xml = text;
  free(text);
  return xml;
}

std::string tailOf(const std::string& path, int lines) {
  // The log's end only (it grows as long as the guest runs); a FIFO in its place is not opened.
  auto text = readFileTail(path, 64 * 1024, "serial log");
  if (!text) return "";
  std::istringstream f(*text);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(f, line)) {
    // Serial logs carry terminal escapes and CRs; keep printable text.
    std::string clean;
    for (char c : line) {
      if (c == '\r') continue;
      clean += (static_cast<unsigned char>(c) >= 0x20 || c == '\t') ? c : '?';
    }
    last.push_back(std::move(clean));
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    | " + l + "\n";
  return out;
}

Result<ReadyLine> waitForReady(const Connection& conn, const std::string& name, const std::string& serial_log,
                               std::chrono::seconds timeout, const std::function<bool()>& interrupted,
                               const std::function<void(double)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t offset = 0;
  std::string pending;
  double last_progress = 0;
  double last_state_check = 0;
  while (true) {
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Only a log that grew is read again.
    std::error_code ec;
    auto size = std::filesystem::file_size(serial_log, ec);
    std::ifstream f;
    if (!ec && size > offset) f.open(serial_log, std::ios::binary);
    if (f) {
      f.seekg(static_cast<std::streamoff>(offset));
      std::string chunk((std::istreambuf_iterator<char>(f)), {});
      offset += chunk.size();
      pending += chunk;
      std::size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (auto at = line.find("VNF-READY"); at != std::string::npos) return ReadyLine{line.substr(at), waited};
        if (auto at = line.find("VNF-FAILED"); at != std::string::npos) {
          return fail(Errc::kGuestFailed,
                      fmt::format("the guest of {} reported a failure: {}", name, line.substr(at + 11)),
                      "see the serial log below; fix the spec or the image and launch again");
        }
      }
    }
    if (interrupted && interrupted()) {
      return fail(Errc::kInterrupted, fmt::format("interrupted while waiting for {} to be ready", name));
    }
    if (waited > static_cast<double>(timeout.count())) {
      return fail(Errc::kTimeout, fmt::format("{} did not report VNF-READY within {} s", name, timeout.count()),
                  "raise --timeout (guests under TCG emulation boot slowly), or read the serial log below");
    }
    auto state =
        waited - last_state_check >= 0.5 ? domainState(conn, name) : Result<DomainState>(DomainState::kRunning);
    if (waited - last_state_check >= 0.5) last_state_check = waited;
    if (state && *state != DomainState::kRunning && *state != DomainState::kPaused) {
      return fail(Errc::kGuestFailed, fmt::format("{} stopped ({}) before it was ready", name, domainStateName(*state)),
                  "see the serial log below");
    }
    if (progress && waited - last_progress >= 1.0) {
      last_progress = waited;
      progress(waited);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace vnf
