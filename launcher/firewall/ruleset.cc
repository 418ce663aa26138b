#include "firewall/ruleset.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

namespace vnf::fw {
namespace {

std::string addrText(bool v6, const std::array<std::uint8_t, 16>& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf);
  return buf;
}

// Clears the bits after `prefix`; true when any was set.
bool maskHostBits(std::array<std::uint8_t, 16>& addr, int prefix, int bits) {
  bool had = false;
  for (int i = prefix; i < bits; ++i) {
    auto& byte = addr[static_cast<std::size_t>(i / 8)];
    const auto bit = static_cast<std::uint8_t>(0x80 >> (i % 8));
    if (byte & bit) had = true;
    byte = static_cast<std::uint8_t>(byte & ~bit);
  }
  return had;
}

// `{ "a", "b" }` (names are checked by interfaceNameProblem, so quoting is all they need).
std::string nameSet(const std::vector<std::string>& names) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < names.size(); ++i) out += fmt::format("{}\"{}\"", i ? ", " : "", names[i]);
  return out + " }";
}

std::string cidrSet(const std::vector<Cidr>& nets) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < nets.size(); ++i) out += (i ? ", " : "") + nets[i].str();
  return out + " }";
}

void sortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Checks each interface name of a list; problems name the option (or "libvirt") they came from.
void checkNames(const std::vector<std::string>& names, std::string_view source, std::vector<std::string>& problems) {
  for (const auto& n : names) {
    if (auto why = interfaceNameProblem(n)) {
      problems.push_back(fmt::format("{} '{}': {} (fix: {})", source, n, *why,
                                     source.starts_with("--") ? "give the name as `ip link` shows it"
                                                              : "rename the interface in the domain's XML"));
    }
  }
}

}  // namespace

std::string Cidr::str() const { return fmt::format("{}/{}", addrText(v6, addr), prefix); }

Result<Cidr> parseCidr(std::string_view text, std::string_view option) {
  const std::string s(text);
  const auto slash = s.find('/');
  const std::string host = s.substr(0, slash);
  Cidr out;
  if (::inet_pton(AF_INET, host.c_str(), out.addr.data()) == 1) {
    out.v6 = false;
  } else if (::inet_pton(AF_INET6, host.c_str(), out.addr.data()) == 1) {
    out.v6 = true;
  } else {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} '{}' is not an IPv4 or IPv6 network (ADDRESS[/PREFIX])", option, s),
                fmt::format("write it like {} 192.0.2.0/24 or {} 2001:db8::/64", option, option));
  }
  const int bits = out.v6 ? 128 : 32;
  out.prefix = bits;
  if (slash != std::string::npos) {
    const std::string p = s.substr(slash + 1);
    int value = -1;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || value < 0 || value > bits) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{} '{}': the prefix length '{}' is outside 0..{}", option, s, p, bits),
                  fmt::format("give a prefix length from 0 to {} for an IPv{} network", bits, out.v6 ? 6 : 4));
    }
    out.prefix = value;
  }
  auto masked = out;
  if (maskHostBits(masked.addr, masked.prefix, bits)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} '{}' has host bits set after the /{} prefix", option, s, out.prefix),
                fmt::format("did you mean {} {}?", option, masked.str()));
  }
  return out;
}

std::optional<std::string> interfaceNameProblem(std::string_view name) {
  if (name.empty()) return "an interface name cannot be empty";
  if (name.size() > 15) return fmt::format("{} bytes long, Linux allows at most 15 (IFNAMSIZ - 1)", name.size());
  if (name == "." || name == "..") return "'.' and '..' are not interface names";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == ':' || c == '"' || c == '\\' || c == '*') {
      return fmt::format(
          "the character {} is not allowed (printable ASCII without spaces, '/', ':', '\"', '\\' or '*')",
          u >= 0x21 && u < 0x7f ? fmt::format("'{}'", c) : fmt::format("0x{:02x}", u));
    }
  }
  return std::nullopt;
}

Result<int> parsePort(std::string_view text, std::string_view option) {
  int value = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 1 || value > 65535) {
    return fail(Errc::kInvalidArgument, fmt::format("{} '{}' is not a TCP port (1..65535)", option, text),
                fmt::format("give a number from 1 to 65535, like {} {}", option, option == "--ssh-port" ? 22 : 8443));
  }
  return value;
}

