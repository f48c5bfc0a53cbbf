// Rows for the PostgreSQL sink: the column map of each table (the keys of row_json.hpp), sanitizing for
// Postgres text/jsonb, COPY text-format encoding, and coalescing of the rows of one id within a write.
// Two encoders produce the same COPY text: from row JSON (spool replays, write_rows) and straight from the
// records (write(): no nlohmann::json object per row; strings are sanitized only when needs_sanitizing says so).
// No libpqxx here: everything in this file is plain data handling.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <variant>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include <eventscope/detail/utf8.hpp>
#include <eventscope/records.hpp>
#include <eventscope/row_json.hpp>

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

// A row ready for the database: its table, and either the record it comes from (`rec`, the live path of
// write(); `row` stays null until a spool or dead-letter line needs it) or the row JSON; how many records of
// the current batch it stands for (coalesced records; 0 for rows replayed from the spool, which the pipeline
// already counted); its id ("" when the row has no string id), status rank, and whether it names a
// source_job_id (invocations).
struct staged_row {
    table_id table;
    nlohmann::json row;
    std::size_t records = 0;
    const record* rec = nullptr;
    std::string id;
    int rank = 2;
    bool source_job = false;
};

inline int status_rank(const record& r) {
    return std::visit(
        [](const auto& x) -> int {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, job_log_record>) return 2;
            else if constexpr (std::is_same_v<T, event_record>)
                return x.status == event_status::detecting ? 0 : x.status == event_status::handling ? 1 : 2;
            else return x.status == run_status::running ? 0 : 2;
        },
        r);
}

inline table_id table_of(const record& r) { return static_cast<table_id>(r.index()); }

inline staged_row stage_record(const record& r) {
    staged_row s{table_of(r), nlohmann::json(), 1, &r, {}, status_rank(r), false};
    std::visit([&](const auto& x) { s.id = x.id.to_string(); }, r);
    if (const auto* inv = std::get_if<invocation_record>(&r)) s.source_job = inv->info && inv->info->source_job_id.has_value();
    return s;
}

// Fills id/rank/source_job from `row` (the JSON path).
inline void index_row(staged_row& s) {
    auto it = s.row.find("id");
    s.id = it != s.row.end() && it->is_string() ? it->get<std::string>() : std::string();
    s.rank = status_rank(s.row);
    auto j = s.row.find("source_job_id");
    s.source_job = s.table == table_id::invocations && j != s.row.end() && !j->is_null();
}

// Coalesces rows of the same (table, id): the position of the first, the content of the last (unless the
// last would move a row back from a final status to a running one). Rows without a string id are kept as
// they are (the server rejects them and they are dead-lettered individually).
inline std::vector<staged_row> coalesce(std::vector<staged_row> rows) {
    std::vector<staged_row> out;
    out.reserve(rows.size());
    std::array<std::unordered_map<std::string, std::size_t>, table_count> seen;
    for (auto& r : rows) {
        if (r.id.empty()) {
            out.push_back(std::move(r));
            continue;
        }
        auto& index = seen[static_cast<std::size_t>(r.table)];
        auto [pos, inserted] = index.try_emplace(r.id, out.size());
        if (inserted) {
            out.push_back(std::move(r));
            continue;
        }
        auto& kept = out[pos->second];
        kept.records += r.records;
        if (r.rank >= kept.rank) {
            kept.row = std::move(r.row);
            kept.rec = r.rec;
            kept.rank = r.rank;
            kept.source_job = r.source_job;
        }
    }
    return out;
}

// ---- COPY text straight from records (must equal append_copy_line(normalized to_row(record))) -------------

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

