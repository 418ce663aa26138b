#include "fleet/gather.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <future>
#include <set>

#include <fmt/format.h>

#include "common/file_io.h"
#include "discovery/discover.h"
#include "host/host_fs.h"
#include "spec/load.h"
#include "virt/connection.h"
#include "virt/holdings.h"
#include "virt/remote_host.h"

namespace vnf::fleet {
namespace {

bool validHostName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return std::isalnum(static_cast<unsigned char>(n[0]));
}

Placement placementOf(const DomainHolding& h) {
  Placement p;
  p.name = h.name;
  if (h.meta) {
    const auto& m = *h.meta;
    p.node = m.node;
    p.vcpu_pins = m.vcpu_pins;
    p.shared_cpus = m.shared_cpus;
    p.emulator_cpus = m.emulator_cpus;
    p.memory_kib = m.memory_kib;
    p.page_size_kib = m.page_size_kib;
    p.hugepages = m.hugepages;
    for (const auto& v : m.vfs) p.vfs.push_back({v.nic_index, v.pf, v.vf, v.vf_index, v.driver, m.node});
  }
  return p;
}

Result<HostView> readHost(const InventoryHost& ih, const std::string& family) {
  HostView v;
  v.name = ih.name;
  v.uri = ih.uri;
  v.snapshot = ih.snapshot;
  std::optional<Connection> conn;
  if (!ih.uri.empty()) {
    auto c = Connection::open(ih.uri, true);
    if (!c) return std::unexpected(c.error());
    conn.emplace(std::move(*c));
  }
  if (!ih.snapshot.empty()) {
    auto fs = HostFs::open(ih.snapshot);
    if (!fs) return std::unexpected(fs.error());
    auto topo = discoverHost(*fs);
    if (!topo) return std::unexpected(topo.error());
    v.topology = std::move(*topo);
  } else {
    auto topo = discoverViaLibvirt(*conn);
    if (!topo) return std::unexpected(topo.error());
    v.topology = std::move(*topo);
  }
  if (conn) {
    auto listing = readHoldingsKeepingDamaged(*conn);
    if (!listing) return std::unexpected(listing.error());
    v.holdings = allocationsOf(listing->holdings);
    for (const auto& h : listing->holdings) {
      for (const auto& m : h.macs) v.macs.push_back({m.mac, h.name});
      if (h.managed && instanceIndex(family, h.name) > 0) {
        ExistingInstance e{h.name, domainStateName(h.state), placementOf(h), {}};
        for (const auto& m : h.macs)
          if (!m.label.empty()) e.macs.push_back({m.label, m.mac, false, false, true});
        v.instances.push_back(std::move(e));
      }
    }
    // A damaged domain holds what nobody can read: the host takes nothing new (the reason names the
    // domain and its repair); one named like an instance stays where it is (never placed twice).
    std::string why;
    for (const auto& d : listing->damaged) {
      why += fmt::format("{}{}", why.empty() ? "" : "; ", d.error.str());
      if (instanceIndex(family, d.name) > 0) v.instances.push_back({d.name, domainStateName(d.state), Placement{}, {}});
    }
    if (!why.empty()) {
      v.closed = fmt::format("what {} of its domains hold{} is unknown: {}", listing->damaged.size(),
                             listing->damaged.size() == 1 ? "s" : "", why);
    }
  }
  return v;
}

}  // namespace

