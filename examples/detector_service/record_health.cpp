#include "record_health.hpp"

#include <utility>

namespace demo {

const char* to_string(record_state s) {
    switch (s) {
        case record_state::writing: return "writing";
        case record_state::spooling: return "spooling";
        case record_state::retrying: return "retrying";
        case record_state::dropping: return "dropping";
    }
    return "unknown";
}

namespace {

std::uint64_t own_counter(const eventscope::pipeline_stats& s, std::string_view name) {
    for (const auto& sink : s.sinks)
        for (const auto& [n, v] : sink.own)
            if (n == name) return v;
    return 0;
}

}  // namespace

record_health::record_health(recorder_t& obs, record_health_options options, std::function<void(const std::string&)> log)
    : obs_(obs), options_(std::move(options)), log_(std::move(log)) {
    now_.startup_problem = options_.startup_problem;
    sample();
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

record_health::~record_health() {
    thread_.request_stop();
    wake_.notify_all();
}

void record_health::run(std::stop_token stop) {
    std::mutex m;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
        wake_.wait_for(lock, stop, options_.sample_interval, [] { return false; });
        if (stop.stop_requested()) break;
        sample();
    }
}

void record_health::sample() {
    auto s = obs_.stats();
    auto t = std::chrono::steady_clock::now();
    auto recent = [&](std::chrono::steady_clock::time_point at) {
        return at != std::chrono::steady_clock::time_point{} && t - at < options_.window;
    };
    auto dropped = s.dropped_any();
    auto failures = s.retried + s.failed_batches;
    if (dropped > mark_.dropped) mark_.last_drop = t;
    if (s.spooled > mark_.spooled) mark_.last_spool = t;
    if (failures > mark_.failures) mark_.last_failure = t;
    mark_.dropped = dropped;
    mark_.spooled = s.spooled;
    mark_.failures = failures;

    std::string spool_problem = options_.spool_problem ? options_.spool_problem() : std::string();
    record_state state = record_state::writing;
    if (recent(mark_.last_drop)) state = record_state::dropping;
    else if (own_counter(s, "spool_bytes") > 0 || recent(mark_.last_spool)) state = record_state::spooling;
    else if (recent(mark_.last_failure)) state = record_state::retrying;

    record_state before;
    std::string startup_problem;
    {
        std::lock_guard lock(mutex_);
        before = now_.state;
        // A configuration problem found at start-up holds until records are written again.
        if (state == record_state::writing && own_counter(s, "rows_written") > 0) now_.startup_problem.clear();
        now_.state = state;
        now_.stats = s;
        now_.dropped_recently = dropped - mark_.dropped_at_last_line;
        now_.spool_problem = spool_problem;
        startup_problem = now_.startup_problem;
    }
    if (!log_) return;

    auto why = s.last_error.empty() ? std::string() : "; last error: " + s.last_error;
    if (state != before) {
        switch (state) {
            case record_state::writing:
                log_("detector_service: records: writing again (" + std::to_string(s.replayed) + " spooled records replayed in all, " +
                     std::to_string(dropped) + " dropped in all)");
                break;
            case record_state::spooling:
                log_("detector_service: records: SPOOLING to disk, the database is not taking them" + why);
                break;
            case record_state::retrying:
                log_("detector_service: records: writes FAILING, " + std::string(options_.spool_enabled ? "the spool cannot take them" : "no spool") +
                     "; " + std::to_string(s.queue_depth) + " of " + std::to_string(s.capacity) +
                     " records wait in memory and are dropped when it is full" + (spool_problem.empty() ? "" : " (" + spool_problem + ")") + why);
                break;
            case record_state::dropping: break;  // the line below
        }
    }
    if (dropped > mark_.dropped_at_last_line && (t - mark_.last_drop_line >= options_.window || state != before)) {
        log_("detector_service: records: DROPPING: " + std::to_string(dropped - mark_.dropped_at_last_line) + " records lost since the last report (" +
             std::to_string(dropped) + " in all: ring full " + std::to_string(s.dropped_buffer_full) + ", rejected by the database " +
             std::to_string(s.rejected) + ", sink backlog full " + std::to_string(s.dropped_backlog) + ")" +
             (spool_problem.empty() ? "" : "; spool: " + spool_problem) + why);
        mark_.last_drop_line = t;
        mark_.dropped_at_last_line = dropped;
    }
}

record_health::snapshot record_health::current() const {
    std::lock_guard lock(mutex_);
    return now_;
}

int record_health::http_status() const {
    std::lock_guard lock(mutex_);
    return now_.state == record_state::dropping ? 503 : 200;
}

nlohmann::json record_health::report() const {
    auto s = current();
    const char* status = s.state == record_state::writing && s.startup_problem.empty() ? "ok"
                         : s.state == record_state::dropping                         ? "failing"
                                                                                     : "degraded";
    nlohmann::json out = {{"status", status},
                          {"records", to_string(s.state)},
                          {"recorded", s.stats.recorded},
                          {"written", s.stats.written},
                          {"dropped", s.stats.dropped_any()},
                          {"spooled", s.stats.spooled},
                          {"replayed", s.stats.replayed},
                          {"queue_depth", s.stats.queue_depth},
                          {"spool", options_.spool_enabled ? "enabled" : "disabled"}};
    if (!s.stats.last_error.empty()) out["last_error"] = s.stats.last_error;
    if (!s.spool_problem.empty()) out["spool_problem"] = s.spool_problem;
    if (!s.startup_problem.empty()) out["startup_problem"] = s.startup_problem;
    return out;
}

}  // namespace demo
