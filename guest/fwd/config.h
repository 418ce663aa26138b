// Configuration of vnf-fwd: parsed from CLI flags and an optional config file
// (CLI11, TOML/INI with the long flag names as keys), then validated as a whole
// before EAL starts. No DPDK dependency, so it is unit-testable.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

namespace vnf::fwd {

enum class Mode { kIo, kMac, kMacSwap, kL2fwd };

// How a port was asked for on the command line.
enum class SelectorKind { kPci, kMac, kName };

using MacBytes = std::array<std::uint8_t, 6>;

struct PortSelector {
  SelectorKind kind = SelectorKind::kName;
  std::string text;  // normalised: PCI "0000:00:04.0", MAC lower-case "52:54:00:12:34:56", or a device name
  MacBytes mac{};    // valid when kind == kMac
};

struct PortPair {
  std::uint16_t a = 0;  // indexes into the selected port list; a == b forwards a port to itself
  std::uint16_t b = 0;
};

inline constexpr std::uint16_t kMaxBurst = 512;
inline constexpr std::uint16_t kMinDescriptors = 32;
inline constexpr std::uint16_t kMaxDescriptors = 32768;
inline constexpr std::uint16_t kMaxQueuesPerPort = 64;
inline constexpr std::uint32_t kMinMtu = 68;
// 9216 is the VNF spec's limit (launcher/spec/load.cc); virtio-net's PMD allows up to
// 9728 - 14 - 4 - 12 bytes when the device sets no MTU, and the device's MTU when it does.
inline constexpr std::uint32_t kMaxMtu = 9216;

// Options exactly as typed by the user (CLI or config file), before validation.
struct RawOptions {
  std::string mode = "io";
  std::vector<std::string> ports;
  std::vector<std::string> pairs;      // "0-1" or "0,1"
  std::vector<std::string> peer_macs;  // "1=02:00:00:00:00:01" (selected port index = MAC)
  int rxq = 1;
  int rxd = 1024;
  int txd = 1024;
  int burst = 32;
  long mbufs = 0;  // 0 = sized from the rings
  int mtu = 1500;
  std::vector<std::string> port_mtus;  // "1=9000" (selected port index = MTU); overrides mtu for that port
  int drain_us = 100;
  int stats_interval_ms = 1000;
  int stats_line_ms = 0;
  int link_wait_ms = 5000;
  std::string log_file = "/var/log/vnf-app.log";
  int log_max_kib = 10240;
  int log_files = 3;
  std::string stats_socket = "/run/vnf-fwd.sock";
  bool quiet_rate = false;
  int tx_first = 0;
  int tx_first_size = 64;
};

struct Config {
  Mode mode = Mode::kIo;
  std::vector<PortSelector> ports;  // empty = every port EAL found, in port-id order
  std::vector<PortPair> pairs;      // empty = (0,1), (2,3), ... or (0,0) for a single port
  std::map<std::uint16_t, MacBytes> peer_macs;
  std::uint16_t rxq = 1;
  std::uint16_t rxd = 1024;
  std::uint16_t txd = 1024;
  std::uint16_t burst = 32;
  std::uint32_t mbufs = 0;
  std::uint32_t mtu = 1500;                          // every port without a --port-mtu
  std::map<std::uint16_t, std::uint32_t> port_mtus;  // selected port index -> MTU
  std::uint32_t drain_us = 100;
  std::uint32_t stats_interval_ms = 1000;
  std::uint32_t stats_line_ms = 0;  // period of the "VNF-FWD STATS <json>" stdout line; 0 = off
  std::uint32_t link_wait_ms = 5000;
  std::string log_file;
  std::uint32_t log_max_kib = 10240;
  std::uint32_t log_files = 3;
  std::string stats_socket;  // empty = no stats socket
  bool quiet_rate = false;
  std::uint16_t tx_first = 0;         // bursts of frames sent on every port at start (loopback tests, benchmarks)
  std::uint16_t tx_first_size = 64;   // bytes per tx-first frame, without FCS
  std::vector<std::string> eal_args;  // passed to rte_eal_init verbatim (after argv[0])

  // The MTU of selected port `index`: its --port-mtu, else --mtu.
  std::uint32_t mtuOf(std::uint16_t index) const {
    const auto it = port_mtus.find(index);
    return it == port_mtus.end() ? mtu : it->second;
  }
};

// Result of reading the command line: either a config to run, or a text to print
// and an exit code (--help, parse errors).
struct CliOutcome {
  std::optional<Config> config;
  int exit_code = 0;
  std::string output;
};

// Splits argv at the first "--eal": what follows goes to EAL untouched.
// Parses the rest with CLI11 (and --config FILE, whose unknown keys and non
// key = value lines are errors with their line numbers), then validates.
// Never throws; every problem is reported in output with exit_code 2.
CliOutcome parseCommandLine(int argc, const char* const* argv);

// Validates every option and reports all problems at once, one per line, after the
// problems found earlier (config file lines). Reads the file system only to check
// that the --log-file folder exists.
std::expected<Config, Error> validateOptions(const RawOptions& raw, std::vector<std::string> eal_args,
                                             std::vector<std::string> problems = {});

std::optional<MacBytes> parseMac(const std::string& text);
std::string formatMac(const MacBytes& mac);
// Accepts "0000:00:04.0" or "00:04.0"; returns the 4-digit-domain form.
std::optional<std::string> parsePciAddress(const std::string& text);
std::optional<Mode> parseMode(const std::string& text);
const char* modeName(Mode mode);
// Classifies a --port value: PCI address, MAC address, else a device name.
std::expected<PortSelector, Error> parsePortSelector(const std::string& text);

}  // namespace vnf::fwd
