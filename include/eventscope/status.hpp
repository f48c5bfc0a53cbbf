// Statuses, log levels and correlation sources: the small vocabulary shared by the scopes (what a detector
// includes) and the records (what sinks receive), kept apart so that the scopes need nothing heavier.
#pragma once

#include <cstdint>
#include <string_view>

namespace eventscope {

enum class run_status : std::uint8_t { running, completed, failed };
enum class event_status : std::uint8_t {
    detecting,
    not_detected,
    handling,
    completed,
    failed,  // the handler finished but at least one of its jobs failed
    detection_failed,
    handler_failed
};
enum class log_level : std::uint8_t { debug, info, warn, error };
enum class correlation_source : std::uint8_t {
    explicit_id,
    updated_by,
    tracking_token,
    session_variable,
    metadata,
    custom,
    generated
};

constexpr std::string_view to_string(run_status s) noexcept {
    switch (s) {
        case run_status::running: return "running";
        case run_status::completed: return "completed";
        case run_status::failed: return "failed";
    }
    return "failed";
}
constexpr std::string_view to_string(event_status s) noexcept {
    switch (s) {
        case event_status::detecting: return "detecting";
        case event_status::not_detected: return "not_detected";
        case event_status::handling: return "handling";
        case event_status::completed: return "completed";
        case event_status::failed: return "failed";
        case event_status::detection_failed: return "detection_failed";
        case event_status::handler_failed: return "handler_failed";
    }
    return "failed";
}
constexpr std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::warn: return "warn";
        case log_level::error: return "error";
    }
    return "info";
}
constexpr std::string_view to_string(correlation_source s) noexcept {
    switch (s) {
        case correlation_source::explicit_id: return "explicit";
        case correlation_source::updated_by: return "updated_by";
        case correlation_source::tracking_token: return "tracking_token";
        case correlation_source::session_variable: return "session_variable";
        case correlation_source::metadata: return "metadata";
        case correlation_source::custom: return "custom";
        case correlation_source::generated: return "generated";
    }
    return "generated";
}

}  // namespace eventscope
