// Configuration parsing and validation: every message a user can see is asserted.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "config.h"

namespace vnf::fwd {
namespace {

CliOutcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vnf-fwd");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data());
}

struct BadValueCase {
  std::vector<std::string> args;
  std::string expected;  // substring of the error
};

void PrintTo(const BadValueCase& c, std::ostream* out) {
  for (const auto& arg : c.args) *out << arg.substr(0, 24) << ' ';
}

// Test names show the flags, e.g. "mode_macswp".
std::string caseName(const ::testing::TestParamInfo<BadValueCase>& info) {
  std::string name;
  for (const auto& arg : info.param.args) {
    for (char c : arg.substr(0, 16)) {
      if (std::isalnum(static_cast<unsigned char>(c))) name += c;
    }
    name += '_';
  }
  return name + std::to_string(info.index);
}

class BadValue : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(BadValue, IsRejectedWithValueLimitAndFix) {
  const auto outcome = parse(GetParam().args);
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(2, outcome.exit_code);
  EXPECT_NE(std::string::npos, outcome.output.find(GetParam().expected)) << outcome.output;
}

INSTANTIATE_TEST_SUITE_P(
    Config, BadValue,
    ::testing::Values(
        BadValueCase{{"--mode", "macswp"},
                     "--mode 'macswp' is not known: use io, mac, macswap or l2fwd (did you mean 'macswap'?)"},
        BadValueCase{{"--mode", "bridge"}, "--mode 'bridge' is not known: use io, mac, macswap or l2fwd\n"},
        BadValueCase{{"--burst", "0"}, "--burst 0 is out of range: allowed 1..512; 32 is the usual value"},
        BadValueCase{{"--burst", "1024"}, "--burst 1024 is out of range: allowed 1..512"},
        BadValueCase{{"--rxd", "16"}, "--rxd 16 is out of range: allowed 32..32768; 1024 or 2048 are usual"},
        BadValueCase{{"--txd", "40000"}, "--txd 40000 is out of range: allowed 32..32768"},
        BadValueCase{{"--rxd", "64", "--burst", "128"},
                     "--rxd 64 is smaller than --burst 128: raise --rxd to at least 128"},
        BadValueCase{{"--mtu", "9600"},
                     "--mtu 9600 is out of range: allowed 68..9216; 1500 for standard frames, 9000 for jumbo frames"},
        BadValueCase{{"--port-mtu", "0=9217"},
                     "--port-mtu '0=9217': MTU 9217 is out of range: allowed 68..9216; 1500 for standard frames, "
                     "9000 for jumbo frames"},
        BadValueCase{{"--port-mtu", "0:9000"}, "--port-mtu '0:9000' is not INDEX=MTU: write e.g. --port-mtu 1=9000"},
        BadValueCase{{"--port", "a", "--port-mtu", "1=9000"},
                     "--port-mtu '1=9000' names port index 1, but only 1 --port given (indexes 0..0)"},
        BadValueCase{{"--rxq", "0"}, "--rxq 0 is out of range: allowed 1..64"},
        BadValueCase{{"--mbufs", "100"}, "--mbufs 100 is out of range: allowed 1024..16777216"},
        BadValueCase{{"--port", "00:04"}, "--port '00:04' is neither a PCI address nor a MAC"},
        BadValueCase{{"--port", "net_null0", "--port", "net_null0"}, "--port 'net_null0' is given twice"},
        BadValueCase{{"--port", "a", "--port", "b", "--pair", "0-2"},
                     "--pair '0-2' uses port index 2, but only 2 --port given (indexes 0..1)"},
        BadValueCase{{"--pair", "0:1"}, "--pair '0:1' is not two port indexes: write it as A-B"},
        BadValueCase{{"--pair", "0-1", "--pair", "1-2"}, "--pair '1-2' reuses a port already in another pair"},
        BadValueCase{
            {"--mode", "mac", "--port", "0000:00:04.0", "--port", "0000:00:05.0", "--peer-mac", "0=02:00:00:00:00:01"},
            "--mode mac needs the peer MAC of port 1 (0000:00:05.0): add --peer-mac 1=MAC"},
        BadValueCase{{"--mode", "mac", "--peer-mac", "0=02:00:00:00:01"},
                     "--peer-mac '0=02:00:00:00:01' is not INDEX=MAC"},
        BadValueCase{{"--peer-mac", "0=02:00:00:00:00:01"},
                     "--peer-mac is used only by --mode mac, but --mode is 'io'"},
        BadValueCase{{"--stats-interval-ms", "5"}, "--stats-interval-ms 5 is out of range: allowed 10..3600000"},
        BadValueCase{{"--log-file", ""}, "--log-file is empty"},
        BadValueCase{{"--stats-socket", std::string(120, 'x')}, "unix socket paths are limited to 107"},
        BadValueCase{{"--burst", "abc"}, "--burst"}, BadValueCase{{"--no-such-flag"}, "--no-such-flag"}),
    caseName);

TEST(Config, CollectsEveryProblemBeforeFailing) {
  const auto outcome = parse({"--mode", "macswp", "--burst", "0", "--rxd", "8", "--mtu", "9600"});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_NE(std::string::npos, outcome.output.find("vnf-fwd: 4 problems in the configuration:")) << outcome.output;
  EXPECT_NE(std::string::npos, outcome.output.find("--mode 'macswp'"));
  EXPECT_NE(std::string::npos, outcome.output.find("--burst 0"));
  EXPECT_NE(std::string::npos, outcome.output.find("--rxd 8"));
  EXPECT_NE(std::string::npos, outcome.output.find("--mtu 9600"));
}

TEST(Config, EverythingAfterEalGoesToEalVerbatim) {
  const auto outcome = parse({"--mode", "macswap", "--eal", "-l", "0-1", "--vdev", "net_null0", "--mode", "x"});
  ASSERT_TRUE(outcome.config.has_value()) << outcome.output;
  EXPECT_EQ(Mode::kMacSwap, outcome.config->mode);
  const std::vector<std::string> expected{"-l", "0-1", "--vdev", "net_null0", "--mode", "x"};
  EXPECT_EQ(expected, outcome.config->eal_args);
}

TEST(Config, DefaultsAreTheDocumentedOnes) {
  const auto outcome = parse({});
  ASSERT_TRUE(outcome.config.has_value()) << outcome.output;
  const Config& c = *outcome.config;
  EXPECT_EQ(Mode::kIo, c.mode);
  EXPECT_EQ(32, c.burst);
  EXPECT_EQ(1024, c.rxd);
  EXPECT_EQ(1024, c.txd);
  EXPECT_EQ(1500u, c.mtu);
  EXPECT_EQ("/var/log/vnf-app.log", c.log_file);
  EXPECT_EQ("/run/vnf-fwd.sock", c.stats_socket);
  EXPECT_TRUE(c.eal_args.empty());
}

TEST(Config, PortSelectorsAreClassifiedAndNormalised) {
  const auto outcome = parse({"--mode", "mac", "--port", "00:04.0", "--port", "52:54:00:AB:CD:EF", "--port",
                              "net_memif0", "--pair", "0-1", "--pair", "2-2", "--peer-mac", "0=02:00:00:00:00:0a",
                              "--peer-mac", "1=02:00:00:00:00:0b", "--peer-mac", "2=02:00:00:00:00:0c"});
  ASSERT_TRUE(outcome.config.has_value()) << outcome.output;
  const auto& ports = outcome.config->ports;
  ASSERT_EQ(3u, ports.size());
  EXPECT_EQ(SelectorKind::kPci, ports[0].kind);
  EXPECT_EQ("0000:00:04.0", ports[0].text);
  EXPECT_EQ(SelectorKind::kMac, ports[1].kind);
  EXPECT_EQ("52:54:00:ab:cd:ef", ports[1].text);
  EXPECT_EQ(SelectorKind::kName, ports[2].kind);
  ASSERT_EQ(2u, outcome.config->pairs.size());
  EXPECT_EQ(2, outcome.config->pairs[1].a);
  EXPECT_EQ(2, outcome.config->pairs[1].b);
  EXPECT_EQ("02:00:00:00:00:0b", formatMac(outcome.config->peer_macs.at(1)));
}

TEST(Config, ConfigFileUsesLongFlagNamesAndFlagsOverrideIt) {
  const auto path =
      std::filesystem::temp_directory_path() / ("vnf-fwd-config-test-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(path);
    out << "# vnf-fwd configuration\n"
           "mode = \"macswap\"\n"
           "burst = 64\n"
           "rxd = 2048\n"
           "port = [\"0000:00:04.0\", \"0000:00:05.0\"]\n"
           "log-file = \"/tmp/x.log\"\n";
  }
  const auto outcome = parse({"--config", path.string(), "--burst", "16"});
  std::filesystem::remove(path);
  ASSERT_TRUE(outcome.config.has_value()) << outcome.output;
  EXPECT_EQ(Mode::kMacSwap, outcome.config->mode);
  EXPECT_EQ(16, outcome.config->burst);
  EXPECT_EQ(2048, outcome.config->rxd);
  EXPECT_EQ(2u, outcome.config->ports.size());
  EXPECT_EQ("/tmp/x.log", outcome.config->log_file);
}

// Writes a config file for one test and removes it at the end of the test.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("vnf-fwd-config-test-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml")) {
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~ConfigFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(Config, UnknownConfigKeysAreErrorsWithLineAndSuggestion) {
  const ConfigFile file("# vnf-fwd\nmode = \"macswap\"\nbrust = 64\n\nlog_file = \"/tmp/x.log\"\ncolour = 3\n");
  const auto outcome = parse({"--config", file.path()});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(2, outcome.exit_code);
  const std::string p = file.path();
  EXPECT_EQ(
      "vnf-fwd: 3 problems in the configuration:\n"
      "  - --config " +
          p +
          " line 3: unknown key 'brust' (did you mean 'burst'?); keys are the long option "
          "names without the dashes (vnf-fwd --help)\n"
          "  - --config " +
          p +
          " line 5: unknown key 'log_file' (did you mean 'log-file'?); keys are the long "
          "option names without the dashes (vnf-fwd --help)\n"
          "  - --config " +
          p +
          " line 6: unknown key 'colour'; keys are the long option names without the "
          "dashes (vnf-fwd --help)\n",
      outcome.output);
}

TEST(Config, GarbageConfigFileIsAnErrorNamingTheLines) {
  const ConfigFile file(std::string("\x7f"
                                    "ELF\x02\x01\x01\n",
                                    8) +
                        "mode: mac\n{\"burst\": 32}\n[ports]\n");
  const auto outcome = parse({"--config", file.path()});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(2, outcome.exit_code);
  const std::string p = file.path();
  EXPECT_EQ(
      "vnf-fwd: 4 problems in the configuration:\n"
      "  - --config " +
          p +
          " line 1: '?ELF?"
          "?"
          "?' is not a 'key = value' line: write options as "
          "long-option-name = value, e.g. burst = 32\n"
          "  - --config " +
          p +
          " line 2: 'mode: mac' is not a 'key = value' line: write options as "
          "long-option-name = value, e.g. burst = 32\n"
          "  - --config " +
          p +
          " line 3: '{\"burst\": 32}' is not a 'key = value' line: write options as "
          "long-option-name = value, e.g. burst = 32\n"
          "  - --config " +
          p +
          " line 4: section [ports] is not known: vnf-fwd reads keys at the top level "
          "(or under [default]); remove the section line\n",
      outcome.output);
}

TEST(Config, ConfigFileWithSectionArraysAndFlagLinesIsAccepted) {
  const ConfigFile file(
      "[default]\nport = [\"0000:00:04.0\",  # ports 0 and 1\n  \"0000:00:05.0\"\n]\n"
      "quiet-rate\n; INI comment\n\"burst\" = 16\n");
  const auto outcome = parse({"--config", file.path()});
  ASSERT_TRUE(outcome.config.has_value()) << outcome.output;
  EXPECT_EQ(2u, outcome.config->ports.size());
  EXPECT_TRUE(outcome.config->quiet_rate);
  EXPECT_EQ(16, outcome.config->burst);
}

TEST(Config, LogFileInAMissingFolderIsAnError) {
  const auto outcome = parse({"--log-file", "/nonexistent-vnf-fwd/logs/vnf-app.log"});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(2, outcome.exit_code);
  EXPECT_EQ(
      "vnf-fwd: 1 problem in the configuration:\n"
      "  - --log-file '/nonexistent-vnf-fwd/logs/vnf-app.log': folder /nonexistent-vnf-fwd/logs does not "
      "exist: create it (mkdir -p /nonexistent-vnf-fwd/logs) or give a log file in an existing folder\n",
      outcome.output);
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-vnf-fwd"));
}

TEST(Config, PeerMacBeyondTheSelectedPortsIsAnError) {
  const auto outcome =
      parse({"--mode", "mac", "--port", "net_ring0", "--port", "net_ring1", "--peer-mac", "0=02:00:00:00:00:01",
             "--peer-mac", "1=02:00:00:00:00:02", "--peer-mac", "2=02:00:00:00:00:03"});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(2, outcome.exit_code);
  EXPECT_EQ(
      "vnf-fwd: 1 problem in the configuration:\n"
      "  - --peer-mac '2=02:00:00:00:00:03' names port index 2, but only 2 --port given (indexes 0..1): add "
      "the port or fix the index\n",
      outcome.output);
}

TEST(Config, MissingConfigFileIsAnError) {
  const auto outcome = parse({"--config", "/nonexistent/vnf-fwd.toml"});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(2, outcome.exit_code);
  EXPECT_NE(std::string::npos, outcome.output.find("/nonexistent/vnf-fwd.toml")) << outcome.output;
}

TEST(Config, HelpExitsZeroAndMentionsEal) {
  const auto outcome = parse({"--help"});
  ASSERT_FALSE(outcome.config.has_value());
  EXPECT_EQ(0, outcome.exit_code);
  EXPECT_NE(std::string::npos, outcome.output.find("--eal"));
  EXPECT_NE(std::string::npos, outcome.output.find("--stats-socket"));
}

TEST(Config, StatsSocketNoneDisablesIt) {
  const auto outcome = parse({"--stats-socket", "none"});
  ASSERT_TRUE(outcome.config.has_value());
  EXPECT_TRUE(outcome.config->stats_socket.empty());
}

TEST(Config, MacAndPciParsers) {
  EXPECT_FALSE(parseMac("52:54:00:12:34").has_value());
  EXPECT_FALSE(parseMac("52:54:00:12:34:zz").has_value());
  EXPECT_EQ("52:54:00:12:34:56", formatMac(*parseMac("52-54-00-12-34-56")));
  EXPECT_EQ("0001:af:00.1", *parsePciAddress("0001:AF:00.1"));
  EXPECT_FALSE(parsePciAddress("00:04.8").has_value());
  EXPECT_FALSE(parsePciAddress("0:04.0").has_value());
}

TEST(Config, PortMtuOverridesMtuForThatPortOnly) {
  const auto outcome = parse({"--mtu", "1500", "--port-mtu", "1=9216", "--port-mtu", "2=68"});
  ASSERT_TRUE(outcome.config.has_value()) << outcome.output;
  EXPECT_EQ(1500u, outcome.config->mtuOf(0));
  EXPECT_EQ(9216u, outcome.config->mtuOf(1));
  EXPECT_EQ(68u, outcome.config->mtuOf(2));
  EXPECT_EQ(1500u, outcome.config->mtuOf(3));
}

}  // namespace
}  // namespace vnf::fwd
