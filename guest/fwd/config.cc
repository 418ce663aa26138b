#include "config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "common/text.h"

namespace vnf::fwd {
namespace {

constexpr std::array<const char*, 4> kModeNames{"io", "mac", "macswap", "l2fwd"};

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool isHex(const std::string& text) {
  return !text.empty() && std::ranges::all_of(text, [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::optional<std::uint16_t> parseIndex(const std::string& text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty() || value > 1023) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// Checks lo <= value <= hi; else records "what, value, limit, fix".
template <typename T>
bool checkRange(std::vector<std::string>& problems, const char* flag, long value, long lo, long hi, const char* fix,
                T& out) {
  if (value < lo || value > hi) {
    problems.push_back(fmt::format("{} {} is out of range: allowed {}..{}; {}", flag, value, lo, hi, fix));
    return false;
  }
  out = static_cast<T>(value);
  return true;
}

// A config-file line as a person can read it in a message: printable ASCII, at most 40 characters.
std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return text.size() > 40 ? out + "..." : out;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string closestName(const std::string& name, const std::vector<std::string>& known) {
  return vnf::closestMatch(name, known, 2);  // suggest only within an edit distance of 2
}

// The file named by --config, as CLI11 will read it: "--config FILE" or "--config=FILE" (the last wins).
std::optional<std::string> configPathArgument(const std::vector<std::string>& args) {
  std::optional<std::string> path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
    if (args[i].starts_with("--config=")) path = args[i].substr(9);
  }
  return path;
}

std::string problemList(const std::vector<std::string>& problems) {
  std::string message =
      fmt::format("vnf-fwd: {} problem{} in the configuration:", problems.size(), problems.size() == 1 ? "" : "s");
  for (const auto& problem : problems) message += "\n  - " + problem;
  return message;
}

constexpr std::size_t kMaxFileProblems = 10;

// CLI11 silently ignores keys it does not know and reads any other line as a flag name, so a
// misspelt key or a file that is not TOML/INI at all would be dropped without a word. This scan
// mirrors CLI11's reader (comments #/;, [default] section, multi-line [ ... ] arrays, a bare name
// is a flag) and reports every line that would be ignored, with its line number.
std::vector<std::string> checkConfigFile(const std::string& path, const std::vector<std::string>& known) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};  // CLI11 reports a missing or unreadable file
  std::vector<std::string> problems;
  std::size_t hidden = 0;
  auto report = [&](std::string problem) {
    if (problems.size() < kMaxFileProblems) {
      problems.push_back(std::move(problem));
    } else {
      ++hidden;
    }
  };
  std::string line;
  std::size_t number = 0;
  bool in_array = false;
  bool in_default = true;
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(line);
    if (in_array) {
      in_array = text.empty() || text.back() != ']';
      continue;
    }
    if (text.empty() || text.front() == '#' || text.front() == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      std::string section = text.substr(1, text.size() - 2);
      if (section.size() > 1 && section.front() == '[' && section.back() == ']') {
        section = section.substr(1, section.size() - 2);
      }
      in_default = lower(section) == "default";
      if (!in_default) {
        report(
            fmt::format("--config {} line {}: section [{}] is not known: vnf-fwd reads keys at the top "
                        "level (or under [default]); remove the section line",
                        path, number, printable(section)));
      }
      continue;
    }
    const auto eq = text.find('=');
    std::string key = trim(eq == std::string::npos ? text.substr(0, text.find('#')) : text.substr(0, eq));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front()) {
      key = key.substr(1, key.size() - 2);
    }
    if (key.starts_with("--")) key = key.substr(2);
    const bool name_like = !key.empty() && std::ranges::all_of(key, [](unsigned char c) {
      return std::isalnum(c) != 0 || c == '-' || c == '_';
    });
    if (!name_like) {
      report(
          fmt::format("--config {} line {}: '{}' is not a 'key = value' line: write options as "
                      "long-option-name = value, e.g. burst = 32",
                      path, number, printable(text)));
      continue;
    }
    if (eq != std::string::npos) {
      const std::string value = trim(text.substr(eq + 1).substr(0, text.substr(eq + 1).find('#')));
      in_array = value.size() > 1 && value.front() == '[' && value.back() != ']';
    }
    if (!in_default) continue;  // already reported with its section
    if (std::ranges::find(known, key) != known.end()) continue;
    const std::string hint = closestName(key, known);
    report(
        fmt::format("--config {} line {}: unknown key '{}'{}; keys are the long option names without "
                    "the dashes (vnf-fwd --help)",
                    path, number, printable(key), hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }
  if (hidden > 0) {
    problems.push_back(
        fmt::format("--config {}: {} more problem line{} not shown; is it a vnf-fwd TOML/INI "
                    "file?",
                    path, hidden, hidden == 1 ? "" : "s"));
  }
  return problems;
}

}  // namespace

std::optional<MacBytes> parseMac(const std::string& text) { return vnf::parseMacText(text); }

std::string formatMac(const MacBytes& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

std::optional<std::string> parsePciAddress(const std::string& text) {
  // [DDDD:]BB:DD.F
  std::string rest = lower(text);
  std::string domain = "0000";
  if (std::ranges::count(rest, ':') == 2) {
    const auto colon = rest.find(':');
    domain = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
    if (domain.size() != 4 || !isHex(domain)) return std::nullopt;
  }
  if (rest.size() != 7 || rest[2] != ':' || rest[5] != '.') return std::nullopt;
  if (!isHex(rest.substr(0, 2)) || !isHex(rest.substr(3, 2)) || rest[6] < '0' || rest[6] > '7') return std::nullopt;
  return domain + ":" + rest;
}

std::optional<Mode> parseMode(const std::string& text) {
  if (text == "io") return Mode::kIo;
  if (text == "mac") return Mode::kMac;
  if (text == "macswap") return Mode::kMacSwap;
  if (text == "l2fwd") return Mode::kL2fwd;
  return std::nullopt;
}

const char* modeName(Mode mode) { return kModeNames[static_cast<std::size_t>(mode)]; }

std::expected<PortSelector, Error> parsePortSelector(const std::string& text) {
  if (text.empty()) {
    return std::unexpected(
        Error("--port '' is empty: give a PCI address (0000:00:04.0), a MAC "
              "(52:54:00:12:34:56) or a device name (net_ring0)"));
  }
  if (auto mac = parseMac(text)) return PortSelector{SelectorKind::kMac, formatMac(*mac), *mac};
  if (auto pci = parsePciAddress(text)) return PortSelector{SelectorKind::kPci, *pci, {}};
  // Something that looks like a MAC or PCI address but is malformed is a typo, not a name.
  const bool looks_numeric = std::ranges::all_of(
      text, [](unsigned char c) { return std::isxdigit(c) != 0 || c == ':' || c == '.' || c == '-'; });
  if (looks_numeric && std::ranges::count(text, ':') >= 1) {
    return std::unexpected(
        Error(fmt::format("--port '{}' is neither a PCI address nor a MAC: write a PCI address as 0000:00:04.0 "
                          "(see dpdk-devbind.py --status) or a MAC as 52:54:00:12:34:56 (see ip link)",
                          text)));
  }
  return PortSelector{SelectorKind::kName, text, {}};
}

std::expected<Config, Error> validateOptions(const RawOptions& raw, std::vector<std::string> eal_args,
                                             std::vector<std::string> problems) {
  Config config;
  config.eal_args = std::move(eal_args);

  if (auto mode = parseMode(raw.mode)) {
    config.mode = *mode;
  } else {
    std::string hint;
    for (const char* name : kModeNames) {
      if (vnf::editDistance(raw.mode, name) <= 2) {
        hint = fmt::format(" (did you mean '{}'?)", name);
        break;
      }
    }
    problems.push_back(fmt::format("--mode '{}' is not known: use io, mac, macswap or l2fwd{}", raw.mode, hint));
  }

  for (const auto& text : raw.ports) {
    auto selector = parsePortSelector(text);
    if (!selector) {
      problems.push_back(selector.error().message);
      continue;
    }
    const bool duplicate =
        std::ranges::any_of(config.ports, [&](const PortSelector& s) { return s.text == selector->text; });
    if (duplicate) {
      problems.push_back(fmt::format("--port '{}' is given twice: list each port once", text));
      continue;
    }
    config.ports.push_back(*selector);
  }

  const std::size_t port_count = config.ports.size();
  std::vector<int> use_count(1024, 0);
  for (const auto& text : raw.pairs) {
    const auto sep = text.find_first_of("-,");
    auto a = sep == std::string::npos ? std::nullopt : parseIndex(text.substr(0, sep));
    auto b = sep == std::string::npos ? std::nullopt : parseIndex(text.substr(sep + 1));
    if (!a || !b) {
      problems.push_back(
          fmt::format("--pair '{}' is not two port indexes: write it as A-B, e.g. --pair 0-1 "
                      "(indexes into the --port list, from 0)",
                      text));
      continue;
    }
    if (port_count > 0 && (*a >= port_count || *b >= port_count)) {
      problems.push_back(
          fmt::format("--pair '{}' uses port index {}, but only {} --port given (indexes 0..{}): "
                      "add the port or fix the index",
                      text, std::max(*a, *b), port_count, port_count - 1));
      continue;
    }
    if (++use_count[*a] > 1 || (*a != *b && ++use_count[*b] > 1)) {
      problems.push_back(
          fmt::format("--pair '{}' reuses a port already in another pair: each port can be "
                      "in one pair only",
                      text));
      continue;
    }
    config.pairs.push_back(PortPair{*a, *b});
  }

  for (const auto& text : raw.peer_macs) {
    const auto eq = text.find('=');
    auto index = eq == std::string::npos ? std::nullopt : parseIndex(text.substr(0, eq));
    auto mac = eq == std::string::npos ? std::nullopt : parseMac(text.substr(eq + 1));
    if (!index || !mac) {
      problems.push_back(
          fmt::format("--peer-mac '{}' is not INDEX=MAC: write e.g. --peer-mac 1=02:00:00:00:00:01 "
                      "(frames leaving port 1 get that destination MAC)",
                      text));
      continue;
    }
    if (port_count > 0 && *index >= port_count) {
      problems.push_back(
          fmt::format("--peer-mac '{}' names port index {}, but only {} --port given (indexes "
                      "0..{}): add the port or fix the index",
                      text, *index, port_count, port_count - 1));
      continue;
    }
    config.peer_macs[*index] = *mac;
  }
  if (config.mode == Mode::kMac && port_count > 0) {
    for (std::uint16_t i = 0; i < port_count; ++i) {
      if (!config.peer_macs.contains(i)) {
        problems.push_back(fmt::format("--mode mac needs the peer MAC of port {} ({}): add --peer-mac {}=MAC", i,
                                       config.ports[i].text, i));
      }
    }
  }
  if (config.mode != Mode::kMac && !config.peer_macs.empty()) {
    problems.push_back(
        fmt::format("--peer-mac is used only by --mode mac, but --mode is '{}': drop --peer-mac "
                    "or use --mode mac",
                    raw.mode));
  }

  for (const auto& text : raw.port_mtus) {
    const auto eq = text.find('=');
    auto index = eq == std::string::npos ? std::nullopt : parseIndex(text.substr(0, eq));
    long mtu = -1;
    if (eq != std::string::npos) {
      const std::string value = text.substr(eq + 1);
      const auto* end = value.data() + value.size();
      auto [ptr, ec] = std::from_chars(value.data(), end, mtu);
      if (ec != std::errc() || ptr != end || value.empty()) mtu = -1;
    }
    if (!index || mtu < 0) {
      problems.push_back(
          fmt::format("--port-mtu '{}' is not INDEX=MTU: write e.g. --port-mtu 1=9000 (port 1 "
                      "gets MTU 9000, the others --mtu)",
                      text));
      continue;
    }
    if (mtu < static_cast<long>(kMinMtu) || mtu > static_cast<long>(kMaxMtu)) {
      problems.push_back(
          fmt::format("--port-mtu '{}': MTU {} is out of range: allowed {}..{}; 1500 for "
                      "standard frames, 9000 for jumbo frames",
                      text, mtu, kMinMtu, kMaxMtu));
      continue;
    }
    if (port_count > 0 && *index >= port_count) {
      problems.push_back(
          fmt::format("--port-mtu '{}' names port index {}, but only {} --port given (indexes "
                      "0..{}): add the port or fix the index",
                      text, *index, port_count, port_count - 1));
      continue;
    }
    config.port_mtus[*index] = static_cast<std::uint32_t>(mtu);
  }

  checkRange(problems, "--rxq", raw.rxq, 1, kMaxQueuesPerPort, "use 1 queue per worker lcore (RSS spreads flows)",
             config.rxq);
  checkRange(problems, "--burst", raw.burst, 1, kMaxBurst, "32 is the usual value", config.burst);
  if (checkRange(problems, "--rxd", raw.rxd, kMinDescriptors, kMaxDescriptors, "1024 or 2048 are usual", config.rxd) &&
      raw.rxd < raw.burst) {
    problems.push_back(
        fmt::format("--rxd {} is smaller than --burst {}: raise --rxd to at least {}", raw.rxd, raw.burst, raw.burst));
  }
  if (checkRange(problems, "--txd", raw.txd, kMinDescriptors, kMaxDescriptors, "1024 or 2048 are usual", config.txd) &&
      raw.txd < raw.burst) {
    problems.push_back(
        fmt::format("--txd {} is smaller than --burst {}: raise --txd to at least {}", raw.txd, raw.burst, raw.burst));
  }
  if (raw.mbufs != 0) {
    checkRange(problems, "--mbufs", raw.mbufs, 1024, 16L * 1024 * 1024, "or 0 to size the pool from the rings",
               config.mbufs);
  }
  checkRange(problems, "--mtu", raw.mtu, kMinMtu, kMaxMtu, "1500 for standard frames, 9000 for jumbo frames",
             config.mtu);
  checkRange(problems, "--drain-us", raw.drain_us, 1, 100000, "100 is the usual TX drain period", config.drain_us);
  checkRange(problems, "--stats-interval-ms", raw.stats_interval_ms, 10, 3600000, "1000 is the default",
             config.stats_interval_ms);
  if (raw.stats_line_ms != 0) {
    checkRange(problems, "--stats-line-ms", raw.stats_line_ms, 10, 3600000, "or 0 to print no stats lines",
               config.stats_line_ms);
  }
  checkRange(problems, "--link-wait-ms", raw.link_wait_ms, 0, 600000, "0 does not wait for links", config.link_wait_ms);
  checkRange(problems, "--log-max-kib", raw.log_max_kib, 64, 1024 * 1024, "10240 (10 MiB) is the default",
             config.log_max_kib);
  checkRange(problems, "--log-files", raw.log_files, 1, 100, "3 is the default", config.log_files);
  if (raw.log_file.empty()) {
    problems.push_back("--log-file is empty: give a path, e.g. --log-file /var/log/vnf-app.log");
  } else {
    // The log file is created, its folder is not: a typo in the folder must not go unnoticed.
    const std::filesystem::path folder = std::filesystem::path(raw.log_file).parent_path();
    std::error_code ec;
    const auto status = std::filesystem::status(folder.empty() ? "." : folder, ec);
    if (!std::filesystem::exists(status)) {
      problems.push_back(
          fmt::format("--log-file '{}': folder {} does not exist: create it (mkdir -p {}) or "
                      "give a log file in an existing folder",
                      raw.log_file, folder.string(), folder.string()));
    } else if (!std::filesystem::is_directory(status)) {
      problems.push_back(
          fmt::format("--log-file '{}': {} is not a folder: give a log file in an existing "
                      "folder",
                      raw.log_file, folder.string()));
    }
  }
  config.log_file = raw.log_file;
  config.stats_socket = raw.stats_socket == "none" ? "" : raw.stats_socket;
  if (config.stats_socket.size() >= 108) {
    problems.push_back(
        fmt::format("--stats-socket '{}' is {} bytes long, unix socket paths are limited to 107: "
                    "use a shorter path such as /run/vnf-fwd.sock",
                    config.stats_socket, config.stats_socket.size()));
  }
  config.quiet_rate = raw.quiet_rate;
  checkRange(problems, "--tx-first", raw.tx_first, 0, 64, "0 sends nothing at start", config.tx_first);
  if (checkRange(problems, "--tx-first-size", raw.tx_first_size, 60, static_cast<long>(kMaxMtu) + 14,
                 "60 to MTU + 14 bytes (without FCS)", config.tx_first_size) &&
      raw.tx_first_size > raw.mtu + 14) {
    problems.push_back(fmt::format("--tx-first-size {} exceeds --mtu {} + 14: raise --mtu or send smaller frames",
                                   raw.tx_first_size, raw.mtu));
  }

  if (!problems.empty()) return std::unexpected(Error(problemList(problems)));
  return config;
}

CliOutcome parseCommandLine(int argc, const char* const* argv) {
  std::vector<std::string> own_args;
  std::vector<std::string> eal_args;
  bool in_eal = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!in_eal && arg == "--eal") {
      in_eal = true;
      continue;
    }
    (in_eal ? eal_args : own_args).push_back(arg);
  }

