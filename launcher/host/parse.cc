#include "host/parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace vnf {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Splits on a separator; empty pieces are kept.
std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::optional<int> parseCpuId(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0 || value > kMaxCpuId) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<std::vector<int>> parseCpuList(std::string_view text) {
  text = trim(text);
  std::vector<int> cpus;
  if (text.empty()) return cpus;
  for (auto piece : split(text, ',')) {
    // Optional group syntax "a-b:used/group": take `used` CPUs out of each `group`.
    int used = 1, group = 1;
    bool grouped = false;
    if (auto colon = piece.find(':'); colon != std::string_view::npos) {
      auto spec = piece.substr(colon + 1);
      piece = piece.substr(0, colon);
      auto slash = spec.find('/');
      if (slash == std::string_view::npos) return std::nullopt;
      auto u = parseCpuId(spec.substr(0, slash));
      auto g = parseCpuId(spec.substr(slash + 1));
      if (!u || !g || *u == 0 || *g == 0 || *u > *g) return std::nullopt;
      used = *u;
      group = *g;
      grouped = true;
    }
    int first, last;
    if (auto dash = piece.find('-'); dash != std::string_view::npos) {
      auto a = parseCpuId(piece.substr(0, dash));
      auto b = parseCpuId(piece.substr(dash + 1));
      if (!a || !b || *a > *b) return std::nullopt;
      first = *a;
      last = *b;
    } else {
      if (grouped) return std::nullopt;
      auto a = parseCpuId(piece);
      if (!a) return std::nullopt;
      first = last = *a;
    }
    for (int cpu = first; cpu <= last; ++cpu) {
      if ((cpu - first) % group < used) cpus.push_back(cpu);
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string formatCpuList(const std::vector<int>& cpus) {
  std::string out;
  std::size_t i = 0;
  while (i < cpus.size()) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::optional<std::int64_t> parseInt(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parseUnsigned(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parseHex(std::string_view text) {
  text = trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string PciAddress::str() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", domain, bus, device, function);
  return buf;
}

std::optional<PciAddress> parsePciAddress(std::string_view text) {
  text = trim(text);
  auto parts = split(text, ':');
  if (parts.size() == 2) parts.insert(parts.begin(), std::string_view("0000"));
  if (parts.size() != 3) return std::nullopt;
  auto dot = parts[2].find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto hexField = [](std::string_view s, std::size_t max_len, std::uint64_t limit) -> std::optional<std::uint64_t> {
    if (s.empty() || s.size() > max_len) return std::nullopt;
    for (char c : s) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    auto v = parseHex(s);
    if (!v || *v > limit) return std::nullopt;
    return v;
  };
  auto domain = hexField(parts[0], 4, 0xffff);
  auto bus = hexField(parts[1], 2, 0xff);
  auto dev = hexField(parts[2].substr(0, dot), 2, 0x1f);
  auto fn = hexField(parts[2].substr(dot + 1), 1, 0x7);
  if (!domain || !bus || !dev || !fn) return std::nullopt;
  return PciAddress{static_cast<std::uint32_t>(*domain), static_cast<std::uint8_t>(*bus),
                    static_cast<std::uint8_t>(*dev), static_cast<std::uint8_t>(*fn)};
}

std::optional<MacAddress> parseMac(std::string_view text) { return parseMacText(trim(text)); }

std::string formatMac(const MacAddress& mac) { return formatMacText(mac); }

std::optional<std::map<std::string, std::uint64_t>> parseMeminfo(std::string_view text) {
  std::map<std::string, std::uint64_t> out;
  for (auto line : split(text, '\n')) {
    line = trim(line);
    if (line.empty()) continue;
    // Per-node files prefix every line with "Node N ".
    if (line.starts_with("Node ")) {
      auto rest = trim(line.substr(5));
      auto space = rest.find(' ');
      if (space == std::string_view::npos || !parseUnsigned(rest.substr(0, space))) return std::nullopt;
      line = trim(rest.substr(space));
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    auto key = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (key.empty() || key.find(' ') != std::string_view::npos) return std::nullopt;
    // Units stay as the kernel wrote them: "kB" values are KiB, the others are counts.
    if (value.ends_with("kB")) value = trim(value.substr(0, value.size() - 2));
    auto number = parseUnsigned(value);
    if (!number) return std::nullopt;
    out[std::string(key)] = *number;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parseCmdline(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isSpace(text[i])) ++i;
    if (i >= text.size()) break;
    std::string word;
    bool quoted = false;
    while (i < text.size() && (quoted || !isSpace(text[i]))) {
      if (text[i] == '"') {
        quoted = !quoted;
      } else {
        word += text[i];
      }
      ++i;
    }
    if (word == "--") break;
    auto eq = word.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(word, "");
    } else {
      out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
  }
  return out;
}

std::optional<std::uint64_t> parseSizeKib(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t mult_bytes = 1;
  switch (text.back()) {
    case 'k':
    case 'K': mult_bytes = 1ull << 10; break;
    case 'm':
    case 'M': mult_bytes = 1ull << 20; break;
    case 'g':
    case 'G': mult_bytes = 1ull << 30; break;
    default: break;
  }
  if (mult_bytes != 1) text.remove_suffix(1);
  auto number = parseUnsigned(text);
  if (!number || *number > (1ull << 40)) return std::nullopt;
  std::uint64_t bytes = *number * mult_bytes;
  if (bytes < 1024 || bytes % 1024 != 0) return std::nullopt;
  return bytes / 1024;
}

}  // namespace vnf
