// A record as a row: a JSON object whose keys are exactly the SQL column names, plus "table".
// Used by the JSON-lines sink, by tests, and by anyone who wants a record in a neutral form.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "records.hpp"

namespace eventscope {

// "2026-11-26T09:00:00.123456Z" (microseconds, UTC) from Unix nanoseconds.
inline std::string format_timestamp(std::int64_t unix_ns) {
    std::int64_t seconds = unix_ns / 1'000'000'000;
    std::int64_t micros = (unix_ns % 1'000'000'000) / 1000;
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

inline nlohmann::json optional_text(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }
inline nlohmann::json optional_uuid(const std::optional<uuid>& u) { return u ? nlohmann::json(u->to_string()) : nlohmann::json(nullptr); }
inline nlohmann::json optional_duration(std::int64_t from, std::int64_t to) {
    auto d = duration_ms(from, to);
    return d ? nlohmann::json(*d) : nlohmann::json(nullptr);
}
inline std::string error_text(const error_info& e) { return e.message.empty() ? e.type : e.type + ": " + e.message; }

}  // namespace detail

inline nlohmann::json to_row(const invocation_record& r) {
    static const invocation_info no_info;
    const invocation_info& info = r.info ? *r.info : no_info;
    nlohmann::json context = r.context_data ? *r.context_data : nlohmann::json(nullptr);
    if (!info.payload_errors.empty()) {
        if (!context.is_object()) context = nlohmann::json::object();
        context["payload_errors"] = info.payload_errors;
    }
    return {
        {"table", "invocations"},
        {"id", r.id.to_string()},
        {"created_at", format_timestamp(r.started)},
        {"updated_at", format_timestamp(r.ended ? r.ended : r.started)},
        {"correlation_id", info.correlation_id},
        {"correlation_source", to_string(info.correlation_from)},
        {"source_function", info.source_function},
        {"source_table", detail::optional_text(info.source_table)},
        {"source_operation", detail::optional_text(info.source_operation)},
        {"source_system", detail::optional_text(info.source_system)},
        {"source_job_id", detail::optional_uuid(info.source_job_id)},
        {"source_event_id", detail::optional_uuid(info.source_event_id)},
        {"source_event_payload", info.source_event_payload},
        {"source_event_time", info.source_event_time_ns ? nlohmann::json(format_timestamp(*info.source_event_time_ns)) : nlohmann::json(nullptr)},
        {"source_user_email", detail::optional_text(info.source_user_email)},
        {"source_user_role", detail::optional_text(info.source_user_role)},
        {"total_duration_ms", detail::optional_duration(r.started, r.ended)},
        {"events_detected_count", r.events_detected_count},
        {"total_jobs_run", r.total_jobs_run},
        {"total_jobs_succeeded", r.total_jobs_succeeded},
        {"total_jobs_failed", r.total_jobs_failed},
        {"auto_load_modules", info.auto_load_modules ? nlohmann::json(*info.auto_load_modules) : nlohmann::json(nullptr)},
        {"event_modules_directory", detail::optional_text(info.event_modules_directory)},
        {"status", to_string(r.status)},
        {"error_message", r.error ? nlohmann::json(r.error->message) : nlohmann::json(nullptr)},
        {"error_stack", r.error ? detail::optional_text(r.error->stack) : nlohmann::json(nullptr)},
        {"error_type", r.error ? detail::optional_text(r.error->type) : nlohmann::json(nullptr)},
        {"context_data", std::move(context)},
    };
}

inline nlohmann::json to_row(const event_record& r) {
    bool decided = r.detected_at != 0;
    return {
        {"table", "event_executions"},
        {"id", r.id.to_string()},
        {"created_at", format_timestamp(r.started)},
        {"updated_at", format_timestamp(r.ended ? r.ended : (decided ? r.detected_at : r.started))},
        {"invocation_id", r.invocation_id.to_string()},
        {"correlation_id", correlation_id_of(r.info)},
        {"event_name", r.event_name.str()},
        {"event_module_path", r.event_module_path ? nlohmann::json(*r.event_module_path) : nlohmann::json(nullptr)},
        {"detected", r.detected},
        {"detection_duration_ms", decided ? detail::optional_duration(r.started, r.detected_at) : detail::optional_duration(r.started, r.ended)},
        {"handler_duration_ms", decided && r.detected ? detail::optional_duration(r.detected_at, r.ended) : nlohmann::json(nullptr)},
        {"detection_error", r.detection_error ? nlohmann::json(detail::error_text(*r.detection_error)) : nlohmann::json(nullptr)},
        {"detection_error_stack", r.detection_error ? detail::optional_text(r.detection_error->stack) : nlohmann::json(nullptr)},
        {"handler_error", r.handler_error ? nlohmann::json(detail::error_text(*r.handler_error)) : nlohmann::json(nullptr)},
        {"handler_error_stack", r.handler_error ? detail::optional_text(r.handler_error->stack) : nlohmann::json(nullptr)},
        {"jobs_count", r.jobs_count},
        {"jobs_succeeded", r.jobs_succeeded},
        {"jobs_failed", r.jobs_failed},
        {"status", to_string(r.status)},
    };
}

inline nlohmann::json to_row(const job_record& r) {
    const job_details* d = r.details.get();
    const error_info* e = d && d->error ? d->error.get() : nullptr;
    return {
        {"table", "job_executions"},
        {"id", r.id.to_string()},
        {"created_at", format_timestamp(r.started)},
        {"updated_at", format_timestamp(r.ended ? r.ended : r.started)},
        {"invocation_id", r.invocation_id.to_string()},
        {"event_execution_id", r.event_execution_id.to_string()},
        {"correlation_id", correlation_id_of(r.info)},
        {"job_name", r.job_name.str()},
        {"job_function_name", d ? detail::optional_text(d->job_function_name) : nlohmann::json(nullptr)},
        {"job_options", d && d->job_options ? *d->job_options : nlohmann::json(nullptr)},
        {"duration_ms", detail::optional_duration(r.started, r.ended)},
        {"status", to_string(r.status)},
        {"result", d && d->result ? *d->result : nlohmann::json(nullptr)},
        {"error_message", e ? nlohmann::json(e->message) : nlohmann::json(nullptr)},
        {"error_stack", e ? detail::optional_text(e->stack) : nlohmann::json(nullptr)},
        {"error_type", e ? detail::optional_text(e->type) : nlohmann::json(nullptr)},
    };
}

inline nlohmann::json to_row(const job_log_record& r) {
    return {
        {"table", "job_logs"},
        {"id", r.id.to_string()},
        {"created_at", format_timestamp(r.logged_at)},
        {"job_execution_id", r.job_execution_id.to_string()},
        {"invocation_id", r.invocation_id.to_string()},
        {"correlation_id", correlation_id_of(r.info)},
        {"level", to_string(r.level)},
        {"message", r.message},
        {"data", r.data ? *r.data : nlohmann::json(nullptr)},
        {"logged_at", format_timestamp(r.logged_at)},
    };
}

inline nlohmann::json to_row(const record& r) {
    return std::visit([](const auto& rec) { return to_row(rec); }, r);
}

// One line of JSON, valid whatever bytes the strings hold (invalid UTF-8 becomes U+FFFD).
inline std::string to_json_line(const record& r) {
    return to_row(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace eventscope