Result<std::vector<InventoryHost>> parseInventory(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}:{}:{}: not valid YAML/JSON: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg),
                "see docs/fleet.md for the inventory format");
  }
  const std::string example = "hosts:\n  - name: edge-01\n    uri: qemu+ssh://root@edge-01/system";
  if (!root.IsMap() || !root["hosts"] || !root["hosts"].IsSequence()) {
    return fail(Errc::kInvalidArgument, fmt::format("{}: the inventory needs a list 'hosts:'", file),
                "write it like:\n" + example);
  }
  const auto base = std::filesystem::path(file).parent_path();
  std::vector<std::string> problems;
  std::vector<InventoryHost> out;
  std::set<std::string> seen;
  const std::vector<std::string> known{"name", "uri", "snapshot"};
  auto where = [&](const YAML::Node& n) { return fmt::format("{}:{}", file, n.Mark().line + 1); };
  if (root["hosts"].size() > kMaxInventoryHosts) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("{}: {} hosts, at most {} are planned at once", file, root["hosts"].size(), kMaxInventoryHosts),
        "split the inventory");
  }
  for (const auto& h : root["hosts"]) {
    if (!h.IsMap()) {
      problems.push_back(where(h) + ": a host is a map with name, uri and/or snapshot");
      continue;
    }
    InventoryHost ih;
    for (const auto& kv : h) {
      const auto key = kv.first.as<std::string>("");
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        auto hint = didYouMean(key, known);
        problems.push_back(fmt::format("{}: unknown key '{}'{}", where(kv.first), key,
                                       hint.empty() ? " (known: name, uri, snapshot)" : ": " + hint));
        continue;
      }
      if (!kv.second.IsScalar()) {
        problems.push_back(fmt::format("{}: {} must be a string", where(kv.second), key));
        continue;
      }
      const auto value = kv.second.as<std::string>();
      if (key == "name") ih.name = value;
      if (key == "uri") ih.uri = value;
      if (key == "snapshot") ih.snapshot = value;
    }
    if (!validHostName(ih.name)) {
      problems.push_back(
          fmt::format("{}: host name '{}' is not 1..64 characters of [A-Za-z0-9._-] starting with a "
                      "letter or digit",
                      where(h), ih.name));
      continue;
    }
    if (!seen.insert(ih.name).second) {
      problems.push_back(fmt::format("{}: host '{}' is listed twice", where(h), ih.name));
      continue;
    }
    if (ih.uri.empty() && ih.snapshot.empty()) {
      problems.push_back(fmt::format("{}: host '{}' has neither uri nor snapshot", where(h), ih.name));
      continue;
    }
    if (!ih.snapshot.empty() && std::filesystem::path(ih.snapshot).is_relative())
      ih.snapshot = (base / ih.snapshot).lexically_normal().string();
    out.push_back(std::move(ih));
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += "\n  - " + p;
    return fail(Errc::kInvalidArgument, fmt::format("{} problem(s) in the inventory:{}", problems.size(), all),
                "see docs/fleet.md for the inventory format");
  }
  if (out.empty()) return fail(Errc::kInvalidArgument, fmt::format("{}: 'hosts:' is empty", file), example);
  return out;
}

Result<std::vector<InventoryHost>> loadInventory(const std::string& path) {
  auto text = readUserFile(path, kMaxInventoryBytes, "fleet inventory");
  if (!text) return std::unexpected(text.error());
  return parseInventory(*text, path);
}

Gathered gatherHosts(const std::vector<InventoryHost>& inventory, const std::string& family) {
  // A few hosts at a time: each read is mostly waiting on a daemon (or a disk).
  constexpr std::size_t kParallel = 8;
  std::vector<Result<HostView>> results;
  results.reserve(inventory.size());
  for (std::size_t start = 0; start < inventory.size(); start += kParallel) {
    std::vector<std::future<Result<HostView>>> batch;
    for (std::size_t i = start; i < std::min(inventory.size(), start + kParallel); ++i)
      batch.push_back(std::async(std::launch::async, [&, i] { return readHost(inventory[i], family); }));
    for (auto& f : batch) results.push_back(f.get());
  }
  Gathered g;
  for (std::size_t i = 0; i < inventory.size(); ++i) {
    if (results[i]) {
      g.hosts.push_back(std::move(*results[i]));
    } else {
      g.unreachable.push_back({inventory[i].name, results[i].error()});
    }
  }
  return g;
}

}  // namespace vnf::fleet
