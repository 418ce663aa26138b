// The host firewall vnfctl applies (docs/firewall.md): the request as given, validated into a spec,
// and the nftables ruleset text for vnfctl's own tables. Pure: no I/O, so it is golden-tested.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vnf::fw {

// vnfctl's tables; nothing else is ever touched.
inline constexpr const char* kTableName = "vnfctl";
inline constexpr const char* kInetFamily = "inet";
inline constexpr const char* kBridgeFamily = "bridge";

// Limits of what a request may hold (each named in its error).
inline constexpr std::size_t kMaxInterfaces = 1024;  // per list (ports, bridges)
inline constexpr std::size_t kMaxNetworks = 256;     // --allow-from entries

// An IPv4 or IPv6 network in canonical form (host bits zero).
struct Cidr {
  bool v6 = false;
  std::array<std::uint8_t, 16> addr{};
  int prefix = 0;
  std::string str() const;  // "10.0.0.0/24", "fd00::/64"
  auto operator<=>(const Cidr&) const = default;
};

// "10.0.0.0/24", "fd00::/64", or one address ("10.0.0.5" = /32). Errors (kInvalidArgument) name
// the value and the limit; host bits set are refused with the network meant ("did you mean").
// `option` names the flag in messages ("--allow-from").
Result<Cidr> parseCidr(std::string_view text, std::string_view option);

// Why `name` cannot be a Linux interface name in vnfctl's rules, or nullopt when it can: 1..15
// bytes of printable ASCII without whitespace, '/', ':', '"', '\\' or '*' (nft would read a
// trailing '*' as a wildcard, a quote would end the string).
std::optional<std::string> interfaceNameProblem(std::string_view name);

// A TCP port given as text: 1..65535.
Result<int> parsePort(std::string_view text, std::string_view option);

// The request as the user gave it (flags), before validation.
struct FirewallRequest {
  std::string api_port = "8443";
  std::string mgmt_nic;                 // "" = the API port is not opened
  std::vector<std::string> allow_from;  // networks allowed to reach the API port on mgmt_nic
  bool ssh = true;
  std::string ssh_port = "22";
  // Interfaces named on the command line; added to what libvirt reports (or, with --no-libvirt,
  // all there is: the override tests use).
  std::vector<std::string> vnf_ports;
  std::vector<std::string> vnf_bridges;
  std::vector<std::string> libvirt_bridges;
};

// What libvirt reports (firewall/discover.h), or nothing with --no-libvirt.
struct Interfaces {
  std::vector<std::string> vnf_ports;        // taps and vnetN of vnfctl's domains
  std::vector<std::string> vnf_bridges;      // bridges those ports are attached to
  std::vector<std::string> libvirt_bridges;  // bridges of libvirt's active networks (dnsmasq)
};

// The validated request: every list sorted and without duplicates.
struct FirewallSpec {
  int api_port = 8443;
  std::string mgmt_nic;
  std::vector<Cidr> allow_v4;
  std::vector<Cidr> allow_v6;
  bool ssh = true;
  int ssh_port = 22;
  std::vector<std::string> vnf_ports;
  std::vector<std::string> vnf_bridges;
  std::vector<std::string> libvirt_bridges;
};

// Validates every value of `request` and merges `found`; collects every problem before failing
// (kInvalidArgument, one line per problem, each with its fix). Nothing is read from the host.
Result<FirewallSpec> makeSpec(const FirewallRequest& request, const Interfaces& found);

// nft text of one table ("" when the spec needs no such table).
struct Ruleset {
  std::string inet;                         // table inet vnfctl: input (policy drop), forward (policy accept)
  std::string bridge;                       // table bridge vnfctl: forward between VNF ports (only with VNF ports)
  std::vector<std::string> isolated_ports;  // the VNF ports the forward rules keep apart (journaled)
  // Both tables, as plan prints them and as the journal records them.
  std::string text() const { return inet + bridge; }
};

Ruleset renderRuleset(const FirewallSpec& spec);

}  // namespace vnf::fw
