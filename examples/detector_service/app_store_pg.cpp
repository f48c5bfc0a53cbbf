// The app store on PostgreSQL (database `demo_app` next to the observability database in the demo cluster).
// A BEFORE trigger keeps updated_at current; an AFTER trigger on orders, payments and users writes each change
// into `event_log`, the way Hasura's event triggers capture changes into hdb_catalog.event_log.
#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include <pqxx/pqxx>

#include "app_store.hpp"

namespace demo {

namespace {

const char* const ddl = R"sql(
CREATE TABLE IF NOT EXISTS orders (
  id text PRIMARY KEY, user_id text, status text, total numeric(12,2), currency text, carrier text,
  tracking_number text, updated_by text, updated_at timestamptz);
CREATE TABLE IF NOT EXISTS payments (
  id text PRIMARY KEY, order_id text, user_id text, amount numeric(12,2), status text, provider text,
  updated_by text, updated_at timestamptz);
CREATE TABLE IF NOT EXISTS users (
  id text PRIMARY KEY, email text, name text, status text, last_notified_at timestamptz, updated_by text,
  updated_at timestamptz);
CREATE TABLE IF NOT EXISTS notifications (
  id text PRIMARY KEY, user_id text, kind text, ref_id text, channel text, updated_by text, updated_at timestamptz);
CREATE TABLE IF NOT EXISTS event_log (
  seq bigserial PRIMARY KEY, event_id uuid NOT NULL DEFAULT gen_random_uuid(), table_name text NOT NULL,
  op text NOT NULL, old_row jsonb, new_row jsonb, created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered boolean NOT NULL DEFAULT false);
CREATE INDEX IF NOT EXISTS event_log_pending ON event_log (seq) WHERE NOT delivered;
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;
CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_log (table_name, op, old_row, new_row) VALUES (TG_TABLE_NAME, TG_OP,
    CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
    CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END);
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER payments_touch BEFORE INSERT OR UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER users_touch BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER notifications_touch BEFORE INSERT OR UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER orders_capture AFTER INSERT OR UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION capture_change();
CREATE OR REPLACE TRIGGER payments_capture AFTER INSERT OR UPDATE OR DELETE ON payments FOR EACH ROW EXECUTE FUNCTION capture_change();
CREATE OR REPLACE TRIGGER users_capture AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION capture_change();
)sql";

std::string column_type(const std::string& column) {
    if (column == "total" || column == "amount") return "numeric";
    if (column == "updated_at" || column == "last_notified_at") return "timestamptz";
    return "text";
}

class pg_store final : public app_store {
    template <class F>
    auto with_transaction(F&& f) -> decltype(f(std::declval<pqxx::work&>())) {
        auto c = acquire();
        try {
            pqxx::work w(*c);
            auto result = f(w);
            w.commit();
            release(std::move(c));
            return result;
        } catch (const pqxx::broken_connection&) {
            throw;  // the connection is dropped, not returned to the pool
        } catch (...) {
            release(std::move(c));
            throw;
        }
    }

public:
    explicit pg_store(std::string url) : url_(std::move(url)) {
        auto c = acquire();
        pqxx::work w(*c);
        w.exec("SELECT pg_advisory_xact_lock(7314725002)");
        w.exec(ddl);
        w.commit();
        release(std::move(c));
        for (const char* t : {"orders", "payments", "users", "notifications"}) {
            const auto& cols = app_columns(t);
            std::string list, sets;
            for (const auto& col : cols) {
                if (!list.empty()) list += ", ";
                list += col;
                if (col == "id") continue;
                if (!sets.empty()) sets += ", ";
                sets += col + " = CASE WHEN $1::jsonb ? '" + col + "' THEN ($1::jsonb ->> '" + col + "')::" + column_type(col) +
                        " ELSE t." + col + " END";
            }
            insert_sql_[t] = "INSERT INTO " + std::string(t) + " AS t (" + list + ") SELECT " + list +
                             " FROM jsonb_populate_record(NULL::" + t + ", $1::jsonb) ON CONFLICT (id) DO NOTHING RETURNING to_jsonb(t)::text";
            update_sql_[t] = "UPDATE " + std::string(t) + " AS t SET " + sets + " WHERE t.id = $2 RETURNING to_jsonb(t)::text";
        }
    }

