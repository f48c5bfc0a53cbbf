// Shared fixtures for the core tests: observers on the memory sink with fast timers.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/json_lines_sink.hpp>
#include <eventscope/sinks/memory_sink.hpp>

namespace test_support {

using namespace std::chrono_literals;
using full_options = eventscope::options<eventscope::memory_sink, eventscope::capture::full, 4096>;
using metrics_options = eventscope::options<eventscope::memory_sink, eventscope::capture::metrics, 4096>;
using full_observer = eventscope::observer<full_options>;
using metrics_observer = eventscope::observer<metrics_options>;

inline eventscope::config fast_config() {
    eventscope::config c;
    c.flush_interval = 20ms;
    c.retry_delay = 5ms;
    c.batch_size = 100;
    return c;
}

// A Hasura event-trigger payload as the webhook receives it.
inline nlohmann::json hasura_event(const std::string& op = "UPDATE", nlohmann::json new_row = {{"id", 42}, {"status", "shipped"}},
                                   nlohmann::json old_row = nullptr, nlohmann::json session = {{"x-hasura-role", "user"}}) {
    return {
        {"id", "8f3c2b8e-8d5e-4d7c-9f57-2a1d4c5b6e7f"},
        {"created_at", "2026-11-26T08:00:00.123456"},
        {"table", {{"schema", "public"}, {"name", "orders"}}},
        {"trigger", {{"name", "orders_changed"}}},
        {"event", {{"op", op}, {"data", {{"old", old_row}, {"new", new_row}}}, {"session_variables", session}, {"trace_context", nullptr}}},
        {"delivery_info", {{"current_retry", 0}, {"max_retries", 0}}},
    };
}

}  // namespace test_support
