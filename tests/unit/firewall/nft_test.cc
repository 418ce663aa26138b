// The commands that empty or replace one of vnfctl's tables (firewall/nft.h), from nft's JSON.
#include "firewall/nft.h"

#include <gtest/gtest.h>

namespace vnf::fw {
namespace {

// `nft -j list table inet vnfctl` of a table with a set, two chains (one jumping to the other), a
// map, a named counter and rules.
constexpr const char* kListing = R"({"nftables": [
 {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
 {"table": {"family": "inet", "name": "vnfctl", "handle": 1}},
 {"set": {"family": "inet", "name": "s", "table": "vnfctl", "type": "ipv4_addr", "handle": 3, "elem": ["1.2.3.4"]}},
 {"map": {"family": "inet", "name": "m \"odd\"", "table": "vnfctl", "type": "ipv4_addr", "handle": 7, "map": "verdict"}},
 {"counter": {"family": "inet", "name": "c", "table": "vnfctl", "handle": 8, "packets": 0, "bytes": 0}},
 {"chain": {"family": "inet", "table": "vnfctl", "name": "input", "handle": 1, "type": "filter", "hook": "input",
            "prio": 0, "policy": "drop"}},
 {"chain": {"family": "inet", "table": "vnfctl", "name": "sub", "handle": 2}},
 {"rule": {"family": "inet", "table": "vnfctl", "chain": "input", "handle": 4, "expr": [{"jump": {"target": "sub"}}]}}
]})";

TEST(EmptyCommands, FlushThenChainsThenEverythingElseByHandle) {
  auto cmds = emptyCommandsFromJson(kListing, "inet", "vnfctl");
  ASSERT_TRUE(cmds) << cmds.error().message;
  EXPECT_EQ(*cmds, (std::vector<std::string>{
                       "flush table inet vnfctl",
                       "delete chain inet vnfctl handle 1",
                       "delete chain inet vnfctl handle 2",
                       "delete set inet vnfctl handle 3",
                       "delete map inet vnfctl handle 7",
                       "delete counter inet vnfctl handle 8",
                   }));
}

TEST(EmptyCommands, DamagedJsonIsAnError) {
  for (const char* bad : {"", "{", R"({"nftables": 5})", R"({"nftables": [{"chain": {"name": "x"}}]})"}) {
    auto cmds = emptyCommandsFromJson(bad, "inet", "vnfctl");
    ASSERT_FALSE(cmds) << bad;
    EXPECT_EQ(cmds.error().code, Errc::kBadContent);
    EXPECT_NE(cmds.error().message.find("libnftables listed table inet vnfctl in JSON vnfctl cannot read"),
              std::string::npos);
  }
}

TEST(ReplaceTable, CreatesEmptiesInPlaceOrDeletes) {
  const std::string wanted = "table inet vnfctl {\n}\n";
  TableState absent;
  EXPECT_EQ(replaceTableCommands("inet", "vnfctl", absent, wanted), wanted);
  EXPECT_EQ(replaceTableCommands("inet", "vnfctl", absent, ""), "");
  TableState present{
      true, "table inet vnfctl {\n}\n", {"flush table inet vnfctl", "delete chain inet vnfctl handle 1"}};
  EXPECT_EQ(replaceTableCommands("inet", "vnfctl", present, wanted),
            "flush table inet vnfctl\ndelete chain inet vnfctl handle 1\n" + wanted);
  EXPECT_EQ(replaceTableCommands("bridge", "vnfctl", present, ""), "delete table bridge vnfctl\n");
}

}  // namespace
}  // namespace vnf::fw
