// The in-process app store used with --no-db: the same tables and capture semantics, in memory.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

#include <eventscope/uuid.hpp>

#include "app_store.hpp"

namespace demo {

namespace {

struct table_spec {
    std::vector<std::string> columns;
    bool triggers;
};

const std::map<std::string, table_spec>& specs() {
    static const std::map<std::string, table_spec> s = {
        {"orders", {{"id", "user_id", "status", "total", "currency", "carrier", "tracking_number", "updated_by", "updated_at"}, true}},
        {"payments", {{"id", "order_id", "user_id", "amount", "status", "provider", "updated_by", "updated_at"}, true}},
        {"users", {{"id", "email", "name", "status", "last_notified_at", "updated_by", "updated_at"}, true}},
        {"notifications", {{"id", "user_id", "kind", "ref_id", "channel", "updated_by", "updated_at"}, false}},
    };
    return s;
}

const table_spec& spec(const std::string& table) {
    auto it = specs().find(table);
    if (it == specs().end()) throw std::invalid_argument("app store: no table '" + table + "'");
    return it->second;
}

class memory_store final : public app_store {
public:
    explicit memory_store(memory_store_options options) : options_(options) {}

    std::string describe() const override {
        return "in-process tables (newest " + std::to_string(options_.max_rows_per_table) + " rows per table" +
               (options_.capture_changes ? ", changes captured" : "") + ")";
    }

    nlohmann::json insert(const std::string& table, const nlohmann::json& row) override {
        const auto& s = spec(table);
        auto normalized = normalize(s, row);
        std::string id = id_of(normalized);
        std::lock_guard lock(mutex_);
        auto& t = tables_[table];
        if (t.rows.count(id)) throw std::runtime_error("duplicate key value violates unique constraint \"" + table + "_pkey\" (id=" + id + ")");
        t.add(id, normalized, options_.max_rows_per_table);
        capture(table, "INSERT", nullptr, normalized);
        return normalized;
    }

    nlohmann::json update(const std::string& table, const std::string& id, const nlohmann::json& changes,
                          const nlohmann::json& base) override {
        const auto& s = spec(table);
        std::lock_guard lock(mutex_);
        auto& t = tables_[table];
        auto it = t.rows.find(id);
        if (it == t.rows.end()) {
            auto seeded = normalize(s, base.is_object() ? base : nlohmann::json::object());
            seeded["id"] = id;
            if (changes.contains("updated_by")) seeded["updated_by"] = changes["updated_by"];  // the writer, from the first row on
            it = t.add(id, seeded, options_.max_rows_per_table);
            capture(table, "INSERT", nullptr, seeded);
        }
        auto old_row = it->second;
        for (auto c = changes.begin(); c != changes.end(); ++c)
            if (c.key() != "id" && it->second.contains(c.key())) it->second[c.key()] = c.value();
        it->second["updated_at"] = hasura_time_now();
        capture(table, "UPDATE", old_row, it->second);
        return it->second;
    }

    std::optional<nlohmann::json> find(const std::string& table, const std::string& id) override {
        std::lock_guard lock(mutex_);
        auto t = tables_.find(table);
        if (t == tables_.end()) return std::nullopt;
        auto it = t->second.rows.find(id);
        if (it == t->second.rows.end()) return std::nullopt;
        return it->second;
    }

    std::vector<row_change> take_changes() override {
        std::lock_guard lock(mutex_);
        std::vector<row_change> out;
        out.swap(log_);
        return out;
    }

private:
    // Rows by id, and their ids oldest first so that the oldest is dropped at the cap.
    struct table_rows {
        std::map<std::string, nlohmann::json> rows;
        std::deque<std::string> insertion_order;

        std::map<std::string, nlohmann::json>::iterator add(const std::string& id, nlohmann::json row, std::size_t cap) {
            while (!insertion_order.empty() && rows.size() >= cap) {
                rows.erase(insertion_order.front());
                insertion_order.pop_front();
            }
            insertion_order.push_back(id);
            return rows.emplace(id, std::move(row)).first;
        }
    };

    static nlohmann::json normalize(const table_spec& s, const nlohmann::json& row) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& c : s.columns) out[c] = row.is_object() && row.contains(c) ? row[c] : nlohmann::json(nullptr);
        out["updated_at"] = hasura_time_now();
        return out;
    }
    static std::string id_of(const nlohmann::json& row) {
        if (!row["id"].is_string() || row["id"].get_ref<const std::string&>().empty())
            throw std::invalid_argument("app store: a row needs a text id");
        return row["id"].get<std::string>();
    }
    void capture(const std::string& table, const char* op, nlohmann::json old_row, nlohmann::json new_row) {
        if (!options_.capture_changes || !spec(table).triggers) return;
        row_change c;
        c.seq = ++seq_;
        c.event_id = eventscope::new_random_uuid().to_string();
        c.created_at = hasura_time_now();
        c.table = table;
        c.op = op;
        c.old_row = std::move(old_row);
        c.new_row = std::move(new_row);
        log_.push_back(std::move(c));
    }

    const memory_store_options options_;
    std::mutex mutex_;
    std::map<std::string, table_rows> tables_;
    std::vector<row_change> log_;
    std::int64_t seq_ = 0;
};

}  // namespace

const std::vector<std::string>& app_columns(const std::string& table) { return spec(table).columns; }
bool app_table_triggers(const std::string& table) { return spec(table).triggers; }

std::string hasura_time_now() {
    auto now = std::chrono::system_clock::now();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<int>(us % 1'000'000));
    return buf;
}

std::unique_ptr<app_store> make_memory_store(memory_store_options options) {
    if (options.max_rows_per_table == 0) throw std::invalid_argument("app store: max_rows_per_table must be at least 1");
    return std::make_unique<memory_store>(options);
}

}  // namespace demo
