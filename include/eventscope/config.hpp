// Runtime configuration: the seed's option table, as a plain aggregate usable with designated initializers.
#pragma once

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eventscope {

struct database_config {
    std::string connection_string;  // OBSERVABILITY_DB_URL; when empty the individual fields below are used
    std::string host = "127.0.0.1";
    int port = 5432;
    std::string database = "hasura_event_detector_observability";
    std::string user;
    std::string password;
    std::string sslmode;  // e.g. "require", "verify-full"; empty = libpq default
};

struct config {
    bool enabled = true;
    std::string schema = "event_detector_observability";
    bool capture_job_options = true;
    bool capture_hasura_payload = true;
    bool capture_error_stacks = true;
    bool capture_console = false;  // tee std::cout/cerr/clog lines of a job into its log (needs console_capture)
    // A job writes a `running` row when it starts, so that a long job is visible while it runs (the sink
    // coalesces it with the final row when both are in one batch). Off: one record per job, about half the
    // caller's cost; a job then appears only when it ends (or at its first log line).
    bool record_running_jobs = true;
    // Dry-run replay (replay.hpp): detections are recorded as decided, but detected() and EVENTSCOPE_DETECT
    // answer "not detected" to the caller, so that no job scope opens and no job runs.
    bool replay = false;
    std::size_t batch_size = 100;  // records waiting that start a write (else the flush_interval does)
    // When the sink falls behind, one write takes whatever is waiting, up to this many: a database's cost per
    // row falls steeply with the batch (one transaction, one COPY per table), so a sink that lags catches up
    // instead of lagging further. Under light load batches stay near batch_size. A larger batch_size wins.
    std::size_t max_batch_size = 10000;
    std::chrono::milliseconds flush_interval{5000};
    int retry_attempts = 3;
    std::chrono::milliseconds retry_delay{1000};
    // The observer's destructor (and shutdown() without an argument) writes for at most this long, then counts
    // what is left as lost and says so: a dead database never hangs the process's exit.
    std::chrono::milliseconds shutdown_timeout{5000};
    // Without the opt-in throw capture, how long the final row of a scope left by an exception waits for the
    // catch site to say what the exception was (eventscope::caught(), or fail(e) on any scope): usually
    // microseconds. 0: never wait; such rows say "not captured" (detail/exception_cause.hpp).
    std::chrono::milliseconds exception_cause_wait{100};
    // With several sinks (fanout.hpp): how many records one sink may lag behind the others while it fails,
    // before it misses records (counted in its dropped_backlog); the others are never held back.
    std::size_t sink_backlog = 16384;
    // Payload strings longer than this are truncated (and marked) before they are buffered.
    std::size_t max_string_bytes = 4u << 20;
    // Deeper payloads are replaced by a marker: they could not be written as JSON without deep recursion.
    std::size_t max_payload_depth = 256;
    database_config database;

    // Applies the seed's environment variables on top of `base`: OBSERVABILITY_ENABLED, OBSERVABILITY_DB_URL.
    static config from_env();
    static config from_env(config base);

    void validate() const;
    static bool parse_bool(std::string_view variable, std::string_view value);
};

inline config config::from_env() { return from_env(config{}); }

inline config config::from_env(config base) {
        if (const char* v = std::getenv("OBSERVABILITY_ENABLED")) base.enabled = parse_bool("OBSERVABILITY_ENABLED", v);
        if (const char* v = std::getenv("OBSERVABILITY_DB_URL")) base.database.connection_string = v;
        base.validate();
        return base;
}

// Throws std::invalid_argument naming the bad option; called by the observer's constructor.
inline void config::validate() const {
        if (batch_size == 0) throw std::invalid_argument("eventscope config: batch_size must be at least 1");
        if (flush_interval.count() <= 0) throw std::invalid_argument("eventscope config: flush_interval must be positive");
        if (retry_attempts < 0) throw std::invalid_argument("eventscope config: retry_attempts must be >= 0");
        if (retry_delay.count() < 0) throw std::invalid_argument("eventscope config: retry_delay must be >= 0");
        if (shutdown_timeout.count() < 0) throw std::invalid_argument("eventscope config: shutdown_timeout must be >= 0");
        if (exception_cause_wait.count() < 0) throw std::invalid_argument("eventscope config: exception_cause_wait must be >= 0");
        if (schema.empty()) throw std::invalid_argument("eventscope config: schema must not be empty");
}

inline bool config::parse_bool(std::string_view variable, std::string_view value) {
        if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
        if (value == "false" || value == "0" || value == "no" || value == "off" || value.empty()) return false;
        throw std::invalid_argument(std::string(variable) + ": expected true or false, got '" + std::string(value) + "'");
}

}  // namespace eventscope
