// Rows that can never complete, closed as `failed` with the reason instead of staying `running` forever. When
// records were dropped (the database down and no usable spool), the final record of an invocation, event or job
// that has ended may be among them: its row stays open. The service remembers the invocations it answered
// (their scopes ended: scopes nest, so their events and jobs ended too); after drops, once writing works again,
// those still open, and open children of theirs, are closed with error_type `records_lost`. Runs on its own
// connection, by id (several services may share one database).
// The same janitor closes the rows that service instances which ended without finishing them left running
// (service_instance.hpp: kill -9, crash), with error_type `process_ended`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <eventscope/config.hpp>

#include "record_health.hpp"
#include "service_instance.hpp"

namespace demo {

struct closed_rows {
    std::uint64_t invocations = 0, events = 0, jobs = 0;
    std::string error;  // the closing failed (e.g. the database is unreachable): try again later
    std::uint64_t total() const { return invocations + events + jobs; }
};

// `ended`: ids of invocations whose scopes have ended; their rows (and their children's) still open are closed.
closed_rows close_abandoned_rows(const eventscope::config& cfg, const std::vector<std::string>& ended, const std::string& reason);

// Rows of an instance that has ended (its lock is ours now): invocations it left running, and their children
// still running/detecting/handling, are closed as failed with error_type `process_ended` and a message naming it.
closed_rows close_rows_of_instance(const eventscope::config& cfg, const ended_instance& ended);

// Every 2 s while records are being written: when records were dropped since the last pass, the invocations
// answered before it (and their children) still open are closed. Remembers at most max_remembered ids.
class abandoned_rows_janitor {
public:
    static constexpr std::size_t max_remembered = 200'000;

    abandoned_rows_janitor(recorder_t& obs, const record_health& health, eventscope::config cfg, std::function<void(const std::string&)> log);
    ~abandoned_rows_janitor();
    abandoned_rows_janitor(const abandoned_rows_janitor&) = delete;
    abandoned_rows_janitor& operator=(const abandoned_rows_janitor&) = delete;

    // A delivery was answered: its invocation scope has ended. Any thread.
    void ended(std::string invocation_id) {
        std::lock_guard lock(mutex_);
        if (ended_.size() >= max_remembered) ended_.pop_front();
        ended_.emplace_back(std::chrono::steady_clock::now(), std::move(invocation_id));
    }
    std::uint64_t closed() const { return closed_.load(); }
    // Closes the rows of instance->ended() once the spool is replayed (the dead instance's records written first:
    // a final row written after the close would be refused, the close must come last). Before any pass.
    void close_rows_of_ended_instances(service_instance* instance) { instance_ = instance; }

private:
    void run(std::stop_token stop);
    void pass();
    void close_instances();

    recorder_t& obs_;
    const record_health& health_;
    eventscope::config cfg_;
    std::function<void(const std::string&)> log_;
    std::mutex mutex_;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> ended_;  // oldest first
    std::uint64_t handled_drops_ = 0;
    std::atomic<std::uint64_t> closed_{0};
    service_instance* instance_ = nullptr;
    std::string last_instance_error_;
    std::condition_variable_any wake_;
    std::jthread thread_;
};

}  // namespace demo
