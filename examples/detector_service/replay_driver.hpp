// The example service's PostgreSQL extras: --replay (dry-run replay of stored payloads through this build's
// modules, report on the terminal and in replay_runs / replay_decisions) and the silence check (the SQL
// function silent_event_types(): GET /alerts/silence, or --check-silence for cron).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <eventscope/config.hpp>

#include "http.hpp"

namespace demo {

struct replay_options {
    std::string conninfo;
    std::string schema = "event_detector_observability";
    std::string from, to, source_function, correlation_id, build_label;
    std::size_t limit = 10000;
    std::FILE* out = stdout;
};

// Returns the exit code: 0 when the replay ran (decisions may have changed), 1 when it failed.
int run_replay(const replay_options& options);

struct silence_options {
    int recent_hours = 6;
    double fraction = 0.5;
    int baseline_days = 7;
    double min_expected = 5;
};

// main()'s first step: with --replay or --check-silence among the arguments, parses them (main.cpp's usage
// lists them), runs that and returns the exit code (2: bad arguments); otherwise nullopt and main() goes on.
std::optional<int> run_replay_tool(int argc, char** argv);

// {"status": "ok" | "alert", "silent": [...rows of silent_event_types()...], "parameters": {...}}
std::string silence_json(const std::string& conninfo, const std::string& schema, const silence_options& options);
// GET /alerts/silence?hours=6&fraction=0.5&baseline_days=7&min_expected=5, answered from the observability
// database of `cfg` (the service's --sink postgres configuration).
http_response silence_response(const eventscope::config& cfg, const std::string& target);

}  // namespace demo