Result<FirewallSpec> makeSpec(const FirewallRequest& r, const Interfaces& found) {
  std::vector<std::string> problems;
  FirewallSpec spec;
  spec.ssh = r.ssh;
  if (auto p = parsePort(r.api_port, "--api-port")) {
    spec.api_port = *p;
  } else {
    problems.push_back(p.error().str());
  }
  if (auto p = parsePort(r.ssh_port, "--ssh-port")) {
    spec.ssh_port = *p;
  } else {
    problems.push_back(p.error().str());
  }
  if (spec.ssh && spec.ssh_port == spec.api_port) {
    problems.push_back(
        fmt::format("--ssh-port and --api-port are both {} (fix: give them different ports)", spec.api_port));
  }
  if (!r.mgmt_nic.empty()) {
    if (auto why = interfaceNameProblem(r.mgmt_nic)) {
      problems.push_back(fmt::format("--mgmt-nic '{}': {} (fix: give the management NIC's name, as `ip link` shows it)",
                                     r.mgmt_nic, *why));
    }
    if (r.allow_from.empty()) {
      problems.push_back(fmt::format(
          "--mgmt-nic {} opens the API port to no one without --allow-from (fix: name the networks of the "
          "orchestrators, like --allow-from 192.0.2.0/24; --allow-from 0.0.0.0/0 --allow-from ::/0 allows every "
          "address)",
          r.mgmt_nic));
    }
  } else if (!r.allow_from.empty()) {
    problems.push_back(fmt::format(
        "--allow-from {} needs --mgmt-nic: the API port is only opened on the management NIC (fix: add --mgmt-nic "
        "NAME, like --mgmt-nic eno1)",
        r.allow_from.front()));
  }
  if (r.allow_from.size() > kMaxNetworks) {
    problems.push_back(
        fmt::format("{} --allow-from networks given, the limit is {} (fix: merge them into wider "
                    "prefixes)",
                    r.allow_from.size(), kMaxNetworks));
  } else {
    for (const auto& a : r.allow_from) {
      auto c = parseCidr(a, "--allow-from");
      if (!c) {
        problems.push_back(c.error().str());
        continue;
      }
      (c->v6 ? spec.allow_v6 : spec.allow_v4).push_back(*c);
    }
  }
  for (auto* v : {&spec.allow_v4, &spec.allow_v6}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  spec.mgmt_nic = r.mgmt_nic;

  checkNames(r.vnf_ports, "--vnf-port", problems);
  checkNames(r.vnf_bridges, "--vnf-bridge", problems);
  checkNames(r.libvirt_bridges, "--libvirt-bridge", problems);
  checkNames(found.vnf_ports, "a port of vnfctl's domains (from libvirt)", problems);
  checkNames(found.vnf_bridges, "a bridge of vnfctl's domains (from libvirt)", problems);
  checkNames(found.libvirt_bridges, "a bridge of libvirt's networks", problems);
  auto merge = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<std::string> out = a;
    out.insert(out.end(), b.begin(), b.end());
    sortUnique(out);
    return out;
  };
  spec.vnf_ports = merge(r.vnf_ports, found.vnf_ports);
  spec.vnf_bridges = merge(r.vnf_bridges, found.vnf_bridges);
  spec.libvirt_bridges = merge(r.libvirt_bridges, found.libvirt_bridges);
  for (const auto& [list, what] : {std::pair{&spec.vnf_ports, "VNF ports"}, std::pair{&spec.vnf_bridges, "VNF bridges"},
                                   std::pair{&spec.libvirt_bridges, "libvirt bridges"}}) {
    if (list->size() > kMaxInterfaces) {
      problems.push_back(fmt::format("{} {} in the ruleset, the limit is {} (fix: fewer interfaces)", list->size(),
                                     what, kMaxInterfaces));
    }
  }
  for (const auto& p : spec.vnf_ports) {
    if (std::binary_search(spec.vnf_bridges.begin(), spec.vnf_bridges.end(), p)) {
      problems.push_back(fmt::format(
          "'{}' is named both as a VNF port and as a VNF bridge (fix: a bridge goes in --vnf-bridge, a tap or veth "
          "attached to it in --vnf-port)",
          p));
    }
    if (p == spec.mgmt_nic) {
      problems.push_back(fmt::format(
          "'{}' is both the management NIC and a VNF port (fix: give the host's own management NIC to --mgmt-nic)", p));
    }
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += "\n  - " + p;
    return fail(Errc::kInvalidArgument,
                fmt::format("{} problem(s) with the firewall request, nothing was changed:{}", problems.size(), all));
  }
  return spec;
}

