#include "spec/load.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/file_io.h"

namespace vnf {
namespace {

const std::vector<std::string> kTopKeys = {
    "name",          "vcpus", "memory", "hugepages",  "cpu_policy", "smt_policy", "emulator_threads",
    "numa_affinity", "nics",  "taps",   "management", "profile",    "guest",      "count"};
const std::vector<std::string> kNicKeys = {"pf", "vf", "mac", "vlan", "mtu", "trust", "spoofchk", "mode"};
const std::vector<std::string> kTapKeys = {"tap", "mac", "mtu"};
const std::vector<std::string> kMgmtKeys = {"network", "bridge", "mac"};
const std::vector<std::string> kGuestKeys = {"kernel",    "initrd",   "cmdline",  "disk",
                                             "forwarder", "firmware", "fast_boot"};
const std::vector<std::string> kFwdKeys = {"mode", "peer_macs", "rx_descriptors", "tx_descriptors"};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  void problem(const YAML::Node& at, std::string message) {
    auto mark = at.Mark();
    problems_.push_back(
        {file_, mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0, std::move(message)});
  }
  void problem(const YAML::Mark& mark, std::string message) {
    problems_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
  }
  std::vector<SpecProblem>& problems() { return problems_; }

  // Reports keys outside `known`, with a suggestion.
  void checkKeys(const YAML::Node& map, const std::vector<std::string>& known, const std::string& where) {
    for (const auto& kv : map) {
      auto key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      auto hint = didYouMean(key, known);
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      problem(kv.first,
              fmt::format("unknown key '{}'{}{}; {} takes: {}", key, hint.empty() ? "" : ": ", hint, where, list));
    }
  }

  std::optional<std::string> str(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) {
      problem(n, fmt::format("{}: expected a text value", key));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<long long> integer(const YAML::Node& n, const std::string& key, long long min, long long max,
                                   const std::string& fix = {}) {
    auto text = str(n, key);
    if (!text) return std::nullopt;
    auto v = parseInt(*text);
    if (!v || *v < min || *v > max) {
      problem(n, fmt::format("{}: expected an integer {}..{}, found '{}'{}", key, min, max, *text,
                             fix.empty() ? "" : "; " + fix));
      return std::nullopt;
    }
    return *v;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& key) {
    auto text = str(n, key);
    if (!text) return std::nullopt;
    if (*text == "true" || *text == "yes" || *text == "on") return true;
    if (*text == "false" || *text == "no" || *text == "off") return false;
    problem(n, fmt::format("{}: expected true or false, found '{}'", key, *text));
    return std::nullopt;
  }

  template <class E>
  std::optional<E> choice(const YAML::Node& n, const std::string& key,
                          const std::vector<std::pair<std::string, E>>& options) {
    auto text = str(n, key);
    if (!text) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& [name, value] : options) {
      if (name == *text) return value;
      names.push_back(name);
    }
    auto hint = didYouMean(*text, names);
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    problem(n, fmt::format("{}: '{}' is not one of {}{}{}", key, *text, list, hint.empty() ? "" : "; ", hint));
    return std::nullopt;
  }

  std::optional<MacAddress> mac(const YAML::Node& n, const std::string& key) {
    auto text = str(n, key);
    if (!text) return std::nullopt;
    auto m = parseMac(*text);
    if (!m) {
      problem(n, fmt::format("{}: '{}' is not a MAC address such as 52:54:00:12:34:56", key, *text));
      return std::nullopt;
    }
    return m;
  }

