// Whether the service's observability records are being stored, told while it happens: a thread samples the
// recorder's stats() every half second and derives one state,
//   writing   the sink confirms batches, nothing waits on disk
//   spooling  the database is unreachable or refusing; records go to the spool on disk (safe) and are replayed later
//   retrying  writes fail and there is no (usable) spool: records wait in memory and are dropped once it fills
//   dropping  records were dropped in the last 10 s (ring full, backlog full, rejected by the database)
// It logs each change of state, and while dropping one line per 10 s with the counts; /healthz reports it
// (503 while dropping) and /metrics exports it (metrics.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "service.hpp"

namespace demo {

enum class record_state { writing, spooling, retrying, dropping };
const char* to_string(record_state s);

struct record_health_options {
    bool spool_enabled = false;
    std::function<std::string()> spool_problem;  // why the spool cannot take rows now, "" when it can
    std::string startup_problem;                 // a configuration error the service was told to start despite
    std::chrono::milliseconds sample_interval{500};
    std::chrono::seconds window{10};             // "recently": drops, spooling, failures within this window
};

class record_health {
public:
    record_health(recorder_t& obs, record_health_options options, std::function<void(const std::string&)> log);
    ~record_health();
    record_health(const record_health&) = delete;
    record_health& operator=(const record_health&) = delete;

    struct snapshot {
        record_state state = record_state::writing;
        eventscope::pipeline_stats stats;
        std::uint64_t dropped_recently = 0;
        std::string spool_problem;
        std::string startup_problem;
    };
    snapshot current() const;

    // /healthz: 200 unless records are being dropped; the body says which state and why.
    int http_status() const;
    nlohmann::json report() const;

private:
    void run(std::stop_token stop);
    void sample();

    recorder_t& obs_;
    record_health_options options_;
    std::function<void(const std::string&)> log_;

    mutable std::mutex mutex_;
    snapshot now_;
    std::condition_variable_any wake_;
    // Sampler thread only.
    struct mark {
        std::uint64_t dropped = 0, spooled = 0, failures = 0, replayed = 0;
        std::chrono::steady_clock::time_point last_drop{}, last_spool{}, last_failure{};
        std::chrono::steady_clock::time_point last_drop_line{};
        std::uint64_t dropped_at_last_line = 0;
    } mark_;
    std::jthread thread_;
};

}  // namespace demo