Ruleset renderRuleset(const FirewallSpec& s) {
  Ruleset out;
  out.isolated_ports = s.vnf_ports;
  std::string& in = out.inet;
  in += fmt::format("table {} {} {{\n", kInetFamily, kTableName);
  in += "\tchain input {\n";
  in += "\t\ttype filter hook input priority filter; policy drop;\n";
  in += "\t\tct state established,related accept comment \"replies to connections the host opened or accepted\"\n";
  in += "\t\tct state invalid drop comment \"packets conntrack cannot place\"\n";
  in += "\t\tiif \"lo\" accept comment \"the host talking to itself\"\n";
  in +=
      "\t\ticmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } "
      "ip6 hoplimit 255 accept comment \"IPv6 neighbour discovery, on-link only (RFC 4861)\"\n";
  in +=
      "\t\ticmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } "
      "accept comment \"ICMPv6 errors: path MTU discovery (RFC 8201)\"\n";
  in +=
      "\t\ticmp type { destination-unreachable, time-exceeded, parameter-problem } "
      "accept comment \"ICMP errors: path MTU discovery (fragmentation needed)\"\n";
  in += "\t\tudp sport 67 udp dport 68 accept comment \"DHCPv4 offers to the host's own DHCP client\"\n";
  in +=
      "\t\tip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "
      "\"DHCPv6 replies to the host's own DHCP client\"\n";
  if (!s.libvirt_bridges.empty()) {
    const auto set = nameSet(s.libvirt_bridges);
    in += fmt::format(
        "\t\tiifname {} udp dport {{ 53, 67, 547 }} accept comment \"DNS and DHCP for guests on libvirt's "
        "bridges\"\n",
        set);
    in += fmt::format("\t\tiifname {} tcp dport 53 accept comment \"DNS over TCP for guests on libvirt's bridges\"\n",
                      set);
  }
  if (!s.mgmt_nic.empty()) {
    if (!s.allow_v4.empty()) {
      in += fmt::format(
          "\t\tiifname \"{}\" ip saddr {} tcp dport {} accept comment \"vnfctl serve: the API on the "
          "management NIC\"\n",
          s.mgmt_nic, cidrSet(s.allow_v4), s.api_port);
    }
    if (!s.allow_v6.empty()) {
      in += fmt::format(
          "\t\tiifname \"{}\" ip6 saddr {} tcp dport {} accept comment \"vnfctl serve: the API on the "
          "management NIC\"\n",
          s.mgmt_nic, cidrSet(s.allow_v6), s.api_port);
    }
  }
  if (s.ssh) in += fmt::format("\t\ttcp dport {} accept comment \"SSH (left out with --no-ssh)\"\n", s.ssh_port);
  in += "\t}\n";
  if (!s.vnf_ports.empty()) {
    const auto ports = nameSet(s.vnf_ports);
    in += "\tchain forward {\n";
    in += "\t\ttype filter hook forward priority filter; policy accept;\n";
    in +=
        fmt::format("\t\tiifname {} oifname {} drop comment \"routed traffic between two VNF ports\"\n", ports, ports);
    if (!s.vnf_bridges.empty()) {
      const auto bridges = nameSet(s.vnf_bridges);
      in += fmt::format("\t\tiifname {} oifname {} drop comment \"routed from a VNF port into a VNF bridge\"\n", ports,
                        bridges);
      in += fmt::format("\t\tiifname {} oifname {} drop comment \"routed from a VNF bridge into a VNF port\"\n",
                        bridges, ports);
    }
    in += "\t}\n";
    out.bridge += fmt::format("table {} {} {{\n", kBridgeFamily, kTableName);
    out.bridge += "\tchain forward {\n";
    out.bridge += "\t\ttype filter hook forward priority filter; policy accept;\n";
    out.bridge +=
        fmt::format("\t\tiifname {} oifname {} drop comment \"bridged frames between two VNF ports\"\n", ports, ports);
    out.bridge += "\t}\n}\n";
  }
  in += "}\n";
  return out;
}

}  // namespace vnf::fw
