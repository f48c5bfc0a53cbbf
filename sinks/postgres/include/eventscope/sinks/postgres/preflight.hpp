// A start-up check of the sink's database, on a connection of its own: can we log in, is the schema there with
// its three tables and the columns this build writes? The answer is classified like a write failure
// (failures.hpp): `configuration` (fix something: the message names what), `connection` (unreachable now:
// writing may work later, and a spool keeps the rows meanwhile) or ok. A service can refuse to start on the first.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include <eventscope/config.hpp>
#include <eventscope/row_columns.hpp>
#include <eventscope/sinks/postgres/conninfo.hpp>
#include <eventscope/sinks/postgres/copy_text.hpp>
#include <eventscope/sinks/postgres/failures.hpp>

namespace eventscope::pg {

inline attempt check_database(const config& cfg, std::chrono::seconds connect_timeout = std::chrono::seconds(5)) {
    std::unique_ptr<pqxx::connection> conn;
    try {
        conn = std::make_unique<pqxx::connection>(build_conninfo(cfg.database, connect_timeout, "eventscope-preflight"));
    } catch (const pqxx::broken_connection& e) {
        return connect_failure(e.what(), cfg.schema);
    } catch (...) {
        return classify(std::current_exception(), false, cfg.schema);
    }
    try {
        pqxx::read_transaction tx(*conn);
        auto schema = conn->quote_name(cfg.schema);
        // Every column the sink writes, of every table: a missing table is 42P01, an outdated one 42703.
        for (std::size_t t = 0; t < columns::table_count; ++t) {
            std::string cols;
            for (const auto& c : column_names(t)) cols += (cols.empty() ? "" : ", ") + conn->quote_name(c);
            tx.exec("SELECT " + cols + " FROM " + schema + "." + conn->quote_name(std::string(columns::table_names[t])) + " LIMIT 0");
        }
    } catch (...) {
        return classify(std::current_exception(), conn->is_open(), cfg.schema);
    }
    return {};
}

}  // namespace eventscope::pg
