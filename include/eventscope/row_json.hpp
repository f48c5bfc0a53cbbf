// A record as a row: a JSON object whose keys are exactly the SQL column names, plus "table", derived from the
// column tables of row_columns.hpp. Used by the JSON-lines and memory sinks, by tests, and by anyone who wants a
// record in a neutral form.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "records.hpp"
#include "row_columns.hpp"

namespace eventscope {

// "2026-11-26T09:00:00.123456Z" (microseconds, UTC) from Unix nanoseconds.
inline std::string format_timestamp(std::int64_t unix_ns) {
    std::int64_t us = columns::unix_micros(unix_ns);
    std::int64_t seconds = us / 1'000'000;
    std::int64_t micros = us % 1'000'000;
    if (micros < 0) {
        micros += 1'000'000;
        --seconds;
    }
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros));
    return buf;
}

namespace detail {

// Writes one column value into a JSON object member (the column table's writer for row JSON).
struct row_json_writer {
    nlohmann::json& slot;
    void null() { slot = nullptr; }
    void text(std::string_view s) { slot = std::string(s); }
    void uuid(const eventscope::uuid& u) { slot = u.to_string(); }
    void timestamp(std::int64_t ns) { slot = format_timestamp(ns); }
    void integer(std::int64_t n) { slot = n; }
    void boolean(bool b) { slot = b; }
    void json(const nlohmann::json& j) { slot = j; }
};
static_assert(columns::column_writer<row_json_writer>);

}  // namespace detail

// The record as a row: {"table": <table>, <column>: <value>, ...} for every column of its table in
// row_columns.hpp except the database-only ones. `with_db_only` adds those too (what the PostgreSQL sink
// spools, so that a replay writes the same row).
template <class Record>
    requires requires { columns::table<Record>::name; }
nlohmann::json to_row(const Record& r, bool with_db_only = false) {
    nlohmann::json row = nlohmann::json::object();
    row["table"] = columns::table<Record>::name;
    columns::for_each_column<Record>([&](const auto& c) {
        if (!c.in_row_json && !with_db_only) return;
        detail::row_json_writer w{row[std::string(c.name)]};
        c.get(r, w);
    });
    return row;
}

inline nlohmann::json to_row(const record& r, bool with_db_only = false) {
    return std::visit([&](const auto& rec) { return to_row(rec, with_db_only); }, r);
}

// One line of JSON, valid whatever bytes the strings hold (invalid UTF-8 becomes U+FFFD).
inline std::string to_json_line(const record& r) {
    return to_row(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace eventscope
