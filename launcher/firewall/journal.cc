#include "firewall/journal.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"

namespace vnf::fw {
namespace {

using nlohmann::json;

json tableJson(const TableState& t) { return json{{"exists", t.exists}, {"text", t.text}}; }

TableState tableFrom(const json& j) {
  TableState t;
  t.exists = j.at("exists").get<bool>();
  t.text = j.at("text").get<std::string>();
  return t;
}

json snapshotJson(const Snapshot& s) { return json{{"inet", tableJson(s.inet)}, {"bridge", tableJson(s.bridge)}}; }
Snapshot snapshotFrom(const json& j) { return Snapshot{tableFrom(j.at("inet")), tableFrom(j.at("bridge"))}; }

}  // namespace

std::string Journal::toJson() const {
  json j{{"version", 1},
         {"netns", netns},
         {"original", snapshotJson(original)},
         {"applied", snapshotJson(applied)},
         {"generated", generated}};
  if (isolated_ports) j["isolated_ports"] = *isolated_ports;
  if (pending) {
    json p{{"token", pending->token}, {"deadline_ms", pending->deadline_ms}, {"before", snapshotJson(pending->before)}};
    p["previous_journal"] = pending->previous_journal ? json(*pending->previous_journal) : json(nullptr);
    j["pending"] = p;
  }
  return j.dump(2) + "\n";
}

Result<Journal> Journal::fromJson(const std::string& text, const std::string& path) {
  try {
    auto j = json::parse(text);
    if (j.at("version").get<int>() != 1) throw std::runtime_error("unknown version");
    Journal out;
    out.netns = j.at("netns").get<std::uint64_t>();
    out.original = snapshotFrom(j.at("original"));
    out.applied = snapshotFrom(j.at("applied"));
    out.generated = j.at("generated").get<std::string>();
    if (j.contains("isolated_ports")) out.isolated_ports = j.at("isolated_ports").get<std::vector<std::string>>();
    if (j.contains("pending")) {
      const auto& p = j.at("pending");
      PendingConfirm pc;
      pc.token = p.at("token").get<std::string>();
      pc.deadline_ms = p.at("deadline_ms").get<std::int64_t>();
      pc.before = snapshotFrom(p.at("before"));
      if (!p.at("previous_journal").is_null()) pc.previous_journal = p.at("previous_journal").get<std::string>();
      out.pending = std::move(pc);
    }
    return out;
  } catch (const std::exception& e) {
    return fail(Errc::kBadContent, fmt::format("the firewall journal {} is damaged: {}", path, e.what()),
                fmt::format("vnfctl cannot know what to restore; see docs/firewall.md \"Recovery\": check "
                            "`nft list ruleset`, then move {} away",
                            path));
  }
}

Result<std::optional<std::string>> readJournalText(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return fail(Errc::kUnreadable, fmt::format("cannot read the firewall journal {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::kBadContent,
                fmt::format("the firewall journal {} is {}, not a regular file", path, fileKindName(st.st_mode)),
                fmt::format("move {} away; vnfctl only reads a journal it wrote", path));
  }
  auto text = readUserFile(path, kMaxJournalBytes, "firewall journal");
  if (!text) return std::unexpected(text.error());
  return std::optional<std::string>(std::move(*text));
}

Result<std::optional<Journal>> loadJournal(const std::string& path) {
  auto text = readJournalText(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<Journal>{};
  auto j = Journal::fromJson(**text, path);
  if (!j) return std::unexpected(j.error());
  return std::optional<Journal>(std::move(*j));
}

Result<void> saveJournalText(const std::string& path, const std::string& text) {
  return writeFileSafely(path, text, 0600);
}

Result<void> removeJournal(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} is {}, not the firewall journal vnfctl wrote", path, fileKindName(st.st_mode)),
                fmt::format("move {} away", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail(Errc::kIo, fmt::format("cannot remove the firewall journal {}: {}", path, std::strerror(errno)));
  return {};
}

std::uint64_t currentNetns() {
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) != 0) return 0;
  return st.st_ino;
}

}  // namespace vnf::fw
