// Fixtures of the PostgreSQL sink tests: a real PostgreSQL 15, a database of our own with sql/schema.sql
// applied, helpers to read rows back, and a tee sink that remembers what it handed to the database.
//
// EVENTSCOPE_TEST_DB_URL (a base URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres): a uniquely named
// database is created in it and dropped at the end. Unset: a throwaway cluster is started with
// scripts/pg-cluster.sh and removed at the end. The outage tests always start a cluster of their own (they
// stop and restart the server).
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/postgres_sink.hpp>

#ifndef EVENTSCOPE_SOURCE_DIR
#error "EVENTSCOPE_SOURCE_DIR must name the repository root"
#endif

namespace pg_test {

using namespace std::chrono_literals;
using nlohmann::json;

inline const std::string schema_name = "Event Scope";  // needs quoting: the sink must quote it

inline std::string source_dir() { return EVENTSCOPE_SOURCE_DIR; }

inline std::string run_capture(const std::string& command) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(command.c_str(), "r"), &pclose);
    if (!p) throw std::runtime_error("cannot run: " + command);
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
    int rc = pclose(p.release());
    if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command + "\n" + out);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The same server, another database.
inline std::string with_database(const std::string& url, const std::string& db) {
    auto scheme = url.find("://");
    auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    auto query = url.find('?');
    std::string base = url.substr(0, slash == std::string::npos ? (query == std::string::npos ? url.size() : query) : slash);
    return base + "/" + db + (query == std::string::npos ? "" : url.substr(query));
}

class cluster {
public:
    // crash_safe: commits survive `kill` (an immediate shutdown). pg-cluster.sh's default synchronous_commit=off
    // loses the last commits in a crash, which the outage tests must not mistake for lost records.
    explicit cluster(bool crash_safe = false) {
        char tmpl[] = "/tmp/eventscope-pgtest.XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        opts_ = crash_safe ? "EVENTSCOPE_PG_OPTS='-c fsync=off -c full_page_writes=off -c synchronous_commit=on' " : "";
        url_ = run_capture(opts_ + script() + " start " + shell_quote(dir_ + "/c") + " 2>&1 | tail -n 1");
        if (url_.rfind("postgresql://", 0) != 0) throw std::runtime_error("pg-cluster.sh start: " + url_);
    }
    ~cluster() {
        try {
            run_capture(script() + " remove " + shell_quote(dir_ + "/c") + " 2>&1");
            std::filesystem::remove_all(dir_);
        } catch (...) {
        }
    }
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    const std::string& url() const { return url_; }
    void kill() { run_capture(script() + " kill " + shell_quote(dir_ + "/c") + " 2>&1"); }
    void restart() { run_capture(opts_ + script() + " restart " + shell_quote(dir_ + "/c") + " 2>&1"); }

private:
    static std::string script() { return shell_quote(source_dir() + "/scripts/pg-cluster.sh"); }
    std::string dir_, url_, opts_;
};

// A database with the schema applied, dropped with the object.
class database {
public:
    explicit database(std::string base_url, const std::string& tag) : base_url_(std::move(base_url)) {
        name_ = "eventscope_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
        {
            pqxx::connection c(base_url_);
            pqxx::nontransaction n(c);
            n.exec("CREATE DATABASE " + c.quote_name(name_));
        }
        url_ = with_database(base_url_, name_);
        run_capture("psql -X -q -v ON_ERROR_STOP=1 -v schema=" + shell_quote(schema_name) + " -d " + shell_quote(url_) + " -f " +
                    shell_quote(source_dir() + "/sql/schema.sql") + " 2>&1");
    }
    ~database() {
        try {
            pqxx::connection c(base_url_);
            pqxx::nontransaction n(c);
            n.exec("DROP DATABASE IF EXISTS " + c.quote_name(name_) + " WITH (FORCE)");
        } catch (...) {
        }
    }
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    const std::string& url() const { return url_; }

private:
    std::string base_url_, name_, url_;
};

// The database of the suite (created at first use, dropped at exit by the global fixture).
struct shared_db {
    std::unique_ptr<cluster> own_cluster;
    std::unique_ptr<database> db;

    static shared_db& instance() {
        static shared_db s;
        return s;
    }
    const std::string& url() {
        if (!db) {
            std::string base;
            if (const char* env = std::getenv("EVENTSCOPE_TEST_DB_URL"); env && *env) {
                base = env;
            } else {
                own_cluster = std::make_unique<cluster>();
                base = own_cluster->url();
            }
            db = std::make_unique<database>(base, "main");
        }
        return db->url();
    }
    void reset() {
        db.reset();
        own_cluster.reset();
    }
};

inline std::string qualified(const std::string& table) {
    pqxx::connection c(shared_db::instance().url());
    return c.quote_name(schema_name) + "." + table;
}

// Reads with its own connection (timestamps in UTC).
class reader {
public:
    explicit reader(const std::string& url) : conn_(url) {
        pqxx::nontransaction n(conn_);
        n.exec("SET TIME ZONE 'UTC'");
    }
    std::string table(const std::string& t) { return conn_.quote_name(schema_name) + "." + t; }