    std::string describe() const override { return "PostgreSQL (" + url_ + ")"; }

    nlohmann::json insert(const std::string& table, const nlohmann::json& row) override {
        return with_transaction([&](pqxx::work& w) {
            auto r = w.exec_params(sql(insert_sql_, table), row.dump());
            if (r.empty()) throw std::runtime_error("duplicate key value violates unique constraint \"" + table + "_pkey\"");
            return nlohmann::json::parse(r[0][0].c_str());
        });
    }

    nlohmann::json update(const std::string& table, const std::string& id, const nlohmann::json& changes,
                          const nlohmann::json& base) override {
        return with_transaction([&](pqxx::work& w) {
            auto r = w.exec_params(sql(update_sql_, table), changes.dump(), id);
            if (r.empty()) {
                nlohmann::json seed = base.is_object() ? base : nlohmann::json::object();
                seed["id"] = id;
                if (changes.contains("updated_by")) seed["updated_by"] = changes["updated_by"];  // the writer, from the first row on
                w.exec_params(sql(insert_sql_, table), seed.dump());
                r = w.exec_params(sql(update_sql_, table), changes.dump(), id);
            }
            if (r.empty()) throw std::runtime_error(table + " row " + id + " vanished during the update");
            return nlohmann::json::parse(r[0][0].c_str());
        });
    }

    std::optional<nlohmann::json> find(const std::string& table, const std::string& id) override {
        (void)app_columns(table);  // validates the name
        auto r = with_transaction([&](pqxx::work& w) {
            return w.exec_params("SELECT to_jsonb(t)::text FROM " + table + " t WHERE id = $1", id);
        });
        if (r.empty()) return std::nullopt;
        return nlohmann::json::parse(r[0][0].c_str());
    }

    std::vector<row_change> take_changes() override {
        auto r = with_transaction([&](pqxx::work& w) {
            return w.exec(
                "UPDATE event_log SET delivered = true WHERE seq IN (SELECT seq FROM event_log WHERE NOT delivered "
                "ORDER BY seq LIMIT 10000 FOR UPDATE SKIP LOCKED) RETURNING seq, event_id::text, "
                "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), table_name, op, "
                "coalesce(old_row::text, 'null'), coalesce(new_row::text, 'null')");
        });
        std::vector<row_change> out;
        out.reserve(r.size());
        for (const auto& row : r) {
            row_change c;
            c.seq = row[0].as<std::int64_t>();
            c.event_id = row[1].c_str();
            c.created_at = row[2].c_str();
            c.table = row[3].c_str();
            c.op = row[4].c_str();
            c.old_row = nlohmann::json::parse(row[5].c_str());
            c.new_row = nlohmann::json::parse(row[6].c_str());
            out.push_back(std::move(c));
        }
        std::sort(out.begin(), out.end(), [](const row_change& a, const row_change& b) { return a.seq < b.seq; });
        return out;
    }

private:
    static const std::string& sql(const std::map<std::string, std::string>& m, const std::string& table) {
        auto it = m.find(table);
        if (it == m.end()) throw std::invalid_argument("app store: no table '" + table + "'");
        return it->second;
    }

    // A small pool: jobs run on several threads, a pqxx connection serves one at a time.
    std::unique_ptr<pqxx::connection> acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                return c;
            }
        }
        return std::make_unique<pqxx::connection>(url_);
    }
    void release(std::unique_ptr<pqxx::connection> c) {
        std::lock_guard lock(mutex_);
        if (c && c->is_open() && idle_.size() < 8) idle_.push_back(std::move(c));
    }

    std::string url_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    std::map<std::string, std::string> insert_sql_, update_sql_;
};

}  // namespace

std::unique_ptr<app_store> make_postgres_store(const std::string& url) { return std::make_unique<pg_store>(url); }

}  // namespace demo
