// The record -> row mapping, written once: for each record type, its table and its columns in the SQL order of
// sql/migrations (fixed-width first), each with its SQL type and how its value is read from the record. Every
// encoder is derived from these tables: row JSON (row_json.hpp: to_row), COPY text and binary COPY
// (sinks/postgres), and the column lists of the sink's SQL. An encoder is a `writer` (see column_writer below):
// a column's getter calls exactly one of its methods.
//
// The order of `record`'s alternatives is the order tables are written in (parents first) and the order of
// `table_names`; static_asserts at the end of this file keep the two in step.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "records.hpp"

namespace eventscope::columns {

enum class sql_type : std::uint8_t { uuid, timestamptz, integer, boolean, text, jsonb };

// A timestamptz value as PostgreSQL stores it: whole microseconds, here truncated toward zero (before 1970 too),
// the one rule every encoder (row JSON, COPY text and binary, the sink's rollup sums) applies to Unix nanoseconds.
constexpr std::int64_t unix_micros(std::int64_t unix_ns) noexcept { return unix_ns / 1000; }

// What a column's getter may call. Optional forms write NULL for "absent" (an empty string, a disengaged
// optional, a null pointer), so that every encoder makes the same NULLs.
template <class W>
concept column_writer = requires(W& w, std::string_view s, const uuid& u, std::int64_t n, bool b, const nlohmann::json& j) {
    w.null();
    w.text(s);
    w.uuid(u);
    w.timestamp(n);  // Unix nanoseconds
    w.integer(n);
    w.boolean(b);
    w.json(j);  // a JSON null is written as SQL NULL
};

template <class Get>
struct column {
    std::string_view name;
    sql_type type;
    bool in_row_json;  // false: a value the database keeps for itself, not part of to_row's neutral row
    Get get;           // get(const Record&, Writer&)
};

template <class Get>
constexpr column<Get> col(std::string_view name, sql_type type, Get get) {
    return {name, type, true, get};
}
template <class Get>
constexpr column<Get> db_only_col(std::string_view name, sql_type type, Get get) {
    return {name, type, false, get};
}

// ---- value helpers shared by the getters -------------------------------------------------------------------

namespace value {

template <class W>
void opt_text(W& w, std::string_view s) {
    if (s.empty()) w.null();
    else w.text(s);
}
template <class W>
void opt_uuid(W& w, const std::optional<uuid>& u) {
    if (u) w.uuid(*u);
    else w.null();
}
template <class W>
void duration(W& w, std::int64_t from, std::int64_t to) {
    if (auto d = duration_ms(from, to)) w.integer(*d);
    else w.null();
}
// "Type: message", or the type alone; NULL without an error.
template <class W>
void error_text(W& w, const error_info* e) {
    if (!e) return w.null();
    if (e->message.empty()) return w.text(e->type);
    std::string s;
    s.reserve(e->type.size() + 2 + e->message.size());
    s.append(e->type).append(": ").append(e->message);
    w.text(s);
}
// [{"name": ..., "outcome": "passed" | "failed" | "skipped" | "threw"}, ...]; NULL without clauses.
template <class W>
void clause_outcomes(W& w, const std::vector<clause_result>& clauses) {
    if (clauses.empty()) return w.null();
    auto a = nlohmann::json::array();
    for (const auto& c : clauses) a.push_back({{"name", c.name}, {"outcome", to_string(c.outcome)}});
    w.json(a);
}
// [{"expression": ..., "lhs": ..., "op": ..., "rhs": ...} or null (skipped), ...], parallel to the outcomes;
// NULL when nothing was captured (capture::metrics).
template <class W>
void clause_values(W& w, const std::vector<clause_result>& clauses) {
    bool any = false;
    for (const auto& c : clauses) any = any || c.has_values || !c.expression.empty();
    if (!any) return w.null();
    auto a = nlohmann::json::array();
    for (const auto& c : clauses) {
        auto v = nlohmann::json::object();
        if (!c.expression.empty()) v["expression"] = c.expression;
        if (c.has_values) {
            v["lhs"] = c.lhs;
            if (!c.op.empty()) {
                v["op"] = c.op;
                v["rhs"] = c.rhs;
            }
        }
        a.push_back(std::move(v));
    }
    w.json(a);
}
// The name of the clause that stopped the detection (failed or threw); NULL when none did.
template <class W>
void rejected_by(W& w, const std::vector<clause_result>& clauses) {
    for (const auto& c : clauses)
        if (c.outcome == clause_outcome::failed || c.outcome == clause_outcome::threw) return w.text(c.name);
    w.null();
}
// The keys whose values differ between event.data.old and event.data.new when both are objects (an UPDATE),
// in key order; NULL otherwise (no payload kept, not an UPDATE).
template <class W>
void changed_columns(W& w, const nlohmann::json& payload) {
    const nlohmann::json* data = nullptr;
    if (payload.is_object())
        if (auto e = payload.find("event"); e != payload.end() && e->is_object())
            if (auto d = e->find("data"); d != e->end() && d->is_object()) data = &*d;
    auto o = data ? data->find("old") : payload.end();
    auto n = data ? data->find("new") : payload.end();
    if (!data || o == data->end() || n == data->end() || !o->is_object() || !n->is_object()) return w.null();
    auto out = nlohmann::json::array();
    auto a = o->begin(), b = n->begin();  // nlohmann::json objects iterate in key order
    while (a != o->end() || b != n->end()) {
        if (b == n->end() || (a != o->end() && a.key() < b.key())) {
            out.push_back(a.key());
            ++a;
        } else if (a == o->end() || b.key() < a.key()) {
            out.push_back(b.key());
            ++b;
        } else {
            if (*a != *b) out.push_back(a.key());
            ++a;
            ++b;
        }
    }
    w.json(out);
}
template <class W>
void child_names(W& w, const std::shared_ptr<const eventscope::child_names>& names) {
    if (!names) return w.null();
    w.json(nlohmann::json{{"events", names->events}, {"jobs", names->jobs}});
}
inline const invocation_info& info_of(const invocation_info_ptr& p) {
    static const invocation_info none;
    return p ? *p : none;
}

}  // namespace value

// ---- the tables ------------------------------------------------------------------------------------------------

template <class Record>
struct table;

template <>
struct table<invocation_record> {
    using R = invocation_record;
    static constexpr std::string_view name = "invocations";
    static constexpr auto columns = std::make_tuple(
        col("id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.id); }),
        col("created_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.started); }),
        col("updated_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.ended ? r.ended : r.started); }),
        col("correlation_id", sql_type::text, [](const R& r, auto& w) { w.text(value::info_of(r.info).correlation_id); }),
        col("correlation_source", sql_type::text, [](const R& r, auto& w) { w.text(to_string(value::info_of(r.info).correlation_from)); }),
        col("source_function", sql_type::text, [](const R& r, auto& w) { w.text(value::info_of(r.info).source_function); }),
        col("source_table", sql_type::text, [](const R& r, auto& w) { value::opt_text(w, value::info_of(r.info).source_table); }),
        col("source_operation", sql_type::text, [](const R& r, auto& w) { value::opt_text(w, value::info_of(r.info).source_operation); }),
        col("source_system", sql_type::text, [](const R& r, auto& w) { value::opt_text(w, value::info_of(r.info).source_system); }),
        col("source_job_id", sql_type::uuid, [](const R& r, auto& w) { value::opt_uuid(w, value::info_of(r.info).source_job_id); }),
        col("source_event_id", sql_type::uuid, [](const R& r, auto& w) { value::opt_uuid(w, value::info_of(r.info).source_event_id); }),
        // NOT NULL: an empty object when payload capture is off.
        col("source_event_payload", sql_type::jsonb,
            [](const R& r, auto& w) {
                static const nlohmann::json empty = nlohmann::json::object();
                const auto& p = value::info_of(r.info).source_event_payload;
                w.json(p.is_null() ? empty : p);
            }),
        col("source_event_time", sql_type::timestamptz,
            [](const R& r, auto& w) {
                const auto& t = value::info_of(r.info).source_event_time_ns;
                if (t) w.timestamp(*t);
                else w.null();
            }),
        col("source_user_email", sql_type::text, [](const R& r, auto& w) { value::opt_text(w, value::info_of(r.info).source_user_email); }),
        col("source_user_role", sql_type::text, [](const R& r, auto& w) { value::opt_text(w, value::info_of(r.info).source_user_role); }),
        col("total_duration_ms", sql_type::integer, [](const R& r, auto& w) { value::duration(w, r.started, r.ended); }),
        col("events_detected_count", sql_type::integer, [](const R& r, auto& w) { w.integer(r.events_detected_count); }),
        col("total_jobs_run", sql_type::integer, [](const R& r, auto& w) { w.integer(r.total_jobs_run); }),
        col("total_jobs_succeeded", sql_type::integer, [](const R& r, auto& w) { w.integer(r.total_jobs_succeeded); }),
        col("total_jobs_failed", sql_type::integer, [](const R& r, auto& w) { w.integer(r.total_jobs_failed); }),
        col("auto_load_modules", sql_type::boolean,
            [](const R& r, auto& w) {
                const auto& a = value::info_of(r.info).auto_load_modules;
                if (a) w.boolean(*a);
                else w.null();
            }),
        col("event_modules_directory", sql_type::text,
            [](const R& r, auto& w) { value::opt_text(w, value::info_of(r.info).event_modules_directory); }),
        col("status", sql_type::text, [](const R& r, auto& w) { w.text(to_string(r.status)); }),
        col("error_message", sql_type::text,
            [](const R& r, auto& w) {
                if (r.error) w.text(r.error->message);
                else w.null();
            }),
        col("error_stack", sql_type::text,
            [](const R& r, auto& w) {
                if (r.error) value::opt_text(w, r.error->stack);
                else w.null();
            }),
        col("error_type", sql_type::text,
            [](const R& r, auto& w) {
                if (r.error) value::opt_text(w, r.error->type);
                else w.null();
            }),
        // The user's context, plus what could not be read from the payload (payload_errors).
        col("context_data", sql_type::jsonb, [](const R& r, auto& w) {
            const auto& errors = value::info_of(r.info).payload_errors;
            if (errors.empty()) {
                if (r.context_data) w.json(*r.context_data);
                else w.null();
                return;
            }
            nlohmann::json context = r.context_data && r.context_data->is_object() ? *r.context_data : nlohmann::json::object();
            context["payload_errors"] = errors;
            w.json(context);
        }),
        // The columns an UPDATE changed (migration 003; the SQL function payload_changed_columns() is the same
        // rule): derived from the stored payload, for "column X changed" filters.
        db_only_col("changed_columns", sql_type::jsonb,
                    [](const R& r, auto& w) { value::changed_columns(w, value::info_of(r.info).source_event_payload); }),
        // The names of its event executions and jobs (migration 004; the SQL function invocation_child_names()
        // is the same rule): "invocations with event X and job Y" tests this one row. NULL while running and
        // whenever the pipeline did not see the invocation open.
        db_only_col("child_names", sql_type::jsonb, [](const R& r, auto& w) { value::child_names(w, r.children); }));
};

template <>
struct table<event_record> {
    using R = event_record;
    static constexpr std::string_view name = "event_executions";
    static constexpr auto columns = std::make_tuple(
        col("id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.id); }),
        col("created_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.started); }),
        col("updated_at", sql_type::timestamptz,
            [](const R& r, auto& w) { w.timestamp(r.ended ? r.ended : (r.detected_at ? r.detected_at : r.started)); }),
        col("invocation_id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.invocation_id); }),
        col("correlation_id", sql_type::text, [](const R& r, auto& w) { w.text(correlation_id_of(r.info)); }),
        col("event_name", sql_type::text, [](const R& r, auto& w) { w.text(std::string_view(r.event_name)); }),
        col("event_module_path", sql_type::text,
            [](const R& r, auto& w) {
                if (r.event_module_path) w.text(*r.event_module_path);
                else w.null();
            }),
        col("detected", sql_type::boolean, [](const R& r, auto& w) { w.boolean(r.detected); }),
        // Detection ends when the event is decided (detected_at), or with the scope if it never was.
        col("detection_duration_ms", sql_type::integer,
            [](const R& r, auto& w) { value::duration(w, r.started, r.detected_at ? r.detected_at : r.ended); }),
        col("handler_duration_ms", sql_type::integer,
            [](const R& r, auto& w) {
                if (r.detected_at && r.detected) value::duration(w, r.detected_at, r.ended);
                else w.null();
            }),
        col("detection_error", sql_type::text, [](const R& r, auto& w) { value::error_text(w, r.detection_error.get()); }),
        col("detection_error_stack", sql_type::text,
            [](const R& r, auto& w) {
                if (r.detection_error) value::opt_text(w, r.detection_error->stack);
                else w.null();
            }),
        col("handler_error", sql_type::text, [](const R& r, auto& w) { value::error_text(w, r.handler_error.get()); }),
        col("handler_error_stack", sql_type::text,
            [](const R& r, auto& w) {
                if (r.handler_error) value::opt_text(w, r.handler_error->stack);
                else w.null();
            }),
        col("jobs_count", sql_type::integer, [](const R& r, auto& w) { w.integer(r.jobs_count); }),
        col("jobs_succeeded", sql_type::integer, [](const R& r, auto& w) { w.integer(r.jobs_succeeded); }),
        col("jobs_failed", sql_type::integer, [](const R& r, auto& w) { w.integer(r.jobs_failed); }),
        col("status", sql_type::text, [](const R& r, auto& w) { w.text(to_string(r.status)); }),
        // The invocation's source function, so that the event rollup needs no join (sql/README.md "Rollups").
        db_only_col("source_function", sql_type::text,
                    [](const R& r, auto& w) {
                        if (r.info) w.text(r.info->source_function);
                        else w.null();
                    }),
        // Detection clauses (detect.hpp, migration 003): names and outcomes; the values they compared (full
        // capture; hidden from the observer role like payloads); the clause that stopped the detection.
        col("detection_clauses", sql_type::jsonb, [](const R& r, auto& w) { value::clause_outcomes(w, r.clauses); }),
        col("detection_clause_values", sql_type::jsonb, [](const R& r, auto& w) { value::clause_values(w, r.clauses); }),
        col("detection_rejected_by", sql_type::text, [](const R& r, auto& w) { value::rejected_by(w, r.clauses); }));
};

template <>
struct table<job_record> {
    using R = job_record;
    static constexpr std::string_view name = "job_executions";
    static constexpr auto columns = std::make_tuple(
        col("id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.id); }),
        col("created_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.started); }),
        col("updated_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.ended ? r.ended : r.started); }),
        col("invocation_id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.invocation_id); }),
        col("event_execution_id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.event_execution_id); }),
        col("correlation_id", sql_type::text, [](const R& r, auto& w) { w.text(correlation_id_of(r.info)); }),
        col("job_name", sql_type::text, [](const R& r, auto& w) { w.text(std::string_view(r.job_name)); }),
        col("job_function_name", sql_type::text,
            [](const R& r, auto& w) {
                if (r.details) value::opt_text(w, r.details->job_function_name);
                else w.null();
            }),
        col("job_options", sql_type::jsonb,
            [](const R& r, auto& w) {
                if (r.details && r.details->job_options) w.json(*r.details->job_options);
                else w.null();
            }),
        col("duration_ms", sql_type::integer, [](const R& r, auto& w) { value::duration(w, r.started, r.ended); }),
        col("status", sql_type::text, [](const R& r, auto& w) { w.text(to_string(r.status)); }),
        col("result", sql_type::jsonb,
            [](const R& r, auto& w) {
                if (r.details && r.details->result) w.json(*r.details->result);
                else w.null();
            }),
        col("error_message", sql_type::text,
            [](const R& r, auto& w) {
                if (r.details && r.details->error) w.text(r.details->error->message);
                else w.null();
            }),
        col("error_stack", sql_type::text,
            [](const R& r, auto& w) {
                if (r.details && r.details->error) value::opt_text(w, r.details->error->stack);
                else w.null();
            }),
        col("error_type", sql_type::text, [](const R& r, auto& w) {
            if (r.details && r.details->error) value::opt_text(w, r.details->error->type);
            else w.null();
        }));
};

template <>
struct table<job_log_record> {
    using R = job_log_record;
    static constexpr std::string_view name = "job_logs";
    static constexpr auto columns = std::make_tuple(
        col("id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.id); }),
        col("created_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.logged_at); }),
        col("job_execution_id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.job_execution_id); }),
        col("invocation_id", sql_type::uuid, [](const R& r, auto& w) { w.uuid(r.invocation_id); }),
        col("correlation_id", sql_type::text, [](const R& r, auto& w) { w.text(correlation_id_of(r.info)); }),
        col("level", sql_type::text, [](const R& r, auto& w) { w.text(to_string(r.level)); }),
        col("message", sql_type::text, [](const R& r, auto& w) { w.text(r.message); }),
        col("data", sql_type::jsonb,
            [](const R& r, auto& w) {
                if (r.data) w.json(*r.data);
                else w.null();
            }),
        col("logged_at", sql_type::timestamptz, [](const R& r, auto& w) { w.timestamp(r.logged_at); }));
};

// ---- tables by index -------------------------------------------------------------------------------------------

inline constexpr std::size_t table_count = std::variant_size_v<record>;
// Parents first: the order rows are written in within a transaction.
inline constexpr std::array<std::string_view, 4> table_names{"invocations", "event_executions", "job_executions", "job_logs"};

template <std::size_t I>
using record_at = std::variant_alternative_t<I, record>;

template <class Record>
constexpr std::size_t column_count() {
    return std::tuple_size_v<std::remove_cvref_t<decltype(table<Record>::columns)>>;
}

// Calls f(column) for every column of Record's table, in order.
template <class Record, class F>
constexpr void for_each_column(F&& f) {
    std::apply([&](const auto&... c) { (f(c), ...); }, table<Record>::columns);
}

// Calls f(std::type_identity<Record>{}) for the record type of table index i (runtime index).
template <class F>
constexpr decltype(auto) visit_table(std::size_t i, F&& f) {
    switch (i) {
        case 0: return f(std::type_identity<record_at<0>>{});
        case 1: return f(std::type_identity<record_at<1>>{});
        case 2: return f(std::type_identity<record_at<2>>{});
        default: return f(std::type_identity<record_at<3>>{});
    }
}

// ---- status ranks: how far a row is in its life ----------------------------------------------------------------
// A stored row may only be replaced by one at least as far, and a final row (rank 2) not at all; rollups count
// final rows. sql/migrations' status_rank() is the same table (tests/postgres checks that they agree).

struct status_rank_entry {
    std::string_view status;
    int rank;
};
inline constexpr std::array<status_rank_entry, 8> status_ranks{{{"running", 0},
                                                                 {"detecting", 0},
                                                                 {"handling", 1},
                                                                 {"completed", 2},
                                                                 {"failed", 2},
                                                                 {"not_detected", 2},
                                                                 {"detection_failed", 2},
                                                                 {"handler_failed", 2}}};
inline constexpr int final_rank = 2;

// Unknown statuses count as final (the database rejects them anyway).
constexpr int status_rank(std::string_view status) noexcept {
    for (const auto& e : status_ranks)
        if (e.status == status) return e.rank;
    return final_rank;
}

// The rank of a record (log lines are always final).
inline int status_rank(const record& r) noexcept {
    return std::visit(
        [](const auto& x) -> int {
            if constexpr (requires { x.status; }) return status_rank(to_string(x.status));
            else return final_rank;
        },
        r);
}

// ---- compile-time agreement of the variant and the tables -------------------------------------------------------

namespace checks {

template <std::size_t... I>
constexpr bool variant_matches_tables(std::index_sequence<I...>) {
    return ((table<record_at<I>>::name == table_names[I]) && ...);
}
static_assert(table_count == table_names.size(), "one table per record alternative");
static_assert(variant_matches_tables(std::make_index_sequence<table_count>{}),
              "record's alternatives must be in table_names order (parents first)");

template <class Record>
constexpr bool id_is_first() {
    return std::get<0>(table<Record>::columns).name == "id" && std::get<0>(table<Record>::columns).type == sql_type::uuid;
}
static_assert(id_is_first<invocation_record>() && id_is_first<event_record>() && id_is_first<job_record>() &&
                  id_is_first<job_log_record>(),
              "the sink's upserts and coalescing key on the first column, id");

template <class Record>
constexpr bool has_column(std::string_view name) {
    bool found = false;
    std::apply([&](const auto&... c) { ((found = found || c.name == name), ...); }, table<Record>::columns);
    return found;
}
// A record with a status field writes a status column (the rank guard of the upserts reads it).
template <class Record>
constexpr bool status_column_agrees() {
    return requires(const Record& r) { r.status; } == has_column<Record>("status");
}
static_assert(status_column_agrees<invocation_record>() && status_column_agrees<event_record>() &&
                  status_column_agrees<job_record>() && status_column_agrees<job_log_record>(),
              "status column and record status disagree");

constexpr bool every_status_ranked() {
    for (auto s : {run_status::running, run_status::completed, run_status::failed}) {
        bool found = false;
        for (const auto& e : status_ranks) found = found || e.status == to_string(s);
        if (!found) return false;
    }
    for (auto s : {event_status::detecting, event_status::not_detected, event_status::handling, event_status::completed,
                   event_status::failed, event_status::detection_failed, event_status::handler_failed}) {
        bool found = false;
        for (const auto& e : status_ranks) found = found || e.status == to_string(s);
        if (!found) return false;
    }
    return true;
}
static_assert(every_status_ranked(), "every status value needs a rank");
static_assert(status_rank("running") == 0 && status_rank("handling") == 1 && status_rank("completed") == final_rank);

}  // namespace checks

}  // namespace eventscope::columns