    template <class... Args>
    pqxx::result query(const std::string& sql, Args&&... args) {
        pqxx::nontransaction n(conn_);
        return n.exec_params(sql, std::forward<Args>(args)...);
    }
    template <class... Args>
    long long count(const std::string& sql, Args&&... args) {
        return query(sql, std::forward<Args>(args)...)[0][0].template as<long long>();
    }
    // Every row of `t` with the given column = value, as JSON (to_jsonb), keyed by id.
    std::map<std::string, json> rows(const std::string& t, const std::string& column, const std::string& value) {
        std::map<std::string, json> out;
        for (const auto& r : query("SELECT to_jsonb(x)::text FROM " + table(t) + " x WHERE " + column + "::text = $1", value)) {
            auto j = json::parse(r[0].c_str());
            auto id = j["id"].get<std::string>();  // before the move: `a = b` evaluates b first
            out[id] = std::move(j);
        }
        return out;
    }
    pqxx::connection& connection() { return conn_; }

private:
    pqxx::connection conn_;
};

// "2026-11-26T09:00:00.12+00:00" and "2026-11-26T09:00:00.120000Z" -> "2026-11-26T09:00:00.120000".
inline std::string normalize_timestamp(std::string s) {
    if (!s.empty() && s.back() == 'Z') s.pop_back();
    if (s.size() > 6 && (s.compare(s.size() - 6, 6, "+00:00") == 0)) s.resize(s.size() - 6);
    auto dot = s.find('.');
    if (dot == std::string::npos) return s + ".000000";
    while (s.size() - dot - 1 < 6) s += '0';
    return s;
}

// What the database must hold for a row the sink was given: sanitized as the sink does.
inline json expected_row(json row) {
    eventscope::pg::sanitize_json(row);
    if (row["table"] == "invocations" && row["source_event_payload"].is_null()) row["source_event_payload"] = json::object();
    return row;
}

// Compares every column the sink writes (updated_at is the trigger's). Returns the differences.
inline std::vector<std::string> compare_row(const json& expected, const json& actual) {
    std::vector<std::string> diffs;
    auto table = eventscope::pg::table_of(expected);
    if (!table) return {"expected row without table"};
    for (const auto& name : eventscope::pg::column_names(*table)) {
        if (name == "updated_at") continue;
        json e = expected.contains(name) ? expected[name] : json(nullptr);
        json a = actual.contains(name) ? actual[name] : json(nullptr);
        bool timestamp = name == "created_at" || name == "logged_at" || name == "source_event_time";
        if (timestamp && e.is_string() && a.is_string()) {
            e = normalize_timestamp(e.get<std::string>());
            a = normalize_timestamp(a.get<std::string>());
        }
        if (e != a) diffs.push_back(expected["table"].get<std::string>() + "." + name + ": expected " + e.dump().substr(0, 300) +
                                    ", got " + a.dump().substr(0, 300));
    }
    return diffs;
}

// Hands batches to a postgres_sink and remembers the rows of every batch it accepted.
class tee_sink {
public:
    tee_sink(const eventscope::config& cfg, eventscope::postgres_sink_options options = {}) : pg_(cfg, std::move(options)) {}

    eventscope::write_result write(std::span<eventscope::record> batch) {
        std::vector<json> rows;
        rows.reserve(batch.size());
        for (const auto& r : batch) rows.push_back(eventscope::to_row(r, /*with_db_only=*/true));
        auto result = pg_.write(batch);
        if (result.ok) {
            std::lock_guard lock(mutex_);
            for (auto& r : rows) rows_.push_back(std::move(r));
        }
        return result;
    }

    // The last row per (table, id), a running row never replacing a final one, with the first row's
    // created_at: what the database must hold.
    std::map<std::string, json> final_rows(const std::string& table) const {
        std::lock_guard lock(mutex_);
        std::map<std::string, json> out;
        for (const auto& r : rows_) {
            if (r["table"] != table) continue;
            auto id = r["id"].get<std::string>();
            auto it = out.find(id);
            if (it == out.end()) {
                out[id] = r;
            } else if (eventscope::pg::status_rank(r) >= eventscope::pg::status_rank(it->second)) {
                // created_at is never updated: the first row's stays. (The pipeline stamps each record when its
                // batch is taken; a start tick stamped again in a later batch may differ by a microsecond.)
                auto created = it->second["created_at"];
                it->second = r;
                it->second["created_at"] = created;
            }
        }
        return out;
    }
    std::size_t records() const {
        std::lock_guard lock(mutex_);
        return rows_.size();
    }
    eventscope::postgres_sink& pg() { return pg_; }

private:
    eventscope::postgres_sink pg_;
    mutable std::mutex mutex_;
    std::vector<json> rows_;
};

inline eventscope::config pg_config(const std::string& url) {
    eventscope::config c;
    c.schema = schema_name;
    c.database.connection_string = url;
    c.flush_interval = 20ms;
    c.retry_delay = 10ms;
    c.retry_attempts = 2;
    c.batch_size = 200;
    return c;
}

// The rollups against the raw rows (sql: check_rollups()): one line per difference, empty when they agree.
inline std::vector<std::string> rollup_differences(const std::string& url) {
    pqxx::connection c(url);
    pqxx::work tx(c);
    std::vector<std::string> out;
    for (const auto& r : tx.exec("SELECT rollup || ' ' || key || ' ' || column_name || ': stored ' || coalesce(stored, 'NULL') || ', raw ' || "
                                 "coalesce(from_raw, 'NULL') FROM " + c.quote_name(schema_name) + ".check_rollups()"))
        out.emplace_back(r[0].c_str());
    tx.commit();
    return out;
}

inline std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

inline std::string temp_dir(const std::string& tag) {
    std::string tmpl = "/tmp/eventscope-" + tag + ".XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

}  // namespace pg_test
