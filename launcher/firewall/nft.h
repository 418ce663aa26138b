// nftables through libnftables (never the nft binary): one context per object, output and errors
// captured, every change one transaction (nft_run_cmd_from_buffer runs a buffer as one batch, so the
// kernel applies all of it or none). Acts on the caller's network namespace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

struct nft_ctx;

namespace vnf::fw {

// One of vnfctl's tables as the kernel has it now.
struct TableState {
  bool exists = false;
  std::string text;  // `list table FAMILY NAME` output, stateful (counters kept), no handles
  // Commands that empty the table while keeping the table object, so it keeps its place in
  // `nft list ruleset`: flush (rules), then delete every chain, set, map, flowtable and object.
  // Not journaled (handles are only good until the table changes).
  std::vector<std::string> empty_commands;
  bool operator==(const TableState& o) const { return exists == o.exists && text == o.text; }
};

class Nft {
 public:
  static Result<Nft> open();
  Nft(Nft&&) noexcept = default;
  Nft& operator=(Nft&&) noexcept = default;
  ~Nft();

  // Runs `commands` (nft text) as one transaction; with `dry_run` the kernel checks and aborts it
  // (NFT_CTX_DRY_RUN). Returns what nft printed. Errors (kConflict) carry nft's message; `what`
  // says what the commands were for ("apply the firewall").
  Result<std::string> run(const std::string& commands, const std::string& what, bool dry_run = false);

  Result<TableState> readTable(const std::string& family, const std::string& name);

 private:
  struct Free {
    void operator()(nft_ctx* c) const;
  };
  Nft(std::unique_ptr<nft_ctx, Free> text, std::unique_ptr<nft_ctx, Free> json)
      : text_(std::move(text)), json_(std::move(json)) {}
  Result<std::string> runOn(nft_ctx* ctx, const std::string& commands, const std::string& what, bool dry_run);
  std::unique_ptr<nft_ctx, Free> text_;
  std::unique_ptr<nft_ctx, Free> json_;
};

// The commands that turn table FAMILY NAME from `current` into `wanted_text` ("" = no table):
// deletes it, empties and refills it in place, or creates it. Part of one transaction.
std::string replaceTableCommands(const std::string& family, const std::string& name, const TableState& current,
                                 const std::string& wanted_text);

// Builds empty_commands from a JSON listing (`nft -j list table`), objects named by handle (valid
// until the table changes: read under the lock, used at once). Exposed for the unit tests.
Result<std::vector<std::string>> emptyCommandsFromJson(const std::string& json, const std::string& family,
                                                       const std::string& name);

}  // namespace vnf::fw
