// Rows for the PostgreSQL sink: the column map of each table (the keys of row_json.hpp), sanitizing for
// Postgres text/jsonb, COPY text-format encoding, and coalescing of the rows of one id within a write.
// No libpqxx here: everything in this file is plain data handling.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include <eventscope/detail/utf8.hpp>

namespace eventscope::detail::pg {

enum class column_kind { text, json, scalar };  // scalar: uuid, timestamptz, integer, boolean

struct column {
    std::string_view name;
    column_kind kind;
};

enum class table_id : std::size_t { invocations = 0, event_executions = 1, job_executions = 2, job_logs = 3 };
inline constexpr std::size_t table_count = 4;

struct table_def {
    std::string_view name;
    std::vector<column> columns;  // exactly the keys of row_json.hpp (minus "table"), in COPY order
};

inline const std::array<table_def, table_count>& tables() {
    using k = column_kind;
    static const std::array<table_def, table_count> defs{{
        {"invocations",
         {{"id", k::scalar}, {"created_at", k::scalar}, {"updated_at", k::scalar}, {"correlation_id", k::text},
          {"correlation_source", k::text}, {"source_function", k::text}, {"source_table", k::text},
          {"source_operation", k::text}, {"source_system", k::text}, {"source_job_id", k::scalar},
          {"source_event_id", k::scalar}, {"source_event_payload", k::json}, {"source_event_time", k::scalar},
          {"source_user_email", k::text}, {"source_user_role", k::text}, {"total_duration_ms", k::scalar},
          {"events_detected_count", k::scalar}, {"total_jobs_run", k::scalar}, {"total_jobs_succeeded", k::scalar},
          {"total_jobs_failed", k::scalar}, {"auto_load_modules", k::scalar}, {"event_modules_directory", k::text},
          {"status", k::text}, {"error_message", k::text}, {"error_stack", k::text}, {"error_type", k::text},
          {"context_data", k::json}}},
        {"event_executions",
         {{"id", k::scalar}, {"created_at", k::scalar}, {"updated_at", k::scalar}, {"invocation_id", k::scalar},
          {"correlation_id", k::text}, {"event_name", k::text}, {"event_module_path", k::text}, {"detected", k::scalar},
          {"detection_duration_ms", k::scalar}, {"handler_duration_ms", k::scalar}, {"detection_error", k::text},
          {"detection_error_stack", k::text}, {"handler_error", k::text}, {"handler_error_stack", k::text},
          {"jobs_count", k::scalar}, {"jobs_succeeded", k::scalar}, {"jobs_failed", k::scalar}, {"status", k::text}}},
        {"job_executions",
         {{"id", k::scalar}, {"created_at", k::scalar}, {"updated_at", k::scalar}, {"invocation_id", k::scalar},
          {"event_execution_id", k::scalar}, {"correlation_id", k::text}, {"job_name", k::text},
          {"job_function_name", k::text}, {"job_options", k::json}, {"duration_ms", k::scalar}, {"status", k::text},
          {"result", k::json}, {"error_message", k::text}, {"error_stack", k::text}, {"error_type", k::text}}},
        {"job_logs",
         {{"id", k::scalar}, {"created_at", k::scalar}, {"job_execution_id", k::scalar}, {"invocation_id", k::scalar},
          {"correlation_id", k::text}, {"level", k::text}, {"message", k::text}, {"data", k::json},
          {"logged_at", k::scalar}}},
    }};
    return defs;
}

inline std::optional<table_id> table_of(const nlohmann::json& row) {
    auto it = row.find("table");
    if (it == row.end() || !it->is_string()) return std::nullopt;
    const auto& name = it->get_ref<const std::string&>();
    for (std::size_t i = 0; i < table_count; ++i)
        if (tables()[i].name == name) return static_cast<table_id>(i);
    return std::nullopt;
}

// Postgres text cannot hold NUL, jsonb rejects \u0000, and both need valid UTF-8: every string (and object
// key) becomes valid UTF-8 without NUL, invalid bytes and NULs turning into U+FFFD.
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

// COPY text format: backslash, tab, newline and carriage return are escaped; everything else is literal.
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

inline void append_copy_field(std::string& out, const nlohmann::json* v, column_kind kind) {
    if (!v || v->is_null()) {
        out += "\\N";
        return;
    }
    if (kind != column_kind::json && v->is_string()) {
        append_copy_escaped(out, v->get_ref<const std::string&>());
        return;
    }
    append_copy_escaped(out, v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// One COPY line (with its newline) of `row` for table `t`.
inline void append_copy_line(std::string& out, const nlohmann::json& row, table_id t) {
    bool first = true;
    for (const auto& c : tables()[static_cast<std::size_t>(t)].columns) {
        if (!first) out += '\t';
        first = false;
        auto it = row.find(c.name);
        append_copy_field(out, it == row.end() ? nullptr : &*it, c.kind);
    }
    out += '\n';
}

// How far a row is in its life: a row may only be replaced by a row at least as far (never completed ->
// running). Mirrors the ON CONFLICT guard of the upserts.
inline int status_rank(const nlohmann::json& row) {
    auto it = row.find("status");
    if (it == row.end() || !it->is_string()) return 2;
    const auto& s = it->get_ref<const std::string&>();
    if (s == "running" || s == "detecting") return 0;
    if (s == "handling") return 1;
    return 2;
}

// A row ready for the database: its table, the row JSON, and how many records of the current batch it stands
// for (coalesced records; 0 for rows replayed from the spool, which the pipeline already counted).
struct staged_row {
    table_id table;
    nlohmann::json row;
    std::size_t records = 0;
};

// Coalesces rows of the same (table, id): the position of the first, the content of the last (unless the
// last would move a row back from a final status to a running one). Rows without a string id are kept as
// they are (the server rejects them and they are dead-lettered individually).
inline std::vector<staged_row> coalesce(std::vector<staged_row> rows) {
    std::vector<staged_row> out;
    out.reserve(rows.size());
    std::array<std::unordered_map<std::string, std::size_t>, table_count> seen;
    for (auto& r : rows) {
        auto it = r.row.find("id");
        if (it == r.row.end() || !it->is_string()) {
            out.push_back(std::move(r));
            continue;
        }
        auto& index = seen[static_cast<std::size_t>(r.table)];
        auto [pos, inserted] = index.try_emplace(it->get<std::string>(), out.size());
        if (inserted) {
            out.push_back(std::move(r));
            continue;
        }
        auto& kept = out[pos->second];
        kept.records += r.records;
        if (status_rank(r.row) >= status_rank(kept.row)) kept.row = std::move(r.row);
    }
    return out;
}

}  // namespace eventscope::detail::pg
