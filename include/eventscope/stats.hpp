// What an observer reports about itself (`stats()`), and what flush()/shutdown() report when they return.
// Every counter is cumulative since the observer started. For each sink, at any quiescent moment:
//   recorded = dropped_buffer_full + written + rejected + dropped_backlog + lost_at_shutdown + pending
// (pending = queue_depth + that sink's in-flight and backlog records). Nothing is ever dropped silently.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "status.hpp"

namespace eventscope {

// One sink's view (a composition of sinks, see fanout.hpp, has one per sink; a plain sink has one).
struct sink_stats {
    std::string name;                    // the sink's type, e.g. "postgres_sink"
    std::uint64_t written = 0;           // records the sink confirmed
    std::uint64_t rejected = 0;          // refused for their content (e.g. dead-lettered); counted as handled
    std::uint64_t dropped_backlog = 0;   // not offered to this sink: its backlog was full while it failed
    std::uint64_t lost_at_shutdown = 0;  // still unwritten when shutdown's deadline passed
    std::uint64_t retried = 0;           // write attempts repeated after a failure
    std::uint64_t failed_batches = 0;    // batches that failed every attempt (kept, tried again later)
    std::uint64_t batches = 0;           // successful writes
    std::uint64_t pending = 0;           // taken from the ring, not yet confirmed by this sink
    std::uint64_t spooled = 0;           // reported by the sink: records set aside to disk during an outage
    std::uint64_t replayed = 0;          // reported by the sink: spooled records written later
    std::uint64_t last_write_ns = 0;     // duration of the last write call (success or failure)
    std::string last_error;              // the last failure or note; empty when there was none
    // The sink's own counters, by name, when it reports any (see sink.hpp: an optional `stats()` member).
    std::vector<std::pair<std::string, std::uint64_t>> own;

    std::uint64_t dropped() const noexcept { return rejected + dropped_backlog + lost_at_shutdown; }
};

// How invocations got their correlation ID, counted per source (`generated` = nothing found in the payload).
struct correlation_counts {
    std::array<std::uint64_t, 7> by_source{};  // indexed by correlation_source
    std::uint64_t payload_errors = 0;          // invocations whose payload could not be read in full

    std::uint64_t operator[](correlation_source s) const noexcept { return by_source[static_cast<std::size_t>(s)]; }
    std::uint64_t total() const noexcept {
        std::uint64_t n = 0;
        for (auto v : by_source) n += v;
        return n;
    }
};

struct pipeline_stats {
    std::uint64_t recorded = 0;             // records offered by scopes
    std::uint64_t dropped_buffer_full = 0;  // refused at the ring (never reached any sink)
    std::size_t queue_depth = 0;            // records in the ring now
    std::size_t capacity = 0;               // ring size in records
    // The first (or only) sink's figures, repeated here; `sinks` has every sink's.
    std::uint64_t written = 0;
    std::uint64_t rejected = 0;
    std::uint64_t lost_at_shutdown = 0;
    std::uint64_t dropped_backlog = 0;
    std::uint64_t dropped = 0;  // dropped_buffer_full + the first sink's rejected + dropped_backlog + lost_at_shutdown
    std::uint64_t retried = 0;
    std::uint64_t failed_batches = 0;
    std::uint64_t batches = 0;
    std::size_t in_flight = 0;  // the first sink's pending records (taken from the ring, not confirmed)
    std::uint64_t spooled = 0;
    std::uint64_t replayed = 0;
    std::uint64_t last_write_ns = 0;
    std::string last_error;
    std::vector<sink_stats> sinks;
    correlation_counts correlation;

    std::uint64_t pending() const noexcept { return queue_depth + in_flight; }
    // Dropped by any sink (the loudest figure: a record one sink lost counts here even if another wrote it).
    std::uint64_t dropped_any() const noexcept {
        std::uint64_t worst = 0;
        for (const auto& s : sinks) worst = s.dropped() > worst ? s.dropped() : worst;
        return dropped_buffer_full + worst;
    }
};

// What flush() and shutdown() return: whether every record still waiting for a sink when the call was made
// (recorded before it) was written in time, and if not, how many were not. A record lost while the call
// waited (a full ring or backlog, a sink that failed every attempt) makes it incomplete; losses from before
// the call are in stats(). Converts to bool (true = complete).
struct flush_result {
    bool complete = true;
    bool timed_out = false;     // the deadline passed first
    std::uint64_t unwritten = 0;  // records recorded before the call and not confirmed by every sink
    std::string last_error;

    operator bool() const noexcept { return complete; }  // NOLINT: `if (obs.flush())` reads naturally

    // For any std::ostream-like stream (printing it in a test assertion, a log line).
    template <class Stream>
        requires requires(Stream& s) {
            { s << 1 } -> std::same_as<Stream&>;
        }
    friend Stream& operator<<(Stream& os, const flush_result& r) {
        if (r.complete) return os << "flush: complete";
        os << "flush: " << r.unwritten << " records not written" << (r.timed_out ? " (deadline passed)" : "");
        if (!r.last_error.empty()) os << "; last error: " << r.last_error;
        return os;
    }
};

}  // namespace eventscope
