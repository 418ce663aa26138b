#include "spec/canonical.h"

#include <map>

#include <fmt/format.h>

namespace vnf {
namespace {

const char* cpuPolicyName(CpuPolicy p) { return p == CpuPolicy::kDedicated ? "dedicated" : "shared"; }
const char* smtPolicyName(SmtPolicy p) {
  switch (p) {
    case SmtPolicy::kPrefer: return "prefer";
    case SmtPolicy::kIsolate: return "isolate";
    case SmtPolicy::kRequire: return "require";
  }
  return "?";
}
const char* emulatorPolicyName(EmulatorPolicy p) { return p == EmulatorPolicy::kIsolate ? "isolate" : "share"; }
const char* affinityName(NumaAffinity a) { return a == NumaAffinity::kRequired ? "required" : "preferred"; }

std::string opt(const std::optional<int>& v) { return v ? std::to_string(*v) : "-"; }
std::string opt(const std::optional<bool>& v) { return v ? (*v ? "on" : "off") : "-"; }
std::string opt(const std::optional<MacAddress>& v) { return v ? formatMac(*v) : "-"; }
std::string text(const std::string& v) { return v.empty() ? "-" : v; }

}  // namespace

std::vector<SpecField> canonicalFields(const VnfSpec& s) {
  std::vector<SpecField> f;
  auto add = [&](std::string key, std::string value) { f.emplace_back(std::move(key), std::move(value)); };
  add("name", s.name);
  add("vcpus", std::to_string(s.vcpus));
  add("memory_mib", std::to_string(s.memory_mib));
  add("page_size_kib", std::to_string(s.page_size_kib));
  add("cpu_policy", cpuPolicyName(s.cpu_policy));
  add("smt_policy", smtPolicyName(s.smt_policy));
  add("emulator_threads", emulatorPolicyName(s.emulator_policy));
  add("numa_affinity", affinityName(s.numa_affinity));
  add("profile", s.profile);
  add("nics", std::to_string(s.nics.size()));
  for (std::size_t i = 0; i < s.nics.size(); ++i) {
    const auto& n = s.nics[i];
    const std::string at = fmt::format("nics[{}].", i);
    add(at + "pf", n.pf);
    add(at + "vf", opt(n.vf));
    add(at + "mac", opt(n.mac));
    add(at + "vlan", opt(n.vlan));
    add(at + "mtu", opt(n.mtu));
    add(at + "trust", opt(n.trust));
    add(at + "spoofchk", opt(n.spoofchk));
    add(at + "mode", n.hostdev ? "hostdev" : "interface");
  }
  add("taps", std::to_string(s.tap_nics.size()));
  for (std::size_t i = 0; i < s.tap_nics.size(); ++i) {
    const auto& t = s.tap_nics[i];
    const std::string at = fmt::format("taps[{}].", i);
    add(at + "tap", t.tap);
    add(at + "mac", opt(t.mac));
    add(at + "mtu", opt(t.mtu));
  }
  if (s.mgmt) {
    add("management.kind", s.mgmt->kind == MgmtNicSpec::Kind::kBridge ? "bridge" : "network");
    add("management.source", s.mgmt->source);
    add("management.mac", opt(s.mgmt->mac));
  } else {
    add("management.kind", "-");
  }
  add("guest.kernel", text(s.guest.kernel));
  add("guest.initrd", text(s.guest.initrd));
  add("guest.cmdline", text(s.guest.cmdline));
  add("guest.disk", text(s.guest.disk));
  add("guest.firmware", text(s.guest.firmware));
  add("guest.fast_boot", s.guest.fast_boot ? "on" : "off");
  add("guest.forwarder.mode", text(s.guest.forwarder_mode));
  add("guest.forwarder.rx_descriptors", opt(s.guest.rx_descriptors));
  add("guest.forwarder.tx_descriptors", opt(s.guest.tx_descriptors));
  add("guest.forwarder.peer_macs", std::to_string(s.guest.peer_macs.size()));
  for (std::size_t i = 0; i < s.guest.peer_macs.size(); ++i) {
    add(fmt::format("guest.forwarder.peer_macs[{}]", i), formatMac(s.guest.peer_macs[i]));
  }
  return f;
}

std::vector<FieldChange> diffFields(const std::vector<SpecField>& before, const std::vector<SpecField>& after) {
  std::map<std::string, std::string> old(before.begin(), before.end());
  std::map<std::string, bool> seen;
  std::vector<FieldChange> out;
  for (const auto& [key, value] : after) {
    seen[key] = true;
    auto it = old.find(key);
    std::string was = it == old.end() ? "-" : it->second;
    if (was != value) out.push_back({key, was, value});
  }
  for (const auto& [key, value] : before) {
    if (!seen.contains(key) && value != "-") out.push_back({key, value, "-"});
  }
  return out;
}

}  // namespace vnf
