#include "api/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_io.h"

namespace vnf::api {

const char* tableName(Table t) {
  switch (t) {
    case Table::kInstances: return "instances";
    case Table::kOpOccs: return "op_occs";
    case Table::kSubscriptions: return "subscriptions";
  }
  return "?";
}

namespace {

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

Error Store::dbError(const std::string& action) const {
  return Error{Errc::kIo, fmt::format("state database {}: {}: {}", path_, action, sqlite3_errmsg(db_)),
               "check the disk holding it (space, permissions); the server keeps its last committed state"};
}

Result<Store> Store::open(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("state database {} is {}, not a regular file", path, fileKindName(st.st_mode)),
                "remove it or give another --state-dir");
  }
  const std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(Errc::kIo, fmt::format("cannot open the lock file {}: {}", lock_path, std::strerror(errno)),
                "check that the state folder exists and is writable, or give another --state-dir");
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(Errc::kBusy, fmt::format("another vnfctl serve uses the state database {} (lock {})", path, lock_path),
                "stop the other server, or give this one another --state-dir");
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  Store store(db, fd, path);
  if (rc != SQLITE_OK) return std::unexpected(store.dbError("open"));
  ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=FULL",
           "CREATE TABLE IF NOT EXISTS instances (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
           " instance TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '', body TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS op_occs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
           " instance TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '', body TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS subscriptions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
           " instance TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '', body TEXT NOT NULL)",
           "CREATE INDEX IF NOT EXISTS op_occs_instance ON op_occs(instance)",
       }) {
    if (auto ok = store.exec(sql); !ok) return std::unexpected(ok.error());
  }
  return store;
}

Store::Store(Store&& o) noexcept
    : db_(o.db_), lock_fd_(o.lock_fd_), path_(std::move(o.path_)), depth_(o.depth_), generation_(o.generation_.load()) {
  o.db_ = nullptr;
  o.lock_fd_ = -1;
}

Store::~Store() {
  if (db_) sqlite3_close_v2(db_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<void> Store::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    Error e = dbError(fmt::format("'{}'", sql));
    sqlite3_free(msg);
    return std::unexpected(std::move(e));
  }
  return {};
}

Result<std::optional<nlohmann::json>> Store::get(Table t, const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt st;
  auto sql = fmt::format("SELECT body FROM {} WHERE id = ?1", tableName(t));
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) return std::unexpected(dbError("read"));
  sqlite3_bind_text(st.s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_DONE) return std::optional<nlohmann::json>();
  if (rc != SQLITE_ROW) return std::unexpected(dbError("read"));
  const char* body = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
  auto doc = nlohmann::json::parse(body ? body : "", nullptr, false);
  if (doc.is_discarded()) {
    return fail(Errc::kBadContent, fmt::format("state database {}: row {} of {} is not JSON", path_, id, tableName(t)));
  }
  return std::optional<nlohmann::json>(std::move(doc));
}

Result<std::vector<nlohmann::json>> Store::list(Table t, const std::string& instance) {
  std::lock_guard lock(mu_);
  Stmt st;
  auto sql =
      fmt::format("SELECT body FROM {}{} ORDER BY seq", tableName(t), instance.empty() ? "" : " WHERE instance = ?1");
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) return std::unexpected(dbError("read"));
  if (!instance.empty())
    sqlite3_bind_text(st.s, 1, instance.data(), static_cast<int>(instance.size()), SQLITE_TRANSIENT);
  std::vector<nlohmann::json> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    const char* body = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    auto doc = nlohmann::json::parse(body ? body : "", nullptr, false);
    if (!doc.is_discarded()) out.push_back(std::move(doc));
  }
  if (rc != SQLITE_DONE) return std::unexpected(dbError("read"));
  return out;
}

Result<void> Store::put(Table t, const nlohmann::json& doc, const std::string& instance, const std::string& state) {
  std::lock_guard lock(mu_);
  Stmt st;
  auto sql = fmt::format(
      "INSERT INTO {} (id, instance, state, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
      "instance = excluded.instance, state = excluded.state, body = excluded.body",
      tableName(t));
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) return std::unexpected(dbError("write"));
  const std::string id = doc.value("id", "");
  const std::string body = doc.dump();
  sqlite3_bind_text(st.s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, instance.data(), static_cast<int>(instance.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, state.data(), static_cast<int>(state.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 4, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.s);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (rc != SQLITE_DONE) return std::unexpected(dbError("write"));
  return {};
}

Result<void> Store::remove(Table t, const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt st;
  auto sql = fmt::format("DELETE FROM {} WHERE id = ?1", tableName(t));
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) return std::unexpected(dbError("write"));
  sqlite3_bind_text(st.s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.s);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (rc != SQLITE_DONE) return std::unexpected(dbError("write"));
  return {};
}

Result<void> Store::transaction(const std::function<Result<void>()>& body) {
  std::lock_guard lock(mu_);
  if (depth_ > 0) return body();
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  ++depth_;
  auto r = body();
  --depth_;
  if (!r) {
    (void)exec("ROLLBACK");
    generation_.fetch_add(1, std::memory_order_acq_rel);
    return r;
  }
  if (auto ok = exec("COMMIT"); !ok) {
    (void)exec("ROLLBACK");
    generation_.fetch_add(1, std::memory_order_acq_rel);
    return ok;
  }
  return {};
}

}  // namespace vnf::api
