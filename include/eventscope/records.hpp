// What a scope hands to the pipeline, and what sinks receive: one record per row write.
// Field names follow the SQL columns (sql/schema.sql, docs/schema-contract.md); sinks map them one to one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "clause.hpp"
#include "name.hpp"
#include "status.hpp"
#include "uuid.hpp"

namespace eventscope {

// An exception as captured on the throw path. `frames` are raw return addresses (cheap to take);
// the pipeline turns them into `stack` text and `type_mangled` into `type` off the hot path.
struct error_info {
    std::string type;
    std::string message;
    std::string stack;
    const char* type_mangled = nullptr;
    std::vector<void*> frames;
};

// Everything an invocation learned from its trigger payload. Immutable once built and shared by the
// invocation's records; the pipeline attaches it to every child record (they repeat its correlation_id) off the
// hot path, so that scopes never touch its reference count.
struct invocation_info {
    std::string correlation_id;
    correlation_source correlation_from = correlation_source::generated;
    std::optional<uuid> source_job_id;
    std::optional<uuid> source_event_id;
    std::string source_function;
    std::string source_table;
    std::string source_operation;
    std::string source_system = "hasura";
    std::string source_user_email;
    std::string source_user_role;
    std::optional<std::int64_t> source_event_time_ns;  // Unix ns of the trigger event's created_at
    nlohmann::json source_event_payload = nlohmann::json::object();
    std::optional<bool> auto_load_modules;
    std::string event_modules_directory;
    std::vector<std::string> payload_errors;  // what could not be read from a malformed payload
};
using invocation_info_ptr = std::shared_ptr<const invocation_info>;

// The names of an invocation's event executions and of its jobs, each distinct and in byte order. The pipeline
// gathers them from the child records it converts before the invocation's final record (the children its
// totals count) and puts them on that record, so that "invocations with event X and job Y" is a test of one row
// (sql/README.md, "Child names"). Absent (SQL NULL) when they are not known.
struct child_names {
    std::vector<std::string> events, jobs;
};

// Times: producers store clock ticks; the pipeline rewrites them to Unix nanoseconds (`stamped`) before any
// sink sees the record. An end time of 0 means "still running".
struct invocation_record {
    uuid id;
    invocation_info_ptr info;
    std::int64_t started = 0, ended = 0;
    run_status status = run_status::running;
    std::int32_t events_detected_count = 0, total_jobs_run = 0, total_jobs_succeeded = 0, total_jobs_failed = 0;
    std::unique_ptr<error_info> error;
    std::unique_ptr<nlohmann::json> context_data;
    std::shared_ptr<const child_names> children;  // final rows only
    bool stamped = false;
};

struct event_record {
    uuid id;
    uuid invocation_id;
    invocation_info_ptr info;
    name event_name;
    std::int64_t started = 0, detected_at = 0, ended = 0;
    event_status status = event_status::detecting;
    bool detected = false;
    std::int32_t jobs_count = 0, jobs_succeeded = 0, jobs_failed = 0;
    std::unique_ptr<error_info> detection_error, handler_error;
    std::unique_ptr<std::string> event_module_path;
    std::vector<clause_result> clauses;  // detect.hpp: in evaluation order, empty without clauses
    bool stamped = false;
};

struct job_details {
    std::string job_function_name;
    std::optional<nlohmann::json> job_options;
    std::optional<nlohmann::json> result;
    std::unique_ptr<error_info> error;
};

struct job_record {
    uuid id;
    uuid invocation_id;
    uuid event_execution_id;
    invocation_info_ptr info;
    name job_name;
    std::int64_t started = 0, ended = 0;
    run_status status = run_status::running;
    std::unique_ptr<job_details> details;  // options, result, error: absent on the metrics path
    bool stamped = false;
};

struct job_log_record {
    uuid id;
    uuid job_execution_id;
    uuid invocation_id;
    invocation_info_ptr info;
    log_level level = log_level::info;
    std::string message;
    std::optional<nlohmann::json> data;
    std::int64_t logged_at = 0;
    bool stamped = false;
};

using record = std::variant<invocation_record, event_record, job_record, job_log_record>;

// Whole milliseconds between two stamped times; null while the row is still running.
constexpr std::optional<std::int32_t> duration_ms(std::int64_t started_ns, std::int64_t ended_ns) noexcept {
    if (ended_ns == 0) return std::nullopt;
    auto d = ended_ns - started_ns;
    return static_cast<std::int32_t>(d < 0 ? 0 : (d + 500'000) / 1'000'000);
}

inline const std::string& correlation_id_of(const invocation_info_ptr& info) {
    static const std::string empty;
    return info ? info->correlation_id : empty;
}

}  // namespace eventscope
