// COPY text format for the PostgreSQL sink, derived from the column tables (eventscope/row_columns.hpp): one line
// per row, straight from a record (no JSON object per row) or from row JSON (spool replays, write_rows). Both
// give the same bytes for the same row. Values are sanitized for Postgres: text cannot hold NUL and jsonb rejects
// \u0000, and both need valid UTF-8, so invalid bytes and NUL become U+FFFD (in jsonb keys too); a string is
// copied only when needs_sanitizing says so. No libpqxx here.
#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <eventscope/detail/utf8.hpp>
#include <eventscope/row_columns.hpp>
#include <eventscope/row_json.hpp>

namespace eventscope::pg {

using eventscope::detail::needs_sanitizing;
using eventscope::detail::sanitize_utf8;

inline void sanitize_json(nlohmann::json& j) {
    if (j.is_string()) {
        auto& s = j.get_ref<std::string&>();
        if (needs_sanitizing(s, true)) s = sanitize_utf8(s, true);
    } else if (j.is_array()) {
        for (auto& e : j) sanitize_json(e);
    } else if (j.is_object()) {
        bool bad_key = false;
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (needs_sanitizing(it.key(), true)) bad_key = true;
            sanitize_json(it.value());
        }
        if (bad_key) {
            nlohmann::json fixed = nlohmann::json::object();
            for (auto it = j.begin(); it != j.end(); ++it) fixed[sanitize_utf8(it.key(), true)] = std::move(it.value());
            j = std::move(fixed);
        }
    }
}

inline bool json_needs_sanitizing(const nlohmann::json& j) {
    if (j.is_string()) return needs_sanitizing(j.get_ref<const std::string&>(), true);
    if (j.is_array()) {
        for (const auto& e : j)
            if (json_needs_sanitizing(e)) return true;
    } else if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            if (needs_sanitizing(it.key(), true) || json_needs_sanitizing(it.value())) return true;
    }
    return false;
}

inline std::string dump_json(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// The text of `s` as Postgres can store it, handed to `f` (copied only when it needs sanitizing): the COPY text
// and COPY binary writers' rule for text.
template <class F>
void with_storable_text(std::string_view s, F&& f) {
    if (needs_sanitizing(s, true)) f(std::string_view(sanitize_utf8(s, true)));
    else f(s);
}

// The JSON text of `j` as jsonb accepts it (sanitized on a copy only when needed): both writers' rule for jsonb.
inline std::string storable_json_text(const nlohmann::json& j) {
    if (!json_needs_sanitizing(j)) return dump_json(j);
    nlohmann::json copy = j;
    sanitize_json(copy);
    return dump_json(copy);
}

// Backslash, tab, newline and carriage return are escaped; everything else is literal.
inline void append_copy_escaped(std::string& out, std::string_view s) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char* rep = nullptr;
        switch (s[i]) {
            case '\\': rep = "\\\\"; break;
            case '\t': rep = "\\t"; break;
            case '\n': rep = "\\n"; break;
            case '\r': rep = "\\r"; break;
            default: continue;
        }
        out.append(s.data() + start, i - start);
        out.append(rep);
        start = i + 1;
    }
    out.append(s.data() + start, s.size() - start);
}

// The column writer for COPY text: appends one field to `out`.
struct copy_text_writer {
    std::string& out;

    void null() { out += "\\N"; }
    void text(std::string_view s) {
        with_storable_text(s, [&](std::string_view v) { append_copy_escaped(out, v); });
    }
    void uuid(const eventscope::uuid& u) {
        char buf[36];
        u.write_to(buf);
        out.append(buf, 36);
    }
    void timestamp(std::int64_t ns) { out += format_timestamp(ns); }
    void integer(std::int64_t n) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, n);
        out.append(buf, r.ptr);
    }
    void boolean(bool b) { out += b ? "true" : "false"; }
    void json(const nlohmann::json& j) {
        if (j.is_null()) return null();
        append_copy_escaped(out, storable_json_text(j));
    }
};
static_assert(columns::column_writer<copy_text_writer>);

// One COPY line (with its newline) of a record: every column of its table, database-only ones included.
template <class Record>
void append_copy_line(std::string& out, const Record& r) {
    copy_text_writer w{out};
    bool first = true;
    columns::for_each_column<Record>([&](const auto& c) {
        if (!first) out += '\t';
        first = false;
        c.get(r, w);
    });
    out += '\n';
}

inline void append_copy_line(std::string& out, const record& r) {
    std::visit([&](const auto& x) { append_copy_line(out, x); }, r);
}

// One COPY line of row JSON (keys = column names) for table index `t`: a missing key is NULL. The row must be
// sanitized already (normalize_row in staged_rows.hpp).
inline void append_copy_line(std::string& out, const nlohmann::json& row, std::size_t t) {
    columns::visit_table(t, [&]<class Record>(std::type_identity<Record>) {
        bool first = true;
        columns::for_each_column<Record>([&](const auto& c) {
            if (!first) out += '\t';
            first = false;
            auto it = row.find(c.name);
            if (it == row.end() || it->is_null()) out += "\\N";
            else if (c.type != columns::sql_type::jsonb && it->is_string()) append_copy_escaped(out, it->template get_ref<const std::string&>());
            else append_copy_escaped(out, dump_json(*it));
        });
    });
    out += '\n';
}

// The column names of table index `t` in COPY order.
inline std::vector<std::string> column_names(std::size_t t) {
    std::vector<std::string> names;
    columns::visit_table(t, [&]<class Record>(std::type_identity<Record>) {
        columns::for_each_column<Record>([&](const auto& c) { names.emplace_back(c.name); });
    });
    return names;
}

}  // namespace eventscope::pg
