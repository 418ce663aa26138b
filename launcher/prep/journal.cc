#include "prep/journal.h"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"

namespace vnf::prep {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

inline constexpr const char* kSchema = "vnfctl.prepare-journal/v1";
// A journal holds one entry per change: a few KiB on a large host.
inline constexpr std::uint64_t kMaxJournalBytes = 16 << 20;

Result<Journal> Journal::load(const std::string& path) {
  Journal j;
  j.path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) return j;
  auto text = readUserFile(path, kMaxJournalBytes, "prepare journal");
  if (!text) return std::unexpected(text.error());
  try {
    auto doc = Json::parse(*text);
    if (doc.value("schema", "") != kSchema) {
      return fail(Errc::kBadContent, fmt::format("{} is not a prepare journal (schema '{}', expected '{}')", path,
                                                 doc.value("schema", ""), kSchema));
    }
    for (const auto& e : doc.at("entries")) {
      auto kind = stepKindFromName(e.at("kind").get<std::string>());
      if (!kind) return fail(Errc::kBadContent, fmt::format("{}: unknown entry kind '{}'", path, e.at("kind").dump()));
      JournalEntry entry;
      entry.step =
          Step{*kind, e.at("target"), e.value("vf", -1), e.at("original"), e.at("applied"), e.value("note", "")};
      entry.done = e.value("done", false);
      j.entries.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::kBadContent, fmt::format("the prepare journal {} is corrupt: {}", path, e.what()),
                "restore it from a backup, or inspect the host by hand and remove the file");
  }
  return j;
}

Result<void> Journal::save() const {
  Json doc;
  doc["schema"] = kSchema;
  auto& arr = doc["entries"] = Json::array();
  for (const auto& e : entries) {
    Json item{{"kind", stepKindName(e.step.kind)}, {"target", e.step.target}};
    if (e.step.vf >= 0) item["vf"] = e.step.vf;
    item["original"] = e.step.from;
    item["applied"] = e.step.to;
    if (!e.step.note.empty()) item["note"] = e.step.note;
    item["done"] = e.done;
    arr.push_back(std::move(item));
  }
  const auto text = doc.dump(2) + "\n";
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  return writeFileSafely(path, text, 0600);
}

Result<void> Journal::remove() const {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot remove the prepare journal {}: {}", path, ec.message()));
  return {};
}

JournalEntry* Journal::find(const Step& step) {
  for (auto& e : entries) {
    if (e.step.sameObject(step)) return &e;
  }
  return nullptr;
}

}  // namespace vnf::prep
