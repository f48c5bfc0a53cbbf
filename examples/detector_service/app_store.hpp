// The application's own tables (orders, payments, users, notifications) that the jobs write back to.
// Every write to orders, payments and users is captured in an event log, as Hasura's event triggers do; the
// demo driver plays Hasura's part: it takes the captured changes and delivers them to the service.
// Two implementations: an in-process one (--no-db) and one on PostgreSQL (a `demo_app` database).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace demo {

// One captured change, what Hasura's event log holds for a trigger.
struct row_change {
    std::int64_t seq = 0;
    std::string event_id;    // UUID
    std::string created_at;  // "2026-11-26T09:00:00.123456" (UTC, Hasura's format)
    std::string table;
    std::string op;  // INSERT, UPDATE, DELETE
    nlohmann::json old_row, new_row;
};

class app_store {
public:
    virtual ~app_store() = default;
    virtual std::string describe() const = 0;
    // INSERT; the row must carry an "id". Returns the stored row (all columns).
    virtual nlohmann::json insert(const std::string& table, const nlohmann::json& row) = 0;
    // UPDATE the columns named in `changes` of row `id` and return the new row. A row the store does not hold
    // (e.g. one from a hand-written payload) is first created from `base`, so the write still happens.
    virtual nlohmann::json update(const std::string& table, const std::string& id, const nlohmann::json& changes,
                                  const nlohmann::json& base) = 0;
    virtual std::optional<nlohmann::json> find(const std::string& table, const std::string& id) = 0;
    // The captured changes not taken yet, oldest first; taking them marks them delivered.
    virtual std::vector<row_change> take_changes() = 0;
};

// Column names of the app tables, in order (the same in both stores, so payloads look the same).
const std::vector<std::string>& app_columns(const std::string& table);
bool app_table_triggers(const std::string& table);  // orders, payments, users: yes; notifications: no

// The in-process store stands in for the application's database, so it keeps what a long-running service can
// afford: the newest `max_rows_per_table` rows of each table, and captured changes only when someone takes them
// (the demo driver, playing Hasura). Serving real deliveries, Hasura keeps its own event log.
struct memory_store_options {
    bool capture_changes = true;
    std::size_t max_rows_per_table = 10'000;
};
std::unique_ptr<app_store> make_memory_store(memory_store_options options = {});
// Connects to `url` and creates the tables and capture triggers if missing. Throws on failure.
std::unique_ptr<app_store> make_postgres_store(const std::string& url);

std::string hasura_time_now();  // "2026-11-26T09:00:00.123456"

}  // namespace demo
