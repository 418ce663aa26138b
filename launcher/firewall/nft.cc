#include "firewall/nft.h"

#include <nftables/libnftables.h>

#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vnf::fw {
namespace {

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

void Nft::Free::operator()(nft_ctx* c) const { nft_ctx_free(c); }

Nft::~Nft() = default;

Result<Nft> Nft::open() {
  std::unique_ptr<nft_ctx, Free> text(nft_ctx_new(NFT_CTX_DEFAULT));
  std::unique_ptr<nft_ctx, Free> json(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!text || !json) return fail(Errc::kIo, "libnftables could not make a context (out of memory)");
  for (auto* c : {text.get(), json.get()}) {
    // No include files: every buffer vnfctl runs is complete in itself.
    nft_ctx_clear_include_paths(c);
    if (nft_ctx_buffer_output(c) != 0 || nft_ctx_buffer_error(c) != 0)
      return fail(Errc::kIo, "libnftables could not buffer its output");
  }
  nft_ctx_output_set_flags(json.get(), NFT_CTX_OUTPUT_JSON);
  return Nft(std::move(text), std::move(json));
}

Result<std::string> Nft::runOn(nft_ctx* ctx, const std::string& commands, const std::string& what, bool dry_run) {
  nft_ctx_set_dry_run(ctx, dry_run);
  const int rc = nft_run_cmd_from_buffer(ctx, commands.c_str());
  nft_ctx_set_dry_run(ctx, false);
  // Each get returns what was printed since the last one and rewinds the buffer: call it once.
  const char* printed = nft_ctx_get_output_buffer(ctx);
  std::string out = printed ? printed : "";
  std::string err = trimmed(nft_ctx_get_error_buffer(ctx));
  if (rc != 0) {
    const bool perm = err.find("Operation not permitted") != std::string::npos;
    return fail(perm ? Errc::kUnreachable : Errc::kConflict,
                fmt::format("nftables refused to {}: {}", what, err.empty() ? "no message" : err),
                perm ? "run vnfctl firewall as root (it needs CAP_NET_ADMIN)"
                     : "nothing was changed; report the ruleset above with `vnfctl firewall plan`");
  }
  return out;
}

Result<std::string> Nft::run(const std::string& commands, const std::string& what, bool dry_run) {
  return runOn(text_.get(), commands, what, dry_run);
}

Result<TableState> Nft::readTable(const std::string& family, const std::string& name) {
  auto tables = runOn(json_.get(), "list tables", "list the tables", false);
  if (!tables) return std::unexpected(tables.error());
  TableState st;
  try {
    auto doc = nlohmann::json::parse(*tables);
    for (const auto& item : doc.at("nftables").get<std::vector<nlohmann::json>>()) {
      if (!item.contains("table")) continue;
      const auto& t = item.at("table");
      if (t.at("family").get<std::string>() == family && t.at("name").get<std::string>() == name) st.exists = true;
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::kBadContent,
                fmt::format("libnftables listed the tables in JSON vnfctl cannot read: {}", e.what()));
  }
  if (!st.exists) return st;
  const std::string list = fmt::format("list table {} {}", family, name);
  auto text = runOn(text_.get(), list, "list table " + family + " " + name, false);
  if (!text) return std::unexpected(text.error());
  st.text = *text;
  auto json = runOn(json_.get(), list, "list table " + family + " " + name, false);
  if (!json) return std::unexpected(json.error());
  auto cmds = emptyCommandsFromJson(*json, family, name);
  if (!cmds) return std::unexpected(cmds.error());
  st.empty_commands = std::move(*cmds);
  return st;
}

Result<std::vector<std::string>> emptyCommandsFromJson(const std::string& json, const std::string& family,
                                                       const std::string& name) {
  // JSON key -> the word `delete` takes. Rules go with `flush table`, so they are not listed.
  static const std::pair<const char*, const char*> kKinds[] = {
      {"chain", "chain"},
      {"set", "set"},
      {"map", "map"},
      {"flowtable", "flowtable"},
      {"counter", "counter"},
      {"quota", "quota"},
      {"ct helper", "ct helper"},
      {"ct timeout", "ct timeout"},
      {"ct expectation", "ct expectation"},
      {"limit", "limit"},
      {"secmark", "secmark"},
      {"synproxy", "synproxy"},
  };
  std::vector<std::string> chains, others;
  try {
    auto doc = nlohmann::json::parse(json);
    for (const auto& item : doc.at("nftables").get<std::vector<nlohmann::json>>()) {
      for (const auto& [key, word] : kKinds) {
        if (!item.contains(key)) continue;
        // By handle: object names need no quoting then, whatever characters they hold.
        const auto handle = item.at(key).at("handle").get<std::uint64_t>();
        auto cmd = fmt::format("delete {} {} {} handle {}", word, family, name, handle);
        (std::string(key) == "chain" ? chains : others).push_back(std::move(cmd));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::kBadContent,
                fmt::format("libnftables listed table {} {} in JSON vnfctl cannot read: {}", family, name, e.what()));
  }
  // Rules first (they reference chains and sets), then chains (they may be jump targets of each
  // other only through rules), then sets, maps and objects.
  std::vector<std::string> out{fmt::format("flush table {} {}", family, name)};
  out.insert(out.end(), chains.begin(), chains.end());
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

std::string replaceTableCommands(const std::string& family, const std::string& name, const TableState& current,
                                 const std::string& wanted_text) {
  std::string out;
  if (!current.exists) return wanted_text;
  if (wanted_text.empty()) return fmt::format("delete table {} {}\n", family, name);
  for (const auto& c : current.empty_commands) out += c + "\n";
  return out + wanted_text;
}

}  // namespace vnf::fw