 private:
  std::string file_;
  std::vector<SpecProblem> problems_;
};

// "4G", "4GiB", "4096M", "4096MiB", "4096" (MiB) -> MiB.
std::optional<std::uint64_t> parseMemoryMib(std::string_view text) {
  text = trim(text);
  std::uint64_t mult = 1;
  for (auto [suffix, m] :
       {std::pair<std::string_view, std::uint64_t>{"GiB", 1024}, {"G", 1024}, {"MiB", 1}, {"M", 1}}) {
    if (text.ends_with(suffix)) {
      text.remove_suffix(suffix.size());
      mult = m;
      break;
    }
  }
  auto v = parseUnsigned(text);
  if (!v || *v == 0 || *v > (1ull << 24)) return std::nullopt;
  return *v * mult;
}

void parseNics(Parser& p, const YAML::Node& list, VnfSpec& spec) {
  if (!list.IsSequence()) {
    p.problem(list, "nics: expected a list of NICs, each with at least 'pf'");
    return;
  }
  int index = -1;
  for (const auto& n : list) {
    ++index;
    const std::string at = fmt::format("nics[{}].", index);
    if (!n.IsMap()) {
      p.problem(n, "nics: each entry must be a map such as {pf: ens2f0, vlan: 100}");
      continue;
    }
    p.checkKeys(n, kNicKeys, "a NIC");
    NicSpec nic;
    if (!n["pf"]) p.problem(n, "nics: each NIC needs 'pf' (the PF's netdev name or PCI address)");
    for (const auto& kv : n) {
      auto key = kv.first.Scalar();
      const auto& v = kv.second;
      if (key == "pf") {
        if (auto s = p.str(v, at + "pf")) nic.pf = *s;
      } else if (key == "vf") {
        if (auto i = p.integer(v, at + "vf", 0, 4095)) nic.vf = static_cast<int>(*i);
      } else if (key == "mac") {
        nic.mac = p.mac(v, at + "mac");
      } else if (key == "vlan") {
        if (auto i = p.integer(v, at + "vlan", 1, 4094, "VLAN 0 means untagged: leave vlan out"))
          nic.vlan = static_cast<int>(*i);
      } else if (key == "mtu") {
        if (auto i = p.integer(v, at + "mtu", 68, 9216)) nic.mtu = static_cast<int>(*i);
      } else if (key == "trust") {
        nic.trust = p.boolean(v, at + "trust");
      } else if (key == "spoofchk") {
        nic.spoofchk = p.boolean(v, at + "spoofchk");
      } else if (key == "mode") {
        if (auto m = p.choice<bool>(v, at + "mode", {{"interface", false}, {"hostdev", true}})) nic.hostdev = *m;
      }
    }
    spec.nics.push_back(std::move(nic));
  }
}

void parseTaps(Parser& p, const YAML::Node& list, VnfSpec& spec) {
  if (!list.IsSequence()) {
    p.problem(list, "taps: expected a list such as [{tap: vnf0a}]");
    return;
  }
  int index = -1;
  for (const auto& n : list) {
    ++index;
    const std::string at = fmt::format("taps[{}].", index);
    if (!n.IsMap()) {
      p.problem(n, "taps: each entry must be a map such as {tap: vnf0a}");
      continue;
    }
    p.checkKeys(n, kTapKeys, "a tap NIC");
    TapNicSpec tap;
    if (!n["tap"]) p.problem(n, "taps: each entry needs 'tap' (the host tap device)");
    for (const auto& kv : n) {
      auto key = kv.first.Scalar();
      if (key == "tap") {
        if (auto s = p.str(kv.second, at + "tap")) tap.tap = *s;
      } else if (key == "mac") {
        tap.mac = p.mac(kv.second, at + "mac");
      } else if (key == "mtu") {
        if (auto i = p.integer(kv.second, at + "mtu", 68, 9216)) tap.mtu = static_cast<int>(*i);
      }
    }
    spec.tap_nics.push_back(std::move(tap));
  }
}

void parseGuest(Parser& p, const YAML::Node& g, VnfSpec& spec) {
  if (!g.IsMap()) {
    p.problem(g, "guest: expected a map with kernel/initrd or disk");
    return;
  }
  p.checkKeys(g, kGuestKeys, "guest");
  for (const auto& kv : g) {
    auto key = kv.first.Scalar();
    const auto& v = kv.second;
    if (key == "forwarder") {
      if (!v.IsMap()) {
        p.problem(v, "guest.forwarder: expected a map with mode, peer_macs, rx_descriptors and tx_descriptors");
        continue;
      }
      p.checkKeys(v, kFwdKeys, "guest.forwarder");
      if (v["mode"]) {
        if (auto m =
                p.choice<std::string>(v["mode"], "guest.forwarder.mode",
                                      {{"io", "io"}, {"mac", "mac"}, {"macswap", "macswap"}, {"l2fwd", "l2fwd"}})) {
          spec.guest.forwarder_mode = *m;
        }
      }
      for (auto [key, field] : {std::pair{"rx_descriptors", &spec.guest.rx_descriptors},
                                std::pair{"tx_descriptors", &spec.guest.tx_descriptors}}) {
        if (!v[key]) continue;
        const std::string name = fmt::format("guest.forwarder.{}", key);
        const std::string usual = "1024 is vnf-fwd's default; 256 or 512 for small VNFs";
        auto n = p.integer(v[key], name, kMinForwarderDescriptors, kMaxForwarderDescriptors, usual);
        if (!n) continue;
        if ((*n & (*n - 1)) != 0) {
          long long below = 1;
          while (below * 2 <= *n) below *= 2;
          p.problem(v[key], fmt::format("{}: {} is not a power of two (the guest's NIC drivers take ring sizes in "
                                        "steps of up to 32): use {} or {}",
                                        name, *n, below, below * 2));
          continue;
        }
        *field = static_cast<int>(*n);
      }
      if (v["peer_macs"]) {
        if (!v["peer_macs"].IsSequence()) {
          p.problem(v["peer_macs"], "guest.forwarder.peer_macs: expected a list of MAC addresses");
        } else {
          for (const auto& m : v["peer_macs"]) {
            if (auto mac = p.mac(m, "guest.forwarder.peer_macs")) spec.guest.peer_macs.push_back(*mac);
          }
        }
      }
      continue;
    }
    if (key == "fast_boot") {
      if (auto b = p.boolean(v, "guest.fast_boot")) spec.guest.fast_boot = *b;
      continue;
    }
    auto s = p.str(v, "guest." + key);
    if (!s) continue;
    if (key == "kernel")
      spec.guest.kernel = *s;
    else if (key == "initrd")
      spec.guest.initrd = *s;
    else if (key == "cmdline")
      spec.guest.cmdline = *s;
    else if (key == "disk")
      spec.guest.disk = *s;
    else if (key == "firmware")
      spec.guest.firmware = *s == "auto" ? "" : *s;
  }
}

void parseTop(Parser& p, const YAML::Node& root, VnfSpec& spec) {
  p.checkKeys(root, kTopKeys, "a VNF spec");
  if (!root["name"]) p.problem(root, "name: missing; every VNF needs a name such as 'fw1'");
  for (const auto& kv : root) {
    auto key = kv.first.Scalar();
    const auto& v = kv.second;
    if (key == "name") {
      if (auto s = p.str(v, "name")) spec.name = *s;
    } else if (key == "vcpus") {
      if (auto i = p.integer(v, "vcpus", 1, 1024)) spec.vcpus = static_cast<int>(*i);
    } else if (key == "memory") {
      auto s = p.str(v, "memory");
      if (!s) continue;
      if (auto mib = parseMemoryMib(*s)) {
        spec.memory_mib = *mib;
      } else {
        p.problem(v, fmt::format("memory: expected a size such as 4G or 4096M (MiB when no unit), found '{}'", *s));
      }
    } else if (key == "hugepages") {
      if (auto kib = p.choice<std::uint64_t>(v, "hugepages", {{"1G", 1048576}, {"2M", 2048}, {"none", 0}})) {
        spec.page_size_kib = *kib;
      }
    } else if (key == "cpu_policy") {
      if (auto c = p.choice<CpuPolicy>(v, key, {{"dedicated", CpuPolicy::kDedicated}, {"shared", CpuPolicy::kShared}}))
        spec.cpu_policy = *c;
    } else if (key == "smt_policy") {
      if (auto c = p.choice<SmtPolicy>(
              v, key,
              {{"prefer", SmtPolicy::kPrefer}, {"isolate", SmtPolicy::kIsolate}, {"require", SmtPolicy::kRequire}}))
        spec.smt_policy = *c;
    } else if (key == "emulator_threads") {
      if (auto c = p.choice<EmulatorPolicy>(v, key,
                                            {{"isolate", EmulatorPolicy::kIsolate}, {"share", EmulatorPolicy::kShare}}))
        spec.emulator_policy = *c;
    } else if (key == "numa_affinity") {
      if (auto c = p.choice<NumaAffinity>(
              v, key, {{"required", NumaAffinity::kRequired}, {"preferred", NumaAffinity::kPreferred}}))
        spec.numa_affinity = *c;
    } else if (key == "nics") {
      parseNics(p, v, spec);
    } else if (key == "taps") {
      parseTaps(p, v, spec);
    } else if (key == "management") {
      if (!v.IsMap()) {
        p.problem(v, "management: expected {network: NAME} or {bridge: NAME}");
        continue;
      }
      p.checkKeys(v, kMgmtKeys, "management");
      MgmtNicSpec m;
      if (v["network"] && v["bridge"]) p.problem(v, "management: give either network or bridge, not both");
      if (v["network"]) {
        if (auto s = p.str(v["network"], "management.network")) m.source = *s;
      } else if (v["bridge"]) {
        m.kind = MgmtNicSpec::Kind::kBridge;
        if (auto s = p.str(v["bridge"], "management.bridge")) m.source = *s;
      } else {
        p.problem(v, "management: needs network or bridge");
      }
      if (v["mac"]) m.mac = p.mac(v["mac"], "management.mac");
      spec.mgmt = m;
    } else if (key == "profile") {
      if (auto s = p.str(v, "profile")) spec.profile = *s;
    } else if (key == "guest") {
      parseGuest(p, v, spec);
    } else if (key == "count") {
      if (auto i = p.integer(v, "count", 1, 1000)) spec.count = static_cast<int>(*i);
    }
  }
}

Error problemsError(const std::vector<SpecProblem>& problems, const std::string& file) {
  std::string message = fmt::format("{} has {} problem{}:", file.empty() ? "the VNF spec" : file, problems.size(),
                                    problems.size() == 1 ? "" : "s");
  // A wrong file (a log, a binary) can have thousands: the first ones are enough to see it.
  const auto shown = std::min(problems.size(), kMaxProblemsShown);
  for (std::size_t i = 0; i < shown; ++i) message += "\n  " + problems[i].str();
  if (problems.size() > shown) message += fmt::format("\n  ... and {} more problems", problems.size() - shown);
  return Error{Errc::kInvalidArgument, message, "correct the spec and run again; nothing was changed"};
}

// yaml-cpp 0.7 keeps a repeated key silently (a lookup finds the first, the loop the last):
// report every repetition, at any depth, at the repeated key.
void checkDuplicateKeys(Parser& p, const YAML::Node& node) {
  if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!fresh) {
          p.problem(kv.first, fmt::format("duplicate key '{}' (first given at line {}); remove one of them",
                                          kv.first.Scalar(), it->second.line + 1));
        }
      }
      checkDuplicateKeys(p, kv.second);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) checkDuplicateKeys(p, item);
  }
}

