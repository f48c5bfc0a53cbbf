// Why a write failed, from libpqxx's exceptions: content (the rows: bisect and dead-letter), connection (retry,
// spool), configuration (one message naming what to run or fix), transient (a deadlock or serialization
// failure: redo the transaction), other. Messages name the schema and the command that fixes it.
#pragma once

#include <exception>
#include <string>

#include <pqxx/pqxx>

namespace eventscope::pg {

enum class failure_kind { none, content, connection, configuration, transient, other };

struct attempt {
    failure_kind kind = failure_kind::none;
    std::string sqlstate;
    std::string message;
    bool ok() const { return kind == failure_kind::none; }
};

inline std::string trim_right(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// A failed connection attempt: refused logins and missing databases are configuration errors, the rest is an
// unreachable server (retried).
inline attempt connect_failure(std::string message, const std::string& schema) {
    message = trim_right(std::move(message));
    auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
    if (has("password authentication failed") || has("no pg_hba.conf entry") || has("role \"") ||
        has("authentication failed") || has("password is required"))
        return {failure_kind::configuration, "28000",
                "postgres_sink: the database refused the login (" + message +
                    "); fix user/password in config.database / OBSERVABILITY_DB_URL, or pg_hba.conf"};
    // libpq could not read the connection string itself: retrying cannot help.
    if (has("missing \"=\" after") || has("invalid connection option") || has("invalid URI") || has("invalid integer value") ||
        has("invalid percent-encoded token") || has("unterminated quoted string") || has("invalid value for parameter") ||
        has("invalid sslmode value") || has("could not translate host name") || has("invalid port number"))
        return {failure_kind::configuration, "08P01",
                "postgres_sink: the connection string cannot be used (" + message +
                    "); fix config.database / OBSERVABILITY_DB_URL / --db-url, e.g. postgresql://USER:PASSWORD@HOST:PORT/DBNAME"};
    if (has("database \"") && has("does not exist"))
        return {failure_kind::configuration, "3D000",
                "postgres_sink: " + message + "; create it: psql -d postgres -v dbname=NAME -f sql/create-database.sql, "
                                              "then psql -d NAME -v schema=" + schema + " -f sql/schema.sql"};
    return {failure_kind::connection, "08001", "postgres_sink: database unreachable: " + message};
}

// `connection_open`: whether the connection still looks usable (an exception without SQLSTATE on a closed
// connection is a lost connection).
inline attempt classify(std::exception_ptr ep, bool connection_open, const std::string& schema) {
    attempt a;
    try {
        std::rethrow_exception(ep);
    } catch (const pqxx::broken_connection& e) {
        a = {failure_kind::connection, "08006", std::string("postgres_sink: connection lost: ") + e.what()};
    } catch (const pqxx::in_doubt_error& e) {
        a = {failure_kind::connection, "08007",
             std::string("postgres_sink: commit outcome unknown (retried; the writes are idempotent): ") + e.what()};
    } catch (const pqxx::sql_error& e) {
        a.sqlstate = e.sqlstate();
        a.message = trim_right(e.what());
        const std::string& s = a.sqlstate;
        auto cls = s.substr(0, 2);
        if (cls == "22" || cls == "23" || cls == "54") {  // 54: e.g. a value too large for an index row
            a.kind = failure_kind::content;
        } else if (s == "40P01" || s == "40001") {  // deadlock / serialization failure: nothing was written
            a.kind = failure_kind::transient;
        } else if (cls == "08" || s.rfind("57P", 0) == 0 || (s.empty() && !connection_open)) {
            a.kind = failure_kind::connection;
            a.message = "postgres_sink: connection lost: " + a.message;
        } else if (s == "42P01" && a.message.find("eventscope_stage_") != std::string::npos) {
            a.kind = failure_kind::connection;  // a new session without our staging tables
        } else if (s == "42P01" || s == "3F000" || s == "42703") {
            a.kind = failure_kind::configuration;
            a.message = "postgres_sink: schema \"" + schema + "\" is missing or outdated in the database (" + s + ": " +
                        a.message + "); create it with: psql -d DBNAME -v schema=" + schema +
                        " -f sql/schema.sql   or upgrade it with: sql/migrate.sh --db-url URL --schema " + schema + " up";
        } else if (cls == "28" || s == "3D000" || s == "42501") {
            a.kind = failure_kind::configuration;
            a.message = "postgres_sink: the database refused access (" + s + ": " + a.message +
                        "); fix the credentials/grants in config.database / OBSERVABILITY_DB_URL";
        } else {
            a.kind = failure_kind::other;
            a.message = "postgres_sink: " + (s.empty() ? std::string() : s + ": ") + a.message;
        }
    } catch (const std::exception& e) {
        a = {connection_open ? failure_kind::other : failure_kind::connection, "", std::string("postgres_sink: ") + e.what()};
    } catch (...) {
        a = {failure_kind::other, "", "postgres_sink: unknown exception"};
    }
    return a;
}

}  // namespace eventscope::pg
