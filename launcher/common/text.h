// Small text helpers shared by the launcher, vnf-fwd and the traffic tool: one MAC parser, one
// edit distance, one set of page-size names. Header-only and dependency-free, so the guest side
// uses them without linking the launcher.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vnf {

using MacAddress = std::array<std::uint8_t, 6>;

// "52:54:00:12:34:56" (or with '-' separators), either case; nothing else (no spaces, no short
// bytes, nothing after the sixth byte).
inline std::optional<MacAddress> parseMacText(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  const char sep = text[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  MacAddress mac{};
  for (std::size_t i = 0; i < 6; ++i) {
    const int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != sep) return std::nullopt;
    mac[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return mac;
}

// Lower-case, ':'-separated.
inline std::string formatMacText(const MacAddress& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return buf;
}

// Levenshtein distance (insert, delete, substitute), for "did you mean".
inline std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The first of `known` closest to `word` within `max_distance` edits; "" when none is that close.
inline std::string closestMatch(std::string_view word, const std::vector<std::string>& known,
                                std::size_t max_distance) {
  std::string best;
  std::size_t best_distance = max_distance + 1;
  for (const auto& k : known) {
    const std::size_t d = editDistance(word, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

// The names vnfctl uses for page sizes, as in a spec: "1G", "2M", "16G", "64K"; "none" for 0.
inline std::string pageSizeName(std::uint64_t kib) {
  if (kib == 0) return "none";
  if (kib % (1024 * 1024) == 0) return std::to_string(kib / (1024 * 1024)) + "G";
  if (kib % 1024 == 0) return std::to_string(kib / 1024) + "M";
  return std::to_string(kib) + "K";
}

}  // namespace vnf
