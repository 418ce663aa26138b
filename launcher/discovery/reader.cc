#include "discovery/reader.h"

namespace vnf::detail {
namespace {

// Garbage from a file is shown quoted and cut short, so a binary file cannot flood the terminal.
std::string shown(std::string_view text) {
  text = trim(text);
  std::string out;
  for (char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 40) out += "...";
  return out;
}

}  // namespace

Error badContent(const std::string& path, std::string_view expected, std::string_view found) {
  return Error{Errc::kBadContent, fmt::format("{}: expected {}, found '{}'", path, expected, shown(found)),
               "the file is not what the Linux kernel writes there; capture the host again with "
               "'vnfctl snapshot' or read the live host"};
}

Result<std::vector<int>> Reader::requiredCpuList(const std::string& path) const {
  auto text = fs_.readText(path);
  if (!text) return std::unexpected(text.error());
  auto cpus = parseCpuList(*text);
  if (!cpus) return std::unexpected(badContent(path, "a CPU list such as '0-3,8-11'", *text));
  return *cpus;
}

std::vector<int> Reader::optionalCpuList(const std::string& path) {
  auto text = fs_.readText(path);
  if (!text) return {};
  auto cpus = parseCpuList(*text);
  if (!cpus) {
    note(path, fmt::format("expected a CPU list such as '0-3,8-11', found '{}'; treated as empty", shown(*text)));
    return {};
  }
  return *cpus;
}

Result<std::int64_t> Reader::requiredInt(const std::string& path, std::int64_t min) const {
  auto text = fs_.readText(path);
  if (!text) return std::unexpected(text.error());
  auto value = parseInt(*text);
  if (value && *value > kMaxInt) {
    return std::unexpected(badContent(path, fmt::format("an integer from {} to {}", min, kMaxInt), *text));
  }
  if (!value || *value < min) {
    return std::unexpected(badContent(path, fmt::format("an integer >= {}", min), *text));
  }
  return *value;
}

std::int64_t Reader::optionalInt(const std::string& path, std::int64_t min, std::int64_t fallback, bool note_missing,
                                 std::int64_t max) {
  auto text = fs_.readText(path);
  if (!text) {
    if (note_missing || text.error().code != Errc::kNotFound) {
      note(path, fmt::format("{}; treated as {}", text.error().message, fallback));
    }
    return fallback;
  }
  auto value = parseInt(*text);
  if (!value || *value < min || *value > max) {
    const bool range = value && *value > max;
    note(path, fmt::format("expected an integer {}, found '{}'; treated as {}",
                           range ? fmt::format("from {} to {}", min, max) : fmt::format(">= {}", min), shown(*text),
                           fallback));
    return fallback;
  }
  return *value;
}

Result<std::string> Reader::textOrNote(const std::string& path, std::string_view assumed) {
  auto text = fs_.readText(path);
  if (!text) note(path, fmt::format("{}; {}", text.error().message, assumed));
  return text;
}

std::string Reader::optionalText(const std::string& path) {
  auto text = fs_.readText(path);
  if (!text) return {};
  return std::string(trim(*text));
}

}  // namespace vnf::detail
