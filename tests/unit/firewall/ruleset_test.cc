// The ruleset generator and the validation of what the user gives (firewall/ruleset.h).
#include "firewall/ruleset.h"

#include <gtest/gtest.h>

#include "tests/unit/golden.h"

namespace vnf::fw {
namespace {

FirewallRequest fullRequest() {
  FirewallRequest r;
  r.mgmt_nic = "eno1";
  r.allow_from = {"192.0.2.0/24", "2001:db8:1::/48", "198.51.100.7", "192.0.2.0/24"};
  r.vnf_ports = {"vnf5b", "vnf5a", "vnet3"};
  r.vnf_bridges = {"br-mgmt"};
  r.libvirt_bridges = {"virbr0"};
  return r;
}

TEST(Ruleset, FullRequestMatchesGolden) {
  auto spec = makeSpec(fullRequest(), Interfaces{{"vnet7"}, {"virbr0"}, {"virbr1", "virbr0"}});
  ASSERT_TRUE(spec) << spec.error().message;
  test::expectGolden("firewall/full.nft", renderRuleset(*spec).text());
}

TEST(Ruleset, DefaultsOnlyMatchesGolden) {
  auto spec = makeSpec(FirewallRequest{}, Interfaces{});
  ASSERT_TRUE(spec) << spec.error().message;
  const auto rs = renderRuleset(*spec);
  EXPECT_TRUE(rs.bridge.empty()) << "no VNF ports: no bridge table";
  EXPECT_EQ(rs.inet.find("chain forward"), std::string::npos);
  test::expectGolden("firewall/defaults.nft", rs.text());
}

TEST(Ruleset, NoSshOtherPortsMatchesGolden) {
  FirewallRequest r;
  r.ssh = false;
  r.api_port = "443";
  r.mgmt_nic = "mgmt0";
  r.allow_from = {"::/0", "0.0.0.0/0"};
  r.vnf_ports = {"tap0", "tap1"};
  auto spec = makeSpec(r, Interfaces{});
  ASSERT_TRUE(spec) << spec.error().message;
  const auto text = renderRuleset(*spec).text();
  EXPECT_EQ(text.find("SSH"), std::string::npos);
  test::expectGolden("firewall/no-ssh-any-source.nft", text);
}

TEST(Ruleset, InputDropsByDefaultForwardNeverDoes) {
  auto spec = makeSpec(fullRequest(), Interfaces{});
  ASSERT_TRUE(spec);
  const auto rs = renderRuleset(*spec);
  EXPECT_NE(rs.inet.find("hook input priority filter; policy drop;"), std::string::npos);
  EXPECT_NE(rs.inet.find("hook forward priority filter; policy accept;"), std::string::npos);
  EXPECT_NE(rs.bridge.find("hook forward priority filter; policy accept;"), std::string::npos);
  EXPECT_EQ(rs.bridge.find("policy drop"), std::string::npos);
}

TEST(Ruleset, ListsAreSortedAndWithoutDuplicates) {
  auto spec = makeSpec(fullRequest(), Interfaces{{"vnf5a", "vnet7"}, {}, {"virbr0"}});
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->vnf_ports, (std::vector<std::string>{"vnet3", "vnet7", "vnf5a", "vnf5b"}));
  EXPECT_EQ(renderRuleset(*spec).isolated_ports, spec->vnf_ports) << "what the journal records as kept apart";
  EXPECT_EQ(spec->libvirt_bridges, (std::vector<std::string>{"virbr0"}));
  ASSERT_EQ(spec->allow_v4.size(), 2u);
  EXPECT_EQ(spec->allow_v4[0].str(), "192.0.2.0/24");
  EXPECT_EQ(spec->allow_v4[1].str(), "198.51.100.7/32");
  ASSERT_EQ(spec->allow_v6.size(), 1u);
  EXPECT_EQ(spec->allow_v6[0].str(), "2001:db8:1::/48");
}

struct CidrCase {
  const char* text;
  const char* canonical;  // nullptr: an error whose message contains `error`
  const char* error;
  const char* fix;
};

TEST(Cidr, ParsesAndRefuses) {
  const CidrCase cases[] = {
      {"10.0.0.0/8", "10.0.0.0/8", nullptr, nullptr},
      {"10.1.2.3", "10.1.2.3/32", nullptr, nullptr},
      {"0.0.0.0/0", "0.0.0.0/0", nullptr, nullptr},
      {"fd00::/8", "fd00::/8", nullptr, nullptr},
      {"2001:DB8::1", "2001:db8::1/128", nullptr, nullptr},
      {"10.0.0.1/8", nullptr, "--allow-from '10.0.0.1/8' has host bits set after the /8 prefix",
       "did you mean --allow-from 10.0.0.0/8?"},
      {"fd00::1/64", nullptr, "--allow-from 'fd00::1/64' has host bits set after the /64 prefix",
       "did you mean --allow-from fd00::/64?"},
      {"10.0.0.0/33", nullptr, "--allow-from '10.0.0.0/33': the prefix length '33' is outside 0..32",
       "give a prefix length from 0 to 32 for an IPv4 network"},
      {"::/129", nullptr, "--allow-from '::/129': the prefix length '129' is outside 0..128",
       "give a prefix length from 0 to 128 for an IPv6 network"},
      {"10.0.0.0/", nullptr, "the prefix length '' is outside 0..32", nullptr},
      {"10.0.0.0/-1", nullptr, "the prefix length '-1' is outside 0..32", nullptr},
      {"10.0.0.0/8x", nullptr, "the prefix length '8x' is outside 0..32", nullptr},
      {"10.0.0.256", nullptr, "--allow-from '10.0.0.256' is not an IPv4 or IPv6 network (ADDRESS[/PREFIX])",
       "write it like --allow-from 192.0.2.0/24 or --allow-from 2001:db8::/64"},
      {"", nullptr, "is not an IPv4 or IPv6 network", nullptr},
      {"lan", nullptr, "is not an IPv4 or IPv6 network", nullptr},
  };
  for (const auto& c : cases) {
    auto r = parseCidr(c.text, "--allow-from");
    if (c.canonical) {
      ASSERT_TRUE(r) << c.text << ": " << r.error().message;
      EXPECT_EQ(r->str(), c.canonical);
    } else {
      ASSERT_FALSE(r) << c.text << " was accepted";
      EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
      EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
      if (c.fix) {
        EXPECT_EQ(r.error().fix, c.fix);
      }
    }
  }
}

TEST(InterfaceName, AcceptsLinuxNamesRefusesWhatNftWouldMisread) {
  for (const char* good : {"eth0", "vnet12", "br-mgmt", "a.b", "x_y@z", "123456789012345"}) {
    EXPECT_EQ(interfaceNameProblem(good), std::nullopt) << good;
  }
  EXPECT_EQ(interfaceNameProblem(""), "an interface name cannot be empty");
  EXPECT_EQ(interfaceNameProblem("1234567890123456"), "16 bytes long, Linux allows at most 15 (IFNAMSIZ - 1)");
  EXPECT_EQ(interfaceNameProblem(".."), "'.' and '..' are not interface names");
  const std::string rest = " is not allowed (printable ASCII without spaces, '/', ':', '\"', '\\' or '*')";
  EXPECT_EQ(interfaceNameProblem("tap*"), "the character '*'" + rest);
  EXPECT_EQ(interfaceNameProblem("a\"b"), "the character '\"'" + rest);
  EXPECT_EQ(interfaceNameProblem("a\\b"), "the character '\\'" + rest);
  EXPECT_EQ(interfaceNameProblem("a b"), "the character 0x20" + rest);
  EXPECT_EQ(interfaceNameProblem("a\nb"), "the character 0x0a" + rest);
  EXPECT_EQ(interfaceNameProblem("a/b"), "the character '/'" + rest);
  EXPECT_EQ(interfaceNameProblem("a:1"), "the character ':'" + rest);
  EXPECT_EQ(interfaceNameProblem("\xc3\xa9"), "the character 0xc3" + rest);
}

TEST(Port, Range) {
  EXPECT_EQ(parsePort("1", "--api-port"), 1);
  EXPECT_EQ(parsePort("65535", "--api-port"), 65535);
  for (const char* bad : {"0", "65536", "-1", "", "80x", " 80", "99999999999999999999"}) {
    auto r = parsePort(bad, "--api-port");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, std::string("--api-port '") + bad + "' is not a TCP port (1..65535)");
    EXPECT_EQ(r.error().fix, "give a number from 1 to 65535, like --api-port 8443");
  }
}

