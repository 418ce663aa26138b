// `vnfctl firewall` as a user runs it, without root: plan --no-check (no kernel), discovery through
// libvirt's test driver, and bad input (exit 2, every problem, nothing touched).
#include <gtest/gtest.h>

#include "tests/unit/cli/run_vnfctl.h"

namespace vnf::test {
namespace {

TEST(FirewallCli, PlanAsksLibvirtForItsBridges) {
  auto r = vnfctl({"-c", "test:///default", "firewall", "plan", "--no-check", "--mgmt-nic", "eno1", "--allow-from",
                   "192.0.2.0/24"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("iifname { \"virbr0\" } udp dport { 53, 67, 547 } accept"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("iifname \"eno1\" ip saddr { 192.0.2.0/24 } tcp dport 8443 accept"), std::string::npos);
  EXPECT_EQ(r.out.find("table bridge vnfctl"), std::string::npos) << "test:///default has no VNF domains";
}

TEST(FirewallCli, NoLibvirtTakesOnlyTheNamedInterfaces) {
  auto r = vnfctl({"-c", "test:///default", "firewall", "plan", "--no-check", "--no-libvirt", "--vnf-port", "tapb",
                   "--vnf-port", "tapa"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("virbr0"), std::string::npos);
  EXPECT_NE(r.out.find("table bridge vnfctl {\n\tchain forward {\n\t\ttype filter hook forward priority filter; "
                       "policy accept;\n\t\tiifname { \"tapa\", \"tapb\" } oifname { \"tapa\", \"tapb\" } drop"),
            std::string::npos)
      << r.out;
}

TEST(FirewallCli, BadInputIsExit2WithEveryProblem) {
  auto dir = makeTempDir("fw-cli");
  auto r = vnfctl({"firewall", "apply", "--no-libvirt", "--state-dir", (dir / "st").string(), "--lock",
                   (dir / "lock").string(), "--api-port", "65536", "--mgmt-nic", "eno1", "--allow-from", "10.0.0.1/8"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err,
            "vnfctl: error: 2 problem(s) with the firewall request, nothing was changed:\n"
            "  - --api-port '65536' is not a TCP port (1..65535) (fix: give a number from 1 to 65535, like --api-port "
            "8443)\n"
            "  - --allow-from '10.0.0.1/8' has host bits set after the /8 prefix (fix: did you mean --allow-from "
            "10.0.0.0/8?)\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "st")) << "nothing written";
  auto c = vnfctl({"firewall", "apply", "--no-libvirt", "--state-dir", (dir / "st").string(), "--confirm", "1e3"});
  EXPECT_EQ(c.code, 2);
  EXPECT_EQ(c.err,
            "vnfctl: error: --confirm '1e3' is not a number of seconds from 1 to 86400\n"
            "  fix: give the seconds you need to check that you can still log in, like --confirm 60\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vnf::test