namespace enc {

inline void null(std::string& out) { out += "\\N"; }
inline void text(std::string& out, std::string_view s) {
    if (needs_sanitizing(s, true)) append_copy_escaped(out, sanitize_utf8(s, true));
    else append_copy_escaped(out, s);
}
inline void opt_text(std::string& out, std::string_view s) { s.empty() ? null(out) : text(out, s); }
inline void id(std::string& out, const uuid& u) {
    char buf[36];
    u.write_to(buf);
    out.append(buf, 36);
}
inline void opt_id(std::string& out, const std::optional<uuid>& u) { u ? id(out, *u) : null(out); }
inline void ts(std::string& out, std::int64_t ns) { out += format_timestamp(ns); }
inline void integer(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}
inline void duration(std::string& out, std::int64_t from, std::int64_t to) {
    auto d = duration_ms(from, to);
    d ? integer(out, *d) : null(out);
}
inline void boolean(std::string& out, bool b) { out += b ? "true" : "false"; }
inline void json(std::string& out, const nlohmann::json& j) {
    if (j.is_null()) return null(out);
    if (json_needs_sanitizing(j)) {
        nlohmann::json copy = j;
        sanitize_json(copy);
        append_copy_escaped(out, copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        append_copy_escaped(out, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
}
inline void error_text(std::string& out, const error_info* e) {
    if (!e) return null(out);
    if (e->message.empty()) text(out, e->type);
    else text(out, e->type + ": " + e->message);
}
inline void tab(std::string& out) { out += '\t'; }

inline void line(std::string& out, const invocation_record& r) {
    static const invocation_info no_info;
    const invocation_info& info = r.info ? *r.info : no_info;
    const error_info* e = r.error.get();
    id(out, r.id); tab(out);
    ts(out, r.started); tab(out);
    ts(out, r.ended ? r.ended : r.started); tab(out);
    text(out, info.correlation_id); tab(out);
    text(out, to_string(info.correlation_from)); tab(out);
    text(out, info.source_function); tab(out);
    opt_text(out, info.source_table); tab(out);
    opt_text(out, info.source_operation); tab(out);
    opt_text(out, info.source_system); tab(out);
    opt_id(out, info.source_job_id); tab(out);
    opt_id(out, info.source_event_id); tab(out);
    if (info.source_event_payload.is_null()) out += "{}";  // NOT NULL: an empty object when capture is off
    else json(out, info.source_event_payload);
    tab(out);
    info.source_event_time_ns ? ts(out, *info.source_event_time_ns) : null(out); tab(out);
    opt_text(out, info.source_user_email); tab(out);
    opt_text(out, info.source_user_role); tab(out);
    duration(out, r.started, r.ended); tab(out);
    integer(out, r.events_detected_count); tab(out);
    integer(out, r.total_jobs_run); tab(out);
    integer(out, r.total_jobs_succeeded); tab(out);
    integer(out, r.total_jobs_failed); tab(out);
    info.auto_load_modules ? boolean(out, *info.auto_load_modules) : null(out); tab(out);
    opt_text(out, info.event_modules_directory); tab(out);
    text(out, to_string(r.status)); tab(out);
    e ? text(out, e->message) : null(out); tab(out);
    e ? opt_text(out, e->stack) : null(out); tab(out);
    e ? opt_text(out, e->type) : null(out); tab(out);
    if (!info.payload_errors.empty()) {
        nlohmann::json context = r.context_data ? *r.context_data : nlohmann::json(nullptr);
        if (!context.is_object()) context = nlohmann::json::object();
        context["payload_errors"] = info.payload_errors;
        json(out, context);
    } else if (r.context_data) {
        json(out, *r.context_data);
    } else {
        null(out);
    }
    out += '\n';
}

inline void line(std::string& out, const event_record& r) {
    bool decided = r.detected_at != 0;
    id(out, r.id); tab(out);
    ts(out, r.started); tab(out);
    ts(out, r.ended ? r.ended : (decided ? r.detected_at : r.started)); tab(out);
    id(out, r.invocation_id); tab(out);
    text(out, correlation_id_of(r.info)); tab(out);
    text(out, r.event_name.view()); tab(out);
    r.event_module_path ? text(out, *r.event_module_path) : null(out); tab(out);
    boolean(out, r.detected); tab(out);
    decided ? duration(out, r.started, r.detected_at) : duration(out, r.started, r.ended); tab(out);
    decided && r.detected ? duration(out, r.detected_at, r.ended) : null(out); tab(out);
    error_text(out, r.detection_error.get()); tab(out);
    r.detection_error ? opt_text(out, r.detection_error->stack) : null(out); tab(out);
    error_text(out, r.handler_error.get()); tab(out);
    r.handler_error ? opt_text(out, r.handler_error->stack) : null(out); tab(out);
    integer(out, r.jobs_count); tab(out);
    integer(out, r.jobs_succeeded); tab(out);
    integer(out, r.jobs_failed); tab(out);
    text(out, to_string(r.status));
    out += '\n';
}

inline void line(std::string& out, const job_record& r) {
    const job_details* d = r.details.get();
    const error_info* e = d && d->error ? d->error.get() : nullptr;
    id(out, r.id); tab(out);
    ts(out, r.started); tab(out);
    ts(out, r.ended ? r.ended : r.started); tab(out);
    id(out, r.invocation_id); tab(out);
    id(out, r.event_execution_id); tab(out);
    text(out, correlation_id_of(r.info)); tab(out);
    text(out, r.job_name.view()); tab(out);
    d ? opt_text(out, d->job_function_name) : null(out); tab(out);
    d && d->job_options ? json(out, *d->job_options) : null(out); tab(out);
    duration(out, r.started, r.ended); tab(out);
    text(out, to_string(r.status)); tab(out);
    d && d->result ? json(out, *d->result) : null(out); tab(out);
    e ? text(out, e->message) : null(out); tab(out);
    e ? opt_text(out, e->stack) : null(out); tab(out);
    e ? opt_text(out, e->type) : null(out);
    out += '\n';
}

inline void line(std::string& out, const job_log_record& r) {
    id(out, r.id); tab(out);
    ts(out, r.logged_at); tab(out);
    id(out, r.job_execution_id); tab(out);
    id(out, r.invocation_id); tab(out);
    text(out, correlation_id_of(r.info)); tab(out);
    text(out, to_string(r.level)); tab(out);
    text(out, r.message); tab(out);
    r.data ? json(out, *r.data) : null(out); tab(out);
    ts(out, r.logged_at);
    out += '\n';
}

}  // namespace enc

// One COPY line (with its newline) of a record: the same text as append_copy_line of its normalized row.
inline void append_copy_line(std::string& out, const record& r) {
    std::visit([&](const auto& x) { enc::line(out, x); }, r);
}

// One COPY line of a staged row, whichever form it holds.
inline void append_copy_line(std::string& out, const staged_row& r) {
    if (r.rec && r.row.is_null()) append_copy_line(out, *r.rec);
    else append_copy_line(out, r.row, r.table);
}

}  // namespace eventscope::detail::pg