TEST(Spec, CollectsEveryProblemAtOnce) {
  FirewallRequest r;
  r.api_port = "0";
  r.ssh_port = "ssh";
  r.mgmt_nic = "eno1";
  r.allow_from = {"10.0.0.1/8", "bogus"};
  r.vnf_ports = {"tap 0", "br0"};
  r.vnf_bridges = {"br0"};
  auto spec = makeSpec(r, Interfaces{{}, {}, {"bad*"}});
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, Errc::kInvalidArgument);
  const auto& m = spec.error().message;
  EXPECT_EQ(m.rfind("7 problem(s) with the firewall request, nothing was changed:", 0), 0u) << m;
  for (const char* part : {
           "--api-port '0' is not a TCP port (1..65535)",
           "--ssh-port 'ssh' is not a TCP port (1..65535) (fix: give a number from 1 to 65535, like --ssh-port 22)",
           "did you mean --allow-from 10.0.0.0/8?",
           "--allow-from 'bogus' is not an IPv4 or IPv6 network",
           "--vnf-port 'tap 0': the character 0x20 is not allowed",
           "a bridge of libvirt's networks 'bad*': the character '*' is not allowed",
           "'br0' is named both as a VNF port and as a VNF bridge (fix: a bridge goes in --vnf-bridge",
       }) {
    EXPECT_NE(m.find(part), std::string::npos) << "missing: " << part << "\nin: " << m;
  }
}

