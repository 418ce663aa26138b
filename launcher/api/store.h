// The management API's state in SQLite: VNF instances, LCM operation occurrences and subscriptions,
// each a JSON document keyed by its id (plus the columns the API filters on). Every change is one
// statement or one transaction; the database is opened with synchronous=FULL in WAL mode, so a
// server killed with -9 finds every committed change and nothing half-written.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

struct sqlite3;

namespace vnf::api {

enum class Table { kInstances, kOpOccs, kSubscriptions };

class Store {
 public:
  // Opens (creating it and its tables when new) the database at `path`. The file must be a regular
  // file or absent: a link or anything else is refused. Only one server may use a database at a
  // time: a second one gets kBusy naming the lock file.
  static Result<Store> open(const std::string& path);
  Store(Store&& o) noexcept;
  Store& operator=(Store&&) = delete;
  Store(const Store&) = delete;
  ~Store();

  Result<std::optional<nlohmann::json>> get(Table t, const std::string& id);
  // All rows in creation order. `instance` restricts op occurrences to one VNF instance.
  Result<std::vector<nlohmann::json>> list(Table t, const std::string& instance = {});
  // Inserts or replaces the row `doc["id"]`; `instance` and `state` are the indexed columns.
  Result<void> put(Table t, const nlohmann::json& doc, const std::string& instance = {}, const std::string& state = {});
  Result<void> remove(Table t, const std::string& id);
  // Runs `body` in one transaction (BEGIN IMMEDIATE ... COMMIT); an error from body rolls it back.
  // Calls nest: an inner call joins the outer transaction.
  Result<void> transaction(const std::function<Result<void>()>& body);
  // Goes up with every write (and every rolled back transaction). Read it BEFORE reading rows:
  // a cache of what was read, tagged with it, is current while generation() still returns it.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  Store(sqlite3* db, int lock_fd, std::string path) : db_(db), lock_fd_(lock_fd), path_(std::move(path)) {}
  Result<void> exec(const char* sql);
  Error dbError(const std::string& action) const;
  sqlite3* db_ = nullptr;
  int lock_fd_ = -1;
  std::string path_;
  int depth_ = 0;
  std::recursive_mutex mu_;
  std::atomic<std::uint64_t> generation_{0};
};

const char* tableName(Table t);

}  // namespace vnf::api