  RawOptions raw;
  CLI::App app{
      "vnf-fwd: DPDK packet forwarder of the VNF guest. EAL arguments go after --eal, e.g.\n"
      "  vnf-fwd --mode mac --port 0000:00:04.0 --port 0000:00:05.0 --peer-mac 0=... --peer-mac 1=... "
      "--eal -l 0-1 -a 0000:00:04.0 -a 0000:00:05.0",
      "vnf-fwd"};
  app.set_config("--config", "", "Read options from a TOML/INI file (keys are the long flag names)");
  app.add_option("--mode", raw.mode, "Forwarding mode: io, mac, macswap, l2fwd")->capture_default_str();
  app.add_option("--port", raw.ports,
                 "Port to use, by PCI address (0000:00:04.0), MAC (52:54:00:12:34:56) or device name "
                 "(net_ring0); repeat; default: every port, in port-id order");
  app.add_option("--pair", raw.pairs, "Cross-connect two --port indexes, A-B; repeat; default 0-1, 2-3, ...");
  app.add_option("--peer-mac", raw.peer_macs, "INDEX=MAC: destination MAC for frames leaving port INDEX (mode mac)");
  app.add_option("--rxq", raw.rxq, "RX (RSS) queues per port")->capture_default_str();
  app.add_option("--rxd", raw.rxd, "RX ring size (descriptors) per queue")->capture_default_str();
  app.add_option("--txd", raw.txd, "TX ring size (descriptors) per queue")->capture_default_str();
  app.add_option("--burst", raw.burst, "Packets per RX/TX burst")->capture_default_str();
  app.add_option("--mbufs", raw.mbufs, "Mbufs per NUMA socket pool; 0 = sized from the rings")->capture_default_str();
  app.add_option("--mtu", raw.mtu,
                 "Port MTU (up to 9216; mbufs are sized to hold a whole frame); frames longer "
                 "than MTU + 14 (+ 4 per VLAN tag) are dropped and counted as mtu_drops")
      ->capture_default_str();
  app.add_option("--port-mtu", raw.port_mtus, "INDEX=MTU: MTU of port INDEX, overriding --mtu for it; repeat");
  app.add_option("--drain-us", raw.drain_us, "TX drain period for partial bursts (microseconds)")
      ->capture_default_str();
  app.add_option("--stats-interval-ms", raw.stats_interval_ms, "Rate line and ring-full check period")
      ->capture_default_str();
  app.add_option("--stats-line-ms", raw.stats_line_ms,
                 "Print 'VNF-FWD STATS <json>' (the stats socket's document on one line) to stdout every N ms; "
                 "0 = off")
      ->capture_default_str();
  app.add_option("--link-wait-ms", raw.link_wait_ms, "Wait this long for links to come up before READY")
      ->capture_default_str();
  app.add_option("--log-file", raw.log_file, "Log file (size-bounded, rotated)")->capture_default_str();
  app.add_option("--log-max-kib", raw.log_max_kib, "Rotate the log file at this size")->capture_default_str();
  app.add_option("--log-files", raw.log_files, "Rotated log files kept")->capture_default_str();
  app.add_option("--stats-socket", raw.stats_socket, "Unix socket serving counters as JSON; 'none' disables")
      ->capture_default_str();
  app.add_flag("--quiet-rate", raw.quiet_rate, "Do not print the periodic rate line to the console");
  app.add_option("--tx-first", raw.tx_first,
                 "Send this many bursts of frames on every port at start, like testpmd --tx-first (for loopback "
                 "devices and benchmarks)")
      ->capture_default_str();
  app.add_option("--tx-first-size", raw.tx_first_size, "Frame size of --tx-first frames (bytes, without FCS)")
      ->capture_default_str();

  std::vector<std::string> file_problems;
  if (const auto path = configPathArgument(own_args)) {
    std::vector<std::string> known;
    for (const CLI::Option* option : app.get_options()) {
      for (const auto& name : option->get_lnames()) {
        if (name != "help" && name != "config") known.push_back(name);
      }
    }
    file_problems = checkConfigFile(*path, known);
  }

  std::vector<std::string> reversed(own_args.rbegin(), own_args.rend());  // CLI11 parses a reversed vector
  std::ostringstream out;
  std::ostringstream err;
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    CliOutcome outcome;
    outcome.exit_code = app.exit(e, out, err);
    outcome.output = out.str() + err.str();
    if (outcome.exit_code != 0) outcome.exit_code = 2;
    if (outcome.exit_code != 0 && !file_problems.empty()) {  // the file's lines first: they may be the cause
      file_problems.push_back(trim(err.str()));
      outcome.output = problemList(file_problems) + "\n";
    }
    return outcome;
  }
  auto config = validateOptions(raw, std::move(eal_args), std::move(file_problems));
  if (!config) return CliOutcome{std::nullopt, 2, config.error().message + "\n"};
  return CliOutcome{std::move(*config), 0, ""};
}

}  // namespace vnf::fwd