bool nameCharOk(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string SpecProblem::str() const {
  if (file.empty()) return message;
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::string didYouMean(const std::string& word, const std::vector<std::string>& known) {
  auto best = closestMatch(word, known, 2);
  return best.empty() ? "" : fmt::format("did you mean '{}'?", best);
}

std::vector<SpecProblem> validateSpec(const VnfSpec& spec) {
  std::vector<SpecProblem> out;
  auto add = [&](std::string m) { out.push_back({spec.source, 0, 0, std::move(m)}); };
  const auto& n = spec.name;
  if (n.empty()) {
    add("name: empty; every VNF needs a name such as 'fw1'");
  } else {
    // With --count, "-N" is appended: the base must leave room for it.
    std::size_t limit = kMaxNameLength - (spec.count > 1 ? 1 + std::to_string(spec.count).size() : 0);
    if (n.size() > limit) {
      add(fmt::format("name: '{}' is {} characters, the limit is {}{}; use a shorter name", n.substr(0, 60), n.size(),
                      limit, spec.count > 1 ? " (with room for the -N suffix of count)" : ""));
    }
    auto bad = std::find_if(n.begin(), n.end(), [](char c) { return !nameCharOk(c); });
    if (bad != n.end()) {
      add(
          fmt::format("name: '{}' has the character '{}'; names may use only letters, digits, '.', '_' and '-' "
                      "(they become file names and libvirt domain names)",
                      n, std::string(1, *bad)));
    } else if (n.front() == '.' || n.front() == '-' || n.front() == '_') {
      add(fmt::format("name: '{}' must start with a letter or a digit", n));
    }
  }
  if (spec.vcpus < 1) add(fmt::format("vcpus: {} is below 1; a VNF needs at least one vCPU", spec.vcpus));
  if (spec.page_size_kib > 0) {
    std::uint64_t mem_kib = spec.memory_mib * 1024;
    const std::string size = pageSizeName(spec.page_size_kib);
    if (mem_kib < spec.page_size_kib) {
      add(fmt::format("memory: {} MiB is smaller than one {} hugepage; use at least {} MiB or hugepages: 2M",
                      spec.memory_mib, size, spec.page_size_kib / 1024));
    } else if (mem_kib % spec.page_size_kib != 0) {
      std::uint64_t up = (mem_kib / spec.page_size_kib + 1) * spec.page_size_kib / 1024;
      add(fmt::format("memory: {} MiB is not a multiple of the {} hugepage size; use {} MiB or {} MiB", spec.memory_mib,
                      size, up - spec.page_size_kib / 1024, up));
    }
  }
  auto checkMac = [&](const std::optional<MacAddress>& mac, const std::string& where) {
    if (!mac) return;
    if ((*mac)[0] & 1) {
      add(fmt::format(
          "{}: {} is a multicast MAC (lowest bit of the first byte set); use a unicast one such as 52:54:00:xx:xx:xx",
          where, formatMac(*mac)));
    } else if (*mac == MacAddress{}) {
      add(fmt::format("{}: 00:00:00:00:00:00 is not a usable MAC; leave mac out to get one generated", where));
    }
  };
  for (std::size_t i = 0; i < spec.nics.size(); ++i) {
    const auto& nic = spec.nics[i];
    const std::string where = fmt::format("nics[{}]", i);
    if (nic.pf.empty()) add(where + ".pf: empty; name the PF by netdev (ens2f0) or PCI address (0000:81:00.0)");
    checkMac(nic.mac, where + ".mac");
    if (nic.vlan && (*nic.vlan < 1 || *nic.vlan > 4094)) {
      add(fmt::format("{}.vlan: {} is outside 1..4094; leave vlan out for untagged traffic", where, *nic.vlan));
    }
    if (nic.mtu && (*nic.mtu < 68 || *nic.mtu > 9216)) {
      add(fmt::format("{}.mtu: {} is outside 68..9216 (the manuals use 1500..9000)", where, *nic.mtu));
    }
    if (nic.hostdev && (nic.mac || nic.vlan)) {
      add(
          fmt::format("{}: mode hostdev passes the VF as a bare PCI device, so libvirt cannot set its mac/vlan; "
                      "use mode interface, or set them with vnfctl prepare",
                      where));
    }
  }
  for (std::size_t i = 0; i < spec.tap_nics.size(); ++i) {
    const auto& tap = spec.tap_nics[i];
    const std::string where = fmt::format("taps[{}]", i);
    if (tap.tap.empty() || tap.tap.size() > 15 ||
        std::find_if(tap.tap.begin(), tap.tap.end(), [](char c) { return !nameCharOk(c); }) != tap.tap.end()) {
      add(fmt::format("{}.tap: '{}' is not a Linux interface name (1..15 of letters, digits, '.', '_', '-')", where,
                      tap.tap));
    }
    checkMac(tap.mac, where + ".mac");
    if (tap.mtu && (*tap.mtu < 68 || *tap.mtu > 9216))
      add(fmt::format("{}.mtu: {} is outside 68..9216", where, *tap.mtu));
  }
  if (spec.mgmt) checkMac(spec.mgmt->mac, "management.mac");
  for (std::size_t i = 0; i < spec.guest.peer_macs.size(); ++i) {
    checkMac(spec.guest.peer_macs[i], fmt::format("guest.forwarder.peer_macs[{}]", i));
  }
  // Data ports: VF NICs in interface mode (a hostdev one has no MAC the guest could find it by),
  // then taps.
  const std::size_t ports = static_cast<std::size_t>(std::count_if(spec.nics.begin(), spec.nics.end(),
                                                                   [](const NicSpec& n) { return !n.hostdev; })) +
                            spec.tap_nics.size();
  if (!spec.guest.peer_macs.empty() && spec.guest.peer_macs.size() != ports) {
    add(fmt::format(
        "guest.forwarder.peer_macs: {} MAC{} for {} data port{} (interface-mode nics, then taps); give "
        "one per port",
        spec.guest.peer_macs.size(), spec.guest.peer_macs.size() == 1 ? "" : "s", ports, ports == 1 ? "" : "s"));
  }
  if ((spec.guest.forwarder_mode == "mac" || spec.guest.forwarder_mode == "l2fwd") && spec.guest.peer_macs.empty() &&
      ports > 0) {
    add(
        fmt::format("guest.forwarder.mode: {} rewrites each frame's destination to the port's peer, and "
                    "peer_macs is empty; give peer_macs (one per port), or use mode io or macswap",
                    spec.guest.forwarder_mode));
  }
  // Two NICs with one MAC confuse every switch and the guest; the same peer twice is a typo.
  std::map<MacAddress, std::string> macs;
  auto uniqueMac = [&](const std::optional<MacAddress>& mac, const std::string& where) {
    if (!mac) return;
    auto [it, fresh] = macs.emplace(*mac, where);
    if (!fresh) {
      add(
          fmt::format("{}: {} is also {}; every MAC must be different: change one of them, or leave mac out to get "
                      "one generated",
                      where, formatMac(*mac), it->second));
    }
  };
  for (std::size_t i = 0; i < spec.nics.size(); ++i) uniqueMac(spec.nics[i].mac, fmt::format("nics[{}].mac", i));
  std::map<std::string, std::string> taps;
  for (std::size_t i = 0; i < spec.tap_nics.size(); ++i) {
    uniqueMac(spec.tap_nics[i].mac, fmt::format("taps[{}].mac", i));
    const auto where = fmt::format("taps[{}].tap", i);
    if (spec.tap_nics[i].tap.empty()) continue;
    auto [it, fresh] = taps.emplace(spec.tap_nics[i].tap, where);
    if (!fresh) {
      add(fmt::format("{}: tap '{}' is also {}; each data NIC needs its own tap device", where, spec.tap_nics[i].tap,
                      it->second));
    }
  }
  if (spec.mgmt) uniqueMac(spec.mgmt->mac, "management.mac");
  for (std::size_t i = 0; i < spec.guest.peer_macs.size(); ++i) {
    uniqueMac(spec.guest.peer_macs[i], fmt::format("guest.forwarder.peer_macs[{}]", i));
  }
  if (!spec.guest.disk.empty() && !spec.guest.kernel.empty()) {
    add("guest: give either disk or kernel (+initrd), not both");
  }
  if (!spec.guest.initrd.empty() && spec.guest.kernel.empty()) add("guest.initrd: needs guest.kernel too");
  const auto& fw = spec.guest.firmware;
  if (!fw.empty() && fw != "bios" && fw != "qboot" && fw.find('/') == std::string::npos) {
    const auto guess = closestMatch(fw, {"auto", "bios", "qboot"}, 2);
    add(
        fmt::format("guest.firmware: '{}' is not a firmware: use auto, bios, qboot or the path of a ROM file "
                    "(a name with a '/', such as /usr/share/qemu/qboot.rom or ./my.rom){}",
                    fw, guess.empty() ? "" : fmt::format("; did you mean '{}'?", guess)));
  }
  if (fw.size() > 4096) add(fmt::format("guest.firmware: a path of {} bytes is over the limit of 4096", fw.size()));
  if (fw == "qboot" && !spec.guest.disk.empty()) {
    add("guest.firmware: qboot boots only a kernel given directly (guest.kernel), not guest.disk; use firmware: "
        "bios (or auto) with a disk");
  }
  if (spec.count < 1 || spec.count > 1000) add(fmt::format("count: {} is outside 1..1000", spec.count));
  // A host tap is one device: count instances cannot all own it (the second would fail to start).
  if (spec.count > 1 && !spec.tap_nics.empty()) {
    add(
        fmt::format("taps[0].tap: '{}' is one host device and count {} instances cannot share it: leave count at 1 "
                    "and give each instance its own spec with its own taps, or use nics (VFs from a pool)",
                    spec.tap_nics[0].tap, spec.count));
  }
  return out;
}

namespace {

// The checks after YAML parsing, for a file's first document and for a node built from flags.
Result<VnfSpec> parseRoot(Parser& p, const YAML::Node& root, const std::string& file) {
  VnfSpec spec;
  spec.source = file;
  if (!root.IsMap()) {
    p.problem(root, "expected a map of VNF settings such as 'name: fw1'");
    return std::unexpected(problemsError(p.problems(), file));
  }
  checkDuplicateKeys(p, root);
  try {
    parseTop(p, root, spec);
  } catch (const YAML::Exception& e) {
    p.problem(e.mark, e.msg);
  }
  for (auto& problem : validateSpec(spec)) {
    // Locate host-independent problems at their key when possible (nodes built in memory have no mark).
    auto key = problem.message.substr(0, problem.message.find(':'));
    auto dot = key.find_first_of(".[");
    auto top = key.substr(0, dot);
    if (root[top] && root[top].Mark().line >= 0) {
      auto mark = root[top].Mark();
      problem.line = mark.line + 1;
      problem.column = mark.column + 1;
    }
    p.problems().push_back(problem);
  }
  if (!p.problems().empty()) {
    // Sort by position so the user reads them top to bottom.
    std::stable_sort(p.problems().begin(), p.problems().end(), [](const SpecProblem& a, const SpecProblem& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    return std::unexpected(problemsError(p.problems(), file));
  }
  return spec;
}

}  // namespace

Result<VnfSpec> parseSpecYaml(const std::string& text, const std::string& file) {
  Parser p(file);
  YAML::Node root;
  try {
    auto docs = YAML::LoadAll(text);
    if (!docs.empty()) root = docs.front();
    // An empty document after a trailing '---' holds nothing to lose; one with content would be ignored.
    auto second = std::find_if(docs.begin() + (docs.empty() ? 0 : 1), docs.end(),
                               [](const YAML::Node& d) { return !d.IsNull(); });
    if (second != docs.end()) {
      p.problem(*second, "a second YAML document ('---'); a spec file describes one VNF: put each VNF in its own file");
    }
  } catch (const YAML::ParserException& e) {
    p.problem(e.mark, "not valid YAML: " + e.msg);
    return std::unexpected(problemsError(p.problems(), file));
  }
  return parseRoot(p, root, file);
}

Result<VnfSpec> parseSpecNode(const YAML::Node& root, const std::string& file) {
  Parser p(file);
  return parseRoot(p, root, file);
}

Result<VnfSpec> loadSpecFile(const std::string& path) {
  auto text = readUserFile(path, kMaxSpecFileBytes, "VNF spec");
  if (!text) return std::unexpected(text.error());
  auto spec = parseSpecYaml(*text, path);
  if (!spec) return spec;
  // Paths in a file mean what they say wherever vnfctl runs: relative to the file, made absolute.
  std::error_code ec;
  const auto folder = std::filesystem::absolute(std::filesystem::path(path), ec).parent_path();
  auto resolve = [&](std::string& p) {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return;
    p = (folder / p).lexically_normal().string();
  };
  resolve(spec->guest.kernel);
  resolve(spec->guest.initrd);
  resolve(spec->guest.disk);
  if (spec->guest.firmware.find('/') != std::string::npos) resolve(spec->guest.firmware);
  if (profileIsPath(spec->profile)) resolve(spec->profile);
  return spec;
}

std::vector<VnfSpec> expandCount(const VnfSpec& spec) {
  if (spec.count <= 1) return {spec};
  std::vector<VnfSpec> out;
  out.reserve(spec.count);
  for (int i = 1; i <= spec.count; ++i) {
    VnfSpec one = spec;
    one.name = fmt::format("{}-{}", spec.name, i);
    one.count = 1;
    // Fixed MACs and VF indexes cannot be shared by N instances (load.h).
    for (auto& nic : one.nics) {
      nic.mac.reset();
      nic.vf.reset();
    }
    for (auto& tap : one.tap_nics) tap.mac.reset();
    if (one.mgmt) one.mgmt->mac.reset();
    out.push_back(std::move(one));
  }
  return out;
}

std::string specHash(const VnfSpec& s) {
  // FNV-1a over a canonical text of the fields that shape the domain.
  std::string canon =
      fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", s.name, s.vcpus, s.memory_mib, s.page_size_kib,
                  static_cast<int>(s.cpu_policy), static_cast<int>(s.smt_policy), static_cast<int>(s.emulator_policy),
                  static_cast<int>(s.numa_affinity), s.profile, s.guest.kernel, s.guest.initrd, s.guest.cmdline,
                  s.guest.disk, s.guest.forwarder_mode, s.mgmt ? s.mgmt->source : "");
  for (const auto& n : s.nics) {
    canon += fmt::format("|nic:{}:{}:{}:{}:{}:{}:{}:{}", n.pf, n.vf.value_or(-1), n.mac ? formatMac(*n.mac) : "",
                         n.vlan.value_or(0), n.mtu.value_or(0), n.trust.value_or(false) ? 1 : 0,
                         n.spoofchk ? (*n.spoofchk ? 1 : 0) : -1, n.hostdev ? 1 : 0);
  }
  for (const auto& t : s.tap_nics) {
    canon += fmt::format("|tap:{}:{}:{}", t.tap, t.mac ? formatMac(*t.mac) : "", t.mtu.value_or(0));
  }
  for (const auto& m : s.guest.peer_macs) canon += "|peer:" + formatMac(m);
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : canon) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace vnf