TEST(Spec, ManagementNicAndNetworksGoTogether) {
  FirewallRequest nic_only;
  nic_only.mgmt_nic = "eno1";
  auto a = makeSpec(nic_only, {});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("--mgmt-nic eno1 opens the API port to no one without --allow-from (fix: name "
                                   "the networks of the orchestrators, like --allow-from 192.0.2.0/24"),
            std::string::npos)
      << a.error().message;
  FirewallRequest nets_only;
  nets_only.allow_from = {"10.0.0.0/8"};
  auto b = makeSpec(nets_only, {});
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("--allow-from 10.0.0.0/8 needs --mgmt-nic"), std::string::npos);
  FirewallRequest same;
  same.api_port = "22";
  auto c = makeSpec(same, {});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("--ssh-port and --api-port are both 22"), std::string::npos);
  same.ssh = false;
  EXPECT_TRUE(makeSpec(same, {})) << "without SSH the API may use port 22";
  FirewallRequest nic_is_port = fullRequest();
  nic_is_port.vnf_ports.push_back("eno1");
  auto d = makeSpec(nic_is_port, {});
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("'eno1' is both the management NIC and a VNF port"), std::string::npos);
}

TEST(Spec, Limits) {
  FirewallRequest r;
  for (std::size_t i = 0; i <= kMaxInterfaces; ++i) r.vnf_ports.push_back("t" + std::to_string(i));
  auto a = makeSpec(r, {});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("1025 VNF ports in the ruleset, the limit is 1024"), std::string::npos);
  FirewallRequest n;
  n.mgmt_nic = "eno1";
  for (std::size_t i = 0; i <= kMaxNetworks; ++i) n.allow_from.push_back("10.0.0." + std::to_string(i % 256));
  auto b = makeSpec(n, {});
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("257 --allow-from networks given, the limit is 256"), std::string::npos);
}

}  // namespace
}  // namespace vnf::fw
